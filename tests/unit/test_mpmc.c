/* test_mpmc - the bounded MPMC ring (core/mpmc.h).
 *
 * Single-threaded: capacity rounding and the exact capacity, empty pop, bulk
 * partial counts, FIFO order across many laps (a model queue is compared at
 * every step). Multi-threaded: 4 producers x 4 consumers; every item carries
 * (producer, sequence); each consumer sees each producer's sequence strictly
 * increase, each item is popped exactly once (a per-item counter catches a
 * double pop), and the counts add up (nothing lost).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "core/mpmc.h"
#include "tq_pairq.h" /* a ring of a small struct: the macro with a non-integer type */
#include "tq_test.h"

static void test_init_and_capacity(void)
{
    struct tapiq_mpmc r;
    static const size_t asked[] = {1, 2, 3, 4, 5, 8, 9, 64, 100, 1024};
    static const size_t want[] = {2, 2, 4, 4, 8, 8, 16, 64, 128, 1024};

    TQ_CHECK(tapiq_mpmc_init(&r, 0) == -EINVAL);
    TQ_CHECK(tapiq_mpmc_init(&r, ((size_t)1 << 31) + 1) == -EINVAL);
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        TQ_CHECK(tapiq_mpmc_init(&r, asked[i]) == 0);
        size_t cap = tapiq_mpmc_capacity(&r);
        TQ_CHECKF(cap == want[i], "capacity for %zu is %zu, want %zu", asked[i], cap, want[i]);

        /* Empty pop returns 0 and leaves out untouched. */
        uint64_t out = 0xABCD;
        TQ_CHECK(tapiq_mpmc_pop_try(&r, &out, 1) == 0);
        TQ_CHECK(out == 0xABCD);
        TQ_CHECK(tapiq_mpmc_count(&r) == 0);

        /* Exactly cap single pushes succeed, the next one returns 0. */
        for (uint64_t v = 0; v < cap; v++) {
            TQ_CHECKF(tapiq_mpmc_push_try(&r, &v, 1) == 1, "push %" PRIu64 " of %zu", v, cap);
            TQ_CHECK(tapiq_mpmc_count(&r) == v + 1);
        }
        uint64_t extra = 999;
        TQ_CHECK(tapiq_mpmc_push_try(&r, &extra, 1) == 0);
        TQ_CHECK(tapiq_mpmc_count(&r) == cap);

        /* One pop makes room for exactly one push. */
        TQ_CHECK(tapiq_mpmc_pop_try(&r, &out, 1) == 1);
        TQ_CHECK(out == 0);
        TQ_CHECK(tapiq_mpmc_push_try(&r, &extra, 1) == 1);
        TQ_CHECK(tapiq_mpmc_push_try(&r, &extra, 1) == 0);

        /* FIFO order: 1 .. cap-1, then 999. */
        for (uint64_t v = 1; v < cap; v++) {
            TQ_CHECK(tapiq_mpmc_pop_try(&r, &out, 1) == 1);
            TQ_CHECKF(out == v, "popped %" PRIu64 ", want %" PRIu64, out, v);
        }
        TQ_CHECK(tapiq_mpmc_pop_try(&r, &out, 1) == 1);
        TQ_CHECK(out == 999);
        TQ_CHECK(tapiq_mpmc_pop_try(&r, &out, 1) == 0);
        TQ_CHECK(tapiq_mpmc_count(&r) == 0);
        tapiq_mpmc_destroy(&r);
    }
}

static void test_bulk_partial(void)
{
    struct tapiq_mpmc r;
    uint64_t in[32], out[32];
    for (uint64_t i = 0; i < 32; i++)
        in[i] = 100 + i;

    TQ_CHECK(tapiq_mpmc_init(&r, 8) == 0);
    TQ_CHECK(tapiq_mpmc_push_try(&r, in, 5) == 5);
    /* Only 3 fit: the first 3 of the array are taken. */
    TQ_CHECK(tapiq_mpmc_push_try(&r, in + 5, 10) == 3);
    TQ_CHECK(tapiq_mpmc_push_try(&r, in, 10) == 0);
    TQ_CHECK(tapiq_mpmc_count(&r) == 8);
    /* Asking for more than there is returns what there is, in order. */
    memset(out, 0, sizeof out);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 3) == 3);
    for (int i = 0; i < 3; i++)
        TQ_CHECK(out[i] == in[i]);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 32) == 5);
    for (int i = 0; i < 5; i++)
        TQ_CHECK(out[i] == in[3 + i]);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 32) == 0);
    /* A bulk push wrapping the end of the array. */
    TQ_CHECK(tapiq_mpmc_push_try(&r, in, 6) == 6);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 6) == 6);
    TQ_CHECK(tapiq_mpmc_push_try(&r, in, 8) == 8);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 8) == 8);
    for (int i = 0; i < 8; i++)
        TQ_CHECK(out[i] == in[i]);
    tapiq_mpmc_destroy(&r);
}

/* Random bulk sizes against a model, for many laps of small rings. */
static void test_laps(void)
{
    static const size_t caps[] = {2, 4, 8, 64};
    uint64_t seed = 12345;
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        struct tapiq_mpmc r;
        TQ_CHECK(tapiq_mpmc_init(&r, caps[c]) == 0);
        const size_t cap = tapiq_mpmc_capacity(&r);
        uint64_t next_in = 0, next_out = 0; /* the model: items next_out..next_in-1 */
        uint64_t buf[80];
        const uint64_t laps = 20000;
        while (next_out < laps * cap) {
            /* n >= 1: zero-length calls are covered by the "zero" case. */
            size_t n = 1 + (size_t)(tq_rand(&seed) % (cap + 2));
            for (size_t i = 0; i < n; i++)
                buf[i] = next_in + i;
            size_t room = cap - (size_t)(next_in - next_out);
            size_t want = n < room ? n : room;
            size_t got = tapiq_mpmc_push_try(&r, buf, n);
            TQ_CHECKF(got == want, "cap %zu: push of %zu with room %zu returned %zu", cap, n,
                      room, got);
            next_in += got;
            TQ_CHECK(tapiq_mpmc_count(&r) == next_in - next_out);

            n = 1 + (size_t)(tq_rand(&seed) % (cap + 2));
            size_t have = (size_t)(next_in - next_out);
            want = n < have ? n : have;
            got = tapiq_mpmc_pop_try(&r, buf, n);
            TQ_CHECKF(got == want, "cap %zu: pop of %zu with %zu queued returned %zu", cap, n,
                      have, got);
            for (size_t i = 0; i < got; i++)
                TQ_CHECKF(buf[i] == next_out + i, "order: got %" PRIu64 ", want %" PRIu64,
                          buf[i], next_out + i);
            next_out += got;
        }
        tapiq_mpmc_destroy(&r);
    }
}

static void test_struct_ring(void)
{
    struct tq_pairq q;
    struct tq_pair in[4] = {{1, 10}, {2, 20}, {3, 30}, {4, 40}}, out[4];
    TQ_CHECK(tq_pairq_init(&q, 3) == 0);
    TQ_CHECK(tq_pairq_capacity(&q) == 4);
    for (int lap = 0; lap < 1000; lap++) {
        TQ_CHECK(tq_pairq_push_try(&q, in, 3) == 3);
        TQ_CHECK(tq_pairq_pop_try(&q, out, 2) == 2);
        TQ_CHECK(tq_pairq_push_try(&q, in + 3, 1) == 1);
        TQ_CHECK(tq_pairq_pop_try(&q, out + 2, 4) == 2);
        TQ_CHECK(tq_pairq_count(&q) == 0);
        for (int i = 0; i < 4; i++)
            TQ_CHECK(out[i].a == in[i].a && out[i].b == in[i].b);
    }
    tq_pairq_destroy(&q);
}

/* ------------------------------------------------------------ threaded */

#define NPROD 4
#define NCONS 4

static struct tapiq_mpmc g_ring;
static uint64_t g_per_producer;
static _Atomic unsigned char *g_seen[NPROD];
static _Atomic uint64_t g_popped_total;
static uint64_t g_cons_count[NCONS];

static void *producer(void *arg)
{
    uint64_t p = (uint64_t)(uintptr_t)arg;
    uint64_t seed = p + 1;
    uint64_t seq = 0;
    uint64_t buf[8];
    uint64_t deadline = tq_now_ns() + 120ull * 1000000000u;
    while (seq < g_per_producer) {
        size_t n = 1 + (size_t)(tq_rand(&seed) % 8);
        if (n > g_per_producer - seq)
            n = (size_t)(g_per_producer - seq);
        for (size_t i = 0; i < n; i++)
            buf[i] = (p << 32) | (seq + i);
        size_t done = 0;
        while (done < n) {
            size_t k = tapiq_mpmc_push_try(&g_ring, buf + done, n - done);
            if (k == 0) {
                TQ_CHECKF(tq_now_ns() < deadline, "producer %" PRIu64 " stuck", p);
                sched_yield();
            }
            done += k;
        }
        seq += n;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    size_t c = (size_t)(uintptr_t)arg;
    uint64_t seed = 1000 + c;
    int64_t last[NPROD];
    uint64_t buf[16];
    uint64_t total = g_per_producer * NPROD;
    uint64_t deadline = tq_now_ns() + 120ull * 1000000000u;
    for (int i = 0; i < NPROD; i++)
        last[i] = -1;
    /* acquire: pairs with the fetch_add below in other consumers (only a stop test). */
    while (atomic_load_explicit(&g_popped_total, memory_order_acquire) < total) {
        size_t n = 1 + (size_t)(tq_rand(&seed) % 16);
        size_t k = tapiq_mpmc_pop_try(&g_ring, buf, n);
        if (k == 0) {
            TQ_CHECKF(tq_now_ns() < deadline, "consumer %zu stuck", c);
            sched_yield();
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            uint64_t p = buf[i] >> 32;
            uint64_t seq = buf[i] & 0xFFFFFFFFu;
            TQ_CHECKF(p < NPROD && seq < g_per_producer, "garbage item %#" PRIx64, buf[i]);
            TQ_CHECKF((int64_t)seq > last[p],
                      "consumer %zu: producer %" PRIu64 " seq %" PRIu64 " after %" PRId64, c, p,
                      seq, last[p]);
            last[p] = (int64_t)seq;
            /* relaxed: a counter; the join publishes it. */
            unsigned char before =
                atomic_fetch_add_explicit(&g_seen[p][seq], 1, memory_order_relaxed);
            TQ_CHECKF(before == 0, "item %" PRIu64 "/%" PRIu64 " popped twice", p, seq);
        }
        g_cons_count[c] += k;
        /* release: pairs with the acquire load of the loop test. */
        atomic_fetch_add_explicit(&g_popped_total, k, memory_order_release);
    }
    return NULL;
}

static void test_threads(unsigned long scale)
{
    pthread_t pt[NPROD], ct[NCONS];
    g_per_producer = 400000 / scale;
    TQ_CHECK(tapiq_mpmc_init(&g_ring, 64) == 0);
    for (int p = 0; p < NPROD; p++) {
        g_seen[p] = calloc(g_per_producer, sizeof *g_seen[p]);
        TQ_CHECK(g_seen[p] != NULL);
    }
    for (int c = 0; c < NCONS; c++)
        TQ_CHECK(pthread_create(&ct[c], NULL, consumer, (void *)(uintptr_t)c) == 0);
    for (int p = 0; p < NPROD; p++)
        TQ_CHECK(pthread_create(&pt[p], NULL, producer, (void *)(uintptr_t)p) == 0);
    for (int p = 0; p < NPROD; p++)
        pthread_join(pt[p], NULL);
    for (int c = 0; c < NCONS; c++)
        pthread_join(ct[c], NULL);

    uint64_t sum = 0;
    for (int c = 0; c < NCONS; c++)
        sum += g_cons_count[c];
    TQ_CHECKF(sum == g_per_producer * NPROD, "popped %" PRIu64 ", pushed %" PRIu64, sum,
              g_per_producer * NPROD);
    for (int p = 0; p < NPROD; p++) {
        for (uint64_t s = 0; s < g_per_producer; s++)
            TQ_CHECKF(atomic_load_explicit(&g_seen[p][s], memory_order_relaxed) == 1,
                      "item %d/%" PRIu64 " popped %d times", p, s,
                      (int)atomic_load_explicit(&g_seen[p][s], memory_order_relaxed));
        free((void *)g_seen[p]);
    }
    uint64_t out;
    TQ_CHECK(tapiq_mpmc_pop_try(&g_ring, &out, 1) == 0);
    TQ_CHECK(tapiq_mpmc_count(&g_ring) == 0);
    tapiq_mpmc_destroy(&g_ring);
    printf("threaded: %d producers x %d consumers, %" PRIu64 " items, consumer shares", NPROD,
           NCONS, sum);
    for (int c = 0; c < NCONS; c++)
        printf(" %" PRIu64, g_cons_count[c]);
    printf("\n");
}

/* Zero-length bulk calls return 0 and change nothing, at any position (also
 * position 0 of a fresh ring). A watchdog turns a livelock into a failure. */
static _Atomic int g_zero_phase;

static void *zero_watchdog(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        if (atomic_load_explicit(&g_zero_phase, memory_order_acquire) < 0)
            return NULL;
        tq_sleep_us(10000);
    }
    TQ_FAIL("a zero-length call did not return within 10 s (phase %d: %s)",
            atomic_load_explicit(&g_zero_phase, memory_order_acquire),
            "1 = push_try(n=0) on a fresh ring, 2 = pop_try(n=0) on a fresh ring, "
            "3 = push_try(n=0) when full, 4 = pop_try(n=0) when not empty");
}

static void test_zero_length(void)
{
    struct tapiq_mpmc r;
    uint64_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
    pthread_t wd;
    TQ_CHECK(pthread_create(&wd, NULL, zero_watchdog, NULL) == 0);
    TQ_CHECK(tapiq_mpmc_init(&r, 8) == 0);
    atomic_store_explicit(&g_zero_phase, 1, memory_order_release);
    TQ_CHECK(tapiq_mpmc_push_try(&r, v, 0) == 0);
    atomic_store_explicit(&g_zero_phase, 2, memory_order_release);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 0) == 0);
    TQ_CHECK(tapiq_mpmc_count(&r) == 0);
    TQ_CHECK(tapiq_mpmc_push_try(&r, v, 8) == 8);
    atomic_store_explicit(&g_zero_phase, 3, memory_order_release);
    TQ_CHECK(tapiq_mpmc_push_try(&r, v, 0) == 0);
    atomic_store_explicit(&g_zero_phase, 4, memory_order_release);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 0) == 0);
    TQ_CHECK(tapiq_mpmc_count(&r) == 8);
    TQ_CHECK(tapiq_mpmc_pop_try(&r, out, 8) == 8);
    for (int i = 0; i < 8; i++)
        TQ_CHECK(out[i] == v[i]);
    atomic_store_explicit(&g_zero_phase, -1, memory_order_release);
    pthread_join(wd, NULL);
    tapiq_mpmc_destroy(&r);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "zero") == 0) {
        test_zero_length();
        printf("test_mpmc zero: ok\n");
        return 0;
    }
    test_init_and_capacity();
    test_bulk_partial();
    test_laps();
    test_struct_ring();
    test_threads(tq_scale());
    printf("test_mpmc: ok\n");
    return 0;
}
