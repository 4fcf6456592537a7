/* tests/tq_test.h - TAPI helpers shared by the api and stress tests (and the
 * core unit tests that use its generators). Checks: tests/check.h.
 *
 * Everything here is static: each test is one executable.
 */
#ifndef TAPIQ_TESTS_TQ_TEST_H
#define TAPIQ_TESTS_TQ_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapiq/tapiq.h>

#include "check.h"

#define TQ_API TAPI_VERSION2_2

/* The modes every mem lamp supports. */
#define TQ_MEM_MODES                                                                         \
    (PHONELAMPMODE_OFF | PHONELAMPMODE_STEADY | PHONELAMPMODE_WINK | PHONELAMPMODE_FLASH |   \
     PHONELAMPMODE_FLUTTER | PHONELAMPMODE_BROKENFLUTTER)

/* tq_mode(i) - the i-th (mod 6) mode a mem lamp supports. */
static inline DWORD tq_mode(unsigned i)
{
    return (DWORD)PHONELAMPMODE_OFF << (i % 6u);
}

static inline const char *tq_err_name(LONG r)
{
    switch (r) {
#define TQ_E(n)                                                                              \
    case PHONEERR_##n:                                                                       \
        return "PHONEERR_" #n;
        TQ_E(ALLOCATED)
        TQ_E(BADDEVICEID)
        TQ_E(INCOMPATIBLEAPIVERSION)
        TQ_E(INCOMPATIBLEEXTVERSION)
        TQ_E(INIFILECORRUPT)
        TQ_E(INUSE)
        TQ_E(INVALAPPHANDLE)
        TQ_E(INVALAPPNAME)
        TQ_E(INVALBUTTONLAMPID)
        TQ_E(INVALBUTTONMODE)
        TQ_E(INVALBUTTONSTATE)
        TQ_E(INVALDATAID)
        TQ_E(INVALDEVICECLASS)
        TQ_E(INVALEXTVERSION)
        TQ_E(INVALHOOKSWITCHDEV)
        TQ_E(INVALHOOKSWITCHMODE)
        TQ_E(INVALLAMPMODE)
        TQ_E(INVALPARAM)
        TQ_E(INVALPHONEHANDLE)
        TQ_E(INVALPHONESTATE)
        TQ_E(INVALPOINTER)
        TQ_E(INVALPRIVILEGE)
        TQ_E(INVALRINGMODE)
        TQ_E(NODEVICE)
        TQ_E(NODRIVER)
        TQ_E(NOMEM)
        TQ_E(NOTOWNER)
        TQ_E(OPERATIONFAILED)
        TQ_E(OPERATIONUNAVAIL)
        TQ_E(RESOURCEUNAVAIL)
        TQ_E(REQUESTOVERRUN)
        TQ_E(STRUCTURETOOSMALL)
        TQ_E(UNINITIALIZED)
        TQ_E(REINIT)
        TQ_E(DISCONNECTED)
        TQ_E(SERVICE_NOT_RUNNING)
#undef TQ_E
    default:
        return r > 0 ? "a request id" : r == 0 ? "0 (success)" : "an unknown negative value";
    }
}

/* TQ_EXPECT(expr, want): a LONG-returning call must return exactly want. */
#define TQ_EXPECT(expr, want)                                                                \
    do {                                                                                     \
        LONG tq_got_ = (LONG)(expr);                                                         \
        LONG tq_want_ = (LONG)(want);                                                        \
        if (tq_got_ != tq_want_) {                                                           \
            tq_fail_where(__FILE__, __LINE__, #expr);                                        \
            tq_fail_why("returned %" PRId32 " (%s), expected %" PRId32 " (%s)", tq_got_,     \
                        tq_err_name(tq_got_), tq_want_, tq_err_name(tq_want_));              \
        }                                                                                    \
    } while (0)

/* TQ_EXPECT_ID(expr): a phoneSetLamp-like call must return a request id; yields it. */
#define TQ_ID_OK(id) ((id) > 0 && (uint32_t)(id) <= 0x7FFFFFFFu)

static inline uint64_t tq_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void tq_sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* TAPIQ_TEST_SCALE divides the size of the big tests (sanitizer setups set it). */
static inline unsigned long tq_scale(void)
{
    const char *s = getenv("TAPIQ_TEST_SCALE");
    unsigned long v = s ? strtoul(s, NULL, 10) : 1;
    return v ? v : 1;
}

/* xorshift64* - a deterministic per-thread generator. */
static inline uint64_t tq_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Du;
}

/* Initialize an application on a fresh configuration, in phoneGetMessage mode
 * (USEEVENT, as the SDK asks of applications that poll). *fd gets the event fd
 * when fd is not NULL. Returns phoneInitializeEx's result. */
static inline LONG tq_init_app(HPHONEAPP *app, DWORD *ndevs, int *fd)
{
    PHONEINITIALIZEEXPARAMS p;
    DWORD ver = TQ_API;
    DWORD n = 0;
    LONG r;
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    r = phoneInitializeEx(app, NULL, NULL, "tapiq-test", &n, &ver, &p);
    if (r == 0) {
        if (ndevs)
            *ndevs = n;
        if (fd)
            *fd = (int)(intptr_t)p.Handles.hEvent;
    }
    return r;
}

/* Configure (only legal while no application is initialized) and start one app. */
static inline HPHONEAPP tq_start(const char *config, DWORD *ndevs)
{
    HPHONEAPP app = 0;
    int rc = tapiq_configure(config);
    TQ_CHECKF(rc == 0, "tapiq_configure(\"%s\") = %d (%s)", config, rc, tapiq_last_error());
    LONG r = tq_init_app(&app, ndevs, NULL);
    TQ_CHECKF(r == 0, "phoneInitializeEx with \"%s\" = %s (%s)", config, tq_err_name(r),
              tapiq_last_error());
    TQ_CHECK(app != 0);
    return app;
}

static inline HPHONE tq_open(HPHONEAPP app, DWORD dev, DWORD priv, DWORD_PTR inst)
{
    HPHONE h = 0;
    LONG r = phoneOpen(app, dev, &h, TQ_API, 0, inst, priv);
    TQ_CHECKF(r == 0, "phoneOpen(dev %u, priv %u) = %s", (unsigned)dev, (unsigned)priv,
              tq_err_name(r));
    TQ_CHECK(h != 0);
    return h;
}

static inline tapiq_stats tq_stats(void)
{
    tapiq_stats s;
    memset(&s, 0, sizeof s);
    int rc = tapiq_get_stats(&s, sizeof s);
    TQ_CHECKF(rc == 0, "tapiq_get_stats = %d", rc);
    return s;
}

/* Wait (bounded: ~60 s) until no request is in flight; returns the stats then. */
static inline tapiq_stats tq_wait_idle(void)
{
    tapiq_stats s;
    for (int i = 0; i < 60000; i++) {
        s = tq_stats();
        if (s.in_flight == 0)
            return s;
        tq_sleep_us(1000);
    }
    TQ_FAIL("in_flight stayed at %" PRIu64 " for 60 s", s.in_flight);
}

/* The next message of @app into @m, or fail after 10 s. */
static inline void tq_next_msg(HPHONEAPP app, PHONEMESSAGE *m)
{
    LONG r = phoneGetMessage(app, m, 10000);
    TQ_CHECKF(r == 0, "phoneGetMessage: %#x", (unsigned)r);
}

/* The completion status carried by a PHONE_REPLY (dwParam2 as LONG). */
static inline LONG tq_reply_status(const PHONEMESSAGE *m)
{
    return (LONG)(uint32_t)m->dwParam2;
}

static inline int tq_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static inline int tq_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#endif /* TAPIQ_TESTS_TQ_TEST_H */
