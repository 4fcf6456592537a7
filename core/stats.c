/* core/stats.c - sharded counters; see stats.h. */
#include "core/stats.h"

#include <limits.h>

static _Atomic unsigned tapiq_stats_next_shard;
static _Thread_local unsigned tapiq_stats_my_shard = UINT_MAX;

unsigned tapiq_stats_thread_shard(void)
{
    unsigned s = tapiq_stats_my_shard;
    if (s == UINT_MAX) {
        /* relaxed: only spreads threads over shards. */
        s = atomic_fetch_add_explicit(&tapiq_stats_next_shard, 1, memory_order_relaxed) %
            TAPIQ_STATS_SHARDS;
        tapiq_stats_my_shard = s;
    }
    return s;
}

uint64_t tapiq_stats_sum(struct tapiq_stats_set *s, enum tapiq_ctr c)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < TAPIQ_STATS_SHARDS; i++)
        /* relaxed: a statistic. */
        sum += atomic_load_explicit(&s->shard[i].c[c], memory_order_relaxed);
    return sum;
}
