/* tools/demo.h - tapiq-demo's shared state: options, the demo, its issuers, the latency
 * histogram, and the functions the demo's files call across (tools/demo.c: the overview).
 */
#ifndef TAPIQ_TOOLS_DEMO_H
#define TAPIQ_TOOLS_DEMO_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

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
#define DEFER_MAX 65536       /* the reader's deferred replies */
#define REAP_MAX 256          /* messages per reap at most (--reap) */

/* The latency histogram (demo_reader.c).
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
    uint64_t t0;        /* demo_mono_ns() at start */
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

struct totals {
    uint64_t accepted, backpressure, events, rejected_expected, rejected_bad, stuck;
    LONG first_bad;
};

/* demo_util.c */
uint64_t demo_mono_ns(void);
void demo_sleep_ns(uint64_t ns);
const char *demo_phoneerr_name(LONG e);

/* demo_setup.c: options, consoles, state */
void demo_usage(FILE *f);
int demo_parse_options(int argc, char **argv, struct options *o);
bool demo_config_has(const char *list, const char *key);
int demo_open_consoles(struct demo *d, DWORD numdevs);
int demo_alloc_state(struct demo *d);

/* demo_issue.c: the issuing threads */
void *demo_issuer_main(void *arg);
struct totals demo_sum_issuers(const struct demo *d);
void demo_sum_issuers_final(const struct demo *d, struct totals *t);

/* demo_reader.c: the issue-time table, the histogram, the reader thread */
uint32_t demo_now32(const struct demo *d);
void demo_track_insert(struct demo *d, uint32_t id, uint32_t t_issue);
uint64_t demo_hist_quantile(const struct hist *h, double q);
void *demo_reader_main(void *arg);

#endif /* TAPIQ_TOOLS_DEMO_H */
