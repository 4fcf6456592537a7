/* core/worker.c - workers: rings drained, rounds, completion; see worker.h. */
#include "core/worker.h"
#include "core/worker_reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/result.h"
#include "core/app.h"
#include "core/batch_attrs.h"
#include "core/device.h"
#include "core/handle.h"
#include "core/issuer.h"

#define DRAIN_MAX 1024u   /* entries taken from one ring per round */
#define REPLY_RUN_MIN 4u  /* batches of fewer requests reply one by one */

/* The worker whose round runs on this thread (inline completions). */
static TAPIQ_TLS struct tapiq_worker *t_worker;

/* ------------------------------------------------------------- completion */

TAPIQ_API tapiq_update *tapiq_batch_updates(tapiq_batch *b, size_t *count)
{
    if (count)
        *count = b->nupd;
    return b->upd;
}

TAPIQ_API tapiq_attr *tapiq_batch_attrs(tapiq_batch *b, size_t *count)
{
    if (count)
        *count = b->nattr;
    return tapiq_batch_attr_array(b);
}

/* @b is complete on the worker's own thread (inside apply(), or
 * apply_sync() returned): it completes in this round. */
static inline void done_local(struct tapiq_worker *wk, struct tapiq_batch *b)
{
    b->next_done = wk->local_done;
    wk->local_done = b;
}

TAPIQ_API void tapiq_batch_complete(tapiq_batch *b)
{
    struct tapiq_rt *rt = b->rt;
    struct tapiq_worker *wk = &rt->workers[tapiq_batch_dev(b)->worker];
    struct tapiq_batch *head;
    if (t_worker == wk) {
        done_local(wk, b);
        return;
    }
    /* relaxed load, release CAS: the backend's writes to the batch happen-
     * before the worker's acquire exchange in tapiq_worker_round(). */
    head = atomic_load_explicit(&wk->done, memory_order_relaxed);
    do
        b->next_done = head;
    while (!atomic_compare_exchange_weak_explicit(&wk->done, &head, b, memory_order_release,
                                                  memory_order_relaxed));
    /* seq_cst: the push is ordered before the load of sleeping; pairs with
     * the heavy fence in worker_sleep(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&wk->sleeping, memory_order_relaxed))
        tapiq_worker_wake(wk);
}

/* Has application @happ replies held since the last retry_held()? */
static int held_has(const struct tapiq_worker *wk, uint32_t happ)
{
    if (wk->held_all)
        return 1;
    for (uint32_t i = 0; i < wk->nheld_app; i++)
        if (wk->held_app[i] == happ)
            return 1;
    return 0;
}

/* Application @happ has replies held (since the last retry_held()). */
static void held_mark(struct tapiq_worker *wk, uint32_t happ)
{
    if (held_has(wk, happ))
        return;
    if (wk->nheld_app < TAPIQ_WORKER_APPS)
        wk->held_app[wk->nheld_app++] = happ;
    else
        wk->held_all = 1;
}

void tapiq_worker_hold(struct tapiq_worker *wk, uint32_t happ, uint32_t cell, int32_t st)
{
    struct tapiq_held *h = &wk->held[wk->held_tail++ & wk->held_mask];
    h->cell = cell;
    h->status = st;
    held_mark(wk, happ);
}

static void release(struct tapiq_worker *wk);

/* The replies written since the last publish become visible: the ring
 * positions of every finished request are released first (an application
 * that has a reply finds room for a new request; the ids stay distinct: see
 * sq.h), then each application's completion queue gets its new tail and its
 * wake-up. In a read-side section (the applications in post[] stay). */
void tapiq_worker_publish(struct tapiq_worker *wk)
{
    uint32_t total = 0;
    release(wk);
    for (uint32_t i = 0; i < wk->npost; i++) {
        struct tapiq_wpost *p = &wk->post[i];
        uint32_t n = p->t - tapiq_cq_tail_own(p->cq);
        if (n) {
            tapiq_cq_publish(p->cq, p->t);
            tapiq_cring_notify(p->ring);
            total += n;
        }
    }
    wk->npost = 0;
    wk->unpub = 0;
    wk->cur = &wk->nopost;
    /* Counted once published: statistics that say nothing is in flight mean
     * every reply can be read (they may lag behind the replies a moment). */
    wk->c[TAPIQ_W_REPLIES] += total;
    tapiq_worker_publish_counters(wk);
}

/* The post[] entry of application @happ, added if it has none yet
 * (publishing first when post[] is full); NULL: the application is gone. */
struct tapiq_wpost *tapiq_worker_post_find(struct tapiq_worker *wk, uint32_t happ)
{
    struct tapiq_app *app;
    struct tapiq_wpost *p;
    for (uint32_t i = 0; i < wk->npost; i++)
        if (wk->post[i].happ == happ)
            return wk->cur = &wk->post[i];
    app = tapiq_app_lookup(wk->rt, happ);
    if (!app)
        return NULL;
    if (wk->npost == TAPIQ_WORKER_APPS)
        tapiq_worker_publish(wk);
    p = &wk->post[wk->npost++];
    p->cq = &app->cq[wk->w];
    p->ring = &app->ring;
    p->happ = happ;
    p->t = tapiq_cq_tail_own(p->cq);
    /* An application with replies held: its later replies wait behind
     * them (full, no room), until the next retry_held(). */
    p->full = held_has(wk, happ);
    p->room = p->full ? 0 : tapiq_cq_room_at(p->cq, p->t, 1);
    return wk->cur = p;
}

/* Is a retry of the held replies worth its round: has one of their
 * applications room for an eighth of its queue (or for every held reply),
 * or is one gone? Posting them a few at a time, as the reader frees room,
 * would cost a publish and a wake-up per few replies while the queue still
 * holds plenty to read. Always with more applications than held_app[]
 * names (held_all). In a read-side section. */
static int held_room(struct tapiq_worker *wk, uint32_t n)
{
    if (wk->held_all || wk->nheld_app == 0)
        return 1;
    for (uint32_t i = 0; i < wk->nheld_app; i++) {
        struct tapiq_app *app = tapiq_app_lookup(wk->rt, wk->held_app[i]);
        struct tapiq_cq *cq;
        uint32_t want;
        if (!app)
            return 1; /* its replies are suppressed */
        cq = &app->cq[wk->w];
        want = (cq->mask + 1) / 8 < n ? (cq->mask + 1) / 8 : n;
        if (tapiq_cq_room(cq, want) >= want)
            return 1;
    }
    return 0;
}

/* Reply to the held replies again, in order, when held_room() says so or a
 * handle was closed since the last look (tapiq_handles_closes()). Those
 * that still find no room stay held, in order, ahead of the rest. Once
 * every application that had replies held has been found without room, the
 * rest stay held without a look (each would be held again: with one such
 * application, the retry ends at its first reply without room), unless a
 * handle was closed: then every held reply is looked at, and those of
 * closed handles go. So a retry costs what it posts, not what is held. In
 * a read-side section. */
static void retry_held(struct tapiq_worker *wk)
{
    const uint32_t mask = wk->held_mask, head = wk->held_head, tail = wk->held_tail;
    const uint32_t closes = tapiq_handles_closes(wk->rt);
    /* every held reply is of an application in held_app[] (or held_all) */
    const uint32_t napps = wk->held_all || closes != wk->held_closes ? UINT32_MAX : wk->nheld_app;
    uint32_t r = head, w = head, k;
    if (napps != UINT32_MAX && !held_room(wk, tail - head))
        return;
    wk->held_closes = closes;
    /* The applications are marked again by what is kept; their post[]
     * entries of this section (none yet: it starts here) too. */
    wk->nheld_app = 0;
    wk->held_all = 0;
    while (r != tail) {
        struct tapiq_held h = wk->held[r++ & mask];
        const struct tapiq_sqe *e = tapiq_worker_entry(wk, h.cell);
        struct tapiq_handle *hs = tapiq_handle_lookup(wk->rt, e->handle);
        if (!hs) {
            suppress(wk, h.cell, e->id);
        } else if (!reply_or_keep(wk, hs->happ, h.cell, e->handle, e->id, h.status, 0)) {
            wk->held[w++ & mask] = h; /* kept: w < r */
            held_mark(wk, hs->happ);
            if (wk->nheld_app == napps)
                break; /* all without room: the rest stay */
        }
    }
    /* The kept ones [head, w) move up to just before the rest [r, tail). */
    k = w - head;
    if (r - k != head)
        for (uint32_t j = k; j-- > 0;)
            wk->held[(r - k + j) & mask] = wk->held[(head + j) & mask];
    wk->held_head = r - k;
}

/* The loop of reply_run(): replies to the requests from @cell on, in place
 * at positions t0 up to tend of queue @cq, while they are of handle @hv.
 * Request k's status is update k's (@dense: nothing was coalesced, one
 * update per request in request order, from @u on) or the one upd_idx
 * names (@u the batch's updates). A constant @dense: each caller gets a
 * copy of its own. Returns the position after the last written. */
static inline __attribute__((always_inline)) uint32_t
reply_loop(struct tapiq_worker *wk, const struct tapiq_cq_slots cq, uint32_t t0, uint32_t tend,
           uint32_t *cellp, uint32_t hv, const tapiq_update *u, const int dense, uint32_t *nfailp)
{
    /* In locals: the stores below could otherwise be the worker's fields. */
    const struct tapiq_sqe *ent = wk->ent;
    const uint32_t sbits = wk->sbits;
    const uint32_t *next = wk->next;
    const uint16_t *upd_idx = wk->upd_idx;
    uint8_t *fin = wk->fin;
    uint32_t t, cell = *cellp, nfail = 0;
    for (t = t0; t != tend; t++) {
        const struct tapiq_sqe *e = &ent[cell];
        uint32_t id = e->id;
        int32_t st;
        if (e->handle != hv)
            break;
        st = dense ? u++->status : u[upd_idx[cell]].status;
        nfail += st != 0;
        tapiq_cq_put_at(cq, t, hv, PHONE_REPLY, id, (uint32_t)st);
        fin[cell] = fin_mark_at(sbits, id);
        cell = next[cell];
    }
    *cellp = cell;
    *nfailp += nfail;
    return t;
}

/* Replies to the requests of lamp-only batch @b from @k on (cell *@cellp,
 * handle @hv of application @happ), written in one run while they share
 * the handle and the application's queue has room, all of it already
 * known: at most p->room, and no further than the next publish is due
 * (reply() does the rest, one at a time). Returns how many were written
 * (0: none, the caller replies to request k through reply()). In a
 * read-side section. */
static __attribute__((noinline)) uint32_t reply_run(struct tapiq_worker *wk, struct tapiq_batch *b,
                                                    uint32_t k, uint32_t *cellp, uint32_t hv,
                                                    uint32_t happ)
{
    struct tapiq_wpost *p = wk->cur;
    uint32_t lim, t, t0, nfail = 0;
    if (p->happ != happ || (lim = reply_room(wk, p)) == 0)
        return 0;
    if (lim > b->nreqs - k)
        lim = b->nreqs - k;
    t0 = p->t;
    if (b->nupd == b->nreqs)
        t = reply_loop(wk, tapiq_cq_slots(p->cq), t0, t0 + lim, cellp, hv, b->upd + k, 1, &nfail);
    else
        t = reply_loop(wk, tapiq_cq_slots(p->cq), t0, t0 + lim, cellp, hv, b->upd, 0, &nfail);
    p->t = t;
    p->room -= t - t0;
    wk->unpub += t - t0;
    wk->unfin -= t - t0;
    wk->c[TAPIQ_W_FAILED] += nfail;
    return t - t0;
}

/* Reply to @b's requests (or count them suppressed), in
 * order. @attrs: the batch has attribute requests (a constant, so each
 * caller gets a copy of its own: lamp-only batches pay nothing for them;
 * they reply in runs: reply_run()). */
static inline __attribute__((always_inline)) void reply_all(struct tapiq_worker *wk,
                                                            struct tapiq_batch *b, int attrs)
{
    struct tapiq_rt *rt = wk->rt;
    struct tapiq_handle *hs = NULL;
    uint32_t cell = b->first, hv = 0, happ = 0;
    for (uint32_t k = 0; k < b->nreqs;) {
        const struct tapiq_sqe *e = tapiq_worker_entry(wk, cell);
        int32_t st;
        if (e->handle != hv) { /* a batch's requests mostly share one handle */
            hv = e->handle;
            hs = tapiq_handle_lookup(rt, hv);
            happ = hs ? hs->happ : 0;
        }
        if (!attrs && hs && b->nreqs - k >= REPLY_RUN_MIN) {
            uint32_t n = reply_run(wk, b, k, &cell, hv, happ);
            if (n) {
                k += n;
                continue;
            }
        }
        st = !attrs || e->lamp != TAPIQ_SQE_ATTR ? b->upd[wk->upd_idx[cell]].status
                                                  : tapiq_battr_reply(wk, b, e->mode);
        if (st != 0)
            wk->c[TAPIQ_W_FAILED]++;
        if (hs)
            reply(wk, happ, cell, hv, e->id, st);
        else
            suppress(wk, cell, e->id);
        cell = wk->next[cell];
        k++;
    }
}

/* The end of a completion: the batch is free again, and the device is
 * listed for the next round if requests wait for it. */
static inline __attribute__((always_inline)) void batch_done(struct tapiq_worker *wk,
                                                             struct tapiq_dev *dev,
                                                             struct tapiq_batch *b)
{
    b->nreqs = 0;
    b->nupd = 0;
    dev->busy = 0;
    if (dev->npend && !dev->queued) {
        dev->queued = 1;
        wk->touched[wk->ntouched++] = dev;
    }
}

/* A batch came back: lamp state, PHONE_STATE tokens, then the replies.
 * In a read-side section. */
static void complete(struct tapiq_worker *wk, struct tapiq_batch *b)
{
    struct tapiq_rt *rt = wk->rt;
    struct tapiq_dev *dev = tapiq_batch_dev(b);
    int subs = tapiq_dev_has_subs(dev);
    tapiq_update *upd = b->upd;
    _Atomic uint8_t *lamps = tapiq_dev_lamps_worker(dev);

    for (uint32_t i = 0, n = b->nupd; i < n; i++) {
        tapiq_update *u = &upd[i];
        if (u->status != 0) /* from here on the reply's result */
            u->status = (int32_t)tapiq_provider_result(u->status);
        else if (tapiq_lamp_set_worker(lamps, u->lamp, u->mode) && subs)
            tapiq_notify_lamp(rt, dev, u->lamp);
    }
    /* nattr is 0 exactly when the batch has no attribute request. */
    if (__builtin_expect(b->nattr != 0, 0)) {
        tapiq_battr_apply(wk, dev, b, subs);
        b->nattr = 0; /* the statuses stay readable for the replies below */
        reply_all(wk, b, 1);
    } else {
        reply_all(wk, b, 0);
    }
    batch_done(wk, dev, b);
}

/* complete() of the batch of one lamp request (one console among many
 * gets one update per round): the same steps without the loops, inline in
 * the round's completion loop. In a read-side section. */
static inline __attribute__((always_inline)) void complete1(struct tapiq_worker *wk,
                                                            struct tapiq_batch *b)
{
    struct tapiq_dev *dev = tapiq_batch_dev(b);
    tapiq_update *u = &b->upd[0]; /* &b->one, unless tapiq_worker_fill() made it */
    uint32_t cell = b->first;
    lamp_done(wk, dev, cell, tapiq_worker_entry(wk, cell), u->lamp, u->mode, u->status);
    batch_done(wk, dev, b);
}

/* A completed batch: one lamp request, or the general case. */
static inline __attribute__((always_inline)) void complete_any(struct tapiq_worker *wk,
                                                               struct tapiq_batch *b)
{
    /* nattr is 0 exactly when the batch has no attribute request. */
    if (b->nreqs == 1 && b->nattr == 0)
        complete1(wk, b);
    else
        complete(wk, b);
}

/* ------------------------------------------------------------------ rounds */

/* New entries of every ring onto their devices' pending lists. */
static uint32_t drain(struct tapiq_worker *wk)
{
    struct tapiq_rt *rt = wk->rt;
    /* acquire: pairs with the release CAS of slots_hwm in
     * tapiq_issuer_attach() (issuer.c), though the rings exist from the
     * start; it only bounds the scan. */
    uint32_t hwm = tapiq_issuers_hwm(rt), total = 0;
    uint64_t inuse = 0;
    for (uint32_t i = 0; i <= hwm && i < wk->nrings; i++) {
        uint32_t r = i == hwm ? wk->nrings - 1 : i; /* the shared ring last */
        struct tapiq_sq *q = wk->ring[r];
        uint32_t rd = wk->rd[r];
        /* never more than the ring holds: positions stay unique per cell */
        uint32_t n = tapiq_sq_avail(q, rd, DRAIN_MAX);
        /* In locals: the stores below could otherwise be the worker's fields. */
        const uint32_t mask = wk->mask, base = r << wk->sbits;
        const struct tapiq_sqe *e = q->e;
        uint32_t *next = wk->next, ntouched = wk->ntouched;
        struct tapiq_dev *devs = rt->devs, **touched = wk->touched;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t pos = rd + k, cell = base | (pos & mask);
            struct tapiq_dev *dev = &devs[e[pos & mask].dev];
            /* next[cell] stays unset: every walk of a list counts its npend */
            if (dev->npend++)
                next[dev->pend_last] = cell;
            else
                dev->pend_first = cell;
            dev->pend_last = cell;
            if (!dev->queued && !dev->busy) {
                dev->queued = 1;
                touched[ntouched++] = dev;
            }
        }
        wk->ntouched = ntouched;
        wk->unfin += n;
        wk->rd[r] = rd + n;
        inuse += wk->rd[r] - wk->rel[r];
        total += n;
    }
    if (inuse > wk->c[TAPIQ_W_INUSE_HWM])
        wk->c[TAPIQ_W_INUSE_HWM] = inuse;
    return total;
}

/* The device's pending requests become one batch, handed to the backend. */
static void run_device(struct tapiq_worker *wk, struct tapiq_dev *dev)
{
    struct tapiq_rt *rt = wk->rt;
    struct tapiq_batch *b = &dev->batch;
    uint32_t cell = dev->pend_first;
    const struct tapiq_sqe *e;
    b->first = cell;
    if (dev->npend == 1 && (e = tapiq_worker_entry(wk, cell))->lamp != TAPIQ_SQE_ATTR) {
        b->nupd = 1; /* one lamp request: nothing to coalesce */
        b->upd = &b->one;
        b->one.lamp = e->lamp;
        b->one.mode = e->mode;
        b->one.status = -EIO; /* until the backend says otherwise */
        /* no upd_idx: complete1() takes it (nreqs 1, no attribute) */
        b->nreqs = 1;
        dev->npend = 0;
    } else {
        tapiq_worker_fill(wk, dev, b);
    }
    dev->busy = 1;
    wk->c[TAPIQ_W_BATCHES]++;
    wk->c[TAPIQ_W_APPLIED] += b->nupd;
    if (rt->cfg.backend->apply_sync) {
        rt->cfg.backend->apply_sync(rt->be_state, dev->id, b);
        done_local(wk, b); /* complete when it returns */
    } else {
        rt->cfg.backend->apply(rt->be_state, dev->id, b);
    }
}

/* Release every ring's positions whose replies are out, in order. When
 * every drained request is finished (the usual case), that is everything
 * drained, without a look at the marks. */
static void release(struct tapiq_worker *wk)
{
    /* acquire: as in drain(). */
    uint32_t hwm = tapiq_issuers_hwm(wk->rt), all = wk->unfin == 0;
    for (uint32_t i = 0; i <= hwm && i < wk->nrings; i++) {
        uint32_t r = i == hwm ? wk->nrings - 1 : i;
        uint32_t p = wk->rel[r], end = wk->rd[r], base = r << wk->sbits, mask = wk->mask;
        if (all) {
            p = end;
        } else {
            const uint8_t *fin = wk->fin;
            while (p != end && fin_is(fin, wk->sbits, base | (p & mask), p))
                p++;
        }
        if (p != wk->rel[r]) {
            tapiq_sq_release(wk->ring[r], wk->rel[r], p);
            wk->rel[r] = p;
        }
    }
}

/* A round: the rings drained onto the devices; with a backend that has
 * apply_one(), in a read-side section, the held replies, then the devices
 * whose requests need no batch (run_listed()), and a publish; then the
 * other devices go to the backend as batches, outside any section (apply()
 * may sleep): more than RUN_FEW_MAX requests, requests to coalesce, an
 * attribute request among several, or what apply_one() declined; then, in
 * one section, the held replies (without apply_one()), the completed
 * batches, and a publish. */
uint32_t tapiq_worker_round(struct tapiq_worker *wk, uint32_t maxdev)
{
    struct tapiq_rt *rt = wk->rt;
    int (*one)(void *, uint32_t, uint32_t, uint32_t) = rt->cfg.backend->apply_one;
    struct tapiq_batch *remote;
    uint32_t work, ndev, keep = 0, nb = 0, held, held0;
    struct tapiq_worker *saved = t_worker;

    work = drain(wk);
    ndev = wk->ntouched;
    if (maxdev && ndev > maxdev)
        ndev = maxdev;
    held0 = held = wk->held_tail - wk->held_head;
    if (one && wk->ntouched) {
        tapiq_guard_enter();
        if (held)
            retry_held(wk); /* first: they are older */
        held = 0;
        nb = tapiq_worker_run_listed(wk, ndev, one, &keep);
        tapiq_worker_publish(wk);
        tapiq_guard_exit();
    } else {
        for (uint32_t i = 0; i < ndev; i++) {
            struct tapiq_dev *dev = wk->touched[i];
            if (dev->busy)
                dev->queued = 0; /* listed again when its batch is back */
            else
                wk->single[nb++] = dev;
        }
        keep = keep_over_limit(wk->touched, ndev, wk->ntouched, 0);
    }
    if (ndev > wk->c[TAPIQ_W_ROUND_HWM])
        wk->c[TAPIQ_W_ROUND_HWM] = ndev;
    work += ndev;
    t_worker = wk;
    for (uint32_t i = 0; i < nb; i++) {
        struct tapiq_dev *dev = wk->single[i];
        dev->queued = 0;
        run_device(wk, dev);
    }
    wk->ntouched = keep; /* completions below list their devices again */
    t_worker = saved;

    /* relaxed: a look (a NULL list needs no ordering); acquire on the
     * exchange: pairs with the release CAS in tapiq_batch_complete(). */
    remote = atomic_load_explicit(&wk->done, memory_order_relaxed)
                 ? atomic_exchange_explicit(&wk->done, NULL, memory_order_acquire)
                 : NULL;
    if (wk->local_done || remote || held) {
        tapiq_guard_enter();
        if (held)
            retry_held(wk); /* first: they are older */
        while (wk->local_done) {
            struct tapiq_batch *b = wk->local_done;
            wk->local_done = b->next_done;
            complete_any(wk, b);
        }
        while (remote) {
            struct tapiq_batch *b = remote;
            remote = b->next_done;
            complete_any(wk, b);
            work++;
        }
        tapiq_worker_publish(wk);
        tapiq_guard_exit();
    }
    if (wk->held_tail - wk->held_head < held0)
        work++; /* some found room (or were suppressed) */
    /* (Requests finish only in the sections above, whose publish released
     * their positions.) */
    if (work)
        tapiq_worker_publish_counters(wk);
    return work;
}
