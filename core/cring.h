/* core/cring.h - one application's event ring and its wake-up.
 *
 * Workers and backend threads post PHONE_STATE and PHONE_BUTTON messages
 * here; replies go to the per-worker completion queues (core/cq.h), which
 * share this ring's wake-up: tapiq_cring_notify() after posting to them, and
 * the @pending callback given at init tells wait_blocking()/settle() whether
 * they hold messages.
 * Both use an event room that handles reserve when they subscribe
 * (core/handle.c keeps at most one PHONE_STATE per lamp and handle in the
 * ring, coalescing the rest, and posts a PHONE_BUTTON only into room the
 * handle holds), so posting never fails for room.
 * A pollable eventfd makes "messages pending" visible to poll() and lets
 * blocking waits sleep without spinning.
 *
 * Synchronization table (post = post_blocking, wait = wait_blocking,
 * credits = reserve/release_events):
 *                 post   pop    credits  wait   close
 *   post          yes    yes    yes      yes    yes
 *   pop           yes    yes    yes      yes    yes
 *   credits       yes    yes    yes      yes    yes
 *   wait          yes    yes    yes      yes    yes
 *   init/destroy  no     no     no       no     no (caller excludes)
 * Progress: pop, notify and the reserve/release operations are lock-free.
 * post_blocking is not: room is reserved, but a consumer that claimed a cell
 * a lap behind and was preempted before it finished reading it keeps that
 * cell; the post waits (yielding the CPU) until that consumer runs again.
 * wait_blocking blocks (poll on the eventfd) until a post, close, or the
 * timeout.
 * Invariants: events in the ring <= events reserved <= the event capacity,
 * so a post always finds room (once the cell's last reader has left it).
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
 * waiter if one sleeps, or make the fd readable. Never sleeps, never waits.
 * Ordering: a seq_cst fence orders the caller's publish before the load of
 * need_signal; pairs with the seq_cst store of need_signal (and the fence
 * after it) in tapiq_cring_wait_blocking() and tapiq_cring_settle(). */
void tapiq_cring_notify(struct tapiq_cring *c);

/* Post @n messages for which room is reserved; wakes a waiter if one sleeps
 * (or makes the fd readable). Never fails. Waits: when a consumer that took
 * a cell a lap behind was preempted before it finished reading it, the post
 * yields (sched_yield) in a loop until that consumer has left the cell; it
 * never sleeps on a timer or a lock, but its progress then depends on the
 * preempted consumer being scheduled. */
void tapiq_cring_post_blocking(struct tapiq_cring *c, const struct tapiq_cmsg *m, uint32_t n);

/* After a pop found the ring empty: arm the wake-up, re-check, and sleep
 * (poll on the eventfd) until something is posted, the ring is closed, or
 * @timeout_ms passes (INFINITE for none). Blocks.
 * Returns 0 (look again), -ETIMEDOUT, -ESHUTDOWN, or poll()'s -errno
 * (-ENOMEM; -EINVAL when RLIMIT_NOFILE is 0): the wait failed, and retrying
 * at once would spin; the caller reports it. */
int tapiq_cring_wait_blocking(struct tapiq_cring *c, uint32_t timeout_ms);

/* Has close() run? (acquire: pairs with its release store) */
static inline int tapiq_cring_closed(struct tapiq_cring *c)
{
    return (int)atomic_load_explicit(&c->closed, memory_order_acquire);
}

/* Make every waiter return -ESHUTDOWN (and the fd readable). Never waits. */
void tapiq_cring_close(struct tapiq_cring *c);

/* After a successful pop by a level-triggered ring: if that emptied the ring,
 * make the fd unreadable without losing a concurrent post. Never waits. */
void tapiq_cring_settle(struct tapiq_cring *c);

#endif /* TAPIQ_CORE_CRING_H */
