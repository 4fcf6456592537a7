/* core/worker_thread.c - the worker module, continued: the worker's
 * thread (rounds, the idle spin, naps and sleep), its wake-up and its
 * counters for readers; see worker.h. */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/issuer.h"
#include "core/stats.h"
#include "core/worker.h"

#define SPIN_ROUNDS 32    /* empty looks (8 pauses apart) before a worker naps */
/* Then naps of `nap_us` (default 100 us) until NAP_WINDOW_NS have passed
 * since the first (timed, not counted: a nap costs more than its length,
 * and 40 naps of 25 us lasted 2.7 ms), then it sleeps until woken;
 * nap_us=0: no naps. A request that arrives during a nap waits for its end
 * (issuers do not wake a napping worker). The trade (bench/RESULTS.md,
 * latency rows with nap_us=25 and 0): shorter naps wake the workers more
 * often, and each wake-up takes a CPU from a thread that issues without
 * pause, so they lower the latency at light load and the peak of one
 * unpaced sender. The default keeps the throughput. */
#define NAP_WINDOW_NS 1000000u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* ---------------------------------------------------------------- wake-up */

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

void tapiq_worker_wake(struct tapiq_worker *wk)
{
    /* acq_rel: one waker wins the wake-up. It pairs with no store of the
     * worker's (those of sleeping are relaxed): the waker's publish is
     * ordered by its caller's fence (the light fence in tapiq_worker_kick(),
     * the seq_cst fence in tapiq_batch_complete()) against the heavy fence
     * in worker_sleep(). */
    if (atomic_exchange_explicit(&wk->sleeping, 0, memory_order_acq_rel)) {
        futex(&wk->sleeping, FUTEX_WAKE_PRIVATE, 1, NULL);
        tapiq_stat_add(wk->rt->stats, TAPIQ_C_WAKEUPS, 1);
    }
}

/* Anything to do? (the last look before sleeping) */
static int has_work(struct tapiq_worker *wk)
{
    struct tapiq_rt *rt = wk->rt;
    uint32_t hwm = tapiq_issuers_hwm(rt);
    /* acquire: pairs with the release CAS in tapiq_batch_complete(). */
    if (wk->ntouched || atomic_load_explicit(&wk->done, memory_order_acquire))
        return 1;
    for (uint32_t i = 0; i <= hwm && i < wk->nrings; i++) {
        uint32_t r = i == hwm ? wk->nrings - 1 : i;
        if (tapiq_sq_nonempty(wk->ring[r], wk->rd[r]))
            return 1;
    }
    return 0;
}

static void worker_sleep(struct tapiq_worker *wk)
{
    struct tapiq_rt *rt = wk->rt;
    /* 1 ms naps while replies wait for room (a reaper frees it silently). */
    struct timespec nap = {0, 1000000};
    int held = wk->held_tail != wk->held_head;
    /* relaxed store, then the heavy fence: every issuer's publish is either
     * seen by has_work() below or its load of sleeping sees 1 (pairs with
     * the light fence in tapiq_worker_kick()). */
    atomic_store_explicit(&wk->sleeping, 1, memory_order_relaxed);
    tapiq_guard_heavy_fence();
    /* acquire: pairs with the seq_cst store of stop in tapiq_workers_stop(). */
    if (has_work(wk) || atomic_load_explicit(&rt->stop, memory_order_acquire)) {
        atomic_store_explicit(&wk->sleeping, 0, memory_order_relaxed);
        return;
    }
    wk->c[TAPIQ_W_SLEEPS]++;
    tapiq_worker_publish_counters(wk);
    futex(&wk->sleeping, FUTEX_WAIT_PRIVATE, 1, held ? &nap : NULL);
    /* relaxed: a waker that cleared it already did; else we clear it. */
    atomic_store_explicit(&wk->sleeping, 0, memory_order_relaxed);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
    struct tapiq_worker *wk = arg;
    struct tapiq_rt *rt = wk->rt;
    uint32_t nap_us = rt->cfg.nap_us;
    const struct timespec nap = {nap_us / 1000000u, (long)(nap_us % 1000000u) * 1000};
    uint64_t nap_start = 0; /* the first nap of this idle spell, 0: none yet */
    int idle = 0;
    /* Naps end within a few microseconds of the time asked (the default
     * slack is 50 us): this thread only. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    for (;;) {
        if (tapiq_worker_round(wk, 0)) {
            idle = 0;
            nap_start = 0;
            continue;
        }
        /* acquire: pairs with the seq_cst store of stop in tapiq_workers_stop(). */
        if (atomic_load_explicit(&rt->stop, memory_order_acquire))
            break;
        /* Idle: look cheaply (no round) for a while; then nap for a while
         * without `sleeping` set (issuers do not wake a napping worker and
         * it pays no membarrier: under a moderate, bursty load the worker
         * would otherwise sleep and be woken between every two bursts);
         * then sleep for good (no timer: an idle runtime costs nothing). */
        while (++idle < SPIN_ROUNDS && !has_work(wk))
            for (int k = 0; k < 8; k++)
                cpu_relax();
        if (idle >= SPIN_ROUNDS) {
            uint64_t now = nap_us ? mono_ns() : 0;
            if (nap_us && !nap_start)
                nap_start = now;
            if (nap_us && now - nap_start < NAP_WINDOW_NS) {
                nanosleep(&nap, NULL);
            } else {
                nap_start = 0;
                worker_sleep(wk);
            }
        }
        idle = 0;
    }
    return NULL;
}

int tapiq_worker_start(struct tapiq_worker *wk)
{
    int rc = pthread_create(&wk->thread, NULL, worker_main, wk);
    return rc ? -rc : 0;
}

void tapiq_workers_stop(struct tapiq_rt *rt, uint32_t n)
{
    /* seq_cst: ordered before the exchange of `sleeping` in the wake-up;
     * pairs with the heavy fence and the load of stop in worker_sleep(). */
    atomic_store_explicit(&rt->stop, 1, memory_order_seq_cst);
    for (uint32_t i = 0; i < n; i++) {
        /* A worker between its stop check and its sleep finds sleeping == 0
         * after this wake, and its own re-check sees stop. */
        tapiq_worker_wake(&rt->workers[i]);
        pthread_join(rt->workers[i].thread, NULL);
    }
}

void tapiq_worker_counters(struct tapiq_worker *wk, uint64_t sum[TAPIQ_W_MAX])
{
    for (int i = 0; i < TAPIQ_W_MAX; i++) {
        /* acquire: pairs with the release in publish_counters(). */
        uint64_t v = atomic_load_explicit(&wk->ctr[i], memory_order_acquire);
        if (i == TAPIQ_W_ROUND_HWM) /* a maximum over workers, not a sum */
            sum[i] = v > sum[i] ? v : sum[i];
        else
            sum[i] += v;
    }
}
