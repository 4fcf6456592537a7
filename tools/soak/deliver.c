/* tools/soak/deliver.c - messages on their way to the actor that owns their handle: the
 * leader's reads (polled, event fd), the callback, the checks of every message (reply for an
 * id in flight, right handle, not after close, state events the filter asked for), and the
 * group barrier. See soak.h for the after-close rule. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

static struct soak *g_soak; /* for the callback; set before any actor starts */

void soak_deliver_init(struct soak *s)
{
    g_soak = s;
}

/* ------------------------------------------------------ dwCallbackInstance
 *
 * 12 bits magic | 8 bits actor | 28 bits session | 16 bits handle record. */
#define INST_MAGIC 0xA5Cull
#define INST_SESSION_MASK 0x0FFFFFFFu

uint64_t soak_inst_make(unsigned actor, uint32_t session, uint32_t rec)
{
    return INST_MAGIC << 52 | (uint64_t)actor << 44 |
           (uint64_t)(session & INST_SESSION_MASK) << 16 | rec;
}

static bool inst_valid(uint64_t inst, const struct soak *s)
{
    return inst >> 52 == INST_MAGIC && ((inst >> 44) & 0xFF) < s->nactors;
}

static unsigned inst_actor(uint64_t inst)
{
    return (unsigned)((inst >> 44) & 0xFF);
}

static uint32_t inst_session(uint64_t inst)
{
    return (uint32_t)(inst >> 16) & INST_SESSION_MASK;
}

static uint32_t inst_rec(uint64_t inst)
{
    return (uint32_t)(inst & 0xFFFF);
}

static const char *msg_name(uint32_t id)
{
    switch (id) {
    case PHONE_REPLY: return "PHONE_REPLY";
    case PHONE_STATE: return "PHONE_STATE";
    case PHONE_CLOSE: return "PHONE_CLOSE";
    default: return "message";
    }
}

const char *soak_delivery_name(int d)
{
    return d == SOAK_POLLED ? "polled" : d == SOAK_EVENT ? "event fd" : "callback";
}

/* ------------------------------------------------------------ messages */

static void on_reply(struct soak_actor *a, struct soak_rec *r, uint32_t ri,
                     const struct soak_msg *m, bool late)
{
    struct soak *s = a->s;
    uint32_t pi = soak_track_find(a, m->p1);
    if (pi == SOAK_NIL) {
        if (late)
            return; /* counted as after-close; its request was resolved as suppressed */
        soak_ctr_add(a, C_DUPLICATED, 1);
        soak_violation(s, "PHONE_REPLY for request %" PRIu32 " (handle %#x, status %s), which is "
                       "not in flight: duplicated or never issued",
                       m->p1, (unsigned)r->hv, soak_err_name(m->p2));
        return;
    }
    struct soak_req *q = &a->pool[pi];
    if (q->rec != ri) {
        soak_ctr_add(a, C_MISMATCHED, 1);
        soak_violation(s, "PHONE_REPLY for request %" PRIu32 " came on handle %#x; it was issued "
                       "on handle %#x",
                       m->p1, (unsigned)r->hv, (unsigned)a->rec[q->rec].hv);
        return;
    }
    if (m->p2 == 0) {
        soak_ctr_add(a, C_OK, 1);
        soak_model_ok(s, q);
    } else if (m->p2 == (LONG)PHONEERR_OPERATIONFAILED && s->failures_allowed) {
        soak_ctr_add(a, C_FAILED, 1);
    } else {
        soak_ctr_add(a, C_BAD_STATUS, 1);
        soak_violation(s, "PHONE_REPLY %s for request %" PRIu32 " (console %" PRIu32
                       " lamp %u) where no failure is configured",
                       soak_err_name(m->p2), q->id, q->console, (unsigned)q->lamp);
    }
    soak_track_remove(a, pi);
}

static void on_state(struct soak_actor *a, struct soak_rec *r, const struct soak_msg *m)
{
    struct soak *s = a->s;
    const uint32_t conn = PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED;
    if (m->p1 == PHONESTATE_LAMP && (r->filter & PHONESTATE_LAMP) && (uint32_t)m->p2 < s->lamps) {
        soak_ctr_add(a, C_STATE_LAMP, 1);
    } else if (m->p1 && !(m->p1 & ~conn) && !(m->p1 & ~r->filter)) {
        soak_ctr_add(a, C_STATE_CONN, 1);
    } else {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "PHONE_STATE %#x/%" PRIu32 " on handle %#x whose filter is %#x",
                       (unsigned)m->p1, (uint32_t)m->p2, (unsigned)r->hv, (unsigned)r->filter);
    }
}

void soak_process(struct soak_actor *a, const struct soak_msg *m)
{
    struct soak *s = a->s;
    uint32_t ri = inst_rec(m->inst);
    if (inst_session(m->inst) != (a->session & INST_SESSION_MASK)) {
        soak_ctr_add(a, C_AFTER_CLOSE, 1);
        soak_violation(s, "after-close: %s for handle %#x of an application shut down before "
                       "(%s delivery)",
                       msg_name(m->id), (unsigned)m->hv, soak_delivery_name(a->g->delivery));
        return;
    }
    if (ri >= a->nrec) {
        /* relaxed: a counter read at the end */
        atomic_fetch_add_explicit(&s->garbled, 1, memory_order_relaxed);
        return;
    }
    struct soak_rec *r = &a->rec[ri];
    if (m->hv != r->hv) {
        soak_ctr_add(a, C_MISMATCHED, 1);
        soak_violation(s, "%s with hDevice %#x for a handle opened as %#x", msg_name(m->id),
                       (unsigned)m->hv, (unsigned)r->hv);
        return;
    }
    bool late = !r->open && m->stamp > r->closed_at;
    if (late) {
        soak_ctr_add(a, C_AFTER_CLOSE, 1);
        soak_violation(s, "after-close: %s (param1 %" PRIu32 ") for handle %#x, console %" PRIu32
                       ", read by a call that began after phoneClose/phoneShutdown of the "
                       "handle returned (%s delivery)",
                       msg_name(m->id), m->p1, (unsigned)r->hv, r->console,
                       soak_delivery_name(a->g->delivery));
    }
    if (m->id == PHONE_REPLY) {
        on_reply(a, r, ri, m, late);
    } else if (m->id == PHONE_STATE) {
        on_state(a, r, m);
    } else {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "unexpected message %" PRIu32 " on handle %#x", m->id, (unsigned)r->hv);
    }
}

/* Hand a message read for the group to its owner. */
static void route(struct soak_actor *self, const PHONEMESSAGE *pm, uint64_t stamp)
{
    struct soak *s = self->s;
    struct soak_group *g = self->g;
    struct soak_msg m = {.inst = pm->dwCallbackInstance, .stamp = stamp, .hv = pm->hDevice,
                         .id = pm->dwMessageID, .p1 = (uint32_t)pm->dwParam1,
                         .p2 = (int32_t)(uint32_t)pm->dwParam2};
    unsigned ai = inst_actor(m.inst);
    if (!inst_valid(m.inst, s) || ai < g->first || ai >= g->first + g->n) {
        /* relaxed: a counter read at the end */
        atomic_fetch_add_explicit(&s->garbled, 1, memory_order_relaxed);
        return;
    }
    if (ai == self->index)
        soak_process(self, &m);
    else
        soak_inbox_push(s, &s->actors[ai].in, &m);
}

/* The callback of callback applications: runs on tapiq's delivery thread. */
void soak_callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance,
                          DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    struct soak *s = g_soak;
    (void)dwParam3;
    /* seq_cst: against the fetch_add that closers take after phoneClose returned (soak.h) */
    uint64_t stamp = atomic_load_explicit(&s->clock, memory_order_seq_cst);
    struct soak_msg m = {.inst = dwInstance, .stamp = stamp, .hv = hDevice, .id = dwMessage,
                         .p1 = (uint32_t)dwParam1, .p2 = (int32_t)(uint32_t)dwParam2};
    if (!inst_valid(m.inst, s)) {
        /* relaxed: a counter read at the end */
        atomic_fetch_add_explicit(&s->garbled, 1, memory_order_relaxed);
        return;
    }
    struct soak_actor *a = &s->actors[inst_actor(m.inst)];
    soak_inbox_push(s, &a->in, &m);
    /* release: pairs with the acquire load in soak_do_work(): what was pushed is visible */
    atomic_store_explicit(&a->g->progress, stamp, memory_order_release);
    /* Now and then the application's own work takes a while (a screen to update, a log to
     * write): replies pile up behind it. Keyed on the request id: no shared random state. */
    if (dwMessage == PHONE_REPLY && (uint32_t)dwParam1 * 0x9E3779B1u >> 26 == 0)
        soak_sleep_ns(100000 + ((uint32_t)dwParam1 * 0x85EBCA6Bu >> 22) * 1000u);
}

/* The leader reads its group's messages (polled and event applications). */
static void leader_reap(struct soak_actor *a, int wait_ms)
{
    struct soak *s = a->s;
    struct soak_group *g = a->g;
    PHONEMESSAGE m[64];
    /* seq_cst: see soak.h. No read is under way now: every earlier one has been routed. */
    uint64_t stamp = atomic_load_explicit(&s->clock, memory_order_seq_cst);
    /* release: pairs with the acquire load in soak_do_work() */
    atomic_store_explicit(&g->progress, stamp, memory_order_release);
    DWORD timeout = (DWORD)wait_ms;
    if (g->delivery == SOAK_EVENT) {
        struct pollfd p = {.fd = g->fd, .events = POLLIN};
        int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno != EINTR) {
            soak_ctr_add(a, C_UNEXPECTED, 1);
            soak_violation(s, "poll on the USEEVENT fd %d: %s", g->fd, strerror(errno));
        }
        if (r <= 0)
            return;
        if (p.revents & (POLLERR | POLLNVAL)) {
            soak_ctr_add(a, C_UNEXPECTED, 1);
            soak_violation(s, "the USEEVENT fd %d polls %#x", g->fd, (unsigned)p.revents);
            return;
        }
        timeout = 0;
        /* seq_cst: see soak.h; a later stamp is a sharper one */
        stamp = atomic_load_explicit(&s->clock, memory_order_seq_cst);
    }
    LONG n;
    if (g->bulk) {
        n = tapiq_get_messages(g->app, m, 64, timeout);
    } else {
        n = phoneGetMessage(g->app, &m[0], timeout);
        n = n == 0 ? 1 : n;
    }
    if (n == (LONG)PHONEERR_OPERATIONFAILED)
        return; /* nothing in time */
    if (n < 0) {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "%s: %s", g->bulk ? "tapiq_get_messages" : "phoneGetMessage",
                       soak_err_name(n));
        return;
    }
    for (LONG i = 0; i < n; i++)
        route(a, &m[i], stamp);
}

/* Reap (leader), forward, process the inbox, resolve zombies; wait up to @wait_ms. */
void soak_do_work(struct soak_actor *a, int wait_ms)
{
    struct soak_group *g = a->g;
    if (a->leader && g->reaping)
        leader_reap(a, wait_ms);
    else if (wait_ms > 0)
        soak_sleep_ns(200000);
    /* acquire: pairs with the release stores in leader_reap() / soak_callback(); loaded
     * before the drain, so every message read before that stamp is in the inbox. */
    uint64_t progress = a->nzombie ? atomic_load_explicit(&g->progress, memory_order_acquire) : 0;
    soak_inbox_drain(a);
    if (a->nzombie)
        soak_finalize_zombies(a, progress);
}

/* ------------------------------------------------------------ barriers */

void soak_barrier(struct soak_actor *a)
{
    struct soak_group *g = a->g;
    if (g->n == 1)
        return;
    /* acquire: pairs with the release increment below */
    uint32_t gen = atomic_load_explicit(&g->bar_gen, memory_order_acquire);
    /* acq_rel: each member's writes before arriving happen-before the release of the barrier */
    if (atomic_fetch_add_explicit(&g->bar_count, 1, memory_order_acq_rel) + 1 == g->n) {
        /* relaxed: published by the release increment of bar_gen that follows */
        atomic_store_explicit(&g->bar_count, 0, memory_order_relaxed);
        /* release: pairs with the acquire loads of the waiters */
        atomic_fetch_add_explicit(&g->bar_gen, 1, memory_order_release);
        return;
    }
    /* acquire: pairs with the release increment above */
    while (atomic_load_explicit(&g->bar_gen, memory_order_acquire) == gen)
        soak_do_work(a, 1);
}

