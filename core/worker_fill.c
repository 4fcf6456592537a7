/* core/worker_fill.c - the worker module, continued: a device's pending
 * requests become one batch, coalesced per lamp (the last request for a
 * lamp wins) and per attribute (core/batch_attrs.h); see worker.h. Only
 * the device's worker runs this (nothing here is shared). */
#include <errno.h>
#include <string.h>

#include "core/batch_attrs.h"
#include "core/device.h"
#include "core/worker.h"

#define FILL_SCAN_MAX 8u /* batches of up to this many requests coalesce by a scan */

/* lamp_pos entries are stamp | index: an entry of an earlier batch has
 * another stamp, so no batch has to clear the entries it set. A fresh stamp
 * for a batch of @dev; every 65,535 batches the stamps wrap and the array
 * is cleared once. */
static inline uint32_t lamp_pos_stamp(struct tapiq_dev *dev, uint32_t *lamp_pos)
{
    if (__builtin_expect(++dev->lp_gen == 0, 0)) {
        memset(lamp_pos, 0, sizeof(*lamp_pos) * (dev->nlamps ? dev->nlamps : 1));
        dev->lp_gen = 1;
    }
    return (uint32_t)dev->lp_gen << 16;
}

/* Lamp request @e (cell @cell) into batch @b: coalesced per lamp, the last
 * request wins. */
static inline __attribute__((always_inline)) void add_lamp(struct tapiq_worker *wk,
                                                           struct tapiq_batch *b, uint32_t cell,
                                                           const struct tapiq_sqe *e,
                                                           uint32_t stamp)
{
    uint32_t *lamp_pos = tapiq_batch_lamp_pos(b), pos = lamp_pos[e->lamp];
    if ((pos & 0xffff0000u) != stamp) {
        pos = b->nupd++;
        lamp_pos[e->lamp] = stamp | pos;
        b->upd[pos].lamp = e->lamp;
        b->upd[pos].status = -EIO; /* until the backend says otherwise */
    } else {
        pos &= 0xffffu;
    }
    b->upd[pos].mode = e->mode;
    wk->upd_idx[cell] = (uint16_t)pos;
}

/* From request @k (cell @cell) on, a batch with attribute requests: lamps
 * as above, attributes coalesced by core/batch_attrs.h. When the batch has
 * no room for another attribute update, the requests from there on wait
 * for the next batch, in order. Returns the requests taken; *cellp: the
 * first one left. */
static __attribute__((noinline)) uint32_t fill_mixed(struct tapiq_worker *wk,
                                                     struct tapiq_dev *dev,
                                                     struct tapiq_batch *b, uint32_t k,
                                                     uint32_t n, uint32_t *cellp,
                                                     uint32_t *nattr_reqs, uint32_t stamp)
{
    uint32_t cell = *cellp;
    for (; k < n; k++) {
        const struct tapiq_sqe *e = tapiq_worker_entry(wk, cell);
        if (e->lamp == TAPIQ_SQE_ATTR) {
            if (tapiq_battr_add(wk, dev, b, e->mode))
                break; /* no room: the rest waits */
            ++*nattr_reqs;
        } else {
            add_lamp(wk, b, cell, e, stamp);
        }
        cell = wk->next[cell];
    }
    tapiq_battr_seal(wk, b);
    *cellp = cell;
    return k;
}

/* Several pending requests (or an attribute request) of @dev into its
 * batch. Lamp requests run a loop of their own (no call in it, the arrays
 * in locals: its stores cannot move them) until the first attribute
 * request, if any. */
void tapiq_worker_fill(struct tapiq_worker *wk, struct tapiq_dev *dev, struct tapiq_batch *b)
{
    uint32_t cell = dev->pend_first, n = dev->npend, k = 0, nattr_reqs = 0, nupd = 0, stamp = 0;
    const struct tapiq_sqe *ent = wk->ent;
    const uint32_t *next = wk->next;
    uint16_t *upd_idx = wk->upd_idx;
    uint32_t *lamp_pos = tapiq_batch_lamp_pos(b);
    tapiq_update *upd = b->upd = dev->upd_arena;
    if (n <= FILL_SCAN_MAX) {
        /* A few requests (many consoles, each with little to do): coalesce
         * by a scan of the updates written so far, not through lamp_pos,
         * one cache line fewer per batch. */
        for (; k < n; k++) {
            const struct tapiq_sqe *e = &ent[cell];
            uint32_t lamp = e->lamp, pos = 0;
            if (__builtin_expect(lamp == TAPIQ_SQE_ATTR, 0))
                break;
            while (pos < nupd && upd[pos].lamp != lamp)
                pos++;
            if (pos == nupd) {
                nupd++;
                upd[pos].lamp = lamp;
                upd[pos].status = -EIO; /* until the backend says otherwise */
            }
            upd[pos].mode = e->mode; /* last request wins */
            upd_idx[cell] = (uint16_t)pos;
            cell = next[cell];
        }
        if (k < n) { /* fill_mixed() goes on through lamp_pos */
            stamp = lamp_pos_stamp(dev, lamp_pos);
            for (uint32_t i = 0; i < nupd; i++)
                lamp_pos[upd[i].lamp] = stamp | i;
        }
    } else {
        stamp = lamp_pos_stamp(dev, lamp_pos);
        for (; k < n; k++) {
            const struct tapiq_sqe *e = &ent[cell];
            uint32_t lamp = e->lamp, pos;
            if (__builtin_expect(lamp == TAPIQ_SQE_ATTR, 0))
                break;
            pos = lamp_pos[lamp];
            if ((pos & 0xffff0000u) != stamp) {
                pos = nupd++;
                lamp_pos[lamp] = stamp | pos;
                upd[pos].lamp = lamp;
                upd[pos].status = -EIO; /* until the backend says otherwise */
            } else {
                pos &= 0xffffu;
            }
            upd[pos].mode = e->mode; /* last request wins */
            upd_idx[cell] = (uint16_t)pos;
            cell = next[cell];
        }
    }
    b->nupd = nupd;
    if (k < n)
        k = fill_mixed(wk, dev, b, k, n, &cell, &nattr_reqs, stamp);
    b->nreqs = k;
    dev->npend = n - k;
    dev->pend_first = cell; /* the first request left for the next batch, if any */
    wk->c[TAPIQ_W_COALESCED] += k - nattr_reqs - b->nupd;
}
