/* core/wake.c - futex event count; see wake.h. */
#include "core/wake.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static void futex_wait_u32(_Atomic uint32_t *addr, uint32_t val)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_u32(_Atomic uint32_t *addr, int n)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

void tapiq_wake_init(struct tapiq_wake *w)
{
    atomic_init(&w->seq, 0);
    atomic_init(&w->sleepers, 0);
    atomic_init(&w->idle, 0);
    atomic_init(&w->pending, 0);
}

void tapiq_wake_idle_enter(struct tapiq_wake *w)
{
    /* seq_cst: like prepare(): a signal_lazy() that saw this waiter idle and
     * skipped the wake-up is ordered before the waiter's next look. */
    atomic_fetch_add_explicit(&w->idle, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
}

void tapiq_wake_idle_leave(struct tapiq_wake *w)
{
    /* seq_cst RMW and fence: see idle_enter(); the caller's next look at its
     * condition stays after this. */
    atomic_fetch_sub_explicit(&w->idle, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
}

uint32_t tapiq_wake_prepare(struct tapiq_wake *w)
{
    /* seq_cst: the increment is ordered before the waiter's re-check of its
     * condition; pairs with the fence + load of sleepers in signal(). */
    atomic_fetch_add_explicit(&w->sleepers, 1, memory_order_seq_cst);
    /* seq_cst: after announcing, before the re-check (see wake.h). */
    atomic_store_explicit(&w->pending, 0, memory_order_seq_cst);
    /* seq_cst fence: the caller's re-check (which may use relaxed loads)
     * stays after the announcement in the C11 model too. */
    atomic_thread_fence(memory_order_seq_cst);
    /* seq_cst: the ticket is read after announcing, so a signal() that saw
     * no sleeper cannot have bumped seq between ticket and announcement. */
    return atomic_load_explicit(&w->seq, memory_order_seq_cst);
}

void tapiq_wake_wait(struct tapiq_wake *w, uint32_t ticket)
{
    /* acquire: pairs with the release increment of seq in signal(). */
    while (atomic_load_explicit(&w->seq, memory_order_acquire) == ticket) {
        futex_wait_u32(&w->seq, ticket);
        /* a spurious return re-checks the ticket: the caller re-checks its
         * condition anyway after we return, so returning is also fine. */
        break;
    }
    /* relaxed: the wake-up that was on its way has arrived (see wake.h). */
    atomic_store_explicit(&w->pending, 0, memory_order_relaxed);
    /* relaxed: the count is only a hint to wakers (a stale non-zero costs one
     * futex_wake system call at most). */
    atomic_fetch_sub_explicit(&w->sleepers, 1, memory_order_relaxed);
}

void tapiq_wake_cancel(struct tapiq_wake *w)
{
    /* relaxed: see tapiq_wake_wait(). */
    atomic_fetch_sub_explicit(&w->sleepers, 1, memory_order_relaxed);
}

int tapiq_wake_signal(struct tapiq_wake *w)
{
    /* seq_cst fence: the caller's store that made the condition true is
     * ordered before the load of sleepers; pairs with prepare(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&w->sleepers, memory_order_relaxed) == 0)
        return 0;
    /* seq_cst: against the clearing store in prepare() (see wake.h). */
    if (atomic_exchange_explicit(&w->pending, 1, memory_order_seq_cst))
        return 0;
    /* release: pairs with the acquire load of seq in wait(). */
    atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
    futex_wake_u32(&w->seq, 1);
    return 1;
}

int tapiq_wake_signal_lazy(struct tapiq_wake *w, size_t backlog, size_t per_idle)
{
    uint32_t idle;
    /* seq_cst fence: the caller's store that made work available is ordered
     * before these loads; pairs with prepare() and idle_enter(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&w->sleepers, memory_order_relaxed) == 0)
        return 0;
    idle = atomic_load_explicit(&w->idle, memory_order_relaxed);
    if (idle && backlog <= per_idle * idle)
        return 0; /* an idle waiter looks again before it sleeps */
    /* seq_cst: against the clearing store in prepare() (see wake.h). */
    if (atomic_exchange_explicit(&w->pending, 1, memory_order_seq_cst))
        return 0;
    /* release: pairs with the acquire load of seq in wait(). */
    atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
    futex_wake_u32(&w->seq, 1);
    return 1;
}

void tapiq_wake_broadcast(struct tapiq_wake *w)
{
    /* release: pairs with the acquire load of seq in wait(). */
    atomic_fetch_add_explicit(&w->seq, 1, memory_order_seq_cst);
    futex_wake_u32(&w->seq, INT_MAX);
}
