/* End to end on Mosquitto: 100 consoles, thousands of requests, every reply 0;
 * the simulator's state, the broker's retained messages and phoneGetLamp
 * agree on every lamp; seq is seeded from the wall clock.
 * argv: mosquitto mosquitto_sub console-sim */
#include "backends/mqtt/tests/mq_fixture.h"

#define NDEV 100
#define NLAMPS 16
#define NREQ 20000

int main(int argc, char **argv)
{
    char cfg[512];
    struct mq_run r;
    DWORD ndevs;
    pid_t broker, sim;
    static uint32_t seen[NDEV * NLAMPS];
    static uint64_t seqs[NDEV];
    struct timespec wall;
    uint64_t start_ms, until;
    unsigned got, diff = 0;

    struct mq_env env = mq_setup(argc, argv, 3);
    int port = env.port;
    const char *prefix = env.prefix;
    broker = mq_mosquitto_start(argv[1], port, "broker");
    sim = mq_sim_start(argv[3], port, prefix, 0, NDEV, NLAMPS, "sim");

    clock_gettime(CLOCK_REALTIME, &wall);
    start_ms = (uint64_t)wall.tv_sec * 1000u + (uint64_t)wall.tv_nsec / 1000000u;
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%d,lamps=%d,timeout_ms=20000,"
             "inflight=64,queue=4096",
             port, prefix, NDEV, NLAMPS);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    TQ_CHECKF(ndevs == NDEV, "%u devices", (unsigned)ndevs);

    for (unsigned i = 0; i < NREQ; i++) {
        uint32_t d = mq_rand() % NDEV, l = mq_rand() % NLAMPS, m = mq_modes[mq_rand() % 6];
        LONG id = mq_issue(&r, d, l, m);
        TQ_CHECKF(id > 0, "phoneSetLamp: 0x%08lx", (unsigned long)(DWORD)id);
        while (mq_pump(&r, 0))
            ;
    }
    mq_drain(&r, 60000);
    TQ_CHECKF(r.ok == r.accepted && r.failed == 0, "%" PRIu64 " ok, %" PRIu64 " failed of %" PRIu64,
              r.ok, r.failed, r.accepted);
    mq_check_getlamp(&r);
    /* Wire format version 2 carries device-specific requests in the
     * console's state message: one reply, 0, once the message is
     * acknowledged; these consoles describe no display. */
    {
        PHONEMESSAGE m;
        LONG id = phoneDevSpecific(r.h[3], "x", 1), st = 0;
        TQ_CHECKF(id > 0, "phoneDevSpecific: 0x%08lx", (unsigned long)(DWORD)id);
        for (;;) {
            TQ_CHECKF(phoneGetMessage(r.app, &m, 20000) == 0, "no reply for phoneDevSpecific");
            if (m.dwMessageID == PHONE_REPLY && (LONG)m.dwParam1 == id) {
                st = (LONG)m.dwParam2;
                break;
            }
        }
        TQ_CHECKF(st == 0, "phoneDevSpecific replied 0x%08lx",
                  (unsigned long)(DWORD)st);
        TQ_CHECK(phoneGetMessage(r.app, &m, 0) != 0 || m.dwMessageID != PHONE_REPLY);
        TQ_CHECK(phoneSetDisplay(r.h[3], 0, 0, "x", 1) == (LONG)PHONEERR_OPERATIONUNAVAIL);
    }

    /* The simulator converges to the same state. */
    until = mq_now_ms() + 20000;
    for (;;) {
        got = mq_sim_state(sim, "sim", 0, NDEV, NLAMPS, seen, NULL);
        diff = got == NDEV ? mq_diff(seen, r.model, NDEV * NLAMPS) : NDEV * NLAMPS;
        if (diff == 0)
            break;
        TQ_CHECKF(mq_now_ms() < until, "simulator: %u consoles, %u lamps differ", got, diff);
        mq_sleep_ms(100);
    }
    /* So do the retained messages. */
    memset(seen, 0, sizeof(seen));
    got = mq_retained(argv[2], port, prefix, NDEV, NLAMPS, seen, seqs);
    TQ_CHECKF(got == NDEV, "%u retained consoles", got);
    diff = mq_diff(seen, r.model, NDEV * NLAMPS);
    TQ_CHECKF(diff == 0, "%u retained lamps differ from phoneGetLamp", diff);
    for (unsigned d = 0; d < NDEV; d++)
        TQ_CHECKF(seqs[d] > start_ms * 1000u, "console %u seq %" PRIu64 " below the clock seed", d,
                  seqs[d]);

    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    TQ_CHECKF(WIFEXITED(mq_stop(sim, SIGTERM)), "simulator exit");
    mq_stop(broker, SIGTERM);
    printf("%" PRIu64 " requests, %" PRIu64 " RESOURCEUNAVAIL retries, all replied 0; "
           "100 consoles agree\n",
           r.accepted, r.unavail);
    return 0;
}
