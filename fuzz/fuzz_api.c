/* fuzz/fuzz_api.c - sequences of TAPI calls against a model of the contract
 * (TAPI.md / include/tapiq/tapi.h).
 *
 * The input picks a small configuration (devices, lamps, workers, queue,
 * threads, events, fail_ppm, offline, latency) and then a sequence of calls
 * across up to four applications (polled, USEEVENT, callback) and their
 * handles (valid, closed, forged): initialize, open (owner / monitor / bad),
 * close, set / get lamp with any ids and modes, status filters, status,
 * caps, message retrieval, shutdown, reconfiguration, worker rounds, the
 * other asynchronous setters (fuzz/fuzz_api_setters.c). One
 * thread issues the calls, so issue order is the program order; now and then
 * a burst of phoneSetLamp runs on a short-lived second thread (joined before
 * the next call), which takes a pool slot of its own or, with threads=1, the
 * shared multi-producer ring, and gives its slot back when it exits.
 *
 * Two ways to run the workers:
 *  - thread-free (default): runtimes start with no worker thread
 *    (tapiq_rt_manual) and the input decides when a worker round runs
 *    (tapiq_rt_step) and how many devices it takes, so the interleaving of
 *    requests, closes, shutdowns and batches is the input's and every run of
 *    an input is the same; a reply that is not there once nothing is left
 *    to step is lost. Fast enough for 10^7 executions.
 *  - threaded (TAPIQ_FUZZ_THREADS=1 in the environment; the corpus replays
 *    this way too, also under TSan): the library's own workers run
 *    concurrently, rounds in the input only yield, and replies are
 *    collected by draining with bounded waits.
 *
 * Checked as it goes (abort() on violation):
 *  - every return is the documented one; phoneSetLamp's errors follow the
 *    documented precedence exactly; RESOURCEUNAVAIL only when the calling
 *    thread's ring to the device's worker may hold `queue` (rounded up)
 *    positions not yet given back (see ring_held()), and always when it
 *    surely does (thread-free: requests since the last round);
 *  - every positive request id is in 1..0x7FFFFFFF and differs from every
 *    request still in flight; it gets exactly one PHONE_REPLY (status 0 or
 *    OPERATIONFAILED, 0 when fail_ppm is 0), to the right handle and
 *    callback instance, unless its handle closed first (then none);
 *    replies of one application for one device and one issuing ring come
 *    in issue order;
 *  - a worker holds a reply back only when the application's completion
 *    queue can be full: thread-free, once no round has work left, the stats'
 *    in_flight counts no more requests than those;
 *  - tapiq_rt_step: -ENODEV without a runtime, 0 when nothing can be left
 *    to do, > 0 when requests wait in a ring;
 *  - PHONE_STATE OWNER / MONITORS only for a handle that asked for them,
 *    with the count when a polled application reads it; HANDSETHOOKSWITCH
 *    after the operator lifts or replaces the handset (op_hook), with the
 *    mode, never lost;
 *  - PHONE_BUTTON from the operator (op_press, fuzz_api_events.c): exactly
 *    the predicted ones, in order, per handle of a polled application, and
 *    -ENOBUFS / button_overruns exactly when a press finds no room;
 *  - PHONE_STATE LAMP only for an open handle that asked for PHONESTATE_LAMP, a
 *    valid lamp, and only after a request to that lamp; at each quiescent
 *    point, a lamp that changed was notified to every handle subscribed
 *    throughout;
 *  - phoneGetLamp / phoneGetStatus show a mode some request could have left,
 *    and exactly the mode of the last successful request once everything is
 *    replied (quiescent point: the stats' in_flight is 0 and every queue is
 *    drained; not for a lamp that requests from both threads reached since
 *    the last one: only one thread's requests are ordered); owner / monitor
 *    counts, status filters, statistics match;
 *  - caller buffers are written only within dwTotalSize; a USEEVENT fd
 *    becomes readable for a pending reply;
 *  - at the end every application is shut down and nothing is left running
 *    (the next input starts a fresh runtime).
 *
 * Built with TAPIQ_FUZZ_NOMEM, the input also chooses which allocations of
 * the setup calls fail (tapiq_alloc_fail_hook): such a call must return
 * PHONEERR_NOMEM and have no effect, or succeed; never crash or leak (LSan).
 *
 * This file: the entry point and program interpreter, the allocation hook,
 * the helpers that check returns; the rest of the target in the files
 * fuzz/fuzz_api.h lists. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "fuzz/fuzz_api.h"

#ifndef TAPIQ_FUZZ_NOMEM
#define TAPIQ_FUZZ_NOMEM 0
#endif

struct fa_model fa_model;
int fa_trace_on;
int fa_manual;

/* ------------------------------------------------------ allocation hook */

static _Atomic uint32_t nomem_mode; /* 0: none; see fa_arm() */
static _Atomic uint32_t nomem_count;

static int fail_hook(size_t size)
{
    uint32_t mode = atomic_load_explicit(&nomem_mode, memory_order_relaxed);
    uint32_t n = atomic_fetch_add_explicit(&nomem_count, 1, memory_order_relaxed);
    (void)size;
    if (mode < 0x80)
        return 0;
    if (mode & 0x40)
        return n >= (mode & 0x3F); /* this one and all later ones fail */
    return n == (mode & 0x3F);     /* only this one fails */
}

/* Arm the hook for one setup call: returns whether failures are possible. */
int fa_arm(struct fuzz_in *in)
{
#if TAPIQ_FUZZ_NOMEM
    uint8_t b = fuzz_u8(in);
    atomic_store_explicit(&nomem_count, 0, memory_order_relaxed);
    atomic_store_explicit(&nomem_mode, b, memory_order_relaxed);
    return b >= 0x80;
#else
    (void)in;
    return 0;
#endif
}

void fa_disarm(void)
{
    atomic_store_explicit(&nomem_mode, 0, memory_order_relaxed);
}

/* ------------------------------------------------------------- helpers */

int64_t fa_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether @fd is readable within @ms. poll() returns EINTR for a signal that
 * arrives while it runs, even with a zero timeout (libFuzzer's timer sends
 * SIGALRM every half timeout): retried, so a signal never reads as an
 * answer. */
int fd_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int r;
    while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    FUZZ_CHECK(r >= 0 && !(p.revents & (POLLERR | POLLNVAL)), "poll on USEEVENT fd %d: %s",
               fd, r < 0 ? "error" : "POLLERR/POLLNVAL");
    return r > 0;
}

void fa_nap(void)
{
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
}

const char *fa_err_name(LONG e)
{
    static char buf[32];
    switch (e) {
    case OK: return "0";
    case PHONEERR_UNINITIALIZED: return "UNINITIALIZED";
    case PHONEERR_INVALPHONEHANDLE: return "INVALPHONEHANDLE";
    case PHONEERR_NOTOWNER: return "NOTOWNER";
    case PHONEERR_OPERATIONUNAVAIL: return "OPERATIONUNAVAIL";
    case PHONEERR_INVALBUTTONLAMPID: return "INVALBUTTONLAMPID";
    case PHONEERR_INVALLAMPMODE: return "INVALLAMPMODE";
    case PHONEERR_INVALPHONESTATE: return "INVALPHONESTATE";
    case PHONEERR_RESOURCEUNAVAIL: return "RESOURCEUNAVAIL";
    case PHONEERR_INVALAPPHANDLE: return "INVALAPPHANDLE";
    case PHONEERR_INVALPOINTER: return "INVALPOINTER";
    case PHONEERR_NOMEM: return "NOMEM";
    case PHONEERR_OPERATIONFAILED: return "OPERATIONFAILED";
    case PHONEERR_BADDEVICEID: return "BADDEVICEID";
    case PHONEERR_INVALPRIVILEGE: return "INVALPRIVILEGE";
    case PHONEERR_STRUCTURETOOSMALL: return "STRUCTURETOOSMALL";
    case PHONEERR_INVALPARAM: return "INVALPARAM";
    case PHONEERR_INCOMPATIBLEAPIVERSION: return "INCOMPATIBLEAPIVERSION";
    case PHONEERR_INCOMPATIBLEEXTVERSION: return "INCOMPATIBLEEXTVERSION";
    case PHONEERR_INIFILECORRUPT: return "INIFILECORRUPT";
    default:
        snprintf(buf, sizeof(buf), "%#x", (unsigned)e);
        return buf;
    }
}

void errs_add(struct errs *s, int cond, LONG e)
{
    if (cond && s->n < 12)
        s->e[s->n++] = e;
}

/* rc must be the first error of @s when @ordered, else any error of @s; 0
 * when @s is empty. @extra (if non-zero) is acceptable in any case. */
void check_errs(const char *call, LONG rc, const struct errs *s, int ordered, LONG extra)
{
    int ok = 0;
    if (extra && rc == extra)
        return;
    if (s->n == 0) {
        FUZZ_CHECK(rc == OK, "%s returned %s, expected success", call, fa_err_name(rc));
        return;
    }
    for (int i = 0; i < (ordered ? 1 : s->n); i++)
        if (rc == s->e[i])
            ok = 1;
    FUZZ_CHECK(ok, "%s returned %s, expected %s%s", call, fa_err_name(rc), fa_err_name(s->e[0]),
               s->n > 1 ? " (or another applicable one)" : "");
}

/* One worker round over up to 1..16 devices (thread-free), or a yield. */
static void op_step(struct fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t max = 1u + (b & 15), queued = 0;
    int n, idle = 1;
    if (!fa_manual) {
        if (b & 1)
            sched_yield();
        return;
    }
    n = tapiq_rt_step(max);
    TRACE("  step(%u) = %d\n", max, n);
    if (!M.rt_live) {
        FUZZ_CHECK(n == -ENODEV, "tapiq_rt_step without a runtime returned %d", n);
        return;
    }
    FUZZ_CHECK(n >= 0, "tapiq_rt_step(%u) with a runtime returned %d", max, n);
    for (int r = 0; r < M_RINGS; r++)
        queued += M.since_step[r];
    /* Nothing new in a ring, nothing that may wait for a batch or for room:
     * a round has nothing to do. */
    for (int i = 0; i < M.nreqs; i++)
        idle &= M.reqs[i].fin;
    FUZZ_CHECK(!queued || n > 0, "tapiq_rt_step(%u) = 0 with %u new requests in the rings",
               max, queued);
    FUZZ_CHECK(queued || !idle || n == 0,
               "tapiq_rt_step(%u) = %d with every request known to be finished", max, n);
    rounds_ran(max);
}

/* ---------------------------------------------------------------- entry */

static void reset_model(void)
{
    memset(&M, 0, sizeof(M));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    int ops = 0;
    int64_t t0;
    static int hooked;

    if (!hooked) {
        /* Installed once, before any worker exists; armed per call. */
        tapiq_alloc_fail_hook = fail_hook;
        hooked = 1;
    }
    reset_model();
    fa_trace_on = getenv("TAPIQ_FUZZ_TRACE") != NULL;
    fa_manual = getenv("TAPIQ_FUZZ_THREADS") == NULL;
    tapiq_rt_manual = fa_manual; /* no runtime exists here: taken by the next one */
    t0 = fa_now_ms();
    /* Nothing may be left from the previous input. */
    FUZZ_CHECK(phoneSetLamp(0x10001, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
               "state left behind by the previous input");
    {
        char text[256];
        pick_config(&in, &M.cfg, text, sizeof(text));
        FUZZ_CHECK(tapiq_configure(text) == 0, "tapiq_configure('%s'): %s", text,
                   tapiq_last_error());
    }
    while (in.n && ops++ < M_OPS) {
        uint8_t op = fuzz_u8(&in);
        TRACE("op %d: %u (%lld ms)\n", ops, op % 26, (long long)(fa_now_ms() - t0));
        if (op >= 240) { /* the top values: console events (fuzz_api_events.c) */
            if (op >= 248)
                op_press(&in);
            else
                op_hook(&in);
            continue;
        }
        switch (op % 26) {
        case 0: case 1: op_init(&in); break;
        case 2: op_shutdown(&in); break;
        case 3: case 4: op_open(&in); break;
        case 5: op_close(&in); break;
        case 6: case 7: case 8: op_set_lamp(&in); break;
        case 9: op_burst(&in); break;
        case 10: case 11: op_get_lamp(&in); break;
        case 12: op_set_status_messages(&in); break;
        case 13: op_get_status_messages(&in); break;
        case 14: case 15: op_get_message(&in); break;
        case 16: drain_replies(); break;
        case 17: fa_settle(); break;
        case 18: op_get_status(&in); break;
        case 19: op_get_dev_caps(&in); break;
        case 20: op_negotiate(&in); break;
        case 21: op_configure(&in); break;
        case 22: op_bad_env(&in); break;
        case 24: case 25: op_set_attr(&in); break;
        default: op_step(&in); break;
        }
    }
    /* Leave nothing behind. */
    fa_settle();
    for (int i = 0; i < M.napps; i++) {
        if (M.apps[i].live) {
            FUZZ_CHECK(phoneShutdown(M.apps[i].h) == 0, "final phoneShutdown");
            M.apps[i].live = 0;
        }
    }
    pump_callbacks();
    {
        tapiq_stats s;
        FUZZ_CHECK(tapiq_get_stats(&s, sizeof(s)) == -ENODEV, "a runtime outlived its apps");
        FUZZ_CHECK(phoneSetLamp(0x10001, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
                   "phoneSetLamp without applications");
    }
    return 0;
}
