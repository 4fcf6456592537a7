/* A broker that requires a user name and password: a password of 20000 bytes
 * (far past any fixed buffer), read from the first line of a CR LF file,
 * logs in under MQTT 3.1.1 and 5 as it does with mosquitto_pub, and every
 * request is replied 0. A wrong password is refused: requests fail with
 * OPERATIONFAILED, and without any debug switch the failed attempts are
 * counted and the last error names the refusal (the MQTT 3.1.1 return code
 * by its name, not "Unknown reason").
 * argv: mosquitto mosquitto_passwd */
#include "backends/mqtt/mqtt_internal.h"
#include "backends/mqtt/tests/mq_fixture.h"

#define NDEV 2
#define NLAMPS 3
#define PWLEN 20000

static char password[PWLEN + 1];

/* Log in with @protocol and set lamps; every reply must be 0. */
static void run_ok(int port, const char *prefix, const char *pwfile, const char *protocol)
{
    char cfg[1024], err0[TAPIQ_MQTT_ERROR_MAX], err1[TAPIQ_MQTT_ERROR_MAX];
    struct mq_run r;
    DWORD ndevs;
    uint64_t connects0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS);
    uint64_t failures0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES);
    tapiq_mqtt_last_error(err0, sizeof(err0));
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%d,lamps=%d,"
             "timeout_ms=20000,protocol=%s,username=tapiq-user,password_file=%s",
             port, prefix, NDEV, NLAMPS, protocol, pwfile);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    for (unsigned i = 0; i < 100; i++)
        TQ_CHECKF(mq_issue(&r, i % NDEV, i % NLAMPS, mq_modes[mq_rand() % 6]) > 0, "phoneSetLamp");
    mq_drain(&r, 60000);
    TQ_CHECKF(r.ok == r.accepted && r.failed == 0,
              "MQTT %s: %" PRIu64 " of %" PRIu64 " requests failed (login refused?)", protocol,
              r.failed, r.accepted);
    mq_check_getlamp(&r);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) > connects0, "no connection counted");
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    /* An orderly run (its disconnect at shutdown included) is no error. */
    tapiq_mqtt_last_error(err1, sizeof(err1));
    TQ_CHECKF(strcmp(err0, err1) == 0, "last error became '%s'", err1);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES) == failures0, "a failure counted");
    printf("MQTT %s: logged in with a %d-byte password, %" PRIu64 " requests ok\n", protocol,
           PWLEN, r.ok);
}

/* Log in with a wrong password: requests fail, the failed attempts are
 * counted, and the last error holds @needle. */
static void run_refused(int port, const char *prefix, const char *pwfile, const char *protocol,
                        const char *needle)
{
    char cfg[1024], err[TAPIQ_MQTT_ERROR_MAX], url[64];
    struct mq_run r;
    DWORD ndevs;
    uint64_t a0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_ATTEMPTS);
    uint64_t f0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES);
    uint64_t c0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS), a, f, until;
    int n;
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%d,lamps=%d,"
             "timeout_ms=300,protocol=%s,username=tapiq-user,password_file=%s",
             port, prefix, NDEV, NLAMPS, protocol, pwfile);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    TQ_CHECKF(mq_issue(&r, 0, 0, PHONELAMPMODE_FLASH) > 0, "phoneSetLamp");
    mq_drain(&r, 30000);
    TQ_CHECKF(r.failed == 1 && r.ok == 0, "MQTT %s: a request succeeded with a wrong password",
              protocol);
    until = mq_now_ms() + 30000;
    while (tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES) < f0 + 2) {
        TQ_CHECKF(mq_now_ms() < until, "MQTT %s: no failed attempt counted within 30 s", protocol);
        mq_sleep_ms(20);
    }
    n = tapiq_mqtt_last_error(err, sizeof(err));
    TQ_CHECKF(n > 0 && (size_t)n == strlen(err), "last error length %d for '%s'", n, err);
    TQ_CHECKF(strstr(err, needle) != NULL, "MQTT %s: last error '%s' lacks '%s'", protocol, err,
              needle);
    snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d: ", port);
    TQ_CHECKF(strncmp(err, url, strlen(url)) == 0, "last error '%s' does not start with the url",
              err);
    TQ_CHECKF(strstr(err, "Unknown") == NULL, "last error '%s'", err);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) == c0, "MQTT %s: connected", protocol);
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    /* Quiescent now: every attempt either failed or was cut short by stop. */
    a = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_ATTEMPTS) - a0;
    f = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES) - f0;
    TQ_CHECKF(a == f || a == f + 1, "MQTT %s: %" PRIu64 " attempts, %" PRIu64 " failures",
              protocol, a, f);
    TQ_CHECKF(tapiq_mqtt_last_error(NULL, 0) == n, "length query");
    printf("MQTT %s, wrong password: %" PRIu64 " attempts, %" PRIu64 " failed; last error: %s\n",
           protocol, a, f, err);
}

int main(int argc, char **argv)
{
    char listener[1024], pwfile[512], wrongfile[512];
    const char *brokerpw;
    pid_t broker;
    FILE *f;

    struct mq_env env = mq_setup(argc, argv, 2);
    int port = env.port;
    const char *prefix = env.prefix;
    mq_share_dir();

    /* Printable, and with the characters a configuration string could not
     * carry (',', '=', ' '): the password only ever lives in the file. */
    for (int i = 0; i < PWLEN; i++)
        password[i] = (char)(' ' + mq_rand() % 95);
    brokerpw = mq_broker_passwd(argv[2], "broker.pw", "tapiq-user", password);
    snprintf(pwfile, sizeof(pwfile), "%s/tapiq.pw", mq_dir);
    f = fopen(pwfile, "w");
    TQ_CHECKF(f != NULL, "cannot write %s", pwfile);
    fprintf(f, "%s\r\nnot part of the password\n", password);
    fclose(f);
    snprintf(wrongfile, sizeof(wrongfile), "%s/wrong.pw", mq_dir);
    f = fopen(wrongfile, "w");
    TQ_CHECKF(f != NULL, "cannot write %s", wrongfile);
    password[PWLEN - 1] ^= 1; /* the same but for one bit */
    fprintf(f, "%s\n", password);
    fclose(f);

    snprintf(listener, sizeof(listener), "allow_anonymous false\npassword_file %s\n", brokerpw);
    broker = mq_mosquitto_start_conf(argv[1], port, "broker", listener);
    run_ok(port, prefix, pwfile, "3.1.1");
    run_ok(port, prefix, pwfile, "5");
    run_refused(port, prefix, wrongfile, "3.1.1",
                "refused by the broker: not authorized (MQTT 3.1.1 CONNACK return code 5)");
    run_refused(port, prefix, wrongfile, "5", "(MQTT 5 CONNACK reason code 0x87)");
    mq_stop(broker, SIGTERM);
    return 0;
}
