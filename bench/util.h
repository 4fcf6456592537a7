// bench/util.h - small helpers of the end-to-end runs (e2e.cc,
// hw_selfcheck.cc, idle.cc): a monotonic clock, a sleep, a fast random
// generator, the lamp modes of the workloads.
#ifndef TAPIQ_BENCH_UTIL_H
#define TAPIQ_BENCH_UTIL_H

#include <cstdint>

#include <time.h>

#include <tapiq/tapi.h>

namespace bench_util {

inline uint64_t now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

inline void sleep_ns(uint64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    nanosleep(&ts, nullptr);
}

// The paced senders' shortest sleep. A nanosleep shorter than its own cost
// does not block (the timer has expired by the time it is armed): a sender
// that slept "until the next send is due" at 4 M/s (one send every 250 ns)
// held 73-99% of a core on this 2-CPU VM, measured with
// CLOCK_THREAD_CPUTIME_ID. Sleeping at least 50 us (a burst of what fell
// due meanwhile after each) holds it to its sends plus ~20k sleeps a second.
constexpr uint64_t kSendQuantumNs = 50000;

// xorshift64*: the workloads' console and lamp choices.
inline uint64_t xorshift(uint64_t &x)
{
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545F4914F6CDD1Dull;
}

// The lamp modes the workloads cycle through.
inline constexpr DWORD kModes[4] = {PHONELAMPMODE_STEADY, PHONELAMPMODE_WINK, PHONELAMPMODE_FLASH,
                                    PHONELAMPMODE_OFF};

} // namespace bench_util

#endif // TAPIQ_BENCH_UTIL_H
