/* core/cring.h - one application's completion ring (its message queue).
 *
 * Workers post PHONE_REPLY and PHONE_STATE messages; the application's threads
 * take them with phoneGetMessage (or its callback thread does). Like
 * io_uring's NODROP mode, room is reserved before work starts, so posting
 * never fails:
 *  - every accepted request takes one reply credit, returned when the
 *    application has taken the reply (or when the reply is suppressed);
 *    no credit left means backpressure (PHONEERR_RESOURCEUNAVAIL);
 *  - PHONE_STATE messages use a separate event room that handles reserve
 *    when they subscribe (runtime.c keeps at most one message per lamp and
 *    handle in the ring, coalescing the rest).
 * A pollable eventfd makes "messages pending" visible to poll() and lets
 * blocking waits sleep without spinning.
 *
 * Synchronization table:
 *                 post   pop    credits  wait   close
 *   post          yes    yes    yes      yes    yes
 *   pop           yes    yes    yes      yes    yes
 *   credits       yes    yes    yes      yes    yes
 *   wait          yes    yes    yes      yes    yes
 *   init/destroy  no     no     no       no     no (caller excludes)
 * Progress: post, pop and the credit operations are lock-free; wait blocks
 * (poll on the eventfd) until a post, close, or the timeout.
 * Invariants: replies in the ring + reply credits outstanding + credits left
 * == the reply capacity; events in the ring <= events reserved <= the event
 * capacity; so count <= capacity and a post always finds room.
 */
#ifndef TAPIQ_CORE_CRING_H
#define TAPIQ_CORE_CRING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"

struct tapiq_cmsg {
    uint32_t handle; /* HPHONE */
    uint32_t msg;    /* PHONE_REPLY or PHONE_STATE */
    uint32_t p1;     /* request id, or PHONESTATE_* */
    uint32_t p2;     /* status (LONG), or lamp id */
};

TAPIQ_MPMC_DEFINE(tapiq_cmq, struct tapiq_cmsg)

struct tapiq_cring {
    struct tapiq_cmq q;
    alignas(TAPIQ_CACHELINE) _Atomic int64_t credits; /* reply credits left */
    alignas(TAPIQ_CACHELINE) _Atomic int64_t events;  /* event room not reserved */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t need_signal;
    _Atomic uint32_t closed;
    int efd;
    int level; /* keep the fd readable exactly while messages are pending */
};

/* @replies reply credits, @events event room. @level: the fd is for the
 * application to poll (USEEVENT). Returns 0, -ENOMEM, -EMFILE ... */
int tapiq_cring_init(struct tapiq_cring *c, uint32_t replies, uint32_t events, int level);
void tapiq_cring_destroy(struct tapiq_cring *c);

/* Take up to @n reply credits (1 when fewer than 256 x @n are left);
 * returns how many were taken. Lock-free.
 * acquire: pairs with the release in put_credits, so the ring cells the
 * consumer freed are seen free by the post that uses the credit. */
uint32_t tapiq_cring_take_credits(struct tapiq_cring *c, uint32_t n);
void tapiq_cring_put_credits(struct tapiq_cring *c, uint32_t n);

/* Reserve / release event room. reserve returns 0 or -EAGAIN. */
int tapiq_cring_reserve_events(struct tapiq_cring *c, uint32_t n);
void tapiq_cring_release_events(struct tapiq_cring *c, uint32_t n);

/* Post @n messages for which room is reserved; wakes a waiter if one sleeps
 * (or makes the fd readable). Never fails, never sleeps. */
void tapiq_cring_post(struct tapiq_cring *c, const struct tapiq_cmsg *m, uint32_t n);

/* Take one message: 1, or 0 when empty. */
int tapiq_cring_pop(struct tapiq_cring *c, struct tapiq_cmsg *m);

/* After a pop found the ring empty: arm the wake-up, re-check, and sleep
 * until something is posted, the ring is closed, or @timeout_ms passes
 * (INFINITE for none). Returns 0 (look again), -ETIMEDOUT, -ESHUTDOWN. */
int tapiq_cring_wait(struct tapiq_cring *c, uint32_t timeout_ms);

/* Make every waiter return -ESHUTDOWN (and the fd readable). */
void tapiq_cring_close(struct tapiq_cring *c);

/* After a successful pop by a level-triggered ring: if that emptied the ring,
 * make the fd unreadable without losing a concurrent post. */
void tapiq_cring_settle(struct tapiq_cring *c);

#endif /* TAPIQ_CORE_CRING_H */
