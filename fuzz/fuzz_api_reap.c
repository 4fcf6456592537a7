/* fuzz/fuzz_api_reap.c - fuzz_api's messages: each one checked against the
 * model, callbacks, worker rounds, draining, quiescent points. */
#include <pthread.h>
#include <string.h>

#include "fuzz/fuzz_api.h"

/* ------------------------------------------------------------ callbacks */

#define CBQ_MAX 8192
static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;
static PHONEMESSAGE cb_q[CBQ_MAX];
static size_t cb_n;

void on_callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance, DWORD_PTR p1,
                        DWORD_PTR p2, DWORD_PTR p3)
{
    pthread_mutex_lock(&cb_mu);
    FUZZ_CHECK(cb_n < CBQ_MAX, "more callback messages than replies and events can be");
    cb_q[cb_n].hDevice = hDevice;
    cb_q[cb_n].dwMessageID = dwMessage;
    cb_q[cb_n].dwCallbackInstance = dwInstance;
    cb_q[cb_n].dwParam1 = p1;
    cb_q[cb_n].dwParam2 = p2;
    cb_q[cb_n].dwParam3 = p3;
    cb_n++;
    pthread_mutex_unlock(&cb_mu);
}

/* ------------------------------------------------------------ messages */

void on_message(struct m_app *a, const PHONEMESSAGE *m, int from_cb)
{
    struct m_handle *hm = find_handle(m->hDevice);
    TRACE("  message %u handle %#x p1 %#lx p2 %#lx%s\n", m->dwMessageID, m->hDevice,
          (unsigned long)m->dwParam1, (unsigned long)m->dwParam2, from_cb ? " (callback)" : "");
    FUZZ_CHECK(hm != NULL, "message %u for unknown handle %#x", m->dwMessageID, m->hDevice);
    if (!a)
        a = &M.apps[hm->app];
    FUZZ_CHECK(&M.apps[hm->app] == a, "message for handle %#x went to another application",
               m->hDevice);
    FUZZ_CHECK(from_cb == (a->kind == K_CB), "message delivered the wrong way");
    /* A callback may run just after the main thread closed the handle. */
    FUZZ_CHECK(hm->open || from_cb, "message %u for closed handle %#x", m->dwMessageID,
               m->hDevice);
    FUZZ_CHECK(m->dwCallbackInstance == hm->inst, "callback instance %#lx, opened with %#lx",
               (unsigned long)m->dwCallbackInstance, (unsigned long)hm->inst);
    FUZZ_CHECK(m->dwParam3 == 0 || m->dwMessageID == PHONE_BUTTON, "dwParam3 %#lx",
               (unsigned long)m->dwParam3);
    if (m->dwMessageID == PHONE_REPLY) {
        int ri = -1;
        LONG st = (LONG)m->dwParam2;
        for (int i = 0; i < M.nreqs; i++)
            if (M.reqs[i].id == m->dwParam1 && !M.reqs[i].read &&
                (M.reqs[i].st == R_PENDING || M.reqs[i].st == R_SUPP))
                ri = i;
        FUZZ_CHECK(ri >= 0, "PHONE_REPLY for id %#lx that is not outstanding (twice?)",
                   (unsigned long)m->dwParam1);
        FUZZ_CHECK(&M.hs[M.reqs[ri].handle] == hm, "reply for id %#x went to handle %#x",
                   M.reqs[ri].id, m->hDevice);
        FUZZ_CHECK(M.reqs[ri].st == R_PENDING || from_cb,
                   "reply for id %#x although its handle was closed", M.reqs[ri].id);
        FUZZ_CHECK(st == 0 || st == (LONG)PHONEERR_OPERATIONFAILED, "reply status %s",
                   fa_err_name(st));
        FUZZ_CHECK(m->dwParam2 == (DWORD_PTR)(DWORD)st, "reply status not a DWORD value: %#lx",
                   (unsigned long)m->dwParam2);
        FUZZ_CHECK(st == 0 || M.rc.fail_ppm, "OPERATIONFAILED with fail_ppm=0");
        for (int i = 0; i < ri; i++)
            FUZZ_CHECK(!(M.reqs[i].app == M.reqs[ri].app && M.reqs[i].dev == M.reqs[ri].dev &&
                         M.reqs[i].ring == M.reqs[ri].ring && M.reqs[i].st == R_PENDING),
                       "reply for id %#x before the reply for the earlier id %#x (same "
                       "application, device and issuing ring)",
                       M.reqs[ri].id, M.reqs[i].id);
        if (M.reqs[ri].st == R_PENDING)
            M.replies_read++;
        M.reqs[ri].st = st == 0 ? R_OK : R_FAIL;
        M.reqs[ri].read = 1;
        M.reqs[ri].fin = 1;
        M.reqs[ri].gone = 1;
        /* Taken from its completion queue: so was everything posted there
         * before it. That is every earlier request of the application to the
         * same device from the same ring (posted or suppressed in order, a
         * held reply before any later one), and every request of the
         * application to the same worker from before the last quiescent point
         * (nothing was in flight then). */
        for (int i = 0; i < M.nreqs; i++) {
            struct m_req *q = &M.reqs[i], *r = &M.reqs[ri];
            if (q->app == r->app &&
                ((i < ri && q->dev == r->dev && q->ring == r->ring) ||
                 (q->ring % M_WORKERS == r->ring % M_WORKERS && q->settle_at < r->settle_at)))
                q->gone = 1;
        }
        device_progress(ri);
    } else if (m->dwMessageID == PHONE_BUTTON) {
        on_button(hm, m, from_cb);
    } else if (m->dwMessageID == PHONE_STATE && m->dwParam1 != PHONESTATE_LAMP) {
        on_other_state(hm, m, from_cb);
    } else if (m->dwMessageID == PHONE_STATE) {
        uint32_t lamp = (uint32_t)m->dwParam2;
        FUZZ_CHECK(m->dwParam1 == PHONESTATE_LAMP, "PHONE_STATE %#lx (no device changes state)",
                   (unsigned long)m->dwParam1);
        FUZZ_CHECK(lamp < M.rc.lamps, "PHONE_STATE for lamp %u of %u", lamp, M.rc.lamps);
        FUZZ_CHECK(hm->ever_lamp, "PHONE_STATE for handle %#x that never asked for it",
                   m->hDevice);
        if (!from_cb) {
            FUZZ_CHECK(M.lamps[hm->dev][lamp].req_since,
                       "PHONE_STATE for lamp %u/%u with no request since the last quiescent "
                       "point",
                       hm->dev, lamp);
            hm->notified[lamp] = 1;
        }
    } else {
        FUZZ_CHECK(0, "unexpected message %u", m->dwMessageID);
    }
}

/* Deliver what the callback threads handed over. */
void pump_callbacks(void)
{
    static PHONEMESSAGE local[CBQ_MAX];
    size_t n;
    pthread_mutex_lock(&cb_mu);
    n = cb_n;
    memcpy(local, cb_q, n * sizeof(*local));
    cb_n = 0;
    pthread_mutex_unlock(&cb_mu);
    for (size_t i = 0; i < n; i++)
        on_message(NULL, &local[i], 1);
}

/* One phoneGetMessage(timeout 0) on a live polled/event app; 1 if a message came. */
static int poll_one(struct m_app *a)
{
    PHONEMESSAGE m;
    LONG rc = phoneGetMessage(a->h, &m, 0);
    if (rc == (LONG)PHONEERR_OPERATIONFAILED)
        return 0;
    FUZZ_CHECK(rc == 0, "phoneGetMessage on a live application: %s", fa_err_name(rc));
    on_message(a, &m, 0);
    return 1;
}

static int app_pending(int ai)
{
    for (int i = 0; i < M.nreqs; i++)
        if (M.reqs[i].app == ai && M.reqs[i].st == R_PENDING)
            return 1;
    return 0;
}

/* A bound for the stats' round_hwm after rounds that may take @max devices
 * each (0: no limit): per worker its online devices, at most @max; the
 * largest over the workers (tapiq.h: the most one worker started in one
 * round). */
static uint32_t round_bound(uint32_t max)
{
    uint32_t most = 0;
    for (uint32_t w = 0; w < M.rc.workers; w++) {
        uint32_t n = 0;
        for (uint32_t d = w; d < M.rc.devices - M.rc.offline; d += M.rc.workers)
            n++;
        n = max && max < n ? max : n;
        most = n > most ? n : most;
    }
    return most;
}

/* Thread-free: a round ran (each drains every ring). */
void rounds_ran(uint32_t max)
{
    uint32_t b = round_bound(max);
    memset(M.since_step, 0, sizeof(M.since_step));
    if (b > M.round_max)
        M.round_max = b;
}

/* Requests that may sit in application @ai's completion queue for worker @w
 * or be held back for it: not read, not known to be gone. */
static uint32_t cq_load(int ai, uint32_t w)
{
    uint32_t n = 0;
    for (int i = 0; i < M.nreqs; i++)
        n += M.reqs[i].app == ai && (uint32_t)M.reqs[i].ring % M_WORKERS == w && !M.reqs[i].gone;
    return n;
}

/* Thread-free runs: worker rounds until none has work left; returns whether
 * any had. Then every batch is done (the mem backend completes inline) and
 * every reply is posted or suppressed, except those held back for a
 * completion queue without room: a worker retries held replies every round,
 * and one of a closed handle goes when it is retried. A queue can be short
 * of room only when more replies may be in it or held for it than it holds
 * (cq_load() > cq_size): every other request is finished now. Checked: the
 * stats' in_flight (held replies count) is no more than the rest. */
static int step_all(void)
{
    tapiq_stats s;
    uint32_t load[M_APPS_ALL][M_WORKERS], unknown = 0;
    int n, did = 0;
    if (!fa_manual || !M.rt_live)
        return 0;
    while ((n = tapiq_rt_step(0)) > 0)
        did = 1;
    TRACE("  step(0) until idle: %s\n", did ? "work done" : "nothing to do");
    FUZZ_CHECK(n == 0, "tapiq_rt_step(0) with a runtime returned %d", n);
    rounds_ran(0);
    for (int ai = 0; ai < M.napps; ai++)
        for (uint32_t w = 0; w < M_WORKERS; w++)
            load[ai][w] = M.apps[ai].live ? cq_load(ai, w) : 0;
    for (int i = 0; i < M.nreqs; i++) {
        struct m_req *r = &M.reqs[i];
        r->complete = 1;
        if (!r->fin && (r->st != R_PENDING || load[r->app][r->ring % M_WORKERS] <= M.cq_size))
            r->fin = 1;
        unknown += !r->fin;
    }
    for (uint32_t d = 0; d < M.rc.devices && d < M_DEVS; d++)
        for (uint32_t l = 0; l < M.rc.lamps && l < M_LAMPS; l++)
            lamp_advance(d, l);
    FUZZ_CHECK(tapiq_get_stats(&s, sizeof(s)) == 0, "tapiq_get_stats with a runtime");
    FUZZ_CHECK(s.in_flight <= unknown,
               "%llu requests in flight once no round has work; at most %u can wait for room "
               "in a completion queue (%u entries)",
               (unsigned long long)s.in_flight, unknown, M.cq_size);
    return did;
}

/* Wait until every request of an open handle is replied. */
void drain_replies(void)
{
    int64_t deadline = fa_now_ms() + WAIT_MS;
    int idle = 0;
    for (;;) {
        int waiting = 0, cb_waiting = 0, took = 0;
        /* Thread-free: replies held back for room go out once the reads
         * below made some; so each pass starts with rounds. */
        int stepped = step_all();
        pump_callbacks();
        for (int ai = 0; ai < M.napps; ai++) {
            struct m_app *a = &M.apps[ai];
            if (!a->live || !app_pending(ai))
                continue;
            waiting = 1;
            if (a->kind == K_CB) {
                cb_waiting = 1;
                continue;
            }
            if (a->kind == K_EVENT) {
                /* Read only once the fd says so: it must become readable
                 * while a reply is pending, or the wait below runs out. */
                if (!fd_readable(a->fd, fa_manual ? 0 : 1))
                    continue;
            }
            while (app_pending(ai) && poll_one(a))
                took = 1;
        }
        if (!waiting)
            return;
        /* Thread-free: every round has run, so only a callback thread may
         * still be on its way; anything else is lost. Twice: a read that
         * delivered nothing (replies of closed handles only) may still have
         * made room for a held reply, which the next rounds post. */
        idle = fa_manual && !cb_waiting && !took && !stepped ? idle + 1 : 0;
        if (fa_now_ms() > deadline || idle == 2) {
            for (int i = 0; i < M.nreqs; i++)
                if (M.reqs[i].st == R_PENDING)
                    fprintf(stderr, "  id %#x (handle %#x, lamp %u/%u) not replied\n",
                            M.reqs[i].id, M.hs[M.reqs[i].handle].h, M.reqs[i].dev,
                            M.reqs[i].lamp);
            FUZZ_CHECK(0, "replies lost (or a USEEVENT fd never became readable)");
        }
        if (!took && !stepped)
            fa_nap();
    }
}

/* Quiescent point: nothing in flight, every queue drained; exact checks. */
void fa_settle(void)
{
    tapiq_stats s;
    int64_t deadline;
    if (!M.rt_live)
        return;
    drain_replies();
    step_all(); /* requests of closed handles may still wait for a round */
    deadline = fa_now_ms() + WAIT_MS;
    for (;;) {
        FUZZ_CHECK(tapiq_get_stats(&s, sizeof(s)) == 0, "tapiq_get_stats with a runtime");
        if (s.in_flight == 0)
            break;
        FUZZ_CHECK(!fa_manual && fa_now_ms() < deadline, "requests stay in flight: %llu",
                   (unsigned long long)s.in_flight);
        fa_nap();
    }
    if (M.stats_exact) {
        FUZZ_CHECK(s.accepted == M.accepted, "stats: accepted %llu, model %llu",
                   (unsigned long long)s.accepted, (unsigned long long)M.accepted);
        for (int i = 0; i < TAPIQ_REJECT_MAX; i++)
            FUZZ_CHECK(s.rejected[i] == M.rejected[i], "stats: rejected[%d] %llu, model %llu",
                       i, (unsigned long long)s.rejected[i],
                       (unsigned long long)M.rejected[i]);
    }
    FUZZ_CHECK(s.requests_capacity ==
                   (uint64_t)(M.rc.threads + 1) * M.rc.workers * M.ring_size,
               "stats: requests_capacity %llu with threads=%u, workers=%u, rings of %u",
               (unsigned long long)s.requests_capacity, M.rc.threads, M.rc.workers,
               M.ring_size);
    FUZZ_CHECK(s.requests_hwm <= s.requests_capacity && s.requests_hwm <= s.accepted,
               "stats: requests_hwm %llu (capacity %llu, accepted %llu)",
               (unsigned long long)s.requests_hwm, (unsigned long long)s.requests_capacity,
               (unsigned long long)s.accepted);
    FUZZ_CHECK(s.round_hwm <= (fa_manual ? M.round_max : round_bound(0)),
               "stats: round_hwm %llu, but a round could start at most %u batches",
               (unsigned long long)s.round_hwm, fa_manual ? M.round_max : round_bound(0));
    FUZZ_CHECK(s.replies >= M.replies_read, "stats: %llu replies posted, %llu read",
               (unsigned long long)s.replies, (unsigned long long)M.replies_read);
    FUZZ_CHECK(s.updates_failed == 0 || M.rc.fail_ppm, "stats: %llu updates failed, fail_ppm=0",
               (unsigned long long)s.updates_failed);
    for (int ai = 0; ai < M.napps; ai++) {
        struct m_app *a = &M.apps[ai];
        if (a->live && a->kind != K_CB) {
            while (poll_one(a))
                ;
            a->dirty = 0;
        }
    }
    pump_callbacks();
    buttons_settle(&s);
    attr_settle();
    /* Everything is finished, and gone from the completion queues we read
     * out; a callback application's thread may still have replies of closed
     * handles before it (dropped when it takes them). */
    for (int i = 0; i < M.nreqs; i++) {
        struct m_req *r = &M.reqs[i];
        r->complete = 1;
        r->fin = 1;
        if (r->read || M.apps[r->app].kind != K_CB)
            r->gone = 1;
    }
    M.nsettle++;
    TRACE("  quiescent point %d\n", M.nsettle);
    for (uint32_t d = 0; d < M.rc.devices && d < M_DEVS; d++) {
        for (uint32_t l = 0; l < M.rc.lamps && l < M_LAMPS; l++) {
            struct m_lamp *lm = &M.lamps[d][l];
            uint32_t v, prev = lm->settled;
            struct m_handle *hm = NULL;
            for (int i = 0; i < M.nhs; i++)
                if (M.hs[i].open && M.hs[i].dev == d)
                    hm = &M.hs[i];
            lamp_advance(d, l);
            v = lm->head < 0 ? lm->base : 0; /* exact when every outcome is known */
            if (hm) {
                uint32_t shown = 0;
                LONG rc = phoneGetLamp(hm->h, l, &shown);
                FUZZ_CHECK(rc == 0, "phoneGetLamp at a quiescent point: %s", fa_err_name(rc));
                check_lamp_value(d, l, shown, "quiescent");
                FUZZ_CHECK(!v || shown == v,
                           "lamp %u/%u shows %#x after all replies; the last successful "
                           "request set %#x",
                           d, l, shown, v);
                v = shown;
            }
            /* Adopt what it shows: every outcome is final now. */
            lm->base = v;
            lm->head = lm->tail = -1;
            lm->mixed = 0;
            lm->settled = v;
            /* Every handle subscribed since before the previous quiescent point
             * saw the change (non-callback applications: those we drained). */
            if (v && prev && v != prev)
                for (int i = 0; i < M.nhs; i++) {
                    struct m_handle *h = &M.hs[i];
                    if (h->open && h->dev == d && h->sub_since >= 0 &&
                        h->sub_since <= M.nsettle - 2 &&
                        M.apps[h->app].kind != K_CB)
                        FUZZ_CHECK(h->notified[l],
                                   "lamp %u/%u changed %#x -> %#x; subscribed handle %#x got "
                                   "no PHONE_STATE",
                                   d, l, prev, v, h->h);
                }
            lm->req_since = 0;
        }
    }
    for (int i = 0; i < M.nhs; i++)
        memset(M.hs[i].notified, 0, sizeof(M.hs[i].notified));
    /* Forget what no longer matters: keep only requests whose reply may
     * still come (a callback racing a close) or that may still take room in
     * a completion queue. */
    {
        int k = 0;
        for (int i = 0; i < M.nreqs; i++) {
            struct m_req *r = &M.reqs[i];
            int keep = !r->gone || (r->st == R_SUPP && !r->read);
            if (keep) {
                M.reqs[k] = *r;
                M.reqs[k].next_lamp = -1;
                k++;
            }
        }
        M.nreqs = k;
    }
}
