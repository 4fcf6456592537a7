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
 *   backend completions, tapiq_get_stats: with everything, lock-free.
 *   phoneInitializeEx, phoneShutdown, phoneOpen, phoneClose,
 *   phoneSetStatusMessages, tapiq_configure, tapiq_rt_step (test hook):
 *   serialised among themselves by one mutex (g_lock), concurrent with all
 *   of the above.
 *
 * Progress: phoneSetLamp is wait-free for a thread that holds a pool slot
 * (lock-free for threads beyond the pool): it never blocks, never allocates,
 * never waits for another thread; it returns RESOURCEUNAVAIL instead. Workers
 * are lock-free in their steady loop and sleep only when they find no work.
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
 *   while it has no room) -> ring positions released in order once their
 *   replies are posted (that bounds ids in flight per ring: no id repeats).
 */
#ifndef TAPIQ_CORE_RUNTIME_H
#define TAPIQ_CORE_RUNTIME_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "core/cq.h"
#include "core/cring.h"
#include "core/mpmc.h"
#include "core/sq.h"
#include "core/stats.h"
#include "tapiq/tapi.h"
#include "tapiq/tapiq.h"

#define TAPIQ_HANDLE_BITS 16
#define TAPIQ_MAX_HANDLES (1u << TAPIQ_HANDLE_BITS) /* slot 0 unused */
#define TAPIQ_APP_BITS 16
#define TAPIQ_MAX_APPS 1024u                      /* slot 0 unused */
#define TAPIQ_TOKENS_CLOSED 0x80000000u
#define TAPIQ_API_LOW 0x00010003u
#define TAPIQ_API_HIGH 0x00020002u
#define TAPIQ_ALL_PHONESTATES 0x00FFFFFFu
#define TAPIQ_EVENTS_PER_HANDLE_EXTRA 2u

struct tapiq_rt;
struct tapiq_app;

struct tapiq_worker;

/* A device batch: the pending requests of one device handed to the backend
 * at once. Owned by the device's worker until apply(), then by the backend
 * until tapiq_batch_complete(), then by the worker again. */
struct tapiq_batch {
    struct tapiq_rt *rt;
    struct tapiq_dev *dev;
    struct tapiq_batch *next_done; /* the worker's completion list */
    uint32_t first;     /* first request (worker cell index), chained by next[] */
    uint32_t nreqs;
    uint32_t nupd;
    tapiq_update *upd;  /* nlamps entries */
    int32_t *lamp_pos;  /* per lamp: index in upd, or -1 */
};

/* RCU-published list of handle slots on a device with a status filter. */
struct tapiq_subs {
    struct tapiq_subs *garbage_next; /* chains replaced lists until freed */
    uint32_t n;
    uint32_t slot[];
};

/* A device (console). It belongs to one worker (id % workers): only that
 * worker touches its pending list and batch, so none of that is atomic. */
struct tapiq_dev {
    /* Read per request, written rarely. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t connected; /* 0/1 */
    uint32_t id;
    uint32_t nlamps;
    uint32_t worker;            /* id % workers */
    uint32_t modes_all;         /* the modes of every lamp when all lamps have the
                                   same and none is a dummy, else 0 (then modes[]) */
    uint32_t *modes;            /* supported modes per lamp (immutable) */
    _Atomic uint32_t *lamp;     /* current mode per lamp */
    _Atomic(struct tapiq_subs *) subs;
    /* Written by open/close. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t nowners, nmonitors;
    /* The worker's alone. */
    alignas(TAPIQ_CACHELINE) uint32_t pend_first, pend_last, npend;
    uint8_t queued;             /* listed in the worker's touched list */
    uint8_t busy;               /* a batch is at the backend */
    struct tapiq_batch batch;
};

struct tapiq_handle {
    _Atomic uint32_t hval; /* the HPHONE while open, 0 when closed */
    uint32_t happ;
    struct tapiq_app *app;
    uint32_t dev;
    uint32_t priv;
    uint32_t api_version;
    DWORD_PTR cbinst;
    _Atomic uint32_t states; /* phoneSetStatusMessages filter */
    uint32_t button_modes, button_states;
    uint32_t reserved;            /* events reserved in the app's ring */
    _Atomic uint32_t tokens;      /* tokens in the ring | TAPIQ_TOKENS_CLOSED */
    _Atomic uint32_t statebits;   /* pending non-lamp state tokens */
    _Atomic uint64_t *lampbits;   /* pending lamp tokens, nlamps bits */
    uint32_t lampbits_words;
    uint32_t in_subs;             /* listed in the device's subs */
};

struct tapiq_app {
    uint32_t h; /* HPHONEAPP */
    struct tapiq_rt *rt;
    struct tapiq_cring ring; /* PHONE_STATE tokens, the fd and blocking waits */
    struct tapiq_cq *cq;     /* replies: one completion queue per worker */
    uint32_t ncq;
    PHONECALLBACK cb;
    pthread_t cb_thread;
    int has_cb_thread;
    _Atomic uint32_t waiters; /* threads blocked in phoneGetMessage */
    char name[64];
};

struct tapiq_rt {
    uint64_t epoch;
    struct tapiq_config cfg;
    void *be_state;
    uint32_t ndev;
    struct tapiq_dev *devs;
    /* Submission rings: (threads + 1) x workers, ring (slot, w) at
     * slot * workers + w; slot == threads is the shared MPSC row. */
    struct tapiq_sq *sq;
    uint32_t sq_size;        /* entries per ring (power of two) */
    uint32_t nslots;         /* the `threads` key */
    _Atomic uint32_t *slot_used; /* per pool slot: held by a live thread */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t slots_hwm; /* slots [0, hwm) were used */
    _Atomic uint32_t stop;
    struct tapiq_worker *workers; /* cfg.workers, allocated up front */
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
    _Atomic(struct tapiq_app *) apps[TAPIQ_MAX_APPS];
    uint32_t napps;
    struct tapiq_stats_set *stats;
};

/* Handle generations outlive runtimes, so a handle value is never reused;
 * a slot whose generation is used up is retired (under g_lock). */
extern uint16_t tapiq_handle_gen[TAPIQ_MAX_HANDLES];

/* The running instance, or NULL (read inside a read-side section). */
extern _Atomic(struct tapiq_rt *) tapiq_g_rt;
extern pthread_mutex_t tapiq_g_lock;

/* Lookups inside a read-side section (core/guard.h). */
static inline struct tapiq_app *tapiq_app_lookup(struct tapiq_rt *rt, uint32_t happ)
{
    uint32_t idx = happ & ((1u << TAPIQ_APP_BITS) - 1);
    struct tapiq_app *a;
    if (idx == 0 || idx >= TAPIQ_MAX_APPS)
        return NULL;
    /* acquire: pairs with the release store that publishes the app. */
    a = atomic_load_explicit(&rt->apps[idx], memory_order_acquire);
    return a && a->h == happ ? a : NULL;
}

static inline struct tapiq_handle *tapiq_handle_lookup(struct tapiq_rt *rt, uint32_t h)
{
    uint32_t idx = h & (TAPIQ_MAX_HANDLES - 1);
    struct tapiq_handle *hs;
    if (idx == 0 || h == 0)
        return NULL;
    hs = &rt->handles[idx];
    /* acquire: pairs with the release store of hval in phoneOpen, so the
     * slot's fields written before it are visible. */
    return atomic_load_explicit(&hs->hval, memory_order_acquire) == h ? hs : NULL;
}

/* Test hook for thread-free runs (fuzz/): set before a runtime starts, the
 * runtime starts no worker threads and requests wait until some thread calls
 * tapiq_rt_step(). Not for production: nothing else drives a manual runtime. */
extern int tapiq_rt_manual;
/* Run one round of every worker of the current manual runtime on the calling
 * thread, each taking up to @max devices' batches (0: no limit). Returns the
 * batches and completions processed (0: nothing to do), or -ENODEV when no
 * manual runtime is running. Takes g_lock, so it is serialised with
 * phoneInitializeEx/phoneShutdown/phoneOpen/phoneClose; call it outside any
 * read-side section. */
int tapiq_rt_step(uint32_t max);

/* runtime.c */
int tapiq_rt_create(struct tapiq_config *cfg, struct tapiq_rt **out, char *err, size_t errlen);
void tapiq_rt_destroy(struct tapiq_rt *rt);
/* Post a state token for (handle slot, state bit or lamp). In a section. */
void tapiq_notify_states(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t state);
void tapiq_notify_lamp(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t lamp);

#endif /* TAPIQ_CORE_RUNTIME_H */
