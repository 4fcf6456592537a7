/* test_stress - many issuing threads, 200 consoles, a million requests.
 *
 * 8 issuing threads; thread t owns the lamps where (device * 64 + lamp) % 8
 * == t and sets them in a pseudo-random order, retrying on RESOURCEUNAVAIL
 * (backpressure must never lose a request). Two reader threads collect the
 * replies (one with phoneGetMessage, one with tapiq_get_messages). Checks:
 *  - the multiset of reply ids equals the multiset of issued ids;
 *  - every reply has status 0, the handle and callback instance of its device;
 *  - per thread and lamp the last issued mode is the one phoneGetLamp reports;
 *  - stats: accepted == replies == issued, in_flight 0.
 * TAPIQ_TEST_SCALE divides the number of requests. Requests per second end to
 * end are printed for information (never asserted). An argument is added to
 * the configuration (stress_nap0: nap_us=0, idle workers sleep at once, so
 * every lull goes through the sleep and wake-up protocol).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tq_test.h"

#define NDEV 200
#define NLAMP 64
#define NT 8
#define NREADER 2

static HPHONEAPP g_app;
static HPHONE g_h[NDEV];
static uint64_t g_total, g_per_thread;

struct issuer {
    pthread_t t;
    int idx;
    uint32_t *ids;
    uint32_t nowned;
    uint32_t owned[NDEV * NLAMP / NT + 1]; /* device * NLAMP + lamp */
    DWORD last[NDEV * NLAMP / NT + 1];     /* last mode issued, per owned lamp */
    uint64_t retries;
};
static struct issuer g_iss[NT];

static uint32_t *g_replies;
static _Atomic uint64_t g_nreplies;
static _Atomic int g_abort_readers;

static void *issuer_main(void *arg)
{
    struct issuer *me = arg;
    uint64_t seed = 0xC0FFEEu + (uint64_t)me->idx;
    for (uint64_t i = 0; i < g_per_thread; i++) {
        uint64_t x = tq_rand(&seed);
        uint32_t k = (uint32_t)(x % me->nowned);
        uint32_t dev = me->owned[k] / NLAMP, lamp = me->owned[k] % NLAMP;
        DWORD mode = tq_mode((unsigned)(x >> 32));
        LONG id;
        uint64_t spins = 0;
        while ((id = phoneSetLamp(g_h[dev], lamp, mode)) == (LONG)PHONEERR_RESOURCEUNAVAIL) {
            me->retries++;
            TQ_CHECKF(++spins < 50000000, "thread %d: RESOURCEUNAVAIL without end", me->idx);
            sched_yield();
        }
        TQ_CHECKF(TQ_ID_OK(id), "thread %d: phoneSetLamp = %s", me->idx, tq_err_name(id));
        me->ids[i] = (uint32_t)id;
        me->last[k] = mode;
    }
    return NULL;
}

static void take(const PHONEMESSAGE *m)
{
    TQ_CHECKF(m->dwMessageID == PHONE_REPLY, "message %u", (unsigned)m->dwMessageID);
    TQ_CHECKF(m->dwParam2 == 0, "reply status %s", tq_err_name(tq_reply_status(m)));
    TQ_CHECKF(m->dwCallbackInstance < NDEV && g_h[m->dwCallbackInstance] == m->hDevice,
              "reply on handle %#x with instance %" PRIuPTR, (unsigned)m->hDevice,
              (uintptr_t)m->dwCallbackInstance);
    /* relaxed: a slot index; the readers are joined before the array is read */
    uint64_t i = atomic_fetch_add_explicit(&g_nreplies, 1, memory_order_relaxed);
    TQ_CHECKF(i < g_total, "more replies than requests (%" PRIu64 ")", i + 1);
    g_replies[i] = (uint32_t)m->dwParam1;
}

static void *reader_main(void *arg)
{
    int bulk = (int)(intptr_t)arg;
    PHONEMESSAGE m[64];
    while (atomic_load_explicit(&g_nreplies, memory_order_relaxed) < g_total) {
        if (atomic_load_explicit(&g_abort_readers, memory_order_acquire))
            return NULL;
        if (bulk) {
            LONG n = tapiq_get_messages(g_app, m, 64, 20);
            if (n == (LONG)PHONEERR_OPERATIONFAILED)
                continue;
            TQ_CHECKF(n >= 1 && n <= 64, "tapiq_get_messages = %" PRId32 " (%s)", n,
                      tq_err_name(n));
            for (LONG i = 0; i < n; i++)
                take(&m[i]);
        } else {
            LONG r = phoneGetMessage(g_app, &m[0], 20);
            if (r == (LONG)PHONEERR_OPERATIONFAILED)
                continue;
            TQ_CHECKF(r == 0, "phoneGetMessage = %s", tq_err_name(r));
            take(&m[0]);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char cfg[256];
    unsigned long scale = tq_scale();
    g_total = 1000000 / scale;
    g_total -= g_total % NT;
    g_per_thread = g_total / NT;

    snprintf(cfg, sizeof cfg, "devices=200,lamps=64,workers=2,queue=1024%s%s", argc > 1 ? "," : "",
             argc > 1 ? argv[1] : "");
    g_app = tq_start(cfg, NULL);
    for (DWORD d = 0; d < NDEV; d++)
        g_h[d] = tq_open(g_app, d, PHONEPRIVILEGE_OWNER, d);
    g_replies = malloc(sizeof *g_replies * g_total);
    TQ_CHECK(g_replies != NULL);
    for (int t = 0; t < NT; t++) {
        g_iss[t].idx = t;
        g_iss[t].ids = malloc(sizeof(uint32_t) * g_per_thread);
        TQ_CHECK(g_iss[t].ids != NULL);
        for (uint32_t x = 0; x < NDEV * NLAMP; x++)
            if (x % NT == (uint32_t)t) {
                g_iss[t].last[g_iss[t].nowned] = PHONELAMPMODE_OFF; /* lamps start OFF */
                g_iss[t].owned[g_iss[t].nowned++] = x;
            }
    }

    pthread_t rd[NREADER];
    uint64_t t0 = tq_now_ns();
    for (int r = 0; r < NREADER; r++)
        TQ_CHECK(pthread_create(&rd[r], NULL, reader_main, (void *)(intptr_t)(r & 1)) == 0);
    for (int t = 0; t < NT; t++)
        TQ_CHECK(pthread_create(&g_iss[t].t, NULL, issuer_main, &g_iss[t]) == 0);
    for (int t = 0; t < NT; t++)
        TQ_CHECK(pthread_join(g_iss[t].t, NULL) == 0);
    uint64_t t_issued = tq_now_ns();

    /* All requests were accepted; wait (bounded) for all their replies. */
    for (int i = 0; atomic_load_explicit(&g_nreplies, memory_order_relaxed) < g_total; i++) {
        if (i == 120000) {
            atomic_store_explicit(&g_abort_readers, 1, memory_order_release);
            for (int r = 0; r < NREADER; r++)
                pthread_join(rd[r], NULL);
            tapiq_stats st = tq_stats();
            TQ_FAIL("%" PRIu64 " of %" PRIu64 " replies after 120 s (in_flight %" PRIu64 ")",
                    atomic_load_explicit(&g_nreplies, memory_order_relaxed), g_total,
                    st.in_flight);
        }
        tq_sleep_us(1000);
    }
    uint64_t t_done = tq_now_ns();
    for (int r = 0; r < NREADER; r++)
        TQ_CHECK(pthread_join(rd[r], NULL) == 0);

    /* Nothing more comes. */
    tapiq_stats st = tq_wait_idle();
    PHONEMESSAGE m;
    TQ_EXPECT(phoneGetMessage(g_app, &m, 0), PHONEERR_OPERATIONFAILED);
    TQ_CHECKF(st.accepted == g_total && st.replies == g_total,
              "stats: accepted %" PRIu64 ", replies %" PRIu64 ", issued %" PRIu64, st.accepted,
              st.replies, g_total);

    /* Multiset of reply ids == multiset of issued ids. */
    uint32_t *issued = malloc(sizeof *issued * g_total);
    TQ_CHECK(issued != NULL);
    uint64_t retries = 0;
    for (int t = 0; t < NT; t++) {
        memcpy(issued + (uint64_t)t * g_per_thread, g_iss[t].ids, sizeof(uint32_t) * g_per_thread);
        retries += g_iss[t].retries;
    }
    qsort(issued, g_total, sizeof *issued, tq_cmp_u32);
    qsort(g_replies, g_total, sizeof *g_replies, tq_cmp_u32);
    for (uint64_t i = 0; i < g_total; i++)
        TQ_CHECKF(issued[i] == g_replies[i],
                  "reply ids differ from issued ids at sorted position %" PRIu64
                  ": issued %u, replied %u", i, issued[i], g_replies[i]);

    /* Per thread, per lamp: the last issued mode took effect. */
    for (int t = 0; t < NT; t++)
        for (uint32_t k = 0; k < g_iss[t].nowned; k++) {
            uint32_t dev = g_iss[t].owned[k] / NLAMP, lamp = g_iss[t].owned[k] % NLAMP;
            DWORD mode = 0;
            TQ_EXPECT(phoneGetLamp(g_h[dev], lamp, &mode), 0);
            TQ_CHECKF(mode == g_iss[t].last[k],
                      "device %u lamp %u: phoneGetLamp %#x, thread %d last set %#x", dev, lamp,
                      (unsigned)mode, t, (unsigned)g_iss[t].last[k]);
        }

    double secs = (double)(t_done - t0) / 1e9;
    printf("stress: %" PRIu64 " requests from %d threads to %d devices x %d lamps, %" PRIu64
           " RESOURCEUNAVAIL retries\n", g_total, NT, NDEV, NLAMP, retries);
    printf("stress: issued in %.3f s, all replied in %.3f s: %.0f requests/s end to end "
           "(information only)\n", (double)(t_issued - t0) / 1e9, secs, (double)g_total / secs);
    printf("stress: %" PRIu64 " batches, %" PRIu64 " applied, %" PRIu64 " coalesced, requests "
           "high-water %" PRIu64 " of %" PRIu64 "\n", st.batches, st.updates_applied,
           st.updates_coalesced, st.requests_hwm, st.requests_capacity);

    TQ_EXPECT(phoneShutdown(g_app), 0);
    free(issued);
    free(g_replies);
    for (int t = 0; t < NT; t++)
        free(g_iss[t].ids);
    printf("test_stress: ok\n");
    return 0;
}
