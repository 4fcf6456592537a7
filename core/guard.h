/* core/guard.h - read-side protection without a locked instruction.
 *
 * Replaces an RCU read lock on every TAPI call. Each thread that calls into
 * tapiq owns a reader record (static storage, one cache line, claimed at its
 * first call, given back when it exits). Entering a read-side section stores
 * an odd count into the record, leaving stores the next even count: two plain
 * stores to a line only that thread writes. A writer that unpublished
 * something (a runtime, an application, a handle slot) calls
 * tapiq_guard_synchronize_blocking(): it waits until every record that was
 * odd has moved on, then frees.
 *
 * The reader's store of the odd count must be ordered before its loads of
 * the published pointers (StoreLoad). Instead of a fence per call, the writer
 * pays: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) makes every running
 * thread of the process execute a full barrier, so either the writer sees
 * the odd count or the reader sees the unpublished (NULL/closed) value
 * (the asymmetric-fence argument of liburcu's membarrier flavour). Where
 * membarrier is unavailable (and under ThreadSanitizer, which does not model
 * it) readers use a seq_cst fence instead (tapiq_guard_strong).
 *
 * Threads beyond TAPIQ_GUARD_RECORDS alive at once share one counter
 * (a locked add per call: correct, slower).
 *
 * Synchronization table (enter/exit includes the fast paths' variants,
 * tapiq_guard_fast_enter/exit, which are the same two stores):
 *                 enter/exit   synchronize
 *   enter/exit    yes          yes
 *   synchronize   yes          yes (each waits for all readers)
 * Progress: enter/exit are wait-free (the first call of a thread scans for a
 * free record: lock-free, after a pthread_once that may wait for another
 * thread's, and a pthread_setspecific that may allocate); synchronize blocks
 * until pre-existing read-side sections end. It never waits for a section
 * that began after it started on a thread with a record; threads beyond the
 * records (more than TAPIQ_GUARD_RECORDS at once) share one counter, so while
 * such threads keep entering, synchronize waits for them too and can be
 * delayed as long as they keep the counter above zero.
 * Nesting: enter/exit nest per thread; only the outermost pair counts.
 * A thread must not call synchronize inside a read-side section.
 *
 * The same asymmetric pair is offered for other Dekker-style hand-offs
 * (a worker going to sleep against issuers that publish work):
 * tapiq_guard_light_fence() on the frequent side, tapiq_guard_heavy_fence()
 * on the rare side.
 */
#ifndef TAPIQ_CORE_GUARD_H
#define TAPIQ_CORE_GUARD_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"
#include "core/stats.h"

#if defined(__SANITIZE_THREAD__)
#define TAPIQ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TAPIQ_TSAN 1
#endif
#endif

#define TAPIQ_GUARD_RECORDS 4096u

struct tapiq_guard_rec {
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t ctr; /* odd: inside a section */
    _Atomic uint32_t used;                         /* claimed by a live thread */
};

/* ctr is even exactly when the thread is registered and outside any
 * section: odd inside one (nested sections, depth > 0, run only inside the
 * outermost), and odd (1) while the thread has no record, so one test of
 * its low bit tells a fast path whether it may enter. */
struct tapiq_guard_tls {
    struct tapiq_guard_rec *rec; /* NULL: not registered yet (or overflow) */
    uint32_t depth;              /* registered: sections inside the outermost;
                                    overflow: all sections */
    uint32_t ctr;                /* registered: our copy of rec->ctr, odd inside
                                    a section; else 1 */
    uint32_t state;              /* 0 new, 1 registered, 2 overflow */
};

extern TAPIQ_TLS struct tapiq_guard_tls tapiq_guard_me;
/* 1 until membarrier is known to work: readers then fence. */
extern _Atomic uint32_t tapiq_guard_strong;
extern _Atomic uint64_t tapiq_guard_overflow;

void tapiq_guard_register(void);
/* Register membarrier once; call before the first synchronize (rt start).
 * Runs a pthread_once: may wait for another thread's. */
void tapiq_guard_init(void);
/* Wait (sched_yield loop) for a grace period: see above. Blocks. */
void tapiq_guard_synchronize_blocking(void);
void tapiq_guard_heavy_fence(void);
/* In a fork()ed child (one thread): the other threads' records are free. */
void tapiq_guard_after_fork(void);

#ifdef TAPIQ_TSAN
/* gcc's ThreadSanitizer does not take atomic_thread_fence: a seq_cst
 * exchange (a full barrier on x86) on a word of the thread's own stands in. */
extern TAPIQ_TLS _Atomic uint32_t tapiq_guard_fence_word;
#endif

/* The light fence where membarrier works (a compiler barrier; under
 * ThreadSanitizer an exchange on a word of the thread's own stands in). */
static inline void tapiq_guard_fast_fence(void)
{
#ifdef TAPIQ_TSAN
    atomic_exchange_explicit(&tapiq_guard_fence_word, 0, memory_order_seq_cst);
#else
    /* pairs with the membarrier in tapiq_guard_heavy_fence() */
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

static inline void tapiq_guard_light_fence(void)
{
#ifndef TAPIQ_TSAN
    /* relaxed: read once per call; 1 only where membarrier is missing. */
    if (__builtin_expect(atomic_load_explicit(&tapiq_guard_strong, memory_order_relaxed), 0)) {
        atomic_thread_fence(memory_order_seq_cst);
        return;
    }
#endif
    tapiq_guard_fast_fence();
}

void tapiq_guard_enter_slow(void);
void tapiq_guard_exit_slow(void);

/* A fast path's section, for a function that takes a full path otherwise:
 * tapiq_guard_fast_ok() says whether the calling thread is registered,
 * outside any section (a registered thread's nested sections all run while
 * its count is odd), and needs no fence of its own (membarrier works; under
 * ThreadSanitizer an exchange stands in for the fence as in
 * tapiq_guard_light_fence()). Then tapiq_guard_fast_enter() enters with the
 * two stores of tapiq_guard_enter() and no check, tapiq_guard_fast_exit()
 * leaves with the two of tapiq_guard_exit() and no check;
 * tapiq_guard_fast_fence() is the light fence without the look at
 * tapiq_guard_strong. Nothing in between may
 * enter or leave a section on this thread. Ordering: as tapiq_guard_enter()
 * and tapiq_guard_exit(). */
static inline int tapiq_guard_fast_ok(void)
{
#ifdef TAPIQ_TSAN
    const uint32_t strong = 0;
#else
    /* relaxed: as in tapiq_guard_light_fence(). */
    uint32_t strong = atomic_load_explicit(&tapiq_guard_strong, memory_order_relaxed);
#endif
    /* an even count: registered, outside any section (struct tapiq_guard_tls) */
    return !((tapiq_guard_me.ctr & 1) | strong);
}

static inline void tapiq_guard_fast_enter(void)
{
    uint32_t c = tapiq_guard_me.ctr + 1;
    tapiq_guard_me.ctr = c;
    /* relaxed + fence: as in tapiq_guard_enter(). */
    atomic_store_explicit(&tapiq_guard_me.rec->ctr, c, memory_order_relaxed);
    tapiq_guard_fast_fence();
}

static inline void tapiq_guard_fast_exit(void)
{
    uint32_t c = tapiq_guard_me.ctr + 1;
    tapiq_guard_me.ctr = c;
    /* release: everything the section read happens-before the writer's
     * acquire load in tapiq_guard_synchronize_blocking() that sees this
     * count, hence before the writer frees. */
    atomic_store_explicit(&tapiq_guard_me.rec->ctr, c, memory_order_release);
}

/* Fast path: a registered thread outside any section (ctr even, depth 0).
 * Nested sections, the first call of a thread and threads beyond the
 * records go to the slow paths. */
static inline void tapiq_guard_enter(void)
{
    /* The thread-local is named directly (no pointer to it): a null check
     * that gcc's UBSan adds to a pointer to an initial-exec TLS object
     * misfires. */
    uint32_t c = tapiq_guard_me.ctr;
    struct tapiq_guard_rec *rec = tapiq_guard_me.rec;
    if (__builtin_expect((c & 1) | (rec == NULL), 0)) {
        tapiq_guard_enter_slow();
        return;
    }
    tapiq_guard_me.ctr = c + 1;
    /* relaxed + light fence: ordered before the section's loads by the
     * writer's heavy fence (membarrier) in
     * tapiq_guard_synchronize_blocking(). */
    atomic_store_explicit(&rec->ctr, c + 1, memory_order_relaxed);
    tapiq_guard_light_fence();
}

static inline void tapiq_guard_exit(void)
{
    if (__builtin_expect(tapiq_guard_me.depth != 0, 0)) {
        tapiq_guard_exit_slow();
        return;
    }
    tapiq_guard_fast_exit(); /* the outermost section: two stores */
}

#endif /* TAPIQ_CORE_GUARD_H */
