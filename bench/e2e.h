// bench/e2e.h - end-to-end runs through the TAPI surface:
// phoneSetLamp -> dispatcher -> mem backend -> PHONE_REPLY reaped with
// phoneGetMessage by reader thread(s); and the same workload, with the same
// threads, through the hand-written baseline dispatcher (bench/handwritten.h):
// hw_set_lamp -> workers -> lamp table -> reply reaped with hw_get_reply(s).
#ifndef TAPIQ_BENCH_E2E_H
#define TAPIQ_BENCH_E2E_H

#include <cstdint>
#include <string>

#include "bench/hist.h"

enum class Work {
    Spread, // random console, random lamp
    Hot,    // 8 consoles x 4 lamps: batches coalesce
    Fanout, // one event sets lamp k on every console
};

enum class Impl {
    Tapiq,       // the library, configured with backend=mem
    Handwritten, // bench/handwritten.c: one mutex + condvars per side
};

struct E2EOpts {
    int devices = 500;
    int lamps = 64;
    int workers = 2;
    int issuers = 1;
    int readers = 1;
    int capacity = 65536; // the baseline's in-flight window (tapiq: its default rings)
    Impl impl = Impl::Tapiq;
    Work work = Work::Spread;
    double seconds = 0.5;
    bool bulk_reap = false; // the reader takes up to 64 per call (tapiq_get_messages,
                            // hw_get_replies)
    double rate = 0; // > 0: open loop, requests per second offered in total
    int nap_us = -1;  // tapiq: the nap_us key (-1: the default)
};

struct E2ERes {
    bool ok = false;
    std::string err;
    uint64_t replies = 0;    // reaped inside the measured window
    uint64_t accepted = 0;   // in the window
    uint64_t events = 0;     // fan-out events completed issuing in the window
    uint64_t elapsed_ns = 0; // the window
    uint64_t unavail = 0;    // RESOURCEUNAVAIL answers (retried; tapiq only)
    uint64_t applied = 0;    // backend updates (stats), whole run (tapiq only)
    uint64_t accepted_total = 0;
    bool stats = false;      // applied, unavail and the worker counters are measured (tapiq)
    uint64_t worker_sleeps = 0;
    uint64_t worker_wakeups = 0;
    uint64_t late = 0;       // open loop: requests issued > 1 ms after their intended time
    uint64_t unmatched = 0;  // open loop: requests without a reply to time (matched after the run)
    Hist lat;                // open loop: intended send time -> reply reaped
    Hist send_late;          // open loop: intended send time -> the call (the sender's part)
    Hist call_lat;           // open loop: the call -> reply reaped (the dispatcher's part)
    uint64_t sender_cpu_ns = 0;  // open loop: the issuers' CPU time (user + system)
    uint64_t sender_wall_ns = 0; // open loop: the issuers' wall time, go to stop
};

// Configure, initialize, open every console, run, drain every reply, check
// that each accepted request got exactly one successful reply, shut down.
// Handwritten: the reader checks every id (1 .. accepted) was replied to
// exactly once, by id, not only by count.
E2ERes e2e_run(const E2EOpts &o);

// The baseline's own correctness check, apart from the timed runs (whose
// issuers must not log what they issue): several configurations (a window of
// 1 request, a small window with many threads on few lamps, a wide one);
// issuers log every (id, console, lamp, mode); a reaper mixing single and
// bulk reaps, polling and timed waits. Checks: each id replied exactly once
// with status 0, each thread's ids increase, every lamp ends in the mode of
// the request with the highest id for it (0 if none), bad arguments are
// refused, a sleeping reaper wakes with -ESHUTDOWN. Returns "" when all hold,
// else what failed; @requests: how many were issued in all.
std::string hw_selfcheck(uint64_t *requests);

// bench/idle.cc: a dispatcher with nothing to do, after a burst of work: the
// process's CPU time and its threads' context switches over @window seconds
// (at least 1), the measuring thread's own sleep excluded. Returns "" or
// what failed (a missing reply among them).
struct IdleResult {
    double wall_s = 0, cpu_s = 0;
    long switches = 0;
};
std::string run_idle(Impl impl, double window, IdleResult &res);

#endif // TAPIQ_BENCH_E2E_H
