/* A host lookup that hangs: requests still fail with OPERATIONFAILED after
 * timeout_ms, and phoneShutdown returns, while the lookup has not answered;
 * the abandoned lookup then finishes and frees itself. A lookup that answers
 * late: tapiq connects to the address it gave and the broker's retained
 * state equals phoneGetLamp.
 *
 * The lookup is the backend's resolver test hook (mqtt_internal.h); the host
 * name is under .invalid, which no real resolver answers. No timing is
 * asserted: the checks are about order (the reply, and the return from
 * phoneShutdown, come before the lookup answers).
 * argv: mosquitto mosquitto_sub */
#include <pthread.h>

#include "backends/mqtt/mqtt_internal.h"
#include "backends/mqtt/tests/mq_fixture.h"

#define NDEV 2
#define NLAMPS 2

static pthread_mutex_t lk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lk_cv = PTHREAD_COND_INITIALIZER;
static int lk_open;          /* lookups may answer */
static unsigned lk_entered;  /* lookups begun */
static unsigned lk_answered; /* lookups that returned */

/* Blocks until the test opens it (or 60 s, so that a broken backend fails the
 * checks below instead of hanging), then answers 127.0.0.1. */
static int slow_resolve(const char *host, const char *service, const struct addrinfo *hints,
                        struct addrinfo **res)
{
    struct timespec until;
    (void)host;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&lk_mu);
    lk_entered++;
    while (!lk_open)
        if (pthread_cond_timedwait(&lk_cv, &lk_mu, &until) == ETIMEDOUT)
            break;
    lk_answered++;
    pthread_mutex_unlock(&lk_mu);
    return getaddrinfo("127.0.0.1", service, hints, res);
}

static unsigned lk_get(const unsigned *v)
{
    unsigned x;
    pthread_mutex_lock(&lk_mu);
    x = *v;
    pthread_mutex_unlock(&lk_mu);
    return x;
}

static void lk_set_open(int open)
{
    pthread_mutex_lock(&lk_mu);
    lk_open = open;
    pthread_cond_broadcast(&lk_cv);
    pthread_mutex_unlock(&lk_mu);
}

static void wait_lookup_begun(unsigned n)
{
    uint64_t until = mq_now_ms() + 30000;
    while (lk_get(&lk_entered) < n) {
        TQ_CHECKF(mq_now_ms() < until, "no host lookup began within 30 s");
        mq_sleep_ms(10);
    }
}

static void wait_no_connector(void)
{
    uint64_t until = mq_now_ms() + 30000;
    while (tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTORS_RUNNING) != 0) {
        TQ_CHECKF(mq_now_ms() < until, "%" PRIu64 " connector threads still run after 30 s",
                  tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTORS_RUNNING));
        mq_sleep_ms(10);
    }
}

int main(int argc, char **argv)
{
    char cfg[512];
    struct mq_run r;
    DWORD ndevs;
    pid_t broker;
    uint64_t connects0, until, t0;
    unsigned answered0, entered0, got, diff;
    static uint32_t seen[NDEV * NLAMPS];

    struct mq_env env = mq_setup(argc, argv, 2);
    int port = env.port;
    const char *prefix = env.prefix;
    broker = mq_mosquitto_start(argv[1], port, "broker");
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://broker.invalid:%d,prefix=%s,devices=%d,lamps=%d,"
             "timeout_ms=500,resync_s=0",
             port, prefix, NDEV, NLAMPS);
    tapiq_mqtt_set_resolver(slow_resolve);

    /* Phase 1: the lookup hangs for the whole run. */
    connects0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    wait_lookup_begun(1);
    TQ_CHECKF(mq_issue(&r, 0, 0, PHONELAMPMODE_STEADY) > 0, "phoneSetLamp");
    mq_drain(&r, 30000);
    TQ_CHECKF(r.failed == 1 && r.ok == 0, "%" PRIu64 " ok, %" PRIu64 " failed", r.ok, r.failed);
    TQ_CHECKF(lk_get(&lk_answered) == 0,
              "the reply waited for the host lookup (timeout_ms not honoured)");
    mq_check_getlamp(&r); /* still OFF */
    t0 = mq_now_ms();
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    t0 = mq_now_ms() - t0;
    TQ_CHECKF(lk_get(&lk_answered) == 0, "phoneShutdown waited for the host lookup");
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) == connects0, "connected without an address");
    mq_run_free(&r);
    /* The abandoned lookup answers; its connector frees itself. */
    lk_set_open(1);
    wait_no_connector();
    printf("hung lookup: the request failed after timeout_ms; phoneShutdown returned (in %" PRIu64
           " ms) before the lookup answered\n",
           t0);

    /* Phase 2: the lookup answers late; tapiq then connects to its address. */
    lk_set_open(0);
    answered0 = lk_get(&lk_answered);
    entered0 = lk_get(&lk_entered);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);
    wait_lookup_begun(entered0 + 1);
    TQ_CHECKF(mq_issue(&r, 1, 1, PHONELAMPMODE_WINK) > 0, "phoneSetLamp");
    mq_drain(&r, 30000);
    TQ_CHECKF(r.failed == 1 && r.ok == 0 && lk_get(&lk_answered) == answered0,
              "%" PRIu64 " ok, %" PRIu64 " failed, %u lookups answered", r.ok, r.failed,
              lk_get(&lk_answered) - answered0);
    lk_set_open(1);
    until = mq_now_ms() + 30000;
    for (unsigned i = 0; r.ok == 0; i++) {
        TQ_CHECKF(mq_issue(&r, i % NDEV, i % NLAMPS, mq_modes[1 + i % 5]) > 0, "phoneSetLamp");
        mq_drain(&r, 10000);
        TQ_CHECKF(mq_now_ms() < until, "no success within 30 s of the lookup answering");
    }
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) > connects0, "no connection counted");
    for (unsigned i = 0; i < 200; i++)
        TQ_CHECKF(mq_issue(&r, mq_rand() % NDEV, mq_rand() % NLAMPS, mq_modes[mq_rand() % 6]) > 0,
                  "phoneSetLamp");
    mq_drain(&r, 30000);
    mq_check_getlamp(&r);
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
    wait_no_connector();
    tapiq_mqtt_set_resolver(NULL);
    mq_stop(broker, SIGTERM);
    printf("late lookup: connected to its address, %" PRIu64 " requests ok, retained state "
           "equals phoneGetLamp\n",
           r.ok);
    return 0;
}
