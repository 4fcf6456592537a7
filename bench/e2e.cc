// bench/e2e.cc - end-to-end runs through the TAPI surface; see e2e.h.
#include "bench/e2e.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

namespace {

uint64_t now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_ns(uint64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    nanosleep(&ts, nullptr);
}

struct alignas(64) Ctx {
    // Written by the owner only, read by the main thread while running.
    std::atomic<uint64_t> replies{0}, accepted{0}, events{0};
    uint64_t unavail = 0, bad = 0, late = 0, failed = 0, unmatched = 0;
    LONG error = 0;
    uint64_t rng = 0;
    Hist lat;
};

inline void bump(std::atomic<uint64_t> &c, uint64_t n = 1)
{
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline uint64_t xorshift(uint64_t &x)
{
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545F4914F6CDD1Dull;
}

// Open loop: the intended send time of each request in flight, by slot.
struct Intended {
    std::atomic<uint32_t> id{0};
    uint64_t t = 0;
};

struct Run {
    const E2EOpts *o;
    HPHONEAPP app = 0;
    std::vector<HPHONE> h;
    std::atomic<int> go{0}, stop{0};
    std::unique_ptr<Intended[]> tab; // open loop only
    uint32_t mask = 0;
};

const DWORD kModes[4] = {PHONELAMPMODE_STEADY, PHONELAMPMODE_WINK, PHONELAMPMODE_FLASH,
                         PHONELAMPMODE_OFF};

void on_message(Run &r, Ctx &c, const PHONEMESSAGE &m)
{
    if (m.dwMessageID != PHONE_REPLY)
        return;
    if ((LONG)m.dwParam2 != 0)
        c.failed++;
    if (r.tab) {
        uint32_t id = (uint32_t)m.dwParam1;
        Intended &e = r.tab[id & r.mask];
        // The reply may overtake phoneSetLamp's return: wait for the issuer
        // to note the intended time (a few instructions away). The table is
        // keyed by the low 22 bits of the id (slot index plus low generation
        // bits: a request slot is recycled before its reply is reaped, so the
        // slot index alone is not unique among replies in flight); a bounded
        // wait, so a collision costs one sample (counted), never a hang.
        unsigned spins = 0;
        uint64_t t0 = 0;
        bool found = true;
        while (e.id.load(std::memory_order_acquire) != id) {
            if (++spins < 64)
                continue;
            sched_yield();
            uint64_t t = now_ns();
            if (!t0)
                t0 = t;
            else if (t - t0 > 20000000) {
                found = false;
                break;
            }
        }
        if (found) {
            uint64_t t = now_ns();
            c.lat.record(t > e.t ? t - e.t : 0);
        } else {
            c.unmatched++;
        }
    }
    bump(c.replies);
}

// Issue one request, retrying on backpressure (reaping a message meanwhile:
// nothing is ever dropped). Returns the id, or 0 after a hard error.
LONG issue(Run &r, Ctx &c, HPHONE h, DWORD lamp, DWORD mode)
{
    for (;;) {
        LONG rc = phoneSetLamp(h, lamp, mode);
        if (rc > 0)
            return rc;
        if (rc != PHONEERR_RESOURCEUNAVAIL) {
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

void wait_go(Run &r)
{
    while (!r.go.load(std::memory_order_acquire))
        sched_yield();
}

void issuer_closed(Run &r, Ctx &c)
{
    const E2EOpts &o = *r.o;
    uint32_t ndev = (uint32_t)o.devices;
    wait_go(r);
    if (o.work == Work::Fanout) {
        for (uint64_t e = 0; !r.stop.load(std::memory_order_relaxed); e++) {
            DWORD lamp = (DWORD)((e + c.rng) % (uint64_t)o.lamps);
            DWORD mode = kModes[(e / (uint64_t)o.lamps) & 3];
            for (uint32_t d = 0; d < ndev; d++) {
                if (!issue(r, c, r.h[d], lamp, mode))
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
        if (!issue(r, c, r.h[dev], lamp, kModes[(x >> 48) & 3]))
            return;
        bump(c.accepted);
    }
}

void issuer_open(Run &r, Ctx &c, int index)
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
    while (!r.stop.load(std::memory_order_relaxed)) {
        uint64_t now = now_ns();
        while (next <= now && !r.stop.load(std::memory_order_relaxed)) {
            uint64_t x = xorshift(c.rng);
            uint32_t dev = (uint32_t)(x % ndev);
            uint32_t lamp = (uint32_t)((x >> 32) % (uint64_t)o.lamps);
            LONG id = issue(r, c, r.h[dev], lamp, kModes[(x >> 48) & 3]);
            if (!id)
                return;
            Intended &e = r.tab[(uint32_t)id & r.mask];
            e.t = next; // measured from the intended send time: no coordinated omission
            e.id.store((uint32_t)id, std::memory_order_release);
            if (now_ns() - next > 1000000)
                c.late++;
            bump(c.accepted);
            next += interval;
        }
        // Sleep when the next send is far, spin the last microseconds: the
        // generator's own lateness would count as latency.
        now = now_ns();
        if (next > now + 20000)
            sleep_ns(next - now - 10000);
        else
            while (next > now_ns())
                sched_yield(); // let the workers and the reader use this core
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
            if (n != PHONEERR_INVALAPPHANDLE)
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
        if (rc == PHONEERR_INVALAPPHANDLE)
            return; // phoneShutdown: the run is over
        c.error = rc;
        return;
    }
}

} // namespace

E2ERes e2e_run(const E2EOpts &o)
{
    E2ERes res;
    Run r;
    char cfg[256], msg[256];
    r.o = &o;
    snprintf(cfg, sizeof cfg, "backend=mem,devices=%d,lamps=%d,workers=%d,queue=1024%s",
             o.devices, o.lamps, o.workers, o.mutex ? ",ring=mutex" : "");
    if (tapiq_configure(cfg) != 0) {
        res.err = std::string("tapiq_configure: ") + tapiq_last_error();
        return res;
    }
    DWORD ndev = 0, api = TAPI_VERSION2_2;
    LONG rc = phoneInitializeEx(&r.app, nullptr, nullptr, "tapiq-bench", &ndev, &api, nullptr);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "phoneInitializeEx: %08x %s", (unsigned)rc, tapiq_last_error());
        res.err = msg;
        return res;
    }
    r.h.resize((size_t)o.devices);
    for (int d = 0; d < o.devices; d++) {
        rc = phoneOpen(r.app, (DWORD)d, &r.h[(size_t)d], TAPI_VERSION2_2, 0, 0,
                       PHONEPRIVILEGE_OWNER);
        if (rc != 0) {
            snprintf(msg, sizeof msg, "phoneOpen(%d): %08x", d, (unsigned)rc);
            res.err = msg;
            phoneShutdown(r.app);
            return res;
        }
    }
    if (o.rate > 0) {
        r.mask = (1u << 22) - 1; // see on_message()
        r.tab.reset(new Intended[(size_t)r.mask + 1]);
    }

    int ni = o.issuers, nr = o.readers;
    std::vector<std::unique_ptr<Ctx>> ictx, rctx;
    std::vector<std::thread> th;
    for (int i = 0; i < ni; i++) {
        ictx.emplace_back(new Ctx);
        ictx.back()->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) | 1;
    }
    for (int i = 0; i < nr; i++)
        rctx.emplace_back(new Ctx);
    for (int i = 0; i < nr; i++)
        th.emplace_back(reader, std::ref(r), std::ref(*rctx[(size_t)i]));
    for (int i = 0; i < ni; i++) {
        if (o.rate > 0)
            th.emplace_back(issuer_open, std::ref(r), std::ref(*ictx[(size_t)i]), i);
        else
            th.emplace_back(issuer_closed, std::ref(r), std::ref(*ictx[(size_t)i]));
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
    if (replies < accepted) {
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
    for (int i = 0; i < 1000; i++) {
        memset(&st, 0, sizeof st);
        tapiq_get_stats(&st, sizeof st);
        if (st.in_flight == 0 && st.replies == st.accepted)
            break;
        sleep_ns(1000000);
    }
    phoneShutdown(r.app); // readers return INVALAPPHANDLE
    for (int i = 0; i < nr; i++)
        th[(size_t)i].join();

    LONG err = 0;
    uint64_t failed = 0;
    for (auto *v : {&ictx, &rctx})
        for (auto &c : *v) {
            res.unavail += c->unavail;
            res.late += c->late;
            res.unmatched += c->unmatched;
            failed += c->failed;
            if (c->error)
                err = c->error;
            res.lat.merge(c->lat);
        }
    res.applied = st.updates_applied;
    res.accepted_total = st.accepted;
    res.worker_sleeps = st.worker_sleeps;
    res.worker_wakeups = st.worker_wakeups;
    res.ok = true;
    if (!stuck.empty()) {
        res.err = stuck;
        res.ok = false;
    } else if (err) {
        snprintf(msg, sizeof msg, "a TAPI call failed: %08x", (unsigned)err);
        res.err = msg;
        res.ok = false;
    } else if (replies != accepted || st.accepted != accepted || st.replies != accepted ||
               st.in_flight != 0) {
        snprintf(msg, sizeof msg,
                 "reply count: accepted %llu, reaped %llu, stats accepted %llu replies %llu "
                 "in flight %llu",
                 (unsigned long long)accepted, (unsigned long long)replies,
                 (unsigned long long)st.accepted, (unsigned long long)st.replies,
                 (unsigned long long)st.in_flight);
        res.err = msg;
        res.ok = false;
    } else if (failed) {
        res.err = "a reply carried an error (no fault injection was configured)";
        res.ok = false;
    }
    return res;
}
