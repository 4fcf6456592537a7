/* core/app.c - applications; see app.h. */
#include "core/app.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/alloc.h"
#include "core/guard.h"
#include "core/handle.h"

struct tapiq_app tapiq_app_none; /* h 0: see app.h */

void tapiq_app_slots_init(struct tapiq_rt *rt)
{
    for (uint32_t i = 0; i < TAPIQ_MAX_APPS; i++)
        atomic_init(&rt->apps[i], &tapiq_app_none);
}

/* Generations survive runtimes, so an application value is never reused. */
static uint16_t g_app_gen[TAPIQ_MAX_APPS];

/* ---------------------------------------------------------------- message take */

/* PHONE_STATE tokens and PHONE_BUTTON events first: up to @max. In a
 * read-side section. A PHONE_BUTTON carries mode | state << 16 in p2. */
static uint32_t take_events(struct tapiq_rt *rt, struct tapiq_app *app, PHONEMESSAGE *outv,
                            uint32_t max)
{
    uint32_t got = 0;
    struct tapiq_cmsg m;
    while (got < max && tapiq_cmq_pop_try(&app->ring.q, &m, 1) == 1) {
        if (!tapiq_handle_token_taken(rt, app, &m))
            continue;
        if (m.msg == PHONE_BUTTON) {
            if (tapiq_app_deliver(rt, &outv[got], m.handle, PHONE_BUTTON, m.p1, m.p2 & 0xFFFFu))
                outv[got++].dwParam3 = m.p2 >> 16;
        } else {
            got += (uint32_t)tapiq_app_deliver(rt, &outv[got], m.handle, PHONE_STATE, m.p1, m.p2);
        }
    }
    return got;
}

/* Take up to @max deliverable messages of @app; in a read-side section.
 * PHONE_STATE before replies: the completion queues' tails are read first
 * (acquire), so every token posted before a reply we take is in the event
 * ring when we look there. Returns how many were written to @outv. */
static uint32_t take_messages(struct tapiq_rt *rt, struct tapiq_app *app, PHONEMESSAGE *outv,
                              uint32_t max)
{
    uint32_t lim[TAPIQ_MAX_WORKERS], got = 0, late = 0;
    for (uint32_t w = 0; w < app->ncq; w++)
        lim[w] = tapiq_cq_tail(&app->cq[w]);
    if (tapiq_cmq_count(&app->ring.q))
        got = take_events(rt, app, outv, max);
    for (uint32_t w = 0; w < app->ncq && got < max; w++) {
        /* Read in place, straight into @outv; what a failed commit read is
         * overwritten by the next try (or left past the count returned).
         * One handle lookup per run of replies for one handle, per call:
         * a call that starts after phoneClose returned finds the handle
         * closed at its first lookup; a close that returns while a call
         * runs is concurrent with it (as with one lookup per reply, where
         * the call also returns after the close). The slot itself is not
         * reused within the read-side section (core/handle.c). */
        struct tapiq_cq *q = &app->cq[w];
        /* In locals: the stores to @outv (DWORDs) could otherwise be the
         * queue's mask. */
        const struct tapiq_cq_slots slots = tapiq_cq_slots(q);
        uint32_t h = tapiq_cq_head(q);
        for (;;) {
            uint32_t n = lim[w] - h, g = got, l = 0, hv = 0;
            const struct tapiq_handle *hs = NULL;
            int open = 0;
            if ((int32_t)n <= 0)
                break;
            if (n > max - got)
                n = max - got;
            for (uint32_t i = 0; i < n; i++) {
                struct tapiq_cqe m;
                tapiq_cq_read_at(slots, h + i, &m);
                if (m.handle != hv || !open) {
                    hv = m.handle;
                    hs = tapiq_handle_slot(rt, hv);
                    open = tapiq_handle_is(hs, hv);
                }
                if (open)
                    tapiq_app_msg(&outv[g++], hs, hv, PHONE_REPLY, m.p1, m.p2);
                else
                    l++;
            }
            if (tapiq_cq_commit(q, &h, n)) {
                got = g;
                late += l;
                h += n;
                if (got == max)
                    break;
            }
        }
    }
    if (late)
        tapiq_stat_add(rt->stats, TAPIQ_C_SUPPRESSED_LATE, late);
    return got;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long tapiq_app_get_messages(uint32_t happ, PHONEMESSAGE *msg, uint32_t max, uint32_t timeout,
                            int from_callback)
{
    int64_t deadline = -1;
    int last_look = 0;
    for (;;) {
        struct tapiq_rt *rt;
        struct tapiq_app *app;
        uint32_t left = UINT32_MAX;
        int r;

        tapiq_guard_enter();
        rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
        app = rt ? tapiq_app_lookup(rt, happ) : NULL;
        if (!app) {
            tapiq_guard_exit();
            return -ENOENT;
        }
        if (!msg) {
            tapiq_guard_exit();
            return -EFAULT;
        }
        if (app->cb && !from_callback) {
            tapiq_guard_exit();
            return -EOPNOTSUPP; /* messages go to the callback */
        }
        r = (int)take_messages(rt, app, msg, max);
        if (app->ring.level)
            tapiq_cring_settle(&app->ring);
        if (r) {
            tapiq_guard_exit();
            return r;
        }
        if (timeout == 0 || last_look) {
            tapiq_guard_exit();
            return -ETIMEDOUT;
        }
        if (timeout != UINT32_MAX) {
            int64_t now = now_ms(), l;
            if (deadline < 0)
                deadline = now + timeout;
            l = deadline - now;
            if (l <= 0) {
                tapiq_guard_exit();
                return -ETIMEDOUT;
            }
            left = (uint32_t)l;
        }
        /* seq_cst: counted inside the section, so a shutdown that
         * unpublished the app and waited for a grace period sees it; the
         * app's memory stays until the count is back to 0. */
        atomic_fetch_add_explicit(&app->waiters, 1, memory_order_seq_cst);
        tapiq_guard_exit();
        r = tapiq_cring_wait_blocking(&app->ring, left);
        /* release: our last touch of app; pairs with the acquire load in
         * tapiq_app_wait_idle_blocking(), after which it is freed. */
        atomic_fetch_sub_explicit(&app->waiters, 1, memory_order_release);
        if (r == -ESHUTDOWN)
            return -ENOENT;
        if (r == -ETIMEDOUT)
            last_look = 1; /* one last look: something may have come with the deadline */
        else if (r < 0)
            return r; /* poll failed: looking again at once would spin */
    }
}

/* ---------------------------------------------------------------- lifecycle */

/* Replies waiting in any of the app's completion queues (cring's @pending). */
static int app_replies_pending(void *arg)
{
    struct tapiq_app *app = arg;
    for (uint32_t w = 0; w < app->ncq; w++)
        if (tapiq_cq_pending(&app->cq[w]))
            return 1;
    return 0;
}

/* Completion queues: one per worker, tapiq_cq_entries() each; a worker that
 * finds one full holds the replies until there is room. */
static int queues_init(struct tapiq_rt *rt, struct tapiq_app *app, int level)
{
    uint32_t size = (uint32_t)tapiq_cq_entries(rt->sq_size);
    int rc;
    app->cq = tapiq_aligned_zalloc(_Alignof(struct tapiq_cq), sizeof(*app->cq) * rt->cfg.workers);
    if (!app->cq)
        return -ENOMEM;
    for (app->ncq = 0; app->ncq < rt->cfg.workers; app->ncq++)
        if ((rc = tapiq_cq_init(&app->cq[app->ncq], size)))
            goto fail;
    if ((rc = tapiq_cring_init(&app->ring, rt->cfg.events, level, app_replies_pending, app)))
        goto fail;
    return 0;
fail:
    while (app->ncq)
        tapiq_cq_destroy(&app->cq[--app->ncq]);
    free(app->cq);
    app->cq = NULL;
    return rc;
}

static void queues_destroy(struct tapiq_app *app)
{
    tapiq_cring_destroy(&app->ring);
    while (app->ncq)
        tapiq_cq_destroy(&app->cq[--app->ncq]);
    free(app->cq);
}

/* The delivery thread of an application that gave a callback. */
struct cb_arg {
    uint32_t happ;
    PHONECALLBACK cb;
    uint64_t epoch; /* the application's runtime */
};

/* The replies among @n messages a delivery thread took and does not deliver
 * (their handle closed, or the application shut down while it held them)
 * count once, as suppressed, as the ones still queued at shutdown do
 * (tapiq_app_free()); in the application's runtime, if it still runs. */
static void count_undelivered(const struct cb_arg *a, const PHONEMESSAGE *m, long n)
{
    struct tapiq_rt *rt;
    uint64_t k = 0;
    for (long i = 0; i < n; i++)
        k += m[i].dwMessageID == PHONE_REPLY;
    if (!k)
        return;
    tapiq_guard_enter();
    rt = tapiq_rt_current();
    if (rt && rt->epoch == a->epoch)
        tapiq_stat_add(rt->stats, TAPIQ_C_SUPPRESSED_LATE, k);
    tapiq_guard_exit();
}

/* Before each callback: is the application still there and the message's
 * handle still open? Announces the handle in cb_current first (the Dekker
 * pair with phoneClose: it stores hval = 0, then reads cb_current; we store
 * cb_current, then read hval; seq_cst on both sides). Returns 0 when the
 * application is gone (stop), 1 to deliver, 2 to skip the message. */
static int cb_begin(uint32_t happ, uint32_t hv)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    int r = 0;
    tapiq_guard_enter();
    rt = tapiq_rt_current();
    app = rt ? tapiq_app_lookup(rt, happ) : NULL;
    if (app) {
        /* seq_cst store, then a seq_cst load of hval: pairs with the
         * seq_cst store of hval in close and its seq_cst load of cb_current
         * in tapiq_app_wait_delivery_blocking(). */
        atomic_store_explicit(&app->cb_current, hv, memory_order_seq_cst);
        r = tapiq_handle_is_open_sc(rt, hv) ? 1 : 2;
    }
    tapiq_guard_exit();
    return r;
}

/* After the callback returned (it may have shut the application down). */
static void cb_end(uint32_t happ)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    tapiq_guard_enter();
    rt = tapiq_rt_current();
    app = rt ? tapiq_app_lookup(rt, happ) : NULL;
    if (app)
        /* release: the callback's accesses happen-before a closer's return;
         * pairs with the acquire load in tapiq_app_wait_delivery_blocking(). */
        atomic_store_explicit(&app->cb_current, 0, memory_order_release);
    tapiq_guard_exit();
}

static void *callback_main(void *varg)
{
    struct cb_arg a = *(struct cb_arg *)varg;
    free(varg);
    for (;;) {
        PHONEMESSAGE m[32];
        long r = tapiq_app_get_messages(a.happ, m, 32, UINT32_MAX, 1);
        if (r == -ENOENT)
            break; /* shut down */
        if (r < 0) {
            /* The wait failed (poll: -ENOMEM ...): the messages stay queued;
             * try again in a moment rather than spin or stop delivering. */
            struct timespec nap = {0, 1000000};
            nanosleep(&nap, NULL);
            continue;
        }
        for (long i = 0; i < r; i++) {
            int go = cb_begin(a.happ, (uint32_t)m[i].hDevice);
            if (go == 0) { /* shut down (perhaps by the callback itself) */
                count_undelivered(&a, &m[i], r - i);
                return NULL;
            }
            if (go == 1)
                a.cb(m[i].hDevice, m[i].dwMessageID, m[i].dwCallbackInstance, m[i].dwParam1,
                     m[i].dwParam2, m[i].dwParam3);
            else
                count_undelivered(&a, &m[i], 1); /* its handle closed meanwhile */
            cb_end(a.happ);
        }
    }
    return NULL;
}

int tapiq_app_pin_for_close_locked(struct tapiq_app *app)
{
    if (!app->has_cb_thread || pthread_equal(app->cb_thread, pthread_self()))
        return 0; /* the callback itself closes: its next message is checked */
    /* relaxed: under g_lock; wait_idle_blocking (acquire) waits for the unpin. */
    atomic_fetch_add_explicit(&app->waiters, 1, memory_order_relaxed);
    return 1;
}

void tapiq_app_wait_delivery_blocking(struct tapiq_app *app, uint32_t hv)
{
    /* seq_cst: see cb_begin(). A shutdown (ring closed) ends the wait: it
     * joins the delivery thread itself. */
    while (atomic_load_explicit(&app->cb_current, memory_order_seq_cst) == hv &&
           !tapiq_cring_closed(&app->ring))
        sched_yield();
}

void tapiq_app_unpin(struct tapiq_app *app)
{
    /* release: pairs with the acquire load in tapiq_app_wait_idle_blocking(). */
    atomic_fetch_sub_explicit(&app->waiters, 1, memory_order_release);
}

int tapiq_app_create_locked(struct tapiq_rt *rt, PHONECALLBACK cb, const char *name, int level,
                            struct tapiq_app **out)
{
    struct tapiq_app *app;
    uint32_t idx;
    int rc;
    /* A slot whose generation is used up is retired: a stale HPHONEAPP never
     * names a new application. relaxed: under g_lock, which every writer of
     * apps[] holds. */
    for (idx = 1; idx < TAPIQ_MAX_APPS; idx++)
        if (atomic_load_explicit(&rt->apps[idx], memory_order_relaxed) == &tapiq_app_none &&
            g_app_gen[idx] != UINT16_MAX)
            break;
    if (idx == TAPIQ_MAX_APPS)
        return -ENOSPC;
    app = tapiq_aligned_zalloc(_Alignof(struct tapiq_app), sizeof(*app));
    if (!app)
        return -ENOMEM;
    if ((rc = queues_init(rt, app, level))) {
        free(app);
        return rc;
    }
    g_app_gen[idx]++;
    app->h = (uint32_t)g_app_gen[idx] << TAPIQ_APP_BITS | idx;
    app->rt = rt;
    app->cb = cb;
    app->nfast = !cb && !level ? app->ncq : 0;
    atomic_init(&app->waiters, 0);
    atomic_init(&app->cb_current, 0);
    snprintf(app->name, sizeof(app->name), "%s", name ? name : "");
    /* release: publishes the app's fields to tapiq_app_lookup() (before the
     * delivery thread starts, so that it finds the app). */
    atomic_store_explicit(&rt->apps[idx], app, memory_order_release);
    if (cb) {
        struct cb_arg *a = tapiq_malloc(sizeof(*a));
        if (a) {
            a->happ = app->h;
            a->cb = cb;
            a->epoch = rt->epoch;
        }
        if (!a || (rc = pthread_create(&app->cb_thread, NULL, callback_main, a))) {
            free(a);
            atomic_store_explicit(&rt->apps[idx], &tapiq_app_none, memory_order_release);
            tapiq_guard_synchronize_blocking();
            queues_destroy(app);
            free(app);
            return a ? -rc : -ENOMEM;
        }
        app->has_cb_thread = 1;
    }
    rt->napps++;
    *out = app;
    return 0;
}

void tapiq_app_unpublish_locked(struct tapiq_rt *rt, struct tapiq_app *app)
{
    /* release: unpublish; lookups after this fail. */
    atomic_store_explicit(&rt->apps[app->h & (TAPIQ_MAX_APPS - 1)], &tapiq_app_none,
                          memory_order_release);
    tapiq_cring_close(&app->ring);
}

void tapiq_app_wait_idle_blocking(struct tapiq_app *app)
{
    if (app->has_cb_thread) {
        if (pthread_equal(app->cb_thread, pthread_self()))
            pthread_detach(app->cb_thread);
        else
            pthread_join(app->cb_thread, NULL);
    }
    /* acquire: pairs with the release decrement in tapiq_app_get_messages(). */
    while (atomic_load_explicit(&app->waiters, memory_order_acquire) != 0)
        sched_yield();
}

void tapiq_app_free(struct tapiq_app *app)
{
    uint32_t unread = 0;
    /* Replies posted and never read count once, as suppressed. */
    for (uint32_t w = 0; w < app->ncq; w++)
        unread += tapiq_cq_count_quiescent(&app->cq[w]);
    if (unread)
        tapiq_stat_add(app->rt->stats, TAPIQ_C_SUPPRESSED_LATE, unread);
    app->rt->napps--;
    queues_destroy(app);
    free(app);
}
