/* core/app.h - applications (HPHONEAPP): their completion queues, event ring,
 * callback thread and message take.
 *
 * Replies reach an application through one completion queue per worker
 * (core/cq.h, single producer: that worker); PHONE_STATE tokens through its
 * event ring (core/cring.h), which also carries the wake-up (eventfd) for
 * both. A callback application has a delivery thread that takes messages
 * and calls the callback.
 *
 * Synchronization table:
 *   lookup, get_messages, take_one: any thread, concurrently with each other
 *     and with the workers posting; lock-free except the blocking wait.
 *   pin_for_close/wait_delivery_blocking/unpin: any thread but the app's
 *     delivery thread (phoneClose).
 *   create, unpublish, free: under g_lock (free after a grace period and
 *     after wait_idle_blocking).
 * Progress: take is lock-free (one CAS per queue taken from); a wait blocks
 * until a post, the timeout, or shutdown.
 */
#ifndef TAPIQ_CORE_APP_H
#define TAPIQ_CORE_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/cq.h"
#include "core/cring.h"
#include "core/handle.h"
#include "core/runtime.h"

#define TAPIQ_APP_BITS 16
/* A completion queue's entries (16 bytes each) for rings of @q entries:
 * room for the replies of 16 full rings, at most 8,192 entries (128 KiB)
 * unless 4 rings need more, at least 64: max(64, 4 q, min(16 q, 8192));
 * a power of two, as @q is (the queue's mask needs it).
 * A reply that finds its queue full is kept by the worker and posted again
 * later, which costs more per reply than one write: with 64 issuing threads
 * on 200 consoles and a reader that falls behind, room for 4 rings (4,096
 * entries with the default queue) ran 5-9% slower than 8,192 and 7-29%
 * slower than 16,384 in paired runs; 16,384 seemed to lose 3-19% at 10,000
 * consoles, where every line a request touches counts, 8,192 did not. */
static inline uint64_t tapiq_cq_entries(uint64_t q)
{
    uint64_t n = 16 * q < 8192 ? 16 * q : 8192;
    if (n < 4 * q)
        n = 4 * q;
    return n < 64 ? 64 : n;
}
#define TAPIQ_MAX_APPS TAPIQ_RT_MAX_APPS /* 1024; slot 0 unused */
_Static_assert(TAPIQ_MAX_APPS <= (1u << TAPIQ_APP_BITS), "app slots fit the handle bits");

struct tapiq_app {
    uint32_t h; /* HPHONEAPP */
    struct tapiq_rt *rt;
    struct tapiq_cring ring; /* PHONE_STATE tokens, the fd and blocking waits */
    struct tapiq_cq *cq;     /* replies: one completion queue per worker */
    uint32_t ncq;
    PHONECALLBACK cb;
    uint32_t nfast;    /* ncq when polled (no callback, not USEEVENT), else 0:
                          the queues phoneGetMessage's fast path looks at */
    pthread_t cb_thread;
    int has_cb_thread;
    _Atomic uint32_t waiters; /* threads blocked in get_messages, or pinning it */
    _Atomic uint32_t cb_current; /* handle whose message the callback is being given */
    char name[64];
};

/* A free slot of rt->apps[] holds this application, whose handle value 0
 * no HPHONEAPP has (a lookup then needs no NULL test). Never written. */
extern struct tapiq_app tapiq_app_none;

/* Every slot of rt->apps[] free (before the runtime is published). */
void tapiq_app_slots_init(struct tapiq_rt *rt);

/* The application @happ, or NULL. In a read-side section.
 * acquire: pairs with the release store that publishes the app. */
static inline struct tapiq_app *tapiq_app_lookup(struct tapiq_rt *rt, uint32_t happ)
{
    uint32_t idx = happ & ((1u << TAPIQ_APP_BITS) - 1);
    struct tapiq_app *a;
    if (idx == 0 || idx >= TAPIQ_MAX_APPS)
        return NULL;
    a = atomic_load_explicit(&rt->apps[idx], memory_order_acquire);
    return a->h == happ ? a : NULL; /* a free slot: tapiq_app_none, h 0 */
}

static inline uint32_t tapiq_app_handle(const struct tapiq_app *app)
{
    return app->h;
}

static inline struct tapiq_cring *tapiq_app_ring(struct tapiq_app *app)
{
    return &app->ring;
}

/* Create and publish an application; under g_lock. @level: USEEVENT (the fd
 * is the application's to poll); @cb: callback mode (a delivery thread).
 * Returns 0 with *out, -ENOSPC (1,023 at once, or generations used up),
 * -ENOMEM, -EMFILE/-ENFILE (no eventfd), -EAGAIN (no thread). */
int tapiq_app_create_locked(struct tapiq_rt *rt, PHONECALLBACK cb, const char *name, int level,
                            struct tapiq_app **out);
/* Unpublish and wake every waiter (they return -ESHUTDOWN); under g_lock. */
void tapiq_app_unpublish_locked(struct tapiq_rt *rt, struct tapiq_app *app);
/* After a grace period: join the delivery thread (detach it when called
 * from it) and wait until no thread is blocked in a wait. Blocks (the join,
 * then a sched_yield loop until the blocked readers and pinned closers have
 * left). */
void tapiq_app_wait_idle_blocking(struct tapiq_app *app);
void tapiq_app_free(struct tapiq_app *app);

/* Take up to @max messages of application @happ, waiting up to @timeout ms
 * (UINT32_MAX: no limit) for the first one. PHONE_STATE before replies.
 * Returns the count (>= 1), -ENOENT (no such application, or it shut down),
 * -EFAULT (@msg NULL), -EOPNOTSUPP (a callback application, unless
 * @from_callback), -ETIMEDOUT (nothing within the timeout), or the -errno
 * of a failed wait (tapiq_cring_wait_blocking: poll's -ENOMEM, -EINVAL).
 * Blocks when @timeout is not 0. */
long tapiq_app_get_messages(uint32_t happ, PHONEMESSAGE *msg, uint32_t max, uint32_t timeout,
                            int from_callback);
/* phoneClose of a handle of a callback application, from a thread that is
 * not its delivery thread: once the handle is closed, wait until the
 * callback is not being given a message for it (nothing for the handle
 * reaches the application after phoneClose returns). pin under g_lock,
 * then wait_delivery_blocking (a sched_yield loop until the callback
 * returns or the application shuts down) and unpin without it. The app
 * stays allocated while pinned (wait_idle_blocking waits). Only the app's
 * own delivery thread is exempt: another application's delivery thread
 * waits too, so two callbacks that close each other's handles wait for
 * each other for ever (the rule in tapi.h; test_close_rules
 * callback-close-cross shows the wait). */
int tapiq_app_pin_for_close_locked(struct tapiq_app *app);
void tapiq_app_wait_delivery_blocking(struct tapiq_app *app, uint32_t hv);
void tapiq_app_unpin(struct tapiq_app *app);

/* Write one message for handle @hv, whose slot @hs a lookup found open. */
static inline void tapiq_app_msg(PHONEMESSAGE *out, const struct tapiq_handle *hs, uint32_t hv,
                                 uint32_t msg, uint32_t p1, uint32_t p2)
{
    out->hDevice = hv;
    out->dwMessageID = msg;
    out->dwCallbackInstance = hs->cbinst;
    out->dwParam1 = p1;
    /* A reply's status as a DWORD value (zero-extended), as the SDK posts
     * it: both dwParam2 == PHONEERR_x and (LONG)dwParam2 == PHONEERR_x hold. */
    out->dwParam2 = (DWORD_PTR)(DWORD)p2;
    out->dwParam3 = 0;
}

/* Write one message for the application; 0 when its handle closed meanwhile
 * (the message is dropped: nothing reaches an application for a handle after
 * phoneClose returned). */
static inline int tapiq_app_deliver(struct tapiq_rt *rt, PHONEMESSAGE *out, uint32_t hv, uint32_t msg,
                          uint32_t p1, uint32_t p2)
{
    struct tapiq_handle *hs = tapiq_handle_slot(rt, hv);
    if (!tapiq_handle_is(hs, hv))
        return 0;
    tapiq_app_msg(out, hs, hv, msg, p1, p2);
    return 1;
}

/* phoneGetMessage's fast path: one reply of a polled application, if one is
 * waiting and no PHONE_STATE token comes before it. In a read-side section.
 * Returns 1 (written to @msg), 0 (take the full path) or -1 (a reply for a
 * handle closed meanwhile was taken and dropped: count it
 * TAPIQ_C_SUPPRESSED_LATE, then take the full path). No call: the caller's
 * fast path saves no registers. */
static inline int tapiq_app_take_one(struct tapiq_rt *rt, struct tapiq_app *app, PHONEMESSAGE *msg)
{
    for (uint32_t w = 0; w < app->nfast; w++) {
        struct tapiq_cq *q = &app->cq[w];
        struct tapiq_cqe m;
        uint32_t lim = tapiq_cq_tail(q), h = tapiq_cq_head(q);
        if ((int32_t)(lim - h) <= 0)
            continue;
        /* One try (tapiq_cq_take1()): another reader's take, the full path. */
        if (tapiq_cmq_maybe_nonempty(&app->ring.q) || !tapiq_cq_take1(q, &m, h))
            return 0;
        return tapiq_app_deliver(rt, msg, m.handle, PHONE_REPLY, m.p1, m.p2) ? 1 : -1;
    }
    return 0;
}

#endif /* TAPIQ_CORE_APP_H */
