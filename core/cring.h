/* core/cring.h - one application's event ring and its wake-up.
 *
 * Workers and backend threads post PHONE_STATE and PHONE_BUTTON messages
 * here; replies go to the per-worker completion queues (core/cq.h), which
 * share this ring's wake-up: tapiq_cring_notify() after posting to them, and
 * the @pending callback given at init tells wait()/settle() whether they
 * hold messages.
 * Both use an event room that handles reserve when they subscribe
 * (core/handle.c keeps at most one PHONE_STATE per lamp and handle in the
 * ring, coalescing the rest, and posts a PHONE_BUTTON only into room the
 * handle holds), so posting never fails.
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
 * Invariants: events in the ring <= events reserved <= the event capacity,
 * so a post always finds room.
 */
#ifndef TAPIQ_CORE_CRING_H
#define TAPIQ_CORE_CRING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"

struct tapiq_cmsg {
    uint32_t handle; /* HPHONE */
    uint32_t msg;    /* PHONE_REPLY, PHONE_STATE or PHONE_BUTTON */
    uint32_t p1;     /* request id, PHONESTATE_*, or button id */
    uint32_t p2;     /* status (LONG), lamp id / state value, or button mode | state << 16 */
};

TAPIQ_MPMC_DEFINE(tapiq_cmq, struct tapiq_cmsg)

struct tapiq_cring {
    struct tapiq_cmq q;
    alignas(TAPIQ_CACHELINE) _Atomic int64_t events;  /* event room not reserved */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t need_signal;
    _Atomic uint32_t closed;
    int efd;
    int level; /* keep the fd readable exactly while messages are pending */
    int (*pending)(void *arg); /* messages elsewhere (completion queues)? */
    void *pending_arg;
};

/* @events event room. @level: the fd is for the application to poll
 * (USEEVENT). @pending/@arg: see above (may be NULL). Returns 0, -ENOMEM,
 * -EMFILE ... */
int tapiq_cring_init(struct tapiq_cring *c, uint32_t events, int level,
                     int (*pending)(void *arg), void *arg);
void tapiq_cring_destroy(struct tapiq_cring *c);

/* Reserve / release event room. reserve returns 0 or -EAGAIN. */
int tapiq_cring_reserve_events(struct tapiq_cring *c, uint32_t n);
void tapiq_cring_release_events(struct tapiq_cring *c, uint32_t n);

/* After messages were made visible elsewhere (a completion queue): wake a
 * waiter if one sleeps, or make the fd readable. Never sleeps. Ordering: a
 * seq_cst fence orders the caller's publish before the load of need_signal;
 * pairs with the fence in wait()/settle(). */
void tapiq_cring_notify(struct tapiq_cring *c);

/* Post @n messages for which room is reserved; wakes a waiter if one sleeps
 * (or makes the fd readable). Never fails, never sleeps. */
void tapiq_cring_post(struct tapiq_cring *c, const struct tapiq_cmsg *m, uint32_t n);

/* After a pop found the ring empty: arm the wake-up, re-check, and sleep
 * until something is posted, the ring is closed, or @timeout_ms passes
 * (INFINITE for none). Returns 0 (look again), -ETIMEDOUT, -ESHUTDOWN. */
int tapiq_cring_wait(struct tapiq_cring *c, uint32_t timeout_ms);

/* Has close() run? (acquire: pairs with its release store) */
static inline int tapiq_cring_closed(struct tapiq_cring *c)
{
    return (int)atomic_load_explicit(&c->closed, memory_order_acquire);
}

/* Make every waiter return -ESHUTDOWN (and the fd readable). */
void tapiq_cring_close(struct tapiq_cring *c);

/* After a successful pop by a level-triggered ring: if that emptied the ring,
 * make the fd unreadable without losing a concurrent post. */
void tapiq_cring_settle(struct tapiq_cring *c);

#endif /* TAPIQ_CORE_CRING_H */
