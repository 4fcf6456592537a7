/* tools/demo_reader.c - tapiq-demo's reader: the issue-time table, the latency histogram and
 * the thread that reaps the PHONE_REPLY messages. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <sched.h>

#include "demo.h"

/* ------------------------------------------------------------ histogram
 *
 * See struct hist (demo.h). */

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

uint64_t demo_hist_quantile(const struct hist *h, double q)
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

uint32_t demo_now32(const struct demo *d)
{
    return (uint32_t)((demo_mono_ns() - d->t0) >> TIME_SHIFT);
}

void demo_track_insert(struct demo *d, uint32_t id, uint32_t t_issue)
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
        /* acquire: pairs with the release CAS in demo_track_insert() */
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
    uint32_t t_reply = demo_now32(d);
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

void *demo_reader_main(void *arg)
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
