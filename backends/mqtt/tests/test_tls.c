/* TLS through the connector: with the right trust anchor tapiq logs in to a
 * TLS listener by host name (the certificate names "localhost") and every
 * request is replied 0. With a certificate from another authority, or a
 * cafile that holds no certificate (both readable, so start succeeds),
 * requests fail with OPERATIONFAILED and, without any debug switch, the
 * failed attempts are counted and the last error says why.
 * argv: mosquitto openssl */
#include "backends/mqtt/mqtt_internal.h"
#include "backends/mqtt/tests/mq_fixture.h"

#define NDEV 2
#define NLAMPS 2

static const char *openssl;

static void ossl(const char *what, char *const argv[])
{
    char log[512];
    snprintf(log, sizeof(log), "%s/openssl.log", mq_dir);
    TQ_CHECKF(mq_run_prog(argv, log) == 0, "openssl %s failed (see %s)", what, log);
}

/* @mq_dir/@name.pem and .key: a self-signed authority. */
static void make_ca(const char *name)
{
    char key[512], pem[512], subj[128];
    snprintf(key, sizeof(key), "%s/%s.key", mq_dir, name);
    snprintf(pem, sizeof(pem), "%s/%s.pem", mq_dir, name);
    snprintf(subj, sizeof(subj), "/CN=tapiq test %s", name);
    {
        char *argv[] = {(char *)openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", subj,
                        "-keyout", key, "-out", pem, NULL};
        ossl("req -x509", argv);
    }
}

/* @mq_dir/server.pem and server.key, for "localhost", signed by @ca. */
static void make_server(const char *ca)
{
    char key[512], csr[512], pem[512], cakey[512], capem[512], ext[512];
    FILE *f;
    snprintf(key, sizeof(key), "%s/server.key", mq_dir);
    snprintf(csr, sizeof(csr), "%s/server.csr", mq_dir);
    snprintf(pem, sizeof(pem), "%s/server.pem", mq_dir);
    snprintf(cakey, sizeof(cakey), "%s/%s.key", mq_dir, ca);
    snprintf(capem, sizeof(capem), "%s/%s.pem", mq_dir, ca);
    snprintf(ext, sizeof(ext), "%s/server.ext", mq_dir);
    f = fopen(ext, "w");
    TQ_CHECKF(f != NULL, "cannot write %s", ext);
    fprintf(f, "subjectAltName=DNS:localhost\n");
    fclose(f);
    {
        char *argv[] = {(char *)openssl, "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                        "-keyout", key, "-out", csr, NULL};
        ossl("req -new", argv);
    }
    {
        char *argv[] = {(char *)openssl, "x509", "-req", "-in", csr, "-CA", capem, "-CAkey",
                        cakey, "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", pem,
                        NULL};
        ossl("x509 -req", argv);
    }
    /* The broker reads it as its own user when started as root. */
    TQ_CHECKF(chmod(key, 0644) == 0, "chmod %s", key);
}

static void run_ok(int port, const char *prefix)
{
    char cfg[1024];
    struct mq_run r;
    DWORD ndevs;
    uint64_t c0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS);
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtts://localhost:%d,prefix=%s,devices=%d,lamps=%d,"
             "timeout_ms=20000,cafile=%s/ca.pem",
             port, prefix, NDEV, NLAMPS, mq_dir);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    for (unsigned i = 0; i < 50; i++)
        TQ_CHECKF(mq_issue(&r, i % NDEV, i % NLAMPS, mq_modes[mq_rand() % 6]) > 0, "phoneSetLamp");
    mq_drain(&r, 60000);
    TQ_CHECKF(r.ok == r.accepted && r.failed == 0, "%" PRIu64 " of %" PRIu64 " requests failed",
              r.failed, r.accepted);
    mq_check_getlamp(&r);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) > c0, "no connection counted");
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    printf("right authority: logged in over TLS to localhost, %" PRIu64 " requests ok\n", r.ok);
}

/* With @cafile, requests fail and the last error holds @needle. */
static void run_refused(int port, const char *prefix, const char *cafile, const char *needle)
{
    char cfg[1024], err[TAPIQ_MQTT_ERROR_MAX];
    struct mq_run r;
    DWORD ndevs;
    uint64_t f0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES);
    uint64_t a0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_ATTEMPTS);
    uint64_t c0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS), until;
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtts://localhost:%d,prefix=%s,devices=%d,lamps=%d,"
             "timeout_ms=300,cafile=%s",
             port, prefix, NDEV, NLAMPS, cafile);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    TQ_CHECKF(mq_issue(&r, 1, 1, PHONELAMPMODE_STEADY) > 0, "phoneSetLamp");
    mq_drain(&r, 30000);
    TQ_CHECKF(r.failed == 1 && r.ok == 0, "a request succeeded with cafile %s", cafile);
    until = mq_now_ms() + 30000;
    while (tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES) < f0 + 2) {
        TQ_CHECKF(mq_now_ms() < until, "no failed attempt counted within 30 s");
        mq_sleep_ms(20);
    }
    TQ_CHECKF(tapiq_mqtt_last_error(err, sizeof(err)) > 0, "no last error");
    TQ_CHECKF(strstr(err, needle) != NULL, "last error '%s' lacks '%s'", err, needle);
    TQ_CHECKF(strstr(err, "mqtts://localhost:") == err, "last error '%s' lacks the url", err);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) == c0, "connected with cafile %s", cafile);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_ATTEMPTS) - a0 >=
                  tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES) - f0,
              "more failures than attempts");
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    printf("last error: %s\n", err);
}

int main(int argc, char **argv)
{
    char listener[1024], other[512], junk[512];
    pid_t broker;
    FILE *f;

    struct mq_env env = mq_setup(argc, argv, 2);
    int port = env.port;
    const char *prefix = env.prefix;
    openssl = argv[2];
    mq_share_dir();
    make_ca("ca");
    make_ca("other");
    make_server("ca");
    snprintf(other, sizeof(other), "%s/other.pem", mq_dir);
    snprintf(junk, sizeof(junk), "%s/junk.pem", mq_dir);
    f = fopen(junk, "w");
    TQ_CHECKF(f != NULL, "cannot write %s", junk);
    fprintf(f, "not a certificate\n");
    fclose(f);

    snprintf(listener, sizeof(listener),
             "allow_anonymous true\ncafile %s/ca.pem\ncertfile %s/server.pem\n"
             "keyfile %s/server.key\n",
             mq_dir, mq_dir, mq_dir);
    broker = mq_mosquitto_start_conf(argv[1], port, "broker", listener);
    run_ok(port, prefix);
    run_refused(port, prefix, other, "certificate verify failed");
    run_refused(port, prefix, junk, "TLS");
    mq_stop(broker, SIGTERM);
    return 0;
}
