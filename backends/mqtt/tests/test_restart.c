/* Broker killed mid-run: requests fail with OPERATIONFAILED after timeout_ms,
 * nothing hangs and every accepted request gets exactly one reply; broker
 * restarted (empty retained store): tapiq reconnects and resyncs, and the
 * retained state of every console equals phoneGetLamp again.
 * argv: mosquitto mosquitto_sub */
#include "backends/mqtt/tests/mq_fixture.h"
#include "backends/mqtt/mqtt_internal.h"

#define NDEV 20
#define NLAMPS 8

static void burst(struct mq_run *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t d = mq_rand() % NDEV, l = mq_rand() % NLAMPS, m = mq_modes[mq_rand() % 6];
        LONG id = mq_issue(r, d, l, m);
        TQ_CHECKF(id > 0, "phoneSetLamp: 0x%08lx", (unsigned long)(DWORD)id);
        while (mq_pump(r, 0))
            ;
    }
}

int main(int argc, char **argv)
{
    char cfg[512];
    struct mq_run r;
    DWORD ndevs;
    pid_t broker;
    static uint32_t seen[NDEV * NLAMPS];
    uint64_t t0, until, ok0, failed0, connects0;
    unsigned got, diff;
    tapiq_stats s;

    struct mq_env env = mq_setup(argc, argv, 2);
    int port = env.port;
    const char *prefix = env.prefix;
    broker = mq_mosquitto_start(argv[1], port, "broker1");
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%d,lamps=%d,timeout_ms=1000,"
             "inflight=8,queue=1024",
             port, prefix, NDEV, NLAMPS);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);

    /* Phase 1: all good. */
    burst(&r, 2000);
    mq_drain(&r, 30000);
    TQ_CHECKF(r.failed == 0, "%" PRIu64 " failed with the broker up", r.failed);
    mq_check_getlamp(&r);
    connects0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS);

    /* Phase 2: the broker dies; every request fails after the timeout. */
    mq_stop(broker, SIGKILL);
    ok0 = r.ok;
    failed0 = r.failed;
    t0 = mq_now_ms();
    burst(&r, 300);
    mq_drain(&r, 30000);
    TQ_CHECKF(r.ok == ok0, "%" PRIu64 " requests succeeded with the broker down", r.ok - ok0);
    TQ_CHECKF(r.failed - failed0 >= 300, "%" PRIu64 " failed", r.failed - failed0);
    {
        /* Visible without a debug switch: the lost connection, or an
         * attempt to reconnect that failed after it. */
        char err[TAPIQ_MQTT_ERROR_MAX], url[64];
        snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d: ", port);
        TQ_CHECKF(tapiq_mqtt_last_error(err, sizeof(err)) > 0 &&
                      strncmp(err, url, strlen(url)) == 0,
                  "last error '%s'", err);
        TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES) > 0, "no failed attempt counted");
        printf("broker down: last error: %s\n", err);
    }
    printf("broker down: %" PRIu64 " requests failed with OPERATIONFAILED within %" PRIu64 " ms\n",
           r.failed - failed0, mq_now_ms() - t0);
    mq_check_getlamp(&r); /* failures changed nothing */
    /* The counters follow the replies a moment later. */
    for (int k = 0; k < 2000 && (tapiq_get_stats(&s, sizeof(s)) != 0 || s.in_flight != 0); k++)
        usleep(1000);
    TQ_CHECKF(tapiq_get_stats(&s, sizeof(s)) == 0 && s.in_flight == 0,
              "%" PRIu64 " requests still in flight", s.in_flight);
    TQ_CHECKF(s.accepted == r.accepted && s.replies == r.replied,
              "stats: accepted %" PRIu64 " replies %" PRIu64 ", test: %" PRIu64 " / %" PRIu64,
             s.accepted, s.replies, r.accepted, r.replied);

    /* Phase 3: a new broker on the same port, with no retained messages. */
    broker = mq_mosquitto_start(argv[1], port, "broker2");
    t0 = mq_now_ms();
    until = t0 + 30000;
    for (unsigned i = 0;; i++) {
        uint64_t ok1 = r.ok;
        TQ_CHECKF(mq_issue(&r, 0, 0, mq_modes[i % 6]) > 0, "phoneSetLamp");
        mq_drain(&r, 10000);
        if (r.ok > ok1)
            break;
        TQ_CHECKF(mq_now_ms() < until, "no success within 30 s of the restart");
    }
    printf("broker restarted: first success after %" PRIu64 " ms\n", mq_now_ms() - t0);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) > connects0, "no reconnect counted");
    burst(&r, 500);
    mq_drain(&r, 30000);
    mq_check_getlamp(&r);

    /* Every console's retained state converges to phoneGetLamp, including
     * consoles no request touched since the restart (resync). */
    until = mq_now_ms() + 20000;
    for (;;) {
        memset(seen, 0, sizeof(seen));
        got = mq_retained(argv[2], port, prefix, NDEV, NLAMPS, seen, NULL);
        diff = mq_diff(seen, r.model, NDEV * NLAMPS);
        if (got == NDEV && diff == 0)
            break;
        TQ_CHECKF(mq_now_ms() < until, "retained: %u consoles, %u lamps differ", got, diff);
        mq_sleep_ms(200);
    }
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    mq_stop(broker, SIGTERM);
    printf("%" PRIu64 " requests: %" PRIu64 " ok, %" PRIu64 " OPERATIONFAILED, all accounted\n",
           r.accepted, r.ok, r.failed);
    return 0;
}
