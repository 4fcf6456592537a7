/* core/issuer.c - issuing threads' pool slots; see issuer.h. */
#include "core/issuer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/alloc.h"

TAPIQ_TLS struct tapiq_issuer tapiq_issuer_me;
static pthread_key_t g_issuer_key;
static pthread_once_t g_issuer_once = PTHREAD_ONCE_INIT;

int tapiq_issuers_alloc(struct tapiq_rt *rt)
{
    rt->slot_used = tapiq_calloc(rt->nslots, sizeof(*rt->slot_used));
    if (!rt->slot_used)
        return -ENOMEM;
    for (uint32_t i = 0; i < rt->nslots; i++)
        atomic_init(&rt->slot_used[i], 0);
    atomic_init(&rt->slots_hwm, 0);
    return 0;
}

void tapiq_issuers_free(struct tapiq_rt *rt)
{
    free(rt->slot_used);
    rt->slot_used = NULL;
}

static void issuer_thread_exit(void *arg)
{
    struct tapiq_issuer *t = arg;
    struct tapiq_rt *rt;
    pthread_mutex_lock(&tapiq_g_lock);
    /* relaxed: g_lock orders it against runtime teardown. */
    rt = atomic_load_explicit(&tapiq_g_rt, memory_order_relaxed);
    if (rt && rt->epoch == t->epoch && t->slot < rt->nslots)
        /* release: our pushes happen-before the next owner's; pairs with the
         * acquire CAS in tapiq_issuer_attach(). */
        atomic_store_explicit(&rt->slot_used[t->slot], 0, memory_order_release);
    t->epoch = t->fast_epoch = 0;
    pthread_mutex_unlock(&tapiq_g_lock);
}

static void issuer_key_create(void)
{
    pthread_key_create(&g_issuer_key, issuer_thread_exit);
}

void tapiq_issuer_attach(struct tapiq_rt *rt, struct tapiq_issuer *t)
{
    uint32_t slot = rt->nslots, hwm;
    if (!t->key_set) {
        pthread_once(&g_issuer_once, issuer_key_create);
        t->key_set = pthread_setspecific(g_issuer_key, t) == 0;
    }
    for (uint32_t i = 0; t->key_set && i < rt->nslots; i++) {
        uint32_t expected = 0;
        /* relaxed pre-check; acquire CAS: pairs with the release store in
         * issuer_thread_exit(), so the last owner's ring state is ours. */
        if (atomic_load_explicit(&rt->slot_used[i], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&rt->slot_used[i], &expected, 1,
                                                    memory_order_acquire,
                                                    memory_order_relaxed)) {
            slot = i;
            break;
        }
    }
    if (slot < rt->nslots) {
        /* release: bounds the workers' ring scans (tapiq_issuers_hwm()). */
        hwm = atomic_load_explicit(&rt->slots_hwm, memory_order_relaxed);
        while (hwm < slot + 1 &&
               !atomic_compare_exchange_weak_explicit(&rt->slots_hwm, &hwm, slot + 1,
                                                      memory_order_release, memory_order_relaxed))
            ;
    }
    t->slot = slot;
    t->row = &rt->sq[(size_t)slot * rt->cfg.workers];
    t->epoch = rt->epoch;
    t->fast_epoch = slot < rt->nslots ? rt->epoch : 0; /* the shared row: full path */
}
