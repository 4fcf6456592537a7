/* core/payload.h - a worker's payload pool: the arguments of the
 * asynchronous phoneSet* requests besides phoneSetLamp.
 *
 * A lamp request fits the 16-byte submission entry (core/sq.h); the others
 * (display text, data, button info, device-specific bytes, and the scalar
 * settings with them) take one slot of the pool of the device's worker: a
 * record (kind and scalar arguments) and payload_bytes bytes. The entry then
 * says "attribute request" (lamp == TAPIQ_SQE_ATTR) and carries the slot
 * number in its mode field. The pool is sized at configuration (the
 * `payloads` and `payload_bytes` keys): nothing is allocated per request,
 * and an empty pool is backpressure (PHONEERR_RESOURCEUNAVAIL), as a full
 * ring is.
 *
 * Life of a slot: an issuing thread takes it (get_try), fills it, then
 * publishes the submission entry that names it (the ring's release store);
 * the worker reads it through that entry, hands it to the backend inside a
 * batch, and puts it back (put) once the batch completed, before the
 * replies are posted. A thread that took a slot and then found its ring
 * full puts it back itself.
 *
 * Synchronization table:
 *               get_try   put     rec/bytes of a slot
 *   get_try     yes       yes     -
 *   put         yes       yes     -
 *   rec/bytes   only the slot's current holder (the taker until the entry
 *               is published, then the worker)
 * Progress: get_try and put are lock-free (core/mpmc.h), never wait for
 * another thread; put never fails (the free ring holds every slot).
 * Invariants: 1 <= slots <= TAPIQ_MAX_PAYLOADS (a slot number fits the
 * entry's 16-bit mode field); every slot is either in the free ring or held
 * by exactly one thread.
 */
#ifndef TAPIQ_CORE_PAYLOAD_H
#define TAPIQ_CORE_PAYLOAD_H

#include <stdint.h>

#include "core/mpmc.h"

#define TAPIQ_SQE_ATTR 0xFFFFu /* sqe.lamp of an attribute request (> TAPIQ_MAX_LAMPS) */
#define TAPIQ_MAX_PAYLOADS 32768u
#define TAPIQ_MAX_PAYLOAD_BYTES 65536u

/* A slot's record: tapiq_attr's fields (see <tapiq/tapiq.h>), and the
 * worker's coalescing bookkeeping. */
struct tapiq_payload {
    uint32_t kind, id, a, b, size;
    uint16_t final; /* worker: the slot whose update answers this request */
    uint8_t entry;  /* worker: its index in the batch's attributes */
};

TAPIQ_MPMC_DEFINE(tapiq_slotq, uint32_t)

struct tapiq_pool {
    struct tapiq_slotq free;
    struct tapiq_payload *rec;
    unsigned char *bytes;
    uint32_t slots, slot_bytes;
};

/* @slots records of @slot_bytes bytes each. Returns 0 or -ENOMEM. */
int tapiq_pool_init(struct tapiq_pool *p, uint32_t slots, uint32_t slot_bytes);
void tapiq_pool_destroy(struct tapiq_pool *p);

/* tapiq_pool_get_try - take a free slot.
 * Concurrency: any thread; lock-free.
 * Ordering: acquire (the pop); the last holder's reads of the slot
 * happen-before our writes.
 * Ownership: on 0 the caller holds *slot until it publishes it or puts it.
 * Returns: 0 with *slot, or -EAGAIN when every slot is taken. */
static inline int tapiq_pool_get_try(struct tapiq_pool *p, uint32_t *slot)
{
    return tapiq_slotq_pop_try(&p->free, slot, 1) == 1 ? 0 : -EAGAIN;
}

/* tapiq_pool_put - give @slot back. Concurrency: any thread (its holder);
 * lock-free. Ordering: release (the push); our reads of the slot
 * happen-before the next taker's writes. Never fails. */
static inline void tapiq_pool_put(struct tapiq_pool *p, uint32_t slot)
{
    size_t n = tapiq_slotq_push_try(&p->free, &slot, 1);
    (void)n; /* the ring holds every slot: always 1 */
}

static inline struct tapiq_payload *tapiq_pool_rec(struct tapiq_pool *p, uint32_t slot)
{
    return &p->rec[slot];
}

static inline unsigned char *tapiq_pool_bytes(struct tapiq_pool *p, uint32_t slot)
{
    return p->bytes + (size_t)slot * p->slot_bytes;
}

#endif /* TAPIQ_CORE_PAYLOAD_H */
