/* core/reqid.h - request slots and request ids.
 *
 * A request id is a slot index plus that slot's generation:
 *   id = gen << idx_bits | index,   gen in 1 .. 2^(31 - idx_bits) - 1
 * so ids are 1 .. 0x7FFFFFFF and never 0, and two requests in flight never
 * share an id whatever happens to other slots meanwhile: a slot is held from
 * allocation until its request is finished, and indices are distinct.
 * The free slots live in a bounded MPMC ring (core/mpmc.h) as the id their
 * next request will have: freeing computes the next generation, so taking ids
 * is a plain bulk pop. Callers keep per-thread caches on top (tapi.c) so the
 * shared ring is touched once per batch, not once per request.
 *
 * Synchronization table:
 *                  alloc_bulk  free_bulk  init/destroy
 *   alloc_bulk     yes         yes        no
 *   free_bulk      yes         yes        no
 * Progress: alloc_bulk and free_bulk are lock-free (the ring's); they never
 * wait for another thread.
 * Invariants: exactly @nslots slots exist; each is either in the ring (as
 * its next id) or held by exactly one owner (as its current id).
 */
#ifndef TAPIQ_CORE_REQID_H
#define TAPIQ_CORE_REQID_H

#include <stddef.h>
#include <stdint.h>

#include "core/mpmc.h"

struct tapiq_reqid {
    struct tapiq_mpmc free; /* next ids of the free slots */
    uint32_t nslots;
    uint32_t idx_bits; /* ceil(log2(nslots)), at least 1 */
    uint32_t idx_mask;
    uint32_t gen_max;  /* 2^(31 - idx_bits) - 1 */
};

/* 1 <= nslots <= 2^24. Returns 0, -EINVAL, -ENOMEM. */
int tapiq_reqid_init(struct tapiq_reqid *r, uint32_t nslots);
void tapiq_reqid_destroy(struct tapiq_reqid *r);

/* tapiq_reqid_alloc_bulk64 - take up to @n free slots, giving each a new id.
 * Concurrency: any; lock-free. Ownership: the caller holds the slots until it
 * passes their ids to free_bulk. Returns how many ids were written (0: none
 * free). */
static inline size_t tapiq_reqid_alloc_bulk64(struct tapiq_reqid *r, uint64_t *ids, size_t n)
{
    return tapiq_mpmc_pop_try(&r->free, ids, n);
}

/* The same, into 32-bit ids. */
static inline size_t tapiq_reqid_alloc_bulk(struct tapiq_reqid *r, uint32_t *ids, size_t n)
{
    uint64_t v[64];
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < 64 ? n - got : 64;
        size_t k = tapiq_mpmc_pop_try(&r->free, v, want);
        for (size_t i = 0; i < k; i++)
            ids[got + i] = (uint32_t)v[i];
        got += k;
        if (k < want)
            break;
    }
    return got;
}

/* tapiq_reqid_free_bulk - give back slots by id (any id of the current
 * generation). Concurrency: any; lock-free; never fails (the ring has room for
 * every slot). */
void tapiq_reqid_free_bulk(struct tapiq_reqid *r, const uint32_t *ids, size_t n);

/* The id the slot of @id gets next (generation + 1, skipping 0). */
static inline uint32_t tapiq_reqid_next(const struct tapiq_reqid *r, uint32_t id)
{
    uint32_t g = (id >> r->idx_bits) + 1;
    if (g > r->gen_max)
        g = 1;
    return g << r->idx_bits | (id & r->idx_mask);
}

static inline uint32_t tapiq_reqid_index(const struct tapiq_reqid *r, uint32_t id)
{
    return id & r->idx_mask;
}

/* Slots in use right now (estimate while others allocate and free). */
static inline uint32_t tapiq_reqid_in_use(struct tapiq_reqid *r)
{
    return r->nslots - (uint32_t)tapiq_mpmc_count(&r->free);
}

#endif /* TAPIQ_CORE_REQID_H */
