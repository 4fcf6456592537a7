/* core/sq.h - a submission ring: requests from issuing threads to one worker.
 *
 * Two flavours share one layout:
 *  - spsc: one producer at a time (the issuing thread that holds the ring's
 *    pool slot) and one consumer (the worker). Push = write the entry,
 *    release-store the tail: no CAS, no fence, no shared line written except
 *    the producer's own tail line (read by the worker).
 *  - mpsc: any number of producers (threads beyond the pool), one consumer.
 *    Vyukov's bounded ring: a producer claims a position with a CAS on tail,
 *    writes the entry and publishes it with the cell's sequence word.
 * The consumer reads entries in place and releases them later, in order,
 * just before their replies are posted (tapiq_sq_release), so that an
 * application holding a reply finds room for a new request. A request id is
 * idbase | (position & idmask) with idmask > mask: the request that reuses a
 * released cell (position + size) has another id, and that cell cannot be
 * released again before the first reply is posted (the one consumer releases
 * and posts in one step), so two requests in flight never share an id.
 *
 * Synchronization table:
 *                  push_spsc  push_mpsc  peek/release
 *   push_spsc      no         no         yes
 *   push_mpsc      no         yes        yes
 *   peek/release   yes        yes        no (the worker owns the consumer side)
 * Progress: push_spsc is wait-free; push_mpsc is lock-free; peek and release
 * are wait-free. Nothing here waits for another thread: a full ring returns
 * -EAGAIN (the caller answers PHONEERR_RESOURCEUNAVAIL).
 * Invariants: size is a power of two, at least 2 for mpsc (a ring of one
 * cannot tell a published cell from a free one), capacity exactly size; positions are
 * free-running uint32_t compared by difference; tail - head <= size. The tail
 * is a 64-bit count (pushes so far, never wrapping: tapiq_sq_pushed()) whose
 * low 32 bits are the position.
 */
#ifndef TAPIQ_CORE_SQ_H
#define TAPIQ_CORE_SQ_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"

struct tapiq_worker;

/* One request: 16 bytes. */
struct tapiq_sqe {
    uint32_t handle; /* HPHONE */
    uint32_t dev;    /* device index */
    uint16_t lamp;
    uint16_t mode;
    uint32_t id;     /* the request id (written by push) */
};

struct tapiq_sq {
    /* Producer's line: tail, and its cached view of head. */
    alignas(TAPIQ_CACHELINE) _Atomic uint64_t tail; /* 64 bits: a count that never wraps
                                                       (statistics); positions are its
                                                       low 32 bits */
    uint32_t head_cache;
    _Atomic uint64_t nfull; /* SPSC: pushes refused, ring full (statistics) */
    /* Consumer's line: released positions. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t head;
    /* Read-only after init. */
    alignas(TAPIQ_CACHELINE) uint32_t mask;
    uint32_t idbase; /* (ring index + 1) << position bits */
    uint32_t idmask; /* position bits of an id */
    uint32_t mpsc;
    uint32_t own_e;  /* e was allocated by tapiq_sq_init() (freed by destroy) */
    struct tapiq_sqe *e;
    _Atomic uint32_t *seq; /* mpsc: per cell, Vyukov's turn */
    /* The consumer, set by it at its init (core/worker.h): a producer
     * looks at its `sleeping` word after a push (tapiq_worker_must_wake_fast()). */
    struct tapiq_worker *consumer;
};

/* @size a power of two; @idbase / @idmask as above. Returns 0; -EINVAL for a
 * multi-producer ring smaller than 2; -ENOMEM. */
int tapiq_sq_init(struct tapiq_sq *q, uint32_t size, int mpsc, uint32_t idbase, uint32_t idmask);
/* tapiq_sq_init() on @size entries at @e that the caller owns (zeroed
 * here; not freed by tapiq_sq_destroy()): a runtime puts the rings of one
 * worker side by side, so that the worker finds an entry by its cell
 * number alone (core/worker.h). */
int tapiq_sq_init_at(struct tapiq_sq *q, uint32_t size, int mpsc, uint32_t idbase,
                     uint32_t idmask, struct tapiq_sqe *e);
void tapiq_sq_destroy(struct tapiq_sq *q);

/* The request id of position @pos: never 0, at most 0x7FFFFFFF. */
static inline uint32_t tapiq_sq_id(const struct tapiq_sq *q, uint32_t pos)
{
    return q->idbase | (pos & q->idmask);
}

/* tapiq_sq_push_spsc_id - append a request: returns its id (never 0), or 0
 * when the ring is full.
 * Concurrency: the one producer; wait-free.
 * Ordering: release; the entry happens-before the worker's peek that sees it. */
static inline uint32_t tapiq_sq_push_spsc_id(struct tapiq_sq *q, uint32_t handle, uint32_t dev,
                                             uint32_t lamp, uint32_t mode)
{
    /* relaxed: our own tail. */
    uint64_t t64 = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint32_t t = (uint32_t)t64, id;
    if (__builtin_expect(t - q->head_cache > q->mask, 0)) {
        /* acquire: pairs with the release store in tapiq_sq_release(), so
         * the worker's reads of the freed entries happen-before we reuse them. */
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (t - q->head_cache > q->mask)
            return 0;
    }
    id = tapiq_sq_id(q, t);
    if (id == 0)
        __builtin_unreachable(); /* idbase is never 0: the caller's test of 0 goes */
    {
        struct tapiq_sqe *d = &q->e[t & q->mask];
        d->handle = handle;
        d->dev = dev;
        d->lamp = (uint16_t)lamp;
        d->mode = (uint16_t)mode;
        d->id = id;
    }
    /* release: publishes the entry; pairs with the acquire in tapiq_sq_avail(). */
    atomic_store_explicit(&q->tail, t64 + 1, memory_order_release);
    return id;
}

/* tapiq_sq_push_spsc - append @e (tapiq_sq_push_spsc_id()). Returns 0 with
 * its position in *pos, or -EAGAIN when full. */
static inline int tapiq_sq_push_spsc(struct tapiq_sq *q, const struct tapiq_sqe *e, uint32_t *pos)
{
    /* relaxed: our own tail, the position the push takes. */
    uint32_t t = (uint32_t)atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (!tapiq_sq_push_spsc_id(q, e->handle, e->dev, e->lamp, e->mode))
        return -EAGAIN;
    *pos = t;
    return 0;
}

/* tapiq_sq_push_mpsc - append @e; any number of producers; lock-free.
 * Ordering as push_spsc. Returns 0 with *pos, or -EAGAIN when full. */
int tapiq_sq_push_mpsc(struct tapiq_sq *q, const struct tapiq_sqe *e, uint32_t *pos);

/* tapiq_sq_avail - entries published from position @rd on (consumer only).
 * Ordering: acquire; the entries counted are visible. Wait-free. */
static inline uint32_t tapiq_sq_avail(struct tapiq_sq *q, uint32_t rd, uint32_t max)
{
    uint32_t n = 0;
    if (!q->mpsc) {
        /* acquire: pairs with the release store of tail in push_spsc(). */
        n = (uint32_t)atomic_load_explicit(&q->tail, memory_order_acquire) - rd;
        return n < max ? n : max;
    }
    /* acquire: pairs with the release store of seq in push_mpsc(). */
    while (n < max &&
           atomic_load_explicit(&q->seq[(rd + n) & q->mask], memory_order_acquire) == rd + n + 1)
        n++;
    return n;
}

/* Anything published beyond @rd? (consumer only; for the sleep re-check) */
static inline int tapiq_sq_nonempty(struct tapiq_sq *q, uint32_t rd)
{
    return tapiq_sq_avail(q, rd, 1) != 0;
}

static inline const struct tapiq_sqe *tapiq_sq_entry(const struct tapiq_sq *q, uint32_t pos)
{
    return &q->e[pos & q->mask];
}

/* tapiq_sq_release - positions [@from, @to) are free again (consumer only).
 * Ordering: release; our reads of those entries happen-before the producer's
 * reuse. Wait-free. */
void tapiq_sq_release(struct tapiq_sq *q, uint32_t from, uint32_t to);

/* An SPSC ring's producer found it full (a request refused with
 * RESOURCEUNAVAIL): counted on the producer's own line, no locked
 * instruction. Relaxed: a statistic; one writer at a time (a pool slot
 * changes hands through the release/acquire pair of issuer.c). */
static inline void tapiq_sq_count_full(struct tapiq_sq *q)
{
    atomic_store_explicit(&q->nfull, atomic_load_explicit(&q->nfull, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Pushes refused so far (tapiq_sq_count_full(); any thread, relaxed). */
static inline uint64_t tapiq_sq_full_count(struct tapiq_sq *q)
{
    return atomic_load_explicit(&q->nfull, memory_order_relaxed);
}

/* Entries pushed so far (statistics; any thread, relaxed). */
static inline uint64_t tapiq_sq_pushed(struct tapiq_sq *q)
{
    return atomic_load_explicit(&q->tail, memory_order_relaxed);
}

#endif /* TAPIQ_CORE_SQ_H */
