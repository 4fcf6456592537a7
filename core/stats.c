/* core/stats.c - sharded counters; see stats.h. */
#include "core/stats.h"

#include <limits.h>

static _Atomic unsigned tapiq_stats_next_shard;
TAPIQ_TLS unsigned tapiq_stats_my_shard;

unsigned tapiq_stats_assign_shard(void)
{
    /* relaxed: only spreads threads over shards. */
    unsigned n = atomic_fetch_add_explicit(&tapiq_stats_next_shard, 1, memory_order_relaxed);
    if (n < TAPIQ_STATS_OWN_SHARDS) /* a shard of its own, for good */
        tapiq_stats_my_shard = (n + 1) | TAPIQ_STATS_EXCLUSIVE;
    else /* one of the shared shards after them */
        tapiq_stats_my_shard = TAPIQ_STATS_OWN_SHARDS +
                               (n % (TAPIQ_STATS_SHARDS - TAPIQ_STATS_OWN_SHARDS)) + 1;
    return tapiq_stats_my_shard;
}

TAPIQ_NO_COVERAGE void tapiq_stats_sum_all(struct tapiq_stats_set *s, uint64_t out[TAPIQ_C_MAX])
{
    for (unsigned c = 0; c < TAPIQ_C_MAX; c++)
        out[c] = 0;
    for (unsigned i = 0; i < TAPIQ_STATS_SHARDS; i++)
        for (unsigned c = 0; c < TAPIQ_C_MAX; c++)
            /* relaxed: a statistic. */
            out[c] += atomic_load_explicit(&s->shard[i].c[c], memory_order_relaxed);
}
