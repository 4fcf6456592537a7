/* core/cq.h - a completion queue: one worker's replies to one application.
 *
 * Single producer (the worker that owns the queue), any number of consumers
 * (the application's threads in phoneGetMessage, or its callback thread).
 * The producer checks room before posting and never overwrites an entry a
 * consumer may still take (io_uring's no-drop rule: a worker that finds no
 * room keeps the reply and retries; it never drops it). A consumer takes a
 * run of entries by reading them, then moving head with one CAS.
 *
 * Synchronization table:
 *               post   take   room   pending
 *   post        no     yes    no     yes
 *   take        yes    yes    yes    yes
 * (room/post, and put/publish, the two halves of post: the producer only;
 * take and its three steps head/read/commit: any consumer.)
 * Progress: post and room are wait-free; take is lock-free (a CAS that fails
 * only because another consumer took the same entries); pending is wait-free.
 * Invariants: size a power of two, capacity exactly size; uint32_t positions
 * compared by difference; tail - head <= size.
 * Entries are two 64-bit atomic words: a consumer may read an entry that
 * another consumer takes and the producer then reuses; its CAS fails and it
 * discards what it read, so every access is to an atomic (no data race).
 */
#ifndef TAPIQ_CORE_CQ_H
#define TAPIQ_CORE_CQ_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"

struct tapiq_cqe {
    uint32_t handle; /* HPHONE */
    uint32_t msg;    /* PHONE_REPLY */
    uint32_t p1;     /* request id */
    uint32_t p2;     /* status (LONG) */
};

struct tapiq_cq {
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t tail; /* producer */
    uint32_t head_cache;                            /* producer's view of head */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t head; /* consumers */
    alignas(TAPIQ_CACHELINE) uint32_t mask;
    _Atomic uint64_t (*e)[2];
};

int tapiq_cq_init(struct tapiq_cq *q, uint32_t size);
void tapiq_cq_destroy(struct tapiq_cq *q);

/* Room for posting from position @t (the tail, or beyond it where entries
 * are put and not yet published), producer only; the cached head is
 * reloaded only when it shows less than @want. Ordering: acquire on head,
 * pairs with the release CAS in tapiq_cq_commit(): consumers' reads of
 * entries happen-before our reuse. */
static inline uint32_t tapiq_cq_room_at(struct tapiq_cq *q, uint32_t t, uint32_t want)
{
    uint32_t room = q->mask + 1 - (t - q->head_cache);
    if (room < want) {
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        room = q->mask + 1 - (t - q->head_cache);
    }
    return room;
}

/* Room from the tail. */
/* The producer's own tail (producer only; relaxed: it alone writes it). */
static inline uint32_t tapiq_cq_tail_own(struct tapiq_cq *q)
{
    return atomic_load_explicit(&q->tail, memory_order_relaxed);
}

static inline uint32_t tapiq_cq_room(struct tapiq_cq *q, uint32_t want)
{
    return tapiq_cq_room_at(q, tapiq_cq_tail_own(q), want);
}

/* The queue's entries and mask, for a loop that keeps them in locals
 * (tapiq_cq_put_at(), tapiq_cq_read_at()): not reloaded after every store. */
struct tapiq_cq_slots {
    _Atomic uint64_t (*e)[2];
    uint32_t mask;
};

static inline struct tapiq_cq_slots tapiq_cq_slots(const struct tapiq_cq *q)
{
    struct tapiq_cq_slots w = {q->e, q->mask};
    return w;
}

/* Write an entry at position @t, at or after the tail and within the room
 * tapiq_cq_room_at() gave (producer only). Consumers do not see it before
 * tapiq_cq_publish() moves the tail past it: a producer writes a run of
 * replies in place and publishes them with one store. */
static inline void tapiq_cq_put_at(struct tapiq_cq_slots w, uint32_t t, uint32_t handle,
                                   uint32_t msg, uint32_t p1, uint32_t p2)
{
    _Atomic uint64_t *c = w.e[t & w.mask];
    /* relaxed: published by the release store of tail in tapiq_cq_publish(). */
    atomic_store_explicit(&c[0], (uint64_t)handle | (uint64_t)msg << 32, memory_order_relaxed);
    atomic_store_explicit(&c[1], (uint64_t)p1 | (uint64_t)p2 << 32, memory_order_relaxed);
}

static inline void tapiq_cq_put(struct tapiq_cq *q, uint32_t t, uint32_t handle, uint32_t msg,
                                uint32_t p1, uint32_t p2)
{
    tapiq_cq_put_at(tapiq_cq_slots(q), t, handle, msg, p1, p2);
}

/* Entries put below @t become visible (producer only). Ordering: release;
 * pairs with the acquire load of tail in tapiq_cq_tail(). */
static inline void tapiq_cq_publish(struct tapiq_cq *q, uint32_t t)
{
    atomic_store_explicit(&q->tail, t, memory_order_release);
}

/* Post @n entries for which tapiq_cq_room() said there is room: put and
 * publish (the ordering of tapiq_cq_publish()). */
static inline void tapiq_cq_post(struct tapiq_cq *q, const struct tapiq_cqe *m, uint32_t n)
{
    uint32_t t = tapiq_cq_tail_own(q);
    for (uint32_t i = 0; i < n; i++)
        tapiq_cq_put(q, t + i, m[i].handle, m[i].msg, m[i].p1, m[i].p2);
    tapiq_cq_publish(q, t + n);
}

/* The tail now (acquire: entries before it are visible). */
static inline uint32_t tapiq_cq_tail(struct tapiq_cq *q)
{
    return atomic_load_explicit(&q->tail, memory_order_acquire);
}

/* Entries not taken (for a queue nobody uses any more). */
static inline uint32_t tapiq_cq_count_quiescent(struct tapiq_cq *q)
{
    /* relaxed: no producer or consumer is left. */
    return atomic_load_explicit(&q->tail, memory_order_relaxed) -
           atomic_load_explicit(&q->head, memory_order_relaxed);
}

static inline int tapiq_cq_pending(struct tapiq_cq *q)
{
    /* acquire on tail, relaxed on head: a hint for waits and poll levels. */
    return tapiq_cq_tail(q) != atomic_load_explicit(&q->head, memory_order_relaxed);
}

/* A take in place, in three steps (consumers): tapiq_cq_head(), then
 * tapiq_cq_read() of entries from there up to a limit read by
 * tapiq_cq_tail(), then tapiq_cq_commit() of how many were read. What was
 * read counts only if the commit succeeds; when it fails (another consumer
 * took them first) the head it returns is where to read again. */
static inline uint32_t tapiq_cq_head(struct tapiq_cq *q)
{
    /* relaxed: tapiq_cq_commit()'s CAS validates what is read from here. */
    return atomic_load_explicit(&q->head, memory_order_relaxed);
}

/* Read the entry at @pos (a consumer, below a limit read by tapiq_cq_tail()). */
static inline void tapiq_cq_read_at(struct tapiq_cq_slots s, uint32_t pos, struct tapiq_cqe *out)
{
    _Atomic uint64_t *w = s.e[pos & s.mask];
    /* relaxed: made visible by the acquire load of tail that gave the
     * limit; validated by the commit. */
    uint64_t a = atomic_load_explicit(&w[0], memory_order_relaxed);
    uint64_t b = atomic_load_explicit(&w[1], memory_order_relaxed);
    out->handle = (uint32_t)a;
    out->msg = (uint32_t)(a >> 32);
    out->p1 = (uint32_t)b;
    out->p2 = (uint32_t)(b >> 32);
}

static inline void tapiq_cq_read(struct tapiq_cq *q, uint32_t pos, struct tapiq_cqe *out)
{
    tapiq_cq_read_at(tapiq_cq_slots(q), pos, out);
}

/* Take the @n entries read from *@h on: 1; or 0 with *@h the head now. */
static inline int tapiq_cq_commit(struct tapiq_cq *q, uint32_t *h, uint32_t n)
{
    /* release: our reads of the entries happen-before the producer reuses
     * them (its acquire load in tapiq_cq_room_at()). */
    return atomic_compare_exchange_weak_explicit(&q->head, h, *h + n, memory_order_release,
                                                 memory_order_relaxed);
}

/* tapiq_cq_take - take up to @max entries below position @limit (a tail
 * read earlier by tapiq_cq_tail()), copied to @out: the three steps above.
 * Returns how many were taken. */
uint32_t tapiq_cq_take(struct tapiq_cq *q, struct tapiq_cqe *out, uint32_t max, uint32_t limit);

/* tapiq_cq_take1 - one try at taking the entry at @h, a head read by
 * tapiq_cq_head() below a tail read by tapiq_cq_tail() (the caller checked),
 * inline for phoneGetMessage's fast path. Same ordering as tapiq_cq_take().
 * Returns 1 (taken, copied to @out), or 0 when another consumer took it
 * first (the caller's full path goes on with tapiq_cq_take()'s loop; one
 * try keeps the fast path's registers few). */
static inline int tapiq_cq_take1(struct tapiq_cq *q, struct tapiq_cqe *out, uint32_t h)
{
    tapiq_cq_read(q, h, out);
    return tapiq_cq_commit(q, &h, 1);
}

#endif /* TAPIQ_CORE_CQ_H */
