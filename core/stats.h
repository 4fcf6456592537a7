/* core/stats.h - sharded statistics counters.
 *
 * Each thread adds to one of TAPIQ_STATS_SHARDS shards (chosen once per
 * thread, round robin), so counting never puts a shared cache line on the
 * request path. A snapshot sums the shards.
 *
 * Concurrency: tapiq_stat_add from any number of threads; tapiq_stats_sum_all
 * from any thread at any time. Progress: wait-free.
 * Ordering: relaxed everywhere; counters order nothing. A snapshot taken while
 * requests move is approximate; once the system is quiescent it is exact.
 */
#ifndef TAPIQ_CORE_STATS_H
#define TAPIQ_CORE_STATS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"
#include "tapiq/tapiq.h"

/* Counters of rare events, per thread. Per-request figures come from ring
 * positions (accepted) and from the workers' per-round sums (worker.h). */
enum tapiq_ctr {
    TAPIQ_C_REJECTED0,
    TAPIQ_C_SUPPRESSED_LATE = TAPIQ_C_REJECTED0 + TAPIQ_REJECT_MAX, /* dropped by phoneGetMessage:
                                                                        handle closed meanwhile */
    TAPIQ_C_STATE_EVENTS,
    TAPIQ_C_STATE_COALESCED,
    TAPIQ_C_WAKEUPS,
    TAPIQ_C_BUTTON_EVENTS,   /* PHONE_BUTTON posted */
    TAPIQ_C_BUTTON_OVERRUNS, /* PHONE_BUTTON a subscribed handle had no room for */
    TAPIQ_C_MAX
};

#define TAPIQ_STATS_SHARDS 64
#define TAPIQ_STATS_OWN_SHARDS 48 /* the first 48 threads own one each */

struct tapiq_stats_shard {
    alignas(TAPIQ_CACHELINE) _Atomic uint64_t c[TAPIQ_C_MAX];
};

struct tapiq_stats_set {
    struct tapiq_stats_shard shard[TAPIQ_STATS_SHARDS];
};

/* Thread-local storage of the library: the initial-exec model makes each
 * access one instruction (no __tls_get_addr call) in the shared library; the
 * library's TLS is small (under 512 bytes) so it fits the static TLS surplus
 * even when tapiq is loaded with dlopen. */
#define TAPIQ_TLS _Thread_local __attribute__((tls_model("initial-exec")))

/* The calling thread's shard + 1 (0: not assigned yet), with
 * TAPIQ_STATS_EXCLUSIVE set when no other thread adds to that shard: the
 * first TAPIQ_STATS_OWN_SHARDS threads get a shard of their own for good and
 * add with a plain load and store; later threads share the remaining shards
 * and add atomically. */
#define TAPIQ_STATS_EXCLUSIVE 0x80000000u
extern TAPIQ_TLS unsigned tapiq_stats_my_shard;
unsigned tapiq_stats_assign_shard(void);

/* The calling thread's shard index (assigned on first use). */
static inline unsigned tapiq_stats_thread_shard(void)
{
    unsigned s = tapiq_stats_my_shard;
    if (__builtin_expect(s == 0, 0))
        s = tapiq_stats_assign_shard();
    return (s & ~TAPIQ_STATS_EXCLUSIVE) - 1;
}

static inline void tapiq_stat_add(struct tapiq_stats_set *s, enum tapiq_ctr c, uint64_t n)
{
    unsigned me = tapiq_stats_thread_shard();
    _Atomic uint64_t *ctr = &s->shard[me].c[c];
    /* relaxed: a statistic; see the file comment. A shard of our own has one
     * writer, so a load and a store suffice (no locked instruction). */
    if (tapiq_stats_my_shard & TAPIQ_STATS_EXCLUSIVE)
        atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + n,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(ctr, n, memory_order_relaxed);
}

/* Raise *hwm to v if v is larger (lock-free CAS-max; rare once warm). */
static inline void tapiq_stat_max(_Atomic uint64_t *hwm, uint64_t v)
{
    /* relaxed: a statistic. */
    uint64_t cur = atomic_load_explicit(hwm, memory_order_relaxed);
    while (v > cur && !atomic_compare_exchange_weak_explicit(hwm, &cur, v, memory_order_relaxed,
                                                             memory_order_relaxed))
        ;
}

/* Sum of counter c over all shards. */
/* Every counter summed over the shards in one pass (shard by shard, each
 * shard's counters on its own lines): out[c] for each enum tapiq_ctr. */
void tapiq_stats_sum_all(struct tapiq_stats_set *s, uint64_t out[TAPIQ_C_MAX]);

#endif /* TAPIQ_CORE_STATS_H */
