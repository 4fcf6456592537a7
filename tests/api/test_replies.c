/* test_replies - PHONE_REPLY for every request.
 *
 * Every positive id gets exactly one PHONE_REPLY with dwParam1 == id,
 * dwParam2 == 0, hDevice == the handle it was issued on and
 * dwCallbackInstance == the value given to phoneOpen. Ids are in
 * 1..0x7FFFFFFF and never equal to an id still in flight: when phoneSetLamp
 * returns an id whose earlier request we have not seen replied yet, that
 * earlier reply must already be in the queue (it was posted before the id
 * could be reused). phoneGetLamp returns the last mode after the replies.
 * Coalescing (many sets of one lamp while a slow backend holds the batch):
 * every request is still replied, and the last mode wins.
 */
#include "tq_test.h"

#define NDEV 4
#define NLAMP 8
#define MAXPEND 100000

struct pend {
    LONG id;
    HPHONE h;
    DWORD_PTR inst;
};

static struct pend g_pend[MAXPEND];
static int g_npend;
static uint64_t g_issued, g_replied;

static HPHONE g_h[NDEV];
static DWORD_PTR g_inst[NDEV];

static DWORD_PTR inst_of(HPHONE h)
{
    for (int d = 0; d < NDEV; d++)
        if (g_h[d] == h)
            return g_inst[d];
    TQ_FAIL("reply on unknown handle %#x", (unsigned)h);
}

/* Match one reply against the oldest pending request with its id. */
static void take_reply(const PHONEMESSAGE *m)
{
    TQ_CHECKF(m->dwMessageID == PHONE_REPLY, "message %u, only replies expected",
              (unsigned)m->dwMessageID);
    TQ_CHECKF(m->dwParam2 == 0, "reply status %s", tq_err_name(tq_reply_status(m)));
    int i;
    for (i = 0; i < g_npend; i++)
        if ((DWORD_PTR)g_pend[i].id == m->dwParam1)
            break;
    TQ_CHECKF(i < g_npend, "reply for id %" PRIuPTR " that is not pending (never issued, or "
              "replied twice)", (uintptr_t)m->dwParam1);
    TQ_CHECKF(m->hDevice == g_pend[i].h, "reply for id %" PRId32 " on handle %#x, issued on %#x",
              g_pend[i].id, (unsigned)m->hDevice, (unsigned)g_pend[i].h);
    TQ_CHECKF(m->dwCallbackInstance == g_pend[i].inst,
              "reply dwCallbackInstance %#" PRIxPTR ", phoneOpen had %#" PRIxPTR,
              (uintptr_t)m->dwCallbackInstance, (uintptr_t)g_pend[i].inst);
    TQ_CHECK(inst_of(m->hDevice) == m->dwCallbackInstance);
    /* keep the order of the rest: the oldest entry of an id is matched first */
    memmove(&g_pend[i], &g_pend[i + 1], sizeof g_pend[0] * (size_t)(g_npend - i - 1));
    g_npend--;
    g_replied++;
}

/* Read one message; timeout as phoneGetMessage. Returns 0 or the error. */
static LONG read_one(HPHONEAPP app, DWORD timeout)
{
    PHONEMESSAGE m;
    LONG r = phoneGetMessage(app, &m, timeout);
    if (r == 0)
        take_reply(&m);
    else
        TQ_CHECKF(r == (LONG)PHONEERR_OPERATIONFAILED, "phoneGetMessage = %s", tq_err_name(r));
    return r;
}

static int pending_has(LONG id)
{
    for (int i = 0; i < g_npend; i++)
        if (g_pend[i].id == id)
            return 1;
    return 0;
}

/* Issue one request, reading replies while the library pushes back. */
static LONG issue(HPHONEAPP app, int dev, DWORD lamp, DWORD mode)
{
    LONG id;
    for (int tries = 0;; tries++) {
        id = phoneSetLamp(g_h[dev], lamp, mode);
        if (id != (LONG)PHONEERR_RESOURCEUNAVAIL)
            break;
        TQ_CHECKF(tries < 1000000, "RESOURCEUNAVAIL forever");
        /* Room comes back as replies are read (or as workers finish). */
        if (read_one(app, 1) != 0)
            sched_yield();
    }
    TQ_CHECKF(TQ_ID_OK(id), "phoneSetLamp(dev %d, lamp %u, mode %#x) = %" PRId32 " (%s)", dev,
              (unsigned)lamp, (unsigned)mode, id, tq_err_name(id));
    /* An equal id still pending from our point of view must have its reply
     * already posted: drain without waiting until it is matched. */
    while (pending_has(id)) {
        TQ_CHECKF(read_one(app, 0) == 0,
                  "id %" PRId32 " returned again while its earlier request was not replied "
                  "(two requests in flight with one id)", id);
    }
    TQ_CHECK(g_npend < MAXPEND);
    g_pend[g_npend].id = id;
    g_pend[g_npend].h = g_h[dev];
    g_pend[g_npend].inst = g_inst[dev];
    g_npend++;
    g_issued++;
    return id;
}

static void drain_all(HPHONEAPP app)
{
    while (g_npend > 0)
        TQ_CHECKF(read_one(app, 10000) == 0, "%d replies missing", g_npend);
    tq_wait_idle();
    TQ_CHECK(read_one(app, 0) == (LONG)PHONEERR_OPERATIONFAILED); /* nothing extra */
}

static void check_lamps(DWORD want[NDEV][NLAMP])
{
    for (int d = 0; d < NDEV; d++)
        for (DWORD l = 0; l < NLAMP; l++) {
            DWORD mode = 0;
            TQ_EXPECT(phoneGetLamp(g_h[d], l, &mode), 0);
            TQ_CHECKF(mode == want[d][l], "dev %d lamp %u: phoneGetLamp %#x, last set %#x", d,
                      (unsigned)l, (unsigned)mode, (unsigned)want[d][l]);
        }
}

static void open_all(HPHONEAPP app)
{
    static const DWORD_PTR inst[NDEV] = {0x1111, 0, UINTPTR_MAX, (DWORD_PTR)0x123456789ABCDEF0u};
    for (int d = 0; d < NDEV; d++) {
        g_inst[d] = inst[d];
        g_h[d] = tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, inst[d]);
    }
}

/* Random single-threaded traffic with a small request queue (ids recycle). */
static void case_random(unsigned long scale)
{
    DWORD want[NDEV][NLAMP];
    uint64_t seed = 42;
    HPHONEAPP app = tq_start("devices=4,lamps=8,workers=2,queue=64", NULL);
    open_all(app);
    for (int d = 0; d < NDEV; d++)
        for (int l = 0; l < NLAMP; l++)
            want[d][l] = PHONELAMPMODE_OFF;
    check_lamps(want); /* lamps start OFF */

    const uint64_t n = 200000 / scale;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = tq_rand(&seed);
        int dev = (int)(x % NDEV);
        DWORD lamp = (DWORD)((x >> 8) % NLAMP);
        DWORD mode = tq_mode((unsigned)(x >> 16));
        issue(app, dev, lamp, mode);
        want[dev][lamp] = mode;
        /* read some replies now and then, sometimes let them pile up */
        if ((x >> 40) % 4 == 0)
            while (read_one(app, 0) == 0) {
            }
    }
    drain_all(app);
    check_lamps(want);
    tapiq_stats st = tq_wait_idle(); /* counters follow the replies a moment later */
    TQ_CHECKF(st.accepted == g_issued, "stats accepted %" PRIu64 ", issued %" PRIu64,
              st.accepted, g_issued);
    TQ_CHECKF(st.replies == g_replied, "stats replies %" PRIu64 ", received %" PRIu64,
              st.replies, g_replied);
    TQ_CHECK(st.in_flight == 0);
    printf("random: %" PRIu64 " requests, each replied once\n", g_issued);
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* Bursts of sets of one lamp while a slow backend holds the device's batch. */
static void case_coalesce(unsigned long scale)
{
    DWORD want[NDEV][NLAMP];
    uint64_t seed = 7;
    HPHONEAPP app = tq_start("devices=4,lamps=8,workers=2,queue=256,latency_us=2000", NULL);
    open_all(app);
    for (int d = 0; d < NDEV; d++)
        for (int l = 0; l < NLAMP; l++)
            want[d][l] = PHONELAMPMODE_OFF;
    g_issued = g_replied = 0;

    const int bursts = (int)(200 / scale) + 2;
    for (int b = 0; b < bursts; b++) {
        int dev = b % NDEV;
        DWORD lamp = (DWORD)(b % NLAMP);
        for (int k = 0; k < 100; k++) {
            DWORD mode = tq_mode((unsigned)(tq_rand(&seed) % 6));
            issue(app, dev, lamp, mode);
            want[dev][lamp] = mode;
        }
        /* another lamp of the same device in the same burst */
        issue(app, dev, (lamp + 1) % NLAMP, PHONELAMPMODE_FLUTTER);
        want[dev][(lamp + 1) % NLAMP] = PHONELAMPMODE_FLUTTER;
        drain_all(app);
        check_lamps(want);
    }
    tapiq_stats st = tq_wait_idle();
    TQ_CHECK(st.accepted == g_issued);
    TQ_CHECK(st.replies == g_replied);
    /* No failures and no closes: every request was either seen by the backend
     * or folded into a later update of its lamp. */
    TQ_CHECKF(st.updates_applied + st.updates_coalesced == st.accepted,
              "applied %" PRIu64 " + coalesced %" PRIu64 " != accepted %" PRIu64,
              st.updates_applied, st.updates_coalesced, st.accepted);
    TQ_CHECK(st.updates_failed == 0);
    printf("coalesce: %" PRIu64 " requests, %" PRIu64 " applied, %" PRIu64 " coalesced, %" PRIu64
           " batches\n", st.accepted, st.updates_applied, st.updates_coalesced, st.batches);
    TQ_EXPECT(phoneShutdown(app), 0);
}

int main(void)
{
    unsigned long scale = tq_scale();
    case_random(scale);
    case_coalesce(scale);
    printf("test_replies: ok\n");
    return 0;
}
