// bench/e2e.cc - end-to-end runs through the TAPI surface; see e2e.h.
#include "bench/e2e.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <errno.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "bench/handwritten.h"
#include "bench/util.h"

using bench_util::now_ns;
using bench_util::sleep_ns;
using bench_util::xorshift;

namespace {

// An open-loop send: its id, its intended send time and how late the call
// was made (ns, capped at 4.29 s). Ordered by (id, intended time).
struct Sent {
    uint32_t id;
    uint32_t late;
    uint64_t t;
    bool operator<(const Sent &o) const { return id != o.id ? id < o.id : t < o.t; }
};

struct alignas(64) Ctx {
    // Written by the owner only, read by the main thread while running.
    std::atomic<uint64_t> replies{0}, accepted{0}, events{0};
    uint64_t unavail = 0, bad = 0, late = 0, failed = 0, unmatched = 0;
    uint64_t cpu_ns = 0, wall_ns = 0; // open-loop issuer: its own CPU time and wall time
    LONG error = 0;
    uint64_t rng = 0;
    Hist lat;
    // Open loop: one Sent per request, (id, time reaped) per reply;
    // matched after the run (match_latencies()).
    std::vector<Sent> sent;
    std::vector<std::pair<uint32_t, uint64_t>> reaped;
    // Handwritten, readers: one bit per id replied (ids are 1, 2, 3 ...).
    std::vector<uint64_t> seen;
    uint64_t dup = 0;
};

// The calling thread's CPU time (user + system), ns.
uint64_t thread_cpu_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

inline void bump(std::atomic<uint64_t> &c, uint64_t n = 1)
{
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}


struct Run {
    const E2EOpts *o;
    HPHONEAPP app = 0;
    std::vector<HPHONE> h;
    std::atomic<int> go{0}, stop{0};
    bool open = false; // open loop: log sends and replies
};

void on_reply(Run &r, Ctx &c, uint32_t id, long status)
{
    if (status != 0)
        c.failed++;
    if (r.open)
        c.reaped.emplace_back(id, now_ns()); // matched after the run: no wait here
    bump(c.replies);
}

// Open loop: the k-th reply of an id answers the k-th request that got that
// id (an id is reused only after its reply is posted, and replies are
// logged by time), so sorting both logs by (id, time) pairs them exactly,
// with nothing shared between sender and reader while the run goes on.
// Records each latency (reaped - intended) in @lat, apart: how late the call
// was (@late) and the rest, from the call to the reap (@call); a request
// without its reply, or a pair whose reply is older than its send, counts as
// unmatched.
void match_latencies(std::vector<Sent> &sent, std::vector<std::pair<uint32_t, uint64_t>> &reaped,
                     Hist &lat, Hist &late, Hist &call, uint64_t &unmatched)
{
    std::sort(sent.begin(), sent.end());
    std::sort(reaped.begin(), reaped.end());
    size_t i = 0, j = 0;
    while (i < sent.size() && j < reaped.size()) {
        if (sent[i].id < reaped[j].first) {
            unmatched++; // sent, never reaped
            i++;
        } else if (reaped[j].first < sent[i].id) {
            j++; // a reply without its send: cannot happen, nothing to time
        } else {
            uint64_t called = sent[i].t + sent[i].late;
            if (reaped[j].second >= called) {
                lat.record(reaped[j].second - sent[i].t);
                late.record(sent[i].late);
                call.record(reaped[j].second - called);
            } else
                unmatched++;
            i++;
            j++;
        }
    }
    unmatched += sent.size() - i;
}

void on_message(Run &r, Ctx &c, const PHONEMESSAGE &m)
{
    if (m.dwMessageID == PHONE_REPLY)
        on_reply(r, c, (uint32_t)m.dwParam1, (LONG)m.dwParam2);
}

// The baseline's replies: the exactly-once check by id, then the common part.
void on_hw_reply(Run &r, Ctx &c, uint64_t id, int32_t status)
{
    size_t w = (size_t)(id >> 6);
    if (w >= c.seen.size())
        c.seen.resize(w + w / 2 + 1024, 0);
    uint64_t bit = 1ull << (id & 63);
    if (c.seen[w] & bit)
        c.dup++;
    c.seen[w] |= bit;
    on_reply(r, c, (uint32_t)id, status);
}

// The issue path of each dispatcher. Returns the request id, or 0 after a
// hard error.
struct TapiqIssue {
    // Retries on backpressure (reaping a message meanwhile: nothing is ever
    // dropped).
    static uint64_t issue(Run &r, Ctx &c, uint32_t dev, DWORD lamp, DWORD mode)
    {
        for (;;) {
            LONG rc = phoneSetLamp(r.h[dev], lamp, mode);
            if (rc > 0)
                return (uint64_t)rc;
            if (rc != (LONG)PHONEERR_RESOURCEUNAVAIL) {
                c.error = rc;
                return 0;
            }
            c.unavail++;
            PHONEMESSAGE m;
            if (phoneGetMessage(r.app, &m, 0) == 0)
                on_message(r, c, m);
            else
                sched_yield();
        }
    }
};

struct HwIssue {
    // Sleeps inside hw_set_lamp while the window is full.
    static uint64_t issue(Run &, Ctx &c, uint32_t dev, DWORD lamp, DWORD mode)
    {
        uint64_t id = hw_set_lamp(dev, (uint32_t)lamp, (uint32_t)mode);
        if (!id)
            c.error = -1;
        return id;
    }
};

void wait_go(Run &r)
{
    while (!r.go.load(std::memory_order_acquire))
        sched_yield();
}

template <class D> void issuer_closed(Run &r, Ctx &c)
{
    const E2EOpts &o = *r.o;
    uint32_t ndev = (uint32_t)o.devices;
    wait_go(r);
    if (o.work == Work::Fanout) {
        for (uint64_t e = 0; !r.stop.load(std::memory_order_relaxed); e++) {
            DWORD lamp = (DWORD)((e + c.rng) % (uint64_t)o.lamps);
            DWORD mode = bench_util::kModes[(e / (uint64_t)o.lamps) & 3];
            for (uint32_t d = 0; d < ndev; d++) {
                if (!D::issue(r, c, d, lamp, mode))
                    return;
            }
            bump(c.accepted, ndev);
            bump(c.events);
        }
        return;
    }
    while (!r.stop.load(std::memory_order_relaxed)) {
        uint64_t x = xorshift(c.rng);
        uint32_t dev, lamp;
        if (o.work == Work::Hot) {
            dev = (uint32_t)(x % (ndev < 8 ? ndev : 8));
            lamp = (uint32_t)((x >> 32) % 4);
        } else {
            dev = (uint32_t)(x % ndev);
            lamp = (uint32_t)((x >> 32) % (uint64_t)o.lamps);
        }
        if (!D::issue(r, c, dev, lamp, bench_util::kModes[(x >> 48) & 3]))
            return;
        bump(c.accepted);
    }
}

template <class D> void issuer_open(Run &r, Ctx &c, int index)
{
    const E2EOpts &o = *r.o;
    uint32_t ndev = (uint32_t)o.devices;
    double per = o.rate / o.issuers;
    uint64_t interval = (uint64_t)(1e9 / per);
    if (interval == 0)
        interval = 1;
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); // wake within ~1 us of the asked time
    wait_go(r);
    uint64_t next = now_ns() + interval * (uint64_t)index / (uint64_t)o.issuers;
    uint64_t t_start = now_ns(), cpu_start = thread_cpu_ns();
    while (!r.stop.load(std::memory_order_relaxed)) {
        uint64_t now = now_ns();
        while (next <= now && !r.stop.load(std::memory_order_relaxed)) {
            uint64_t x = xorshift(c.rng);
            uint32_t dev = (uint32_t)(x % ndev);
            uint32_t lamp = (uint32_t)((x >> 32) % (uint64_t)o.lamps);
            uint64_t t_call = now_ns();
            uint64_t id = D::issue(r, c, dev, lamp, bench_util::kModes[(x >> 48) & 3]);
            if (!id)
                break; // a hard error (c.error): the run fails; the loop below ends too
            // measured from the intended send time (no coordinated
            // omission), and apart: how late the call was made
            uint64_t late = t_call - next;
            c.sent.push_back(Sent{(uint32_t)id, late > UINT32_MAX ? UINT32_MAX : (uint32_t)late, next});
            if (late > 1000000)
                c.late++;
            bump(c.accepted);
            next += interval;
        }
        // Sleep until the next send is due, and at least kSendQuantumNs:
        // the sender must not hold a core (on 2 cores it would take one
        // from the workers and the reader), and a shorter nanosleep does
        // not block. The wait and the timer's overshoot are charged: each
        // request is timed from its intended send time (and apart, from
        // the call), and the requests that fell due meanwhile go out at once.
        if (c.error)
            break;
        now = now_ns();
        if (next > now)
            sleep_ns(next - now < bench_util::kSendQuantumNs ? bench_util::kSendQuantumNs
                                                              : next - now);
    }
    c.cpu_ns = thread_cpu_ns() - cpu_start;
    c.wall_ns = now_ns() - t_start;
}

void reader_hw(Run &r, Ctx &c)
{
    if (r.o->bulk_reap) {
        struct hw_reply ms[64];
        for (;;) {
            int n = hw_get_replies(ms, 64, -1);
            if (n > 0) {
                for (int i = 0; i < n; i++)
                    on_hw_reply(r, c, ms[i].id, ms[i].status);
                continue;
            }
            if (n != -ESHUTDOWN)
                c.error = n;
            return;
        }
    }
    for (;;) {
        uint64_t id;
        int32_t status;
        int rc = hw_get_reply(&id, &status, -1);
        if (rc == 0) {
            on_hw_reply(r, c, id, status);
            continue;
        }
        if (rc != -ESHUTDOWN) // hw_shutdown: the run is over
            c.error = rc;
        return;
    }
}

void reader(Run &r, Ctx &c)
{
    PHONEMESSAGE m;
    if (r.o->bulk_reap) {
        PHONEMESSAGE ms[64];
        for (;;) {
            LONG n = tapiq_get_messages(r.app, ms, 64, INFINITE);
            if (n > 0) {
                for (LONG i = 0; i < n; i++)
                    on_message(r, c, ms[i]);
                continue;
            }
            if (n != (LONG)PHONEERR_INVALAPPHANDLE)
                c.error = n;
            return;
        }
    }
    for (;;) {
        LONG rc = phoneGetMessage(r.app, &m, INFINITE);
        if (rc == 0) {
            on_message(r, c, m);
            continue;
        }
        if (rc == (LONG)PHONEERR_INVALAPPHANDLE)
            return; // phoneShutdown: the run is over
        c.error = rc;
        return;
    }
}

// Start the dispatcher under test. Returns "" or what failed.
std::string start(Run &r)
{
    const E2EOpts &o = *r.o;
    char cfg[256], msg[256];
    if (o.impl == Impl::Handwritten) {
        int rc = hw_init((uint32_t)o.devices, (uint32_t)o.lamps, (uint32_t)o.workers,
                         (uint32_t)o.capacity);
        if (rc != 0)
            return std::string("hw_init: ") + strerror(-rc);
        return "";
    }
    /* tapiq's default ring size (queue=1024 per thread and worker); the
     * baseline's window is its own total (o.capacity). */
    snprintf(cfg, sizeof cfg, "backend=mem,devices=%d,lamps=%d,workers=%d", o.devices, o.lamps,
             o.workers);
    if (o.nap_us >= 0)
        snprintf(cfg + strlen(cfg), sizeof cfg - strlen(cfg), ",nap_us=%d", o.nap_us);
    if (tapiq_configure(cfg) != 0)
        return std::string("tapiq_configure: ") + tapiq_last_error();
    DWORD ndev = 0, api = TAPI_VERSION2_2;
    LONG rc = phoneInitializeEx(&r.app, nullptr, nullptr, "tapiq-bench", &ndev, &api, nullptr);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "phoneInitializeEx: %08x %s", (unsigned)rc, tapiq_last_error());
        return msg;
    }
    r.h.resize((size_t)o.devices);
    for (int d = 0; d < o.devices; d++) {
        rc = phoneOpen(r.app, (DWORD)d, &r.h[(size_t)d], TAPI_VERSION2_2, 0, 0,
                       PHONEPRIVILEGE_OWNER);
        if (rc != 0) {
            snprintf(msg, sizeof msg, "phoneOpen(%d): %08x", d, (unsigned)rc);
            phoneShutdown(r.app);
            return msg;
        }
    }
    return "";
}

// The baseline's exactly-once check: the readers' id bitmaps together hold
// exactly the ids 1 .. @accepted, none twice. Returns "" or what failed.
std::string check_ids(const std::vector<std::unique_ptr<Ctx>> &readers, uint64_t accepted)
{
    std::vector<uint64_t> all;
    uint64_t dup = 0, n = 0;
    char msg[256];
    for (auto &c : readers) {
        dup += c->dup;
        if (c->seen.size() > all.size())
            all.resize(c->seen.size(), 0);
        for (size_t i = 0; i < c->seen.size(); i++) {
            dup += (uint64_t)__builtin_popcountll(all[i] & c->seen[i]);
            all[i] |= c->seen[i];
        }
    }
    uint64_t highest = 0;
    for (size_t i = 0; i < all.size(); i++) {
        n += (uint64_t)__builtin_popcountll(all[i]);
        if (all[i])
            highest = (uint64_t)i * 64 + 63 - (uint64_t)__builtin_clzll(all[i]);
    }
    bool zero = !all.empty() && (all[0] & 1);
    if (dup || zero || n != accepted || highest != accepted) {
        snprintf(msg, sizeof msg,
                 "handwritten ids: %llu accepted, %llu distinct ids replied, %llu replied twice, "
                 "highest %llu%s",
                 (unsigned long long)accepted, (unsigned long long)n, (unsigned long long)dup,
                 (unsigned long long)highest, zero ? ", id 0 replied" : "");
        return msg;
    }
    return "";
}

} // namespace

E2ERes e2e_run(const E2EOpts &o)
{
    E2ERes res;
    Run r;
    char msg[256];
    r.o = &o;
    const bool hw = o.impl == Impl::Handwritten;
    res.err = start(r);
    if (!res.err.empty())
        return res;
    r.open = o.rate > 0;

    int ni = o.issuers, nr = o.readers;
    std::vector<std::unique_ptr<Ctx>> ictx, rctx;
    std::vector<std::thread> th;
    // Open loop: the logs are reserved up front (no allocation while timing);
    // the peak run (rate 1e12) sends as fast as it can, so its size is a
    // guess that a vector may still outgrow.
    size_t expect = r.open ? (size_t)((o.rate < 2e7 ? o.rate : 2e7) * o.seconds * 1.3) + 4096 : 0;
    for (int i = 0; i < ni; i++) {
        ictx.emplace_back(new Ctx);
        ictx.back()->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) | 1;
        ictx.back()->sent.reserve(expect / (size_t)ni + 1);
        ictx.back()->reaped.reserve(4096); // replies an issuer reaps while backpressured
    }
    for (int i = 0; i < nr; i++) {
        rctx.emplace_back(new Ctx);
        rctx.back()->reaped.reserve(expect / (size_t)nr + 1);
    }
    for (int i = 0; i < nr; i++)
        th.emplace_back(hw ? reader_hw : reader, std::ref(r), std::ref(*rctx[(size_t)i]));
    for (int i = 0; i < ni; i++) {
        Ctx &c = *ictx[(size_t)i];
        if (o.rate > 0)
            th.emplace_back(hw ? issuer_open<HwIssue> : issuer_open<TapiqIssue>, std::ref(r),
                            std::ref(c), i);
        else
            th.emplace_back(hw ? issuer_closed<HwIssue> : issuer_closed<TapiqIssue>, std::ref(r),
                            std::ref(c));
    }
    auto sum = [&](std::atomic<uint64_t> Ctx::*f) {
        uint64_t s = 0;
        for (auto &c : ictx)
            s += ((*c).*f).load(std::memory_order_relaxed);
        for (auto &c : rctx)
            s += ((*c).*f).load(std::memory_order_relaxed);
        return s;
    };

    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // let every thread reach wait_go
    r.go.store(1, std::memory_order_release);
    uint64_t t0 = now_ns();
    sleep_ns((uint64_t)(o.seconds * 1e9));
    r.stop.store(1, std::memory_order_relaxed);
    uint64_t t1 = now_ns();
    res.replies = sum(&Ctx::replies);
    res.accepted = sum(&Ctx::accepted);
    res.events = sum(&Ctx::events);
    res.elapsed_ns = t1 - t0;

    // Issuers stop; then every accepted request must be replied to.
    for (int i = 0; i < ni; i++)
        th[(size_t)(nr + i)].join();
    uint64_t accepted = sum(&Ctx::accepted);
    uint64_t deadline = now_ns() + 10000000000ull;
    while (sum(&Ctx::replies) < accepted && now_ns() < deadline)
        sleep_ns(200000);
    uint64_t replies = sum(&Ctx::replies);
    std::string stuck;
    if (replies < accepted && hw) {
        snprintf(msg, sizeof msg, "STALL: %llu replies missing after 10 s (handwritten)",
                 (unsigned long long)(accepted - replies));
        stuck = msg;
        fprintf(stderr, "%s\n", msg);
    } else if (replies < accepted) {
        // Diagnose a stall: are the missing replies sitting in the queue
        // while the reader sleeps (a lost wake-up of the reader), or were
        // they never posted (a lost wake-up of a worker)?
        tapiq_stats s0;
        memset(&s0, 0, sizeof s0);
        tapiq_get_stats(&s0, sizeof s0);
        uint64_t pending = 0;
        PHONEMESSAGE m;
        while (phoneGetMessage(r.app, &m, 0) == 0)
            pending++;
        snprintf(msg, sizeof msg,
                 "STALL: %llu replies missing after 10 s; %llu were pending in the queue "
                 "(the reader slept on them); stats: accepted %llu replies %llu in flight %llu "
                 "worker sleeps %llu wakeups %llu",
                 (unsigned long long)(accepted - replies), (unsigned long long)pending,
                 (unsigned long long)s0.accepted, (unsigned long long)s0.replies,
                 (unsigned long long)s0.in_flight, (unsigned long long)s0.worker_sleeps,
                 (unsigned long long)s0.worker_wakeups);
        stuck = msg;
        fprintf(stderr, "%s\n", msg);
    }
    // The counters are exact once quiescent: a worker may still be adding
    // the replies we already reaped.
    tapiq_stats st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 1000 && !hw; i++) {
        memset(&st, 0, sizeof st);
        tapiq_get_stats(&st, sizeof st);
        if (st.in_flight == 0 && st.replies == st.accepted)
            break;
        sleep_ns(1000000);
    }
    if (hw)
        hw_shutdown(); // readers return -ESHUTDOWN
    else
        phoneShutdown(r.app); // readers return INVALAPPHANDLE
    for (int i = 0; i < nr; i++)
        th[(size_t)i].join();

    if (r.open) {
        std::vector<Sent> sent;
        std::vector<std::pair<uint32_t, uint64_t>> reaped;
        for (auto *v : {&ictx, &rctx})
            for (auto &c : *v) {
                sent.insert(sent.end(), c->sent.begin(), c->sent.end());
                reaped.insert(reaped.end(), c->reaped.begin(), c->reaped.end());
            }
        match_latencies(sent, reaped, res.lat, res.send_late, res.call_lat, res.unmatched);
    }
    LONG err = 0;
    uint64_t failed = 0;
    for (auto *v : {&ictx, &rctx})
        for (auto &c : *v) {
            res.unavail += c->unavail;
            res.late += c->late;
            res.sender_cpu_ns += c->cpu_ns;
            res.sender_wall_ns += c->wall_ns;
            res.unmatched += c->unmatched;
            failed += c->failed;
            if (c->error)
                err = c->error;
            res.lat.merge(c->lat);
        }
    res.stats = !hw;
    res.applied = st.updates_applied;
    res.accepted_total = hw ? accepted : st.accepted;
    res.worker_sleeps = st.worker_sleeps;
    res.worker_wakeups = st.worker_wakeups;
    res.ok = true;
    std::string ids = hw && stuck.empty() ? check_ids(rctx, accepted) : "";
    if (!stuck.empty()) {
        res.err = stuck;
        res.ok = false;
    } else if (err) {
        snprintf(msg, sizeof msg, "%s call failed: %08x", hw ? "a handwritten" : "a TAPI",
                 (unsigned)err);
        res.err = msg;
        res.ok = false;
    } else if (replies != accepted ||
               (!hw && (st.accepted != accepted || st.replies != accepted || st.in_flight != 0))) {
        snprintf(msg, sizeof msg,
                 "reply count: accepted %llu, reaped %llu, stats accepted %llu replies %llu "
                 "in flight %llu",
                 (unsigned long long)accepted, (unsigned long long)replies,
                 (unsigned long long)st.accepted, (unsigned long long)st.replies,
                 (unsigned long long)st.in_flight);
        res.err = msg;
        res.ok = false;
    } else if (!ids.empty()) {
        res.err = ids;
        res.ok = false;
    } else if (failed) {
        res.err = "a reply carried an error (no fault injection was configured)";
        res.ok = false;
    }
    return res;
}
