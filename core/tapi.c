/* core/tapi.c - the TAPI 2.2 phone functions and the native configuration
 * calls. The one place where internal -errno values become PHONEERR_*.
 * See runtime.h for what may run concurrently with what. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/guard.h"
#include "core/runtime.h"
#include "core/worker.h"

/* ------------------------------------------------------------ global state */

static char *g_config_text; /* tapiq_configure(); NULL: use TAPIQ_CONFIG */
static int g_config_set;
/* Generations survive runtimes, so a handle value is never reused. */
#define g_handle_gen tapiq_handle_gen
static uint16_t g_app_gen[TAPIQ_MAX_APPS];

static TAPIQ_TLS char t_last_error[256];

static void set_last_error(const char *msg)
{
    snprintf(t_last_error, sizeof(t_last_error), "%s", msg);
}

TAPIQ_API const char *tapiq_last_error(void)
{
    return t_last_error;
}

/* ------------------------------------------------ per-thread issuer slot
 *
 * Each issuing thread takes one slot of the runtime's pool at its first
 * request (threads=N slots): the row of N x workers submission rings of which
 * it is then the only producer. Threads that find the pool taken use the
 * shared MPSC row. The slot belongs to one runtime (epoch); a slot of an older
 * runtime is simply forgotten (that runtime's memory is gone). At thread exit
 * the slot goes back under g_lock, which keeps the runtime alive; a thread
 * that exits with requests still in its rings leaves them to the worker, and
 * the next owner of the slot goes on from the ring's tail.
 */
struct tls_issuer {
    uint64_t epoch;
    struct tapiq_sq *row; /* rings of our slot, one per worker */
    uint32_t slot;        /* pool slot, or nslots for the shared row */
    int key_set;
};

static TAPIQ_TLS struct tls_issuer t_issuer;
static pthread_key_t g_issuer_key;
static pthread_once_t g_issuer_once = PTHREAD_ONCE_INIT;

static void issuer_thread_exit(void *arg)
{
    struct tls_issuer *t = arg;
    struct tapiq_rt *rt;
    pthread_mutex_lock(&tapiq_g_lock);
    /* relaxed: g_lock orders it against runtime teardown. */
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_relaxed);
    if (rt && rt->epoch == t->epoch && t->slot < rt->nslots)
        /* release: our pushes happen-before the next owner's; pairs with the
         * acquire CAS in issuer_attach(). */
        atomic_store_explicit(&rt->slot_used[t->slot], 0, memory_order_release);
    t->epoch = 0;
    pthread_mutex_unlock(&tapiq_g_lock);
}

static void issuer_key_create(void)
{
    pthread_key_create(&g_issuer_key, issuer_thread_exit);
}

/* The calling thread's first request to runtime @rt: take a pool slot (or
 * the shared row). In a read-side section; lock-free (a scan of CASes). */
static void issuer_attach(struct tapiq_rt *rt, struct tls_issuer *t)
{
    uint32_t slot = rt->nslots, hwm;
    if (!t->key_set) {
        pthread_once(&g_issuer_once, issuer_key_create);
        t->key_set = pthread_setspecific(g_issuer_key, t) == 0;
    }
    for (uint32_t i = 0; t->key_set && i < rt->nslots; i++) {
        uint32_t expected = 0;
        /* relaxed pre-check; acquire CAS: pairs with the release store in
         * issuer_thread_exit(), so the last owner's ring state is ours. */
        if (atomic_load_explicit(&rt->slot_used[i], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&rt->slot_used[i], &expected, 1,
                                                    memory_order_acquire,
                                                    memory_order_relaxed)) {
            slot = i;
            break;
        }
    }
    if (slot < rt->nslots) {
        /* release: bounds the workers' ring scans (acquire in drain()). */
        hwm = atomic_load_explicit(&rt->slots_hwm, memory_order_relaxed);
        while (hwm < slot + 1 &&
               !atomic_compare_exchange_weak_explicit(&rt->slots_hwm, &hwm, slot + 1,
                                                      memory_order_release, memory_order_relaxed))
            ;
    }
    t->slot = slot;
    t->row = &rt->sq[(size_t)slot * rt->cfg.workers];
    t->epoch = rt->epoch;
}

/* Enter a read-side section and find the open handle @h.
 * Returns 0 with *rtp and *hsp set, or PHONEERR_UNINITIALIZED /
 * PHONEERR_INVALPHONEHANDLE; in every case the caller leaves with
 * tapiq_guard_exit(). */
static inline LONG enter_handle(HPHONE h, struct tapiq_rt **rtp, struct tapiq_handle **hsp)
{
    tapiq_guard_enter();
    /* acquire: pairs with the release store that publishes the runtime. */
    *rtp = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!*rtp)
        return PHONEERR_UNINITIALIZED;
    *hsp = tapiq_handle_lookup(*rtp, h);
    return *hsp ? 0 : PHONEERR_INVALPHONEHANDLE;
}

/* ------------------------------------------------------------ phoneSetLamp */

static LONG reject(struct tapiq_rt *rt, enum tapiq_reject why, LONG err)
{
    tapiq_stat_add(rt->stats, (enum tapiq_ctr)(TAPIQ_C_REJECTED0 + why), 1);
    return err;
}

/* Every check and every error, in the documented precedence; also threads
 * without a ring yet, consoles with per-lamp mode sets, full rings and the
 * shared rings. */
static __attribute__((noinline)) LONG set_lamp_full(HPHONE hPhone, DWORD dwButtonLampID,
                                                    DWORD dwLampMode)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    uint32_t modes;
    LONG rc;

    rc = enter_handle(hPhone, &rt, &hs);
    if (rc) {
        if (rc == PHONEERR_INVALPHONEHANDLE)
            reject(rt, TAPIQ_REJECT_INVALPHONEHANDLE, rc);
        goto out;
    }
    if (hs->priv != PHONEPRIVILEGE_OWNER) {
        rc = reject(rt, TAPIQ_REJECT_NOTOWNER, PHONEERR_NOTOWNER);
        goto out;
    }
    dev = &rt->devs[hs->dev];
    if (dev->nlamps == 0) {
        rc = reject(rt, TAPIQ_REJECT_OPERATIONUNAVAIL, PHONEERR_OPERATIONUNAVAIL);
        goto out;
    }
    /* Every lamp alike (the usual console): no look at the per-lamp table. */
    modes = dev->modes_all;
    if (!modes && dwButtonLampID < dev->nlamps)
        modes = dev->modes[dwButtonLampID];
    if (dwButtonLampID >= dev->nlamps || modes == PHONELAMPMODE_DUMMY) {
        rc = reject(rt, TAPIQ_REJECT_INVALBUTTONLAMPID, PHONEERR_INVALBUTTONLAMPID);
        goto out;
    }
    if (dwLampMode == 0 || (dwLampMode & (dwLampMode - 1)) || !(dwLampMode & modes) ||
        dwLampMode == PHONELAMPMODE_DUMMY) {
        rc = reject(rt, TAPIQ_REJECT_INVALLAMPMODE, PHONEERR_INVALLAMPMODE);
        goto out;
    }
    /* relaxed: a status flag with no data behind it. */
    if (!atomic_load_explicit(&dev->connected, memory_order_relaxed)) {
        rc = reject(rt, TAPIQ_REJECT_INVALPHONESTATE, PHONEERR_INVALPHONESTATE);
        goto out;
    }

    /* Admission: room in our ring to the device's worker. */
    {
        struct tls_issuer *t = &t_issuer;
        struct tapiq_sq *q;
        struct tapiq_sqe e;
        uint32_t pos;
        int r;
        if (__builtin_expect(t->epoch != rt->epoch, 0))
            issuer_attach(rt, t);
        q = &t->row[dev->worker];
        e.handle = hPhone;
        e.dev = hs->dev;
        e.lamp = (uint16_t)dwButtonLampID;
        e.mode = (uint16_t)dwLampMode;
        r = q->mpsc ? tapiq_sq_push_mpsc(q, &e, &pos) : tapiq_sq_push_spsc(q, &e, &pos);
        if (r) {
            rc = reject(rt, TAPIQ_REJECT_RESOURCEUNAVAIL, PHONEERR_RESOURCEUNAVAIL);
            goto out;
        }
        tapiq_worker_kick(&rt->workers[dev->worker]);
        rc = (LONG)tapiq_sq_id(q, pos);
    }
out:
    tapiq_guard_exit();
    return rc;
}

/* The common case in one pass: an owner handle, a console whose lamps all
 * support the same modes, a valid lamp and mode, connected, the calling
 * thread holding a pool slot with room in its ring. Anything else (errors
 * included) goes to set_lamp_full(), which decides the same way. */
TAPIQ_API LONG phoneSetLamp(HPHONE hPhone, DWORD dwButtonLampID, DWORD dwLampMode)
{
    struct tls_issuer *t = &t_issuer;
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct tapiq_sq *q;
    struct tapiq_sqe e;
    uint32_t modes, pos;

    tapiq_guard_enter();
    /* acquire: pairs with the release store that publishes the runtime. */
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (__builtin_expect(!rt || t->epoch != rt->epoch, 0))
        goto slow;
    hs = tapiq_handle_lookup(rt, hPhone);
    if (__builtin_expect(!hs || hs->priv != PHONEPRIVILEGE_OWNER, 0))
        goto slow;
    dev = &rt->devs[hs->dev];
    modes = dev->modes_all; /* 0 unless every lamp has the same modes, no dummy */
    /* relaxed: a status flag with no data behind it. */
    if (__builtin_expect(dwButtonLampID >= dev->nlamps || (dwLampMode & (dwLampMode - 1)) ||
                             !(dwLampMode & modes) ||
                             !atomic_load_explicit(&dev->connected, memory_order_relaxed),
                         0))
        goto slow;
    q = &t->row[dev->worker];
    e.handle = hPhone;
    e.dev = hs->dev;
    e.lamp = (uint16_t)dwButtonLampID;
    e.mode = (uint16_t)dwLampMode;
    if (__builtin_expect(q->mpsc || tapiq_sq_push_spsc(q, &e, &pos) != 0, 0))
        goto slow;
    tapiq_worker_kick(&rt->workers[dev->worker]);
    tapiq_guard_exit();
    return (LONG)tapiq_sq_id(q, pos);
slow:
    tapiq_guard_exit();
    return set_lamp_full(hPhone, dwButtonLampID, dwLampMode);
}

/* ------------------------------------------------------------ phoneGetLamp */

TAPIQ_API LONG phoneGetLamp(HPHONE hPhone, DWORD dwButtonLampID, LPDWORD lpdwLampMode)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    LONG rc = 0;

    rc = enter_handle(hPhone, &rt, &hs);
    if (rc)
        goto out;
    if (!lpdwLampMode) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    dev = &rt->devs[hs->dev];
    if (dev->nlamps == 0) {
        rc = PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    if (dwButtonLampID >= dev->nlamps) {
        rc = PHONEERR_INVALBUTTONLAMPID;
        goto out;
    }
    /* acquire: pairs with the release store in tapiq_batch_complete(). */
    *lpdwLampMode = atomic_load_explicit(&dev->lamp[dwButtonLampID], memory_order_acquire);
out:
    tapiq_guard_exit();
    return rc;
}

/* ---------------------------------------------------------- phoneGetMessage */

/* Write one message for the application; 0 when its handle closed
 * meanwhile (the message is dropped: nothing reaches an application for a
 * handle after phoneClose returned). */
static inline int deliver(struct tapiq_rt *rt, PHONEMESSAGE *out, uint32_t hv, uint32_t msg,
                          uint32_t p1, uint32_t p2)
{
    struct tapiq_handle *hs = &rt->handles[hv & (TAPIQ_MAX_HANDLES - 1)];
    /* acquire: pairs with the release store of hval in phoneOpen. */
    if (atomic_load_explicit(&hs->hval, memory_order_acquire) != hv)
        return 0;
    out->hDevice = hv;
    out->dwMessageID = msg;
    out->dwCallbackInstance = hs->cbinst;
    out->dwParam1 = p1;
    /* A reply's status is a LONG: sign-extended, so that both (LONG)dwParam2
     * and dwParam2 == (DWORD_PTR)PHONEERR_x compare. */
    out->dwParam2 = msg == PHONE_REPLY ? (DWORD_PTR)(intptr_t)(LONG)p2 : p2;
    out->dwParam3 = 0;
    return 1;
}

/* PHONE_STATE tokens first: up to @max. In a read-side section. */
static uint32_t take_events(struct tapiq_rt *rt, struct tapiq_app *app, PHONEMESSAGE *outv,
                            uint32_t max)
{
    uint32_t got = 0;
    struct tapiq_cmsg m;
    while (got < max && tapiq_cmq_pop_try(&app->ring.q, &m, 1) == 1) {
        uint32_t idx = m.handle & (TAPIQ_MAX_HANDLES - 1);
        struct tapiq_handle *hs = &rt->handles[idx];
        /* acquire: pairs with the release store of hval in phoneOpen. */
        int open = atomic_load_explicit(&hs->hval, memory_order_acquire) == m.handle;
        /* Count the token out first, then clear its bit: tokens in the ring
         * <= bits set <= the handle's reservation at every moment (a change
         * between the two is covered by the token being delivered now).
         * seq_cst: against the close's fetch_or (see post_token()). */
        uint32_t t = atomic_fetch_sub_explicit(&hs->tokens, 1, memory_order_seq_cst);
        if (t & TAPIQ_TOKENS_CLOSED)
            tapiq_cring_release_events(&app->ring, 1);
        if (!open)
            continue;
        /* acq_rel: clear before delivering, so a change after this point
         * posts a new token; pairs with post_token(). */
        if (m.p1 == PHONESTATE_LAMP)
            atomic_fetch_and_explicit(&hs->lampbits[m.p2 / 64], ~((uint64_t)1 << (m.p2 % 64)),
                                      memory_order_acq_rel);
        else
            atomic_fetch_and_explicit(&hs->statebits, ~m.p1, memory_order_acq_rel);
        got += (uint32_t)deliver(rt, &outv[got], m.handle, PHONE_STATE, m.p1, m.p2);
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
    if (max == 1) { /* phoneGetMessage: no staging array */
        for (uint32_t w = 0; w < app->ncq && got < max; w++) {
            struct tapiq_cqe m;
            while (tapiq_cq_take(&app->cq[w], &m, 1, lim[w]) == 1) {
                if (deliver(rt, outv, m.handle, PHONE_REPLY, m.p1, m.p2)) {
                    got = 1;
                    break;
                }
                late++;
            }
        }
        max = got; /* done */
    }
    for (uint32_t w = 0; w < app->ncq && got < max; w++) {
        for (;;) {
            struct tapiq_cqe m[32];
            uint32_t want = max - got < 32 ? max - got : 32;
            uint32_t n = tapiq_cq_take(&app->cq[w], m, want, lim[w]);
            for (uint32_t i = 0; i < n; i++) {
                if (deliver(rt, &outv[got], m[i].handle, PHONE_REPLY, m[i].p1, m[i].p2))
                    got++;
                else
                    late++;
            }
            if (n < want || got == max)
                break;
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

/* Returns the number of messages (>= 1) or a negative PHONEERR_*. The clock
 * is read only once nothing is waiting and the caller may wait. */
static LONG get_messages(HPHONEAPP hApp, PHONEMESSAGE *msg, uint32_t max, DWORD timeout,
                         int from_callback)
{
    int64_t deadline = -1;
    int last_look = 0;
    for (;;) {
        struct tapiq_rt *rt;
        struct tapiq_app *app;
        DWORD left = INFINITE;
        int r;

        tapiq_guard_enter();
        rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
        app = rt ? tapiq_app_lookup(rt, hApp) : NULL;
        if (!app) {
            tapiq_guard_exit();
            return PHONEERR_INVALAPPHANDLE;
        }
        if (!msg) {
            tapiq_guard_exit();
            return PHONEERR_INVALPOINTER;
        }
        if (app->cb && !from_callback) {
            tapiq_guard_exit();
            return PHONEERR_OPERATIONUNAVAIL; /* messages go to the callback */
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
            return PHONEERR_OPERATIONFAILED;
        }
        if (timeout != INFINITE) {
            int64_t now = now_ms(), l;
            if (deadline < 0)
                deadline = now + timeout;
            l = deadline - now;
            if (l <= 0) {
                tapiq_guard_exit();
                return PHONEERR_OPERATIONFAILED;
            }
            left = (DWORD)l;
        }
        /* seq_cst: counted inside the section, so a shutdown that
         * unpublished the app and waited for a grace period sees it; the
         * app's memory stays until the count is back to 0. */
        atomic_fetch_add_explicit(&app->waiters, 1, memory_order_seq_cst);
        tapiq_guard_exit();
        r = tapiq_cring_wait(&app->ring, left);
        /* release: our last touch of app; pairs with the acquire load in
         * phoneShutdown, which frees it once the count is 0. */
        atomic_fetch_sub_explicit(&app->waiters, 1, memory_order_release);
        if (r == -ESHUTDOWN)
            return PHONEERR_INVALAPPHANDLE;
        if (r == -ETIMEDOUT)
            last_look = 1; /* one last look: something may have come with the deadline */
    }
}

/* The common case in one pass: a polled application with a reply waiting
 * and no PHONE_STATE token before it (the queue's tail is read first, so a
 * token posted before that reply is seen). No clock, no staging copy, one
 * CAS. Everything else goes to get_messages(). */
TAPIQ_API LONG phoneGetMessage(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessage, DWORD dwTimeout)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    LONG r;

    tapiq_guard_enter();
    /* acquire: pairs with the release store that publishes the runtime. */
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    app = rt ? tapiq_app_lookup(rt, hPhoneApp) : NULL;
    if (__builtin_expect(app && lpMessage && !app->cb && !app->ring.level, 1)) {
        for (uint32_t w = 0; w < app->ncq; w++) {
            struct tapiq_cqe m;
            uint32_t lim = tapiq_cq_tail(&app->cq[w]);
            if (!tapiq_cq_pending(&app->cq[w]))
                continue;
            if (tapiq_cmq_count(&app->ring.q) || !tapiq_cq_take1(&app->cq[w], &m, lim))
                break;
            if (deliver(rt, lpMessage, m.handle, PHONE_REPLY, m.p1, m.p2)) {
                tapiq_guard_exit();
                return 0;
            }
            tapiq_stat_add(rt->stats, TAPIQ_C_SUPPRESSED_LATE, 1); /* handle closed */
            break;
        }
    }
    tapiq_guard_exit();
    r = get_messages(hPhoneApp, lpMessage, 1, dwTimeout, 0);
    return r > 0 ? 0 : r;
}

TAPIQ_API LONG tapiq_get_messages(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessages, DWORD dwMax,
                                  DWORD dwTimeout)
{
    if (dwMax == 0)
        return PHONEERR_INVALPARAM;
    return get_messages(hPhoneApp, lpMessages, dwMax, dwTimeout, 0);
}

/* The delivery thread of an application that gave a callback. */
struct cb_arg {
    uint32_t happ;
    PHONECALLBACK cb;
};

static void *callback_main(void *varg)
{
    struct cb_arg a = *(struct cb_arg *)varg;
    free(varg);
    for (;;) {
        PHONEMESSAGE m[32];
        LONG r = get_messages(a.happ, m, 32, INFINITE, 1);
        if (r == PHONEERR_INVALAPPHANDLE)
            break;
        for (LONG i = 0; i < r; i++)
            a.cb(m[i].hDevice, m[i].dwMessageID, m[i].dwCallbackInstance, m[i].dwParam1,
                 m[i].dwParam2, m[i].dwParam3);
    }
    return NULL;
}

/* ------------------------------------------------------- initialize / shut */

static int runtime_start_locked(char *err, size_t errlen)
{
    struct tapiq_config cfg;
    struct tapiq_rt *rt;
    const char *text = g_config_set ? g_config_text : getenv("TAPIQ_CONFIG");
    int rc = tapiq_config_parse(text, &cfg, err, errlen);
    if (rc)
        return rc;
    rc = tapiq_rt_create(&cfg, &rt, err, errlen);
    if (rc) {
        tapiq_config_free(&cfg);
        return rc;
    }
    /* release: publishes the fully built runtime to every acquire load. */
    atomic_store_explicit(&tapiq_g_rt, rt, memory_order_release);
    return 0;
}

static void runtime_stop_locked(struct tapiq_rt *rt)
{
    atomic_store_explicit(&tapiq_g_rt, NULL, memory_order_release);
    tapiq_guard_synchronize();
    tapiq_rt_destroy(rt);
}

/* Replies waiting in any of the app's completion queues (cring's @pending). */
static int app_replies_pending(void *arg)
{
    struct tapiq_app *app = arg;
    for (uint32_t w = 0; w < app->ncq; w++)
        if (tapiq_cq_pending(&app->cq[w]))
            return 1;
    return 0;
}

/* Completion queues: one per worker, each 4 x a ring's entries (at least
 * 64); a worker that finds one full holds the replies until there is room. */
static int app_queues_init(struct tapiq_rt *rt, struct tapiq_app *app, int level)
{
    uint32_t size = rt->sq_size * 4 < 64 ? 64 : rt->sq_size * 4;
    app->cq = tapiq_calloc(rt->cfg.workers, sizeof(*app->cq));
    if (!app->cq)
        return -ENOMEM;
    for (app->ncq = 0; app->ncq < rt->cfg.workers; app->ncq++)
        if (tapiq_cq_init(&app->cq[app->ncq], size))
            goto fail;
    if (tapiq_cring_init(&app->ring, rt->cfg.events, level, app_replies_pending, app))
        goto fail;
    return 0;
fail:
    while (app->ncq)
        tapiq_cq_destroy(&app->cq[--app->ncq]);
    free(app->cq);
    return -ENOMEM;
}

static void app_queues_destroy(struct tapiq_app *app)
{
    tapiq_cring_destroy(&app->ring);
    while (app->ncq)
        tapiq_cq_destroy(&app->cq[--app->ncq]);
    free(app->cq);
}

static LONG initialize(LPHPHONEAPP lphApp, PHONECALLBACK cb, LPCSTR name, LPDWORD lpdwNumDevs,
                       LPDWORD lpdwAPIVersion, LPPHONEINITIALIZEEXPARAMS params)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    DWORD options = 0;
    uint32_t idx;
    int level, rc, started = 0;
    char err[256] = "";

    set_last_error("");
    if (!lphApp || !lpdwNumDevs || !lpdwAPIVersion)
        return PHONEERR_INVALPOINTER;
    if (params) {
        if (params->dwTotalSize < sizeof(PHONEINITIALIZEEXPARAMS)) {
            if (params->dwTotalSize >= 12)
                params->dwNeededSize = sizeof(PHONEINITIALIZEEXPARAMS);
            return PHONEERR_STRUCTURETOOSMALL;
        }
        options = params->dwOptions;
    } else if (cb) {
        options = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    }
    if (options == PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT || options > 3) {
        set_last_error("only USEHIDDENWINDOW (with a callback) and USEEVENT are supported");
        return PHONEERR_INVALPARAM;
    }
    if (options == PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW && !cb)
        return PHONEERR_INVALPOINTER;
    if (options != PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW)
        cb = NULL;
    if (*lpdwAPIVersion < TAPIQ_API_LOW)
        return PHONEERR_INCOMPATIBLEAPIVERSION;
    level = options == PHONEINITIALIZEEXOPTION_USEEVENT;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt) {
        rc = runtime_start_locked(err, sizeof(err));
        if (rc) {
            pthread_mutex_unlock(&tapiq_g_lock);
            set_last_error(err[0] ? err : "cannot start");
            if (rc == -ENOMEM)
                return PHONEERR_NOMEM;
            if (rc == -EINVAL)
                return PHONEERR_INIFILECORRUPT;
            return PHONEERR_NODRIVER;
        }
        /* relaxed: stored just above by this thread, under g_lock. */
        rt = atomic_load_explicit(&tapiq_g_rt, memory_order_relaxed);
        started = 1;
    }
    /* A slot whose generation is used up is retired: a stale HPHONEAPP never
     * names a new application. */
    for (idx = 1; idx < TAPIQ_MAX_APPS; idx++)
        if (!atomic_load_explicit(&rt->apps[idx], memory_order_relaxed) &&
            g_app_gen[idx] != UINT16_MAX)
            break;
    app = idx < TAPIQ_MAX_APPS ? tapiq_calloc(1, sizeof(*app)) : NULL;
    if (!app || app_queues_init(rt, app, level)) {
        free(app);
        if (started)
            runtime_stop_locked(rt);
        pthread_mutex_unlock(&tapiq_g_lock);
        set_last_error(idx < TAPIQ_MAX_APPS ? "out of memory" : "too many applications");
        return idx < TAPIQ_MAX_APPS ? PHONEERR_NOMEM : PHONEERR_RESOURCEUNAVAIL;
    }
    g_app_gen[idx]++;
    app->h = (uint32_t)g_app_gen[idx] << TAPIQ_APP_BITS | idx;
    app->rt = rt;
    app->cb = cb;
    atomic_init(&app->waiters, 0);
    snprintf(app->name, sizeof(app->name), "%s", name ? name : "");
    if (cb) {
        struct cb_arg *a = tapiq_malloc(sizeof(*a));
        if (a) {
            a->happ = app->h;
            a->cb = cb;
        }
        /* published before the thread starts so it finds the app */
        atomic_store_explicit(&rt->apps[idx], app, memory_order_release);
        if (!a || pthread_create(&app->cb_thread, NULL, callback_main, a)) {
            free(a);
            atomic_store_explicit(&rt->apps[idx], NULL, memory_order_release);
            tapiq_guard_synchronize();
            app_queues_destroy(app);
            free(app);
            if (started)
                runtime_stop_locked(rt);
            pthread_mutex_unlock(&tapiq_g_lock);
            set_last_error("cannot start the callback thread");
            return PHONEERR_NOMEM;
        }
        app->has_cb_thread = 1;
    } else {
        /* release: publishes the app's fields to tapiq_app_lookup(). */
        atomic_store_explicit(&rt->apps[idx], app, memory_order_release);
    }
    rt->napps++;
    *lphApp = app->h;
    *lpdwNumDevs = rt->ndev;
    *lpdwAPIVersion = TAPIQ_API_HIGH;
    if (params) {
        params->dwNeededSize = sizeof(PHONEINITIALIZEEXPARAMS);
        params->dwUsedSize = sizeof(PHONEINITIALIZEEXPARAMS);
        if (level)
            params->Handles.hEvent = (HANDLE)(intptr_t)app->ring.efd;
    }
    pthread_mutex_unlock(&tapiq_g_lock);
    return 0;
}

TAPIQ_API LONG phoneInitializeEx(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                 PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                 LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                 LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams)
{
    (void)hInstance;
    return initialize(lphPhoneApp, lpfnCallback, lpszFriendlyAppName, lpdwNumDevs,
                      lpdwAPIVersion, lpPhoneInitializeExParams);
}

TAPIQ_API LONG phoneInitializeExA(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                  PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                  LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                  LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams)
{
    (void)hInstance;
    return initialize(lphPhoneApp, lpfnCallback, lpszFriendlyAppName, lpdwNumDevs,
                      lpdwAPIVersion, lpPhoneInitializeExParams);
}

/* Remove slot @idx from @dev's subscriber list; under g_lock. The caller
 * waits for a grace period before freeing what is returned. */
static struct tapiq_subs *subs_change_locked(struct tapiq_dev *dev, uint32_t idx, int add,
                                             int *nomem)
{
    struct tapiq_subs *old = atomic_load_explicit(&dev->subs, memory_order_relaxed);
    uint32_t n = old ? old->n : 0, k = 0;
    struct tapiq_subs *s = tapiq_malloc(sizeof(*s) + sizeof(uint32_t) * (n + 1));
    *nomem = 0;
    if (!s) {
        *nomem = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        if (old->slot[i] != idx)
            s->slot[k++] = old->slot[i];
    if (add)
        s->slot[k++] = idx;
    s->n = k;
    /* release: publishes the new list's contents; pairs with the acquire
     * load in tapiq_notify_*(). */
    atomic_store_explicit(&dev->subs, s, memory_order_release);
    return old;
}

/* Close handle slot @hs; under g_lock. Returns a subscriber list to free
 * after a grace period (or NULL). */
static struct tapiq_subs *close_handle_locked(struct tapiq_rt *rt, struct tapiq_handle *hs)
{
    uint32_t idx = (uint32_t)(hs - rt->handles), t;
    struct tapiq_dev *dev = &rt->devs[hs->dev];
    struct tapiq_subs *old = NULL;
    /* release: readers that still see the old value finish inside their
     * critical sections; new readers see 0. */
    atomic_store_explicit(&hs->hval, 0, memory_order_seq_cst);
    /* seq_cst: pairs with the fetch_add in post_token(); see there. */
    t = atomic_fetch_or_explicit(&hs->tokens, TAPIQ_TOKENS_CLOSED, memory_order_seq_cst);
    if (hs->reserved)
        tapiq_cring_release_events(&hs->app->ring, hs->reserved - (t & ~TAPIQ_TOKENS_CLOSED));
    hs->reserved = 0;
    /* relaxed: plain counters for PHONESTATUS. */
    if (hs->priv == PHONEPRIVILEGE_OWNER)
        atomic_fetch_sub_explicit(&dev->nowners, 1, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&dev->nmonitors, 1, memory_order_relaxed);
    if (hs->in_subs) {
        int nomem;
        old = subs_change_locked(dev, idx, 0, &nomem);
        if (nomem) {
            /* Keep the slot listed; readers skip closed handles. It leaves
             * the list when the slot is reused. */
            old = NULL;
        } else {
            hs->in_subs = 0;
        }
    }
    rt->limbo_handles[rt->nlimbo_handles++] = idx;
    return old;
}

TAPIQ_API LONG phoneShutdown(HPHONEAPP hPhoneApp)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    struct tapiq_subs *garbage = NULL;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    app = rt ? tapiq_app_lookup(rt, hPhoneApp) : NULL;
    if (!app) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return PHONEERR_INVALAPPHANDLE;
    }
    for (uint32_t i = 1; i < rt->fresh_handles; i++) {
        struct tapiq_handle *hs = &rt->handles[i];
        if (atomic_load_explicit(&hs->hval, memory_order_relaxed) && hs->app == app) {
            struct tapiq_subs *old = close_handle_locked(rt, hs);
            if (old) {
                old->garbage_next = garbage;
                garbage = old;
            }
        }
    }
    /* release: unpublish; lookups after this fail. */
    atomic_store_explicit(&rt->apps[app->h & (TAPIQ_MAX_APPS - 1)], NULL, memory_order_release);
    tapiq_cring_close(&app->ring);
    pthread_mutex_unlock(&tapiq_g_lock);

    tapiq_guard_synchronize();
    while (garbage) {
        struct tapiq_subs *next = garbage->garbage_next;
        free(garbage);
        garbage = next;
    }
    if (app->has_cb_thread) {
        if (pthread_equal(app->cb_thread, pthread_self()))
            pthread_detach(app->cb_thread);
        else
            pthread_join(app->cb_thread, NULL);
    }
    /* acquire: pairs with the release decrement in get_messages(). */
    while (atomic_load_explicit(&app->waiters, memory_order_acquire) != 0)
        sched_yield();

    pthread_mutex_lock(&tapiq_g_lock);
    /* Tokens of this app's closed handles died with its ring. */
    for (uint32_t i = 0; i < rt->nlimbo_handles; i++) {
        struct tapiq_handle *hs = &rt->handles[rt->limbo_handles[i]];
        if (hs->app == app) /* relaxed: no reader left (ring gone, grace period passed) */
            atomic_store_explicit(&hs->tokens, TAPIQ_TOKENS_CLOSED, memory_order_relaxed);
    }
    app_queues_destroy(app);
    free(app);
    if (--rt->napps == 0)
        runtime_stop_locked(rt);
    pthread_mutex_unlock(&tapiq_g_lock);
    return 0;
}

/* ------------------------------------------------------ devices and handles */

static int api_ok(DWORD v)
{
    return v >= TAPIQ_API_LOW && v <= TAPIQ_API_HIGH;
}

TAPIQ_API LONG phoneNegotiateAPIVersion(HPHONEAPP hPhoneApp, DWORD dwDeviceID,
                                        DWORD dwAPILowVersion, DWORD dwAPIHighVersion,
                                        LPDWORD lpdwAPIVersion, LPPHONEEXTENSIONID lpExtensionID)
{
    struct tapiq_rt *rt;
    LONG rc = 0;
    tapiq_guard_enter();
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt || !tapiq_app_lookup(rt, hPhoneApp))
        rc = PHONEERR_INVALAPPHANDLE;
    else if (dwDeviceID >= rt->ndev)
        rc = PHONEERR_BADDEVICEID;
    else if (!lpdwAPIVersion || !lpExtensionID)
        rc = PHONEERR_INVALPOINTER;
    else if (dwAPILowVersion > dwAPIHighVersion || dwAPIHighVersion < TAPIQ_API_LOW ||
             dwAPILowVersion > TAPIQ_API_HIGH)
        rc = PHONEERR_INCOMPATIBLEAPIVERSION;
    else {
        *lpdwAPIVersion = dwAPIHighVersion < TAPIQ_API_HIGH ? dwAPIHighVersion : TAPIQ_API_HIGH;
        lpExtensionID->dwExtensionID0 = 0;
        lpExtensionID->dwExtensionID1 = 0;
        lpExtensionID->dwExtensionID2 = 0;
        lpExtensionID->dwExtensionID3 = 0;
    }
    tapiq_guard_exit();
    return rc;
}

/* Make closed slots reusable: one grace period, then every limbo slot whose
 * tokens have all left the ring. Under g_lock. */
static void recycle_limbo_locked(struct tapiq_rt *rt)
{
    uint32_t keep = 0;
    tapiq_guard_synchronize();
    for (uint32_t i = 0; i < rt->nlimbo_handles; i++) {
        uint32_t idx = rt->limbo_handles[i];
        struct tapiq_handle *hs = &rt->handles[idx];
        /* acquire: pairs with the consumer's fetch_sub of the last token. */
        uint32_t t = atomic_load_explicit(&hs->tokens, memory_order_acquire);
        if ((t & ~TAPIQ_TOKENS_CLOSED) == 0 && g_handle_gen[idx] != UINT16_MAX)
            rt->free_handles[rt->nfree_handles++] = idx;
        else if ((t & ~TAPIQ_TOKENS_CLOSED) != 0)
            rt->limbo_handles[keep++] = idx;
        /* else: its generation is used up; retired so a value never repeats */
    }
    rt->nlimbo_handles = keep;
}

TAPIQ_API LONG phoneOpen(HPHONEAPP hPhoneApp, DWORD dwDeviceID, LPHPHONE lphPhone,
                         DWORD dwAPIVersion, DWORD dwExtVersion, DWORD_PTR dwCallbackInstance,
                         DWORD dwPrivilege)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    uint32_t idx, words;
    LONG rc = 0;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    app = rt ? tapiq_app_lookup(rt, hPhoneApp) : NULL;
    if (!app) {
        rc = PHONEERR_INVALAPPHANDLE;
        goto out;
    }
    if (dwDeviceID >= rt->ndev) {
        rc = PHONEERR_BADDEVICEID;
        goto out;
    }
    if (!lphPhone) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    if (!api_ok(dwAPIVersion)) {
        rc = PHONEERR_INCOMPATIBLEAPIVERSION;
        goto out;
    }
    if (dwExtVersion != 0) {
        rc = PHONEERR_INCOMPATIBLEEXTVERSION;
        goto out;
    }
    if (dwPrivilege != PHONEPRIVILEGE_OWNER && dwPrivilege != PHONEPRIVILEGE_MONITOR) {
        rc = PHONEERR_INVALPRIVILEGE;
        goto out;
    }
    /* A reusable slot, else one never used (retired ones skipped), else the
     * closed ones once a grace period has passed. */
    while (rt->nfree_handles == 0 && rt->fresh_handles < TAPIQ_MAX_HANDLES &&
           g_handle_gen[rt->fresh_handles] == UINT16_MAX)
        rt->fresh_handles++;
    if (rt->nfree_handles == 0 && rt->fresh_handles == TAPIQ_MAX_HANDLES)
        recycle_limbo_locked(rt);
    if (rt->nfree_handles == 0 && rt->fresh_handles == TAPIQ_MAX_HANDLES) {
        rc = PHONEERR_RESOURCEUNAVAIL;
        goto out;
    }
    dev = &rt->devs[dwDeviceID];
    idx = rt->nfree_handles ? rt->free_handles[rt->nfree_handles - 1] : rt->fresh_handles;
    hs = &rt->handles[idx];
    words = (dev->nlamps + 63) / 64;
    if (words > hs->lampbits_words) {
        _Atomic uint64_t *nb = tapiq_calloc(words, sizeof(*nb));
        if (!nb) {
            rc = PHONEERR_NOMEM;
            goto out;
        }
        free(hs->lampbits);
        hs->lampbits = nb;
        hs->lampbits_words = words;
    }
    if (hs->in_subs) {
        /* left listed on an earlier device after an allocation failure */
        int nomem;
        struct tapiq_subs *old = subs_change_locked(&rt->devs[hs->dev], idx, 0, &nomem);
        if (nomem) {
            rc = PHONEERR_NOMEM;
            goto out;
        }
        tapiq_guard_synchronize();
        free(old);
        hs->in_subs = 0;
    }
    if (rt->nfree_handles)
        rt->nfree_handles--;
    else
        rt->fresh_handles++;
    /* relaxed (the resets below): the slot is unpublished and no reader
     * touched it since a grace period; the release store of hval publishes
     * them. */
    for (uint32_t w = 0; w < hs->lampbits_words; w++)
        atomic_store_explicit(&hs->lampbits[w], 0, memory_order_relaxed);
    hs->happ = app->h;
    hs->app = app;
    hs->dev = dwDeviceID;
    hs->priv = dwPrivilege;
    hs->api_version = dwAPIVersion;
    hs->cbinst = dwCallbackInstance;
    hs->button_modes = 0;
    hs->button_states = 0;
    hs->reserved = 0;
    atomic_store_explicit(&hs->states, 0, memory_order_relaxed);
    atomic_store_explicit(&hs->tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&hs->statebits, 0, memory_order_relaxed);
    g_handle_gen[idx]++; /* never wraps: a used-up slot is retired */
    /* relaxed (owner/monitor counts): plain counters for PHONESTATUS. */
    if (dwPrivilege == PHONEPRIVILEGE_OWNER)
        atomic_fetch_add_explicit(&dev->nowners, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&dev->nmonitors, 1, memory_order_relaxed);
    *lphPhone = (uint32_t)g_handle_gen[idx] << TAPIQ_HANDLE_BITS | idx;
    /* release: publishes the slot's fields; pairs with the acquire load in
     * tapiq_handle_lookup(). */
    atomic_store_explicit(&hs->hval, *lphPhone, memory_order_release);
out:
    pthread_mutex_unlock(&tapiq_g_lock);
    return rc;
}

TAPIQ_API LONG phoneClose(HPHONE hPhone)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_subs *old = NULL;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return PHONEERR_UNINITIALIZED;
    }
    hs = tapiq_handle_lookup(rt, hPhone);
    if (!hs) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return PHONEERR_INVALPHONEHANDLE;
    }
    old = close_handle_locked(rt, hs);
    pthread_mutex_unlock(&tapiq_g_lock);
    if (old) {
        tapiq_guard_synchronize();
        free(old);
    }
    return 0;
}

/* ---------------------------------------------------------- caps and status */

/* Fixed part of PHONECAPS for an API version. */
static DWORD caps_fixed_size(DWORD api)
{
    if (api >= TAPI_VERSION2_2)
        return sizeof(PHONECAPS);
    if (api >= TAPI_VERSION2_0)
        return offsetof(PHONECAPS, PermanentPhoneGuid);
    return offsetof(PHONECAPS, dwDeviceClassesSize);
}

static DWORD status_fixed_size(DWORD api)
{
    if (api >= TAPI_VERSION2_0)
        return sizeof(PHONESTATUS);
    return offsetof(PHONESTATUS, dwPhoneFeatures);
}

#define PHONEBUTTONMODE_DUMMY_ 0x00000001u

TAPIQ_API LONG phoneGetDevCaps(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                               DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps)
{
    struct tapiq_rt *rt;
    struct tapiq_dev *dev;
    char provider[48], pname[64];
    DWORD fixed, need, total, plen, nlen, arr;
    unsigned char *base = (unsigned char *)lpPhoneCaps;
    LONG rc = 0;

    tapiq_guard_enter();
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt || !tapiq_app_lookup(rt, hPhoneApp)) {
        rc = PHONEERR_INVALAPPHANDLE;
        goto out;
    }
    if (dwDeviceID >= rt->ndev) {
        rc = PHONEERR_BADDEVICEID;
        goto out;
    }
    if (!api_ok(dwAPIVersion)) {
        rc = PHONEERR_INCOMPATIBLEAPIVERSION;
        goto out;
    }
    if (dwExtVersion != 0) {
        rc = PHONEERR_INCOMPATIBLEEXTVERSION;
        goto out;
    }
    if (!lpPhoneCaps) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    dev = &rt->devs[dwDeviceID];
    fixed = caps_fixed_size(dwAPIVersion);
    snprintf(provider, sizeof(provider), "tapiq %s", rt->cfg.backend->name);
    snprintf(pname, sizeof(pname), "%s console %u", rt->cfg.backend->name, dwDeviceID);
    plen = (DWORD)strlen(provider) + 1;
    nlen = (DWORD)strlen(pname) + 1;
    arr = dev->nlamps * (DWORD)sizeof(DWORD);
    need = fixed + ((plen + 3) & ~3u) + ((nlen + 3) & ~3u) + 2 * arr;
    total = lpPhoneCaps->dwTotalSize;
    if (total < fixed) {
        if (total >= 12)
            lpPhoneCaps->dwNeededSize = need;
        rc = PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    memset(base + 4, 0, fixed - 4);
    lpPhoneCaps->dwTotalSize = total;
    lpPhoneCaps->dwNeededSize = need;
    lpPhoneCaps->dwUsedSize = fixed;
    lpPhoneCaps->dwPermanentPhoneID = dwDeviceID;
    lpPhoneCaps->dwStringFormat = STRINGFORMAT_ASCII;
    lpPhoneCaps->dwPhoneStates = PHONESTATE_OTHER | PHONESTATE_CONNECTED |
                                 PHONESTATE_DISCONNECTED | PHONESTATE_OWNER |
                                 PHONESTATE_MONITORS | PHONESTATE_LAMP;
    lpPhoneCaps->dwNumButtonLamps = dev->nlamps;
    if (dwAPIVersion >= TAPI_VERSION2_0)
        lpPhoneCaps->dwPhoneFeatures = dev->nlamps ? PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP : 0;
    if (total >= need) {
        DWORD off = fixed;
        memcpy(base + off, provider, plen);
        lpPhoneCaps->dwProviderInfoSize = plen;
        lpPhoneCaps->dwProviderInfoOffset = off;
        off += (plen + 3) & ~3u;
        memcpy(base + off, pname, nlen);
        lpPhoneCaps->dwPhoneNameSize = nlen;
        lpPhoneCaps->dwPhoneNameOffset = off;
        off += (nlen + 3) & ~3u;
        lpPhoneCaps->dwButtonModesSize = arr;
        lpPhoneCaps->dwButtonModesOffset = off;
        for (DWORD i = 0; i < dev->nlamps; i++) {
            DWORD v = PHONEBUTTONMODE_DUMMY_;
            memcpy(base + off + i * 4, &v, 4);
        }
        off += arr;
        lpPhoneCaps->dwLampModesSize = arr;
        lpPhoneCaps->dwLampModesOffset = off;
        memcpy(base + off, dev->modes, arr);
        off += arr;
        lpPhoneCaps->dwUsedSize = off;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetStatus(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    DWORD fixed, need, total, arr;
    unsigned char *base = (unsigned char *)lpPhoneStatus;
    LONG rc = 0;

    rc = enter_handle(hPhone, &rt, &hs);
    if (rc)
        goto out;
    if (!lpPhoneStatus) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    dev = &rt->devs[hs->dev];
    fixed = status_fixed_size(hs->api_version);
    arr = dev->nlamps * (DWORD)sizeof(DWORD);
    need = fixed + arr;
    total = lpPhoneStatus->dwTotalSize;
    if (total < fixed) {
        if (total >= 12)
            lpPhoneStatus->dwNeededSize = need;
        rc = PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    memset(base + 4, 0, fixed - 4);
    lpPhoneStatus->dwNeededSize = need;
    lpPhoneStatus->dwUsedSize = fixed;
    lpPhoneStatus->dwStatusFlags =
        atomic_load_explicit(&dev->connected, memory_order_relaxed) ? PHONESTATUSFLAGS_CONNECTED : 0;
    lpPhoneStatus->dwNumOwners = atomic_load_explicit(&dev->nowners, memory_order_relaxed);
    lpPhoneStatus->dwNumMonitors = atomic_load_explicit(&dev->nmonitors, memory_order_relaxed);
    if (hs->api_version >= TAPI_VERSION2_0)
        lpPhoneStatus->dwPhoneFeatures =
            dev->nlamps ? PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP : 0;
    if (total >= need) {
        for (DWORD i = 0; i < dev->nlamps; i++) {
            /* acquire: pairs with the release store in tapiq_batch_complete(). */
            DWORD v = atomic_load_explicit(&dev->lamp[i], memory_order_acquire);
            memcpy(base + fixed + i * 4, &v, 4);
        }
        lpPhoneStatus->dwLampModesSize = arr;
        lpPhoneStatus->dwLampModesOffset = fixed;
        lpPhoneStatus->dwUsedSize = need;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneSetStatusMessages(HPHONE hPhone, DWORD dwPhoneStates, DWORD dwButtonModes,
                                      DWORD dwButtonStates)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_subs *old = NULL;
    LONG rc = 0;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt) {
        rc = PHONEERR_UNINITIALIZED;
        goto out;
    }
    hs = tapiq_handle_lookup(rt, hPhone);
    if (!hs) {
        rc = PHONEERR_INVALPHONEHANDLE;
        goto out;
    }
    if (dwPhoneStates & ~TAPIQ_ALL_PHONESTATES) {
        rc = PHONEERR_INVALPHONESTATE;
        goto out;
    }
    if (dwButtonModes & ~0x3Fu) {
        rc = PHONEERR_INVALBUTTONMODE;
        goto out;
    }
    if (dwButtonStates & ~0x0Fu) {
        rc = PHONEERR_INVALBUTTONSTATE;
        goto out;
    }
    if (dwPhoneStates && !hs->reserved) {
        struct tapiq_dev *dev = &rt->devs[hs->dev];
        uint32_t need = dev->nlamps + TAPIQ_EVENTS_PER_HANDLE_EXTRA;
        if (tapiq_cring_reserve_events(&hs->app->ring, need)) {
            rc = PHONEERR_RESOURCEUNAVAIL;
            goto out;
        }
        hs->reserved = need;
        if (!hs->in_subs) {
            int nomem;
            old = subs_change_locked(dev, (uint32_t)(hs - rt->handles), 1, &nomem);
            if (nomem) {
                tapiq_cring_release_events(&hs->app->ring, need);
                hs->reserved = 0;
                rc = PHONEERR_NOMEM;
                goto out;
            }
            hs->in_subs = 1;
        }
    }
    hs->button_modes = dwButtonModes;
    hs->button_states = dwButtonStates;
    /* release: the reservation and the subscriber list come first; pairs
     * with the acquire loads of states in tapiq_notify_*(). */
    atomic_store_explicit(&hs->states, dwPhoneStates, memory_order_release);
out:
    pthread_mutex_unlock(&tapiq_g_lock);
    if (old) {
        tapiq_guard_synchronize();
        free(old);
    }
    return rc;
}

TAPIQ_API LONG phoneGetStatusMessages(HPHONE hPhone, LPDWORD lpdwPhoneStates,
                                      LPDWORD lpdwButtonModes, LPDWORD lpdwButtonStates)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    LONG rc = 0;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt)
        rc = PHONEERR_UNINITIALIZED;
    else if (!(hs = tapiq_handle_lookup(rt, hPhone)))
        rc = PHONEERR_INVALPHONEHANDLE;
    else if (!lpdwPhoneStates || !lpdwButtonModes || !lpdwButtonStates)
        rc = PHONEERR_INVALPOINTER;
    else {
        *lpdwPhoneStates = atomic_load_explicit(&hs->states, memory_order_relaxed);
        *lpdwButtonModes = hs->button_modes;
        *lpdwButtonStates = hs->button_states;
    }
    pthread_mutex_unlock(&tapiq_g_lock);
    return rc;
}

/* ----------------------------------------------------------- native config */

TAPIQ_API int tapiq_configure(const char *config)
{
    struct tapiq_config cfg;
    char err[256];
    char *copy = NULL;
    int rc;

    pthread_mutex_lock(&tapiq_g_lock);
    if (atomic_load_explicit(&tapiq_g_rt, memory_order_acquire)) {
        pthread_mutex_unlock(&tapiq_g_lock);
        set_last_error("the configuration is fixed while an application is initialized");
        return -EBUSY;
    }
    if (config) {
        rc = tapiq_config_parse(config, &cfg, err, sizeof(err));
        if (rc) {
            pthread_mutex_unlock(&tapiq_g_lock);
            set_last_error(err);
            return rc;
        }
        tapiq_config_free(&cfg);
        copy = tapiq_strdup(config);
        if (!copy) {
            pthread_mutex_unlock(&tapiq_g_lock);
            set_last_error("out of memory");
            return -ENOMEM;
        }
    }
    free(g_config_text);
    g_config_text = copy;
    g_config_set = config != NULL;
    pthread_mutex_unlock(&tapiq_g_lock);
    set_last_error("");
    return 0;
}

TAPIQ_API int tapiq_register_backend(const tapiq_backend_ops *ops)
{
    int rc;
    pthread_mutex_lock(&tapiq_g_lock);
    rc = tapiq_backend_register_unsync(ops);
    pthread_mutex_unlock(&tapiq_g_lock);
    return rc;
}
