/* core/guard.c - reader records and grace periods; see guard.h. */
#include "core/guard.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ctr 1 (odd) until registered: see struct tapiq_guard_tls. */
TAPIQ_TLS struct tapiq_guard_tls tapiq_guard_me = {.ctr = 1};
_Atomic uint32_t tapiq_guard_strong = 1;
_Atomic uint64_t tapiq_guard_overflow;
#ifdef TAPIQ_TSAN
TAPIQ_TLS _Atomic uint32_t tapiq_guard_fence_word;
#endif

static struct tapiq_guard_rec g_recs[TAPIQ_GUARD_RECORDS];
static _Atomic uint32_t g_recs_hwm; /* records [0, hwm) were ever claimed */
static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static pthread_once_t g_mb_once = PTHREAD_ONCE_INIT;

static void rec_release(void *arg)
{
    struct tapiq_guard_rec *r = arg;
    /* release: the thread's last section happens-before the record's next
     * owner; pairs with the acquire CAS in tapiq_guard_register(). */
    atomic_store_explicit(&r->used, 0, memory_order_release);
}

static void key_create(void)
{
    pthread_key_create(&g_key, rec_release);
}

void tapiq_guard_register(void)
{
    struct tapiq_guard_tls *me = &tapiq_guard_me;
    pthread_once(&g_key_once, key_create);
    for (uint32_t i = 0; i < TAPIQ_GUARD_RECORDS; i++) {
        struct tapiq_guard_rec *r = &g_recs[i];
        uint32_t expected = 0, hwm;
        /* relaxed pre-check, then acquire CAS: pairs with rec_release(). */
        if (atomic_load_explicit(&r->used, memory_order_relaxed) ||
            !atomic_compare_exchange_strong_explicit(&r->used, &expected, 1,
                                                     memory_order_acquire, memory_order_relaxed))
            continue;
        /* The count goes on from where the last owner left it (even). */
        me->ctr = atomic_load_explicit(&r->ctr, memory_order_relaxed);
        me->rec = r;
        /* release: a synchronize that reads the new hwm sees the record
         * claimed; pairs with the acquire load of g_recs_hwm in
         * tapiq_guard_synchronize_blocking(). */
        hwm = atomic_load_explicit(&g_recs_hwm, memory_order_relaxed);
        while (hwm < i + 1 &&
               !atomic_compare_exchange_weak_explicit(&g_recs_hwm, &hwm, i + 1,
                                                      memory_order_release, memory_order_relaxed))
            ;
        if (pthread_setspecific(g_key, r) != 0) {
            rec_release(r);
            break;
        }
        me->state = 1;
        return;
    }
    me->rec = NULL;
    me->ctr = 1; /* odd for good: every section takes the slow path */
    me->state = 2;
}

void tapiq_guard_enter_slow(void)
{
    struct tapiq_guard_tls *me = &tapiq_guard_me;
    if (me->rec && (me->ctr & 1)) {
        me->depth++; /* nested */
        return;
    }
    if (me->state == 0)
        tapiq_guard_register();
    if (me->rec) {
        tapiq_guard_enter(); /* registered now: the fast path */
        return;
    }
    /* Beyond the records: one shared count. seq_cst: the count is visible
     * before our loads of pointers; pairs with the seq_cst fence and the
     * load of the overflow count in tapiq_guard_synchronize_blocking(). */
    if (me->depth++ == 0)
        atomic_fetch_add_explicit(&tapiq_guard_overflow, 1, memory_order_seq_cst);
}

void tapiq_guard_exit_slow(void)
{
    struct tapiq_guard_tls *me = &tapiq_guard_me;
    if (me->rec) {
        me->depth--; /* a nested section ends */
        return;
    }
    /* release: pairs with the acquire load in tapiq_guard_synchronize_blocking(). */
    if (--me->depth == 0)
        atomic_fetch_sub_explicit(&tapiq_guard_overflow, 1, memory_order_release);
}

static void mb_init(void)
{
#ifndef TAPIQ_TSAN
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        /* seq_cst: any reader that reads 0 runs after registration. */
        atomic_store_explicit(&tapiq_guard_strong, 0, memory_order_seq_cst);
#endif
}

void tapiq_guard_init(void)
{
    pthread_once(&g_mb_once, mb_init);
}

void tapiq_guard_heavy_fence(void)
{
    /* relaxed: see light_fence(); a reader that fences needs no IPI. */
    if (atomic_load_explicit(&tapiq_guard_strong, memory_order_relaxed) ||
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
        atomic_thread_fence(memory_order_seq_cst);
}

void tapiq_guard_synchronize_blocking(void)
{
    uint32_t n;
    /* Our unpublishing stores are ordered before the loads of the counts
     * below on every CPU: pairs with the light fence in tapiq_guard_enter(). */
    atomic_thread_fence(memory_order_seq_cst);
    tapiq_guard_heavy_fence();
    /* acquire: pairs with the release CAS in tapiq_guard_register(). */
    n = atomic_load_explicit(&g_recs_hwm, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        struct tapiq_guard_rec *r = &g_recs[i];
        /* acquire: pairs with the release store in tapiq_guard_exit(). */
        uint32_t v = atomic_load_explicit(&r->ctr, memory_order_acquire);
        if (r == tapiq_guard_me.rec)
            continue; /* our own record: not inside a section (see guard.h) */
        if (v & 1)
            while (atomic_load_explicit(&r->ctr, memory_order_acquire) == v)
                sched_yield();
    }
    /* acquire: pairs with the release fetch_sub in tapiq_guard_exit(). */
    while (atomic_load_explicit(&tapiq_guard_overflow, memory_order_acquire) != 0)
        sched_yield();
}

void tapiq_guard_after_fork(void)
{
    /* relaxed: the child has one thread. */
    uint32_t n = atomic_load_explicit(&g_recs_hwm, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++) {
        struct tapiq_guard_rec *r = &g_recs[i];
        if (r == tapiq_guard_me.rec)
            continue;
        atomic_store_explicit(&r->used, 0, memory_order_relaxed);
        atomic_store_explicit(&r->ctr,
                              atomic_load_explicit(&r->ctr, memory_order_relaxed) & ~1u,
                              memory_order_relaxed);
    }
    atomic_store_explicit(&tapiq_guard_overflow, 0, memory_order_relaxed);
}
