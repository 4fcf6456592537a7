/* core/rcu.c - liburcu-bp with ThreadSanitizer annotations; see rcu.h. */
#include "core/rcu.h"

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
static char tapiq_rcu_grace;
#endif

void tapiq_rcu_read_lock(void)
{
    urcu_bp_read_lock();
}

void tapiq_rcu_read_unlock(void)
{
#ifdef TAPIQ_TSAN
    /* Everything this reader did happens-before the end of the next grace
     * period: pairs with the acquire in tapiq_rcu_synchronize(). */
    __tsan_release(&tapiq_rcu_grace);
#endif
    urcu_bp_read_unlock();
}

void tapiq_rcu_synchronize(void)
{
    urcu_bp_synchronize_rcu();
#ifdef TAPIQ_TSAN
    __tsan_acquire(&tapiq_rcu_grace);
#endif
}
