/* core/runtime.c - runtime lifecycle, workers, batches, provider host calls.
 * See runtime.h for the synchronization table and the request path. */
#include "core/alloc.h"
#include "core/runtime.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rcu.h"

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

#define WORKER_POP 16
#define WORKER_SPIN 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* --------------------------------------------------------------- schedule */

void tapiq_rt_schedule(struct tapiq_rt *rt, struct tapiq_dev *dev)
{
    uint32_t expected = 0;
    uint64_t v = dev->id;
    /* seq_cst: one side of the Dekker pair described at struct tapiq_dev. */
    if (!atomic_compare_exchange_strong_explicit(&dev->sched, &expected, 1, memory_order_seq_cst,
                                                 memory_order_seq_cst))
        return; /* queued or running: that worker will see the mailbox */
    /* The run queue holds every device at most once and has room for twice
     * that many, so this fits; a short push only meets a consumer that is
     * still reading a cell a lap behind. */
    while (tapiq_mpmc_push_try(&rt->runq, &v, 1) == 0)
        sched_yield();
    /* Wake a worker unless an idle one (looking for work, not asleep) will
     * find this device within its next round. */
    if (tapiq_wake_signal_lazy(&rt->wake, tapiq_mpmc_count(&rt->runq), WORKER_POP))
        tapiq_stat_add(rt->stats, TAPIQ_C_WAKEUPS, 1);
}

static void finish_device(struct tapiq_rt *rt, struct tapiq_dev *dev)
{
    uint32_t h = dev->head;
    /* seq_cst: see struct tapiq_dev (Dekker with the producer's publish and
     * load of sched). Also releases the device's batch and head to the next
     * worker that holds it. */
    atomic_store_explicit(&dev->sched, 0, memory_order_seq_cst);
    if (atomic_load_explicit(&dev->cells[h & dev->mask].seq, memory_order_seq_cst) == h + 1)
        tapiq_rt_schedule(rt, dev);
}

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

/* ----------------------------------------------------------------- batches */

TAPIQ_API tapiq_update *tapiq_batch_updates(tapiq_batch *b, size_t *count)
{
    if (count)
        *count = b->nupd;
    return b->upd;
}

/* Completion context: replies and freed request ids are gathered and handed
 * on in bulk. A worker keeps one for a whole round (every device it popped
 * at once, with one RCU critical section), so that the per-batch cost stays
 * flat however many devices share the load; a backend thread completing a
 * batch later uses one on its stack for that batch. */
#define CTX_BUF 256
struct complete_ctx {
    struct tapiq_rt *rt;
    int in_round;
    uint32_t app_h; /* the application buf[] is for */
    uint32_t nbuf, nids;
    uint32_t replies, failed, suppressed;
    uint32_t batches, applied, coalesced; /* counted by the worker's round */
    /* Devices whose batch completed in this round: they stay scheduled until
     * their replies are posted, so one device's replies keep their order. */
    struct tapiq_dev *done[WORKER_POP];
    uint32_t ndone;
    struct tapiq_cmsg buf[CTX_BUF];
    uint32_t ids[CTX_BUF];
};

static TAPIQ_TLS struct complete_ctx *t_worker_ctx;

/* Give back the request slots gathered so far. A slot goes back before its
 * reply is posted: an application that has all its replies must find room
 * for new requests. */
static void ctx_flush_ids(struct complete_ctx *c)
{
    if (c->nids) {
        tapiq_reqid_free_bulk(&c->rt->reqid, c->ids, c->nids);
        c->nids = 0;
    }
}

/* Post the gathered replies of application c->app_h. Inside RCU. */
static void ctx_flush_replies(struct complete_ctx *c)
{
    struct tapiq_app *app;
    if (!c->nbuf)
        return;
    ctx_flush_ids(c);
    app = tapiq_app_lookup(c->rt, c->app_h);
    if (app) {
        tapiq_cring_post(&app->ring, c->buf, c->nbuf);
        c->replies += c->nbuf;
    } else {
        c->suppressed += c->nbuf; /* shut down meanwhile */
    }
    c->nbuf = 0;
}

/* Hand everything on. Inside RCU. */
static void ctx_flush(struct complete_ctx *c)
{
    struct tapiq_rt *rt = c->rt;
    ctx_flush_ids(c);
    ctx_flush_replies(c);
    c->app_h = 0;
    if (c->replies)
        tapiq_stat_add(rt->stats, TAPIQ_C_REPLIES, c->replies);
    if (c->failed)
        tapiq_stat_add(rt->stats, TAPIQ_C_FAILED, c->failed);
    if (c->suppressed)
        tapiq_stat_add(rt->stats, TAPIQ_C_SUPPRESSED, c->suppressed);
    c->replies = c->failed = c->suppressed = 0;
    if (c->batches) {
        tapiq_stat_add(rt->stats, TAPIQ_C_BATCHES, c->batches);
        tapiq_stat_add(rt->stats, TAPIQ_C_APPLIED, c->applied);
        tapiq_stat_add(rt->stats, TAPIQ_C_COALESCED, c->coalesced);
        c->batches = c->applied = c->coalesced = 0;
    }
}

static void ctx_init(struct complete_ctx *c, struct tapiq_rt *rt)
{
    c->rt = rt;
    c->in_round = 0;
    c->app_h = 0;
    c->nbuf = c->nids = 0;
    c->replies = c->failed = c->suppressed = 0;
    c->batches = c->applied = c->coalesced = 0;
    c->ndone = 0;
}

/* Inside RCU. */
static void complete_into(struct complete_ctx *c, struct tapiq_batch *b)
{
    struct tapiq_rt *rt = b->rt;
    struct tapiq_dev *dev = b->dev;
    struct tapiq_app *app = c->app_h ? tapiq_app_lookup(rt, c->app_h) : NULL;

    /* Lamp state first, then PHONE_STATE, then the replies. */
    for (uint32_t i = 0; i < b->nupd; i++) {
        tapiq_update *u = &b->upd[i];
        uint32_t old;
        if (u->status != 0)
            continue;
        /* relaxed: only this batch's owner writes the lamp. */
        old = atomic_load_explicit(&dev->lamp[u->lamp], memory_order_relaxed);
        if (old == u->mode)
            continue;
        /* release: pairs with the acquire load in phoneGetLamp/phoneGetStatus. */
        atomic_store_explicit(&dev->lamp[u->lamp], u->mode, memory_order_release);
        tapiq_notify_lamp(rt, dev, u->lamp);
    }
    for (uint32_t k = 0; k < b->nreqs; k++) {
        const struct tapiq_mcell *r = &dev->cells[(b->first + k) & dev->mask];
        int32_t st = b->upd[b->lamp_pos[r->lamp]].status;
        uint32_t hv = r->handle;
        if (st != 0)
            c->failed++;
        if (r->happ != c->app_h || !app) {
            ctx_flush_replies(c);
            c->app_h = r->happ;
            app = tapiq_app_lookup(rt, c->app_h);
        }
        if (!app) {
            c->suppressed++;
        } else if (!tapiq_handle_lookup(rt, hv)) {
            c->suppressed++;
            tapiq_cring_put_credits(&app->ring, 1);
        } else {
            struct tapiq_cmsg *m = &c->buf[c->nbuf++];
            m->handle = hv;
            m->msg = PHONE_REPLY;
            m->p1 = r->id;
            m->p2 = (uint32_t)st;
        }
        c->ids[c->nids++] = r->id;
        if (c->nbuf == CTX_BUF || c->nids == CTX_BUF) {
            ctx_flush_replies(c);
            ctx_flush_ids(c);
        }
    }
    for (uint32_t i = 0; i < b->nupd; i++)
        b->lamp_pos[b->upd[i].lamp] = -1;
    /* Free the batch's mailbox cells (everything needed was read above). */
    for (uint32_t k = 0; k < b->nreqs; k++) {
        uint32_t pos = b->first + k;
        /* release: pairs with the acquire load of seq in phoneSetLamp, so our
         * reads of the cell happen-before its reuse. */
        atomic_store_explicit(&dev->cells[pos & dev->mask].seq, pos + dev->mask + 1,
                              memory_order_release);
    }
    dev->head = b->first + b->nreqs;
    b->nreqs = 0;
    b->nupd = 0;
}

TAPIQ_API void tapiq_batch_complete(tapiq_batch *b)
{
    struct tapiq_rt *rt = b->rt;
    struct tapiq_dev *dev = b->dev;
    struct complete_ctx *c = t_worker_ctx;

    if (c && c->in_round && c->rt == rt && c->ndone < WORKER_POP) {
        /* Inline completion inside a worker's round: flushed at its end,
         * and the device released then. */
        tapiq_rcu_read_lock();
        complete_into(c, b);
        tapiq_rcu_read_unlock();
        c->done[c->ndone++] = dev;
        return;
    } else {
        struct complete_ctx local;
        ctx_init(&local, rt);
        tapiq_rcu_read_lock();
        complete_into(&local, b);
        ctx_flush(&local);
        tapiq_rcu_read_unlock();
    }
    finish_device(rt, dev);
}

static void run_device(struct tapiq_rt *rt, struct tapiq_dev *dev, struct complete_ctx *ctx)
{
    struct tapiq_batch *b = &dev->batch;
    uint32_t h = dev->head, n = 0;

    /* The published cells from head on, in issue order. */
    while (n <= dev->mask) {
        const struct tapiq_mcell *r = &dev->cells[(h + n) & dev->mask];
        int32_t pos;
        /* acquire: pairs with the seq_cst (release) publish in phoneSetLamp,
         * so the cell's fields are visible. */
        if (atomic_load_explicit(&r->seq, memory_order_acquire) != h + n + 1)
            break;
        pos = b->lamp_pos[r->lamp];
        if (pos < 0) {
            pos = (int32_t)b->nupd++;
            b->lamp_pos[r->lamp] = pos;
            b->upd[pos].lamp = r->lamp;
        }
        b->upd[pos].mode = r->mode; /* last request wins */
        b->upd[pos].status = (int32_t)PHONEERR_OPERATIONFAILED;
        n++;
    }
    if (n == 0) {
        finish_device(rt, dev);
        return;
    }
    b->first = h;
    b->nreqs = n;
    ctx->batches++;
    ctx->applied += b->nupd;
    ctx->coalesced += n - b->nupd;
    rt->cfg.backend->apply(rt->be_state, dev->id, b);
}

/* ----------------------------------------------------------------- workers */

/* One round: pop up to @max scheduled devices, run their batches, post what
 * completed inline, release them. Returns how many devices were popped. */
static size_t worker_round(struct tapiq_rt *rt, struct complete_ctx *ctx, uint64_t *devs,
                           size_t max)
{
    size_t n = tapiq_mpmc_pop_try(&rt->runq, devs, max);
    if (!n)
        return 0;
    tapiq_stat_max(&rt->stats->runq_hwm, n + tapiq_mpmc_count(&rt->runq));
    /* No RCU section across apply(): a backend may sleep there. */
    ctx->in_round = 1;
    for (size_t i = 0; i < n; i++)
        run_device(rt, &rt->devs[devs[i]], ctx);
    ctx->in_round = 0;
    tapiq_rcu_read_lock();
    ctx_flush(ctx);
    tapiq_rcu_read_unlock();
    for (uint32_t i = 0; i < ctx->ndone; i++)
        finish_device(rt, ctx->done[i]);
    ctx->ndone = 0;
    return n;
}

int tapiq_rt_manual;

int tapiq_rt_step(uint32_t max)
{
    uint64_t devs[WORKER_POP];
    struct tapiq_rt *rt;
    struct complete_ctx *saved = t_worker_ctx;
    int n;
    if (max == 0 || max > WORKER_POP)
        max = WORKER_POP;
    /* g_lock keeps the runtime from being torn down under us (teardown
     * happens under it); relaxed: the lock orders the load. */
    pthread_mutex_lock(&tapiq_g_lock);
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_relaxed);
    if (!rt || rt->nworkers) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return -1;
    }
    /* Manual runtimes have no worker thread: context 0 is the steppers'. */
    t_worker_ctx = rt->worker_ctx[0]; /* initialised by rt_create */
    n = (int)worker_round(rt, t_worker_ctx, devs, max);
    t_worker_ctx = saved;
    pthread_mutex_unlock(&tapiq_g_lock);
    return n;
}

static void *worker_main(void *arg)
{
    struct tapiq_rt *rt = arg;
    uint64_t devs[WORKER_POP];
    struct complete_ctx *ctx = rt->worker_ctx[0];

    /* Which context is ours: claimed once, before the steady loop. */
    for (uint32_t i = 0; i < rt->cfg.workers; i++) {
        uint32_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&rt->worker_ctx_taken[i], &expected, 1,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed)) {
            ctx = rt->worker_ctx[i];
            break;
        }
    }
    ctx_init(ctx, rt);
    t_worker_ctx = ctx;
    for (;;) {
        if (worker_round(rt, ctx, devs, WORKER_POP))
            continue;
        /* acquire: pairs with the release store of stop in rt_destroy. */
        if (atomic_load_explicit(&rt->stop, memory_order_acquire))
            break;
        /* Idle: spin briefly, then sleep until a schedule() wakes us. While
         * idle (counted), producers leave the wake-up to us. */
        tapiq_wake_idle_enter(&rt->wake);
        for (int i = 0; i < WORKER_SPIN && tapiq_mpmc_count(&rt->runq) == 0; i++)
            cpu_relax();
        if (tapiq_mpmc_count(&rt->runq) == 0) {
            uint32_t t = tapiq_wake_prepare(&rt->wake);
            tapiq_wake_idle_leave(&rt->wake); /* counted as a sleeper now */
            if (tapiq_mpmc_count(&rt->runq) != 0 ||
                atomic_load_explicit(&rt->stop, memory_order_acquire)) {
                tapiq_wake_cancel(&rt->wake);
            } else {
                tapiq_stat_add(rt->stats, TAPIQ_C_SLEEPS, 1);
                tapiq_wake_wait(&rt->wake, t);
            }
        } else {
            tapiq_wake_idle_leave(&rt->wake);
        }
    }
    t_worker_ctx = NULL;
    return NULL;
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
    d->cells = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*d->cells) * rt->mailbox);
    if (!d->modes || !d->lamp || !d->batch.upd || !d->batch.lamp_pos || !d->cells) {
        free(d->modes);
        free(d->lamp);
        free(d->batch.upd);
        free(d->batch.lamp_pos);
        free(d->cells);
        memset(d, 0, sizeof(*d));
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < rt->mailbox; i++)
        atomic_init(&d->cells[i].seq, i);
    d->mask = rt->mailbox - 1;
    d->head = 0;
    atomic_init(&d->tail, 0);
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
    d->nlamps = nlamps;
    d->batch.rt = rt;
    d->batch.dev = d;
    atomic_init(&d->sched, 0);
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
    tapiq_rcu_read_lock();
    tapiq_notify_states(rt, d, v ? PHONESTATE_CONNECTED : PHONESTATE_DISCONNECTED);
    tapiq_rcu_read_unlock();
    return 0;
}

/* ---------------------------------------------------------------- lifecycle */

static void rt_free(struct tapiq_rt *rt)
{
    if (rt->devs) {
        for (uint32_t i = 0; i < rt->cfg.devices; i++) {
            struct tapiq_dev *d = &rt->devs[i];
            free(d->modes);
            free(d->lamp);
            free(d->batch.upd);
            free(d->batch.lamp_pos);
            free(d->cells);
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
    if (rt->reqid.free.cells)
        tapiq_reqid_destroy(&rt->reqid);
    if (rt->runq.cells)
        tapiq_mpmc_destroy(&rt->runq);
    free(rt->stats);
    free(rt->workers);
    for (uint32_t i = 0; rt->worker_ctx && i < rt->cfg.workers; i++)
        free(rt->worker_ctx[i]);
    free(rt->worker_ctx);
    free(rt->worker_ctx_taken);
    tapiq_config_free(&rt->cfg);
    free(rt);
}

int tapiq_rt_create(struct tapiq_config *cfg, struct tapiq_rt **out, char *err, size_t errlen)
{
    struct tapiq_rt *rt = tapiq_calloc(1, sizeof(*rt));
    int rc;
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rt->cfg = *cfg; /* takes ownership of the backend configuration */
    memset(cfg, 0, sizeof(*cfg));
    rt->epoch = tapiq_next_epoch++;
    rt->mailbox = 2;
    while (rt->mailbox < rt->cfg.mailbox)
        rt->mailbox <<= 1;
    rt->stats = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->stats));
    rt->devs = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->devs) * rt->cfg.devices);
    rt->handles = g_handle_slots;
    rt->free_handles = g_free_handles;
    rt->limbo_handles = g_limbo_handles;
    rt->workers = tapiq_calloc(rt->cfg.workers, sizeof(pthread_t));
    rt->worker_ctx = tapiq_calloc(rt->cfg.workers, sizeof(*rt->worker_ctx));
    rt->worker_ctx_taken = tapiq_calloc(rt->cfg.workers, sizeof(*rt->worker_ctx_taken));
    for (uint32_t i = 0; rt->worker_ctx && i < rt->cfg.workers; i++)
        if (!(rt->worker_ctx[i] = tapiq_malloc(sizeof(struct complete_ctx))))
            rt->worker_ctx_ok = 0;
        else
            rt->worker_ctx_ok++;
    if (!rt->stats || !rt->devs || !rt->workers || !rt->worker_ctx || !rt->worker_ctx_taken ||
        rt->worker_ctx_ok != rt->cfg.workers) {
        if (rt->devs)
            memset(rt->devs, 0, sizeof(*rt->devs) * rt->cfg.devices);
        rt_free(rt);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memset(rt->stats, 0, sizeof(*rt->stats));
    memset(rt->devs, 0, sizeof(*rt->devs) * rt->cfg.devices);
    rt->fresh_handles = 1; /* slot 0 is never used */
    if ((rc = tapiq_reqid_init(&rt->reqid, rt->cfg.queue)) ||
        (rc = tapiq_mpmc_init(&rt->runq, (size_t)rt->cfg.devices * 2))) {
        rt_free(rt);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if (rt->cfg.ring_mutex) {
        pthread_mutex_init(&rt->baseline_mu[0], NULL);
        pthread_mutex_init(&rt->baseline_mu[1], NULL);
        tapiq_mpmc_set_baseline_mutex(&rt->runq, &rt->baseline_mu[0]);
        tapiq_mpmc_set_baseline_mutex(&rt->reqid.free, &rt->baseline_mu[1]);
    }
    rt->cache_batch = rt->cfg.queue / 256;
    if (rt->cache_batch < 1)
        rt->cache_batch = 1;
    if (rt->cache_batch > 32)
        rt->cache_batch = 32;
    tapiq_wake_init(&rt->wake);
    atomic_init(&rt->stop, 0);
    if (tapiq_rt_manual)
        ctx_init(rt->worker_ctx[0], rt);

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
        rc = pthread_create(&rt->workers[i], NULL, worker_main, rt);
        if (rc) {
            atomic_store_explicit(&rt->stop, 1, memory_order_release);
            tapiq_wake_broadcast(&rt->wake);
            for (uint32_t j = 0; j < i; j++)
                pthread_join(rt->workers[j], NULL);
            rt->cfg.backend->stop(rt->be_state);
            rt_free(rt);
            snprintf(err, errlen, "cannot start worker threads: %s", strerror(rc));
            return -rc;
        }
        rt->nworkers++;
    }
    *out = rt;
    return 0;
}

void tapiq_rt_destroy(struct tapiq_rt *rt)
{
    /* The caller unpublished rt and waited for a grace period: no TAPI call
     * can reach it any more. */
    /* release: pairs with the acquire load of stop in worker_main. */
    atomic_store_explicit(&rt->stop, 1, memory_order_release);
    tapiq_wake_broadcast(&rt->wake);
    for (uint32_t i = 0; i < rt->nworkers; i++)
        pthread_join(rt->workers[i], NULL);
    rt->cfg.backend->stop(rt->be_state);
    rt_free(rt);
}

/* --------------------------------------------------------------- statistics */

TAPIQ_API int tapiq_get_stats(tapiq_stats *out, size_t size)
{
    uint64_t sum[TAPIQ_C_MAX];
    tapiq_stats s;
    struct tapiq_rt *rt;
    if (!out)
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    tapiq_rcu_read_lock();
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_acquire);
    if (!rt) {
        tapiq_rcu_read_unlock();
        return -ENODEV;
    }
    tapiq_stats_sum_all(rt->stats, sum);
    s.accepted = sum[TAPIQ_C_ACCEPTED];
    for (int i = 0; i < TAPIQ_REJECT_MAX; i++)
        s.rejected[i] = sum[TAPIQ_C_REJECTED0 + i];
    s.batches = sum[TAPIQ_C_BATCHES];
    s.updates_applied = sum[TAPIQ_C_APPLIED];
    s.updates_coalesced = sum[TAPIQ_C_COALESCED];
    s.updates_failed = sum[TAPIQ_C_FAILED];
    s.replies = sum[TAPIQ_C_REPLIES];
    s.replies_suppressed = sum[TAPIQ_C_SUPPRESSED];
    s.in_flight = s.accepted > s.replies + s.replies_suppressed
                      ? s.accepted - s.replies - s.replies_suppressed
                      : 0;
    /* Replies posted, then dropped by phoneGetMessage because the handle
     * closed meanwhile: out of flight already, suppressed all the same. */
    s.replies_suppressed += sum[TAPIQ_C_SUPPRESSED_LATE];
    s.state_events = sum[TAPIQ_C_STATE_EVENTS];
    s.state_coalesced = sum[TAPIQ_C_STATE_COALESCED];
    /* relaxed: statistics. */
    s.requests_hwm = atomic_load_explicit(&rt->stats->requests_hwm, memory_order_relaxed);
    s.requests_capacity = rt->cfg.queue;
    s.runq_hwm = atomic_load_explicit(&rt->stats->runq_hwm, memory_order_relaxed);
    s.worker_sleeps = sum[TAPIQ_C_SLEEPS];
    s.worker_wakeups = sum[TAPIQ_C_WAKEUPS];
    tapiq_rcu_read_unlock();
    memcpy(out, &s, size < sizeof(s) ? size : sizeof(s));
    return 0;
}
