/* core/worker.h - a worker: drains its submission rings, batches per device,
 * applies, completes, replies.
 *
 * A round: drain every ring's new entries onto their devices' pending lists
 * (ring order); per device with no batch out, its pending requests become
 * one batch, coalesced per lamp (up to 8 requests by a scan of the updates,
 * more through the device's lamp_pos index, whose entries carry the
 * batch's stamp so none is cleared), handed to the backend's apply() (or
 * apply_sync(), complete on return); batches completed inside apply() (or
 * pushed to `done` by a backend's own thread) then complete: lamp state,
 * PHONE_STATE tokens, replies written in place in the applications'
 * completion queues (tapiq_cq_put), then ring positions released and the
 * queues' tails published, at the end of each read-side section of the
 * round (one, or two with apply_one() below) or per TAPIQ_WORKER_PUBLISH
 * replies (or when replies went to more than TAPIQ_WORKER_APPS
 * applications). A reply that finds its application's queue full is held
 * with its ring position, and that application's later replies are held
 * behind it (held_app) until a round retries them, in order: once their
 * queue has room for an eighth of it (or for all of them), or a handle was
 * closed (retry_held()).
 * A finished request's cell is marked with its lap's stamp;
 * when every drained request is finished, the positions are released by
 * count, without reading the marks. A batch of one lamp request (the common
 * case with many consoles) completes by a path without the batch loops
 * (complete1); with a backend that has apply_one(), a device with up to 4
 * lamp requests on distinct lamps (nothing to coalesce) needs no batch at
 * all: run_listed() applies each update, sets the lamp state, posts
 * PHONE_STATE and writes the reply in one pass per request, in a read-side
 * section of its own before the round's batches go out (what apply_one()
 * declined goes as a batch in the same round), with the reply state in
 * locals while the replies go to one application with room.
 *
 * Worker w owns the devices with id % workers == w and the column w of the
 * submission rings (one ring per pool slot, plus the shared MPSC ring). Only
 * it touches its devices' pending lists and batches and the consumer side of
 * its rings, so none of that is atomic. Other threads reach a worker through
 * three words only:
 *  - `sleeping`: issuers read it after publishing a request (a plain load);
 *    the worker sets it before sleeping and pays for the fence
 *    (tapiq_guard_heavy_fence: membarrier) before its last look;
 *  - `done`: a backend that completes a batch on its own thread pushes the
 *    batch here (lock-free list) and wakes the worker;
 *  - its counters, read by tapiq_get_stats (relaxed);
 * and through its payload pool (rt->pools[w], core/payload.h: issuers take
 * slots, the worker gives them back), which has a synchronization table of
 * its own.
 *
 * Synchronization table:
 *                   kick   complete_remote   round/sleep   counters
 *   kick            yes    yes               yes           yes
 *   complete_remote yes    yes               yes           yes
 *   round/sleep     yes    yes               no (one thread: the worker or a stepper)
 * Progress: kick and complete_remote are lock-free (a futex wake on the rare
 * path). A round is not lock-free: it calls the backend's apply(), which may
 * sleep or block (the provider interface lets it), and its PHONE_STATE
 * tokens go through tapiq_cring_post_blocking(), which may wait for a
 * consumer of an application's ring that was preempted mid-read. A worker
 * that found nothing spins briefly, then naps (`nap_us` at a time, default
 * 100 us, for about 1 ms; `sleeping` not set: no issuer wakes it and it
 * pays no membarrier; nap_us=0: no naps), then sleeps until woken (naps of 1 ms while replies wait for room in a
 * completion queue); an idle runtime has no timer running.
 */
#ifndef TAPIQ_CORE_WORKER_H
#define TAPIQ_CORE_WORKER_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/cq.h"
#include "core/guard.h"
#include "core/payload.h"
#include "core/runtime.h"
#include "core/sq.h"

struct tapiq_cring;

#define TAPIQ_WORKER_APPS 8 /* applications replied to between two publishes */
/* Replies (written or held) before a publish, which releases their ring
 * positions and looks at the queues' room again, even in the middle of a
 * round: a long round must not keep the issuers' rings full, nor hold
 * every reply after the first that found no room, until its end. */
#define TAPIQ_WORKER_PUBLISH 256

enum tapiq_wctr {
    TAPIQ_W_BATCHES,
    TAPIQ_W_APPLIED,
    TAPIQ_W_COALESCED,
    TAPIQ_W_FAILED,
    TAPIQ_W_REPLIES,
    TAPIQ_W_SUPPRESSED,
    TAPIQ_W_SLEEPS,
    TAPIQ_W_INUSE_HWM,
    TAPIQ_W_ROUND_HWM,
    TAPIQ_W_ATTRS_APPLIED,   /* attribute updates handed to the backend */
    TAPIQ_W_ATTRS_COALESCED, /* attribute requests folded into a later one */
    TAPIQ_W_MAX
};

/* Replies to one application since the last publish: written in place in
 * its completion queue (tapiq_cq_put), published together. */
struct tapiq_wpost {
    struct tapiq_cq *cq;
    struct tapiq_cring *ring; /* the application's wake-up */
    uint32_t happ;  /* 0: none (the sentinel) */
    uint32_t t;     /* next position to write */
    uint32_t room;  /* positions left from t */
    uint32_t full;  /* found no room: its later replies are held, in order */
};

struct tapiq_held {
    uint32_t cell;
    int32_t status;
};

struct tapiq_worker {
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t sleeping; /* futex word */
    alignas(TAPIQ_CACHELINE) _Atomic(struct tapiq_batch *) done;
    alignas(TAPIQ_CACHELINE) _Atomic uint64_t ctr[TAPIQ_W_MAX]; /* the worker writes */
    /* The worker's alone from here on. */
    alignas(TAPIQ_CACHELINE) struct tapiq_rt *rt;
    uint32_t w;
    pthread_t thread;
    struct tapiq_pool *pool; /* rt->pools[w]: attribute requests' payloads */
    uint32_t nrings;   /* pool slots + 1: ring r of this worker is rt->sq[r * workers + w] */
    uint32_t sbits;    /* log2 of entries per ring */
    uint32_t mask;
    struct tapiq_sq **ring;
    struct tapiq_sqe *ent;   /* its rings' entries side by side (rt->sqe): a
                                cell's entry is ent[cell] */
    uint16_t *upd_idx; /* per cell: its update's index in the device batch */
    uint32_t *rd;      /* per ring: next position to drain */
    uint32_t *rel;     /* per ring: positions below are released */
    uint8_t *fin;      /* per cell: reply out (or suppressed): the parity of its
                          position's lap in the low bit (worker_reply.h) */
    uint32_t *next;    /* per cell: next request of the same device */
    struct tapiq_dev **touched; /* devices with pending requests and no batch out */
    uint32_t ntouched, maxtouched;
    struct tapiq_dev **single; /* a round's devices for run_few() (maxtouched) */
    struct tapiq_batch *local_done; /* completed inside apply() this round */
    struct tapiq_held *held; /* replies waiting for room, FIFO */
    uint32_t held_head, held_tail, held_mask;
    /* The applications with replies held since the last retry_held() (all
     * of them when more than TAPIQ_WORKER_APPS: held_all): their later
     * replies are held too, behind them, until the next retry, even across
     * a publish (post_find() marks their post[] entries full). */
    uint32_t held_app[TAPIQ_WORKER_APPS];
    uint32_t nheld_app, held_all;
    uint32_t held_closes; /* tapiq_handles_closes() at the last retry_held() */
    uint32_t unfin;    /* drained cells whose reply is not out (nor suppressed) */
    uint32_t npost;
    uint32_t unpub;    /* replies written or held since the last publish */
    struct tapiq_wpost *cur;  /* the last application replied to, or &nopost */
    struct tapiq_wpost nopost;
    struct tapiq_wpost post[TAPIQ_WORKER_APPS];
    uint64_t c[TAPIQ_W_MAX]; /* private copies, published per round */
};

int tapiq_worker_init(struct tapiq_worker *wk, struct tapiq_rt *rt, uint32_t w);
void tapiq_worker_destroy(struct tapiq_worker *wk);
/* Start the worker's thread. Returns 0 or -errno (pthread_create's error
 * negated: -EAGAIN, ...). */
int tapiq_worker_start(struct tapiq_worker *wk);
/* Set the runtime's stop flag, wake and join worker threads 0 .. @n-1.
 * Blocks until they have exited (each finishes its round first). */
void tapiq_workers_stop(struct tapiq_rt *rt, uint32_t n);
/* Add the worker's published counters to @sum (any thread); the high-water
 * mark of batches per round (TAPIQ_W_ROUND_HWM) is kept as a maximum. */
void tapiq_worker_counters(struct tapiq_worker *wk, uint64_t sum[TAPIQ_W_MAX]);

/* One round on the calling thread (a stepper of a manual runtime): at most
 * @maxdev device batches (0: no limit). Returns the work done (0: none). */
uint32_t tapiq_worker_round(struct tapiq_worker *wk, uint32_t maxdev);

void tapiq_worker_wake(struct tapiq_worker *wk);

/* Internal to the worker module (worker.c, worker_fill.c, worker_one.c,
 * worker_thread.c; worker_reply.h has the replies they share). */
/* The worker's private counters to the ones readers see (tapiq_get_stats). */
static inline void tapiq_worker_publish_counters(struct tapiq_worker *wk)
{
    for (int i = 0; i < TAPIQ_W_MAX; i++)
        /* release: statistics; one writer (this worker). After the replies'
         * post, so a reader that sees them counted (acquire) can take them;
         * pairs with the acquire in tapiq_worker_counters(). */
        atomic_store_explicit(&wk->ctr[i], wk->c[i], memory_order_release);
}
/* The submission entry in @cell (ring cell >> sbits, position & mask): the
 * rings of a worker lie side by side (rt->sqe), so it is ent[cell]. */
static inline const struct tapiq_sqe *tapiq_worker_entry(const struct tapiq_worker *wk,
                                                         uint32_t cell)
{
    return &wk->ent[cell];
}
struct tapiq_dev;
/* The pending requests of @dev (several, or an attribute request) into its
 * batch @b; those left (when the batch has no room for another attribute
 * update) stay pending, in order. */
void tapiq_worker_fill(struct tapiq_worker *wk, struct tapiq_dev *dev, struct tapiq_batch *b);

/* Does @wk sleep? (the load of `sleeping` after a publish) relaxed:
 * ordered by the caller's fence (tapiq_guard_light_fence(), or
 * tapiq_guard_fast_fence() in a fast path's section), which pairs with the
 * heavy fence the worker runs after setting it (worker_sleep()). */
static inline int tapiq_worker_sleeps(struct tapiq_worker *wk)
{
    return __builtin_expect(atomic_load_explicit(&wk->sleeping, memory_order_relaxed) != 0, 0);
}

/* tapiq_worker_kick - after publishing a request for @wk: wake it if it
 * sleeps. Concurrency: any thread. Ordering: the light fence orders the
 * publish before the load of `sleeping` (tapiq_worker_sleeps()). */
static inline void tapiq_worker_kick(struct tapiq_worker *wk)
{
    tapiq_guard_light_fence();
    if (tapiq_worker_sleeps(wk))
        tapiq_worker_wake(wk);
}

/* tapiq_worker_kick() split for a fast path that makes no call, in a fast
 * path's section (core/guard.h): 1 when @wk sleeps and the caller must
 * tapiq_worker_wake() it. The light fence without its look at
 * tapiq_guard_strong, which tapiq_guard_fast_ok() saw 0; same ordering. */
static inline int tapiq_worker_must_wake_fast(struct tapiq_worker *wk)
{
    tapiq_guard_fast_fence();
    return tapiq_worker_sleeps(wk);
}

#endif /* TAPIQ_CORE_WORKER_H */
