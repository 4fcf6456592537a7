/* test_held - replies held back while an application's completion queue is
 * full, with two applications and handles closed meanwhile.
 *
 * Small queues (queue=16: a completion queue of 256 per worker and
 * application) and several issuing threads, so that most replies find no
 * room and wait in the workers. Checked, once everything is read: every
 * accepted request of a handle still open got exactly one PHONE_REPLY, on
 * its handle, with status 0; none came for a request of a closed handle
 * once phoneClose returned; the replies of one thread to one handle came
 * in issue order; nothing stays in flight (a held reply of a closed handle
 * goes too); the lamps hold the last mode set.
 *
 * case_fill: the threads fill everything while no one reads, a handle of
 * each application is closed and opened again, then everything is read.
 * case_slow_reader: the threads issue while one reader reads both
 * applications slowly, and a handle is closed and opened again meanwhile.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tq_test.h"

#define NTHR 4
#define NAPP 2
#define NH 2 /* handles per application, on devices a * NH + k */
#define NLAMP 8
#define MAXREQ 40000

struct req {
    LONG id;
    uint8_t app, k, lamp;
    uint8_t mode; /* index into tq_mode() */
    uint32_t h, gen; /* the handle, and its opening, it was issued on */
    uint32_t got; /* replies seen */
};

static HPHONEAPP g_app[NAPP];
/* The handles: [a][k], with the number of its opening (gen); the main
 * thread changes them (close: value 0, then gen + 1; open: gen + 1, then
 * the value), issuers read gen, value, gen (seq_cst). */
static _Atomic uint32_t g_h[NAPP][NH];
static _Atomic uint32_t g_gen[NAPP][NH];

/* seq_cst: the handle words' protocol (open_handle(), close_handle(), the
 * issuers' gen, value, gen reads) needs one order over all of them. */
static inline uint32_t tq_gen_load(_Atomic uint32_t *p)
{
    return atomic_load_explicit(p, memory_order_seq_cst);
}
static inline uint32_t tq_h_load(_Atomic uint32_t *p)
{
    return atomic_load_explicit(p, memory_order_seq_cst);
}

struct thr {
    pthread_t t;
    uint64_t rng;
    _Atomic uint32_t n; /* release: r[0, n) are written */
    uint32_t want;
    int stop_on_full; /* case_fill: stop once the rings stay full */
    struct req r[MAXREQ];
};
static struct thr g_thr[NTHR];
/* Refusals the issuers saw, per reason: the statistics must say the same.
 * Relaxed: counts, read after pthread_join(). */
static _Atomic uint64_t g_unavail, g_closed;

/* Replies as read, with the handles' openings at that moment: checked once
 * the issuers are done (a reply may come before its phoneSetLamp returns). */
struct rep {
    LONG id;
    uint32_t h;
    uint8_t app;
    uint32_t gen[NH];
};
#define MAXREP (NTHR * MAXREQ)
static struct rep g_rep[MAXREP];
static uint32_t g_nrep, g_nchecked;

static void *issuer(void *arg)
{
    struct thr *t = arg;
    int full_for = 0;
    uint32_t n = 0;
    while (n < t->want) {
        uint64_t x = tq_rand(&t->rng);
        uint8_t a = (uint8_t)(x % NAPP), k = (uint8_t)((x >> 8) % NH);
        uint8_t lamp = (uint8_t)((x >> 16) % NLAMP), mode = (uint8_t)((x >> 24) % 4);
        uint32_t gen = tq_gen_load(&g_gen[a][k]);
        uint32_t h = tq_h_load(&g_h[a][k]);
        if (!h || tq_gen_load(&g_gen[a][k]) != gen)
            continue; /* closing or opening */
        LONG rc = phoneSetLamp((HPHONE)h, lamp, tq_mode(mode));
        if (rc > 0) {
            t->r[n] = (struct req){.id = rc, .app = a, .k = k, .lamp = lamp, .mode = mode,
                                   .h = h, .gen = gen};
            /* release: pairs with the acquire loads of n (main thread) */
            atomic_store_explicit(&t->n, ++n, memory_order_release);
            full_for = 0;
            continue;
        }
        if (rc == (LONG)PHONEERR_INVALPHONEHANDLE) {
            atomic_fetch_add_explicit(&g_closed, 1, memory_order_relaxed);
            continue; /* closed just now */
        }
        TQ_CHECKF(rc == (LONG)PHONEERR_RESOURCEUNAVAIL, "phoneSetLamp: %s", tq_err_name(rc));
        atomic_fetch_add_explicit(&g_unavail, 1, memory_order_relaxed);
        if (t->stop_on_full && ++full_for > 2000)
            break; /* full for 200 ms and more: nobody reads */
        tq_sleep_us(100);
    }
    return NULL;
}

/* Request ids are unique within a case here (positions do not wrap): an
 * index id -> request, built once the issuers are done. */
#define IDX_BITS 18
static struct req *g_idx[1u << IDX_BITS];
static uint32_t g_last[NTHR][NAPP][NH]; /* 1 + index of the last reply's request */
static uint32_t g_last_gen[NTHR][NAPP][NH];

static uint32_t idx_slot(LONG id)
{
    return ((uint32_t)id * 0x9E3779B1u) >> (32 - IDX_BITS);
}

static void index_build(void)
{
    memset(g_idx, 0, sizeof g_idx);
    for (int i = 0; i < NTHR; i++)
        for (uint32_t j = 0; j < atomic_load_explicit(&g_thr[i].n, memory_order_acquire); j++) {
            uint32_t s = idx_slot(g_thr[i].r[j].id);
            while (g_idx[s]) {
                TQ_CHECKF(g_idx[s]->id != g_thr[i].r[j].id, "id %#x given twice",
                          (unsigned)g_idx[s]->id);
                s = (s + 1) & ((1u << IDX_BITS) - 1);
            }
            g_idx[s] = &g_thr[i].r[j];
        }
    memset(g_last, 0, sizeof g_last);
}

/* A reply against its request: same application, handle and opening (no
 * reply of a closed handle after phoneClose), the first for it, and after
 * the reply of every earlier request of the same thread and handle. */
static void check_reply(const struct rep *m)
{
    struct req *q = NULL;
    for (uint32_t s = idx_slot(m->id); g_idx[s]; s = (s + 1) & ((1u << IDX_BITS) - 1))
        if (g_idx[s]->id == m->id) {
            q = g_idx[s];
            break;
        }
    TQ_CHECKF(q, "reply for id %#x, which no thread was given", (unsigned)m->id);
    TQ_CHECKF(q->app == m->app, "reply for id %#x to application %d, issued for %d",
              (unsigned)m->id, m->app, q->app);
    TQ_CHECKF(q->h == m->h, "reply for id %#x on handle %#x, issued on %#x", (unsigned)m->id,
              (unsigned)m->h, (unsigned)q->h);
    TQ_CHECKF(q->gen == m->gen[q->k],
              "reply for id %#x of a handle closed before it was read", (unsigned)m->id);
    TQ_CHECKF(q->got == 0, "second reply for id %#x", (unsigned)m->id);
    q->got = 1;
    int i = 0;
    while ((size_t)(q - g_thr[i].r) >= MAXREQ)
        i++;
    uint32_t j = (uint32_t)(q - g_thr[i].r), *last = &g_last[i][q->app][q->k];
    if (g_last_gen[i][q->app][q->k] != q->gen) {
        g_last_gen[i][q->app][q->k] = q->gen;
        *last = 0;
    }
    TQ_CHECKF(j + 1 > *last, "reply for id %#x after a later request's (thread %d, handle %d/%d)",
              (unsigned)m->id, i, q->app, q->k);
    *last = j + 1;
}

static void check_replies(void)
{
    for (; g_nchecked < g_nrep; g_nchecked++)
        check_reply(&g_rep[g_nchecked]);
}

static void log_reply(int a, const PHONEMESSAGE *m)
{
    TQ_CHECKF(m->dwMessageID == PHONE_REPLY, "message %u", (unsigned)m->dwMessageID);
    TQ_CHECKF(tq_reply_status(m) == 0, "reply status %s", tq_err_name(tq_reply_status(m)));
    TQ_CHECK(g_nrep < MAXREP);
    struct rep *r = &g_rep[g_nrep++];
    r->id = (LONG)m->dwParam1;
    r->h = (uint32_t)m->hDevice;
    r->app = (uint8_t)a;
    for (int k = 0; k < NH; k++)
        r->gen[k] = tq_gen_load(&g_gen[a][k]);
}

/* Requests of open handles still without their reply. */
static uint64_t missing(void)
{
    uint64_t n = 0;
    for (int i = 0; i < NTHR; i++)
        for (uint32_t j = 0; j < atomic_load_explicit(&g_thr[i].n, memory_order_acquire); j++) {
            struct req *q = &g_thr[i].r[j];
            n += !q->got && q->gen == tq_gen_load(&g_gen[q->app][q->k]);
        }
    return n;
}

static void open_handle(int a, int k)
{
    HPHONE h = tq_open(g_app[a], (DWORD)(a * NH + k), PHONEPRIVILEGE_OWNER, 0);
    atomic_fetch_add_explicit(&g_gen[a][k], 1, memory_order_seq_cst);
    atomic_store_explicit(&g_h[a][k], (uint32_t)h, memory_order_seq_cst);
}

static void close_handle(int a, int k)
{
    HPHONE h = (HPHONE)tq_h_load(&g_h[a][k]);
    /* 0 first: issuers skip it (a request on the old value may still be
     * accepted before phoneClose: its reply is suppressed, or read before
     * this function began) */
    atomic_store_explicit(&g_h[a][k], 0, memory_order_seq_cst);
    atomic_fetch_add_explicit(&g_gen[a][k], 1, memory_order_seq_cst);
    TQ_EXPECT(phoneClose(h), 0);
}

static void setup(void)
{
    TQ_CHECK(tapiq_configure("devices=4,lamps=8,workers=2,queue=16,threads=8") == 0);
    g_nrep = g_nchecked = 0;
    atomic_store_explicit(&g_unavail, 0, memory_order_relaxed);
    atomic_store_explicit(&g_closed, 0, memory_order_relaxed);
    for (int a = 0; a < NAPP; a++) {
        TQ_EXPECT(tq_init_app(&g_app[a], NULL, NULL), 0);
        for (int k = 0; k < NH; k++)
            open_handle(a, k);
    }
}

static void start(uint32_t want, int stop_on_full)
{
    g_nrep = g_nchecked = 0;
    for (int i = 0; i < NTHR; i++) {
        struct thr *t = &g_thr[i];
        t->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) + g_gen[0][0];
        atomic_store_explicit(&t->n, 0, memory_order_relaxed); /* before the thread starts */
        t->want = want;
        t->stop_on_full = stop_on_full;
        TQ_CHECK(pthread_create(&t->t, NULL, issuer, t) == 0);
    }
}

static void join(void)
{
    for (int i = 0; i < NTHR; i++)
        TQ_CHECK(pthread_join(g_thr[i].t, NULL) == 0);
    index_build();
}

/* Once the issuers are done: read both applications until every request
 * of an open handle has its reply; then nothing more comes and nothing
 * stays in flight. */
static void read_all(void)
{
    PHONEMESSAGE m;
    check_replies();
    for (int spin = 0; missing(); spin++) {
        int took = 0;
        for (int a = 0; a < NAPP; a++)
            while (phoneGetMessage(g_app[a], &m, 0) == 0) {
                log_reply(a, &m);
                took = 1;
            }
        check_replies();
        TQ_CHECKF(took || spin < 20000, "%" PRIu64 " replies missing after 20 s", missing());
        if (!took)
            tq_sleep_us(1000);
    }
    tapiq_stats s = tq_wait_idle();
    for (int a = 0; a < NAPP; a++)
        TQ_EXPECT(phoneGetMessage(g_app[a], &m, 0), PHONEERR_OPERATIONFAILED);
    TQ_CHECKF(s.replies + s.replies_suppressed == s.accepted,
              "%" PRIu64 " replies + %" PRIu64 " suppressed for %" PRIu64 " accepted", s.replies,
              s.replies_suppressed, s.accepted);
    TQ_CHECKF(s.rejected[TAPIQ_REJECT_RESOURCEUNAVAIL] == atomic_load_explicit(&g_unavail, memory_order_relaxed),
              "statistics: %" PRIu64 " RESOURCEUNAVAIL, the issuers saw %" PRIu64,
              s.rejected[TAPIQ_REJECT_RESOURCEUNAVAIL], atomic_load_explicit(&g_unavail, memory_order_relaxed));
    TQ_CHECKF(s.rejected[TAPIQ_REJECT_INVALPHONEHANDLE] == atomic_load_explicit(&g_closed, memory_order_relaxed),
              "statistics: %" PRIu64 " INVALPHONEHANDLE, the issuers saw %" PRIu64,
              s.rejected[TAPIQ_REJECT_INVALPHONEHANDLE], atomic_load_explicit(&g_closed, memory_order_relaxed));
}

/* Each lamp has the last mode one of the threads set on it (per thread,
 * issue order holds); lamps whose last request of some thread was on a
 * handle closed since are not looked at. */
static void check_lamps(void)
{
    for (int a = 0; a < NAPP; a++)
        for (int k = 0; k < NH; k++)
            for (uint8_t l = 0; l < NLAMP; l++) {
                DWORD mode = 0, last[NTHR];
                int nlast = 0;
                for (int i = 0; i < NTHR; i++)
                    for (uint32_t j = g_thr[i].n; j-- > 0;) {
                        struct req *q = &g_thr[i].r[j];
                        if (q->app == a && q->k == k && q->lamp == l) {
                            /* one on a closed handle: skip the lamp */
                            last[nlast++] = q->gen == tq_gen_load(&g_gen[a][k])
                                                ? tq_mode(q->mode)
                                                : 0;
                            break;
                        }
                    }
                int skip = !nlast;
                for (int i = 0; i < nlast; i++)
                    skip |= last[i] == 0;
                if (skip)
                    continue;
                TQ_EXPECT(phoneGetLamp((HPHONE)tq_h_load(&g_h[a][k]), l, &mode), 0);
                int ok = 0;
                for (int i = 0; i < nlast; i++)
                    ok |= last[i] == mode;
                TQ_CHECKF(ok, "lamp %d/%d/%u: mode %#x is no thread's last", a, k, (unsigned)l,
                          (unsigned)mode);
            }
}

static uint64_t accepted_total(void)
{
    uint64_t n = 0;
    for (int i = 0; i < NTHR; i++)
        n += atomic_load_explicit(&g_thr[i].n, memory_order_acquire);
    return n;
}

/* Fill everything with no one reading: both completion queues full, the
 * rest held, every ring full. Then a handle of each application closes (its
 * held replies go) and opens again; then all is read. */
static void case_fill(int rounds)
{
    setup();
    for (int round = 0; round < rounds; round++) {
        start(MAXREQ, 1);
        join();
        uint64_t n = accepted_total();
        /* at least both applications' queues (2 workers x 16 x queue each) */
        TQ_CHECKF(n >= 2 * 2 * 16 * 16, "round %d: only %" PRIu64 " accepted", round, n);
        close_handle(0, round % NH);
        close_handle(1, (round + 1) % NH);
        open_handle(0, round % NH);
        open_handle(1, (round + 1) % NH);
        read_all();
        check_lamps();
    }
    for (int a = 0; a < NAPP; a++)
        TQ_EXPECT(phoneShutdown(g_app[a]), 0);
}

/* Issuers and a slow reader at once; a handle closes and opens again
 * meanwhile. */
static void case_slow_reader(uint32_t per_thread)
{
    PHONEMESSAGE m;
    setup();
    start(per_thread, 0);
    for (uint64_t spin = 0; accepted_total() < (uint64_t)NTHR * per_thread; spin++) {
        int took = 0;
        for (int a = 0; a < NAPP; a++)
            for (int i = 0; i < 32 && phoneGetMessage(g_app[a], &m, 0) == 0; i++) {
                log_reply(a, &m);
                took = 1;
            }
        if (spin == 50) {
            close_handle(0, 1);
            open_handle(0, 1);
        }
        TQ_CHECKF(spin < 200000, "issuers stuck: %u replies read", g_nrep);
        tq_sleep_us(took ? 200 : 1000); /* slower than the issuers */
    }
    join();
    read_all();
    check_lamps();
    for (int a = 0; a < NAPP; a++)
        TQ_EXPECT(phoneShutdown(g_app[a]), 0);
}

int main(void)
{
    unsigned long scale = tq_scale();
    case_fill(scale > 1 ? 3 : 6);
    case_slow_reader((uint32_t)(20000 / scale));
    printf("test_held: ok (%u replies in the last case)\n", g_nrep);
    return 0;
}
