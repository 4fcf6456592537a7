/* bench/rawq.c - raw queue transfer and request-id runners; see rawq.h. */
#include "bench/rawq.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/vyukov.h"
#include "core/mpmc.h"

#ifdef BENCH_HAVE_CK
#include <ck_ring.h>
#endif
#ifdef BENCH_HAVE_WFCQ
#define _LGPL_SOURCE 1 /* the inline (static) wfcqueue functions */
#include <urcu/wfcqueue.h>
#endif

#define CAP 65536u

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* The caller's wait policy when a queue is full or empty (the queues never
 * wait themselves, except the mutex baseline): spin briefly, then yield. */
static inline void backoff(unsigned *fails)
{
    if (++*fails < 16)
        cpu_relax();
    else
        sched_yield();
}

/* ------------------------------------------------------ reference queues */

/* What a user writes: a ring under one mutex, consumers sleep on "not
 * empty", producers on "not full". */
struct mq {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    uint64_t *buf;
    uint64_t cap, head, tail;
    int wait_c, wait_p;
};

#ifdef BENCH_HAVE_WFCQ
struct wnode {
    struct cds_wfcq_node n;
    uint64_t v;
    _Atomic uint32_t busy; /* 1 from enqueue until the consumer has read it */
};
#endif

/* ------------------------------------------------------------- the run */

struct tstat {
    alignas(64) uint64_t n;
    uint64_t sum;
    uint64_t fails;
    uint64_t after_n, after_sum; /* taken after the stop (drain) */
};

struct run {
    int kind, np, nc, bin, bout;
    _Atomic int stop;
    pthread_barrier_t bar;
    struct tapiq_mpmc tq;
    pthread_mutex_t tq_mu; /* BENCH_Q_TAPIQ_MUTEX */
    struct vy vy;
    struct mq mq;
#ifdef BENCH_HAVE_CK
    struct ck_ring ck;
    ck_ring_buffer_t *ckbuf;
#endif
#ifdef BENCH_HAVE_WFCQ
    struct cds_wfcq_head wh;
    struct cds_wfcq_tail wt;
    struct wnode **pools; /* CAP nodes per producer */
#endif
    struct tstat *pst, *cst;
};

struct targ {
    struct run *r;
    int id;
};

/* Per-consumer state (wfcqueue splice keeps a private queue). */
struct cctx {
#ifdef BENCH_HAVE_WFCQ
    struct __cds_wfcq_head lh;
    struct cds_wfcq_tail lt;
#endif
    int dummy;
};

static inline size_t q_push(struct run *r, int id, uint64_t *seq, const uint64_t *v, size_t n)
{
    size_t k = 0;
    (void)id;
    (void)seq;
    switch (r->kind) {
    case BENCH_Q_TAPIQ:
    case BENCH_Q_TAPIQ_MUTEX:
        return tapiq_mpmc_push_try(&r->tq, v, n);
    case BENCH_Q_VYUKOV:
        while (k < n && vy_push1(&r->vy, v[k]))
            k++;
        return k;
#ifdef BENCH_HAVE_CK
    case BENCH_Q_CK:
        while (k < n && ck_ring_enqueue_mpmc(&r->ck, r->ckbuf, (void *)(uintptr_t)v[k]))
            k++;
        return k;
#endif
    case BENCH_Q_MUTEX: {
        struct mq *q = &r->mq;
        pthread_mutex_lock(&q->mu);
        while (q->tail - q->head == q->cap &&
               !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
            q->wait_p++;
            pthread_cond_wait(&q->not_full, &q->mu);
            q->wait_p--;
        }
        while (k < n && q->tail - q->head < q->cap) {
            q->buf[q->tail++ & (q->cap - 1)] = v[k];
            k++;
        }
        if (k && q->wait_c)
            pthread_cond_signal(&q->not_empty);
        pthread_mutex_unlock(&q->mu);
        return k;
    }
#ifdef BENCH_HAVE_WFCQ
    case BENCH_Q_WFCQ:
        while (k < n) {
            struct wnode *w = &r->pools[id][*seq & (CAP - 1)];
            /* acquire: pairs with the consumer's release of busy. */
            if (atomic_load_explicit(&w->busy, memory_order_acquire))
                break; /* this producer's CAP nodes are all in the queue: full */
            atomic_store_explicit(&w->busy, 1, memory_order_relaxed);
            cds_wfcq_node_init(&w->n);
            w->v = v[k];
            cds_wfcq_enqueue(&r->wh, &r->wt, &w->n);
            ++*seq;
            k++;
        }
        return k;
#endif
    default:
        return 0;
    }
}

#ifdef BENCH_HAVE_WFCQ
static inline uint64_t wnode_take(struct cds_wfcq_node *n)
{
    struct wnode *w = caa_container_of(n, struct wnode, n);
    uint64_t v = w->v;
    /* release: the node's next and value were read; pairs with the
     * producer's acquire of busy. */
    atomic_store_explicit(&w->busy, 0, memory_order_release);
    return v;
}
#endif

static inline size_t q_pop(struct run *r, struct cctx *c, uint64_t *out, size_t n)
{
    size_t k = 0;
    (void)c;
    switch (r->kind) {
    case BENCH_Q_TAPIQ:
    case BENCH_Q_TAPIQ_MUTEX:
        return tapiq_mpmc_pop_try(&r->tq, out, n);
    case BENCH_Q_VYUKOV:
        while (k < n && vy_pop1(&r->vy, &out[k]))
            k++;
        return k;
#ifdef BENCH_HAVE_CK
    case BENCH_Q_CK: {
        void *p;
        while (k < n && ck_ring_dequeue_mpmc(&r->ck, r->ckbuf, &p))
            out[k++] = (uint64_t)(uintptr_t)p;
        return k;
    }
#endif
    case BENCH_Q_MUTEX: {
        struct mq *q = &r->mq;
        pthread_mutex_lock(&q->mu);
        while (q->tail == q->head && !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
            q->wait_c++;
            pthread_cond_wait(&q->not_empty, &q->mu);
            q->wait_c--;
        }
        while (k < n && q->head != q->tail) {
            out[k++] = q->buf[q->head++ & (q->cap - 1)];
        }
        if (k && q->wait_p)
            pthread_cond_signal(&q->not_full);
        pthread_mutex_unlock(&q->mu);
        return k;
    }
#ifdef BENCH_HAVE_WFCQ
    case BENCH_Q_WFCQ:
        if (n == 1) {
            struct cds_wfcq_node *node;
            /* Dequeuers exclude one another (the wfcqueue table). */
            cds_wfcq_dequeue_lock(&r->wh, &r->wt);
            node = __cds_wfcq_dequeue_nonblocking(&r->wh, &r->wt);
            cds_wfcq_dequeue_unlock(&r->wh, &r->wt);
            if (node == NULL || node == CDS_WFCQ_WOULDBLOCK)
                return 0;
            out[0] = wnode_take(node);
            return 1;
        }
        /* Bulk: splice everything into the private queue (splice-from may
         * run concurrently with itself), then hand out up to @n. */
        if (cds_wfcq_empty(&c->lh, &c->lt)) {
            if (__cds_wfcq_splice_nonblocking(&c->lh, &c->lt, &r->wh, &r->wt) ==
                CDS_WFCQ_RET_WOULDBLOCK)
                return 0;
        }
        while (k < n) {
            struct cds_wfcq_node *node = __cds_wfcq_dequeue_nonblocking(&c->lh, &c->lt);
            if (node == NULL || node == CDS_WFCQ_WOULDBLOCK)
                break; /* empty, or a producer is still linking: later */
            out[k++] = wnode_take(node);
        }
        return k;
#endif
    default:
        return 0;
    }
}

static void *producer_main(void *varg)
{
    struct targ *a = varg;
    struct run *r = a->r;
    struct tstat *st = &r->pst[a->id];
    uint64_t v[64], next = 0, wseq = 0;
    unsigned fails = 0;
    uint64_t base = ((uint64_t)a->id + 1) << 40;
    pthread_barrier_wait(&r->bar);
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        size_t k;
        for (int i = 0; i < r->bin; i++)
            v[i] = base + next + (uint64_t)i;
        k = q_push(r, a->id, &wseq, v, (size_t)r->bin);
        for (size_t i = 0; i < k; i++)
            st->sum += v[i];
        st->n += k;
        next += k;
        if (k == 0) {
            st->fails++;
            if (r->kind != BENCH_Q_MUTEX)
                backoff(&fails);
        } else {
            fails = 0;
        }
    }
    return NULL;
}

static void *consumer_main(void *varg)
{
    struct targ *a = varg;
    struct run *r = a->r;
    struct tstat *st = &r->cst[a->id];
    struct cctx c;
    uint64_t out[64];
    unsigned fails = 0;
#ifdef BENCH_HAVE_WFCQ
    __cds_wfcq_init(&c.lh, &c.lt);
#endif
    pthread_barrier_wait(&r->bar);
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        size_t k = q_pop(r, &c, out, (size_t)r->bout);
        for (size_t i = 0; i < k; i++)
            st->sum += out[i];
        st->n += k;
        if (k == 0) {
            st->fails++;
            if (r->kind != BENCH_Q_MUTEX)
                backoff(&fails);
        } else {
            fails = 0;
        }
    }
#ifdef BENCH_HAVE_WFCQ
    if (r->kind == BENCH_Q_WFCQ) {
        /* Items spliced but not handed out yet belong to the drain. Producers
         * have stopped: wait out a link in progress. */
        while (!cds_wfcq_empty(&c.lh, &c.lt)) {
            struct cds_wfcq_node *node = __cds_wfcq_dequeue_nonblocking(&c.lh, &c.lt);
            if (node == CDS_WFCQ_WOULDBLOCK || node == NULL) {
                sched_yield();
                continue;
            }
            st->after_sum += wnode_take(node);
            st->after_n++;
        }
    }
#endif
    return NULL;
}

int bench_queue_available(int kind)
{
    switch (kind) {
    case BENCH_Q_TAPIQ:
    case BENCH_Q_TAPIQ_MUTEX:
    case BENCH_Q_VYUKOV:
    case BENCH_Q_MUTEX:
        return 1;
#ifdef BENCH_HAVE_CK
    case BENCH_Q_CK:
        return 1;
#endif
#ifdef BENCH_HAVE_WFCQ
    case BENCH_Q_WFCQ:
        return 1;
#endif
    default:
        return 0;
    }
}

const char *bench_queue_name(int kind)
{
    static const char *names[] = {"tapiq", "vyukov", "ck_ring", "mutex", "wfcqueue",
                                  "tapiq_mutex"};
    return kind >= 0 && kind < BENCH_Q_MAX ? names[kind] : "?";
}

static int setup(struct run *r)
{
    switch (r->kind) {
    case BENCH_Q_TAPIQ:
        return tapiq_mpmc_init(&r->tq, CAP);
    case BENCH_Q_TAPIQ_MUTEX: {
        int rc = tapiq_mpmc_init(&r->tq, CAP);
        if (rc)
            return rc;
        pthread_mutex_init(&r->tq_mu, NULL);
        tapiq_mpmc_set_baseline_mutex(&r->tq, &r->tq_mu);
        return 0;
    }
    case BENCH_Q_VYUKOV:
        r->vy.buf = aligned_alloc(64, sizeof(struct vy_cell) * CAP);
        if (!r->vy.buf)
            return -ENOMEM;
        for (uint64_t i = 0; i < CAP; i++)
            atomic_init(&r->vy.buf[i].seq, i);
        r->vy.mask = CAP - 1;
        atomic_init(&r->vy.epos, 0);
        atomic_init(&r->vy.dpos, 0);
        return 0;
#ifdef BENCH_HAVE_CK
    case BENCH_Q_CK:
        r->ckbuf = aligned_alloc(64, sizeof(ck_ring_buffer_t) * CAP);
        if (!r->ckbuf)
            return -ENOMEM;
        ck_ring_init(&r->ck, CAP);
        return 0;
#endif
    case BENCH_Q_MUTEX:
        pthread_mutex_init(&r->mq.mu, NULL);
        pthread_cond_init(&r->mq.not_empty, NULL);
        pthread_cond_init(&r->mq.not_full, NULL);
        r->mq.cap = CAP;
        r->mq.head = r->mq.tail = 0;
        r->mq.wait_c = r->mq.wait_p = 0;
        r->mq.buf = malloc(sizeof(uint64_t) * CAP);
        return r->mq.buf ? 0 : -ENOMEM;
#ifdef BENCH_HAVE_WFCQ
    case BENCH_Q_WFCQ:
        cds_wfcq_init(&r->wh, &r->wt);
        r->pools = calloc((size_t)r->np, sizeof(*r->pools));
        if (!r->pools)
            return -ENOMEM;
        for (int p = 0; p < r->np; p++) {
            r->pools[p] = calloc(CAP, sizeof(struct wnode));
            if (!r->pools[p])
                return -ENOMEM;
        }
        return 0;
#endif
    default:
        return -ENOTSUP;
    }
}

static void teardown(struct run *r)
{
    switch (r->kind) {
    case BENCH_Q_TAPIQ:
        tapiq_mpmc_destroy(&r->tq);
        break;
    case BENCH_Q_TAPIQ_MUTEX:
        tapiq_mpmc_destroy(&r->tq);
        pthread_mutex_destroy(&r->tq_mu);
        break;
    case BENCH_Q_VYUKOV:
        free(r->vy.buf);
        break;
#ifdef BENCH_HAVE_CK
    case BENCH_Q_CK:
        free(r->ckbuf);
        break;
#endif
    case BENCH_Q_MUTEX:
        pthread_mutex_destroy(&r->mq.mu);
        pthread_cond_destroy(&r->mq.not_empty);
        pthread_cond_destroy(&r->mq.not_full);
        free(r->mq.buf);
        break;
#ifdef BENCH_HAVE_WFCQ
    case BENCH_Q_WFCQ:
        if (r->pools)
            for (int p = 0; p < r->np; p++)
                free(r->pools[p]);
        free(r->pools);
        cds_wfcq_destroy(&r->wh, &r->wt);
        break;
#endif
    default:
        break;
    }
}

static void sleep_seconds(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

int bench_rawq_run(int kind, int producers, int consumers, int bin, int bout, double seconds,
                   struct bench_result *res)
{
    struct run *r;
    pthread_t *th;
    struct targ *args;
    int nt = producers + consumers, rc;
    uint64_t t0, t1, pushed = 0, psum = 0, popped = 0, csum = 0, window = 0;

    memset(res, 0, sizeof(*res));
    if (!bench_queue_available(kind) || producers < 1 || consumers < 1 || bin < 1 || bin > 64 ||
        bout < 1 || bout > 64) {
        snprintf(res->err, sizeof(res->err), "bad arguments or queue not built");
        return -EINVAL;
    }
    r = aligned_alloc(64, (sizeof(*r) + 63) & ~(size_t)63);
    th = calloc((size_t)nt, sizeof(*th));
    args = calloc((size_t)nt, sizeof(*args));
    if (!r || !th || !args) {
        free(r);
        free(th);
        free(args);
        return -ENOMEM;
    }
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->np = producers;
    r->nc = consumers;
    r->bin = bin;
    r->bout = bout;
    atomic_init(&r->stop, 0);
    r->pst = aligned_alloc(64, sizeof(struct tstat) * (size_t)producers);
    r->cst = aligned_alloc(64, sizeof(struct tstat) * (size_t)consumers);
    rc = (r->pst && r->cst) ? setup(r) : -ENOMEM;
    if (rc) {
        snprintf(res->err, sizeof(res->err), "setup failed: %d", rc);
        goto out;
    }
    memset(r->pst, 0, sizeof(struct tstat) * (size_t)producers);
    memset(r->cst, 0, sizeof(struct tstat) * (size_t)consumers);
    pthread_barrier_init(&r->bar, NULL, (unsigned)nt + 1);
    for (int i = 0; i < nt; i++) {
        args[i].r = r;
        args[i].id = i < producers ? i : i - producers;
        pthread_create(&th[i], NULL, i < producers ? producer_main : consumer_main, &args[i]);
    }
    pthread_barrier_wait(&r->bar);
    t0 = now_ns();
    sleep_seconds(seconds);
    atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
    t1 = now_ns();
    /* Items popped inside the window: read racily now (a lower bound), exact
     * totals after the join. */
    for (int i = 0; i < consumers; i++)
        window += __atomic_load_n(&r->cst[i].n, __ATOMIC_RELAXED);
    if (kind == BENCH_Q_MUTEX) {
        pthread_mutex_lock(&r->mq.mu);
        pthread_cond_broadcast(&r->mq.not_empty);
        pthread_cond_broadcast(&r->mq.not_full);
        pthread_mutex_unlock(&r->mq.mu);
    }
    for (int i = 0; i < nt; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < producers; i++) {
        pushed += r->pst[i].n;
        psum += r->pst[i].sum;
        res->full_polls += r->pst[i].fails;
    }
    for (int i = 0; i < consumers; i++) {
        popped += r->cst[i].n + r->cst[i].after_n;
        csum += r->cst[i].sum + r->cst[i].after_sum;
        res->empty_polls += r->cst[i].fails;
    }
    /* Drain what is left (single-threaded now). */
    {
        struct cctx c;
        uint64_t out[64];
        size_t k;
        unsigned spins = 0;
#ifdef BENCH_HAVE_WFCQ
        __cds_wfcq_init(&c.lh, &c.lt);
#endif
        atomic_store_explicit(&r->stop, 0, memory_order_relaxed); /* mutex pop must not bail */
        for (;;) {
            if (kind == BENCH_Q_MUTEX && r->mq.head == r->mq.tail)
                break;
            k = q_pop(r, &c, out, 64);
            if (k == 0) {
                /* empty, or (wfcqueue) a link still in flight: look a few times */
                if (++spins > 1000)
                    break;
                continue;
            }
            spins = 0;
            for (size_t i = 0; i < k; i++)
                csum += out[i];
            popped += k;
        }
    }
    res->items = window;
    res->elapsed_ns = t1 - t0;
    res->ok = pushed == popped && psum == csum;
    if (!res->ok)
        snprintf(res->err, sizeof(res->err),
                 "lost or duplicated items: pushed %llu popped %llu (sums %s)",
                 (unsigned long long)pushed, (unsigned long long)popped,
                 psum == csum ? "equal" : "differ");
    pthread_barrier_destroy(&r->bar);
    rc = res->ok ? 0 : -EIO;
out:
    teardown(r);
    free(r->pst);
    free(r->cst);
    free(r);
    free(th);
    free(args);
    return rc;
}

