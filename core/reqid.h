/* core/reqid.h - request slots and request ids.
 *
 * A request id is a slot index plus that slot's generation:
 *   id = gen << idx_bits | index,   gen in 1 .. 2^(31 - idx_bits) - 1
 * so ids are 1 .. 0x7FFFFFFF and never 0, and two requests in flight never
 * share an id whatever happens to other slots meanwhile: a slot is held from
 * allocation until its request is finished, and indices are distinct.
 * The free slots live in a bounded MPMC ring (core/mpmc.h); callers keep
 * per-thread caches on top (runtime.c) so the shared ring is touched once
 * per batch, not once per request.
 *
 * Synchronization table:
 *                  alloc_bulk  free_bulk  init/destroy
 *   alloc_bulk     yes         yes        no
 *   free_bulk      yes         yes        no
 * Progress: alloc_bulk and free_bulk are lock-free (the ring's); they never
 * wait for another thread.
 * Invariants: exactly @nslots slots exist; each is either in the ring or held
 * by exactly one owner; gen[i] is written only by the slot's owner, between
 * the pop that gave it (acquire) and the push that returns it (release).
 */
#ifndef TAPIQ_CORE_REQID_H
#define TAPIQ_CORE_REQID_H

#include <stddef.h>
#include <stdint.h>

#include "core/mpmc.h"

struct tapiq_reqid {
    struct tapiq_mpmc free;
    uint32_t *gen;     /* per slot, owned by the slot's holder */
    uint32_t nslots;
    uint32_t idx_bits; /* ceil(log2(nslots)), at least 1 */
    uint32_t idx_mask;
    uint32_t gen_max;  /* 2^(31 - idx_bits) - 1 */
};

/* 1 <= nslots <= 2^24. Returns 0, -EINVAL, -ENOMEM. */
int tapiq_reqid_init(struct tapiq_reqid *r, uint32_t nslots);
void tapiq_reqid_destroy(struct tapiq_reqid *r);

/* tapiq_reqid_alloc_bulk - take up to @n free slots, giving each a new id.
 * Concurrency: any; lock-free. Ownership: the caller holds the slots until it
 * passes their ids to free_bulk. Returns how many ids were written (0: none
 * free). */
size_t tapiq_reqid_alloc_bulk(struct tapiq_reqid *r, uint32_t *ids, size_t n);

/* tapiq_reqid_free_bulk - give back slots by id (any id of the current
 * generation). Concurrency: any; lock-free; never fails (the ring has room for
 * every slot). */
void tapiq_reqid_free_bulk(struct tapiq_reqid *r, const uint32_t *ids, size_t n);

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
