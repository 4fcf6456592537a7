/* core/sq.c - submission rings; see sq.h. */
#include "core/sq.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

TAPIQ_NO_COVERAGE int tapiq_sq_init_at(struct tapiq_sq *q, uint32_t size, int mpsc,
                                       uint32_t idbase, uint32_t idmask, struct tapiq_sqe *e)
{
    memset(q, 0, sizeof(*q));
    if (mpsc && size < 2)
        return -EINVAL; /* see the invariants in sq.h */
    memset(e, 0, sizeof(*e) * size);
    if (mpsc) {
        q->seq = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*q->seq) * size);
        if (!q->seq)
            return -ENOMEM;
        for (uint32_t i = 0; i < size; i++)
            atomic_init(&q->seq[i], i);
    }
    q->e = e;
    q->mask = size - 1;
    q->mpsc = mpsc ? 1 : 0;
    q->idbase = idbase;
    q->idmask = idmask;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    return 0;
}

TAPIQ_NO_COVERAGE int tapiq_sq_init(struct tapiq_sq *q, uint32_t size, int mpsc, uint32_t idbase,
                                    uint32_t idmask)
{
    struct tapiq_sqe *e;
    int rc;
    memset(q, 0, sizeof(*q));
    if (mpsc && size < 2)
        return -EINVAL; /* see the invariants in sq.h */
    e = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*e) * size);
    if (!e)
        return -ENOMEM;
    rc = tapiq_sq_init_at(q, size, mpsc, idbase, idmask, e);
    if (rc) {
        free(e);
        return rc;
    }
    q->own_e = 1;
    return 0;
}

void tapiq_sq_destroy(struct tapiq_sq *q)
{
    if (q->own_e)
        free(q->e);
    free(q->seq);
    q->e = NULL;
    q->seq = NULL;
}

int tapiq_sq_push_mpsc(struct tapiq_sq *q, const struct tapiq_sqe *e, uint32_t *pos)
{
    /* relaxed: the CAS elects the owner; the entry is published by seq. */
    uint64_t t64 = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint32_t t;
    for (;;) {
        t = (uint32_t)t64;
        /* acquire: pairs with the release store of seq in tapiq_sq_release(),
         * so the worker's reads of the cell happen-before our write. */
        int32_t d = (int32_t)(atomic_load_explicit(&q->seq[t & q->mask], memory_order_acquire) - t);
        if (d == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->tail, &t64, t64 + 1,
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (d < 0) {
            return -EAGAIN;
        } else {
            t64 = atomic_load_explicit(&q->tail, memory_order_relaxed);
        }
    }
    q->e[t & q->mask] = *e;
    q->e[t & q->mask].id = tapiq_sq_id(q, t);
    /* release: publishes the entry; pairs with the acquire in tapiq_sq_avail(). */
    atomic_store_explicit(&q->seq[t & q->mask], t + 1, memory_order_release);
    *pos = t;
    return 0;
}

void tapiq_sq_release(struct tapiq_sq *q, uint32_t from, uint32_t to)
{
    if (q->mpsc)
        for (uint32_t p = from; p != to; p++)
            /* release: pairs with the acquire load of seq in push_mpsc(). */
            atomic_store_explicit(&q->seq[p & q->mask], p + q->mask + 1, memory_order_release);
    /* release: pairs with the acquire load of head in push_spsc(). */
    atomic_store_explicit(&q->head, to, memory_order_release);
}
