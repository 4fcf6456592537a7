/* core/reqid.c - request slots and ids; see reqid.h. */
#include "core/alloc.h"
#include "core/reqid.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

/* Slot i's first id: generation 1. */
static void first_id(void *arg, size_t i, uint64_t *out)
{
    const struct tapiq_reqid *r = arg;
    *out = (uint64_t)1 << r->idx_bits | i;
}

TAPIQ_NO_COVERAGE int tapiq_reqid_init(struct tapiq_reqid *r, uint32_t nslots)
{
    int rc;
    if (nslots == 0 || nslots > (1u << 24))
        return -EINVAL;
    r->idx_bits = 1;
    while ((1u << r->idx_bits) < nslots)
        r->idx_bits++;
    r->idx_mask = (1u << r->idx_bits) - 1;
    r->gen_max = (1u << (31 - r->idx_bits)) - 1;
    r->nslots = nslots;
    rc = tapiq_mpmc_init(&r->free, nslots);
    if (rc)
        return rc;
    tapiq_mpmc_fill(&r->free, first_id, r, nslots);
    return 0;
}

void tapiq_reqid_destroy(struct tapiq_reqid *r)
{
    tapiq_mpmc_destroy(&r->free);
}

void tapiq_reqid_free_bulk(struct tapiq_reqid *r, const uint32_t *ids, size_t n)
{
    uint64_t idx[64];
    while (n) {
        size_t k = n < 64 ? n : 64, done = 0;
        for (size_t i = 0; i < k; i++)
            idx[i] = tapiq_reqid_next(r, ids[i]);
        /* The ring has room for every slot, so this fits; it can only come
         * up short while a preempted consumer still reads the cell a lap
         * behind, which we let run. */
        for (;;) {
            done += tapiq_mpmc_push_try(&r->free, idx + done, k - done);
            if (done == k)
                break;
            sched_yield();
        }
        ids += k;
        n -= k;
    }
}
