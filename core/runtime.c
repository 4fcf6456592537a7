/* core/runtime.c - runtime lifecycle, workers, batches, provider host calls.
 * See runtime.h for the synchronization table and the request path. */
#include "core/alloc.h"
#include "core/runtime.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "core/worker.h"

_Atomic(struct tapiq_rt *) tapiq_g_rt;
uint16_t tapiq_handle_gen[TAPIQ_MAX_HANDLES];
pthread_mutex_t tapiq_g_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t tapiq_next_epoch = 1;

/* The handle slot table and its free lists, used by one runtime at a time
 * (the next one starts after the last one was freed, both under g_lock).
 * Static, so that starting a runtime allocates none of its ~6 MiB and
 * touches only the slots it uses: a slot is taken from free_handles, else
 * the never-used one at fresh_handles; rt_free zeroes the used ones. Pages
 * never touched cost no memory. */
static struct tapiq_handle g_handle_slots[TAPIQ_MAX_HANDLES];
static uint32_t g_free_handles[TAPIQ_MAX_HANDLES];
static uint32_t g_limbo_handles[TAPIQ_MAX_HANDLES];

/* ------------------------------------------------------------ notification */

/* Post one PHONE_STATE token for handle slot @hs, unless one is pending for
 * the same (handle, @bitword bit). Inside an RCU read-side critical section. */
static void post_token(struct tapiq_rt *rt, struct tapiq_handle *hs, uint32_t hv,
                       _Atomic uint64_t *word, uint64_t bit, _Atomic uint32_t *word32,
                       uint32_t bit32, uint32_t p1, uint32_t p2)
{
    uint32_t t;
    struct tapiq_cmsg m = {hv, PHONE_STATE, p1, p2};
    if (word) {
        /* acq_rel: pairs with the fetch_and in the consumer that clears the
         * bit before delivering (runtime consumer in tapi.c). */
        if (atomic_fetch_or_explicit(word, bit, memory_order_acq_rel) & bit) {
            tapiq_stat_add(rt->stats, TAPIQ_C_STATE_COALESCED, 1);
            return;
        }
    } else {
        /* acq_rel: as for the lamp bits above. */
        if (atomic_fetch_or_explicit(word32, bit32, memory_order_acq_rel) & bit32) {
            tapiq_stat_add(rt->stats, TAPIQ_C_STATE_COALESCED, 1);
            return;
        }
    }
    /* seq_cst: against the fetch_or of TAPIQ_TOKENS_CLOSED in phoneClose: a
     * token counted before the close keeps its room reserved until it is
     * consumed; one counted after is not posted. */
    t = atomic_fetch_add_explicit(&hs->tokens, 1, memory_order_seq_cst);
    if (t & TAPIQ_TOKENS_CLOSED) {
        atomic_fetch_sub_explicit(&hs->tokens, 1, memory_order_seq_cst);
        return;
    }
    tapiq_cring_post(&hs->app->ring, &m, 1);
    tapiq_stat_add(rt->stats, TAPIQ_C_STATE_EVENTS, 1);
}

void tapiq_notify_lamp(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t lamp)
{
    /* acquire: pairs with the release store that publishes a new list. */
    struct tapiq_subs *s = atomic_load_explicit(&dev->subs, memory_order_acquire);
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n; i++) {
        struct tapiq_handle *hs = &rt->handles[s->slot[i]];
        /* acquire: pairs with the release store of hval in phoneOpen. */
        uint32_t hv = atomic_load_explicit(&hs->hval, memory_order_acquire);
        if (!hv)
            continue;
        /* acquire: pairs with the release store of states in
         * phoneSetStatusMessages, which makes the handle's event reservation
         * visible first. */
        if (!(atomic_load_explicit(&hs->states, memory_order_acquire) & PHONESTATE_LAMP))
            continue;
        post_token(rt, hs, hv, &hs->lampbits[lamp / 64], (uint64_t)1 << (lamp % 64), NULL, 0,
                   PHONESTATE_LAMP, lamp);
    }
}

void tapiq_notify_states(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t state)
{
    /* acquire (all three): as in tapiq_notify_lamp(). */
    struct tapiq_subs *s = atomic_load_explicit(&dev->subs, memory_order_acquire);
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n; i++) {
        struct tapiq_handle *hs = &rt->handles[s->slot[i]];
        uint32_t hv = atomic_load_explicit(&hs->hval, memory_order_acquire);
        if (!hv || !(atomic_load_explicit(&hs->states, memory_order_acquire) & state))
            continue;
        post_token(rt, hs, hv, NULL, 0, &hs->statebits, state, state, 0);
    }
}

/* ---------------------------------------------------------------- stepping */

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

/* -------------------------------------------------------------- host calls */

TAPIQ_API int tapiq_host_add_device(tapiq_host *host, uint32_t nlamps, const uint32_t *lamp_modes,
                                    int connected)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    struct tapiq_dev *d;
    const uint32_t all = PHONELAMPMODE_OFF | PHONELAMPMODE_STEADY | PHONELAMPMODE_WINK |
                         PHONELAMPMODE_FLASH | PHONELAMPMODE_FLUTTER |
                         PHONELAMPMODE_BROKENFLUTTER;
    if (!rt || nlamps > TAPIQ_MAX_LAMPS)
        return -EINVAL;
    if (rt->ndev >= rt->cfg.devices)
        return -ENOSPC;
    d = &rt->devs[rt->ndev];
    /* Each array on cache lines of its own: modes is read per request,
     * lamp is written on changes, the batch arrays per batch. */
    d->modes = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(uint32_t));
    d->lamp = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(*d->lamp));
    d->batch.upd = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(tapiq_update));
    d->batch.lamp_pos = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(int32_t));
    if (!d->modes || !d->lamp || !d->batch.upd || !d->batch.lamp_pos) {
        free(d->modes);
        free(d->lamp);
        free(d->batch.upd);
        free(d->batch.lamp_pos);
        memset(d, 0, sizeof(*d));
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < nlamps; i++) {
        uint32_t m = lamp_modes ? lamp_modes[i] : all;
        if (m & PHONELAMPMODE_DUMMY)
            m = PHONELAMPMODE_DUMMY;
        d->modes[i] = m & (PHONELAMPMODE_DUMMY | all);
        atomic_init(&d->lamp[i], m == PHONELAMPMODE_DUMMY ? PHONELAMPMODE_DUMMY
                                                          : PHONELAMPMODE_OFF);
        d->batch.lamp_pos[i] = -1;
    }
    d->modes_all = nlamps ? d->modes[0] : 0;
    for (uint32_t i = 0; i < nlamps; i++)
        if (d->modes[i] != d->modes_all || d->modes[i] == PHONELAMPMODE_DUMMY)
            d->modes_all = 0;
    d->id = rt->ndev;
    d->worker = rt->ndev % rt->cfg.workers;
    d->nlamps = nlamps;
    d->batch.rt = rt;
    d->batch.dev = d;
    atomic_init(&d->connected, connected ? 1 : 0);
    atomic_init(&d->subs, NULL);
    atomic_init(&d->nowners, 0);
    atomic_init(&d->nmonitors, 0);
    return (int)rt->ndev++;
}

TAPIQ_API int tapiq_host_set_connected(tapiq_host *host, uint32_t device, int connected)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    struct tapiq_dev *d;
    uint32_t v = connected ? 1 : 0;
    if (!rt || device >= rt->ndev)
        return -EINVAL;
    d = &rt->devs[device];
    /* relaxed: a status flag; phoneSetLamp reads it with no data behind it. */
    if (atomic_exchange_explicit(&d->connected, v, memory_order_acq_rel) == v)
        return 0;
    tapiq_guard_enter();
    tapiq_notify_states(rt, d, v ? PHONESTATE_CONNECTED : PHONESTATE_DISCONNECTED);
    tapiq_guard_exit();
    return 0;
}

/* ---------------------------------------------------------------- lifecycle */

static void rt_free(struct tapiq_rt *rt)
{
    uint32_t nsq = (rt->nslots + 1) * rt->cfg.workers;
    if (rt->devs) {
        for (uint32_t i = 0; i < rt->cfg.devices; i++) {
            struct tapiq_dev *d = &rt->devs[i];
            free(d->modes);
            free(d->lamp);
            free(d->batch.upd);
            free(d->batch.lamp_pos);
            free(atomic_load_explicit(&d->subs, memory_order_relaxed));
        }
        free(rt->devs);
    }
    if (rt->handles) {
        /* Back to all zeros for the next runtime: the slots below
         * fresh_handles, and fresh_handles itself (phoneOpen may have given
         * it lamp bits before failing). */
        uint32_t end = rt->fresh_handles < TAPIQ_MAX_HANDLES ? rt->fresh_handles + 1
                                                             : TAPIQ_MAX_HANDLES;
        for (uint32_t i = 0; i < end; i++)
            free(rt->handles[i].lampbits);
        memset(rt->handles, 0, end * sizeof(*rt->handles));
    }
    for (uint32_t i = 0; rt->sq && i < nsq; i++)
        tapiq_sq_destroy(&rt->sq[i]);
    free(rt->sq);
    for (uint32_t i = 0; rt->workers && i < rt->cfg.workers; i++)
        tapiq_worker_destroy(&rt->workers[i]);
    free(rt->workers);
    free(rt->slot_used);
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

int tapiq_rt_create(struct tapiq_config *cfg, struct tapiq_rt **out, char *err, size_t errlen)
{
    struct tapiq_rt *rt = tapiq_calloc(1, sizeof(*rt));
    uint32_t nsq, pbits;
    int rc = 0;
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
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
    rt->devs = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->devs) * rt->cfg.devices);
    rt->sq = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->sq) * nsq);
    rt->slot_used = tapiq_calloc(rt->nslots, sizeof(*rt->slot_used));
    rt->workers = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->workers) * rt->cfg.workers);
    if (rt->devs)
        memset(rt->devs, 0, sizeof(*rt->devs) * rt->cfg.devices);
    if (rt->sq)
        memset(rt->sq, 0, sizeof(*rt->sq) * nsq);
    if (rt->workers)
        memset(rt->workers, 0, sizeof(*rt->workers) * rt->cfg.workers);
    rt->handles = g_handle_slots;
    rt->free_handles = g_free_handles;
    rt->limbo_handles = g_limbo_handles;
    rt->fresh_handles = 1; /* slot 0 is never used */
    if (!rt->stats || !rt->devs || !rt->sq || !rt->slot_used || !rt->workers)
        rc = -ENOMEM;
    for (uint32_t i = 0; !rc && i < nsq; i++)
        rc = tapiq_sq_init(&rt->sq[i], rt->sq_size, i >= rt->nslots * rt->cfg.workers,
                           (i + 1) << pbits, (1u << pbits) - 1);
    for (uint32_t w = 0; !rc && w < rt->cfg.workers; w++)
        rc = tapiq_worker_init(&rt->workers[w], rt, w);
    if (rc) {
        rt_free(rt);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    memset(rt->stats, 0, sizeof(*rt->stats));
    for (uint32_t i = 0; i < rt->nslots; i++)
        atomic_init(&rt->slot_used[i], 0);
    atomic_init(&rt->slots_hwm, 0);
    atomic_init(&rt->stop, 0);

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
            /* seq_cst: see tapiq_rt_destroy(). */
            atomic_store_explicit(&rt->stop, 1, memory_order_seq_cst);
            for (uint32_t j = 0; j < i; j++)
                tapiq_worker_join(&rt->workers[j]);
            rt->cfg.backend->stop(rt->be_state);
            rt_free(rt);
            snprintf(err, errlen, "cannot start worker threads: %s", strerror(rc));
            return -rc;
        }
        rt->nthreads++;
    }
    *out = rt;
    return 0;
}

void tapiq_rt_destroy(struct tapiq_rt *rt)
{
    /* The caller unpublished rt and waited for a grace period: no TAPI call
     * can reach it any more. */
    /* seq_cst: ordered before the exchange of `sleeping` in the wake-up;
     * pairs with the heavy fence and the load of stop in worker_sleep(). */
    atomic_store_explicit(&rt->stop, 1, memory_order_seq_cst);
    for (uint32_t i = 0; i < rt->nthreads; i++)
        tapiq_worker_join(&rt->workers[i]);
    rt->cfg.backend->stop(rt->be_state);
    rt_free(rt);
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
        for (int i = 0; i < TAPIQ_W_MAX; i++)
            /* acquire: pairs with the release in publish_counters(). */
            wsum[i] += atomic_load_explicit(&rt->workers[w].ctr[i], memory_order_acquire);
    /* Every accepted request took one ring position. */
    nsq = (rt->nslots + 1) * rt->cfg.workers;
    for (uint32_t i = 0; i < nsq; i++)
        s.accepted += tapiq_sq_pushed(&rt->sq[i]);
    for (int i = 0; i < TAPIQ_REJECT_MAX; i++)
        s.rejected[i] = sum[TAPIQ_C_REJECTED0 + i];
    s.batches = wsum[TAPIQ_W_BATCHES];
    s.updates_applied = wsum[TAPIQ_W_APPLIED];
    s.updates_coalesced = wsum[TAPIQ_W_COALESCED];
    s.updates_failed = wsum[TAPIQ_W_FAILED];
    s.replies = wsum[TAPIQ_W_REPLIES];
    s.replies_suppressed = wsum[TAPIQ_W_SUPPRESSED];
    s.in_flight = s.accepted > s.replies + s.replies_suppressed
                      ? s.accepted - s.replies - s.replies_suppressed
                      : 0;
    /* Replies posted, then dropped by phoneGetMessage because the handle
     * closed meanwhile: out of flight already, suppressed all the same. */
    s.replies_suppressed += sum[TAPIQ_C_SUPPRESSED_LATE];
    s.state_events = sum[TAPIQ_C_STATE_EVENTS];
    s.state_coalesced = sum[TAPIQ_C_STATE_COALESCED];
    s.requests_hwm = wsum[TAPIQ_W_INUSE_HWM];
    s.requests_capacity = (uint64_t)nsq * rt->sq_size;
    s.round_hwm = wsum[TAPIQ_W_ROUND_HWM];
    s.worker_sleeps = wsum[TAPIQ_W_SLEEPS];
    s.worker_wakeups = sum[TAPIQ_C_WAKEUPS];
    tapiq_guard_exit();
    memcpy(out, &s, size < sizeof(s) ? size : sizeof(s));
    return 0;
}
