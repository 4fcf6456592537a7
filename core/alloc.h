/* core/alloc.h - every allocation of the library goes through here, so that
 * tests and fuzz targets can make chosen allocations fail and prove that
 * each NOMEM path cleans up.
 *
 * tapiq_alloc_fail_hook: when non-NULL it is called before each allocation
 * with the size asked for; a non-zero return makes that allocation fail.
 * Concurrency: set it only while no other thread is inside tapiq (tests
 * install it once at start). It exists only in the internal library
 * (TAPIQ_INTERNAL: tests, fuzz); the installed library has no hook and no
 * check.
 * None of these is called on the phoneSetLamp path or in a worker's steady
 * loop (tests/api/test_noalloc checks that).
 */
#ifndef TAPIQ_CORE_ALLOC_H
#define TAPIQ_CORE_ALLOC_H

#include <stdlib.h>
#include <string.h>

#ifdef TAPIQ_INTERNAL
extern int (*tapiq_alloc_fail_hook)(size_t size);

static inline int tapiq_alloc_fails(size_t n)
{
    return tapiq_alloc_fail_hook && tapiq_alloc_fail_hook(n);
}
#else
static inline int tapiq_alloc_fails(size_t n)
{
    (void)n;
    return 0;
}
#endif

static inline void *tapiq_malloc(size_t n)
{
    return tapiq_alloc_fails(n) ? NULL : malloc(n);
}

static inline void *tapiq_calloc(size_t n, size_t size)
{
    return tapiq_alloc_fails(n * size) ? NULL : calloc(n, size);
}

static inline void *tapiq_realloc(void *p, size_t n)
{
    return tapiq_alloc_fails(n) ? NULL : realloc(p, n);
}

static inline void *tapiq_aligned_alloc(size_t align, size_t n)
{
    /* C11 wants n to be a multiple of align */
    n = (n + align - 1) / align * align;
    return tapiq_alloc_fails(n) ? NULL : aligned_alloc(align, n);
}

/* Zeroed memory for a type with alignas() members (over malloc's 16 bytes):
 * calloc() does not honour _Alignof, aligned_alloc() does not zero. */
static inline void *tapiq_aligned_zalloc(size_t align, size_t n)
{
    void *p = tapiq_aligned_alloc(align, n);
    if (p)
        memset(p, 0, (n + align - 1) / align * align);
    return p;
}

static inline char *tapiq_strdup(const char *s)
{
    return tapiq_alloc_fails(strlen(s) + 1) ? NULL : strdup(s);
}

#endif /* TAPIQ_CORE_ALLOC_H */
