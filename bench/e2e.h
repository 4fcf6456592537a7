// bench/e2e.h - end-to-end runs through the TAPI surface:
// phoneSetLamp -> dispatcher -> mem backend -> PHONE_REPLY reaped with
// phoneGetMessage by reader thread(s).
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

struct E2EOpts {
    int devices = 500;
    int lamps = 64;
    int workers = 2;
    int issuers = 1;
    int readers = 1;
    bool mutex = false; // ring=mutex: the same dispatcher, every ring under a mutex
    Work work = Work::Spread;
    double seconds = 0.5;
    bool bulk_reap = false; // the reader uses tapiq_get_messages (64 at a time)
    double rate = 0; // > 0: open loop, requests per second offered in total
};

struct E2ERes {
    bool ok = false;
    std::string err;
    uint64_t replies = 0;    // reaped inside the measured window
    uint64_t accepted = 0;   // in the window
    uint64_t events = 0;     // fan-out events completed issuing in the window
    uint64_t elapsed_ns = 0; // the window
    uint64_t unavail = 0;    // RESOURCEUNAVAIL answers (retried)
    uint64_t applied = 0;    // backend updates (stats), whole run
    uint64_t accepted_total = 0;
    uint64_t worker_sleeps = 0;
    uint64_t worker_wakeups = 0;
    uint64_t late = 0;       // open loop: requests issued > 1 ms after their intended time
    uint64_t unmatched = 0;  // open loop: replies whose send time was overwritten (not timed)
    Hist lat;                // open loop: intended send time -> reply reaped
};

// Configure, initialize, open every console, run, drain every reply, check
// that each accepted request got exactly one successful reply, shut down.
E2ERes e2e_run(const E2EOpts &o);

#endif // TAPIQ_BENCH_E2E_H
