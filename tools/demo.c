/* tapiq-demo - a call-center simulation on the mem backend.
 *
 * Consoles (operator phones) show a busy-lamp field: the first lamps of a
 * console follow the agents of the team the console watches, the last lamps
 * are queue indicators. Issuing threads simulate agents changing state
 * (idle, ringing, talking, hold, wrap-up, away: one lamp mode each) and queues
 * filling up (steady while calls wait, flashing past the alarm threshold);
 * every change sets the lamp on every console that watches that agent or
 * queue. One reader thread reaps the PHONE_REPLY messages.
 *
 * Operators press a Ready button on their consoles now and then, and a
 * supervisor answers with the Ready lamp (tools/demo_ops.h: the protocol;
 * --presses sets the rate, 0 leaves them out). The Ready button is position
 * 0; the busy-lamp field starts at position 1.
 *
 * Each lamp is written by exactly one issuing thread (a team belongs to one
 * thread), so tapiq's per-thread per-lamp ordering means that after the last
 * reply phoneGetLamp must equal the last mode set; the demo checks that, and
 * that every accepted request got exactly one reply.
 *
 * Only the public headers are used: <tapiq/tapi.h> and <tapiq/tapiq.h>.
 *
 * Exit status: 0 when every accepted request got exactly one reply, no reply
 * or call failed unexpectedly and the lamp states match; 1 when a check
 * failed; 2 on a usage or setup error.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "demo_ops.h"

#define DEMO_LAMPS 64         /* lamps per console (the `lamps` key) */
#define DEMO_QUEUE 1024       /* entries per (thread, worker) ring: the `queue` key */
#define DEMO_TRACK 262144     /* issue-time table: > requests in flight */
#define DEMO_WORKERS 2        /* the `workers` key */
#define QUEUE_LAMPS 8         /* the last lamps of a console: queue indicators */
#define TEAM_CONSOLES 10      /* consoles that watch one team */
#define QUEUE_ALARM 5         /* calls waiting from which a queue lamp flashes */
#define QUEUE_MAX 8           /* calls waiting at most (the simulation's cap) */
#define STUCK_NS 10000000000ull /* give up a retried request after 10 s of stop */
#define DRAIN_IDLE_NS 10000000000ull /* give up draining after 10 s without a reply */

/* ------------------------------------------------------------ utilities */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
                          .tv_nsec = (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

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

static const char *phoneerr_name(LONG e)
{
    switch (e) {
    case 0: return "OK";
    case PHONEERR_INVALAPPHANDLE: return "INVALAPPHANDLE";
    case PHONEERR_INVALBUTTONLAMPID: return "INVALBUTTONLAMPID";
    case PHONEERR_INVALLAMPMODE: return "INVALLAMPMODE";
    case PHONEERR_INVALPARAM: return "INVALPARAM";
    case PHONEERR_INVALPHONEHANDLE: return "INVALPHONEHANDLE";
    case PHONEERR_INVALPHONESTATE: return "INVALPHONESTATE";
    case PHONEERR_INVALPOINTER: return "INVALPOINTER";
    case PHONEERR_INIFILECORRUPT: return "INIFILECORRUPT";
    case PHONEERR_NODEVICE: return "NODEVICE";
    case PHONEERR_NODRIVER: return "NODRIVER";
    case PHONEERR_NOMEM: return "NOMEM";
    case PHONEERR_NOTOWNER: return "NOTOWNER";
    case PHONEERR_OPERATIONFAILED: return "OPERATIONFAILED";
    case PHONEERR_OPERATIONUNAVAIL: return "OPERATIONUNAVAIL";
    case PHONEERR_RESOURCEUNAVAIL: return "RESOURCEUNAVAIL";
    case PHONEERR_STRUCTURETOOSMALL: return "STRUCTURETOOSMALL";
    case PHONEERR_UNINITIALIZED: return "UNINITIALIZED";
    case PHONEERR_BADDEVICEID: return "BADDEVICEID";
    case PHONEERR_INCOMPATIBLEAPIVERSION: return "INCOMPATIBLEAPIVERSION";
    case PHONEERR_INUSE: return "INUSE";
    case PHONEERR_ALLOCATED: return "ALLOCATED";
    default: return "PHONEERR_?";
    }
}

static void fmt_ns(char *buf, size_t len, uint64_t ns)
{
    if (ns < 10000)
        snprintf(buf, len, "%" PRIu64 " ns", ns);
    else if (ns < 10000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else
        snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
}

/* ------------------------------------------------------------ histogram
 *
 * Log-linear (HDR-style): values below 2^HIST_SUB are exact, above that every
 * power of two is split into 2^HIST_SUB linear buckets (relative error below
 * 1/2^HIST_SUB, about 3 %). Fixed size, no allocation per sample. Owned by
 * the reader thread; read by main after the reader has been joined. */
#define HIST_SUB 5
#define HIST_BUCKETS ((64 - HIST_SUB + 1) << HIST_SUB)

struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t bucket[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
    if (v < (1u << HIST_SUB))
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - HIST_SUB;
    return ((shift + 1u) << HIST_SUB) + (unsigned)((v >> shift) - (1u << HIST_SUB));
}

/* The middle of bucket @i. */
static uint64_t hist_value(unsigned i)
{
    if (i < (2u << HIST_SUB))
        return i;
    unsigned shift = (i >> HIST_SUB) - 1u;
    uint64_t low = ((uint64_t)(i & ((1u << HIST_SUB) - 1u)) + (1u << HIST_SUB)) << shift;
    return low + (((uint64_t)1 << shift) >> 1);
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->bucket[hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

static uint64_t hist_quantile(const struct hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen > rank) {
            uint64_t v = hist_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

/* ------------------------------------------------------------ the demo */

struct options {
    unsigned threads;
    unsigned seconds;
    unsigned consoles;
    unsigned long rate; /* requests/s over all issuing threads; 0: as fast as possible */
    unsigned reap;      /* messages per reap: 1 phoneGetMessage, more tapiq_get_messages */
    const char *extra; /* more configuration keys, appended */
    unsigned long fail_ppm;
    unsigned long offline;
    unsigned presses;  /* Ready presses/s over all operators; 0: no operators */
};

/* Issue times by request id.
 *
 * A reply may be reaped before phoneSetLamp has returned its id to the
 * issuing thread, and a ring position (hence an id) may be reused
 * while the reply of its previous use still waits in the message queue. So
 * the table is keyed by the full id: an entry is one 64-bit word, (id << 32)
 * | issue time in 16 ns units (0 = free). Issuers claim a free word in a
 * small window after hash(id) with a CAS; the reader (the only one that
 * frees words) finds the id in the same window. A reply whose id is not there
 * yet is parked in the reader's deferred list and matched later; one that
 * never matches is a duplicate or unknown reply. Table size: 256 K entries, above the
 * requests in flight, so the window is practically never full. */
#define TRACK_WINDOW 16

/* Ids of different rings share their low bits: spread them. */
static inline uint32_t track_hash(uint32_t id)
{
    return (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 32);
}
#define TIME_SHIFT 4
#define DEFER_MAX 65536

struct issuer;

struct demo {
    struct options opt;
    HPHONEAPP app;
    HPHONE *phones;     /* per console */
    uint32_t consoles;
    uint32_t lamps;     /* per console, in the busy-lamp field */
    uint32_t base;      /* the field's first position (1: the Ready button is at 0) */
    uint32_t alamps;    /* agent lamps per console (= agents per team) */
    uint32_t qlamps;    /* queue lamps per console (= queues per team) */
    uint32_t teams;
    uint8_t *expected;  /* [console * lamps + lamp]: last accepted mode; one writer per lamp */
    _Atomic uint64_t *track;
    uint32_t track_mask;
    uint64_t t0;        /* mono_ns() at start */
    struct issuer *issuers;

    alignas(64) atomic_bool stop_issuing;
    atomic_bool stop_reader;
    _Atomic uint64_t track_full; /* times an issuer found its window full */

    /* Reader side: written by the reader, read by main (relaxed) for progress. */
    alignas(64) _Atomic uint64_t replies;
    _Atomic uint64_t replies_ok;
    _Atomic uint64_t replies_expected_err; /* OPERATIONFAILED under fail_ppm */
    _Atomic uint64_t replies_bad;          /* any other error in a reply */
    LONG first_bad_reply;
    uint64_t other_messages;
    _Atomic LONG reader_error;  /* phoneGetMessage failed (not a timeout) */
    uint64_t deferred_total;
    uint64_t defer_overflow;
    uint32_t ndefer;
    uint32_t *defer_id;
    uint32_t *defer_t;
    struct hist lat;
};

struct issuer {
    alignas(64) _Atomic uint64_t accepted;
    _Atomic uint64_t backpressure; /* RESOURCEUNAVAIL, retried */
    _Atomic uint64_t events;       /* simulated agent / queue changes */
    uint64_t rejected_expected;    /* INVALPHONESTATE on an offline console */
    uint64_t rejected_bad;         /* any other synchronous error */
    LONG first_bad;
    uint64_t stuck;                /* requests abandoned after the stop (never accepted) */
    uint64_t sent;                 /* phoneSetLamp requests made (for --rate) */
    struct demo *d;
    unsigned index;
    pthread_t tid;
    uint64_t rng;
    uint32_t nteams;    /* teams owned: index, index + threads, ... */
    uint8_t *agent;     /* [owned team * alamps + agent]: enum agent_state */
    uint8_t *waiting;   /* [owned team * qlamps + queue]: calls waiting */
};

enum agent_state { AG_IDLE, AG_RINGING, AG_TALKING, AG_HOLD, AG_WRAPUP, AG_AWAY };

static const DWORD agent_lamp[] = {
    [AG_IDLE] = PHONELAMPMODE_OFF,       [AG_RINGING] = PHONELAMPMODE_FLASH,
    [AG_TALKING] = PHONELAMPMODE_STEADY, [AG_HOLD] = PHONELAMPMODE_WINK,
    [AG_WRAPUP] = PHONELAMPMODE_FLUTTER, [AG_AWAY] = PHONELAMPMODE_BROKENFLUTTER,
};

static uint32_t now32(const struct demo *d)
{
    return (uint32_t)((mono_ns() - d->t0) >> TIME_SHIFT);
}

static void track_insert(struct demo *d, uint32_t id, uint32_t t_issue)
{
    uint64_t want = ((uint64_t)id << 32) | t_issue;
    for (;;) {
        for (uint32_t k = 0; k < TRACK_WINDOW; k++) {
            _Atomic uint64_t *e = &d->track[(track_hash(id) + k) & d->track_mask];
            uint64_t cur = atomic_load_explicit(e, memory_order_relaxed);
            /* release: pairs with the acquire load in track_take() */
            if (cur == 0 && atomic_compare_exchange_strong_explicit(
                                e, &cur, want, memory_order_release, memory_order_relaxed))
                return;
        }
        atomic_fetch_add_explicit(&d->track_full, 1, memory_order_relaxed);
        sched_yield(); /* the reader frees words as replies come in */
    }
}

/* Reader only. */
static bool track_take(struct demo *d, uint32_t id, uint32_t *t_issue)
{
    for (uint32_t k = 0; k < TRACK_WINDOW; k++) {
        _Atomic uint64_t *e = &d->track[(track_hash(id) + k) & d->track_mask];
        /* acquire: pairs with the release CAS in track_insert() */
        uint64_t cur = atomic_load_explicit(e, memory_order_acquire);
        if (cur != 0 && (uint32_t)(cur >> 32) == id) {
            *t_issue = (uint32_t)cur;
            /* release: the issuer's CAS that reuses the word needs nothing
             * from us but the free word itself; release keeps it simple. */
            atomic_store_explicit(e, 0, memory_order_release);
            return true;
        }
    }
    return false;
}

static uint64_t latency_ns(uint32_t t_issue, uint32_t t_reply)
{
    return (uint64_t)(uint32_t)(t_reply - t_issue) << TIME_SHIFT;
}

/* ------------------------------------------------------------ issuers */

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
        uint32_t t = now32(d);
        LONG rc = phoneSetLamp(d->phones[console], d->base + lamp, mode);
        if (rc > 0) {
            track_insert(d, (uint32_t)rc, t);
            d->expected[(size_t)console * d->lamps + lamp] = (uint8_t)mode;
            atomic_fetch_add_explicit(&me->accepted, 1, memory_order_relaxed);
            return;
        }
        if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL) {
            atomic_fetch_add_explicit(&me->backpressure, 1, memory_order_relaxed);
            if (++tries < 16) {
                sched_yield();
            } else {
                sleep_ns(20000);
                if (atomic_load_explicit(&d->stop_issuing, memory_order_relaxed)) {
                    uint64_t now = mono_ns();
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

static void *issuer_main(void *arg)
{
    struct issuer *me = arg;
    struct demo *d = me->d;
    unsigned threads = d->opt.threads;
    /* --rate: this thread's share, as nanoseconds per request. */
    double ns_per_req = d->opt.rate ? 1e9 * threads / (double)d->opt.rate : 0;
    uint64_t t_start = mono_ns();

    while (me->nteams > 0 && !atomic_load_explicit(&d->stop_issuing, memory_order_relaxed)) {
        if (ns_per_req > 0) {
            uint64_t due = t_start + (uint64_t)(ns_per_req * (double)me->sent), now = mono_ns();
            if (due > now + 50000)
                sleep_ns(due - now);
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

/* ------------------------------------------------------------ reader */

static void reader_retry_deferred(struct demo *d)
{
    uint32_t i = 0;
    while (i < d->ndefer) {
        uint32_t t_issue;
        if (track_take(d, d->defer_id[i], &t_issue)) {
            hist_add(&d->lat, latency_ns(t_issue, d->defer_t[i]));
            d->ndefer--;
            d->defer_id[i] = d->defer_id[d->ndefer];
            d->defer_t[i] = d->defer_t[d->ndefer];
        } else {
            i++;
        }
    }
}

static void reader_reply(struct demo *d, uint32_t id, LONG result)
{
    uint32_t t_reply = now32(d);
    if (result == 0)
        atomic_fetch_add_explicit(&d->replies_ok, 1, memory_order_relaxed);
    else if (result == (LONG)PHONEERR_OPERATIONFAILED && d->opt.fail_ppm > 0)
        atomic_fetch_add_explicit(&d->replies_expected_err, 1, memory_order_relaxed);
    else if (atomic_fetch_add_explicit(&d->replies_bad, 1, memory_order_relaxed) == 0)
        d->first_bad_reply = result;
    atomic_fetch_add_explicit(&d->replies, 1, memory_order_relaxed);

    uint32_t t_issue;
    if (track_take(d, id, &t_issue)) {
        hist_add(&d->lat, latency_ns(t_issue, t_reply));
        return;
    }
    /* The issuer has not recorded the id yet (the reply overtook the return
     * of phoneSetLamp), or this is a duplicate: park it. */
    d->deferred_total++;
    if (d->ndefer == DEFER_MAX)
        reader_retry_deferred(d);
    if (d->ndefer == DEFER_MAX) {
        d->defer_overflow++;
        return;
    }
    d->defer_id[d->ndefer] = id;
    d->defer_t[d->ndefer] = t_reply;
    d->ndefer++;
}

#define REAP_MAX 256

static void *reader_main(void *arg)
{
    struct demo *d = arg;
    unsigned since_retry = 0;
    bool stopping = false;
    PHONEMESSAGE msgs[REAP_MAX];
    for (;;) {
        /* After the stop, one last short wait catches stray (duplicate) replies. */
        DWORD timeout = stopping ? 200 : 20;
        LONG rc, n = 1;
        if (d->opt.reap > 1) {
            rc = n = tapiq_get_messages(d->app, msgs, d->opt.reap, timeout);
            if (rc > 0)
                rc = 0;
        } else {
            rc = phoneGetMessage(d->app, &msgs[0], timeout);
        }
        if (rc == 0) {
            for (LONG i = 0; i < n; i++) {
                if (msgs[i].dwMessageID == PHONE_REPLY)
                    reader_reply(d, (uint32_t)msgs[i].dwParam1, (LONG)msgs[i].dwParam2);
                else
                    d->other_messages++;
            }
            since_retry += (unsigned)n;
            if (d->ndefer > 0 && since_retry >= 256) {
                since_retry = 0;
                reader_retry_deferred(d);
            }
            continue;
        }
        if (rc != (LONG)PHONEERR_OPERATIONFAILED) { /* not a timeout */
            atomic_store_explicit(&d->reader_error, rc, memory_order_relaxed);
            break;
        }
        if (d->ndefer > 0)
            reader_retry_deferred(d);
        if (stopping)
            break;
        if (atomic_load_explicit(&d->stop_reader, memory_order_acquire))
            stopping = true;
    }
    reader_retry_deferred(d);
    return NULL;
}

/* ------------------------------------------------------------ setup */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tapiq-demo [--threads N] [--seconds S] [--consoles N] [--rate R] [--config KEYS]\n"
            "  --threads N   issuing threads (default 4)\n"
            "  --seconds S   how long to issue (default 10)\n"
            "  --consoles N  consoles, the `devices` key (default 500)\n"
            "  --rate R      requests/s over all threads (default 0: as fast as possible;\n"
            "                then the request queue stays full and latency is queueing)\n"
            "  --reap N      reap up to N messages per call with tapiq_get_messages\n"
            "                (default 1: one phoneGetMessage per message; at most 256)\n"
            "  --presses P   operators' Ready presses/s over all consoles, answered\n"
            "                with the Ready lamp (default 20; 0: no operators; with another\n"
            "                backend than mem the consoles press, the demo answers)\n"
            "  --config KEYS more configuration keys, e.g. fail_ppm=100,latency_us=50\n"
            "                (a backend key replaces mem: backend=mqtt,url=mqtt://HOST:PORT)\n"
            "                (OPERATIONFAILED replies are expected when fail_ppm > 0,\n"
            "                INVALPHONESTATE when offline > 0)\n");
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* The value of @key in a key=value,... list (for the demo's expectations;
 * tapiq validates the list itself). */
static unsigned long config_value(const char *list, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = list; p && *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            return strtoul(p + klen + 1, NULL, 10);
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return 0;
}

/* Whether @key is given in a key=value,... list. */
static bool config_has(const char *list, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = list; p && *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            return true;
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){
        .threads = 4, .seconds = 10, .consoles = 500, .reap = 1, .extra = "", .presses = 20};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tapiq-demo: %s needs a value\n", a);
            return -1;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--config") == 0) {
            o->extra = val;
            continue;
        }
        if (!parse_uint(val, 1000000000, &v)) {
            fprintf(stderr, "tapiq-demo: bad value for %s: %s\n", a, val);
            return -1;
        }
        if (strcmp(a, "--threads") == 0 && v >= 1 && v <= 256)
            o->threads = (unsigned)v;
        else if (strcmp(a, "--seconds") == 0 && v >= 1 && v <= 86400)
            o->seconds = (unsigned)v;
        else if (strcmp(a, "--consoles") == 0 && v >= 1 && v <= 1048576)
            o->consoles = (unsigned)v;
        else if (strcmp(a, "--rate") == 0)
            o->rate = v;
        else if (strcmp(a, "--reap") == 0 && v >= 1 && v <= REAP_MAX)
            o->reap = (unsigned)v;
        else if (strcmp(a, "--presses") == 0 && v <= 100000)
            o->presses = (unsigned)v;
        else {
            fprintf(stderr, "tapiq-demo: unknown option or value out of range: %s %s\n", a, val);
            return -1;
        }
    }
    o->fail_ppm = config_value(o->extra, "fail_ppm");
    o->offline = config_value(o->extra, "offline");
    return 0;
}

static int open_consoles(struct demo *d, DWORD numdevs)
{
    if (numdevs < d->opt.consoles) {
        fprintf(stderr, "tapiq-demo: %u devices, %u consoles wanted\n", (unsigned)numdevs,
                d->opt.consoles);
        return -1;
    }
    d->consoles = d->opt.consoles;
    d->phones = calloc(d->consoles, sizeof(*d->phones));
    if (!d->phones)
        return -1;
    for (uint32_t c = 0; c < d->consoles; c++) {
        DWORD ver = 0;
        PHONEEXTENSIONID ext;
        LONG rc = phoneNegotiateAPIVersion(d->app, c, TAPI_VERSION1_4, TAPI_VERSION2_2, &ver, &ext);
        if (rc == 0)
            rc = phoneOpen(d->app, c, &d->phones[c], ver, 0, (DWORD_PTR)c, PHONEPRIVILEGE_OWNER);
        if (rc != 0) {
            fprintf(stderr, "tapiq-demo: console %u: %s (0x%08" PRIx32 ")\n", (unsigned)c,
                    phoneerr_name(rc), (uint32_t)rc);
            return -1;
        }
    }
    /* Lamps per console, from the first console's capabilities (the fixed
     * part is enough for dwNumButtonLamps). */
    PHONECAPS caps;
    memset(&caps, 0, sizeof(caps));
    caps.dwTotalSize = sizeof(caps);
    LONG rc = phoneGetDevCaps(d->app, 0, TAPI_VERSION2_2, 0, &caps);
    if (rc != 0) {
        fprintf(stderr, "tapiq-demo: phoneGetDevCaps: %s\n", phoneerr_name(rc));
        return -1;
    }
    d->lamps = caps.dwNumButtonLamps - (caps.dwNumButtonLamps ? d->base : 0);
    if (d->lamps == 0 || d->lamps > 256) {
        fprintf(stderr, "tapiq-demo: consoles have %u lamps; 1..256 wanted\n", (unsigned)d->lamps);
        return -1;
    }
    d->qlamps = d->lamps >= 2 * QUEUE_LAMPS ? QUEUE_LAMPS : 0;
    d->alamps = d->lamps - d->qlamps;
    d->teams = d->consoles >= TEAM_CONSOLES ? d->consoles / TEAM_CONSOLES : 1;
    return 0;
}

static int alloc_state(struct demo *d)
{
    uint32_t track_size = 1;
    while (track_size < DEMO_TRACK)
        track_size <<= 1;
    d->track_mask = track_size - 1;
    d->track = calloc(track_size, sizeof(*d->track));
    d->expected = malloc((size_t)d->consoles * d->lamps);
    d->defer_id = malloc(DEFER_MAX * sizeof(*d->defer_id));
    d->defer_t = malloc(DEFER_MAX * sizeof(*d->defer_t));
    d->issuers = calloc(d->opt.threads, sizeof(*d->issuers));
    if (!d->track || !d->expected || !d->defer_id || !d->defer_t || !d->issuers)
        return -1;
    for (uint32_t i = 0; i < track_size; i++)
        atomic_init(&d->track[i], 0);
    memset(d->expected, PHONELAMPMODE_OFF, (size_t)d->consoles * d->lamps); /* mem lamps start OFF */
    for (unsigned i = 0; i < d->opt.threads; i++) {
        struct issuer *is = &d->issuers[i];
        is->d = d;
        is->index = i;
        is->rng = 0x9E3779B97F4A7C15ull * (i + 1) ^ (uint64_t)d->t0;
        if (is->rng == 0)
            is->rng = 1;
        atomic_init(&is->accepted, 0);
        atomic_init(&is->backpressure, 0);
        atomic_init(&is->events, 0);
        is->nteams = i < d->teams ? (d->teams - i + d->opt.threads - 1) / d->opt.threads : 0;
        is->agent = calloc((size_t)is->nteams * d->alamps + 1, 1);      /* AG_IDLE = OFF */
        is->waiting = calloc((size_t)is->nteams * d->qlamps + 1, 1);    /* empty = OFF */
        if (!is->agent || !is->waiting)
            return -1;
    }
    return 0;
}

struct totals {
    uint64_t accepted, backpressure, events, rejected_expected, rejected_bad, stuck;
    LONG first_bad;
};

static struct totals sum_issuers(const struct demo *d)
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
static void sum_issuers_final(const struct demo *d, struct totals *t)
{
    *t = sum_issuers(d);
    for (unsigned i = 0; i < d->opt.threads; i++) {
        struct issuer *is = &d->issuers[i];
        t->rejected_expected += is->rejected_expected;
        if (is->rejected_bad && !t->rejected_bad)
            t->first_bad = is->first_bad;
        t->rejected_bad += is->rejected_bad;
        t->stuck += is->stuck;
    }
}

/* Compare every lamp with the last mode accepted for it. Returns mismatches. */
static uint64_t check_lamps(struct demo *d, uint64_t *checked)
{
    uint64_t bad = 0;
    uint32_t online = d->consoles > d->opt.offline ? d->consoles - (uint32_t)d->opt.offline : 0;
    *checked = 0;
    for (uint32_t c = 0; c < online; c++) {
        for (uint32_t l = 0; l < d->lamps; l++) {
            DWORD mode = 0;
            LONG rc = phoneGetLamp(d->phones[c], d->base + l, &mode);
            DWORD want = d->expected[(size_t)c * d->lamps + l];
            (*checked)++;
            if (rc != 0 || mode != want) {
                if (bad++ < 5)
                    fprintf(stderr,
                            "tapiq-demo: console %u lamp %u: phoneGetLamp %s mode 0x%02x, "
                            "last request 0x%02x\n",
                            (unsigned)c, (unsigned)l, phoneerr_name(rc), (unsigned)mode,
                            (unsigned)want);
            }
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    static struct demo demo; /* large (histogram): not on the stack */
    struct demo *d = &demo;
    if (parse_options(argc, argv, &d->opt) != 0) {
        usage(stderr);
        return 2;
    }
    d->t0 = mono_ns();

    char config[512];
    /* A backend key in --config replaces mem (tapiq refuses a key given twice). */
    bool own_backend = config_has(d->opt.extra, "backend");
    d->base = d->opt.presses ? 1 : 0; /* the Ready button */
    int n = snprintf(config, sizeof(config), "%sdevices=%u,lamps=%u,workers=%u,queue=%u%s%s%s",
                     own_backend ? "" : "backend=mem,", d->opt.consoles, DEMO_LAMPS + d->base,
                     DEMO_WORKERS, DEMO_QUEUE, d->base ? ",buttons=feature:none:Ready" : "",
                     d->opt.extra[0] ? "," : "", d->opt.extra);
    if (n < 0 || (size_t)n >= sizeof(config)) {
        fprintf(stderr, "tapiq-demo: configuration too long\n");
        return 2;
    }
    if (tapiq_configure(config) != 0) {
        fprintf(stderr, "tapiq-demo: configuration \"%s\": %s\n", config, tapiq_last_error());
        return 2;
    }

    DWORD numdevs = 0, apiver = TAPI_CURRENT_VERSION;
    PHONEINITIALIZEEXPARAMS params;
    memset(&params, 0, sizeof(params));
    params.dwTotalSize = sizeof(params);
    params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT; /* we reap with phoneGetMessage */
    LONG rc = phoneInitializeEx(&d->app, NULL, NULL, "tapiq-demo", &numdevs, &apiver, &params);
    if (rc != 0) {
        fprintf(stderr, "tapiq-demo: phoneInitializeEx: %s (0x%08" PRIx32 ") %s\n",
                phoneerr_name(rc), (uint32_t)rc, tapiq_last_error());
        return 2;
    }
    if (open_consoles(d, numdevs) != 0 || alloc_state(d) != 0) {
        fprintf(stderr, "tapiq-demo: setup failed\n");
        phoneShutdown(d->app);
        return 2;
    }

    char rate[48] = "as fast as possible";
    if (d->opt.rate)
        snprintf(rate, sizeof(rate), "%lu requests/s", d->opt.rate);
    char reap[48] = "phoneGetMessage";
    if (d->opt.reap > 1)
        snprintf(reap, sizeof(reap), "tapiq_get_messages x%u", d->opt.reap);
    printf("tapiq-demo: %u consoles x %u lamps (%u agent, %u queue), %u teams, "
           "%u issuing threads, %u s, %s, reaping with %s\n  config: %s\n",
           (unsigned)d->consoles, (unsigned)d->lamps, (unsigned)d->alamps, (unsigned)d->qlamps,
           (unsigned)d->teams, d->opt.threads, d->opt.seconds, rate, reap, config);
    if (d->opt.threads > d->teams)
        printf("  note: %u teams for %u threads: %u threads stay idle\n", (unsigned)d->teams,
               d->opt.threads, d->opt.threads - (unsigned)d->teams);
    fflush(stdout);

    atomic_init(&d->stop_issuing, false);
    atomic_init(&d->stop_reader, false);
    pthread_t reader;
    if (pthread_create(&reader, NULL, reader_main, d) != 0) {
        fprintf(stderr, "tapiq-demo: cannot start the reader thread\n");
        return 2;
    }
    struct demo_ops *ops = NULL;
    if (d->opt.presses) {
        uint32_t online = d->consoles > d->opt.offline ? d->consoles - (uint32_t)d->opt.offline : 0;
        /* With another backend than mem the operators are the consoles
         * themselves (their presses arrive through the backend): rate 0. */
        ops = online ? demo_ops_start(online, own_backend ? 0 : d->opt.presses) : NULL;
        if (online && !ops) {
            fprintf(stderr, "tapiq-demo: cannot start the operators\n");
            return 2;
        }
    }
    unsigned started = 0;
    uint64_t t_begin = mono_ns();
    for (; started < d->opt.threads; started++)
        if (pthread_create(&d->issuers[started].tid, NULL, issuer_main, &d->issuers[started]) != 0)
            break;
    if (started < d->opt.threads) {
        fprintf(stderr, "tapiq-demo: started only %u issuing threads\n", started);
        d->opt.threads = started;
    }

    /* Progress, once a second. */
    uint64_t last_acc = 0, last_rep = 0;
    for (unsigned s = 1; s <= d->opt.seconds; s++) {
        uint64_t due = t_begin + (uint64_t)s * 1000000000ull, now = mono_ns();
        if (due > now)
            sleep_ns(due - now);
        struct totals t = sum_issuers(d);
        uint64_t rep = atomic_load_explicit(&d->replies, memory_order_relaxed);
        tapiq_stats st;
        memset(&st, 0, sizeof(st));
        tapiq_get_stats(&st, sizeof(st));
        printf("[%3us] %9" PRIu64 " requests/s  %9" PRIu64 " replies/s  replies %11" PRIu64
               "  in flight %6" PRIu64 "  backpressure %9" PRIu64 "  coalesced %10" PRIu64 "\n",
               s, t.accepted - last_acc, rep - last_rep, rep,
               t.accepted > rep ? t.accepted - rep : 0, t.backpressure, st.updates_coalesced);
        fflush(stdout);
        last_acc = t.accepted;
        last_rep = rep;
    }
    atomic_store_explicit(&d->stop_issuing, true, memory_order_relaxed);
    for (unsigned i = 0; i < d->opt.threads; i++)
        pthread_join(d->issuers[i].tid, NULL);
    uint64_t t_issue_end = mono_ns();
    struct demo_ops_result opr;
    memset(&opr, 0, sizeof(opr));
    if (ops)
        demo_ops_stop(ops, &opr);

    /* Drain: every accepted request must get its reply. */
    struct totals tot;
    sum_issuers_final(d, &tot);
    uint64_t last_progress = mono_ns(), seen = 0;
    for (;;) {
        uint64_t rep = atomic_load_explicit(&d->replies, memory_order_relaxed);
        if (rep >= tot.accepted || atomic_load_explicit(&d->reader_error, memory_order_relaxed))
            break;
        if (rep != seen) {
            seen = rep;
            last_progress = mono_ns();
        } else if (mono_ns() - last_progress > DRAIN_IDLE_NS) {
            fprintf(stderr, "tapiq-demo: no reply for 10 s, %" PRIu64 " still missing\n",
                    tot.accepted - rep);
            break;
        }
        sleep_ns(1000000);
    }
    uint64_t t_drained = mono_ns();
    /* release: the reader's acquire load sees the stop after our reads */
    atomic_store_explicit(&d->stop_reader, true, memory_order_release);
    pthread_join(reader, NULL);

    tapiq_stats st;
    memset(&st, 0, sizeof(st));
    int stats_rc = tapiq_get_stats(&st, sizeof(st));

    uint64_t checked = 0, mismatched = 0;
    bool check_state = d->opt.fail_ppm == 0;
    if (check_state)
        mismatched = check_lamps(d, &checked);

    uint64_t untracked = 0; /* accepted requests whose reply never came */
    for (uint32_t i = 0; i <= d->track_mask; i++)
        if (atomic_load_explicit(&d->track[i], memory_order_relaxed) != 0)
            untracked++;

    for (uint32_t c = 0; c < d->consoles; c++)
        phoneClose(d->phones[c]);
    LONG shut = phoneShutdown(d->app);

    /* ---- summary */
    uint64_t replies = atomic_load_explicit(&d->replies, memory_order_relaxed);
    uint64_t ok = atomic_load_explicit(&d->replies_ok, memory_order_relaxed);
    uint64_t experr = atomic_load_explicit(&d->replies_expected_err, memory_order_relaxed);
    uint64_t bad = atomic_load_explicit(&d->replies_bad, memory_order_relaxed);
    double secs = (double)(t_issue_end - t_begin) / 1e9;
    char p50[32], p99[32], p999[32], pmax[32], mean[32], drain[32];
    fmt_ns(p50, sizeof(p50), hist_quantile(&d->lat, 0.50));
    fmt_ns(p99, sizeof(p99), hist_quantile(&d->lat, 0.99));
    fmt_ns(p999, sizeof(p999), hist_quantile(&d->lat, 0.999));
    fmt_ns(pmax, sizeof(pmax), d->lat.max);
    fmt_ns(mean, sizeof(mean), d->lat.count ? d->lat.sum / d->lat.count : 0);
    fmt_ns(drain, sizeof(drain), t_drained - t_issue_end);

    printf("\nsummary\n");
    printf("  requests accepted     %" PRIu64 " in %.2f s: %.0f requests/s (%" PRIu64
           " agent/queue events)\n",
           tot.accepted, secs, (double)tot.accepted / secs, tot.events);
    printf("  replies               %" PRIu64 " (ok %" PRIu64 ", expected errors %" PRIu64
           ", unexpected errors %" PRIu64 "%s%s), drained in %s\n",
           replies, ok, experr, bad, bad ? ", first " : "", bad ? phoneerr_name(d->first_bad_reply) : "",
           drain);
    printf("  issue->reply latency  p50 %s  p99 %s  p99.9 %s  max %s  mean %s  (%" PRIu64
           " samples)\n",
           p50, p99, p999, pmax, mean, d->lat.count);
    if (stats_rc == 0)
        printf("  updates coalesced     %" PRIu64 " (applied %" PRIu64 " in %" PRIu64
               " batches, failed %" PRIu64 ", worker sleeps %" PRIu64 ", request slots hwm %" PRIu64
               "/%" PRIu64 ")\n",
               st.updates_coalesced, st.updates_applied, st.batches, st.updates_failed,
               st.worker_sleeps, st.requests_hwm, st.requests_capacity);
    else
        printf("  updates coalesced     ? (tapiq_get_stats failed: %d)\n", stats_rc);
    printf("  backpressure          %" PRIu64 " RESOURCEUNAVAIL, all retried (none dropped)\n",
           tot.backpressure);
    printf("  synchronous errors    %" PRIu64 " expected (offline consoles), %" PRIu64
           " unexpected%s%s\n",
           tot.rejected_expected, tot.rejected_bad, tot.rejected_bad ? ", first " : "",
           tot.rejected_bad ? phoneerr_name(tot.first_bad) : "");
    if (check_state)
        printf("  lamp state            %" PRIu64 " lamps checked with phoneGetLamp, %" PRIu64
               " differ from the last request\n",
               checked, mismatched);
    else
        printf("  lamp state            not checked (fail_ppm > 0)\n");
    if (ops)
        printf("  operators             %" PRIu64 " Ready presses on %u consoles (%" PRIu64
               " refused for room), %" PRIu64 " answered with %" PRIu64 " lamp requests (%" PRIu64
               " replied); %u ready at the end, %u Ready lamps differ\n",
               opr.presses, (unsigned)opr.consoles, opr.refused, opr.answered, opr.lamp_sets,
               opr.lamp_replies, (unsigned)opr.ready, (unsigned)opr.mismatched);

    /* ---- verdict */
    int failed = 0;
#define DEMO_FAIL(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "tapiq-demo: FAIL: " __VA_ARGS__);                                         \
        failed = 1;                                                                                \
    } while (0)
    if (tot.accepted == 0)
        DEMO_FAIL("no request was accepted\n");
    if (replies < tot.accepted || untracked)
        DEMO_FAIL("%" PRIu64 " accepted requests got no reply\n",
                  untracked > tot.accepted - replies ? untracked : tot.accepted - replies);
    if (d->ndefer)
        DEMO_FAIL("%u replies for unknown or already answered request ids\n", (unsigned)d->ndefer);
    if (replies > tot.accepted)
        DEMO_FAIL("%" PRIu64 " more replies than accepted requests\n", replies - tot.accepted);
    if (bad)
        DEMO_FAIL("%" PRIu64 " replies with an unexpected error (first %s)\n", bad,
                  phoneerr_name(d->first_bad_reply));
    if (tot.rejected_bad)
        DEMO_FAIL("%" PRIu64 " phoneSetLamp calls failed unexpectedly (first %s)\n",
                  tot.rejected_bad, phoneerr_name(tot.first_bad));
    if (tot.stuck)
        DEMO_FAIL("%" PRIu64 " requests still refused (RESOURCEUNAVAIL) 10 s after the stop\n",
                  tot.stuck);
    if (mismatched)
        DEMO_FAIL("%" PRIu64 " lamps differ from their last request\n", mismatched);
    LONG reader_error = atomic_load_explicit(&d->reader_error, memory_order_relaxed);
    if (reader_error)
        DEMO_FAIL("phoneGetMessage failed: %s\n", phoneerr_name(reader_error));
    if (d->defer_overflow)
        DEMO_FAIL("%" PRIu64 " replies could not be matched (deferred list full)\n",
                  d->defer_overflow);
    if (opr.failed && d->opt.fail_ppm == 0)
        DEMO_FAIL("operators: %" PRIu64 " presses, %" PRIu64 " answered, %" PRIu64
                  " lamp requests, %" PRIu64 " replies, %" PRIu64 " errors, %u lamps differ\n",
                  opr.presses, opr.answered, opr.lamp_sets, opr.lamp_replies, opr.lamp_errors,
                  (unsigned)opr.mismatched);
    if (d->other_messages)
        printf("  other messages        %" PRIu64 " (not PHONE_REPLY)\n", d->other_messages);
    if (shut != 0)
        DEMO_FAIL("phoneShutdown: %s\n", phoneerr_name(shut));
    printf("result: %s\n", failed ? "FAIL" : "OK (every accepted request got exactly one reply)");

    for (unsigned i = 0; i < d->opt.threads; i++) {
        free(d->issuers[i].agent);
        free(d->issuers[i].waiting);
    }
    free(d->issuers);
    free(d->defer_id);
    free(d->defer_t);
    free(d->expected);
    free((void *)d->track);
    free(d->phones);
    return failed;
}
