/* core/worker_one.c - the worker module, continued: the path of a backend
 * with apply_one() (consoles with a few lamp requests on distinct lamps in
 * a round need no batch); see worker.h. */
#include <errno.h>

#include "core/app.h"
#include "core/worker_reply.h"

/* A device with up to RUN_FEW_MAX pending requests, all lamp updates on
 * distinct lamps (nothing to coalesce): run_few() can take it without a
 * batch. Reads the worker's own entries only. */
static inline int few_distinct(const struct tapiq_worker *wk, const struct tapiq_dev *dev)
{
    uint16_t lamp[RUN_FEW_MAX];
    uint32_t cell = dev->pend_first, n = dev->npend;
    for (uint32_t i = 0; i < n; i++) {
        const struct tapiq_sqe *e = tapiq_worker_entry(wk, cell);
        if (e->lamp == TAPIQ_SQE_ATTR)
            return 0;
        for (uint32_t j = 0; j < i; j++)
            if (lamp[j] == e->lamp)
                return 0;
        lamp[i] = e->lamp;
        cell = wk->next[cell];
    }
    return 1;
}

/* The reply state of wk->cur in locals, for loops that reply to one
 * request at a time (run_few(), run_listed()): replies may be written to
 * application happ's queue at positions t up to end (exclusive) with
 * nothing looked at again (its room, the next publish); those written so
 * far are t - p->t. rrun_flush() puts them into the worker's fields before
 * any other path (reply(), which may publish), rrun_load() takes the state
 * again after it. */
struct rrun {
    struct tapiq_wpost *p;
    struct tapiq_cq *cq;
    uint32_t happ, t, end;
};

static inline __attribute__((always_inline)) void rrun_load(const struct tapiq_worker *wk,
                                                            struct rrun *r)
{
    struct tapiq_wpost *p = wk->cur;
    r->p = p;
    r->cq = p->cq;
    r->happ = p->happ;
    r->t = p->t;
    r->end = p->t + reply_room(wk, p);
}

static inline __attribute__((always_inline)) void rrun_flush(struct tapiq_worker *wk,
                                                             struct rrun *r)
{
    uint32_t k = r->t - r->p->t;
    r->p->t = r->t;
    r->p->room -= k;
    wk->unpub += k;
    wk->unfin -= k;
}

/* Can the reply to a request of handle slot @hs, handle @hv, be written in
 * place? (Its handle is open and of application happ, with room.)
 * acquire: as in tapiq_handle_lookup() (slot 0 never matches). */
static inline __attribute__((always_inline)) int rrun_can(const struct rrun *r,
                                                          const struct tapiq_handle *hs,
                                                          uint32_t hv)
{
    return r->t != r->end && atomic_load_explicit(&hs->hval, memory_order_acquire) == hv &&
           hs->happ == r->happ;
}

/* Write the reply (status @st) of entry @e in @cell after rrun_can(); the
 * request is finished (its mark; unfin at the flush). */
static inline __attribute__((always_inline)) void rrun_put(struct rrun *r, uint8_t *fin,
                                                           uint32_t sbits, uint32_t cell,
                                                           const struct tapiq_sqe *e, int32_t st)
{
    tapiq_cq_put(r->cq, r->t++, e->handle, PHONE_REPLY, e->id, (uint32_t)st);
    fin[cell] = fin_mark_at(sbits, e->id);
}

/* A device whose one pending request is a lamp update, applied through the
 * backend's apply_one() without a batch: lamp state, PHONE_STATE tokens,
 * the reply, in one pass (complete1() without the batch). Returns 0, or 1
 * when the request is not a lamp update or the backend declined (nothing
 * done: the device's next run is a batch). In a read-side section. */
static inline __attribute__((always_inline)) int run_one(struct tapiq_worker *wk,
                                                         struct tapiq_dev *dev,
                                                         int (*one)(void *, uint32_t, uint32_t,
                                                                    uint32_t))
{
    uint32_t cell = dev->pend_first;
    const struct tapiq_sqe *e = tapiq_worker_entry(wk, cell);
    int st;
    if (__builtin_expect(e->lamp == TAPIQ_SQE_ATTR, 0))
        return 1;
    st = one(wk->rt->be_state, dev->id, e->lamp, e->mode);
    if (__builtin_expect(st == TAPIQ_APPLY_DECLINE, 0))
        return 1;
    if (__builtin_expect(st > 0, 0))
        st = -EIO; /* a stray positive status */
    dev->npend = 0;
    lamp_done(wk, dev, cell, e, e->lamp, e->mode, st);
    return 0;
}

/* run_one() for a device with 2 to RUN_FEW_MAX pending lamp updates on
 * distinct lamps (few_distinct()): each applied in order through
 * apply_one(), then its lamp state, PHONE_STATE tokens and reply. Returns
 * how many were applied; when the backend declined one, that one and those
 * after it stay pending, in order (the device's next run is a batch). Not
 * inline: one call per device, the single-request path keeps its
 * registers. In a read-side section. */
static __attribute__((noinline)) uint32_t run_few(struct tapiq_worker *wk, struct tapiq_dev *dev,
                                                  int (*one)(void *, uint32_t, uint32_t,
                                                             uint32_t))
{
    void *be = wk->rt->be_state;
    const struct tapiq_handle *handles = wk->rt->handles;
    uint8_t *fin = wk->fin;
    const uint32_t sbits = wk->sbits;
    uint32_t cell = dev->pend_first, n = dev->npend, k;
    struct rrun r;
    rrun_load(wk, &r);
    for (k = 0; k < n; k++) {
        const struct tapiq_sqe *e = tapiq_worker_entry(wk, cell);
        uint32_t next = wk->next[cell];
        int fast = rrun_can(&r, &handles[e->handle & (TAPIQ_MAX_HANDLES - 1)], e->handle);
        int st = one(be, dev->id, e->lamp, e->mode);
        if (__builtin_expect(st == TAPIQ_APPLY_DECLINE, 0))
            break;
        if (__builtin_expect(st > 0, 0))
            st = -EIO; /* a stray positive status */
        if (__builtin_expect(fast, 1)) {
            rrun_put(&r, fin, sbits, cell, e, lamp_state(wk, dev, e->lamp, e->mode, st));
        } else {
            rrun_flush(wk, &r);
            lamp_done(wk, dev, cell, e, e->lamp, e->mode, st);
            rrun_load(wk, &r);
        }
        cell = next;
    }
    rrun_flush(wk, &r);
    dev->npend = n - k;
    dev->pend_first = cell; /* pend_last stays: the last one, if any is left */
    return k;
}

/* The listed devices of a round whose backend has apply_one(), in a
 * read-side section: a device whose requests are lamp updates on distinct
 * lamps, at most RUN_FEW_MAX, goes through apply_one() (run_one(),
 * run_few()); the others (and what apply_one() declined) are put on
 * wk->single for run_device(), in order. The common case (one lamp request
 * whose handle belongs to the application last replied to, with room in
 * its queue) runs with the reply state in locals: one write of the reply in
 * place, no look at the worker's fields (flushed before any other path).
 * Returns the devices put on wk->single. */
uint32_t tapiq_worker_run_listed(struct tapiq_worker *wk, uint32_t ndev,
                                 int (*one)(void *, uint32_t, uint32_t, uint32_t),
                                 uint32_t *keepp)
{
    struct tapiq_rt *rt = wk->rt;
    void *be = rt->be_state;
    struct tapiq_handle *handles = rt->handles;
    struct tapiq_dev **touched = wk->touched, **later = wk->single;
    const struct tapiq_sqe *ent = wk->ent;
    const uint32_t sbits = wk->sbits, n = wk->ntouched;
    uint8_t *fin = wk->fin;
    uint32_t nb = 0, nfast = 0, ndone = 0, napplied = 0;
    struct rrun r;

    rrun_load(wk, &r);
    for (uint32_t i = 0; i < ndev; i++) { /* ndev <= n: the round's limit */
        struct tapiq_dev *dev = touched[i];
        uint32_t cell, left;
        if (dev->busy) {
            dev->queued = 0; /* listed again when its batch is back */
            continue;
        }
        left = dev->npend;
        cell = dev->pend_first;
        if (left == 1) {
            /* The common case: one lamp request. */
            const struct tapiq_sqe *e = &ent[cell];
            if (e->lamp != TAPIQ_SQE_ATTR &&
                rrun_can(&r, &handles[e->handle & (TAPIQ_MAX_HANDLES - 1)], e->handle)) {
                int st = one(be, dev->id, e->lamp, e->mode);
                if (__builtin_expect(st != TAPIQ_APPLY_DECLINE, 1)) {
                    if (__builtin_expect(st > 0, 0))
                        st = -EIO; /* a stray positive status */
                    rrun_put(&r, fin, sbits, cell, e, lamp_state(wk, dev, e->lamp, e->mode, st));
                    dev->npend = 0;
                    dev->queued = 0;
                    nfast++; /* one batch, one update */
                    continue;
                }
                later[nb++] = dev; /* declined: a batch, this round */
                continue;
            }
        } else if (left > RUN_FEW_MAX || !few_distinct(wk, dev)) {
            later[nb++] = dev; /* a batch, this round */
            continue;
        }
        /* A few lamp requests on distinct lamps: in order, in place while
         * each one's handle is of application happ, with room. */
        for (;;) {
            const struct tapiq_sqe *e = &ent[cell];
            int st;
            if (e->lamp == TAPIQ_SQE_ATTR ||
                !rrun_can(&r, &handles[e->handle & (TAPIQ_MAX_HANDLES - 1)], e->handle))
                break;
            st = one(be, dev->id, e->lamp, e->mode);
            if (__builtin_expect(st == TAPIQ_APPLY_DECLINE, 0))
                goto declined;
            if (__builtin_expect(st > 0, 0))
                st = -EIO; /* a stray positive status */
            rrun_put(&r, fin, sbits, cell, e, lamp_state(wk, dev, e->lamp, e->mode, st));
            napplied++;
            if (--left == 0)
                break;
            cell = wk->next[cell];
        }
        if (__builtin_expect(left == 0, 1)) {
            dev->npend = 0;
            dev->queued = 0;
            ndone++;
            continue;
        }
        /* The rest through the worker's fields (what apply_one() declines
         * there goes as a batch). */
        dev->pend_first = cell;
        dev->npend = left;
        rrun_flush(wk, &r);
        napplied += left == 1 ? (uint32_t)(run_one(wk, dev, one) == 0) : run_few(wk, dev, one);
        rrun_load(wk, &r);
        if (dev->npend == 0) {
            dev->queued = 0;
            ndone++;
        } else {
            later[nb++] = dev; /* a batch, this round */
        }
        continue;
    declined: /* the declined request and the rest as a batch, this round */
        dev->pend_first = cell;
        dev->npend = left;
        later[nb++] = dev;
    }
    rrun_flush(wk, &r);
    /* a device done is one batch; the common case is one update */
    wk->c[TAPIQ_W_BATCHES] += nfast + ndone;
    wk->c[TAPIQ_W_APPLIED] += nfast + napplied;
    *keepp = keep_over_limit(touched, ndev, n, 0); /* after the loop above */
    return nb;
}

