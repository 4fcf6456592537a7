/* tools/demo_ops.c - tapiq-demo's operators and supervisor; see demo_ops.h.
 *
 * Threads: the operator thread (tapiq_mem_button) and the supervisor thread
 * (its application's messages and lamp requests) share only atomic counters
 * and the stop flag; the operators' states are the supervisor's alone.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "demo_ops.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUPERVISOR_WAIT_MS 20
#define DRAIN_NS 10000000000ull /* give up draining after 10 s without progress */

struct demo_ops {
    HPHONEAPP app;
    HPHONE phone[DEMO_OPS_MAX];
    uint32_t consoles;
    unsigned rate;
    pthread_t op_thread, sup_thread;
    atomic_bool stop_pressing, stop_supervisor;
    /* Operator thread -> main. */
    _Atomic uint64_t presses, refused;
    /* Supervisor thread: its own (main reads them after the join). */
    uint8_t ready[DEMO_OPS_MAX];   /* the operator's state, as the supervisor knows it */
    uint8_t pending[DEMO_OPS_MAX]; /* the lamp still has to be set (backpressure) */
    uint32_t npending;
    _Atomic uint64_t answered, lamp_sets, lamp_replies, lamp_errors;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
                          .tv_nsec = (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------ operators */

static void *operator_main(void *arg)
{
    struct demo_ops *o = arg;
    uint64_t rng = 0x2545F4914F6CDD1Dull ^ mono_ns(), t0 = mono_ns(), n = 0;
    while (!atomic_load_explicit(&o->stop_pressing, memory_order_relaxed)) {
        uint64_t due = t0 + n * 1000000000ull / o->rate, now = mono_ns();
        if (due > now) {
            sleep_ns(due - now > 10000000 ? 10000000 : due - now);
            continue;
        }
        n++;
        rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
        uint32_t c = (uint32_t)((rng * 0x2545F4914F6CDD1Dull >> 32) % o->consoles);
        int down = tapiq_mem_button(c, DEMO_OPS_READY, PHONEBUTTONSTATE_DOWN);
        int up = tapiq_mem_button(c, DEMO_OPS_READY, PHONEBUTTONSTATE_UP);
        if (down == 0)
            atomic_fetch_add_explicit(&o->presses, 1, memory_order_relaxed);
        else if (down == -ENOBUFS)
            atomic_fetch_add_explicit(&o->refused, 1, memory_order_relaxed);
        if ((down != 0 && down != -ENOBUFS) || (up != 0 && up != -ENOBUFS)) {
            fprintf(stderr, "tapiq-demo: tapiq_mem_button: %s\n", strerror(-(down ? down : up)));
            atomic_fetch_add_explicit(&o->lamp_errors, 1, memory_order_relaxed);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ supervisor */

/* Set console @c's Ready lamp to the operator's state; 0 when accepted,
 * -EAGAIN on backpressure (the caller keeps it pending). */
static int set_ready_lamp(struct demo_ops *o, uint32_t c)
{
    DWORD mode = o->ready[c] ? PHONELAMPMODE_STEADY : PHONELAMPMODE_OFF;
    LONG rc = phoneSetLamp(o->phone[c], DEMO_OPS_READY, mode);
    if (rc > 0) {
        atomic_fetch_add_explicit(&o->lamp_sets, 1, memory_order_relaxed);
        return 0;
    }
    if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL)
        return -EAGAIN;
    fprintf(stderr, "tapiq-demo: supervisor: phoneSetLamp: 0x%08x\n", (unsigned)rc);
    atomic_fetch_add_explicit(&o->lamp_errors, 1, memory_order_relaxed);
    return 0;
}

static void retry_pending(struct demo_ops *o)
{
    for (uint32_t c = 0; c < o->consoles && o->npending; c++)
        if (o->pending[c] && set_ready_lamp(o, c) == 0) {
            o->pending[c] = 0;
            o->npending--;
        }
}

static void on_message(struct demo_ops *o, const PHONEMESSAGE *m)
{
    uint32_t c = (uint32_t)m->dwCallbackInstance;
    if (m->dwMessageID == PHONE_REPLY) {
        if ((LONG)m->dwParam2 != 0)
            atomic_fetch_add_explicit(&o->lamp_errors, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&o->lamp_replies, 1, memory_order_relaxed);
        return;
    }
    if (m->dwMessageID != PHONE_BUTTON || c >= o->consoles ||
        m->dwParam1 != DEMO_OPS_READY || m->dwParam3 != PHONEBUTTONSTATE_DOWN ||
        m->dwParam2 != PHONEBUTTONMODE_FEATURE) {
        fprintf(stderr, "tapiq-demo: supervisor: unexpected message %u (%lu, %lu, %lu)\n",
                (unsigned)m->dwMessageID, (unsigned long)m->dwParam1,
                (unsigned long)m->dwParam2, (unsigned long)m->dwParam3);
        atomic_fetch_add_explicit(&o->lamp_errors, 1, memory_order_relaxed);
        return;
    }
    /* The protocol: a press toggles the operator; the lamp says the state. */
    o->ready[c] ^= 1;
    atomic_fetch_add_explicit(&o->answered, 1, memory_order_relaxed);
    if (!o->pending[c] && set_ready_lamp(o, c) != 0) {
        o->pending[c] = 1; /* set from the state when the queue has room */
        o->npending++;
    }
}

static void *supervisor_main(void *arg)
{
    struct demo_ops *o = arg;
    for (;;) {
        PHONEMESSAGE m;
        LONG rc = phoneGetMessage(o->app, &m, SUPERVISOR_WAIT_MS);
        if (rc == 0) {
            on_message(o, &m);
            continue;
        }
        retry_pending(o);
        /* acquire: pairs with the release store in demo_ops_stop(). */
        if (atomic_load_explicit(&o->stop_supervisor, memory_order_acquire) && !o->npending)
            break;
    }
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

struct demo_ops *demo_ops_start(uint32_t online, unsigned rate)
{
    struct demo_ops *o = calloc(1, sizeof(*o));
    PHONEINITIALIZEEXPARAMS p;
    DWORD n = 0, ver = TAPI_CURRENT_VERSION;
    LONG rc;
    if (!o)
        return NULL;
    o->consoles = online < DEMO_OPS_MAX ? online : DEMO_OPS_MAX;
    o->rate = rate;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    rc = phoneInitializeEx(&o->app, NULL, NULL, "tapiq-demo supervisor", &n, &ver, &p);
    for (uint32_t c = 0; rc == 0 && c < o->consoles; c++) {
        rc = phoneOpen(o->app, c, &o->phone[c], TAPI_VERSION2_2, 0, c, PHONEPRIVILEGE_OWNER);
        if (rc == 0)
            rc = phoneSetStatusMessages(o->phone[c], 0, PHONEBUTTONMODE_FEATURE,
                                        PHONEBUTTONSTATE_DOWN);
    }
    if (rc != 0 || o->consoles == 0) {
        fprintf(stderr, "tapiq-demo: supervisor setup: 0x%08x\n", (unsigned)rc);
        if (o->app)
            phoneShutdown(o->app);
        free(o);
        return NULL;
    }
    if (pthread_create(&o->sup_thread, NULL, supervisor_main, o) != 0) {
        phoneShutdown(o->app);
        free(o);
        return NULL;
    }
    if (rate && pthread_create(&o->op_thread, NULL, operator_main, o) != 0) {
        atomic_store_explicit(&o->stop_supervisor, true, memory_order_release);
        pthread_join(o->sup_thread, NULL);
        phoneShutdown(o->app);
        free(o);
        return NULL;
    }
    return o;
}

void demo_ops_stop(struct demo_ops *o, struct demo_ops_result *r)
{
    uint64_t last = 0, since = mono_ns();
    memset(r, 0, sizeof(*r));
    atomic_store_explicit(&o->stop_pressing, true, memory_order_relaxed);
    if (o->rate)
        pthread_join(o->op_thread, NULL);
    r->presses = atomic_load_explicit(&o->presses, memory_order_relaxed);
    r->refused = atomic_load_explicit(&o->refused, memory_order_relaxed);
    /* Every press answered, every lamp request replied (bounded wait). */
    for (;;) {
        uint64_t a = atomic_load_explicit(&o->answered, memory_order_relaxed);
        uint64_t s = atomic_load_explicit(&o->lamp_sets, memory_order_relaxed);
        uint64_t p = atomic_load_explicit(&o->lamp_replies, memory_order_relaxed);
        if (a >= r->presses && p >= s)
            break; /* lamps still pending: the supervisor sets them before it stops */
        if (a + p != last) {
            last = a + p;
            since = mono_ns();
        } else if (mono_ns() - since > DRAIN_NS) {
            break;
        }
        sleep_ns(1000000);
    }
    /* release: pairs with the acquire load in supervisor_main(). */
    atomic_store_explicit(&o->stop_supervisor, true, memory_order_release);
    pthread_join(o->sup_thread, NULL);
    r->answered = atomic_load_explicit(&o->answered, memory_order_relaxed);
    r->lamp_sets = atomic_load_explicit(&o->lamp_sets, memory_order_relaxed);
    r->lamp_replies = atomic_load_explicit(&o->lamp_replies, memory_order_relaxed);
    r->lamp_errors = atomic_load_explicit(&o->lamp_errors, memory_order_relaxed);
    if (!o->rate)
        r->presses = r->answered; /* the consoles pressed: what arrived is what was pressed */
    /* Late replies of the last lamp requests (the supervisor stopped). */
    for (uint64_t t0 = mono_ns(); r->lamp_replies < r->lamp_sets && mono_ns() - t0 < DRAIN_NS;) {
        PHONEMESSAGE m;
        if (phoneGetMessage(o->app, &m, SUPERVISOR_WAIT_MS) == 0)
            on_message(o, &m);
        r->lamp_replies = atomic_load_explicit(&o->lamp_replies, memory_order_relaxed);
    }
    r->consoles = o->consoles;
    for (uint32_t c = 0; c < o->consoles; c++) {
        DWORD mode = 0;
        DWORD want = o->ready[c] ? PHONELAMPMODE_STEADY : PHONELAMPMODE_OFF;
        r->ready += o->ready[c];
        if (phoneGetLamp(o->phone[c], DEMO_OPS_READY, &mode) != 0 || mode != want)
            r->mismatched++;
    }
    r->failed = r->answered != r->presses || r->lamp_replies != r->lamp_sets ||
                r->lamp_errors || r->mismatched || o->npending;
    phoneShutdown(o->app);
    free(o);
}
