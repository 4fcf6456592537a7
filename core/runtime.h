/* core/runtime.h - the dispatcher: devices, handles, applications, workers.
 *
 * One runtime exists while at least one application is initialized; it is
 * built from the configuration at the first phoneInitializeEx and torn down
 * after the last phoneShutdown. Lifetimes:
 *  - the runtime pointer (g_rt) is RCU-protected: every TAPI call runs its
 *    lock-free part inside an RCU read-side critical section, and teardown
 *    unpublishes the pointer, waits for a grace period, stops the workers and
 *    the backend, then frees;
 *  - applications are RCU-protected the same way (published in rt->apps[]);
 *    a thread blocked in phoneGetMessage holds app->waiters instead;
 *  - handle slots live as long as the runtime; a closed slot is reused only
 *    after a grace period and after every PHONE_STATE token that names it
 *    has left its application's ring, so a reader that validated a handle
 *    value inside a critical section may read the slot's fields.
 *
 * Synchronization table (what may run concurrently with what):
 *   phoneSetLamp, phoneGetLamp, phoneGetStatus, phoneGetMessage, workers,
 *   backend completions, tapiq_get_stats: with everything, lock-free.
 *   phoneInitializeEx, phoneShutdown, phoneOpen, phoneClose,
 *   phoneSetStatusMessages, tapiq_configure, tapiq_rt_step (test hook):
 *   serialised among themselves by one mutex (g_lock), concurrent with all
 *   of the above.
 *
 * Progress: phoneSetLamp is lock-free (never blocks, never allocates, never
 * waits for another thread; it returns RESOURCEUNAVAIL instead). Workers are
 * lock-free in their steady loop and sleep only when they find no work.
 *
 * The request path:
 *   phoneSetLamp: validate -> take a reply credit and a request id (both
 *   from per-thread caches refilled in bulk) -> claim a cell of the device's
 *   mailbox ring, fill it, publish it -> if the device is not scheduled,
 *   schedule it (sched 0 -> 1) on the run queue and wake a worker if one
 *   sleeps.
 *   worker: pop up to 16 devices -> per device, read the published mailbox
 *   cells from head (issue order) and coalesce per lamp into the device's
 *   batch -> backend apply -> tapiq_batch_complete (same or another thread):
 *   lamp state, PHONE_STATE tokens, replies and freed ids gathered in the
 *   worker's round context, mailbox cells freed -> at the end of the round
 *   the ids go back, the replies are posted, and each device is released
 *   (sched = 0, then a re-check of its mailbox: the Dekker pair described at
 *   struct tapiq_dev).
 */
#ifndef TAPIQ_CORE_RUNTIME_H
#define TAPIQ_CORE_RUNTIME_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "core/cring.h"
#include "core/mpmc.h"
#include "core/reqid.h"
#include "core/stats.h"
#include "core/wake.h"
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
/* Non-lamp PHONE_STATE kinds tapiq emits, each one token at most per handle. */
#define TAPIQ_EMITTED_STATES (PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED)
#define TAPIQ_EVENTS_PER_HANDLE_EXTRA 2u

struct tapiq_rt;
struct tapiq_app;

/* One request waiting in a device's mailbox. */
struct tapiq_mcell {
    _Atomic uint32_t seq; /* Vyukov turn: pos free, pos + 1 full, pos + size freed */
    uint32_t id;
    uint32_t handle; /* HPHONE */
    uint32_t happ;   /* HPHONEAPP of the handle's application */
    uint32_t lamp;
    uint32_t mode;
    uint32_t pad[2];
};

struct tapiq_batch {
    struct tapiq_rt *rt;
    struct tapiq_dev *dev;
    uint32_t first;     /* mailbox position of the batch's first request */
    uint32_t nreqs;     /* its requests: mailbox cells first .. first+nreqs-1 */
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

/* A device (console). Its mailbox is a bounded multi-producer ring of
 * requests: issuing threads claim a cell with a CAS on tail and publish it
 * with its seq; the one worker that holds the device (sched == 1) reads the
 * published cells from head in order, applies them as one batch and frees
 * them when the batch completes. Cells are contiguous, so a worker reads a
 * batch with sequential loads instead of chasing pointers.
 *
 * Scheduling (Dekker, all four operations seq_cst): a producer publishes its
 * cell, then reads sched and schedules the device if it is 0; the worker
 * that finishes a batch stores sched = 0, then reads the seq of the cell at
 * head and schedules the device again if it is published. Either the
 * producer sees 0 or the worker sees the cell. */
struct tapiq_dev {
    /* Written per request by producers: its own cache line. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t tail;
    _Atomic uint32_t sched;     /* 1 while queued or being processed */
    /* Read per request, written rarely. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t connected; /* 0/1 */
    uint32_t id;
    uint32_t nlamps;
    uint32_t mask;              /* mailbox size - 1 */
    uint32_t modes_all;         /* the modes of every lamp when all lamps have the
                                   same and none is a dummy, else 0 (then modes[]) */
    struct tapiq_mcell *cells;  /* the mailbox */
    uint32_t *modes;            /* supported modes per lamp (immutable) */
    _Atomic uint32_t *lamp;     /* current mode per lamp */
    _Atomic(struct tapiq_subs *) subs;
    /* Written by open/close and by the worker that holds the device. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t nowners, nmonitors;
    uint32_t head;              /* the holder's: next mailbox position to read */
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
    struct tapiq_cring ring;
    PHONECALLBACK cb;
    pthread_t cb_thread;
    int has_cb_thread;
    _Atomic uint32_t waiters; /* threads blocked in phoneGetMessage */
    pthread_mutex_t baseline_mu; /* ring=mutex only */
    char name[64];
};

struct tapiq_rt {
    uint64_t epoch;
    struct tapiq_config cfg;
    void *be_state;
    uint32_t ndev;
    struct tapiq_dev *devs;
    struct tapiq_reqid reqid;
    uint32_t cache_batch; /* per-thread slot / credit refill size */
    uint32_t mailbox;     /* cells per device mailbox (power of two) */
    /* Bumped by a phoneSetLamp that found no free id or credit: every thread
     * gives its cached ids and credits back on its next call. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t reclaim;
    struct tapiq_mpmc runq;
    struct tapiq_wake wake;
    _Atomic uint32_t stop;
    pthread_t *workers;
    uint32_t nworkers;
    struct complete_ctx **worker_ctx; /* one per worker, allocated up front */
    _Atomic uint32_t *worker_ctx_taken;
    uint32_t worker_ctx_ok;
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
    pthread_mutex_t baseline_mu[2]; /* ring=mutex only: run queue, slot pool */
};

/* Handle generations outlive runtimes, so a handle value is never reused;
 * a slot whose generation is used up is retired (under g_lock). */
extern uint16_t tapiq_handle_gen[TAPIQ_MAX_HANDLES];

/* The running instance, or NULL (read inside an RCU critical section). */
extern _Atomic(struct tapiq_rt *) tapiq_g_rt;
extern pthread_mutex_t tapiq_g_lock;

/* Lookups inside an RCU read-side critical section. */
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
/* Run one worker round of the current manual runtime on the calling thread:
 * up to @max devices (0 or more than 16: 16), batches applied, replies and
 * state events posted. Returns the devices processed (0: nothing scheduled),
 * or -1 when no manual runtime is running. Takes g_lock, so it is serialised
 * with phoneInitializeEx/phoneShutdown/phoneOpen/phoneClose; call it outside
 * any RCU read-side critical section. */
int tapiq_rt_step(uint32_t max);

/* runtime.c */
int tapiq_rt_create(struct tapiq_config *cfg, struct tapiq_rt **out, char *err, size_t errlen);
void tapiq_rt_destroy(struct tapiq_rt *rt);
void tapiq_rt_schedule(struct tapiq_rt *rt, struct tapiq_dev *dev);
/* Post a state token for (handle slot, state bit or lamp). Inside RCU. */
void tapiq_notify_states(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t state);
void tapiq_notify_lamp(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t lamp);

#endif /* TAPIQ_CORE_RUNTIME_H */
