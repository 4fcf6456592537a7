/* core/cq.c - completion queues; see cq.h. */
#include "core/cq.h"

#include <errno.h>
#include <stdlib.h>

#include "core/alloc.h"

TAPIQ_NO_COVERAGE int tapiq_cq_init(struct tapiq_cq *q, uint32_t size)
{
    q->e = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*q->e) * size);
    if (!q->e)
        return -ENOMEM;
    for (uint32_t i = 0; i < size; i++) {
        atomic_init(&q->e[i][0], 0);
        atomic_init(&q->e[i][1], 0);
    }
    q->mask = size - 1;
    q->head_cache = 0;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    return 0;
}

void tapiq_cq_destroy(struct tapiq_cq *q)
{
    free(q->e);
    q->e = NULL;
}

uint32_t tapiq_cq_take(struct tapiq_cq *q, struct tapiq_cqe *out, uint32_t max, uint32_t limit)
{
    uint32_t h = tapiq_cq_head(q);
    for (;;) {
        uint32_t n = limit - h;
        if ((int32_t)n <= 0)
            return 0;
        if (n > max)
            n = max;
        for (uint32_t i = 0; i < n; i++)
            tapiq_cq_read(q, h + i, &out[i]);
        if (tapiq_cq_commit(q, &h, n))
            return n;
    }
}
