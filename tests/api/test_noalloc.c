/* test_noalloc - no allocation on the phoneSetLamp path (nor on the other
 * setters': one request in four is a phoneSetDisplay or a phoneDevSpecific).
 *
 * The executable defines malloc, calloc, realloc, free, aligned_alloc,
 * posix_memalign and memalign (forwarding to glibc's __libc_* entry points),
 * so they also serve the shared library. A thread-local flag counts the
 * allocations of the calling thread; a global flag counts those of every
 * thread (the library's workers included).
 *
 *   test_noalloc          after warm-up, N phoneSetLamp calls plus reaping their
 *                         replies allocate nothing on the calling thread
 *   test_noalloc workers  the same with every thread counted (workers too)
 *
 * Sanitizers bring their own allocator: the test then exits with 77 (skipped).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "tq_test.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TQ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                  \
    __has_feature(memory_sanitizer)
#define TQ_SANITIZED 1
#endif
#endif

#ifdef TQ_SANITIZED

int main(void)
{
    printf("test_noalloc: skipped: sanitizers replace the allocator\n");
    return 77;
}

#else

/* glibc's own allocator entry points. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static _Thread_local int tl_counting;
static _Atomic int g_counting;
static _Atomic uint64_t g_thread_allocs, g_thread_frees, g_all_allocs, g_all_frees;

static void count_alloc(void)
{
    /* relaxed: counters, read after the measured work has been joined */
    if (tl_counting)
        atomic_fetch_add_explicit(&g_thread_allocs, 1, memory_order_relaxed);
    if (atomic_load_explicit(&g_counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&g_all_allocs, 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
    count_alloc();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    count_alloc();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    count_alloc();
    return __libc_realloc(p, size);
}

void free(void *p)
{
    if (p) {
        if (tl_counting)
            atomic_fetch_add_explicit(&g_thread_frees, 1, memory_order_relaxed);
        if (atomic_load_explicit(&g_counting, memory_order_relaxed))
            atomic_fetch_add_explicit(&g_all_frees, 1, memory_order_relaxed);
    }
    __libc_free(p);
}

void *aligned_alloc(size_t align, size_t size)
{
    count_alloc();
    return __libc_memalign(align, size);
}

void *memalign(size_t align, size_t size)
{
    count_alloc();
    return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    count_alloc();
    void *p = __libc_memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

#define NDEV 4
#define NLAMP 16

static HPHONE g_h[NDEV];

/* @n requests to all lamps in turn, reaping every reply on this thread. */
static void run(HPHONEAPP app, unsigned n)
{
    unsigned issued = 0, reaped = 0, idle_refusals = 0;
    PHONEMESSAGE m;
    while (reaped < n) {
        if (issued < n) {
            HPHONE h = g_h[issued % NDEV];
            LONG id = issued % 8 == 3   ? phoneSetDisplay(h, 0, issued % 4, "ab", 2)
                      : issued % 8 == 7 ? phoneDevSpecific(h, &issued, sizeof issued)
                                        : phoneSetLamp(h, (issued / NDEV) % NLAMP,
                                                       tq_mode(issued / (NDEV * NLAMP)));
            if (id > 0) {
                issued++;
                continue;
            }
            TQ_CHECKF(id == (LONG)PHONEERR_RESOURCEUNAVAIL, "phoneSetLamp = %s", tq_err_name(id));
            if (issued == reaped) {
                /* Nothing of ours is outstanding: the room comes back when
                 * the workers finish recycling. Retry (bounded: ~10 s). */
                TQ_CHECKF(++idle_refusals < 100000, "RESOURCEUNAVAIL for ~10 s with no "
                          "request outstanding and every reply read (%u of %u issued)",
                          issued, n);
                tq_sleep_us(100);
                continue;
            }
        }
        LONG r = phoneGetMessage(app, &m, 10000);
        TQ_CHECKF(r == 0, "phoneGetMessage = %s with %u of %u replies", tq_err_name(r), reaped,
                  n);
        TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam2 == 0);
        reaped++;
    }
}

int main(int argc, char **argv)
{
    int workers = argc > 1 && strcmp(argv[1], "workers") == 0;
    const unsigned n = 20000;

    /* The interposer sees the library's allocations (setup allocates). */
    tl_counting = 1;
    HPHONEAPP app = tq_start("devices=4,lamps=16,workers=2,queue=256,display=1x8", NULL);
    tl_counting = 0;
    uint64_t setup = atomic_load_explicit(&g_thread_allocs, memory_order_relaxed);
    TQ_CHECKF(setup > 0, "phoneInitializeEx allocated nothing that the test saw: the "
              "malloc interposer is not in effect");
    for (int d = 0; d < NDEV; d++)
        g_h[d] = tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, (DWORD_PTR)d);

    /* Warm-up: lazily created per-thread state, first batches, RCU registration. */
    for (int i = 0; i < 3; i++)
        run(app, n);
    tq_wait_idle();

    atomic_store_explicit(&g_thread_allocs, 0, memory_order_relaxed);
    atomic_store_explicit(&g_thread_frees, 0, memory_order_relaxed);
    if (workers)
        atomic_store_explicit(&g_counting, 1, memory_order_seq_cst);
    tl_counting = 1;
    run(app, n);
    tl_counting = 0;
    /* Workers may still recycle slots after the last reply: keep counting for
     * a moment (only the window, not a measurement of time). */
    tq_sleep_us(50000);
    atomic_store_explicit(&g_counting, 0, memory_order_seq_cst);
    tq_wait_idle();

    uint64_t ta = atomic_load_explicit(&g_thread_allocs, memory_order_relaxed);
    uint64_t tf = atomic_load_explicit(&g_thread_frees, memory_order_relaxed);
    uint64_t ga = atomic_load_explicit(&g_all_allocs, memory_order_relaxed);
    uint64_t gf = atomic_load_explicit(&g_all_frees, memory_order_relaxed);
    printf("setup: %" PRIu64 " allocations on the initializing thread\n", setup);
    printf("steady state, %u requests + replies: calling thread %" PRIu64 " allocations, %" PRIu64
           " frees\n", n, ta, tf);
    if (workers)
        printf("steady state, all threads: %" PRIu64 " allocations, %" PRIu64 " frees\n", ga, gf);
    TQ_CHECKF(ta == 0, "%" PRIu64 " allocations on the calling thread in steady state", ta);
    if (workers)
        TQ_CHECKF(ga == 0, "%" PRIu64 " allocations by some thread (workers included) in steady "
                  "state", ga);
    TQ_EXPECT(phoneShutdown(app), 0);
    printf("test_noalloc%s: ok\n", workers ? " workers" : "");
    return 0;
}

#endif
