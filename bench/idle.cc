// bench/idle.cc - what a dispatcher costs while it has nothing to do:
// `idle/<lockfree|handwritten>`.
//
// Set-up, as an application that has just been busy: 2 workers, 200 consoles
// opened, a reader thread blocked for messages (phoneGetMessage with
// INFINITE; hw_get_reply with no timeout), 20,000 requests issued and every
// reply reaped. Then the measuring thread sleeps 50 ms (past the workers'
// spin and naps) and for the window (at least 1 s), and reports over the
// window:
//   cpu_share  - the CPU time (user + system) of the process's other
//                threads over the window's wall time: 0 when nothing runs;
//   wakeups_per_s - context switches of the process's threads (voluntary
//                and not) per second of the window, the measuring thread's
//                own sleep excluded: 0 without periodic wake-ups.
// No threshold: the figures go to bench/RESULTS.md.
#include "bench/e2e.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <sys/resource.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "bench/handwritten.h"
#include "bench/util.h"

namespace {

constexpr int kConsoles = 200;
constexpr int kLamps = 32;
constexpr int kWorkers = 2;
constexpr uint64_t kRequests = 20000;

struct Usage {
    double cpu_s;
    long switches;
};

// CPU time from the scheduler's own clocks (the process's: every thread;
// the thread's), which agree with each other; rusage's CPU fields are
// sampled more coarsely. Context switches from rusage (exact counts).
Usage usage_of(int who)
{
    struct rusage ru;
    struct timespec ts;
    getrusage(who, &ru);
    clock_gettime(who == RUSAGE_SELF ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID, &ts);
    return {(double)ts.tv_sec + (double)ts.tv_nsec / 1e9, ru.ru_nvcsw + ru.ru_nivcsw};
}

// Measures the window once everything has settled (the window's wall time
// is read from the clock, so a sleep cut short only shortens it).
void measure(double window, IdleResult &res)
{
    bench_util::sleep_ns(50000000);
    Usage all0 = usage_of(RUSAGE_SELF), mine0 = usage_of(RUSAGE_THREAD);
    uint64_t t0 = bench_util::now_ns();
    bench_util::sleep_ns((uint64_t)(window * 1e9));
    uint64_t t1 = bench_util::now_ns();
    Usage mine1 = usage_of(RUSAGE_THREAD), all1 = usage_of(RUSAGE_SELF);
    res.wall_s = (double)(t1 - t0) / 1e9;
    res.cpu_s = (all1.cpu_s - all0.cpu_s) - (mine1.cpu_s - mine0.cpu_s);
    res.switches = (all1.switches - all0.switches) - (mine1.switches - mine0.switches);
}

// Waits up to 10 s for the reader to count @want replies; "" or what failed.
// relaxed: a count; the replies' own ordering is the dispatcher's.
std::string wait_replies(const std::atomic<uint64_t> &replies, uint64_t want)
{
    for (int k = 0; replies.load(std::memory_order_relaxed) < want; k++) {
        if (k == 10000)
            return "replies missing after 10 s";
        bench_util::sleep_ns(1000000);
    }
    return "";
}

std::string run_tapiq(double window, IdleResult &res)
{
    char cfg[128];
    snprintf(cfg, sizeof cfg, "backend=mem,devices=%d,lamps=%d,workers=%d", kConsoles, kLamps,
             kWorkers);
    if (tapiq_configure(cfg) != 0)
        return std::string("tapiq_configure: ") + tapiq_last_error();
    HPHONEAPP app = 0;
    DWORD ndev = 0, api = TAPI_VERSION2_2;
    PHONEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    LONG rc = phoneInitializeEx(&app, nullptr, nullptr, "idle", &ndev, &api, &p);
    if (rc != 0)
        return "phoneInitializeEx: " + std::to_string(rc);
    std::string err;
    HPHONE h[kConsoles];
    for (int d = 0; d < kConsoles && err.empty(); d++)
        if ((rc = phoneOpen(app, (DWORD)d, &h[d], api, 0, 0, PHONEPRIVILEGE_OWNER)) != 0)
            err = "phoneOpen: " + std::to_string(rc);
    std::atomic<uint64_t> replies{0};
    std::thread reader([&] {
        PHONEMESSAGE m;
        while (phoneGetMessage(app, &m, INFINITE) == 0)
            if (m.dwMessageID == PHONE_REPLY)
                replies.fetch_add(1, std::memory_order_relaxed); // counted only
    });
    uint64_t sent = 0;
    for (uint64_t i = 0; err.empty() && sent < kRequests; i++) {
        rc = phoneSetLamp(h[i % kConsoles], (DWORD)(i / kConsoles % kLamps),
                          (i & 1) ? PHONELAMPMODE_STEADY : PHONELAMPMODE_OFF);
        if (rc > 0)
            sent++;
        else if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL)
            std::this_thread::yield();
        else
            err = "phoneSetLamp: " + std::to_string(rc);
    }
    if (err.empty())
        err = wait_replies(replies, sent);
    if (err.empty())
        measure(window, res);
    phoneShutdown(app); // the reader's phoneGetMessage returns INVALAPPHANDLE
    reader.join();
    // relaxed: the reader has been joined.
    uint64_t got = replies.load(std::memory_order_relaxed);
    if (err.empty() && got != sent)
        err = "replies " + std::to_string(got) + " for " + std::to_string(sent);
    return err;
}

std::string run_handwritten(double window, IdleResult &res)
{
    int rc = hw_init(kConsoles, kLamps, kWorkers, 65536);
    if (rc != 0)
        return "hw_init: " + std::to_string(rc);
    std::atomic<uint64_t> replies{0};
    std::thread reader([&] {
        uint64_t id;
        int32_t st;
        while (hw_get_reply(&id, &st, -1) == 0)
            replies.fetch_add(1, std::memory_order_relaxed); // counted only
    });
    std::string err;
    for (uint64_t i = 0; i < kRequests && err.empty(); i++)
        if (!hw_set_lamp((uint32_t)(i % kConsoles), (uint32_t)(i / kConsoles % kLamps),
                         (i & 1) ? PHONELAMPMODE_STEADY : PHONELAMPMODE_OFF))
            err = "hw_set_lamp failed";
    if (err.empty())
        err = wait_replies(replies, kRequests);
    if (err.empty())
        measure(window, res);
    hw_shutdown();
    reader.join();
    // relaxed: the reader has been joined.
    uint64_t got = replies.load(std::memory_order_relaxed);
    if (err.empty() && got != kRequests)
        err = "replies " + std::to_string(got) + " for " + std::to_string(kRequests);
    return err;
}

} // namespace

std::string run_idle(Impl impl, double window, IdleResult &res)
{
    if (window < 1.0)
        window = 1.0;
    return impl == Impl::Tapiq ? run_tapiq(window, res) : run_handwritten(window, res);
}
