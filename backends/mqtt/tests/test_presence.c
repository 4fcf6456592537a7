/* Console presence: a killed simulator's last will makes its consoles
 * disconnected (PHONE_STATE DISCONNECTED to a monitor that asked for it,
 * phoneSetLamp gives INVALPHONESTATE); malformed presence messages are
 * counted and ignored; a restarted simulator makes them connected again.
 * argv: mosquitto mosquitto_pub console-sim */
#include "backends/mqtt/tests/mq_fixture.h"
#include "backends/mqtt/mqtt_internal.h"

#define NDEV 4
#define NLAMPS 4

static void wait_state(struct mq_run *r, HPHONE mon, DWORD state)
{
    uint64_t until = mq_now_ms() + 20000;
    r->last_state_dev = 0;
    for (;;) {
        if (r->last_state_dev == mon && r->last_state_p1 == state)
            return;
        TQ_CHECKF(mq_now_ms() < until, "no PHONE_STATE 0x%x on the monitor", (unsigned)state);
        mq_pump(r, 100);
    }
}

static void pub(const char *mpub, int port, const char *topic, const char *msg)
{
    char p[16];
    char *argv[] = {(char *)mpub, "-h", "127.0.0.1", "-p", p, "-q", "1", "-r", "-t",
                    (char *)topic, "-m", (char *)msg, NULL};
    pid_t pid;
    int st;
    snprintf(p, sizeof(p), "%d", port);
    pid = mq_spawn(argv, NULL);
    waitpid(pid, &st, 0);
    for (int i = 0; i < MQ_MAX_CHILDREN; i++)
        if (mq_children[i] == pid)
            mq_children[i] = 0;
    TQ_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mosquitto_pub %s", topic);
}

int main(int argc, char **argv)
{
    char cfg[512], topic[128];
    struct mq_run r;
    DWORD ndevs;
    pid_t broker, sim;
    HPHONE mon;
    LONG rc;
    uint64_t bad0, until;
    PHONESTATUS *ps;

    struct mq_env env = mq_setup(argc, argv, 3);
    int port = env.port;
    const char *prefix = env.prefix;
    broker = mq_mosquitto_start(argv[1], port, "broker");
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%d,lamps=%d,timeout_ms=5000",
             port, prefix, NDEV, NLAMPS);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    mon = mq_open(r.app, 2, PHONEPRIVILEGE_MONITOR);
    TQ_CHECK(phoneSetStatusMessages(mon, PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED, 0, 0) ==
             0);

    sim = mq_sim_start(argv[3], port, prefix, 0, NDEV, NLAMPS, "sim1");
    TQ_CHECKF(mq_issue(&r, 2, 1, PHONELAMPMODE_FLASH) > 0, "set with the console online");
    mq_drain(&r, 10000);
    TQ_CHECKF(r.ok == 1, "reply");

    /* Kill the consoles: the broker publishes their wills. */
    mq_stop(sim, SIGKILL);
    wait_state(&r, mon, PHONESTATE_DISCONNECTED);
    rc = phoneSetLamp(r.h[2], 1, PHONELAMPMODE_STEADY);
    TQ_CHECKF(rc == (LONG)PHONEERR_INVALPHONESTATE, "phoneSetLamp on a dead console: 0x%08lx",
              (unsigned long)(DWORD)rc);
    ps = calloc(1, 4096);
    ps->dwTotalSize = 4096;
    TQ_CHECKF(phoneGetStatus(mon, ps) == 0, "phoneGetStatus");
    TQ_CHECKF(!(ps->dwStatusFlags & PHONESTATUSFLAGS_CONNECTED), "still CONNECTED in status");

    /* Malformed presence: counted, ignored (console 2 stays disconnected). */
    bad0 = tapiq_mqtt_counter(TAPIQ_MQTT_MALFORMED);
    snprintf(topic, sizeof(topic), "%s/console/02/online", prefix);
    pub(argv[2], port, topic, "1");
    snprintf(topic, sizeof(topic), "%s/console/2/online", prefix);
    pub(argv[2], port, topic, "yes");
    snprintf(topic, sizeof(topic), "%s/console/99/online", prefix);
    pub(argv[2], port, topic, "1");
    until = mq_now_ms() + 10000;
    while (tapiq_mqtt_counter(TAPIQ_MQTT_MALFORMED) < bad0 + 3) {
        TQ_CHECKF(mq_now_ms() < until, "malformed presence not counted: %" PRIu64,
                  tapiq_mqtt_counter(TAPIQ_MQTT_MALFORMED) - bad0);
        mq_sleep_ms(20);
    }
    rc = phoneSetLamp(r.h[2], 1, PHONELAMPMODE_STEADY);
    TQ_CHECKF(rc == (LONG)PHONEERR_INVALPHONESTATE, "a malformed message changed presence: 0x%08lx",
              (unsigned long)(DWORD)rc);

    /* Consoles back: connected again, requests work. */
    sim = mq_sim_start(argv[3], port, prefix, 0, NDEV, NLAMPS, "sim2");
    wait_state(&r, mon, PHONESTATE_CONNECTED);
    TQ_CHECKF(mq_issue(&r, 2, 1, PHONELAMPMODE_STEADY) > 0, "set after the restart");
    mq_drain(&r, 10000);
    TQ_CHECKF(r.ok == 2 && r.failed == 0, "replies");
    mq_check_getlamp(&r);

    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    mq_stop(sim, SIGTERM);
    mq_stop(broker, SIGTERM);
    printf("will -> DISCONNECTED -> INVALPHONESTATE; 3 malformed ignored; restart -> CONNECTED\n");
    free(ps);
    return 0;
}
