/* core/worker_setup.c - the worker module, continued: a worker's arrays
 * and its payload pool, set up before the runtime is published and freed
 * after the workers stopped (no other thread sees them meanwhile); see
 * worker.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/payload.h"
#include "core/worker.h"

int tapiq_worker_init(struct tapiq_worker *wk, struct tapiq_rt *rt, uint32_t w)
{
    uint32_t ncells, held;
    memset(wk, 0, sizeof(*wk));
    wk->rt = rt;
    wk->w = w;
    wk->cur = &wk->nopost; /* happ 0: no application */
    wk->nrings = rt->nslots + 1;
    wk->mask = rt->sq_size - 1;
    while ((1u << wk->sbits) < rt->sq_size)
        wk->sbits++;
    ncells = wk->nrings << wk->sbits;
    held = 1;
    while (held < ncells)
        held <<= 1;
    wk->held_mask = held - 1;
    wk->maxtouched = rt->cfg.devices / rt->cfg.workers + 1;
    wk->ring = tapiq_calloc(wk->nrings, sizeof(*wk->ring));
    wk->ent = rt->sqe + (size_t)w * wk->nrings * rt->sq_size; /* runtime.c */
    wk->upd_idx = tapiq_calloc(ncells, sizeof(*wk->upd_idx));
    wk->rd = tapiq_calloc(wk->nrings, sizeof(*wk->rd));
    wk->rel = tapiq_calloc(wk->nrings, sizeof(*wk->rel));
    wk->fin = tapiq_calloc(ncells, 1);
    wk->next = tapiq_calloc(ncells, sizeof(*wk->next));
    wk->touched = tapiq_calloc(wk->maxtouched, sizeof(*wk->touched));
    wk->single = tapiq_calloc(wk->maxtouched, sizeof(*wk->single));
    wk->held = tapiq_calloc(held, sizeof(*wk->held));
    if (!wk->ring || !wk->upd_idx || !wk->rd || !wk->rel || !wk->fin || !wk->next ||
        !wk->touched || !wk->single || !wk->held ||
        tapiq_pool_init(wk->pool = &rt->pools[w], rt->cfg.payloads, rt->cfg.payload_bytes)) {
        tapiq_worker_destroy(wk);
        return -ENOMEM;
    }
    memset(wk->fin, 1, ncells); /* odd: finished in the lap before the first */
    for (uint32_t r = 0; r < wk->nrings; r++) {
        wk->ring[r] = &rt->sq[(size_t)r * rt->cfg.workers + w];
        wk->ring[r]->consumer = wk; /* before any issuer: the runtime is not published */
    }
    if (w == 0)
        atomic_init(&rt->stop, 0);
    atomic_init(&wk->sleeping, 0);
    atomic_init(&wk->done, NULL);
    for (int i = 0; i < TAPIQ_W_MAX; i++)
        atomic_init(&wk->ctr[i], 0);
    return 0;
}

void tapiq_worker_destroy(struct tapiq_worker *wk)
{
    free(wk->ring);
    free(wk->upd_idx);
    wk->ent = NULL;
    wk->upd_idx = NULL;
    free(wk->rd);
    free(wk->rel);
    free(wk->fin);
    free(wk->next);
    free(wk->touched);
    free(wk->single);
    free(wk->held);
    if (wk->pool)
        tapiq_pool_destroy(wk->pool);
    wk->pool = NULL;
    wk->ring = NULL;
    wk->rd = wk->rel = wk->next = NULL;
    wk->fin = NULL;
    wk->touched = wk->single = NULL;
    wk->held = NULL;
}
