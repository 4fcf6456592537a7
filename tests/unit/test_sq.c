/* Submission rings: capacity is exact (size entries, then -EAGAIN until the
 * consumer releases), ids are 1..0x7FFFFFFF and distinct for every position
 * in flight, and under contention every entry arrives exactly once and in
 * each producer's order (SPSC: one producer; MPSC: four producers), with the
 * consumer releasing positions late and out of step with the producers. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/sq.h"
#include "check.h"

#define N_PER 200000u
#define NPROD 4u

static struct tapiq_sq g_q;

static void test_capacity_and_ids(void)
{
    struct tapiq_sq q;
    struct tapiq_sqe e = {0};
    uint32_t pos, ids[8];
    for (int mpsc = 0; mpsc < 2; mpsc++) {
        TQ_CHECK(tapiq_sq_init(&q, 8, mpsc, 3u << 20, (1u << 20) - 1) == 0);
        for (uint32_t i = 0; i < 8; i++) {
            e.dev = i;
            TQ_CHECK((mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos)) ==
                     0);
            TQ_CHECK(pos == i);
            ids[i] = tapiq_sq_id(&q, pos);
            TQ_CHECK(ids[i] != 0 && ids[i] <= 0x7FFFFFFFu);
            for (uint32_t j = 0; j < i; j++)
                TQ_CHECK(ids[j] != ids[i]);
        }
        TQ_CHECK((mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos)) ==
                 -EAGAIN);
        TQ_CHECK(tapiq_sq_avail(&q, 0, 100) == 8);
        TQ_CHECK(tapiq_sq_entry(&q, 5)->dev == 5);
        TQ_CHECK(tapiq_sq_entry(&q, 5)->id == ids[5]); /* push records the id */
        tapiq_sq_release(&q, 0, 3);
        for (uint32_t i = 0; i < 3; i++)
            TQ_CHECK((mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos)) ==
                     0);
        TQ_CHECK((mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos)) ==
                 -EAGAIN);
        TQ_CHECK(tapiq_sq_avail(&q, 8, 100) == 3);
        TQ_CHECK(tapiq_sq_pushed(&q) == 11);
        tapiq_sq_destroy(&q);
    }
}

/* Positions are 32-bit and wrap; the count of pushes does not: a ring
 * started just below 2^32 pushes (its fields set as if it had seen them)
 * keeps exact capacity, distinct ids and in-order entries across the wrap,
 * and tapiq_sq_pushed() goes past 2^32. */
static void test_count_past_2_32(void)
{
    const uint32_t base = 0xFFFFFFFCu;
    struct tapiq_sq q;
    struct tapiq_sqe e = {0};
    uint32_t pos, ids[8];
    for (int mpsc = 0; mpsc < 2; mpsc++) {
        TQ_CHECK(tapiq_sq_init(&q, 8, mpsc, 3u << 20, (1u << 20) - 1) == 0);
        /* relaxed: one thread; the ring is not shared yet */
        atomic_store_explicit(&q.tail, base, memory_order_relaxed);
        atomic_store_explicit(&q.head, base, memory_order_relaxed);
        q.head_cache = base;
        if (mpsc)
            for (uint32_t i = 0; i < 8; i++)
                atomic_store_explicit(&q.seq[(base + i) & q.mask], base + i,
                                      memory_order_relaxed); /* free for base + i */
        for (uint32_t i = 0; i < 8; i++) {
            e.dev = i;
            TQ_CHECK((mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos)) ==
                     0);
            TQ_CHECK(pos == base + i);
            ids[i] = tapiq_sq_id(&q, pos);
            TQ_CHECK(ids[i] != 0 && ids[i] <= 0x7FFFFFFFu && tapiq_sq_entry(&q, pos)->id == ids[i]);
            for (uint32_t j = 0; j < i; j++)
                TQ_CHECK(ids[j] != ids[i]);
        }
        TQ_CHECK((mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos)) ==
                 -EAGAIN);
        TQ_CHECK(tapiq_sq_avail(&q, base, 100) == 8);
        for (uint32_t i = 0; i < 8; i++)
            TQ_CHECK(tapiq_sq_entry(&q, base + i)->dev == i);
        TQ_CHECK(tapiq_sq_pushed(&q) == (uint64_t)base + 8);
        tapiq_sq_release(&q, base, base + 8);
        TQ_CHECK((mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos)) ==
                 0);
        TQ_CHECK(pos == 4 && tapiq_sq_avail(&q, 4, 100) == 1);
        TQ_CHECK(tapiq_sq_pushed(&q) == (uint64_t)base + 9);
        tapiq_sq_destroy(&q);
    }
}

static void *producer(void *arg)
{
    uint32_t p = (uint32_t)(uintptr_t)arg, pos;
    for (uint32_t i = 0; i < N_PER; i++) {
        struct tapiq_sqe e = {.handle = p, .dev = i, .lamp = 0xAB, .mode = 0xCD, .id = 0};
        while ((g_q.mpsc ? tapiq_sq_push_mpsc(&g_q, &e, &pos) : tapiq_sq_push_spsc(&g_q, &e, &pos)) !=
               0)
            sched_yield();
    }
    return NULL;
}

/* The consumer drains and releases in chunks, one round behind. */
static void run(int mpsc, uint32_t nprod)
{
    pthread_t t[NPROD];
    uint32_t next[NPROD] = {0}, rd = 0, rel = 0, total = 0;
    TQ_CHECK(tapiq_sq_init(&g_q, 64, mpsc, 1u << 24, (1u << 24) - 1) == 0);
    for (uint32_t p = 0; p < nprod; p++)
        TQ_CHECK(pthread_create(&t[p], NULL, producer, (void *)(uintptr_t)p) == 0);
    while (total < nprod * N_PER) {
        uint32_t n = tapiq_sq_avail(&g_q, rd, 16);
        for (uint32_t k = 0; k < n; k++) {
            const struct tapiq_sqe *e = tapiq_sq_entry(&g_q, rd + k);
            TQ_CHECK(e->handle < nprod && e->lamp == 0xAB && e->mode == 0xCD);
            TQ_CHECK(e->id == tapiq_sq_id(&g_q, rd + k));
            TQ_CHECK(e->dev == next[e->handle]); /* per-producer order, no loss, no duplicate */
            next[e->handle]++;
        }
        total += n;
        tapiq_sq_release(&g_q, rel, rd); /* the previous chunk: released late */
        rel = rd;
        rd += n;
        if (!n)
            sched_yield();
    }
    tapiq_sq_release(&g_q, rel, rd);
    for (uint32_t p = 0; p < nprod; p++) {
        pthread_join(t[p], NULL);
        TQ_CHECK(next[p] == N_PER);
    }
    TQ_CHECK(tapiq_sq_avail(&g_q, rd, 1) == 0);
    TQ_CHECK(tapiq_sq_pushed(&g_q) == nprod * N_PER);
    tapiq_sq_destroy(&g_q);
}

int main(void)
{
    test_capacity_and_ids();
    test_count_past_2_32();
    run(0, 1);
    run(1, NPROD);
    return 0;
}
