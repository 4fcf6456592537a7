/* core/stats.c - sharded counters; see stats.h. */
#include "core/stats.h"

#include <limits.h>

static _Atomic unsigned tapiq_stats_next_shard;
TAPIQ_TLS unsigned tapiq_stats_my_shard;

unsigned tapiq_stats_assign_shard(void)
{
    /* relaxed: only spreads threads over shards. */
    unsigned s = atomic_fetch_add_explicit(&tapiq_stats_next_shard, 1, memory_order_relaxed) %
                 TAPIQ_STATS_SHARDS;
    tapiq_stats_my_shard = s + 1;
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
