/* The little of <windows.h> the compatibility sample uses, for Linux: the
 * rest of the types come from tapiq's <tapi.h>. */
#ifndef COMPAT_SHIM_WINDOWS_H
#define COMPAT_SHIM_WINDOWS_H

#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L /* nanosleep in strict C11 */
#endif

#include <stdint.h>
#include <string.h>
#include <time.h>

typedef int BOOL;
#define TRUE 1
#define FALSE 0
#define WINAPI
#define CALLBACK

#ifdef UNICODE
#define TEXT(s) u##s /* UTF-16 literals: wchar_t is 32-bit on Linux */
#define TCHAR WCHAR
#else
#define TEXT(s) s
#define TCHAR char
#endif

#define ZeroMemory(p, n) memset((p), 0, (n))

static inline void Sleep(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline int32_t InterlockedExchange(int32_t volatile *target, int32_t value)
{
    return __atomic_exchange_n(target, value, __ATOMIC_SEQ_CST);
}

static inline int32_t InterlockedCompareExchange(int32_t volatile *target, int32_t value,
                                                 int32_t comparand)
{
    __atomic_compare_exchange_n(target, &comparand, value, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return comparand;
}

#endif
