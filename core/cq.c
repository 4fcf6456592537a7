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
    /* relaxed: the CAS below validates what we read. */
    uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (;;) {
        uint32_t n = limit - h;
        if ((int32_t)n <= 0)
            return 0;
        if (n > max)
            n = max;
        for (uint32_t i = 0; i < n; i++) {
            _Atomic uint64_t *w = q->e[(h + i) & q->mask];
            /* relaxed: made visible by the acquire load of tail that gave
             * @limit; validated by the CAS. */
            uint64_t a = atomic_load_explicit(&w[0], memory_order_relaxed);
            uint64_t b = atomic_load_explicit(&w[1], memory_order_relaxed);
            out[i].handle = (uint32_t)a;
            out[i].msg = (uint32_t)(a >> 32);
            out[i].p1 = (uint32_t)b;
            out[i].p2 = (uint32_t)(b >> 32);
        }
        /* release: our reads of the entries happen-before the producer
         * reuses them (its acquire load in tapiq_cq_room()). */
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + n, memory_order_release,
                                                  memory_order_relaxed))
            return n;
    }
}
