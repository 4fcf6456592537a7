// bench/hw_selfcheck.cc - the hand-written baseline's own correctness
// check, apart from the timed runs; see hw_selfcheck() in e2e.h.
#include "bench/e2e.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <errno.h>

#include "bench/handwritten.h"
#include "bench/util.h"

using bench_util::now_ns;
using bench_util::sleep_ns;
using bench_util::xorshift;

namespace {

struct HwLog {
    uint64_t id;
    uint32_t console, lamp, mode;
};

// One configuration of hw_selfcheck(); 2 workers.
std::string hw_check_one(int issuers, uint32_t consoles, uint32_t lamps, uint32_t capacity,
                         uint64_t per_thread)
{
    char msg[256];
    int rc = hw_init(consoles, lamps, 2, capacity);
    if (rc != 0)
        return std::string("hw_init: ") + strerror(-rc);
    const uint64_t n = (uint64_t)issuers * per_thread;
    std::vector<uint8_t> count(n + 1, 0); // replies per id
    std::atomic<uint64_t> reaped{0};
    uint64_t bad_status = 0, bad_id = 0;
    int last_rc = 0;
    std::thread reaper([&] {
        struct hw_reply b[64];
        for (uint64_t k = 0;; k++) {
            int got;
            switch (k % 4) { // single and bulk, blocking, polling and timed
            case 0:
                got = hw_get_reply(&b[0].id, &b[0].status, -1);
                got = got == 0 ? 1 : got;
                break;
            case 1:
                got = hw_get_replies(b, 1 + (int)(k % 64), -1);
                break;
            case 2:
                got = hw_get_replies(b, 64, 0);
                break;
            default:
                got = hw_get_replies(b, 64, 2);
                break;
            }
            if (got == -ETIMEDOUT)
                continue;
            if (got < 0) {
                last_rc = got;
                return;
            }
            for (int i = 0; i < got; i++) {
                if (b[i].id == 0 || b[i].id > n)
                    bad_id++;
                else
                    count[b[i].id]++;
                if (b[i].status != 0)
                    bad_status++;
            }
            reaped.fetch_add((uint64_t)got, std::memory_order_release);
        }
    });
    std::vector<std::vector<HwLog>> logs((size_t)issuers);
    std::vector<std::thread> th;
    for (int t = 0; t < issuers; t++)
        th.emplace_back([&, t] {
            std::vector<HwLog> &log = logs[(size_t)t];
            uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(t + 1) | 1;
            log.reserve(per_thread);
            for (uint64_t i = 0; i < per_thread; i++) {
                uint64_t v = xorshift(x);
                HwLog e = {0, (uint32_t)(v % consoles), (uint32_t)((v >> 32) % lamps),
                           (uint32_t)bench_util::kModes[(v >> 48) & 3]};
                e.id = hw_set_lamp(e.console, e.lamp, e.mode);
                log.push_back(e);
            }
        });
    for (auto &t : th)
        t.join();
    uint64_t deadline = now_ns() + 10000000000ull;
    while (reaped.load(std::memory_order_acquire) < n && now_ns() < deadline)
        sleep_ns(200000);
    std::string err;
    uint64_t got = reaped.load(std::memory_order_acquire);
    if (got != n) {
        snprintf(msg, sizeof msg, "%llu of %llu replies after 10 s", (unsigned long long)got,
                 (unsigned long long)n);
        err = msg;
    }
    // Each thread's ids increase; each lamp holds the mode of its highest id.
    std::vector<HwLog> want((size_t)consoles * lamps, HwLog{0, 0, 0, 0});
    for (auto &log : logs) {
        uint64_t prev = 0;
        for (auto &e : log) {
            if (e.id <= prev && err.empty()) {
                snprintf(msg, sizeof msg, "a thread's ids do not increase: %llu after %llu",
                         (unsigned long long)e.id, (unsigned long long)prev);
                err = msg;
            }
            prev = e.id;
            HwLog &w = want[(size_t)e.console * lamps + e.lamp];
            if (e.id > w.id)
                w = e;
        }
    }
    uint64_t wrong = 0;
    for (uint32_t c = 0; c < consoles && err.empty(); c++)
        for (uint32_t l = 0; l < lamps; l++)
            if (hw_get_lamp(c, l) != want[(size_t)c * lamps + l].mode)
                wrong++;
    if (err.empty() && (hw_set_lamp(consoles, 0, PHONELAMPMODE_STEADY) != 0 ||
                        hw_set_lamp(0, lamps, PHONELAMPMODE_STEADY) != 0 ||
                        hw_get_lamp(consoles, 0) != 0))
        err = "a bad console or lamp was accepted";
    hw_shutdown(); // the reaper sleeps in a wait: it must return -ESHUTDOWN
    reaper.join();
    uint64_t missing = 0, twice = 0;
    for (uint64_t id = 1; id <= n; id++) {
        missing += count[id] == 0;
        twice += count[id] > 1;
    }
    if (err.empty() && (wrong || missing || twice || bad_id || bad_status)) {
        snprintf(msg, sizeof msg,
                 "%llu lamps not at their last mode, ids: %llu missing, %llu replied more than "
                 "once, %llu unknown; %llu replies with an error",
                 (unsigned long long)wrong, (unsigned long long)missing,
                 (unsigned long long)twice, (unsigned long long)bad_id,
                 (unsigned long long)bad_status);
        err = msg;
    }
    uint64_t id;
    int32_t status;
    if (err.empty() && last_rc != -ESHUTDOWN)
        err = "the reaper did not return -ESHUTDOWN at shutdown: " + std::to_string(last_rc);
    if (err.empty() && (hw_set_lamp(0, 0, PHONELAMPMODE_STEADY) != 0 ||
                        hw_get_reply(&id, &status, -1) != -ESHUTDOWN))
        err = "a call after hw_shutdown was served";
    return err;
}

} // namespace

std::string hw_selfcheck(uint64_t *requests)
{
    struct {
        int issuers;
        uint32_t consoles, lamps, capacity;
        uint64_t per_thread;
    } cfgs[] = {
        {2, 1, 2, 1, 5000},         // a window of one request: every issue waits for a reap
        {8, 3, 4, 64, 20000},       // many threads on 12 lamps, the window full most of the time
        {4, 200, 64, 65536, 50000}, // the bench's window
    };
    *requests = 0;
    for (auto &c : cfgs) {
        std::string err = hw_check_one(c.issuers, c.consoles, c.lamps, c.capacity, c.per_thread);
        if (!err.empty())
            return "handwritten self-check, " + std::to_string(c.issuers) + " threads, " +
                   std::to_string(c.consoles) + "x" + std::to_string(c.lamps) + " lamps, window " +
                   std::to_string(c.capacity) + ": " + err;
        *requests += (uint64_t)c.issuers * c.per_thread;
    }
    return "";
}
