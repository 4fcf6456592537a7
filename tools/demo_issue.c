/* tools/demo_issue.c - tapiq-demo's issuing threads: agents and queues change, lamps follow. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <sched.h>

#include "demo.h"

static uint64_t rng_next(uint64_t *s) /* xorshift64* */
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
    return (unsigned)((rng_next(s) >> 32) * n >> 32);
}

enum agent_state { AG_IDLE, AG_RINGING, AG_TALKING, AG_HOLD, AG_WRAPUP, AG_AWAY };

static const DWORD agent_lamp[] = {
    [AG_IDLE] = PHONELAMPMODE_OFF,       [AG_RINGING] = PHONELAMPMODE_FLASH,
    [AG_TALKING] = PHONELAMPMODE_STEADY, [AG_HOLD] = PHONELAMPMODE_WINK,
    [AG_WRAPUP] = PHONELAMPMODE_FLUTTER, [AG_AWAY] = PHONELAMPMODE_BROKENFLUTTER,
};

/* Set one lamp; on RESOURCEUNAVAIL (backpressure) back off and retry the same
 * request: nothing is dropped, and the per-lamp order is kept because the
 * thread goes on only once the request is accepted. */
static void issue(struct issuer *me, uint32_t console, uint32_t lamp, DWORD mode)
{
    struct demo *d = me->d;
    unsigned tries = 0;
    uint64_t stop_seen = 0;
    me->sent++;
    for (;;) {
        uint32_t t = demo_now32(d);
        LONG rc = phoneSetLamp(d->phones[console], d->base + lamp, mode);
        if (rc > 0) {
            demo_track_insert(d, (uint32_t)rc, t);
            d->expected[(size_t)console * d->lamps + lamp] = (uint8_t)mode;
            atomic_fetch_add_explicit(&me->accepted, 1, memory_order_relaxed);
            return;
        }
        if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL) {
            atomic_fetch_add_explicit(&me->backpressure, 1, memory_order_relaxed);
            if (++tries < 16) {
                sched_yield();
            } else {
                demo_sleep_ns(20000);
                if (atomic_load_explicit(&d->stop_issuing, memory_order_relaxed)) {
                    uint64_t now = demo_mono_ns();
                    if (stop_seen == 0) {
                        stop_seen = now;
                    } else if (now - stop_seen > STUCK_NS) {
                        me->stuck++;
                        return;
                    }
                }
            }
            continue;
        }
        if (rc == (LONG)PHONEERR_INVALPHONESTATE && d->opt.offline > 0) {
            me->rejected_expected++;
        } else {
            if (me->rejected_bad++ == 0)
                me->first_bad = rc;
        }
        return;
    }
}

/* Set @lamp on every console that watches @team. */
static void set_team_lamp(struct issuer *me, uint32_t team, uint32_t lamp, DWORD mode)
{
    struct demo *d = me->d;
    for (uint32_t c = team; c < d->consoles; c += d->teams)
        issue(me, c, lamp, mode);
}

static enum agent_state agent_next(enum agent_state s, uint64_t *rng)
{
    unsigned r = rng_below(rng, 100);
    switch (s) {
    case AG_IDLE: return r < 85 ? AG_RINGING : AG_AWAY;
    case AG_RINGING: return r < 90 ? AG_TALKING : AG_IDLE; /* caller hung up */
    case AG_TALKING: return r < 25 ? AG_HOLD : AG_WRAPUP;
    case AG_HOLD: return AG_TALKING;
    case AG_WRAPUP: return AG_IDLE;
    case AG_AWAY: return AG_IDLE;
    }
    return AG_IDLE;
}

static DWORD queue_lamp(unsigned waiting)
{
    if (waiting == 0)
        return PHONELAMPMODE_OFF;
    return waiting < QUEUE_ALARM ? PHONELAMPMODE_STEADY : PHONELAMPMODE_FLASH;
}

void *demo_issuer_main(void *arg)
{
    struct issuer *me = arg;
    struct demo *d = me->d;
    unsigned threads = d->opt.threads;
    /* --rate: this thread's share, as nanoseconds per request. */
    double ns_per_req = d->opt.rate ? 1e9 * threads / (double)d->opt.rate : 0;
    uint64_t t_start = demo_mono_ns();

    while (me->nteams > 0 && !atomic_load_explicit(&d->stop_issuing, memory_order_relaxed)) {
        if (ns_per_req > 0) {
            uint64_t due = t_start + (uint64_t)(ns_per_req * (double)me->sent), now = demo_mono_ns();
            if (due > now + 50000)
                demo_sleep_ns(due - now);
        }
        uint32_t local = rng_below(&me->rng, me->nteams);
        uint32_t team = me->index + local * threads;
        if (d->qlamps == 0 || rng_below(&me->rng, 100) < 85) {
            /* An agent changes state: every console of the team shows it. */
            uint32_t a = rng_below(&me->rng, d->alamps);
            uint8_t *st = &me->agent[(size_t)local * d->alamps + a];
            *st = (uint8_t)agent_next((enum agent_state)*st, &me->rng);
            set_team_lamp(me, team, a, agent_lamp[*st]);
        } else {
            /* A call joins or leaves a queue; the lamp changes at thresholds. */
            uint32_t q = rng_below(&me->rng, d->qlamps);
            uint8_t *w = &me->waiting[(size_t)local * d->qlamps + q];
            DWORD before = queue_lamp(*w);
            if (rng_below(&me->rng, 2) == 0) {
                if (*w < QUEUE_MAX)
                    (*w)++;
            } else if (*w > 0) {
                (*w)--;
            }
            DWORD after = queue_lamp(*w);
            if (after != before)
                set_team_lamp(me, team, d->alamps + q, after);
        }
        atomic_fetch_add_explicit(&me->events, 1, memory_order_relaxed);
    }
    return NULL;
}

struct totals demo_sum_issuers(const struct demo *d)
{
    struct totals t = {0};
    for (unsigned i = 0; i < d->opt.threads; i++) {
        struct issuer *is = &d->issuers[i];
        t.accepted += atomic_load_explicit(&is->accepted, memory_order_relaxed);
        t.backpressure += atomic_load_explicit(&is->backpressure, memory_order_relaxed);
        t.events += atomic_load_explicit(&is->events, memory_order_relaxed);
    }
    return t;
}

/* After the issuers have been joined: the non-atomic counters too. */
void demo_sum_issuers_final(const struct demo *d, struct totals *t)
{
    *t = demo_sum_issuers(d);
    for (unsigned i = 0; i < d->opt.threads; i++) {
        struct issuer *is = &d->issuers[i];
        t->rejected_expected += is->rejected_expected;
        if (is->rejected_bad && !t->rejected_bad)
            t->first_bad = is->first_bad;
        t->rejected_bad += is->rejected_bad;
        t->stuck += is->stuck;
    }
}
