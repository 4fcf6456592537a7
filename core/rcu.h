/* core/rcu.h - the read-copy-update primitives tapiq uses, over liburcu-bp.
 *
 * liburcu's "bulletproof" flavour registers reader threads lazily, so an
 * embedding application never calls liburcu itself. In optimised builds its
 * read side is inlined here (_LGPL_SOURCE; liburcu is LGPL-2.1, which permits
 * this for code under a compatible licence) and the library is built with the
 * initial-exec TLS model, so entering and leaving a critical section costs a
 * few instructions and no call.
 *
 * Pointers are published and read with C11 atomics (release store / acquire
 * load), which ThreadSanitizer understands. What it cannot see is
 * liburcu-bp's grace period: the end of every read-side critical section
 * happens-before the return of a later tapiq_rcu_synchronize(). Under
 * ThreadSanitizer the helpers state that edge explicitly (release on unlock,
 * acquire after synchronize, on one shared address).
 *
 * Concurrency: read_lock/unlock from any thread, nestable; synchronize from
 * any thread that is not inside a read-side critical section (it blocks until
 * every critical section that began before it has ended).
 * Progress: read_lock/unlock are wait-free; synchronize is blocking.
 */
#ifndef TAPIQ_CORE_RCU_H
#define TAPIQ_CORE_RCU_H

/* TAPIQ_RCU_INLINE is set by the build when no sanitizer is on: liburcu-bp
 * 0.13's inline read side dereferences its reader records at 128-byte
 * alignment that its own allocator does not give them, which UBSan reports;
 * sanitized builds call the exported functions instead (same behaviour). */
#if defined(TAPIQ_RCU_INLINE) && !defined(_LGPL_SOURCE)
#define _LGPL_SOURCE
#endif
#include <urcu-bp.h>

#if defined(__SANITIZE_THREAD__)
#define TAPIQ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TAPIQ_TSAN 1
#endif
#endif

#ifdef TAPIQ_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* The one address that stands for "a grace period has elapsed". */
extern char tapiq_rcu_grace;
#endif

static inline void tapiq_rcu_read_lock(void)
{
    urcu_bp_read_lock();
}

static inline void tapiq_rcu_read_unlock(void)
{
#ifdef TAPIQ_TSAN
    /* Everything this reader did happens-before the end of the next grace
     * period: pairs with the acquire in tapiq_rcu_synchronize(). */
    __tsan_release(&tapiq_rcu_grace);
#endif
    urcu_bp_read_unlock();
}

void tapiq_rcu_synchronize(void);

#endif /* TAPIQ_CORE_RCU_H */
