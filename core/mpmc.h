/* core/mpmc.h - bounded multi-producer multi-consumer ring with bulk push/pop.
 *
 * A Vyukov-style ring: every cell carries a sequence number that says whose
 * turn it is, so producers and consumers only contend on their own index and
 * never wait for one another inside the ring. Bulk operations claim a run of
 * consecutive cells with one CAS.
 *
 * TAPIQ_MPMC_DEFINE(name, type) generates `struct name` and its operations for
 * elements of `type` (trivially copyable).
 *
 * Synchronization table (any number of threads):
 *                      push_try   pop_try    count     init/destroy
 *   push_try           yes        yes        yes       no
 *   pop_try            yes        yes        yes       no
 *   count              yes        yes        yes       no
 *   init/destroy       no         no         no        no (caller excludes)
 *
 * Progress: push_try and pop_try are lock-free in the usual sense (a CAS retry
 * loop only repeats when another thread made progress) and never spin waiting
 * for another thread: a cell that a preempted producer has claimed but not yet
 * filled reads as "empty" to consumers, a cell that a preempted consumer has
 * claimed but not yet read reads as "full" to producers; both return instead
 * of waiting, and the caller's wait policy decides.
 *
 * Invariants:
 *  - capacity is a power of two, >= 2, and exactly that many elements fit;
 *  - head and tail are free-running 64-bit positions, compared only by
 *    difference; cell (p & mask) is free for position p when seq == p, full
 *    for position p when seq == p + 1, and freed by the consumer of p with
 *    seq = p + capacity;
 *  - producers touch only tail (own cache line), consumers only head.
 *
 * Ordering: a push releases the element (store of seq); the pop that returns
 * it acquires (load of seq): writes made before the push happen-before the
 * reads after that pop. A pop releases the cell (store of seq = p + capacity)
 * and the producer that reuses it acquires, so the consumer's read of the old
 * element happens-before the new write.
 */
#ifndef TAPIQ_CORE_MPMC_H
#define TAPIQ_CORE_MPMC_H

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/alloc.h"

#define TAPIQ_CACHELINE 64

/* For loops whose branches say nothing about the caller's input (ring set
 * up, counter sums): no coverage instrumentation when built for libFuzzer,
 * whose compare tracing would otherwise cost a call per iteration. */
#if defined(__clang__) && __clang_major__ >= 13
#define TAPIQ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define TAPIQ_NO_COVERAGE
#endif

/* The "tapiq ring under a mutex" baseline (bench/rawq.c; fuzz/fuzz_ring.c
 * checks it): its field and its branch exist only where TAPIQ_INTERNAL (the
 * internal library, tests, fuzz) or TAPIQ_MPMC_BASELINE (the bench's raw
 * rings) is defined. The installed library has neither. */
#if defined(TAPIQ_INTERNAL) || defined(TAPIQ_MPMC_BASELINE)
#define TAPIQ_MPMC_IF_BASELINE(...) __VA_ARGS__
#else
#define TAPIQ_MPMC_IF_BASELINE(...)
#endif

#define TAPIQ_MPMC_DEFINE(name, type)                                                          \
    struct name##_cell {                                                                       \
        _Atomic uint64_t seq;                                                                  \
        type val;                                                                              \
    };                                                                                         \
    struct name {                                                                              \
        alignas(TAPIQ_CACHELINE) _Atomic uint64_t tail; /* producers */                        \
        alignas(TAPIQ_CACHELINE) _Atomic uint64_t head; /* consumers */                        \
        alignas(TAPIQ_CACHELINE) uint64_t mask;                                                \
        struct name##_cell *cells;                                                             \
        TAPIQ_MPMC_IF_BASELINE(pthread_mutex_t *baseline_mu;) /* see set_baseline_mutex */     \
    };                                                                                         \
                                                                                               \
    /* name##_init - capacity rounded up to a power of two (>= 2).                          \
     * Concurrency: none. Returns 0, -EINVAL (0 or > 2^31), -ENOMEM. */                        \
    static inline TAPIQ_NO_COVERAGE int name##_init(struct name *r, size_t capacity)           \
    {                                                                                          \
        size_t cap = 2;                                                                        \
        if (capacity == 0 || capacity > ((size_t)1 << 31))                                     \
            return -EINVAL;                                                                    \
        while (cap < capacity)                                                                 \
            cap <<= 1;                                                                         \
        r->cells = (struct name##_cell *)tapiq_aligned_alloc(TAPIQ_CACHELINE,                        \
                                                       sizeof(*r->cells) * cap);               \
        if (!r->cells)                                                                         \
            return -ENOMEM;                                                                    \
        for (size_t i = 0; i < cap; i++)                                                       \
            atomic_init(&r->cells[i].seq, (uint64_t)i);                                        \
        r->mask = cap - 1;                                                                     \
        TAPIQ_MPMC_IF_BASELINE(r->baseline_mu = NULL;)                                         \
        atomic_init(&r->head, 0);                                                              \
        atomic_init(&r->tail, 0);                                                              \
        return 0;                                                                              \
    }                                                                                          \
                                                                                               \
    /* name##_fill - the first @n elements of an empty ring, set before it is                  \
     * shared: the state @n push_try calls would leave, in one plain pass.                     \
     * Concurrency: none (init time). Returns the number stored (<= capacity). */              \
    static inline TAPIQ_NO_COVERAGE size_t name##_fill(struct name *r,                         \
                                                       void (*gen)(void *, size_t, type *),    \
                                                       void *arg, size_t n)                    \
    {                                                                                          \
        size_t i, cap = (size_t)r->mask + 1;                                                   \
        if (n > cap)                                                                           \
            n = cap;                                                                           \
        for (i = 0; i < n; i++) {                                                              \
            gen(arg, i, &r->cells[i].val);                                                     \
            atomic_init(&r->cells[i].seq, (uint64_t)i + 1);                                    \
        }                                                                                      \
        atomic_init(&r->tail, (uint64_t)n);                                                    \
        return n;                                                                              \
    }                                                                                          \
                                                                                               \
    static inline void name##_destroy(struct name *r)                                          \
    {                                                                                          \
        free(r->cells);                                                                        \
        r->cells = NULL;                                                                       \
    }                                                                                          \
                                                                                               \
    static inline size_t name##_capacity(const struct name *r) { return (size_t)r->mask + 1; } \
                                                                                               \
    /* name##_push_try - enqueue up to @n elements of @v, in order.                         \
     * Concurrency: any; lock-free, never waits for another thread.                            \
     * Ordering:    release; see the file comment.                                             \
     * Ownership:   the ring copies the elements pushed.                                       \
     * Returns:     how many were pushed (0 when full); the first ones of @v. */               \
    static inline size_t name##_push_lf(struct name *r, const type *v, size_t n)               \
    {                                                                                          \
        /* relaxed: only a hint; the seq loads below decide. */                                \
        uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);                   \
        if (n == 0)                                                                            \
            return 0;                                                                          \
        for (;;) {                                                                             \
            size_t k = 0;                                                                      \
            uint64_t s = 0;                                                                    \
            while (k < n) {                                                                    \
                /* acquire: pairs with the release store of seq in pop_try, so the         \
                 * consumer's read of the old element happens-before our write. */             \
                s = atomic_load_explicit(&r->cells[(pos + k) & r->mask].seq,                   \
                                         memory_order_acquire);                                \
                if (s != pos + k)                                                              \
                    break;                                                                     \
                k++;                                                                           \
            }                                                                                  \
            if (k == 0) {                                                                      \
                if ((int64_t)(s - pos) < 0)                                                    \
                    return 0; /* full (or its consumer is still reading) */                    \
                pos = atomic_load_explicit(&r->tail, memory_order_relaxed);                    \
                continue;                                                                      \
            }                                                                                  \
            /* relaxed: the CAS only elects the owner of cells pos..pos+k-1; the data     \
             * is published by the seq stores. */                                              \
            if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + k,                 \
                                                      memory_order_relaxed,                    \
                                                      memory_order_relaxed)) {                 \
                for (size_t i = 0; i < k; i++) {                                               \
                    struct name##_cell *c = &r->cells[(pos + i) & r->mask];                    \
                    c->val = v[i];                                                             \
                    /* release: pairs with the acquire load of seq in pop_try. */              \
                    atomic_store_explicit(&c->seq, pos + i + 1, memory_order_release);         \
                }                                                                              \
                return k;                                                                      \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    /* name##_pop_try - dequeue up to @n elements into @out, oldest first.                  \
     * Concurrency: any; lock-free, never waits for another thread.                            \
     * Ordering:    acquire; see the file comment.                                             \
     * Returns:     how many were popped (0 when empty). */                                    \
    static inline size_t name##_pop_lf(struct name *r, type *out, size_t n)                    \
    {                                                                                          \
        /* relaxed: a hint, as in push_try. */                                                 \
        uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);                   \
        if (n == 0)                                                                            \
            return 0;                                                                          \
        for (;;) {                                                                             \
            size_t k = 0;                                                                      \
            uint64_t s = 0;                                                                    \
            while (k < n) {                                                                    \
                /* acquire: pairs with the release store of seq in push_try. */                \
                s = atomic_load_explicit(&r->cells[(pos + k) & r->mask].seq,                   \
                                         memory_order_acquire);                                \
                if (s != pos + k + 1)                                                          \
                    break;                                                                     \
                k++;                                                                           \
            }                                                                                  \
            if (k == 0) {                                                                      \
                if ((int64_t)(s - (pos + 1)) < 0)                                              \
                    return 0; /* empty (or its producer is still writing) */                   \
                pos = atomic_load_explicit(&r->head, memory_order_relaxed);                    \
                continue;                                                                      \
            }                                                                                  \
            /* relaxed: elects the owner of the cells, as in push_try. */                      \
            if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + k,                 \
                                                      memory_order_relaxed,                    \
                                                      memory_order_relaxed)) {                 \
                for (size_t i = 0; i < k; i++) {                                               \
                    struct name##_cell *c = &r->cells[(pos + i) & r->mask];                    \
                    out[i] = c->val;                                                           \
                    /* release: pairs with the acquire load of seq in push_try. */             \
                    atomic_store_explicit(&c->seq, pos + i + r->mask + 1,                      \
                                          memory_order_release);                               \
                }                                                                              \
                return k;                                                                      \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    /* name##_set_baseline_mutex - BENCH BASELINE ONLY: every push and pop of this          \
     * ring then runs under @mu (what a hand-written dispatcher would do), so the            \
     * bench can compare against the same ring under a mutex. NULL: lock-free.                \
     * Concurrency: none (set before the ring is shared). */                                   \
    TAPIQ_MPMC_IF_BASELINE(                                                                    \
    static inline void name##_set_baseline_mutex(struct name *r, pthread_mutex_t *mu)          \
    {                                                                                          \
        r->baseline_mu = mu;                                                                   \
    }                                                                                          \
                                                                                               \
    static inline size_t name##_push_baseline(struct name *r, const type *v, size_t n)         \
    {                                                                                          \
        size_t k;                                                                              \
        pthread_mutex_lock(r->baseline_mu);                                                    \
        k = name##_push_lf(r, v, n);                                                           \
        pthread_mutex_unlock(r->baseline_mu);                                                  \
        return k;                                                                              \
    }                                                                                          \
                                                                                               \
    static inline size_t name##_pop_baseline(struct name *r, type *out, size_t n)              \
    {                                                                                          \
        size_t k;                                                                              \
        pthread_mutex_lock(r->baseline_mu);                                                    \
        k = name##_pop_lf(r, out, n);                                                          \
        pthread_mutex_unlock(r->baseline_mu);                                                  \
        return k;                                                                              \
    })                                                                                         \
                                                                                               \
    static inline size_t name##_push_try(struct name *r, const type *v, size_t n)              \
    {                                                                                          \
        TAPIQ_MPMC_IF_BASELINE(if (__builtin_expect(r->baseline_mu != NULL, 0))                \
                                   return name##_push_baseline(r, v, n);)                      \
        return name##_push_lf(r, v, n);                                                        \
    }                                                                                          \
                                                                                               \
    static inline size_t name##_pop_try(struct name *r, type *out, size_t n)                   \
    {                                                                                          \
        TAPIQ_MPMC_IF_BASELINE(if (__builtin_expect(r->baseline_mu != NULL, 0))                \
                                   return name##_pop_baseline(r, out, n);)                     \
        return name##_pop_lf(r, out, n);                                                       \
    }                                                                                          \
                                                                                               \
    /* name##_count - elements in the ring; exact when quiescent, an estimate              \
     * (0..capacity) while others push and pop. Wait-free. */                                  \
    static inline size_t name##_count(struct name *r)                                          \
    {                                                                                          \
        /* relaxed: an estimate; no data is read through it. */                                \
        uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);                     \
        uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);                     \
        int64_t d = (int64_t)(t - h);                                                          \
        if (d < 0)                                                                             \
            return 0;                                                                          \
        return (size_t)d > r->mask + 1 ? (size_t)r->mask + 1 : (size_t)d;                      \
    }                                                                                          \
                                                                                               \
    /* name##_maybe_nonempty - count() != 0 as a cheaper hint: 0 when tail and head        \
     * were read equal, else 1 (also while a pop is half done). Wait-free. */                  \
    static inline int name##_maybe_nonempty(struct name *r)                                    \
    {                                                                                          \
        /* relaxed: an estimate, as count(). */                                                \
        return atomic_load_explicit(&r->tail, memory_order_relaxed) !=                         \
               atomic_load_explicit(&r->head, memory_order_relaxed);                           \
    }

/* The ring of 64-bit values used for the run queue and the request-slot pool. */
TAPIQ_MPMC_DEFINE(tapiq_mpmc, uint64_t)

#endif /* TAPIQ_CORE_MPMC_H */
