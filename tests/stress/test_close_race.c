/* test_close_race - phoneSetLamp racing phoneClose, phoneShutdown and
 * re-initialization (run under ThreadSanitizer too).
 *
 * Issuing threads call phoneSetLamp on whatever handle is published in a
 * shared table while other threads close and reopen handles (phase A), shut
 * applications down and start new ones while another application keeps the
 * runtime alive (phase B), and shut the last application down and start afresh
 * (phase C). Checks:
 *  - every call returns a request id or an error documented for the race
 *    (INVALPHONEHANDLE, NOTOWNER for a monitor reopen, RESOURCEUNAVAIL, and
 *    UNINITIALIZED only when no application may exist);
 *  - every reply is for an (id, handle) that phoneSetLamp returned, at most as
 *    often as it was returned, with status 0;
 *  - handles that are never closed get exactly one reply per request;
 *  - a waiting reader returns INVALAPPHANDLE when its application shuts down;
 *  - tapiq_get_stats' in_flight drains to 0 (bounded polling);
 *  - after the last phoneShutdown a new phoneInitializeEx works normally.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tq_test.h"

#define NDEV 8
#define NLAMP 16
#define NISSUE 4
#define LOGCAP (1u << 20)          /* per issuer */
#define RDCAP (NISSUE * LOGCAP)      /* per reader: all the issuers' requests */

/* Outcome classes an issuer accepts in the current phase. */
#define ALLOW_NOTOWNER 1u
#define ALLOW_UNINIT 2u

static _Atomic HPHONE g_slot[NDEV];
static _Atomic int g_stop_issuers;
static _Atomic unsigned g_allow;
static _Atomic uint64_t g_attempts;

struct issuer {
    pthread_t t;
    int idx;
    uint64_t *log; /* (handle << 32) | id of every accepted request */
    uint32_t n;
    uint64_t err[8]; /* ok, INVALPHONEHANDLE, NOTOWNER, RESOURCEUNAVAIL, UNINITIALIZED */
};
static struct issuer g_iss[NISSUE];

static void *issuer_main(void *arg)
{
    struct issuer *me = arg;
    uint64_t seed = 0x1234u + (uint64_t)me->idx * 7919u;
    while (!atomic_load_explicit(&g_stop_issuers, memory_order_acquire)) {
        if (me->n == LOGCAP) { /* log full: idle until the phase ends */
            tq_sleep_us(1000);
            continue;
        }
        uint64_t x = tq_rand(&seed);
        HPHONE h = atomic_load_explicit(&g_slot[x % NDEV], memory_order_acquire);
        DWORD lamp = (DWORD)((x >> 8) % NLAMP);
        DWORD mode = tq_mode((unsigned)(x >> 16));
        LONG r = phoneSetLamp(h, lamp, mode);
        /* relaxed: a progress counter only */
        atomic_fetch_add_explicit(&g_attempts, 1, memory_order_relaxed);
        unsigned allow = atomic_load_explicit(&g_allow, memory_order_acquire);
        if (r > 0) {
            TQ_CHECKF(TQ_ID_OK(r), "id %" PRId32 " out of range", r);
            me->log[me->n++] = ((uint64_t)h << 32) | (uint32_t)r;
            me->err[0]++;
        } else if (r == (LONG)PHONEERR_INVALPHONEHANDLE) {
            me->err[1]++;
        } else if (r == (LONG)PHONEERR_NOTOWNER && (allow & ALLOW_NOTOWNER)) {
            me->err[2]++;
        } else if (r == (LONG)PHONEERR_RESOURCEUNAVAIL) {
            me->err[3]++;
            sched_yield();
        } else if (r == (LONG)PHONEERR_UNINITIALIZED && (allow & ALLOW_UNINIT)) {
            me->err[4]++;
        } else {
            TQ_FAIL("phoneSetLamp(%#x, %u, %#x) = %s during the race",
                    (unsigned)h, (unsigned)lamp, (unsigned)mode, tq_err_name(r));
        }
        if ((x >> 40) % 64 == 0)
            sched_yield();
    }
    return NULL;
}

static void start_issuers(unsigned allow)
{
    atomic_store_explicit(&g_allow, allow, memory_order_release);
    atomic_store_explicit(&g_stop_issuers, 0, memory_order_release);
    for (int i = 0; i < NISSUE; i++) {
        g_iss[i].idx = i;
        g_iss[i].n = 0;
        memset(g_iss[i].err, 0, sizeof g_iss[i].err);
        TQ_CHECK(pthread_create(&g_iss[i].t, NULL, issuer_main, &g_iss[i]) == 0);
    }
}

static void stop_issuers(void)
{
    atomic_store_explicit(&g_stop_issuers, 1, memory_order_release);
    for (int i = 0; i < NISSUE; i++)
        TQ_CHECK(pthread_join(g_iss[i].t, NULL) == 0);
}

/* Wait (bounded) until the issuers made @n more attempts. */
static void wait_attempts(uint64_t n)
{
    uint64_t start = atomic_load_explicit(&g_attempts, memory_order_relaxed);
    for (int i = 0; atomic_load_explicit(&g_attempts, memory_order_relaxed) - start < n; i++) {
        TQ_CHECKF(i < 60000, "issuers made no progress for 60 s");
        tq_sleep_us(1000);
    }
}

/* ------------------------------------------------------------ readers */

struct reader {
    pthread_t t;
    HPHONEAPP app;
    DWORD timeout;       /* INFINITE: run until the app is shut down */
    _Atomic int stop;    /* finite timeout: drain and stop once set */
    uint64_t *log;       /* (hDevice << 32) | id */
    uint32_t n;
    LONG end;            /* the phoneGetMessage result that ended the loop */
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    for (;;) {
        PHONEMESSAGE m;
        LONG r = phoneGetMessage(rd->app, &m, rd->timeout);
        if (r == 0) {
            TQ_CHECKF(m.dwMessageID == PHONE_REPLY, "unexpected message %u",
                      (unsigned)m.dwMessageID);
            TQ_CHECKF(m.dwParam2 == 0, "reply status %s", tq_err_name(tq_reply_status(&m)));
            TQ_CHECK(rd->n < RDCAP);
            rd->log[rd->n++] = ((uint64_t)m.hDevice << 32) | (uint32_t)m.dwParam1;
            continue;
        }
        if (r == (LONG)PHONEERR_OPERATIONFAILED && rd->timeout != INFINITE) {
            if (atomic_load_explicit(&rd->stop, memory_order_acquire)) {
                /* stop was set after in_flight reached 0: everything is
                 * posted, and the queue just ran empty */
                rd->end = r;
                return NULL;
            }
            continue;
        }
        rd->end = r;
        return NULL;
    }
}

static void start_reader(struct reader *rd, HPHONEAPP app, DWORD timeout)
{
    rd->app = app;
    rd->timeout = timeout;
    atomic_init(&rd->stop, 0);
    rd->n = 0;
    rd->end = 1;
    if (!rd->log)
        rd->log = malloc(sizeof *rd->log * RDCAP);
    TQ_CHECK(rd->log != NULL);
    TQ_CHECK(pthread_create(&rd->t, NULL, reader_main, rd) == 0);
}

static void join_reader(struct reader *rd)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 60;
    int rc = pthread_timedjoin_np(rd->t, NULL, &ts);
    TQ_CHECKF(rc == 0, "reader did not finish within 60 s (%s)", strerror(rc));
}

/* ------------------------------------------------------------ checks */

struct replies {
    uint64_t *v;
    size_t n, cap;
};

static void add_replies(struct replies *all, const struct reader *rd)
{
    if (rd->n == 0)
        return;
    if (all->n + rd->n > all->cap) {
        all->cap = (all->n + rd->n) * 2;
        all->v = realloc(all->v, sizeof *all->v * all->cap);
        TQ_CHECK(all->v != NULL);
    }
    memcpy(all->v + all->n, rd->log, sizeof *rd->log * rd->n);
    all->n += rd->n;
}

static int is_stable(uint64_t key, const HPHONE *stable, int nstable)
{
    for (int i = 0; i < nstable; i++)
        if ((HPHONE)(key >> 32) == stable[i])
            return 1;
    return 0;
}

/* Replies ⊆ issued (as multisets); on @stable handles replies == issued. */
static void check_phase(const char *phase, struct replies *rep, const HPHONE *stable,
                        int nstable)
{
    size_t ni = 0;
    for (int i = 0; i < NISSUE; i++)
        ni += g_iss[i].n;
    uint64_t *iss = malloc(sizeof *iss * (ni + 1));
    TQ_CHECK(iss != NULL);
    ni = 0;
    for (int i = 0; i < NISSUE; i++) {
        memcpy(iss + ni, g_iss[i].log, sizeof *iss * g_iss[i].n);
        ni += g_iss[i].n;
    }
    qsort(iss, ni, sizeof *iss, tq_cmp_u64);
    qsort(rep->v, rep->n, sizeof *rep->v, tq_cmp_u64);

    size_t i = 0, j = 0, stable_iss = 0, stable_rep = 0, suppressed = 0;
    while (j < rep->n) {
        while (i < ni && iss[i] < rep->v[j]) {
            TQ_CHECKF(!is_stable(iss[i], stable, nstable),
                      "%s: id %u on never-closed handle %#x got no reply", phase,
                      (unsigned)(iss[i] & 0xFFFFFFFFu), (unsigned)(iss[i] >> 32));
            suppressed++;
            i++;
        }
        TQ_CHECKF(i < ni && iss[i] == rep->v[j],
                  "%s: reply for id %u on handle %#x that phoneSetLamp did not return (or more "
                  "replies than requests)", phase, (unsigned)(rep->v[j] & 0xFFFFFFFFu),
                  (unsigned)(rep->v[j] >> 32));
        if (is_stable(iss[i], stable, nstable))
            stable_rep++;
        i++;
        j++;
    }
    for (; i < ni; i++) {
        TQ_CHECKF(!is_stable(iss[i], stable, nstable),
                  "%s: id %u on never-closed handle %#x got no reply", phase,
                  (unsigned)(iss[i] & 0xFFFFFFFFu), (unsigned)(iss[i] >> 32));
        suppressed++;
    }
    for (size_t k = 0; k < ni; k++)
        stable_iss += (size_t)is_stable(iss[k], stable, nstable);
    TQ_CHECK(stable_iss == stable_rep);

    uint64_t e[8] = {0};
    for (int t = 0; t < NISSUE; t++)
        for (int k = 0; k < 8; k++)
            e[k] += g_iss[t].err[k];
    printf("%s: %zu accepted (%zu on stable handles), %zu replies, %zu without reply; refused: "
           "%" PRIu64 " INVALPHONEHANDLE, %" PRIu64 " NOTOWNER, %" PRIu64 " RESOURCEUNAVAIL, "
           "%" PRIu64 " UNINITIALIZED\n",
           phase, ni, stable_iss, rep->n, suppressed, e[1], e[2], e[3], e[4]);
    TQ_CHECKF(e[0] > 0, "%s: no request was accepted at all", phase);
    free(iss);
    rep->n = 0;
}

/* ------------------------------------------------------------ phases */

static const char *const k_config = "devices=8,lamps=16,workers=2,queue=256";

/* A: handles closed and reopened (as owner or monitor) under the issuers. */
static void phase_close(unsigned long scale)
{
    struct reader rd = {0};
    struct replies rep = {0};
    HPHONEAPP app = tq_start(k_config, NULL);
    HPHONE stable[4];
    for (int d = 0; d < NDEV; d++) {
        HPHONE h = tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, (DWORD_PTR)d);
        if (d < 4)
            stable[d] = h;
        atomic_store_explicit(&g_slot[d], h, memory_order_release);
    }
    start_reader(&rd, app, 20);
    start_issuers(ALLOW_NOTOWNER);
    uint64_t seed = 99;
    const int cycles = (int)(4000 / scale) + 50;
    for (int c = 0; c < cycles; c++) {
        uint64_t x = tq_rand(&seed);
        int s = 4 + (int)(x % 4);
        HPHONE old = atomic_load_explicit(&g_slot[s], memory_order_acquire);
        /* close while still published: issuers hit the closed handle */
        TQ_EXPECT(phoneClose(old), 0);
        DWORD priv = (x >> 8) % 4 == 0 ? PHONEPRIVILEGE_MONITOR : PHONEPRIVILEGE_OWNER;
        HPHONE h = tq_open(app, (DWORD)s, priv, (DWORD_PTR)s);
        atomic_store_explicit(&g_slot[s], h, memory_order_release);
        if (c % 16 == 0)
            wait_attempts(50);
    }
    stop_issuers();
    tq_wait_idle();
    atomic_store_explicit(&rd.stop, 1, memory_order_release);
    join_reader(&rd);
    TQ_EXPECT(rd.end, PHONEERR_OPERATIONFAILED);
    add_replies(&rep, &rd);
    check_phase("close/reopen", &rep, stable, 4);
    tapiq_stats st = tq_wait_idle();
    TQ_CHECK(st.requests_hwm <= st.requests_capacity);
    TQ_EXPECT(phoneShutdown(app), 0);
    free(rd.log);
    free(rep.v);
}

/* B: applications shut down under the issuers while another one stays. */
static void phase_shutdown(unsigned long scale)
{
    struct reader anchor_rd = {0}, rd = {0};
    struct replies rep = {0};
    HPHONEAPP anchor = tq_start(k_config, NULL);
    HPHONE stable = tq_open(anchor, NDEV - 1, PHONEPRIVILEGE_OWNER, 77);
    atomic_store_explicit(&g_slot[NDEV - 1], stable, memory_order_release);
    start_reader(&anchor_rd, anchor, 20);
    start_issuers(0);
    const int cycles = (int)(200 / scale) + 5;
    for (int c = 0; c < cycles; c++) {
        HPHONEAPP app = 0;
        TQ_EXPECT(tq_init_app(&app, NULL, NULL), 0);
        for (int d = 0; d < NDEV - 1; d++)
            atomic_store_explicit(&g_slot[d],
                                  tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, (DWORD_PTR)c),
                                  memory_order_release);
        start_reader(&rd, app, INFINITE);
        wait_attempts(300);
        TQ_EXPECT(phoneShutdown(app), 0);
        join_reader(&rd);
        TQ_CHECKF(rd.end == (LONG)PHONEERR_INVALAPPHANDLE,
                  "cycle %d: the waiting reader ended with %s, want INVALAPPHANDLE", c,
                  tq_err_name(rd.end));
        add_replies(&rep, &rd);
    }
    stop_issuers();
    tapiq_stats st = tq_wait_idle();
    TQ_CHECK(st.in_flight == 0);
    atomic_store_explicit(&anchor_rd.stop, 1, memory_order_release);
    join_reader(&anchor_rd);
    TQ_EXPECT(anchor_rd.end, PHONEERR_OPERATIONFAILED);
    add_replies(&rep, &anchor_rd);
    check_phase("app shutdown", &rep, &stable, 1);
    /* The slots of the dead applications were recycled: a full queue's worth
     * of requests is accepted again. */
    LONG ids[256];
    int n = 0;
    for (int i = 0; i < 256; i++) {
        LONG r = phoneSetLamp(stable, (DWORD)(i % NLAMP), tq_mode((unsigned)i));
        if (r == (LONG)PHONEERR_RESOURCEUNAVAIL)
            break;
        TQ_CHECKF(TQ_ID_OK(r), "after the race phoneSetLamp = %s", tq_err_name(r));
        ids[n++] = r;
    }
    TQ_CHECKF(n >= 128, "only %d requests accepted on an idle runtime with queue=256", n);
    for (int i = 0; i < n; i++) {
        PHONEMESSAGE m;
        TQ_EXPECT(phoneGetMessage(anchor, &m, 10000), 0);
        TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.hDevice == stable && m.dwParam2 == 0);
        int k;
        for (k = 0; k < n; k++)
            if ((DWORD_PTR)ids[k] == m.dwParam1)
                break;
        TQ_CHECKF(k < n, "reply for id %" PRIuPTR " not issued", (uintptr_t)m.dwParam1);
        ids[k] = 0;
    }
    TQ_EXPECT(phoneShutdown(anchor), 0);
    free(rd.log);
    free(anchor_rd.log);
    free(rep.v);
}

/* C: the last application shuts down under the issuers; a new runtime starts. */
static void phase_restart(unsigned long scale)
{
    struct reader rd = {0};
    struct replies rep = {0};
    start_issuers(ALLOW_UNINIT);
    const int cycles = (int)(100 / scale) + 5;
    for (int c = 0; c < cycles; c++) {
        HPHONEAPP app = tq_start(k_config, NULL);
        for (int d = 0; d < NDEV; d++)
            atomic_store_explicit(&g_slot[d],
                                  tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, (DWORD_PTR)c),
                                  memory_order_release);
        start_reader(&rd, app, INFINITE);
        wait_attempts(300);
        TQ_EXPECT(phoneShutdown(app), 0);
        join_reader(&rd);
        TQ_CHECKF(rd.end == (LONG)PHONEERR_INVALAPPHANDLE, "cycle %d: reader ended with %s", c,
                  tq_err_name(rd.end));
        add_replies(&rep, &rd);
        wait_attempts(50); /* some calls with no application at all */
    }
    stop_issuers();
    check_phase("restart", &rep, NULL, 0);

    /* A new runtime after all that works normally. */
    HPHONEAPP app = tq_start("devices=4,lamps=8,workers=1,queue=64", NULL);
    HPHONE h[4];
    LONG ids[32];
    for (int d = 0; d < 4; d++)
        h[d] = tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, (DWORD_PTR)(500 + d));
    for (int i = 0; i < 32; i++)
        ids[i] = phoneSetLamp(h[i % 4], (DWORD)(i / 4), tq_mode((unsigned)i));
    for (int i = 0; i < 32; i++)
        TQ_CHECKF(TQ_ID_OK(ids[i]), "fresh runtime: phoneSetLamp = %s", tq_err_name(ids[i]));
    for (int i = 0; i < 32; i++) {
        PHONEMESSAGE m;
        TQ_EXPECT(phoneGetMessage(app, &m, 10000), 0);
        TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam2 == 0);
        int k;
        for (k = 0; k < 32; k++)
            if ((DWORD_PTR)ids[k] == m.dwParam1 && h[k % 4] == m.hDevice)
                break;
        TQ_CHECK(k < 32);
        TQ_CHECK(m.dwCallbackInstance == (DWORD_PTR)(500 + k % 4));
        ids[k] = 0;
    }
    for (int i = 0; i < 32; i++) {
        DWORD mode = 0;
        TQ_EXPECT(phoneGetLamp(h[i % 4], (DWORD)(i / 4), &mode), 0);
        TQ_CHECK(mode == tq_mode((unsigned)i));
    }
    tapiq_stats st = tq_wait_idle();
    TQ_CHECKF(st.accepted == 32 && st.replies == 32, "fresh runtime stats: %" PRIu64
              " accepted, %" PRIu64 " replies", st.accepted, st.replies);
    TQ_EXPECT(phoneShutdown(app), 0);
    free(rd.log);
    free(rep.v);
}

int main(void)
{
    unsigned long scale = tq_scale();
    for (int i = 0; i < NISSUE; i++) {
        g_iss[i].log = malloc(sizeof(uint64_t) * LOGCAP);
        TQ_CHECK(g_iss[i].log != NULL);
    }
    phase_close(scale);
    phase_shutdown(scale);
    phase_restart(scale);
    for (int i = 0; i < NISSUE; i++)
        free(g_iss[i].log);
    printf("test_close_race: ok\n");
    return 0;
}
