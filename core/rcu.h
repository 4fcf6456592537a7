/* core/rcu.h - the read-copy-update primitives tapiq uses, over liburcu-bp.
 *
 * liburcu's "bulletproof" flavour registers reader threads lazily, so an
 * embedding application never calls liburcu itself. Pointers are published
 * and read with C11 atomics (release store / acquire load), which
 * ThreadSanitizer understands. What it cannot see is liburcu-bp's grace
 * period: the end of every read-side critical section happens-before the
 * return of a later tapiq_rcu_synchronize(). Under ThreadSanitizer the
 * helpers below state that edge explicitly (release on unlock, acquire after
 * synchronize, on one shared address).
 *
 * Concurrency: read_lock/unlock from any thread, nestable; synchronize from
 * any thread that is not inside a read-side critical section (it blocks until
 * every critical section that began before it has ended).
 * Progress: read_lock/unlock are wait-free; synchronize is blocking.
 */
#ifndef TAPIQ_CORE_RCU_H
#define TAPIQ_CORE_RCU_H

void tapiq_rcu_read_lock(void);
void tapiq_rcu_read_unlock(void);
void tapiq_rcu_synchronize(void);

#endif /* TAPIQ_CORE_RCU_H */
