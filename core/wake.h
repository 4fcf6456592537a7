/* core/wake.h - sleep and wake idle workers without missed wake-ups.
 *
 * An event count over a futex. A waiter announces itself (prepare), checks
 * its condition once more, then sleeps only if the count did not move. A
 * waker that changed the condition calls signal(), which costs one fence and
 * one load when nobody sleeps (the common case under load): no system call.
 *
 * Synchronization table: prepare/wait/cancel from any number of waiter
 * threads; signal/broadcast from any thread; all may run concurrently.
 * Progress: signal is wait-free; wait is blocking (that is its job).
 *
 * Protocol (Dekker-style, both sides sequentially consistent):
 *   waiter:  t = prepare(w); if (condition) { cancel(w); } else { wait(w, t); }
 *   waker:   make condition true (any store); signal(w);
 * Either the waiter's re-check sees the condition, or the waker sees the
 * sleeper count and bumps the sequence, which makes a pending wait return.
 * One wake-up at a time: a waker that finds `pending` set leaves it to the
 * wake-up already on its way. prepare() clears `pending` after announcing
 * and before the re-check, so a waker that skipped because of it did so
 * before that re-check, which then sees the condition; a woken waiter clears
 * it too, so that the next sleeper can be woken at once.
 */
#ifndef TAPIQ_CORE_WAKE_H
#define TAPIQ_CORE_WAKE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"

struct tapiq_wake {
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t seq;
    _Atomic uint32_t sleepers;
    _Atomic uint32_t idle; /* looking for work, not asleep (see signal_lazy) */
    _Atomic uint32_t pending; /* a wake-up is on its way: others need not send one */
};

void tapiq_wake_init(struct tapiq_wake *w);
/* Announce a sleeper; returns the ticket for tapiq_wake_wait(). */
uint32_t tapiq_wake_prepare(struct tapiq_wake *w);
/* Sleep until signalled or the sequence moved past @ticket; then un-announce. */
void tapiq_wake_wait(struct tapiq_wake *w, uint32_t ticket);
/* Un-announce without sleeping. */
void tapiq_wake_cancel(struct tapiq_wake *w);
/* Wake one sleeper if any; returns 1 if a wake-up was sent. */
int tapiq_wake_signal(struct tapiq_wake *w);
/* A waiter that runs out of work calls idle_enter() before it polls for
 * more, and idle_leave() when it found some, or after prepare() when it goes
 * to sleep (so it is always counted as idle or sleeping until it works). */
void tapiq_wake_idle_enter(struct tapiq_wake *w);
void tapiq_wake_idle_leave(struct tapiq_wake *w);
/* Wake one sleeper unless an idle waiter will find the work itself: none is
 * woken while some waiter is idle and @backlog (work items waiting) is at
 * most @per_idle per idle waiter. A busy waiter does not count: it may be
 * held up for long. Returns 1 if a wake-up was sent. */
int tapiq_wake_signal_lazy(struct tapiq_wake *w, size_t backlog, size_t per_idle);
/* Wake every sleeper (shutdown). */
void tapiq_wake_broadcast(struct tapiq_wake *w);

#endif /* TAPIQ_CORE_WAKE_H */
