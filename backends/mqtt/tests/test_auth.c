/* A broker that requires a user name and password: a password of 20000 bytes
 * (far past any fixed buffer), read from the first line of a CR LF file,
 * logs in under MQTT 3.1.1 and 5 as it does with mosquitto_pub, and every
 * request is replied 0.
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
    char cfg[1024];
    struct mq_run r;
    DWORD ndevs;
    uint64_t connects0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS);
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%d,lamps=%d,"
             "timeout_ms=20000,protocol=%s,username=tapiq-user,password_file=%s",
             port, prefix, NDEV, NLAMPS, protocol, pwfile);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    for (unsigned i = 0; i < 100; i++)
        MQ_CHECK(mq_issue(&r, i % NDEV, i % NLAMPS, mq_modes[mq_rand() % 6]) > 0, "phoneSetLamp");
    mq_drain(&r, 60000);
    MQ_CHECK(r.ok == r.accepted && r.failed == 0,
             "MQTT %s: %" PRIu64 " of %" PRIu64 " requests failed (login refused?)", protocol,
             r.failed, r.accepted);
    mq_check_getlamp(&r);
    MQ_CHECK(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) > connects0, "no connection counted");
    MQ_CHECK(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    printf("MQTT %s: logged in with a %d-byte password, %" PRIu64 " requests ok\n", protocol,
           PWLEN, r.ok);
}

int main(int argc, char **argv)
{
    char listener[1024], prefix[32], pwfile[512];
    const char *brokerpw;
    pid_t broker;
    int port;
    FILE *f;

    if (argc < 3)
        return 77;
    mq_skip_unless(argv[1]);
    mq_skip_unless(argv[2]);
    mq_tempdir();
    mq_share_dir();
    port = mq_free_port();
    snprintf(prefix, sizeof(prefix), "tq%ld", (long)getpid());

    /* Printable, and with the characters a configuration string could not
     * carry (',', '=', ' '): the password only ever lives in the file. */
    for (int i = 0; i < PWLEN; i++)
        password[i] = (char)(' ' + mq_rand() % 95);
    brokerpw = mq_broker_passwd(argv[2], "broker.pw", "tapiq-user", password);
    snprintf(pwfile, sizeof(pwfile), "%s/tapiq.pw", mq_dir);
    f = fopen(pwfile, "w");
    MQ_CHECK(f != NULL, "cannot write %s", pwfile);
    fprintf(f, "%s\r\nnot part of the password\n", password);
    fclose(f);

    snprintf(listener, sizeof(listener), "allow_anonymous false\npassword_file %s\n", brokerpw);
    broker = mq_mosquitto_start_conf(argv[1], port, "broker", listener);
    run_ok(port, prefix, pwfile, "3.1.1");
    run_ok(port, prefix, pwfile, "5");
    mq_stop(broker, SIGTERM);
    return 0;
}
