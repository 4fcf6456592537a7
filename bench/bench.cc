// bench/bench.cc - the Google Benchmark suite of tapiq.
//
// Every scenario runs for a fixed wall time (TAPIQ_BENCH_SECONDS, default
// 0.5 s) once per repetition and reports its own rate as the counter `rate`
// (items per second) plus the manual time of the window; baselines are
// registered beside each scenario so one run measures both. Names:
//   ring/<queue>/<single|bulk>/p:<producers>/c:<consumers>
//   e2e/<lockfree|handwritten>/<spread|hot>/consoles:<n>/threads:<t>
//   e2e/<lockfree|handwritten>_bulkreap/spread/consoles:<n>/threads:<t>
//   e2e/handwritten/selfcheck
//   fanout/<lockfree|handwritten>/consoles:500/threads:<t>
//   latency/<lockfree|handwritten>/load:<percent of peak>
//   latency/lockfree_nap<25|0>/load:<5|50> (tapiq with nap_us=25, 0)
//   latency/sender_alone/load:50 (the paced sender, no dispatcher)
//   idle/<lockfree|handwritten> (nothing to do: CPU share, wake-ups per s)
// lockfree is tapiq; handwritten is the baseline of bench/handwritten.h (one
// mutex and condvars, what a user writes), run with the same threads, the
// same workload and the same in-flight window.
// Run with --benchmark_repetitions=N --benchmark_report_aggregates_only=true
// and read the medians (bench/run.sh does).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include <sys/prctl.h>

#include "bench/e2e.h"
#include "bench/rawq.h"
#include "bench/util.h"

namespace {

bool g_failed = false; // a scenario failed its checks: exit non-zero

void fail(benchmark::State &state, const char *why)
{
    g_failed = true;
    fprintf(stderr, "FAILED: %s\n", why);
    state.SkipWithError(why);
}

double seconds()
{
    const char *s = getenv("TAPIQ_BENCH_SECONDS");
    double v = s ? atof(s) : 0.5;
    return v > 0 ? v : 0.5;
}

void report_raw(benchmark::State &state, const bench_result &r)
{
    double sec = (double)r.elapsed_ns / 1e9;
    state.SetIterationTime(sec);
    state.SetItemsProcessed((int64_t)r.items);
    state.counters["rate"] = (double)r.items / sec;
}

void ring_bench(benchmark::State &state, int kind, int bin, int bout, int np, int nc)
{
    for (auto _ : state) {
        bench_result r;
        int rc = bench_rawq_run(kind, np, nc, bin, bout, seconds(), &r);
        if (rc != 0) {
            fail(state, r.err[0] ? r.err : "run failed");
            break;
        }
        report_raw(state, r);
        state.counters["empty_polls_per_item"] =
            r.items ? (double)r.empty_polls / (double)r.items : 0.0;
    }
}

bool report_e2e(benchmark::State &state, const E2ERes &r)
{
    if (!r.ok) {
        fail(state, r.err.c_str());
        return false;
    }
    double sec = (double)r.elapsed_ns / 1e9;
    state.SetIterationTime(sec);
    state.SetItemsProcessed((int64_t)r.replies);
    state.counters["rate"] = (double)r.replies / sec;
    state.counters["accepted_rate"] = (double)r.accepted / sec;
    if (!r.stats)
        return true;
    state.counters["unavail_per_req"] =
        r.accepted_total ? (double)r.unavail / (double)r.accepted_total : 0.0;
    state.counters["applied_per_req"] =
        r.accepted_total ? (double)r.applied / (double)r.accepted_total : 0.0;
    state.counters["wakeups_per_kreq"] =
        r.accepted_total ? 1000.0 * (double)r.worker_wakeups / (double)r.accepted_total : 0.0;
    return true;
}

void e2e_bench(benchmark::State &state, Impl impl, Work work, int consoles, int threads,
               bool bulk_reap = false)
{
    for (auto _ : state) {
        E2EOpts o;
        o.bulk_reap = bulk_reap;
        o.devices = consoles;
        o.issuers = threads;
        o.impl = impl;
        o.work = work;
        o.seconds = seconds();
        if (!report_e2e(state, e2e_run(o)))
            break;
    }
}

void fanout_bench(benchmark::State &state, Impl impl, int threads)
{
    for (auto _ : state) {
        E2EOpts o;
        o.devices = 500;
        o.issuers = threads;
        o.impl = impl;
        o.work = Work::Fanout;
        o.seconds = seconds();
        E2ERes r = e2e_run(o);
        if (!report_e2e(state, r))
            break;
        state.counters["events_rate"] = (double)r.events / ((double)r.elapsed_ns / 1e9);
    }
}

// The baseline's correctness check (see hw_selfcheck); its rate means nothing.
void selfcheck_bench(benchmark::State &state)
{
    for (auto _ : state) {
        uint64_t n = 0;
        auto t0 = std::chrono::steady_clock::now();
        std::string err = hw_selfcheck(&n);
        if (!err.empty()) {
            fail(state, err.c_str());
            break;
        }
        state.SetIterationTime(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        state.SetItemsProcessed((int64_t)n);
    }
}

// Latency at a fixed offered load. The peak is that of the same layout and
// the same sender: the open-loop sender with its bookkeeping (two clock reads
// and an intended-time entry per request) but never waiting, because a send
// time is always due; measured once per dispatcher in this process (best of
// three). Then requests are offered open loop at pct% of it and timed from
// their intended send time. (A closed-loop peak, without that bookkeeping,
// is out of reach of one paced sender: its 50% was more than the sender
// could offer, and every request was late.)
constexpr int kLatIssuers = 1;
constexpr int kLatConsoles = 500;

double peak_for(Impl impl, int nap_us = -1)
{
    static std::mutex mu;
    static std::map<std::pair<Impl, int>, double> peaks;
    std::lock_guard<std::mutex> g(mu);
    auto it = peaks.find({impl, nap_us});
    if (it != peaks.end())
        return it->second;
    double best = 0;
    for (int i = 0; i < 3; i++) { // the best of three short closed-loop runs
        E2EOpts o;
        o.devices = kLatConsoles;
        o.issuers = kLatIssuers;
        o.impl = impl;
        o.seconds = seconds();
        o.rate = 1e12; // a send is always due: as fast as this sender goes
        o.nap_us = nap_us;
        E2ERes r = e2e_run(o);
        if (!r.ok) {
            fprintf(stderr, "peak run: %s\n", r.err.c_str());
            return 0;
        }
        double v = (double)r.replies / ((double)r.elapsed_ns / 1e9);
        if (v > best)
            best = v;
    }
    peaks[{impl, nap_us}] = best;
    return best;
}

void latency_bench(benchmark::State &state, Impl impl, int pct, int nap_us = -1)
{
    for (auto _ : state) {
        double peak = peak_for(impl, nap_us);
        if (peak <= 0) {
            fail(state, "peak run failed");
            break;
        }
        E2EOpts o;
        o.devices = kLatConsoles;
        o.issuers = kLatIssuers;
        o.impl = impl;
        o.seconds = seconds() * 2;
        o.rate = peak * pct / 100.0;
        o.nap_us = nap_us;
        E2ERes r = e2e_run(o);
        if (!report_e2e(state, r))
            break;
        state.counters["peak_rate"] = peak;
        state.counters["offered_rate"] = o.rate;
        state.counters["p50_us"] = (double)r.lat.quantile(0.50) / 1e3;
        state.counters["p99_us"] = (double)r.lat.quantile(0.99) / 1e3;
        state.counters["p999_us"] = (double)r.lat.quantile(0.999) / 1e3;
        state.counters["max_us"] = (double)r.lat.max() / 1e3;
        // The same latencies split: the sender's part (intended -> call) and
        // the dispatcher's (call -> reply reaped).
        state.counters["send_late_p50_us"] = (double)r.send_late.quantile(0.50) / 1e3;
        state.counters["send_late_p99_us"] = (double)r.send_late.quantile(0.99) / 1e3;
        state.counters["call_p50_us"] = (double)r.call_lat.quantile(0.50) / 1e3;
        state.counters["call_p99_us"] = (double)r.call_lat.quantile(0.99) / 1e3;
        state.counters["call_p999_us"] = (double)r.call_lat.quantile(0.999) / 1e3;
        // How much of a core the paced sender held (1 = all of it: its
        // sleeps were too short to block).
        state.counters["sender_cpu"] =
            r.sender_wall_ns ? (double)r.sender_cpu_ns / (double)r.sender_wall_ns : 0.0;
        state.counters["untimed_frac"] =
            r.accepted_total ? (double)r.unmatched / (double)r.accepted_total : 0.0;
        state.counters["late_frac"] =
            r.accepted_total ? (double)r.late / (double)r.accepted_total : 0.0;
    }
}

// The floor of the latency rows: the same paced sender with no dispatcher
// (nothing issued, nothing running beside it; the same shortest sleep), at
// pct% of tapiq's peak, for as long as a latency row; records how late each
// intended send is made, the part of every latency figure that no
// dispatcher can remove.
void sender_alone_bench(benchmark::State &state, int pct)
{
    for (auto _ : state) {
        double peak = peak_for(Impl::Tapiq);
        if (peak <= 0) {
            fail(state, "peak run failed");
            break;
        }
        double rate = peak * pct / 100.0;
        uint64_t interval = (uint64_t)(1e9 / rate), n = 0;
        if (interval == 0)
            interval = 1;
        Hist late;
        int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); // as issuer_open() does
        uint64_t t0 = bench_util::now_ns(), end = t0 + (uint64_t)(seconds() * 2 * 1e9);
        uint64_t next = t0;
        while (next < end) {
            uint64_t now = bench_util::now_ns();
            while (next <= now && next < end) {
                late.record(bench_util::now_ns() - next);
                n++;
                next += interval;
            }
            now = bench_util::now_ns();
            if (next > now)
                bench_util::sleep_ns(next - now < bench_util::kSendQuantumNs
                                         ? bench_util::kSendQuantumNs
                                         : next - now);
        }
        uint64_t t1 = bench_util::now_ns();
        if (slack > 0)
            prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
        state.SetIterationTime((double)(t1 - t0) / 1e9);
        state.counters["rate"] = (double)n / ((double)(t1 - t0) / 1e9);
        state.counters["offered_rate"] = rate;
        state.counters["p50_us"] = (double)late.quantile(0.50) / 1e3;
        state.counters["p99_us"] = (double)late.quantile(0.99) / 1e3;
        state.counters["p999_us"] = (double)late.quantile(0.999) / 1e3;
        state.counters["max_us"] = (double)late.max() / 1e3;
    }
}

void idle_bench(benchmark::State &state, Impl impl)
{
    for (auto _ : state) {
        IdleResult r;
        std::string err = run_idle(impl, 2 * seconds(), r);
        if (!err.empty()) {
            fail(state, err.c_str());
            return;
        }
        state.SetIterationTime(r.wall_s);
        state.counters["cpu_share"] = r.cpu_s / r.wall_s;
        state.counters["wakeups_per_s"] = (double)r.switches / r.wall_s;
    }
}

template <class F> void reg(const std::string &name, F f)
{
    benchmark::RegisterBenchmark(name.c_str(), f)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
}

void register_all()
{
    const int pc[][2] = {{1, 1}, {2, 2}, {4, 4}, {8, 8}, {16, 2}};
    struct {
        int kind, bin, bout;
        const char *mode;
    } rings[] = {
        {BENCH_Q_TAPIQ, 1, 1, "single"},  {BENCH_Q_TAPIQ, 8, 32, "bulk"},
        {BENCH_Q_VYUKOV, 1, 1, "single"}, {BENCH_Q_CK, 1, 1, "single"},
        {BENCH_Q_MUTEX, 1, 1, "single"},  {BENCH_Q_MUTEX, 8, 32, "bulk"},
        {BENCH_Q_WFCQ, 1, 1, "single"},   {BENCH_Q_WFCQ, 8, 32, "bulk"},
        {BENCH_Q_TAPIQ_MUTEX, 1, 1, "single"}, {BENCH_Q_TAPIQ_MUTEX, 8, 32, "bulk"},
    };
    for (auto &p : pc)
        for (auto &q : rings) {
            if (!bench_queue_available(q.kind))
                continue;
            std::string name = std::string("ring/") + bench_queue_name(q.kind) + "/" + q.mode +
                               "/p:" + std::to_string(p[0]) + "/c:" + std::to_string(p[1]);
            int kind = q.kind, bin = q.bin, bout = q.bout, np = p[0], nc = p[1];
            reg(name, [=](benchmark::State &s) { ring_bench(s, kind, bin, bout, np, nc); });
        }

    // tapiq and the baseline side by side, so each ratio comes from one run.
    const Impl impls[] = {Impl::Tapiq, Impl::Handwritten};
    auto iname = [](Impl i) { return i == Impl::Tapiq ? "lockfree" : "handwritten"; };
    for (Work w : {Work::Spread, Work::Hot})
        for (int consoles : {10, 200, 10000})
            for (int t : {1, 2, 4, 8, 16, 64})
                for (Impl impl : impls) {
                    std::string name = std::string("e2e/") + iname(impl) + "/" +
                                       (w == Work::Spread ? "spread" : "hot") + "/consoles:" +
                                       std::to_string(consoles) + "/threads:" + std::to_string(t);
                    reg(name, [=](benchmark::State &s) { e2e_bench(s, impl, w, consoles, t); });
                }

    // The same with a bulk reap, 64 at a time (tapiq_get_messages; hw_get_replies).
    for (int consoles : {10, 200, 10000})
        for (int t : {1, 2, 4, 8, 16, 64})
            for (Impl impl : impls)
                reg(std::string("e2e/") + iname(impl) + "_bulkreap/spread/consoles:" +
                        std::to_string(consoles) + "/threads:" + std::to_string(t),
                    [=](benchmark::State &s) {
                        e2e_bench(s, impl, Work::Spread, consoles, t, true);
                    });

    reg("e2e/handwritten/selfcheck", selfcheck_bench);

    for (int t : {1, 4})
        for (Impl impl : impls)
            reg(std::string("fanout/") + iname(impl) + "/consoles:500/threads:" +
                    std::to_string(t),
                [=](benchmark::State &s) { fanout_bench(s, impl, t); });

    for (Impl impl : impls)
        for (int pct : {5, 10, 25, 50, 75})
            reg(std::string("latency/") + iname(impl) + "/load:" + std::to_string(pct),
                [=](benchmark::State &s) { latency_bench(s, impl, pct); });
    // The nap_us trade (core/worker_thread.c): shorter naps, lower latency at
    // light load, a lower peak for one unpaced sender.
    for (int nap : {25, 0})
        for (int pct : {5, 50})
            reg("latency/lockfree_nap" + std::to_string(nap) + "/load:" + std::to_string(pct),
                [=](benchmark::State &s) { latency_bench(s, Impl::Tapiq, pct, nap); });
    reg("latency/sender_alone/load:50", [](benchmark::State &s) { sender_alone_bench(s, 50); });

    for (Impl impl : impls)
        reg(std::string("idle/") + iname(impl), [=](benchmark::State &s) { idle_bench(s, impl); });
}

} // namespace

int main(int argc, char **argv)
{
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::AddCustomContext("workers", "2");
    benchmark::AddCustomContext("window_seconds", std::to_string(seconds()));
    size_t n = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return n && !g_failed ? 0 : 1;
}
