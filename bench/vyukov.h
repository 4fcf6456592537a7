/* bench/vyukov.h - the reference bounded MPMC queue of the raw ring bench
 * (bench/rawq.c): Dmitry Vyukov's queue (1024cores.net), one item per
 * operation. Any number of producers and consumers at once; lock-free (a
 * CAS on the position, retried when another thread moved it); the caller
 * allocates `buf` (a power of two cells, cell i's seq = i) and waits when
 * a call returns 0 (full or empty). */
#ifndef TAPIQ_BENCH_VYUKOV_H
#define TAPIQ_BENCH_VYUKOV_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

/* A cell: seq = the position it may be pushed at (pos) or popped at
 * (pos + 1). */
struct vy_cell {
    _Atomic uint64_t seq;
    uint64_t v;
};
struct vy {
    alignas(64) _Atomic uint64_t epos;
    alignas(64) _Atomic uint64_t dpos;
    alignas(64) struct vy_cell *buf;
    uint64_t mask;
};

static inline int vy_push1(struct vy *q, uint64_t v)
{
    uint64_t pos = atomic_load_explicit(&q->epos, memory_order_relaxed);
    struct vy_cell *c;
    for (;;) {
        c = &q->buf[pos & q->mask];
        /* acquire: pairs with the release of seq in vy_pop1. */
        uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->epos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (dif < 0) {
            return 0;
        } else {
            pos = atomic_load_explicit(&q->epos, memory_order_relaxed);
        }
    }
    c->v = v;
    /* release: pairs with the acquire of seq in vy_pop1. */
    atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
    return 1;
}

static inline int vy_pop1(struct vy *q, uint64_t *v)
{
    uint64_t pos = atomic_load_explicit(&q->dpos, memory_order_relaxed);
    struct vy_cell *c;
    for (;;) {
        c = &q->buf[pos & q->mask];
        /* acquire: pairs with the release of seq in vy_push1. */
        uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->dpos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (dif < 0) {
            return 0;
        } else {
            pos = atomic_load_explicit(&q->dpos, memory_order_relaxed);
        }
    }
    *v = c->v;
    /* release: pairs with the acquire of seq in vy_push1. */
    atomic_store_explicit(&c->seq, pos + q->mask + 1, memory_order_release);
    return 1;
}

#endif /* TAPIQ_BENCH_VYUKOV_H */
