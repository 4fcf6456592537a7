/* A 3-node NATS cluster (JetStream, MQTT listener, stream_replicas 3; MQTT
 * 3.1.1, QoS 1): tapiq on node A (url list A|B), the simulator on node C;
 * all state arrives. Node A killed: tapiq fails over to B and the state
 * converges again. Prints the fail-over timings (not asserted).
 * argv: nats-server console-sim */
#include "backends/mqtt/tests/mq_fixture.h"

#define NDEV 20
#define NLAMPS 8

static void burst(struct mq_run *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t d = mq_rand() % NDEV, l = mq_rand() % NLAMPS, m = mq_modes[mq_rand() % 6];
        TQ_CHECKF(mq_issue(r, d, l, m) > 0, "phoneSetLamp");
        while (mq_pump(r, 0))
            ;
    }
}

/* Issue to console 0 until one request succeeds; returns ms waited. */
static uint64_t first_success(struct mq_run *r, unsigned limit_ms)
{
    uint64_t t0 = mq_now_ms(), until = t0 + limit_ms;
    for (unsigned i = 0;; i++) {
        uint64_t ok = r->ok;
        TQ_CHECKF(mq_issue(r, 0, 0, mq_modes[i % 6]) > 0, "phoneSetLamp");
        mq_drain(r, 30000);
        if (r->ok > ok)
            return mq_now_ms() - t0;
        TQ_CHECKF(mq_now_ms() < until, "no success within %u ms", limit_ms);
        mq_sleep_ms(100);
    }
}

static uint64_t converge(struct mq_run *r, pid_t sim, unsigned limit_ms)
{
    static uint32_t seen[NDEV * NLAMPS];
    uint64_t t0 = mq_now_ms(), until = t0 + limit_ms;
    for (;;) {
        unsigned got = mq_sim_state(sim, "sim", 0, NDEV, NLAMPS, seen, NULL);
        unsigned diff = got == NDEV ? mq_diff(seen, r->model, NDEV * NLAMPS) : NDEV * NLAMPS;
        if (diff == 0)
            return mq_now_ms() - t0;
        TQ_CHECKF(mq_now_ms() < until, "simulator: %u consoles, %u lamps differ", got, diff);
        mq_sleep_ms(100);
    }
}

int main(int argc, char **argv)
{
    char cfg[512];
    int client[3], route[3], mqtt[3];
    pid_t node[3], sim;
    struct mq_run r;
    DWORD ndevs;
    uint64_t t_up, t_conv, t_kill, t_fail, t_conv2;

    struct mq_env env = mq_setup(argc, argv, 2); /* its port is not used */
    const char *prefix = env.prefix;
    for (int i = 0; i < 3; i++) {
        client[i] = mq_free_port();
        route[i] = mq_free_port();
        mqtt[i] = mq_free_port();
    }
    for (int i = 0; i < 3; i++) {
        char conf[512], log[512], name[8];
        FILE *f;
        snprintf(name, sizeof(name), "n%d", i);
        snprintf(conf, sizeof(conf), "%s/%s.conf", mq_dir, name);
        snprintf(log, sizeof(log), "%s/%s.log", mq_dir, name);
        f = fopen(conf, "w");
        TQ_CHECKF(f != NULL, "write %s", conf);
        fprintf(f,
                "server_name: %s\nlisten: 127.0.0.1:%d\njetstream { store_dir: \"%s/js%d\" }\n"
                "cluster {\n  name: tapiq\n  listen: 127.0.0.1:%d\n  routes: [\n"
                "    nats-route://127.0.0.1:%d\n    nats-route://127.0.0.1:%d\n"
                "    nats-route://127.0.0.1:%d\n  ]\n}\n"
                "mqtt {\n  listen: 127.0.0.1:%d\n  stream_replicas: 3\n}\n",
                name, client[i], mq_dir, i, route[i], route[0], route[1], route[2], mqtt[i]);
        fclose(f);
        {
            char *av[] = {(char *)argv[1], "-c", conf, NULL};
            node[i] = mq_spawn(av, log);
        }
    }
    for (int i = 0; i < 3; i++)
        mq_wait_port(mqtt[i], 20000);

    sim = mq_sim_start(argv[2], mqtt[2], prefix, 0, NDEV, NLAMPS, "sim");
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d|mqtt://127.0.0.1:%d,prefix=%s,devices=%d,"
             "lamps=%d,timeout_ms=5000,protocol=3.1.1,inflight=32",
             mqtt[0], mqtt[1], prefix, NDEV, NLAMPS);
    mq_run_init(&r, mq_init(cfg, &ndevs), NDEV, NLAMPS);

    t_up = first_success(&r, 60000);
    burst(&r, 400);
    mq_drain(&r, 60000);
    mq_check_getlamp(&r);
    t_conv = converge(&r, sim, 60000);
    printf("cluster: first success %" PRIu64 " ms after start, simulator on C converged %" PRIu64
           " ms after the replies (%" PRIu64 " ok, %" PRIu64 " failed)\n",
           t_up, t_conv, r.ok, r.failed);

    /* Node A dies. */
    t_kill = mq_now_ms();
    mq_stop(node[0], SIGKILL);
    t_fail = first_success(&r, 60000);
    burst(&r, 400);
    mq_drain(&r, 60000);
    mq_check_getlamp(&r);
    t_conv2 = converge(&r, sim, 60000);
    printf("node A killed: first success through B %" PRIu64 " ms after the kill; state converged "
           "on C %" PRIu64 " ms after the kill (%" PRIu64 " ok, %" PRIu64 " failed in total)\n",
           t_fail, mq_now_ms() - t_kill, r.ok, r.failed);
    (void)t_conv2;

    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    mq_stop(sim, SIGTERM);
    mq_stop(node[1], SIGTERM);
    mq_stop(node[2], SIGTERM);
    return 0;
}
