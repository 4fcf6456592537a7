/* core/payload.c - payload pools; see payload.h. */
#include "core/payload.h"

#include <string.h>

static void slot_number(void *arg, size_t i, uint32_t *out)
{
    (void)arg;
    *out = (uint32_t)i;
}

TAPIQ_NO_COVERAGE int tapiq_pool_init(struct tapiq_pool *p, uint32_t slots, uint32_t slot_bytes)
{
    memset(p, 0, sizeof(*p));
    if (slots == 0 || slots > TAPIQ_MAX_PAYLOADS || slot_bytes > TAPIQ_MAX_PAYLOAD_BYTES)
        return -EINVAL;
    if (tapiq_slotq_init(&p->free, slots))
        return -ENOMEM;
    p->rec = tapiq_calloc(slots, sizeof(*p->rec));
    p->bytes = tapiq_aligned_alloc(TAPIQ_CACHELINE, (size_t)slots * (slot_bytes ? slot_bytes : 1));
    if (!p->rec || !p->bytes) {
        tapiq_pool_destroy(p);
        return -ENOMEM;
    }
    p->slots = slots;
    p->slot_bytes = slot_bytes;
    tapiq_slotq_fill(&p->free, slot_number, NULL, slots);
    return 0;
}

void tapiq_pool_destroy(struct tapiq_pool *p)
{
    if (p->free.cells)
        tapiq_slotq_destroy(&p->free);
    free(p->rec);
    free(p->bytes);
    p->rec = NULL;
    p->bytes = NULL;
}
