/* core/issuer.h - issuing threads and their submission rings.
 *
 * Each issuing thread takes one slot of the runtime's pool at its first
 * request (threads=N slots): the row of `workers` SPSC submission rings of
 * which it is then the only producer. Threads that find the pool taken use
 * the shared MPSC row. The slot belongs to one runtime (epoch); a slot of an
 * older runtime is simply forgotten (that runtime's memory is gone). At
 * thread exit the slot goes back under g_lock, which keeps the runtime
 * alive; requests still in its rings are the worker's to finish, and the
 * next owner of the slot goes on from the ring's tail.
 *
 * Synchronization table: attach (a thread's first request), exit (thread
 * exit, under g_lock) and the workers' hwm reads run concurrently; the row
 * is used only by the thread that attached it. Progress: attach is
 * lock-free (a scan of CASes) except a thread's very first attach, which
 * runs a pthread_once (it waits while another thread runs it) and a
 * pthread_setspecific (glibc may allocate); the row lookup is wait-free.
 */
#ifndef TAPIQ_CORE_ISSUER_H
#define TAPIQ_CORE_ISSUER_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/runtime.h"
#include "core/sq.h"
#include "core/stats.h"

struct tapiq_issuer {
    uint64_t epoch;       /* runtime the row belongs to */
    uint64_t fast_epoch;  /* epoch when the row is a pool slot's (SPSC rings),
                             else 0: phoneSetLamp's fast path tests this one */
    struct tapiq_sq *row; /* rings of our slot, one per worker */
    uint32_t slot;        /* pool slot, or nslots for the shared row */
    int key_set;
};

extern TAPIQ_TLS struct tapiq_issuer tapiq_issuer_me;

/* Take a pool slot (or the shared row) of @rt for the calling thread. In a
 * read-side section. */
void tapiq_issuer_attach(struct tapiq_rt *rt, struct tapiq_issuer *t);

/* The calling thread's ring to worker @w of @rt. In a read-side section. */
static inline struct tapiq_sq *tapiq_issuer_ring(struct tapiq_rt *rt, uint32_t w)
{
    struct tapiq_issuer *t = &tapiq_issuer_me;
    if (__builtin_expect(t->epoch != rt->epoch, 0))
        tapiq_issuer_attach(rt, t);
    return &t->row[w];
}

/* Pool slots [0, hwm) were used: the rings a worker scans (besides the
 * shared one). acquire: pairs with the release CAS of slots_hwm in
 * tapiq_issuer_attach(). */
static inline uint32_t tapiq_issuers_hwm(struct tapiq_rt *rt)
{
    return atomic_load_explicit(&rt->slots_hwm, memory_order_acquire);
}

/* The pool of @rt (nslots flags); 0 or -ENOMEM. */
int tapiq_issuers_alloc(struct tapiq_rt *rt);
void tapiq_issuers_free(struct tapiq_rt *rt);

#endif /* TAPIQ_CORE_ISSUER_H */
