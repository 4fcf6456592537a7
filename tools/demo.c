/* tools/demo.c - tapiq-demo, a call-center simulation on the mem backend: main.
 *
 * main sets up, starts the threads, prints the progress, drains, checks and
 * prints the summary and the verdict. The other files: demo_setup.c (options,
 * consoles, state), demo_issue.c (the issuing threads), demo_reader.c (the
 * issue-time table, the latency histogram, the reader thread), demo_util.c (clock,
 * sleep, error names), demo_ops.c (operators and supervisor); demo.h the
 * shared state.
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

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "demo_ops.h"

static void fmt_ns(char *buf, size_t len, uint64_t ns)
{
    if (ns < 10000)
        snprintf(buf, len, "%" PRIu64 " ns", ns);
    else if (ns < 10000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else
        snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
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
                            (unsigned)c, (unsigned)l, demo_phoneerr_name(rc), (unsigned)mode,
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
    if (demo_parse_options(argc, argv, &d->opt) != 0) {
        demo_usage(stderr);
        return 2;
    }
    d->t0 = demo_mono_ns();

    char config[512];
    /* A backend key in --config replaces mem (tapiq refuses a key given twice). */
    bool own_backend = demo_config_has(d->opt.extra, "backend");
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
                demo_phoneerr_name(rc), (uint32_t)rc, tapiq_last_error());
        return 2;
    }
    if (demo_open_consoles(d, numdevs) != 0 || demo_alloc_state(d) != 0) {
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
    if (pthread_create(&reader, NULL, demo_reader_main, d) != 0) {
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
    uint64_t t_begin = demo_mono_ns();
    for (; started < d->opt.threads; started++)
        if (pthread_create(&d->issuers[started].tid, NULL, demo_issuer_main, &d->issuers[started]) != 0)
            break;
    if (started < d->opt.threads) {
        fprintf(stderr, "tapiq-demo: started only %u issuing threads\n", started);
        d->opt.threads = started;
    }

    /* Progress, once a second. */
    uint64_t last_acc = 0, last_rep = 0;
    for (unsigned s = 1; s <= d->opt.seconds; s++) {
        uint64_t due = t_begin + (uint64_t)s * 1000000000ull, now = demo_mono_ns();
        if (due > now)
            demo_sleep_ns(due - now);
        struct totals t = demo_sum_issuers(d);
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
    uint64_t t_issue_end = demo_mono_ns();
    struct demo_ops_result opr;
    memset(&opr, 0, sizeof(opr));
    if (ops)
        demo_ops_stop(ops, &opr);

    /* Drain: every accepted request must get its reply. */
    struct totals tot;
    demo_sum_issuers_final(d, &tot);
    uint64_t last_progress = demo_mono_ns(), seen = 0;
    for (;;) {
        uint64_t rep = atomic_load_explicit(&d->replies, memory_order_relaxed);
        if (rep >= tot.accepted || atomic_load_explicit(&d->reader_error, memory_order_relaxed))
            break;
        if (rep != seen) {
            seen = rep;
            last_progress = demo_mono_ns();
        } else if (demo_mono_ns() - last_progress > DRAIN_IDLE_NS) {
            fprintf(stderr, "tapiq-demo: no reply for 10 s, %" PRIu64 " still missing\n",
                    tot.accepted - rep);
            break;
        }
        demo_sleep_ns(1000000);
    }
    uint64_t t_drained = demo_mono_ns();
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
    fmt_ns(p50, sizeof(p50), demo_hist_quantile(&d->lat, 0.50));
    fmt_ns(p99, sizeof(p99), demo_hist_quantile(&d->lat, 0.99));
    fmt_ns(p999, sizeof(p999), demo_hist_quantile(&d->lat, 0.999));
    fmt_ns(pmax, sizeof(pmax), d->lat.max);
    fmt_ns(mean, sizeof(mean), d->lat.count ? d->lat.sum / d->lat.count : 0);
    fmt_ns(drain, sizeof(drain), t_drained - t_issue_end);

    printf("\nsummary\n");
    printf("  requests accepted     %" PRIu64 " in %.2f s: %.0f requests/s (%" PRIu64
           " agent/queue events)\n",
           tot.accepted, secs, (double)tot.accepted / secs, tot.events);
    printf("  replies               %" PRIu64 " (ok %" PRIu64 ", expected errors %" PRIu64
           ", unexpected errors %" PRIu64 "%s%s), drained in %s\n",
           replies, ok, experr, bad, bad ? ", first " : "", bad ? demo_phoneerr_name(d->first_bad_reply) : "",
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
           tot.rejected_bad ? demo_phoneerr_name(tot.first_bad) : "");
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
                  demo_phoneerr_name(d->first_bad_reply));
    if (tot.rejected_bad)
        DEMO_FAIL("%" PRIu64 " phoneSetLamp calls failed unexpectedly (first %s)\n",
                  tot.rejected_bad, demo_phoneerr_name(tot.first_bad));
    if (tot.stuck)
        DEMO_FAIL("%" PRIu64 " requests still refused (RESOURCEUNAVAIL) 10 s after the stop\n",
                  tot.stuck);
    if (mismatched)
        DEMO_FAIL("%" PRIu64 " lamps differ from their last request\n", mismatched);
    LONG reader_error = atomic_load_explicit(&d->reader_error, memory_order_relaxed);
    if (reader_error)
        DEMO_FAIL("phoneGetMessage failed: %s\n", demo_phoneerr_name(reader_error));
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
        DEMO_FAIL("phoneShutdown: %s\n", demo_phoneerr_name(shut));
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
