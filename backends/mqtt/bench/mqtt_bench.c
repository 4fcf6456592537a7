/* mqtt_bench - lamp updates per second through Mosquitto: one message per
 * console batch (publish=batch, the default) against one message per lamp
 * update (publish=update), in the same run, on the same broker.
 *
 *   mqtt_bench [--consoles 500] [--lamps 16] [--seconds 3] [--reps 5] \
 *              [--inflight 64] [--mosquitto /usr/sbin/mosquitto]
 *
 * Starts its own Mosquitto on a free 127.0.0.1 port. Each repetition
 * initializes tapiq afresh, issues random phoneSetLamp requests from one
 * thread as fast as backpressure allows for the given time, waits for every
 * reply, and counts requests replied 0 per second, lamp updates that
 * reached the backend per second (requests for one lamp within one batch
 * collapse to one update in tapiq's core, in both modes), MQTT messages per
 * second and updates per message. Repetitions alternate the
 * two modes; medians are printed, and their ratio.
 */
#include "backends/mqtt/tests/mq_fixture.h"
#include "backends/mqtt/mqtt_internal.h"

#define MAX_REPS 32 /* --reps is clamped to the size of the per-rep arrays */

struct result {
    double req_s, app_s, msg_s, per_msg;
};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct result run(int port, const char *prefix, unsigned ndev, unsigned nlamps,
                         unsigned seconds, unsigned inflight, int per_update)
{
    char cfg[512];
    struct mq_run r;
    DWORD n;
    uint64_t pub0 = tapiq_mqtt_counter(TAPIQ_MQTT_PUBLISHES), t0, t1, until;
    struct result res;
    tapiq_stats s0, s1;
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%u,lamps=%u,inflight=%u,"
             "timeout_ms=30000,resync_s=0,publish=%s,queue=65536",
             port, prefix, ndev, nlamps, inflight, per_update ? "update" : "batch");
    mq_run_init(&r, mq_init(cfg, &n), ndev, nlamps);
    /* The first connection republishes every console: let that settle. */
    mq_issue(&r, 0, 0, PHONELAMPMODE_STEADY);
    mq_drain(&r, 30000);
    mq_sleep_ms(300);
    pub0 = tapiq_mqtt_counter(TAPIQ_MQTT_PUBLISHES);
    TQ_CHECKF(tapiq_get_stats(&s0, sizeof(s0)) == 0, "stats");
    r.ok = r.accepted = r.replied = 0;
    t0 = mq_now_ms();
    until = t0 + seconds * 1000u;
    while (mq_now_ms() < until) {
        for (int i = 0; i < 256; i++) {
            uint32_t d = mq_rand() % ndev, l = mq_rand() % nlamps, m = mq_modes[mq_rand() % 6];
            TQ_CHECKF(mq_issue(&r, d, l, m) > 0, "phoneSetLamp");
        }
        while (mq_pump(&r, 0))
            ;
    }
    mq_drain(&r, 120000);
    t1 = mq_now_ms();
    TQ_CHECKF(r.failed == 0, "%" PRIu64 " failed", r.failed);
    res.req_s = (double)r.ok * 1000.0 / (double)(t1 - t0);
    res.msg_s = (double)(tapiq_mqtt_counter(TAPIQ_MQTT_PUBLISHES) - pub0) * 1000.0 / (double)(t1 - t0);
    TQ_CHECKF(tapiq_get_stats(&s1, sizeof(s1)) == 0, "stats");
    res.app_s = (double)(s1.updates_applied - s0.updates_applied) * 1000.0 / (double)(t1 - t0);
    res.per_msg = res.msg_s > 0 ? res.app_s / res.msg_s : 0;
    phoneShutdown(r.app);
    free(r.h);
    free(r.model);
    free(r.okseq);
    free(r.tab);
    return res;
}

int main(int argc, char **argv)
{
    unsigned ndev = 500, nlamps = 16, seconds = 3, reps = 5, inflight = 64;
    const char *mosquitto = "/usr/sbin/mosquitto";
    double req[2][MAX_REPS], app[2][MAX_REPS], msg[2][MAX_REPS], per[2][MAX_REPS];
    pid_t broker;

    for (int i = 1; i + 1 < argc; i += 2) {
        unsigned v = (unsigned)strtoul(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--consoles") == 0)
            ndev = v;
        else if (strcmp(argv[i], "--lamps") == 0)
            nlamps = v;
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = v;
        else if (strcmp(argv[i], "--reps") == 0)
            reps = v > MAX_REPS ? MAX_REPS : v;
        else if (strcmp(argv[i], "--inflight") == 0)
            inflight = v;
        else if (strcmp(argv[i], "--mosquitto") == 0)
            mosquitto = argv[i + 1];
    }
    struct mq_env env = mq_setup_progs(&mosquitto, 1);
    int port = env.port;
    const char *prefix = env.prefix;
    broker = mq_mosquitto_start(mosquitto, port, "broker");
    printf("mqtt_bench: Mosquitto on 127.0.0.1, %u consoles x %u lamps, inflight %u, "
           "%u s x %u reps per mode, one issuing thread\n",
           ndev, nlamps, inflight, seconds, reps);
    for (unsigned i = 0; i < reps; i++)
        for (int mode = 0; mode < 2; mode++) {
            struct result r = run(port, prefix, ndev, nlamps, seconds, inflight, mode);
            req[mode][i] = r.req_s;
            app[mode][i] = r.app_s;
            msg[mode][i] = r.msg_s;
            per[mode][i] = r.per_msg;
            printf("  rep %u %-6s %10.0f requests/s %10.0f updates/s %9.0f msgs/s %6.2f updates/msg\n",
                   i + 1, mode ? "update" : "batch", r.req_s, r.app_s, r.msg_s, r.per_msg);
            fflush(stdout);
        }
    {
        double b = median(req[0], (int)reps), u = median(req[1], (int)reps);
        double ab = median(app[0], (int)reps), au = median(app[1], (int)reps);
        printf("median  batch  %10.0f requests/s %10.0f updates/s %9.0f msgs/s %6.2f updates/msg\n",
               b, ab, median(msg[0], (int)reps), median(per[0], (int)reps));
        printf("median  update %10.0f requests/s %10.0f updates/s %9.0f msgs/s %6.2f updates/msg\n",
               u, au, median(msg[1], (int)reps), median(per[1], (int)reps));
        printf("ratio batch/update: requests/s %.2fx, lamp updates/s %.2fx\n", u > 0 ? b / u : 0,
               au > 0 ? ab / au : 0);
    }
    mq_stop(broker, SIGTERM);
    return 0;
}
