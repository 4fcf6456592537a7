/* tools/demo_util.c - tapiq-demo's clock, sleep and PHONEERR_ names. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <time.h>

#include "demo.h"

uint64_t demo_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void demo_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
                          .tv_nsec = (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

const char *demo_phoneerr_name(LONG e)
{
    switch (e) {
    case 0: return "OK";
    case PHONEERR_INVALAPPHANDLE: return "INVALAPPHANDLE";
    case PHONEERR_INVALBUTTONLAMPID: return "INVALBUTTONLAMPID";
    case PHONEERR_INVALLAMPMODE: return "INVALLAMPMODE";
    case PHONEERR_INVALPARAM: return "INVALPARAM";
    case PHONEERR_INVALPHONEHANDLE: return "INVALPHONEHANDLE";
    case PHONEERR_INVALPHONESTATE: return "INVALPHONESTATE";
    case PHONEERR_INVALPOINTER: return "INVALPOINTER";
    case PHONEERR_INIFILECORRUPT: return "INIFILECORRUPT";
    case PHONEERR_NODEVICE: return "NODEVICE";
    case PHONEERR_NODRIVER: return "NODRIVER";
    case PHONEERR_NOMEM: return "NOMEM";
    case PHONEERR_NOTOWNER: return "NOTOWNER";
    case PHONEERR_OPERATIONFAILED: return "OPERATIONFAILED";
    case PHONEERR_OPERATIONUNAVAIL: return "OPERATIONUNAVAIL";
    case PHONEERR_RESOURCEUNAVAIL: return "RESOURCEUNAVAIL";
    case PHONEERR_STRUCTURETOOSMALL: return "STRUCTURETOOSMALL";
    case PHONEERR_UNINITIALIZED: return "UNINITIALIZED";
    case PHONEERR_BADDEVICEID: return "BADDEVICEID";
    case PHONEERR_INCOMPATIBLEAPIVERSION: return "INCOMPATIBLEAPIVERSION";
    case PHONEERR_INUSE: return "INUSE";
    case PHONEERR_ALLOCATED: return "ALLOCATED";
    default: return "PHONEERR_?";
    }
}
