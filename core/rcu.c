/* core/rcu.c - grace periods over liburcu-bp; see rcu.h. */
#include "core/rcu.h"

#ifdef TAPIQ_TSAN
char tapiq_rcu_grace;
#endif

void tapiq_rcu_synchronize(void)
{
    urcu_bp_synchronize_rcu();
#ifdef TAPIQ_TSAN
    __tsan_acquire(&tapiq_rcu_grace);
#endif
}
