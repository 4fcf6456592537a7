/* tools/soak/actor.c - the issuing threads of tapiq-soak: application sessions, handles
 * opened and closed, paced requests with bursts, checks during the run, and quiescence (see
 * soak.h for the thread model). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

/* ------------------------------------------------------------- handles */

static uint32_t my_lamps(const struct soak *s, unsigned actor, uint32_t console, uint32_t *first)
{
    unsigned t = s->nactors;
    uint32_t base = (uint32_t)(((uint64_t)console * s->lamps) % t);
    uint32_t l0 = (actor + t - base) % t;
    *first = l0;
    return l0 < s->lamps ? (s->lamps - l0 + t - 1) / t : 0;
}

static bool maybe_offline(const struct soak *s, uint32_t console)
{
    /* relaxed: main sets it before the phase change that matters, or races knowingly (mqtt
     * presence: then both outcomes are allowed) */
    return atomic_load_explicit(&s->maybe_offline[console], memory_order_relaxed) != 0;
}

/* A console; @hot_pct percent of the time one of the few busy ones (supervisors, queue
 * leaders), which owners set often and monitors (wallboards) watch. */
static uint32_t pick_console(struct soak_actor *a, unsigned hot_pct)
{
    struct soak *s = a->s;
    if (soak_below(&a->rng, 100) < hot_pct)
        return soak_below(&a->rng, s->devices < 8 ? s->devices : 8);
    return soak_below(&a->rng, s->devices);
}

/* Open a handle on @console; returns its record or SOAK_NIL. */
static uint32_t open_rec(struct soak_actor *a, uint32_t console, DWORD priv, DWORD filter)
{
    struct soak *s = a->s;
    struct soak_group *g = a->g;
    if (a->nrec >= SOAK_MAX_RECS)
        return SOAK_NIL;
    uint32_t ri = a->nrec;
    DWORD ver = 0;
    PHONEEXTENSIONID ext;
    HPHONE h = 0;
    LONG rc = phoneNegotiateAPIVersion(g->app, console, TAPI_VERSION1_4, TAPI_VERSION2_2, &ver,
                                       &ext);
    DWORD_PTR inst = (DWORD_PTR)soak_inst_make(a->index, a->session, ri);
    if (rc == 0)
        rc = phoneOpen(g->app, console, &h, ver, 0, inst, priv);
    if (rc != 0) {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "phoneOpen(console %" PRIu32 "): %s", console, soak_err_name(rc));
        return SOAK_NIL;
    }
    struct soak_rec *r = &a->rec[ri];
    *r = (struct soak_rec){.hv = h, .console = console, .priv = priv, .open = true,
                           .head = SOAK_NIL};
    a->nrec++;
    a->openv[a->nopen++] = ri;
    soak_ctr_add(a, C_OPENS, 1);
    if (priv == PHONEPRIVILEGE_MONITOR)
        soak_ctr_add(a, C_MONITORS, 1);
    if (filter) {
        /* The filter is recorded before the call: a PHONE_STATE is processed on this thread,
         * after the call returned. */
        r->filter = filter;
        rc = phoneSetStatusMessages(h, filter, 0, 0);
        if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL) {
            r->filter = 0;
            soak_ctr_add(a, C_FILTER_FULL, 1);
        } else if (rc != 0) {
            r->filter = 0;
            soak_ctr_add(a, C_UNEXPECTED, 1);
            soak_violation(s, "phoneSetStatusMessages(%#x): %s", (unsigned)filter,
                           soak_err_name(rc));
        } else {
            DWORD states = 0, bm = 0, bs = 0;
            soak_ctr_add(a, C_FILTERS, 1);
            rc = phoneGetStatusMessages(h, &states, &bm, &bs);
            if (rc != 0 || states != filter) {
                soak_ctr_add(a, C_UNEXPECTED, 1);
                soak_violation(s, "phoneGetStatusMessages: %s, states %#x, set %#x",
                               soak_err_name(rc), (unsigned)states, (unsigned)filter);
            }
        }
    }
    return ri;
}

static void drain_rec(struct soak_actor *a, uint32_t ri)
{
    uint64_t last = soak_now_ns();
    uint32_t seen = a->rec[ri].outstanding;
    while (a->rec[ri].outstanding) {
        soak_do_work(a, 1);
        uint64_t now = soak_now_ns();
        if (a->rec[ri].outstanding != seen) {
            seen = a->rec[ri].outstanding;
            last = now;
        } else if (now - last > a->s->drain_ns) {
            soak_resolve_unreplied(a, ri, C_LOST);
        }
    }
}

static void close_rec(struct soak_actor *a, uint32_t slot)
{
    struct soak *s = a->s;
    uint32_t ri = a->openv[slot];
    struct soak_rec *r = &a->rec[ri];
    LONG rc = phoneClose(r->hv);
    /* seq_cst: the after-close clock (soak.h); taken after phoneClose returned */
    uint64_t c = atomic_fetch_add_explicit(&s->clock, 1, memory_order_seq_cst);
    if (rc != 0) {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "phoneClose(%#x): %s", (unsigned)r->hv, soak_err_name(rc));
    }
    r->open = false;
    r->closed_at = c;
    a->open_outstanding -= r->outstanding;
    if (r->outstanding) {
        r->zombie = true;
        a->nzombie++;
        soak_ctr_add(a, C_CLOSES_BUSY, 1);
    }
    a->openv[slot] = a->openv[--a->nopen];
    soak_ctr_add(a, C_CLOSES, 1);
}

static DWORD pick_filter(struct soak_actor *a)
{
    static const DWORD states[3] = {PHONESTATE_LAMP, PHONESTATE_CONNECTED,
                                    PHONESTATE_DISCONNECTED};
    DWORD f = 0;
    while (!f)
        for (unsigned i = 0; i < 3; i++)
            if (soak_below(&a->rng, 2))
                f |= states[i];
    return f;
}

static uint32_t open_random(struct soak_actor *a)
{
    bool monitor = soak_below(&a->rng, 100) < 25;
    DWORD filter = monitor || soak_below(&a->rng, 100) < 15 ? pick_filter(a) : 0;
    return open_rec(a, pick_console(a, monitor ? 70 : 30),
                    monitor ? PHONEPRIVILEGE_MONITOR : PHONEPRIVILEGE_OWNER, filter);
}

/* An open owner record, on @console when it is not SOAK_NIL; SOAK_NIL if none. */
static uint32_t find_owner(struct soak_actor *a, uint32_t console)
{
    uint32_t n = a->nopen, start = n ? soak_below(&a->rng, n) : 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ri = a->openv[(start + i) % n];
        if (a->rec[ri].priv == PHONEPRIVILEGE_OWNER &&
            (console == SOAK_NIL || a->rec[ri].console == console))
            return ri;
    }
    return SOAK_NIL;
}

/* -------------------------------------------------------------- issuing */

static bool session_over(struct soak_actor *a, uint32_t epoch)
{
    struct soak *s = a->s;
    /* acquire: pairs with main's release store of the state */
    uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
    return st != soak_state(epoch, SOAK_PHASE_RUN) || soak_now_ns() >= a->g->deadline;
}

/* Issue one request; RESOURCEUNAVAIL is retried after reaping. Returns true when it was
 * accepted. */
static bool issue(struct soak_actor *a, uint32_t ri, uint32_t lamp, uint8_t mode)
{
    struct soak *s = a->s;
    uint64_t refused_since = 0, t0 = soak_now_ns();
    while (a->nlive >= SOAK_POOL - 1) {
        /* Our own table is full, of requests of closed handles that are resolved when the
         * reader moves on, or at the latest when the application is shut down. */
        soak_do_work(a, 1);
        if (soak_now_ns() - t0 > 1000000000ull)
            return false;
    }
    for (;;) {
        struct soak_rec *r = &a->rec[ri];
        LONG rc = phoneSetLamp(r->hv, lamp, soak_mode_bit(mode));
        if (rc > 0) {
            soak_track_add(a, (uint32_t)rc, ri, lamp, mode);
            return true;
        }
        if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL) {
            uint64_t now = soak_now_ns();
            soak_ctr_add(a, C_BACKPRESSURE, 1);
            if (refused_since == 0) {
                refused_since = now;
            } else if (now - refused_since > s->stuck_ns) {
                soak_ctr_add(a, C_STUCK, 1);
                soak_violation(s, "phoneSetLamp(%#x) refused with RESOURCEUNAVAIL for %.0f s "
                               "(%u requests of this thread in flight): given up",
                               (unsigned)r->hv, (double)s->stuck_ns / 1e9, (unsigned)a->nlive);
                return false;
            }
            soak_do_work(a, 1);
            continue;
        }
        if (rc == (LONG)PHONEERR_INVALPHONESTATE && maybe_offline(s, r->console)) {
            soak_ctr_add(a, C_REJECT_OFFLINE, 1);
            return false;
        }
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "phoneSetLamp(%#x, %u, %#x) on console %" PRIu32 ": %s",
                       (unsigned)r->hv, (unsigned)lamp, (unsigned)soak_mode_bit(mode), r->console,
                       soak_err_name(rc));
        return false;
    }
}

static void issue_random(struct soak_actor *a)
{
    uint32_t ri = find_owner(a, SOAK_NIL);
    if (ri == SOAK_NIL) {
        ri = open_rec(a, pick_console(a, 30), PHONEPRIVILEGE_OWNER, 0);
        if (ri == SOAK_NIL)
            return;
    }
    uint32_t first, n = my_lamps(a->s, a->index, a->rec[ri].console, &first);
    if (n == 0)
        return;
    uint32_t lamp = first + soak_below(&a->rng, n) * a->s->nactors;
    issue(a, ri, lamp, (uint8_t)soak_below(&a->rng, SOAK_NMODES));
}

/* phoneGetLamp on one of our lamps with nothing unresolved: the model decides. */
static void check_lamp(struct soak_actor *a)
{
    struct soak *s = a->s;
    uint32_t ri = find_owner(a, SOAK_NIL);
    if (ri == SOAK_NIL)
        return;
    struct soak_rec *r = &a->rec[ri];
    uint32_t first, n = my_lamps(s, a->index, r->console, &first);
    if (n == 0)
        return;
    uint32_t lamp = first + soak_below(&a->rng, n) * s->nactors;
    if (soak_lamp_of(s, r->console, lamp)->pending)
        return;
    DWORD mode = 0;
    LONG rc = phoneGetLamp(r->hv, lamp, &mode);
    int mi = soak_mode_index(mode);
    uint8_t allowed = soak_lamp_allowed(s, r->console, lamp);
    soak_ctr_add(a, C_LAMP_CHECKS, 1);
    if (rc != 0 || mi < 0 || !(allowed & (1u << mi))) {
        soak_ctr_add(a, C_LAMP_BAD, 1);
        soak_violation(s, "phoneGetLamp(console %" PRIu32 ", lamp %" PRIu32 ") = %s mode %#x; "
                       "the requests replied allow modes %#x (bit i: PHONELAMPMODE_OFF << i)",
                       r->console, lamp, soak_err_name(rc), (unsigned)mode, (unsigned)allowed);
    }
}

static void check_status(struct soak_actor *a)
{
    struct soak *s = a->s;
    if (a->nopen == 0)
        return;
    struct soak_rec *r = &a->rec[a->openv[soak_below(&a->rng, a->nopen)]];
    PHONESTATUS st;
    memset(&st, 0, sizeof(st));
    st.dwTotalSize = sizeof(st);
    LONG rc = phoneGetStatus(r->hv, &st);
    soak_ctr_add(a, C_STATUS_CHECKS, 1);
    bool connected = (st.dwStatusFlags & PHONESTATUSFLAGS_CONNECTED) != 0;
    bool ok = rc == 0 && (maybe_offline(s, r->console) || connected) &&
              st.dwNumOwners >= (r->priv == PHONEPRIVILEGE_OWNER ? 1u : 0u) &&
              st.dwNumMonitors >= (r->priv == PHONEPRIVILEGE_MONITOR ? 1u : 0u);
    if (!ok) {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "phoneGetStatus(%#x, console %" PRIu32 "): %s, flags %#x, owners %u, "
                       "monitors %u",
                       (unsigned)r->hv, r->console, soak_err_name(rc),
                       (unsigned)st.dwStatusFlags, (unsigned)st.dwNumOwners,
                       (unsigned)st.dwNumMonitors);
    }
}

static void churn(struct soak_actor *a)
{
    if (a->nopen > 1) {
        uint32_t slot = soak_below(&a->rng, a->nopen);
        if (soak_below(&a->rng, 2))
            drain_rec(a, a->openv[slot]); /* a graceful close: everything replied first */
        close_rec(a, slot);
    }
    open_random(a);
}

static void run(struct soak_actor *a, uint32_t epoch)
{
    struct soak *s = a->s;
    uint64_t now = soak_now_ns();
    a->next_due = now;
    a->next_burst = now + soak_below(&a->rng, 1000) * 1000000ull;
    a->burst_left = 0;
    while (!session_over(a, epoch)) {
        now = soak_now_ns();
        if (a->burst_left == 0 && now >= a->next_burst) {
            /* Issue faster than we reap: the rings fill, RESOURCEUNAVAIL pushes back. */
            a->burst_left = 8 + soak_below(&a->rng, 4 * s->ecfg.queue * s->ecfg.workers + 1);
            a->next_burst = now + (200 + soak_below(&a->rng, 1800)) * 1000000ull;
            soak_ctr_add(a, C_BURSTS, 1);
        }
        if (a->burst_left == 0 && now < a->next_due) {
            uint64_t gap = a->next_due - now;
            if (a->leader && a->g->reaping && gap >= 1000000)
                soak_do_work(a, 1);
            else {
                soak_sleep_ns(gap < 1000000 ? gap : 1000000);
                soak_do_work(a, 0);
            }
            continue;
        }
        unsigned r = soak_below(&a->rng, 1000);
        if (r < 3)
            churn(a);
        else if (r < 8)
            check_status(a);
        else if (r < 40)
            check_lamp(a);
        else
            issue_random(a);
        if (a->burst_left) {
            a->burst_left--;
        } else {
            a->next_due += a->ns_per_req;
            if (a->next_due + 1000000000ull < now)
                a->next_due = now; /* behind by a second: do not catch up in one rush */
            soak_do_work(a, 0);
        }
    }
}

/* Wait until every request of an open record is replied; the rest are lost. */
static void drain_open(struct soak_actor *a)
{
    uint64_t last = soak_now_ns();
    uint32_t seen = a->open_outstanding;
    while (a->open_outstanding) {
        soak_do_work(a, 1);
        uint64_t now = soak_now_ns();
        if (a->open_outstanding != seen) {
            seen = a->open_outstanding;
            last = now;
        } else if (now - last > a->s->drain_ns) {
            for (uint32_t i = 0; i < a->nopen; i++)
                soak_resolve_unreplied(a, a->openv[i], C_LOST);
        }
    }
}

/* At quiescence: one more request on each of our lamps whose mode is not known for sure, so
 * the final check is exact where the backend lets it succeed. */
static void certify(struct soak_actor *a)
{
    struct soak *s = a->s;
    for (uint32_t c = 0; c < s->devices; c++) {
        uint32_t first, n = my_lamps(s, a->index, c, &first);
        uint32_t ri = SOAK_NIL;
        if (maybe_offline(s, c))
            continue;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t lamp = first + k * s->nactors;
            struct soak_lamp *l = soak_lamp_of(s, c, lamp);
            if (l->uncmask == 0 && l->pending == 0)
                continue;
            if (ri == SOAK_NIL)
                ri = find_owner(a, c);
            if (ri == SOAK_NIL)
                ri = open_rec(a, c, PHONEPRIVILEGE_OWNER, 0);
            if (ri == SOAK_NIL)
                return;
            soak_ctr_add(a, C_CERTIFY, 1);
            issue(a, ri, lamp, (uint8_t)soak_below(&a->rng, SOAK_NMODES));
        }
    }
}

/* ------------------------------------------------------------- sessions */

/* Leader: wait for work, then start an application. Returns the command for the group. */
static int leader_begin(struct soak_actor *a)
{
    struct soak *s = a->s;
    struct soak_group *g = a->g;
    for (;;) {
        /* acquire: pairs with main's release store of the state (configuration and model reset
         * before it) */
        uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        int phase = soak_state_phase(st);
        uint32_t e = soak_state_epoch(st);
        if (phase == SOAK_PHASE_STOP)
            return SOAK_CMD_EXIT;
        if ((phase == SOAK_PHASE_RUN || phase == SOAK_PHASE_QUIESCE) && g->parked_epoch != e) {
            g->epoch = e;
            break;
        }
        soak_sleep_ns(1000000);
    }
    g->sessions++;
    g->delivery = (int)((g->sessions + g->index) % SOAK_NDELIVERY);
    if (soak_below(&a->rng, 5) == 0)
        g->delivery = (int)soak_below(&a->rng, SOAK_NDELIVERY);
    g->bulk = soak_below(&a->rng, 2);
    PHONEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = g->delivery == SOAK_CALLBACK ? PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW
                                               : PHONEINITIALIZEEXOPTION_USEEVENT;
    DWORD ndevs = 0, ver = TAPI_CURRENT_VERSION;
    LONG rc = phoneInitializeEx(&g->app, NULL, g->delivery == SOAK_CALLBACK ? soak_callback : NULL,
                                "tapiq-soak", &ndevs, &ver, &p);
    if (rc != 0 || ndevs != s->devices) {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "phoneInitializeEx (%s): %s, %u devices: %s",
                       soak_delivery_name(g->delivery), soak_err_name(rc), (unsigned)ndevs,
                       tapiq_last_error());
        if (rc == 0)
            phoneShutdown(g->app);
        soak_sleep_ns(10000000);
        return leader_begin(a);
    }
    soak_ctr_add(a, C_INITS, 1);
    soak_ctr_add(a, (enum soak_ctr)(C_SESS_POLLED + g->delivery), 1);
    g->fd = g->delivery == SOAK_CALLBACK ? -1 : (int)(intptr_t)p.Handles.hEvent;
    g->reaping = g->delivery != SOAK_CALLBACK;
    if (g->delivery == SOAK_CALLBACK) {
        PHONEMESSAGE m;
        rc = phoneGetMessage(g->app, &m, 0);
        if (rc != (LONG)PHONEERR_OPERATIONUNAVAIL) {
            soak_ctr_add(a, C_UNEXPECTED, 1);
            soak_violation(s, "phoneGetMessage on a callback application: %s", soak_err_name(rc));
        }
    }
    uint64_t len = s->opt.backend == SOAK_MQTT ? 1000 + soak_below(&a->rng, 4000)
                                               : 300 + soak_below(&a->rng, 2700);
    g->deadline = soak_now_ns() + len * 1000000ull;
    /* relaxed: the stamp of a read; the barrier that follows publishes it */
    atomic_store_explicit(&g->progress, 0, memory_order_relaxed);
    g->cmd = SOAK_CMD_SESSION;
    return SOAK_CMD_SESSION;
}

static void session(struct soak_actor *a, uint32_t epoch)
{
    struct soak *s = a->s;
    struct soak_group *g = a->g;
    a->session++;
    a->nrec = 0;
    a->nopen = 0;
    a->open_outstanding = 0;
    a->nzombie = 0;
    a->ns_per_req = s->opt.rate ? 1000000000ull * s->nactors / s->opt.rate : 0;

    unsigned owners = 2 + soak_below(&a->rng, 4), monitors = soak_below(&a->rng, 3);
    for (unsigned i = 0; i < owners; i++)
        open_rec(a, pick_console(a, 30), PHONEPRIVILEGE_OWNER,
                 soak_below(&a->rng, 100) < 15 ? pick_filter(a) : 0);
    for (unsigned i = 0; i < monitors; i++)
        open_rec(a, pick_console(a, 70), PHONEPRIVILEGE_MONITOR, pick_filter(a));

    run(a, epoch);

    soak_barrier(a); /* everyone stopped issuing */
    if (a->leader) {
        /* acquire: pairs with main's release store of the state */
        uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st != soak_state(epoch, SOAK_PHASE_RUN))
            g->end_kind = SOAK_END_QUIESCE;
        else
            g->end_kind = soak_below(&a->rng, 2) ? SOAK_END_GRACEFUL : SOAK_END_ABRUPT;
    }
    soak_barrier(a); /* the end is decided */
    if (g->end_kind == SOAK_END_QUIESCE) {
        drain_open(a);
        for (int round = 0; round < 2; round++) {
            certify(a);
            drain_open(a);
        }
    } else if (g->end_kind == SOAK_END_GRACEFUL) {
        drain_open(a);
    }
    /* Close some handles ourselves; phoneShutdown closes the rest. */
    for (uint32_t i = a->nopen; i-- > 0;)
        if (soak_below(&a->rng, 2))
            close_rec(a, i);
    soak_barrier(a); /* nobody calls into the application any more */
    if (a->leader) {
        g->reaping = false;
        LONG rc = phoneShutdown(g->app);
        /* seq_cst: the after-close clock for every handle the shutdown closed (soak.h) */
        g->shut_at = atomic_fetch_add_explicit(&s->clock, 1, memory_order_seq_cst);
        if (rc != 0) {
            soak_ctr_add(a, C_UNEXPECTED, 1);
            soak_violation(s, "phoneShutdown: %s", soak_err_name(rc));
        }
        soak_ctr_add(a, C_SHUTDOWNS, 1);
    }
    soak_barrier(a); /* the application is gone; its callback thread is joined */
    soak_inbox_drain(a);
    for (uint32_t i = 0; i < a->nopen; i++) {
        struct soak_rec *r = &a->rec[a->openv[i]];
        r->open = false;
        r->closed_at = g->shut_at;
        if (r->outstanding) {
            r->zombie = true;
            a->nzombie++;
        }
    }
    a->open_outstanding = 0;
    a->nopen = 0;
    soak_finalize_zombies(a, UINT64_MAX);
    soak_barrier(a); /* every actor's accounts are settled */
}

void *soak_actor_main(void *arg)
{
    struct soak_actor *a = arg;
    struct soak_group *g = a->g;
    struct soak *s = a->s;
    for (;;) {
        if (a->leader)
            g->cmd = leader_begin(a);
        soak_barrier(a); /* the command and the application are published */
        if (g->cmd == SOAK_CMD_EXIT)
            break;
        session(a, g->epoch);
        if (a->leader && g->end_kind == SOAK_END_QUIESCE) {
            g->parked_epoch = g->epoch;
            /* release: the group's accounts and lamp models (settled before the last barrier
             * of the session) happen-before main's acquire load of the parked count */
            atomic_fetch_add_explicit(&s->parked, 1, memory_order_release);
        }
    }
    return NULL;
}

