/* core/runtime.c - runtime lifecycle, statistics, the manual-step hook.
 * See runtime.h for the synchronization table and the request path. */
#include "core/alloc.h"
#include "core/app.h"
#include "core/runtime.h"

#include <errno.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/guard.h"
#include "core/handle.h"
#include "core/issuer.h"
#include "core/worker.h"

_Atomic(struct tapiq_rt *) tapiq_g_rt;
/* See runtime.h: an epoch no issuing thread holds; never written. */
struct tapiq_rt tapiq_rt_none = {.epoch = UINT64_MAX};
_Atomic(struct tapiq_rt *) tapiq_g_rt_fast = &tapiq_rt_none;
pthread_mutex_t tapiq_g_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t tapiq_next_epoch = 1;

/* ---------------------------------------------------------------- stepping */

#ifdef TAPIQ_INTERNAL
int tapiq_rt_manual;

int tapiq_rt_step(uint32_t max)
{
    struct tapiq_rt *rt;
    uint32_t n = 0;
    /* g_lock keeps the runtime from being torn down under us (teardown
     * happens under it); relaxed: the lock orders the load. */
    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_relaxed);
    if (!rt || rt->nthreads || !tapiq_rt_manual) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return -ENODEV;
    }
    for (uint32_t w = 0; w < rt->cfg.workers; w++)
        n += tapiq_worker_round(&rt->workers[w], max);
    pthread_mutex_unlock(&tapiq_g_lock);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}
#else
enum { tapiq_rt_manual = 0 }; /* the installed library always starts its workers */
#endif

/* ---------------------------------------------------------------- lifecycle */

static void rt_free(struct tapiq_rt *rt)
{
    uint32_t nsq = (rt->nslots + 1) * rt->cfg.workers;
    tapiq_devs_free(rt);
    tapiq_handles_release(rt);
    for (uint32_t i = 0; rt->sq && i < nsq; i++)
        tapiq_sq_destroy(&rt->sq[i]);
    free(rt->sq);
    free(rt->sqe);
    for (uint32_t i = 0; rt->workers && i < rt->cfg.workers; i++)
        tapiq_worker_destroy(&rt->workers[i]);
    free(rt->workers);
    free(rt->pools);
    tapiq_issuers_free(rt);
    free(rt->stats);
    tapiq_config_free(&rt->cfg);
    free(rt);
}

/* Bits of a request id taken by the ring index: ids are
 * (ring + 1) << (31 - bits) | position, so 1 .. 0x7FFFFFFF and never 0. */
static uint32_t ring_bits(uint32_t nrings)
{
    uint32_t b = 0;
    while ((1u << b) <= nrings)
        b++;
    return b;
}

/* Bytes a configuration needs: the runtime's tables and one application
 * (README, Limits, gives the same formula). */
static uint64_t pow2_at_least(uint64_t v, uint64_t min)
{
    uint64_t p = min;
    while (p < v)
        p <<= 1;
    return p;
}

uint64_t tapiq_rt_estimate(const struct tapiq_config *c)
{
    uint64_t q = pow2_at_least(c->queue, 2), rings = (uint64_t)(c->threads + 1) * c->workers;
    uint64_t cells = (uint64_t)(c->threads + 1) * q; /* per worker */
    uint64_t lamps = c->lamps ? c->lamps : 1, b = 0;
    b += rings * (sizeof(struct tapiq_sq) + 16 * q) + c->workers * 4 * q;  /* rings */
    b += c->workers * (sizeof(struct tapiq_worker) + cells * (1 + 4) +
                       pow2_at_least(cells, 1) * 8 + 8 * ((uint64_t)c->devices / c->workers + 1));
    b += (uint64_t)c->devices * (sizeof(struct tapiq_dev) + lamps * (4 + 1 + 12 + 4) +
                                 lamps * 1); /* + the mem backend's copy */
    b += c->workers * 16 * tapiq_cq_entries(q) + 16 * pow2_at_least(c->events, 2);
    b += c->workers * (uint64_t)c->payloads * (c->payload_bytes + 40); /* payload pools */
    b += (uint64_t)c->devices * 64 * 5; /* a batch's attribute updates, per device */
    return b;
}

/* What this process may use: the cgroup's memory.max when there is one
 * (cgroup v2), else physical memory; RLIMIT_AS when lower. */
static uint64_t memory_limit(void)
{
    uint64_t lim = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    char line[512], path[640];
    struct rlimit rl;
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "0::", 3) == 0) {
                FILE *m;
                line[strcspn(line, "\n")] = '\0';
                snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", line + 3);
                if ((m = fopen(path, "r"))) {
                    unsigned long long v;
                    if (fscanf(m, "%llu", &v) == 1 && v < lim)
                        lim = v; /* "max" does not scan: no limit */
                    fclose(m);
                }
            }
        }
        fclose(f);
    }
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim)
        lim = rl.rlim_cur;
    return lim;
}

static int tapiq_rt_create(struct tapiq_config *cfg, struct tapiq_rt **out, char *err, size_t errlen)
{
    struct tapiq_rt *rt = tapiq_aligned_zalloc(_Alignof(struct tapiq_rt), sizeof(*rt));
    uint32_t nsq, pbits;
    int rc = 0;
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    tapiq_app_slots_init(rt);
    {
        uint64_t need = tapiq_rt_estimate(cfg), lim = memory_limit();
        if (need > lim) {
            snprintf(err, errlen,
                     "the configuration needs about %llu MiB (devices=%u, lamps=%u, "
                     "threads=%u, workers=%u, queue=%u), more than the %llu MiB this process "
                     "may use",
                     (unsigned long long)(need >> 20), cfg->devices, cfg->lamps, cfg->threads,
                     cfg->workers, cfg->queue, (unsigned long long)(lim >> 20));
            free(rt);
            return -ENOMEM;
        }
    }
    tapiq_guard_init();
    rt->cfg = *cfg; /* takes ownership of the backend configuration */
    memset(cfg, 0, sizeof(*cfg));
    rt->epoch = tapiq_next_epoch++;
    rt->nslots = rt->cfg.threads;
    /* At least 2: Vyukov's sequence words (the shared MPSC rings) cannot
     * tell "published at t" from "free for t + 1" in a ring of one. */
    rt->sq_size = 2;
    while (rt->sq_size < rt->cfg.queue)
        rt->sq_size <<= 1;
    nsq = (rt->nslots + 1) * rt->cfg.workers;
    pbits = 31 - ring_bits(nsq);
    if ((1u << pbits) <= rt->sq_size) { /* cannot happen within the key ranges */
        snprintf(err, errlen, "queue=%u is too large for threads=%u x workers=%u",
                 rt->cfg.queue, rt->cfg.threads, rt->cfg.workers);
        tapiq_config_free(&rt->cfg);
        free(rt);
        return -EINVAL;
    }
    rt->stats = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->stats));
    rt->sq = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->sq) * nsq);
    rt->sqe = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->sqe) * nsq * rt->sq_size);
    rt->workers = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->workers) * rt->cfg.workers);
    rt->pools = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->pools) * rt->cfg.workers);
    tapiq_handles_attach(rt);
    if (rt->sq)
        memset(rt->sq, 0, sizeof(*rt->sq) * nsq);
    if (rt->workers)
        memset(rt->workers, 0, sizeof(*rt->workers) * rt->cfg.workers);
    if (rt->pools)
        memset(rt->pools, 0, sizeof(*rt->pools) * rt->cfg.workers);
    if (!rt->stats || !rt->sq || !rt->sqe || !rt->workers || !rt->pools || tapiq_devs_alloc(rt) ||
        tapiq_issuers_alloc(rt))
        rc = -ENOMEM;
    for (uint32_t i = 0; !rc && i < nsq; i++) {
        /* ring i: pool slot (or the shared row) i / workers, worker i % workers */
        size_t at = ((size_t)(i % rt->cfg.workers) * (rt->nslots + 1) + i / rt->cfg.workers) *
                    rt->sq_size;
        rc = tapiq_sq_init_at(&rt->sq[i], rt->sq_size, i >= rt->nslots * rt->cfg.workers,
                              (i + 1) << pbits, (1u << pbits) - 1, rt->sqe + at);
    }
    for (uint32_t w = 0; !rc && w < rt->cfg.workers; w++)
        rc = tapiq_worker_init(&rt->workers[w], rt, w);
    if (rc) {
        rt_free(rt);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    memset(rt->stats, 0, sizeof(*rt->stats));

    rc = rt->cfg.backend->start((tapiq_host *)rt, rt->cfg.backend_cfg, rt->cfg.devices,
                                rt->cfg.lamps, &rt->be_state, err, errlen);
    if (rc) {
        if (!err[0])
            snprintf(err, errlen, "backend %s failed to start: %s", rt->cfg.backend->name,
                     strerror(-rc));
        rt_free(rt);
        return rc;
    }
    for (uint32_t i = 0; i < rt->cfg.workers && !tapiq_rt_manual; i++) {
        rc = tapiq_worker_start(&rt->workers[i]);
        if (rc) {
            tapiq_workers_stop(rt, i);
            rt->cfg.backend->stop(rt->be_state);
            rt_free(rt);
            snprintf(err, errlen, "cannot start worker threads: %s", strerror(-rc));
            return rc;
        }
        rt->nthreads++;
    }
    *out = rt;
    return 0;
}

static void tapiq_rt_destroy(struct tapiq_rt *rt)
{
    /* The caller unpublished rt and waited for a grace period: no TAPI call
     * can reach it any more. */
    tapiq_workers_stop(rt, rt->nthreads);
    rt->cfg.backend->stop(rt->be_state);
    rt_free(rt);
}

/* fork(): the child has none of the parent's threads (workers, delivery
 * threads, backend threads), so it cannot use the parent's instance: it
 * forgets it. Calls with the parent's handles then fail (UNINITIALIZED,
 * INVALAPPHANDLE, INVALPHONEHANDLE) instead of queueing requests nobody
 * answers; the child may initialize an instance of its own. */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&tapiq_g_lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&tapiq_g_lock);
}

static void atfork_child(void)
{
    /* relaxed: the child has one thread. */
    struct tapiq_rt *rt = atomic_load_explicit(&tapiq_g_rt, memory_order_relaxed);
    pthread_mutex_init(&tapiq_g_lock, NULL);
    if (rt) {
        tapiq_handles_release(rt); /* no stale handle value finds a slot */
        atomic_store_explicit(&tapiq_g_rt, NULL, memory_order_relaxed);
        atomic_store_explicit(&tapiq_g_rt_fast, &tapiq_rt_none, memory_order_relaxed);
    }
    tapiq_guard_after_fork();
}

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static void atfork_register(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int tapiq_rt_start_locked(const char *text, char *err, size_t errlen)
{
    struct tapiq_config cfg;
    struct tapiq_rt *rt;
    int rc;
    pthread_once(&g_atfork_once, atfork_register);
    rc = tapiq_config_parse(text, &cfg, err, errlen);
    if (rc)
        return rc;
    rc = tapiq_rt_create(&cfg, &rt, err, errlen);
    if (rc) {
        tapiq_config_free(&cfg);
        return rc;
    }
    /* release: publishes the fully built runtime to every acquire load. */
    atomic_store_explicit(&tapiq_g_rt, rt, memory_order_release);
    atomic_store_explicit(&tapiq_g_rt_fast, rt, memory_order_release);
    return 0;
}

/* Configurations needing at least this much give their memory back to the
 * system at the last shutdown (malloc_trim); below it, trimming the heap
 * (an madvise over every free page) would cost more than it returns. */
#define TAPIQ_TRIM_MIN (16ull << 20)

void tapiq_rt_stop_locked(struct tapiq_rt *rt)
{
    uint64_t need = tapiq_rt_estimate(&rt->cfg);
    /* release: unpublish; then no new section finds it. */
    atomic_store_explicit(&tapiq_g_rt, NULL, memory_order_release);
    atomic_store_explicit(&tapiq_g_rt_fast, &tapiq_rt_none, memory_order_release);
    tapiq_guard_synchronize_blocking();
    tapiq_rt_destroy(rt);
    if (need >= TAPIQ_TRIM_MIN)
        malloc_trim(0); /* the last shutdown gives the memory back */
}

/* --------------------------------------------------------------- statistics */

TAPIQ_API int tapiq_get_stats(tapiq_stats *out, size_t size)
{
    uint64_t sum[TAPIQ_C_MAX], wsum[TAPIQ_W_MAX] = {0};
    tapiq_stats s;
    struct tapiq_rt *rt;
    uint32_t nsq;
    if (!out)
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    tapiq_guard_enter();
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt) {
        tapiq_guard_exit();
        return -ENODEV;
    }
    tapiq_stats_sum_all(rt->stats, sum);
    for (uint32_t w = 0; w < rt->cfg.workers; w++)
        tapiq_worker_counters(&rt->workers[w], wsum);
    /* Every accepted request took one ring position. */
    nsq = (rt->nslots + 1) * rt->cfg.workers;
    for (uint32_t i = 0; i < nsq; i++)
        s.accepted += tapiq_sq_pushed(&rt->sq[i]);
    for (int i = 0; i < TAPIQ_REJECT_MAX; i++)
        s.rejected[i] = sum[TAPIQ_C_REJECTED0 + i];
    /* phoneSetLamp's fast path counts a full ring on the ring. */
    for (uint32_t i = 0; i < nsq; i++)
        s.rejected[TAPIQ_REJECT_RESOURCEUNAVAIL] += tapiq_sq_full_count(&rt->sq[i]);
    s.batches = wsum[TAPIQ_W_BATCHES];
    s.updates_applied = wsum[TAPIQ_W_APPLIED];
    s.updates_coalesced = wsum[TAPIQ_W_COALESCED];
    s.updates_failed = wsum[TAPIQ_W_FAILED];
    s.replies_suppressed = wsum[TAPIQ_W_SUPPRESSED];
    s.in_flight = s.accepted > wsum[TAPIQ_W_REPLIES] + s.replies_suppressed
                      ? s.accepted - wsum[TAPIQ_W_REPLIES] - s.replies_suppressed
                      : 0;
    /* A reply posted, then dropped at phoneGetMessage because its handle
     * closed meanwhile, counts once: suppressed, not replied. So
     * replies + replies_suppressed + in_flight == accepted. */
    s.replies = wsum[TAPIQ_W_REPLIES] - sum[TAPIQ_C_SUPPRESSED_LATE];
    s.replies_suppressed += sum[TAPIQ_C_SUPPRESSED_LATE];
    s.state_events = sum[TAPIQ_C_STATE_EVENTS];
    s.state_coalesced = sum[TAPIQ_C_STATE_COALESCED];
    s.requests_hwm = wsum[TAPIQ_W_INUSE_HWM];
    s.requests_capacity = (uint64_t)nsq * rt->sq_size;
    s.round_hwm = wsum[TAPIQ_W_ROUND_HWM];
    s.worker_sleeps = wsum[TAPIQ_W_SLEEPS];
    s.attrs_applied = wsum[TAPIQ_W_ATTRS_APPLIED];
    s.attrs_coalesced = wsum[TAPIQ_W_ATTRS_COALESCED];
    s.worker_wakeups = sum[TAPIQ_C_WAKEUPS];
    s.button_events = sum[TAPIQ_C_BUTTON_EVENTS];
    s.button_overruns = sum[TAPIQ_C_BUTTON_OVERRUNS];
    tapiq_guard_exit();
    memcpy(out, &s, size < sizeof(s) ? size : sizeof(s));
    return 0;
}

#ifndef TAPIQ_HAVE_MQTT
/* The mqtt backend's diagnostics without the backend (see <tapiq/tapiq.h>). */
TAPIQ_API uint64_t tapiq_mqtt_counter(enum tapiq_mqtt_ctr which)
{
    (void)which;
    return 0;
}

TAPIQ_API int tapiq_mqtt_last_error(char *buf, size_t len)
{
    if (!buf && len)
        return -EINVAL;
    if (len)
        buf[0] = '\0';
    return 0;
}
#endif
