/* tools/soak/epoch.c - one runtime lifetime of tapiq-soak: its configuration (the faults of
 * backend mem), the checker application that keeps the runtime alive, the checks at
 * quiescence (lamps against the model, statistics, the broker's retained state), and the
 * broker faults injected meanwhile (backend mqtt). Main thread only. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

/* ------------------------------------------------------------- epochs */

static void epoch_config(struct soak_run *r, uint32_t e, struct soak_epoch_cfg *c)
{
    struct soak *s = r->s;
    static const unsigned long fail[] = {0, 1000, 0, 100000, 1000000, 0, 500000, 10};
    static const unsigned long latency[] = {0, 0, 20, 200, 2000};
    static const unsigned queue[] = {1024, 256, 64, 16, 2};
    static const unsigned workers[] = {2, 1, 3, 4};
    static const unsigned events[] = {65536, 65536, 65536, 1024, 64};
    char extra[768] = "";
    memset(c, 0, sizeof(*c));
    c->workers = workers[soak_below(&r->rng, 4)];
    c->queue = queue[soak_below(&r->rng, 5)];
    c->events = events[soak_below(&r->rng, 5)];
    unsigned slots = soak_below(&r->rng, 4) == 0 ? 1 + soak_below(&r->rng, s->nactors) : 64;
    if (e == 1) { /* a plain first runtime: the warm-up starts from the common case */
        c->workers = 2;
        c->queue = 1024;
        c->events = 65536;
        slots = 64;
    }
    if (s->opt.backend == SOAK_MEM) {
        c->fail_ppm = e == 1 ? 0 : fail[e % 8];
        c->latency_us = e == 1 ? 0 : latency[soak_below(&r->rng, 5)];
        c->offline = e == 1 || soak_below(&r->rng, 3) ? 0 : 1 + soak_below(&r->rng, 4);
        snprintf(extra, sizeof(extra), "backend=mem,fail_ppm=%lu,latency_us=%lu,offline=%u",
                 c->fail_ppm, c->latency_us, c->offline);
    } else {
        char url[600];
        static const unsigned resync[] = {0, 2, 5};
        c->tls = soak_broker_has_tls(r->broker) && e % 2 == 0;
        soak_broker_config(r->broker, c->tls, url, sizeof(url));
        if (c->queue > 256)
            c->queue = 256;
        snprintf(extra, sizeof(extra),
                 "backend=mqtt,%s,prefix=%s,timeout_ms=%" PRIu64 ",resync_s=%u,inflight=%u,"
                 "protocol=%s",
                 url, r->prefix, r->timeout_ms, resync[soak_below(&r->rng, 3)],
                 soak_below(&r->rng, 2) ? 64u : 4u, soak_below(&r->rng, 2) ? "5" : "3.1.1");
    }
    snprintf(c->text, sizeof(c->text), "%s,devices=%u,lamps=%u,workers=%u,queue=%u,events=%u,"
             "threads=%u",
             extra, s->devices, s->lamps, c->workers, c->queue, c->events, slots);
    r->f.epochs++;
    r->f.fail_epochs += c->fail_ppm > 0;
    r->f.fail100_epochs += c->fail_ppm == 1000000;
    r->f.latency_epochs += c->latency_us > 0;
    r->f.offline_epochs += c->offline > 0;
    r->f.small_queue += c->queue <= 16;
    r->f.shared_rings += slots < s->nactors;
    r->f.small_events += c->events <= 1024;
    r->f.tls_epochs += c->tls;
}

/* Configure, start the runtime with the checker application. 0 or -1. */
int soak_epoch_start(struct soak_run *r, uint32_t e)
{
    struct soak *s = r->s;
    epoch_config(r, e, &s->ecfg);
    if (tapiq_configure(s->ecfg.text) != 0) {
        fprintf(stderr, "tapiq-soak: configuration \"%s\": %s\n", s->ecfg.text,
                tapiq_last_error());
        return -1;
    }
    for (unsigned c = 0; c < s->devices; c++)
        /* relaxed: published by the release store of the state below */
        atomic_store_explicit(&s->maybe_offline[c],
                              c >= s->devices - s->ecfg.offline ? 1 : 0, memory_order_relaxed);
    memset(r->flapped, 0, s->devices);
    s->failures_allowed = s->opt.backend == SOAK_MQTT || s->ecfg.fail_ppm > 0;
    r->connects0 = tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS);
    PHONEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    DWORD ndevs = 0, ver = TAPI_CURRENT_VERSION;
    LONG rc = phoneInitializeEx(&r->app, NULL, NULL, "tapiq-soak checker", &ndevs, &ver, &p);
    if (rc != 0 || ndevs != s->devices) {
        fprintf(stderr, "tapiq-soak: phoneInitializeEx: %s (%u devices) %s\n", soak_err_name(rc),
                (unsigned)ndevs, tapiq_last_error());
        return -1;
    }
    for (unsigned c = 0; c < s->devices; c++) {
        DWORD v = 0;
        PHONEEXTENSIONID ext;
        rc = phoneNegotiateAPIVersion(r->app, c, TAPI_VERSION1_4, TAPI_VERSION2_2, &v, &ext);
        if (rc == 0)
            rc = phoneOpen(r->app, c, &r->mon[c], v, 0, 0, PHONEPRIVILEGE_MONITOR);
        if (rc != 0) {
            fprintf(stderr, "tapiq-soak: phoneOpen(%u) monitor: %s\n", c, soak_err_name(rc));
            return -1;
        }
    }
    soak_lamp_reset(s);
    return 0;
}

/* Every lamp against the model of its owner; the broker's retained state against phoneGetLamp. */
void soak_epoch_check(struct soak_run *r, const struct soak_epoch_counts *n)
{
    struct soak *s = r->s;
    unsigned shown = 0;
    for (unsigned c = 0; c < s->devices; c++)
        for (unsigned l = 0; l < s->lamps; l++) {
            DWORD mode = 0;
            LONG rc = phoneGetLamp(r->mon[c], l, &mode);
            int mi = soak_mode_index(mode);
            uint8_t allowed = soak_lamp_allowed(s, c, l);
            r->modes[(size_t)c * s->lamps + l] = mode;
            r->lamp_checked++;
            r->lamp_exact += (allowed & (allowed - 1)) == 0;
            if (rc != 0 || mi < 0 || !(allowed & (1u << mi))) {
                r->lamp_bad++;
                if (shown++ < 5)
                    soak_violation(s, "lamp state: console %u lamp %u: phoneGetLamp %s mode %#x, "
                                   "the requests replied allow %#x (bit i: PHONELAMPMODE_OFF << i)",
                                   c, l, soak_err_name(rc), (unsigned)mode, (unsigned)allowed);
            }
        }

    /* Each accepted request counts once in tapiq's statistics: replies + suppressed ==
     * accepted, nothing in flight at quiescence, and at least the replies the threads read.
     * By the README, a reply still unread when its application shut down counts as suppressed,
     * so the threads' counts should agree exactly; where tapiq counts such replies as replies
     * the difference is reported (not a failure: no request was lost or doubled). */
    tapiq_stats st;
    memset(&st, 0, sizeof(st));
    int rc = tapiq_get_stats(&st, sizeof(st));
    bool identity = rc == 0 && st.in_flight == 0 && st.accepted == n->accepted &&
                    st.replies + st.replies_suppressed == st.accepted && st.replies >= n->replies;
    if (identity && st.replies != n->replies) {
        r->stats_unread += st.replies - n->replies;
        r->stats_unread_epochs++;
    }
    if (!identity) {
        r->stats_bad++;
        soak_violation(s, "statistics at quiescence (rc %d): tapiq counts accepted %" PRIu64
                       ", replies %" PRIu64 ", suppressed %" PRIu64 ", in flight %" PRIu64
                       "; the threads counted accepted %" PRIu64 ", replies %" PRIu64
                       ", suppressed %" PRIu64 ", lost %" PRIu64,
                       rc, st.accepted, st.replies, st.replies_suppressed, st.in_flight,
                       n->accepted, n->replies, n->suppressed, n->lost);
    }

    if (s->opt.backend != SOAK_MQTT)
        return;
    if (tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) == r->connects0) {
        char err[512] = "";
        tapiq_mqtt_last_error(err, sizeof(err));
        r->no_connect++;
        soak_violation(s, "tapiq never connected to the broker in this runtime (%s): %s",
                       s->ecfg.tls ? "TLS" : "plain", err);
    }
    /* Converged: the retained message of every console equals phoneGetLamp (reconnects and
     * resyncs may still be under way: retry for a while). */
    uint64_t until = soak_now_ns() + 60000000000ull;
    unsigned diff = 0, missing = 0, first = 0;
    for (;;) {
        int got = soak_broker_read_lamps(r->broker, r->prefix, s->devices, s->lamps, r->retained,
                                         r->seen);
        diff = missing = 0;
        for (unsigned c = 0; c < s->devices; c++) {
            if (!r->seen[c]) {
                missing++;
                continue;
            }
            for (unsigned l = 0; l < s->lamps; l++)
                if (r->retained[(size_t)c * s->lamps + l] != r->modes[(size_t)c * s->lamps + l]) {
                    if (!diff)
                        first = c;
                    diff++;
                    break;
                }
        }
        if (got >= 0 && diff == 0 && missing == 0)
            break;
        if (soak_now_ns() > until) {
            r->retained_bad++;
            soak_violation(s, "broker state: after 60 s, %u consoles have no retained lamps "
                           "message and %u differ from phoneGetLamp (first: console %u)%s",
                           missing, diff, first, got < 0 ? "; the broker could not be read" : "");
            break;
        }
        soak_sleep_ns(500000000);
    }
    r->retained_checks++;
}

void soak_epoch_stop(struct soak_run *r)
{
    struct soak *s = r->s;
    for (unsigned c = 0; c < s->devices; c++)
        phoneClose(r->mon[c]);
    LONG rc = phoneShutdown(r->app);
    if (rc != 0)
        soak_violation(s, "phoneShutdown of the checker: %s", soak_err_name(rc));
    if (s->opt.backend == SOAK_MQTT)
        for (unsigned c = 0; c < s->devices; c++)
            if (r->flapped[c])
                soak_broker_presence(r->broker, r->prefix, c, -1); /* clear for the next run */
}

/* ------------------------------------------------------ mqtt faults */

static void sleep_interruptible(uint64_t ns)
{
    uint64_t until = soak_now_ns() + ns;
    while (!soak_interrupted && soak_now_ns() < until)
        soak_sleep_ns(20000000);
}

void soak_broker_ensure(struct soak_run *r)
{
    soak_broker_resume(r->broker);
    if (!soak_broker_running(r->broker) && soak_broker_start(r->broker) != 0) {
        fprintf(stderr, "tapiq-soak: cannot restart mosquitto\n");
        exit(2);
    }
}

void soak_mqtt_fault(struct soak_run *r)
{
    struct soak *s = r->s;
    switch (soak_below(&r->rng, 4)) {
    case 0: /* killed: connection lost, retained store gone */
        soak_broker_kill(r->broker);
        r->f.kills++;
        sleep_interruptible((100 + soak_below(&r->rng, 700)) * 1000000ull);
        soak_broker_ensure(r);
        break;
    case 1: /* paused past timeout_ms: batches time out, then it answers again */
        soak_broker_pause(r->broker);
        r->f.pauses++;
        sleep_interruptible((r->timeout_ms + 300 + soak_below(&r->rng, 1500)) * 1000000ull);
        soak_broker_resume(r->broker);
        break;
    case 2: /* an orderly restart, with an empty retained store */
        soak_broker_stop(r->broker);
        r->f.restarts++;
        soak_broker_ensure(r);
        break;
    default: { /* a console goes offline for a while; mostly a busy one, which handles watch */
        unsigned hot = s->devices < 8 ? s->devices : 8;
        unsigned c = soak_below(&r->rng, 3) ? soak_below(&r->rng, hot)
                                            : soak_below(&r->rng, s->devices);
        /* relaxed: INVALPHONESTATE becomes acceptable before tapiq can see the change */
        atomic_store_explicit(&s->maybe_offline[c], 1, memory_order_relaxed);
        r->flapped[c] = 1;
        if (soak_broker_presence(r->broker, r->prefix, c, 0) == 0) {
            r->f.presence++;
            sleep_interruptible((300 + soak_below(&r->rng, 1500)) * 1000000ull);
            soak_broker_presence(r->broker, r->prefix, c, 1);
        }
        break;
    }
    }
}

