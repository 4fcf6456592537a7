/* core/runtime.h - the dispatcher: devices, handles, applications, workers.
 *
 * One runtime exists while at least one application is initialized; it is
 * built from the configuration at the first phoneInitializeEx and torn down
 * after the last phoneShutdown. Lifetimes (core/guard.h gives the read-side
 * sections and grace periods):
 *  - the runtime pointer (g_rt) is published with release and read inside a
 *    read-side section; teardown unpublishes it, waits for a grace period,
 *    stops the workers and the backend, then frees;
 *  - applications are published in rt->apps[] the same way; a thread blocked
 *    in phoneGetMessage holds app->waiters instead;
 *  - handle slots live as long as the runtime; a closed slot is reused only
 *    after a grace period and after every PHONE_STATE token that names it
 *    has left its application's event ring, so a reader that validated a
 *    handle value inside a section may read the slot's fields.
 *
 * Synchronization table (what may run concurrently with what):
 *   phoneSetLamp, phoneGetLamp, phoneGetStatus, phoneGetMessage, workers,
 *   backend completions and console events (tapiq_host_*), tapiq_get_stats:
 *   with everything, without g_lock.
 *   phoneInitializeEx, phoneShutdown, phoneOpen, phoneClose,
 *   phoneSetStatusMessages, tapiq_configure, tapiq_rt_step (test hook):
 *   serialised among themselves by one mutex (g_lock), concurrent with all
 *   of the above.
 *
 * Progress (what waits, and for what):
 *  - phoneSetLamp is wait-free for a thread that holds a pool slot
 *    (lock-free for threads beyond the pool): it never blocks, never
 *    allocates, never waits for another thread; it returns RESOURCEUNAVAIL
 *    instead. Except a thread's first call into tapiq: it registers the
 *    thread (core/guard.h, core/issuer.h: a pthread_once that may wait for
 *    another thread's, a pthread_setspecific that may allocate); its first
 *    request to a runtime scans for a free pool slot (lock-free).
 *    phoneGetLamp and phoneGetStatus: the same first-call exception.
 *  - phoneGetMessage blocks: with a timeout other than 0 it sleeps (poll on
 *    the application's eventfd) until a message, the timeout (INFINITE: none)
 *    or phoneShutdown; with timeout 0 it only looks (lock-free).
 *  - Backend completions (tapiq_batch_complete) are lock-free. Console
 *    events and connection changes (tapiq_host_button, tapiq_host_hookswitch,
 *    tapiq_host_set_connected) and worker rounds post PHONE_STATE /
 *    PHONE_BUTTON through tapiq_cring_post_blocking(): they may wait for a
 *    consumer of the application's ring that was preempted mid-read.
 *  - Workers sleep when they find no work, nap 1 ms at a time while replies
 *    wait for room in an application's completion queue, and call the
 *    backend's apply(), which may sleep.
 *  - The g_lock calls block on g_lock, and phoneClose, phoneShutdown and
 *    teardown wait for grace periods (tapiq_guard_synchronize_blocking), for
 *    a callback in progress (tapiq_app_wait_delivery_blocking) and for
 *    blocked readers (tapiq_app_wait_idle_blocking).
 *
 * The request path (v2):
 *   phoneSetLamp: read-side section (two stores to the thread's own record)
 *   -> validate -> the thread's submission ring for the device's worker
 *   (pool slot x worker, SPSC; beyond the pool a shared MPSC ring per worker)
 *   -> write the 16-byte entry, release-store the tail -> the request id is
 *   (ring, position) -> wake the worker only if its `sleeping` word is set
 *   (a plain load; the worker about to sleep pays for the fence).
 *   worker w (owns the devices with id % workers == w): drain every ring's
 *   new entries onto per-device pending lists (in ring order) -> per device
 *   without a batch at the backend: coalesce per lamp into one batch ->
 *   backend apply -> completion (inline, or from a backend thread through
 *   the worker's completion list): lamp state, PHONE_STATE tokens, then the
 *   replies into the application's completion queue of this worker (held
 *   while it has no room); ring positions are released in order just before
 *   their replies are posted (core/sq.h says why ids never repeat in flight).
 *
 * Modules, one per object, each the only one to touch its _Atomic fields
 * (in its .c, or in the inline functions of its own header):
 *   device.c  consoles, lamps, connection, the provider's host calls
 *   handle.c  handle slots, generations, limbo, subscriptions, tokens
 *   app.c     applications, completion queues, callback thread, take
 *   issuer.c  issuing threads' pool slots
 *   worker.c  rings drained, rounds, completion, wake-ups
 *   runtime.c lifecycle, statistics, the manual-step test hook
 *   tapi.c    the TAPI boundary: validate, call, translate -errno
 */
#ifndef TAPIQ_CORE_RUNTIME_H
#define TAPIQ_CORE_RUNTIME_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "core/mpmc.h"
#include "core/sq.h"
#include "core/stats.h"
#include "tapiq/tapi.h"
#include "tapiq/tapiq.h"

#define TAPIQ_API_LOW 0x00010003u
#define TAPIQ_API_HIGH 0x00020002u
#define TAPIQ_RT_MAX_APPS 1024u /* = TAPIQ_MAX_APPS (core/app.h) */

struct tapiq_app;
struct tapiq_dev;
struct tapiq_handle;
struct tapiq_pool;
struct tapiq_worker;

/* The running instance. Each object's module owns its fields here: devs
 * (device.c), sq (sq.c, rings; issuer.c, the pool: slot_used, slots_hwm),
 * workers and stop (worker.c), the handle table (handle.c), apps (app.c). */
struct tapiq_rt {
    uint64_t epoch;
    struct tapiq_config cfg;
    void *be_state;
    uint32_t ndev;
    struct tapiq_dev *devs;
    unsigned char *dev_arena; /* the devices' lamp arrays, one block (device.c) */
    size_t dev_stride;        /* bytes of it per device */
    /* Submission rings: (threads + 1) x workers, ring (slot, w) at
     * slot * workers + w; slot == threads is the shared MPSC row. */
    struct tapiq_sq *sq;
    struct tapiq_sqe *sqe;   /* every ring's entries, worker by worker: worker w's
                                rings (pool slots, then the shared one) side by
                                side from sqe + w x (nslots + 1) x sq_size */
    uint32_t sq_size;        /* entries per ring (power of two) */
    uint32_t nslots;         /* the `threads` key */
    _Atomic uint32_t *slot_used; /* per pool slot: held by a live thread */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t slots_hwm; /* slots [0, hwm) were used */
    _Atomic uint32_t stop;
    struct tapiq_worker *workers; /* cfg.workers, allocated up front */
    struct tapiq_pool *pools;     /* cfg.workers payload pools (core/payload.h) */
    uint32_t nthreads;            /* worker threads running (0: manual) */
    struct tapiq_handle *handles; /* TAPIQ_MAX_HANDLES slots (static, runtime.c) */
    uint32_t *free_handles; /* stack of reusable slots, under g_lock */
    uint32_t nfree_handles;
    /* Slots from here on were never used by this runtime: taken when the
     * stack is empty, so a runtime touches only the slots it used (under
     * g_lock; read by the loops over slots, which also hold it). */
    uint32_t fresh_handles;
    uint32_t *limbo_handles; /* closed, waiting for a grace period */
    uint32_t nlimbo_handles;
    _Atomic uint32_t closes; /* handles closed so far (handle.c) */
    _Atomic(struct tapiq_app *) apps[TAPIQ_RT_MAX_APPS]; /* free: &tapiq_app_none (app.h) */
    uint32_t napps;
    struct tapiq_stats_set *stats;
};

/* The running instance, or NULL (read inside a read-side section). */
extern _Atomic(struct tapiq_rt *) tapiq_g_rt;
/* The running instance for a read-side section (or under g_lock).
 * acquire: pairs with the release store that publishes it. */
static inline struct tapiq_rt *tapiq_rt_current(void)
{
    return atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
}

/* The same for a fast path that tests the runtime's epoch first: never
 * NULL. With no runtime running it is tapiq_rt_none, whose epoch
 * (UINT64_MAX) no issuing thread's row has, and whose other fields must
 * not be read. Published and unpublished together with tapiq_g_rt (under
 * g_lock; the guard's grace period covers it as tapiq_g_rt).
 * acquire: pairs with the release stores in runtime.c. */
extern struct tapiq_rt tapiq_rt_none;
extern _Atomic(struct tapiq_rt *) tapiq_g_rt_fast;
static inline struct tapiq_rt *tapiq_rt_fast(void)
{
    return atomic_load_explicit(&tapiq_g_rt_fast, memory_order_acquire);
}

/* Serialises initialize/shutdown/open/close/filters/configure and teardown. */
extern pthread_mutex_t tapiq_g_lock;

#ifdef TAPIQ_INTERNAL
/* Test hook for thread-free runs (fuzz/), in the internal library only: set
 * before a runtime starts, the runtime starts no worker threads and requests
 * wait until some thread calls tapiq_rt_step(). */
extern int tapiq_rt_manual;
/* Run one round of every worker of the current manual runtime on the calling
 * thread, each taking up to @max devices' batches (0: no limit). Returns the
 * batches and completions processed (0: nothing to do), or -ENODEV when no
 * manual runtime is running. Takes g_lock, so it is serialised with
 * phoneInitializeEx/phoneShutdown/phoneOpen/phoneClose; call it outside any
 * read-side section. */
int tapiq_rt_step(uint32_t max);
#endif

/* Build and publish the runtime from configuration @text (NULL: defaults);
 * under g_lock. Returns 0, -EINVAL (bad configuration), -ENOMEM, or the
 * backend's -errno; @err says why. */
int tapiq_rt_start_locked(const char *text, char *err, size_t errlen);
/* Bytes configuration @c needs (README, Limits). */
uint64_t tapiq_rt_estimate(const struct tapiq_config *c);
/* Unpublish, wait for a grace period, stop workers and backend, free; under
 * g_lock. */
void tapiq_rt_stop_locked(struct tapiq_rt *rt);

#endif /* TAPIQ_CORE_RUNTIME_H */
