/* fuzz/fuzz_api.c - sequences of TAPI calls against a model of the contract
 * (TAPI.md / include/tapiq/tapi.h).
 *
 * The input picks a small configuration (devices, lamps, workers, queue,
 * threads, events, fail_ppm, offline, latency) and then a sequence of calls
 * across up to four applications (polled, USEEVENT, callback) and their
 * handles (valid, closed, forged): initialize, open (owner / monitor / bad),
 * close, set / get lamp with any ids and modes, status filters, status,
 * caps, message retrieval, shutdown, reconfiguration, worker rounds, the
 * other asynchronous setters (fuzz/fuzz_api_setters.h). One
 * thread issues the calls, so issue order is the program order; now and then
 * a burst of phoneSetLamp runs on a short-lived second thread (joined before
 * the next call), which takes a pool slot of its own or, with threads=1, the
 * shared multi-producer ring, and gives its slot back when it exits.
 *
 * Two ways to run the workers:
 *  - thread-free (default): runtimes start with no worker thread
 *    (tapiq_rt_manual) and the input decides when a worker round runs
 *    (tapiq_rt_step) and how many devices it takes, so the interleaving of
 *    requests, closes, shutdowns and batches is the input's and every run of
 *    an input is the same; a reply that is not there once nothing is left
 *    to step is lost. Fast enough for 10^7 executions.
 *  - threaded (TAPIQ_FUZZ_THREADS=1 in the environment; the corpus replays
 *    this way too, also under TSan): the library's own workers run
 *    concurrently, rounds in the input only yield, and replies are
 *    collected by draining with bounded waits.
 *
 * Checked as it goes (abort() on violation):
 *  - every return is the documented one; phoneSetLamp's errors follow the
 *    documented precedence exactly; RESOURCEUNAVAIL only when the calling
 *    thread's ring to the device's worker may hold `queue` (rounded up)
 *    positions not yet given back (see ring_held()), and always when it
 *    surely does (thread-free: requests since the last round);
 *  - every positive request id is in 1..0x7FFFFFFF and differs from every
 *    request still in flight; it gets exactly one PHONE_REPLY (status 0 or
 *    OPERATIONFAILED, 0 when fail_ppm is 0), to the right handle and
 *    callback instance, unless its handle closed first (then none);
 *    replies of one application for one device and one issuing ring come
 *    in issue order;
 *  - a worker holds a reply back only when the application's completion
 *    queue can be full: thread-free, once no round has work left, the stats'
 *    in_flight counts no more requests than those;
 *  - tapiq_rt_step: -ENODEV without a runtime, 0 when nothing can be left
 *    to do, > 0 when requests wait in a ring;
 *  - PHONE_STATE OWNER / MONITORS only for a handle that asked for them,
 *    with the count when a polled application reads it; HANDSETHOOKSWITCH
 *    after the operator lifts or replaces the handset (op_hook), with the
 *    mode, never lost;
 *  - PHONE_BUTTON from the operator (op_press, fuzz_api_events.h): exactly
 *    the predicted ones, in order, per handle of a polled application, and
 *    -ENOBUFS / button_overruns exactly when a press finds no room;
 *  - PHONE_STATE LAMP only for an open handle that asked for PHONESTATE_LAMP, a
 *    valid lamp, and only after a request to that lamp; at each quiescent
 *    point, a lamp that changed was notified to every handle subscribed
 *    throughout;
 *  - phoneGetLamp / phoneGetStatus show a mode some request could have left,
 *    and exactly the mode of the last successful request once everything is
 *    replied (quiescent point: the stats' in_flight is 0 and every queue is
 *    drained; not for a lamp that requests from both threads reached since
 *    the last one: only one thread's requests are ordered); owner / monitor
 *    counts, status filters, statistics match;
 *  - caller buffers are written only within dwTotalSize; a USEEVENT fd
 *    becomes readable for a pending reply;
 *  - at the end every application is shut down and nothing is left running
 *    (the next input starts a fresh runtime).
 *
 * Built with TAPIQ_FUZZ_NOMEM, the input also chooses which allocations of
 * the setup calls fail (tapiq_alloc_fail_hook): such a call must return
 * PHONEERR_NOMEM and have no effect, or succeed; never crash or leak (LSan). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/handle.h"
#include "core/runtime.h"
#include "fuzz/fuzz.h"
#include "tapiq/tapi.h"
#include "tapiq/tapiq.h"

#ifndef TAPIQ_FUZZ_NOMEM
#define TAPIQ_FUZZ_NOMEM 0
#endif

#define M_APPS 4      /* live at once */
#define M_APPS_ALL 12 /* ever, per input */
#define M_HANDLES 48
#define M_REQS 1024
#define M_DEVS 4
#define M_LAMPS 65
#define M_OPS 400
#define M_WORKERS 2 /* workers= is 1 or 2 */
/* Submission rings the model tells apart: row * M_WORKERS + worker, row 0
 * and 1 pool slots 0 and 1, row 2 the shared multi-producer row. */
#define M_ROW_SHARED 2
#define M_RINGS (3 * M_WORKERS)
#define M_BURST 16
#define WAIT_MS 10000 /* a reply that takes longer is lost */

#define ALL_MODES 0x7Eu /* OFF STEADY WINK FLASH FLUTTER BROKENFLUTTER */
/* What a mem console with lamps and nothing else can do (PHONECAPS). */
#define LAMP_FEATURES (PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP | PHONEFEATURE_GETBUTTONINFO)
#define OK 0

enum kind { K_POLL, K_EVENT, K_CB };
enum rst { R_PENDING, R_OK, R_FAIL, R_SUPP };

struct m_app {
    uint32_t h;
    int live;
    int kind;
    int fd;
    uint32_t reserved; /* events reserved by open handles */
    int dirty;         /* a subscribed handle closed since the last quiescent point */
};

/* A handle's PHONE_BUTTON model (fuzz_api_events.h). */
struct m_buttons {
    uint32_t units;                 /* room held: queued + DOWNs awaiting their UP */
    uint32_t down;                  /* buttons whose DOWN it got */
    uint16_t q[TAPIQ_BUTTON_ROOM];  /* expected, in order: button << 8 | state */
    int head, n;
    uint32_t ever_modes, ever_states;
};

struct m_handle {
    uint32_t h;
    int open;
    int app;
    uint32_t dev, priv, api;
    DWORD_PTR inst;
    uint32_t states, bmodes, bstates;
    uint32_t reserved;
    uint32_t breserved; /* of which for PHONE_BUTTON */
    int sub_since; /* quiescent-point count when LAMP was switched on; -1 off */
    int ever_lamp;
    uint32_t ever_states; /* every PHONESTATE_* its filter ever had */
    struct m_buttons bt;
    int hook_owed; /* a handset change it must still be told (polled) */
    uint8_t notified[M_LAMPS];
};

struct m_req {
    uint32_t id;
    int handle, app;
    uint32_t dev, lamp, mode;
    int ring;        /* the submission ring it took a position of (M_RINGS) */
    int settle_at;   /* quiescent points before it was issued */
    int st;
    int read;        /* its reply was taken */
    int complete;    /* its batch is known to be done (a later reply on its device, quiescence) */
    int fin;         /* known: its reply was posted or suppressed (position given back once
                        every earlier position of its ring is) */
    int gone;        /* known: neither in its application's completion queue nor held for it */
    int next_lamp;   /* next request to the same lamp, -1 */
};

struct m_lamp {
    uint32_t base;   /* known mode before the requests listed; 0 unknown */
    int head, tail;  /* requests since base */
    int req_since;   /* a request was issued since the last quiescent point */
    int mixed;       /* requests of two rings listed: their order is not defined */
    uint32_t settled; /* exact mode at the last quiescent point; 0 unknown */
};

struct m_cfg {
    uint32_t devices, lamps, workers, queue, threads, events, fail_ppm, offline, latency;
    int buttons; /* the consoles have buttons (fuzz_api_events.h) */
};

static struct {
    struct m_cfg cfg; /* given to tapiq_configure, taken by the next runtime */
    struct m_cfg rc;  /* of the running runtime */
    int rt_live;
    uint32_t ring_size;  /* queue rounded up to a power of two, at least 2 */
    uint32_t cq_size;    /* a completion queue: max(64, 4 x ring_size) */
    int main_row;        /* the fuzz thread's pool slot, -1 before its first request */
    uint32_t since_step[M_RINGS]; /* thread-free: accepted since the last round */
    uint32_t round_max;  /* thread-free: most device batches a round could start */
    uint64_t replies_read;
    struct m_app apps[M_APPS_ALL];
    int napps;
    struct m_handle hs[M_HANDLES];
    int nhs;
    struct m_req reqs[M_REQS];
    int nreqs;
    struct m_lamp lamps[M_DEVS][M_LAMPS];
    int nsettle;
    uint64_t accepted, rejected[TAPIQ_REJECT_MAX];
    int stats_exact; /* counters since the runtime started are all modelled */
    uint64_t overruns; /* PHONE_BUTTON polled handles had no room for */
    int cb_buttons;    /* a callback application's handle asked for buttons */
    uint32_t hook[M_DEVS]; /* each console's handset mode (fuzz_api_events.h) */
    uint32_t hook_alt[M_DEVS]; /* 0, or the mode a phoneSetHookSwitch may have left
                                  instead of hook[] (fuzz_api_setters.h) */
} M;

/* The other setters' part of the model (fuzz/fuzz_api_setters.h). */
static void attr_config(char *text, size_t len);
static void attr_model_reset(void);
static int attr_state_ok(const struct m_handle *hm, const PHONEMESSAGE *m);
static int attr_hook_in_flight(uint32_t dev);
static void attr_settle(void);

/* ------------------------------------------------------------ callbacks */


#define CBQ_MAX 8192
static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;
static PHONEMESSAGE cb_q[CBQ_MAX];
static size_t cb_n;

static void on_callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance, DWORD_PTR p1,
                        DWORD_PTR p2, DWORD_PTR p3)
{
    pthread_mutex_lock(&cb_mu);
    FUZZ_CHECK(cb_n < CBQ_MAX, "more callback messages than replies and events can be");
    cb_q[cb_n].hDevice = hDevice;
    cb_q[cb_n].dwMessageID = dwMessage;
    cb_q[cb_n].dwCallbackInstance = dwInstance;
    cb_q[cb_n].dwParam1 = p1;
    cb_q[cb_n].dwParam2 = p2;
    cb_q[cb_n].dwParam3 = p3;
    cb_n++;
    pthread_mutex_unlock(&cb_mu);
}

/* ------------------------------------------------------ allocation hook */

static _Atomic uint32_t nomem_mode; /* 0: none; see arm() */
static _Atomic uint32_t nomem_count;

static int fail_hook(size_t size)
{
    uint32_t mode = atomic_load_explicit(&nomem_mode, memory_order_relaxed);
    uint32_t n = atomic_fetch_add_explicit(&nomem_count, 1, memory_order_relaxed);
    (void)size;
    if (mode < 0x80)
        return 0;
    if (mode & 0x40)
        return n >= (mode & 0x3F); /* this one and all later ones fail */
    return n == (mode & 0x3F);     /* only this one fails */
}

/* Arm the hook for one setup call: returns whether failures are possible. */
static int arm(struct fuzz_in *in)
{
#if TAPIQ_FUZZ_NOMEM
    uint8_t b = fuzz_u8(in);
    atomic_store_explicit(&nomem_count, 0, memory_order_relaxed);
    atomic_store_explicit(&nomem_mode, b, memory_order_relaxed);
    return b >= 0x80;
#else
    (void)in;
    return 0;
#endif
}

static void disarm(void)
{
    atomic_store_explicit(&nomem_mode, 0, memory_order_relaxed);
}

/* ------------------------------------------------------------- helpers */

/* TAPIQ_FUZZ_TRACE=1 in the environment prints every call (for reading a
 * reproducer). */
static int trace_on;
static int manual; /* thread-free: the fuzzer runs the worker rounds */
#define TRACE(...)                                                                             \
    do {                                                                                       \
        if (trace_on)                                                                          \
            fprintf(stderr, __VA_ARGS__);                                                      \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether @fd is readable within @ms. poll() returns EINTR for a signal that
 * arrives while it runs, even with a zero timeout (libFuzzer's timer sends
 * SIGALRM every half timeout): retried, so a signal never reads as an
 * answer. */
static int fd_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int r;
    while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    FUZZ_CHECK(r >= 0 && !(p.revents & (POLLERR | POLLNVAL)), "poll on USEEVENT fd %d: %s",
               fd, r < 0 ? "error" : "POLLERR/POLLNVAL");
    return r > 0;
}

static void nap(void)
{
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
}

static const char *err_name(LONG e)
{
    static char buf[32];
    switch (e) {
    case OK: return "0";
    case PHONEERR_UNINITIALIZED: return "UNINITIALIZED";
    case PHONEERR_INVALPHONEHANDLE: return "INVALPHONEHANDLE";
    case PHONEERR_NOTOWNER: return "NOTOWNER";
    case PHONEERR_OPERATIONUNAVAIL: return "OPERATIONUNAVAIL";
    case PHONEERR_INVALBUTTONLAMPID: return "INVALBUTTONLAMPID";
    case PHONEERR_INVALLAMPMODE: return "INVALLAMPMODE";
    case PHONEERR_INVALPHONESTATE: return "INVALPHONESTATE";
    case PHONEERR_RESOURCEUNAVAIL: return "RESOURCEUNAVAIL";
    case PHONEERR_INVALAPPHANDLE: return "INVALAPPHANDLE";
    case PHONEERR_INVALPOINTER: return "INVALPOINTER";
    case PHONEERR_NOMEM: return "NOMEM";
    case PHONEERR_OPERATIONFAILED: return "OPERATIONFAILED";
    case PHONEERR_BADDEVICEID: return "BADDEVICEID";
    case PHONEERR_INVALPRIVILEGE: return "INVALPRIVILEGE";
    case PHONEERR_STRUCTURETOOSMALL: return "STRUCTURETOOSMALL";
    case PHONEERR_INVALPARAM: return "INVALPARAM";
    case PHONEERR_INCOMPATIBLEAPIVERSION: return "INCOMPATIBLEAPIVERSION";
    case PHONEERR_INCOMPATIBLEEXTVERSION: return "INCOMPATIBLEEXTVERSION";
    case PHONEERR_INIFILECORRUPT: return "INIFILECORRUPT";
    default:
        snprintf(buf, sizeof(buf), "%#x", (unsigned)e);
        return buf;
    }
}

/* A set of acceptable errors, in documented order where one is documented. */
struct errs {
    LONG e[12];
    int n;
};

static void errs_add(struct errs *s, int cond, LONG e)
{
    if (cond && s->n < 12)
        s->e[s->n++] = e;
}

/* rc must be the first error of @s when @ordered, else any error of @s; 0
 * when @s is empty. @extra (if non-zero) is acceptable in any case. */
static void check_errs(const char *call, LONG rc, const struct errs *s, int ordered, LONG extra)
{
    int ok = 0;
    if (extra && rc == extra)
        return;
    if (s->n == 0) {
        FUZZ_CHECK(rc == OK, "%s returned %s, expected success", call, err_name(rc));
        return;
    }
    for (int i = 0; i < (ordered ? 1 : s->n); i++)
        if (rc == s->e[i])
            ok = 1;
    FUZZ_CHECK(ok, "%s returned %s, expected %s%s", call, err_name(rc), err_name(s->e[0]),
               s->n > 1 ? " (or another applicable one)" : "");
}

static int online(uint32_t dev)
{
    return dev < M.rc.devices - M.rc.offline;
}

static struct m_handle *find_handle(uint32_t h)
{
    for (int i = 0; i < M.nhs; i++)
        if (M.hs[i].h == h)
            return &M.hs[i];
    return NULL;
}

static struct m_app *find_app(uint32_t h)
{
    for (int i = 0; i < M.napps; i++)
        if (M.apps[i].h == h)
            return &M.apps[i];
    return NULL;
}

/* A handle value: mostly a known one, sometimes forged. */
static uint32_t pick_handle(struct fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t base = M.nhs ? M.hs[b % M.nhs].h : 0x10001;
    if (b < 0xE0 && M.nhs)
        return base;
    switch (b & 7) {
    case 0: return 0;
    case 1: return 0xFFFFFFFFu;
    case 2: return fuzz_u32(in);
    case 3: return base ^ 0x10000u; /* same slot, other generation */
    case 4: return base & 0xFFFFu;  /* generation 0 */
    case 5: return base + 1;        /* neighbouring slot */
    case 6: return base | 0xFFFF0000u;
    default: return base & 0xFFFF0000u; /* slot 0 */
    }
}

static uint32_t pick_app(struct fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t base = M.napps ? M.apps[b % M.napps].h : 0x10001;
    if (b < 0xE0 && M.napps)
        return base;
    switch (b & 7) {
    case 0: return 0;
    case 1: return 0xFFFFFFFFu;
    case 2: return fuzz_u32(in);
    case 3: return base ^ 0x10000u;
    case 4: return base & 0xFFFFu;
    case 5: return base + 1;
    case 6: return base + 1024; /* beyond the slot table */
    default: return base & 0xFFFF0000u;
    }
}

static int app_valid(uint32_t h)
{
    struct m_app *a = find_app(h);
    return M.rt_live && a && a->live;
}

static struct m_handle *open_handle(uint32_t h)
{
    struct m_handle *hm = find_handle(h);
    return M.rt_live && hm && hm->open ? hm : NULL;
}

/* Modes that lamp (dev, lamp) may show now; 0 when anything goes. */
static int lamp_candidate(uint32_t dev, uint32_t lamp, uint32_t v)
{
    struct m_lamp *l = &M.lamps[dev][lamp];
    if (!l->base)
        return 1;
    if (v == l->base)
        return 1;
    for (int i = l->head; i >= 0; i = M.reqs[i].next_lamp)
        if (M.reqs[i].st != R_FAIL && M.reqs[i].mode == v)
            return 1;
    return 0;
}

static void check_lamp_value(uint32_t dev, uint32_t lamp, uint32_t v, const char *what)
{
    FUZZ_CHECK(v && (v & (v - 1)) == 0 && (v & ALL_MODES), "%s: lamp %u/%u shows mode %#x",
               what, dev, lamp, v);
    FUZZ_CHECK(lamp_candidate(dev, lamp, v),
               "%s: lamp %u/%u shows %#x, which no request left (known %#x before them)", what,
               dev, lamp, v, M.lamps[dev][lamp].base);
}

/* ------------------------------------------------------------- runtime */

static void model_runtime_start(void)
{
    M.rt_live = 1;
    M.rc = M.cfg;
    for (M.ring_size = 2; M.ring_size < M.rc.queue; M.ring_size <<= 1)
        ;
    M.cq_size = M.ring_size * 4 < 64 ? 64 : M.ring_size * 4;
    M.main_row = -1;
    memset(M.since_step, 0, sizeof(M.since_step));
    M.round_max = 0;
    M.replies_read = 0;
    M.nreqs = 0;
    M.nsettle = 0;
    M.accepted = 0;
    memset(M.rejected, 0, sizeof(M.rejected));
    M.stats_exact = 1;
    attr_model_reset();
    M.overruns = 0;
    M.cb_buttons = 0;
    for (uint32_t d = 0; d < M_DEVS; d++) {
        M.hook[d] = PHONEHOOKSWITCHMODE_ONHOOK;
        M.hook_alt[d] = 0;
    }
    for (uint32_t d = 0; d < M_DEVS; d++)
        for (uint32_t l = 0; l < M_LAMPS; l++) {
            M.lamps[d][l].base = PHONELAMPMODE_OFF;
            M.lamps[d][l].settled = PHONELAMPMODE_OFF;
            M.lamps[d][l].head = M.lamps[d][l].tail = -1;
            M.lamps[d][l].req_since = 0;
            M.lamps[d][l].mixed = 0;
        }
}

static void model_runtime_stop(void)
{
    M.rt_live = 0;
    for (int i = 0; i < M.nhs; i++)
        M.hs[i].open = 0;
}

static int napps_live(void)
{
    int n = 0;
    for (int i = 0; i < M.napps; i++)
        n += M.apps[i].live;
    return n;
}

/* Close in the model: its pending requests will never be replied. */
#include "fuzz/fuzz_api_events.h"

static void model_close(struct m_handle *hm)
{
    struct m_app *a = &M.apps[hm->app];
    hm->open = 0;
    hm->sub_since = -1;
    if (hm->reserved) {
        a->reserved -= hm->reserved;
        a->dirty = 1;
    }
    hm->reserved = 0;
    hm->breserved = 0;
    buttons_on_close(hm);
    for (int i = 0; i < M.nreqs; i++)
        if (&M.hs[M.reqs[i].handle] == hm && M.reqs[i].st == R_PENDING)
            M.reqs[i].st = R_SUPP;
}

/* ---------------------------------------------------------- lamp model */

/* Status of a finished request whose reply we will never see. */
static int supp_known_ok(void)
{
    return M.rc.fail_ppm == 0;
}

/* Fold the resolved front of each lamp's request list into its base. */
static void lamp_advance(uint32_t dev, uint32_t lamp)
{
    struct m_lamp *l = &M.lamps[dev][lamp];
    /* Requests of two rings meet in a batch in ring order, not issue order:
     * which one came last is known only at the next quiescent point. */
    while (l->head >= 0 && !l->mixed) {
        struct m_req *r = &M.reqs[l->head];
        if (r->st == R_PENDING)
            break;
        if (r->st == R_SUPP) {
            if (!r->complete)
                break;
            if (supp_known_ok())
                l->base = r->mode;
            else if (l->base && l->base != r->mode)
                break; /* unknown outcome: keep it listed until quiescence */
        } else if (r->st == R_OK) {
            l->base = r->mode;
        }
        l->head = r->next_lamp;
        if (l->head < 0)
            l->tail = -1;
    }
}

/* A reply for request @ri arrived: every earlier request of its ring on its
 * device has finished (one batch per device at a time, a ring read in
 * order). Thread-free, requests of the other rings too: every round drains
 * every ring (up to 1024 entries, more than a thread-free ring holds) before
 * it starts batches, so an earlier request of any ring is in the same batch
 * or an earlier one. */
static void device_progress(int ri)
{
    uint32_t dev = M.reqs[ri].dev;
    for (int i = 0; i < ri; i++)
        if (M.reqs[i].dev == dev && (manual || M.reqs[i].ring == M.reqs[ri].ring))
            M.reqs[i].complete = 1;
    for (uint32_t l = 0; l < M.rc.lamps && l < M_LAMPS; l++)
        lamp_advance(dev, l);
}

/* ------------------------------------------------------------ messages */

static void on_message(struct m_app *a, const PHONEMESSAGE *m, int from_cb)
{
    struct m_handle *hm = find_handle(m->hDevice);
    TRACE("  message %u handle %#x p1 %#lx p2 %#lx%s\n", m->dwMessageID, m->hDevice,
          (unsigned long)m->dwParam1, (unsigned long)m->dwParam2, from_cb ? " (callback)" : "");
    FUZZ_CHECK(hm != NULL, "message %u for unknown handle %#x", m->dwMessageID, m->hDevice);
    if (!a)
        a = &M.apps[hm->app];
    FUZZ_CHECK(&M.apps[hm->app] == a, "message for handle %#x went to another application",
               m->hDevice);
    FUZZ_CHECK(from_cb == (a->kind == K_CB), "message delivered the wrong way");
    /* A callback may run just after the main thread closed the handle. */
    FUZZ_CHECK(hm->open || from_cb, "message %u for closed handle %#x", m->dwMessageID,
               m->hDevice);
    FUZZ_CHECK(m->dwCallbackInstance == hm->inst, "callback instance %#lx, opened with %#lx",
               (unsigned long)m->dwCallbackInstance, (unsigned long)hm->inst);
    FUZZ_CHECK(m->dwParam3 == 0 || m->dwMessageID == PHONE_BUTTON, "dwParam3 %#lx",
               (unsigned long)m->dwParam3);
    if (m->dwMessageID == PHONE_REPLY) {
        int ri = -1;
        LONG st = (LONG)m->dwParam2;
        for (int i = 0; i < M.nreqs; i++)
            if (M.reqs[i].id == m->dwParam1 && !M.reqs[i].read &&
                (M.reqs[i].st == R_PENDING || M.reqs[i].st == R_SUPP))
                ri = i;
        FUZZ_CHECK(ri >= 0, "PHONE_REPLY for id %#lx that is not outstanding (twice?)",
                   (unsigned long)m->dwParam1);
        FUZZ_CHECK(&M.hs[M.reqs[ri].handle] == hm, "reply for id %#x went to handle %#x",
                   M.reqs[ri].id, m->hDevice);
        FUZZ_CHECK(M.reqs[ri].st == R_PENDING || from_cb,
                   "reply for id %#x although its handle was closed", M.reqs[ri].id);
        FUZZ_CHECK(st == 0 || st == (LONG)PHONEERR_OPERATIONFAILED, "reply status %s",
                   err_name(st));
        FUZZ_CHECK(m->dwParam2 == (DWORD_PTR)(DWORD)st, "reply status not a DWORD value: %#lx",
                   (unsigned long)m->dwParam2);
        FUZZ_CHECK(st == 0 || M.rc.fail_ppm, "OPERATIONFAILED with fail_ppm=0");
        for (int i = 0; i < ri; i++)
            FUZZ_CHECK(!(M.reqs[i].app == M.reqs[ri].app && M.reqs[i].dev == M.reqs[ri].dev &&
                         M.reqs[i].ring == M.reqs[ri].ring && M.reqs[i].st == R_PENDING),
                       "reply for id %#x before the reply for the earlier id %#x (same "
                       "application, device and issuing ring)",
                       M.reqs[ri].id, M.reqs[i].id);
        if (M.reqs[ri].st == R_PENDING)
            M.replies_read++;
        M.reqs[ri].st = st == 0 ? R_OK : R_FAIL;
        M.reqs[ri].read = 1;
        M.reqs[ri].fin = 1;
        M.reqs[ri].gone = 1;
        /* Taken from its completion queue: so was everything posted there
         * before it. That is every earlier request of the application to the
         * same device from the same ring (posted or suppressed in order, a
         * held reply before any later one), and every request of the
         * application to the same worker from before the last quiescent point
         * (nothing was in flight then). */
        for (int i = 0; i < M.nreqs; i++) {
            struct m_req *q = &M.reqs[i], *r = &M.reqs[ri];
            if (q->app == r->app &&
                ((i < ri && q->dev == r->dev && q->ring == r->ring) ||
                 (q->ring % M_WORKERS == r->ring % M_WORKERS && q->settle_at < r->settle_at)))
                q->gone = 1;
        }
        device_progress(ri);
    } else if (m->dwMessageID == PHONE_BUTTON) {
        on_button(hm, m, from_cb);
    } else if (m->dwMessageID == PHONE_STATE && m->dwParam1 != PHONESTATE_LAMP) {
        on_other_state(hm, m, from_cb);
    } else if (m->dwMessageID == PHONE_STATE) {
        uint32_t lamp = (uint32_t)m->dwParam2;
        FUZZ_CHECK(m->dwParam1 == PHONESTATE_LAMP, "PHONE_STATE %#lx (no device changes state)",
                   (unsigned long)m->dwParam1);
        FUZZ_CHECK(lamp < M.rc.lamps, "PHONE_STATE for lamp %u of %u", lamp, M.rc.lamps);
        FUZZ_CHECK(hm->ever_lamp, "PHONE_STATE for handle %#x that never asked for it",
                   m->hDevice);
        if (!from_cb) {
            FUZZ_CHECK(M.lamps[hm->dev][lamp].req_since,
                       "PHONE_STATE for lamp %u/%u with no request since the last quiescent "
                       "point",
                       hm->dev, lamp);
            hm->notified[lamp] = 1;
        }
    } else {
        FUZZ_CHECK(0, "unexpected message %u", m->dwMessageID);
    }
}

/* Deliver what the callback threads handed over. */
static void pump_callbacks(void)
{
    static PHONEMESSAGE local[CBQ_MAX];
    size_t n;
    pthread_mutex_lock(&cb_mu);
    n = cb_n;
    memcpy(local, cb_q, n * sizeof(*local));
    cb_n = 0;
    pthread_mutex_unlock(&cb_mu);
    for (size_t i = 0; i < n; i++)
        on_message(NULL, &local[i], 1);
}

/* One phoneGetMessage(timeout 0) on a live polled/event app; 1 if a message came. */
static int poll_one(struct m_app *a)
{
    PHONEMESSAGE m;
    LONG rc = phoneGetMessage(a->h, &m, 0);
    if (rc == (LONG)PHONEERR_OPERATIONFAILED)
        return 0;
    FUZZ_CHECK(rc == 0, "phoneGetMessage on a live application: %s", err_name(rc));
    on_message(a, &m, 0);
    return 1;
}

static int app_pending(int ai)
{
    for (int i = 0; i < M.nreqs; i++)
        if (M.reqs[i].app == ai && M.reqs[i].st == R_PENDING)
            return 1;
    return 0;
}

/* A bound for the stats' round_hwm after rounds that may take @max devices
 * each (0: no limit): per worker its online devices, at most @max; the
 * largest over the workers (tapiq.h: the most one worker started in one
 * round). */
static uint32_t round_bound(uint32_t max)
{
    uint32_t most = 0;
    for (uint32_t w = 0; w < M.rc.workers; w++) {
        uint32_t n = 0;
        for (uint32_t d = w; d < M.rc.devices - M.rc.offline; d += M.rc.workers)
            n++;
        n = max && max < n ? max : n;
        most = n > most ? n : most;
    }
    return most;
}

/* Thread-free: a round ran (each drains every ring). */
static void rounds_ran(uint32_t max)
{
    uint32_t b = round_bound(max);
    memset(M.since_step, 0, sizeof(M.since_step));
    if (b > M.round_max)
        M.round_max = b;
}

/* Requests that may sit in application @ai's completion queue for worker @w
 * or be held back for it: not read, not known to be gone. */
static uint32_t cq_load(int ai, uint32_t w)
{
    uint32_t n = 0;
    for (int i = 0; i < M.nreqs; i++)
        n += M.reqs[i].app == ai && (uint32_t)M.reqs[i].ring % M_WORKERS == w && !M.reqs[i].gone;
    return n;
}

/* Thread-free runs: worker rounds until none has work left; returns whether
 * any had. Then every batch is done (the mem backend completes inline) and
 * every reply is posted or suppressed, except those held back for a
 * completion queue without room: a worker retries held replies every round,
 * and one of a closed handle goes when it is retried. A queue can be short
 * of room only when more replies may be in it or held for it than it holds
 * (cq_load() > cq_size): every other request is finished now. Checked: the
 * stats' in_flight (held replies count) is no more than the rest. */
static int step_all(void)
{
    tapiq_stats s;
    uint32_t load[M_APPS_ALL][M_WORKERS], unknown = 0;
    int n, did = 0;
    if (!manual || !M.rt_live)
        return 0;
    while ((n = tapiq_rt_step(0)) > 0)
        did = 1;
    TRACE("  step(0) until idle: %s\n", did ? "work done" : "nothing to do");
    FUZZ_CHECK(n == 0, "tapiq_rt_step(0) with a runtime returned %d", n);
    rounds_ran(0);
    for (int ai = 0; ai < M.napps; ai++)
        for (uint32_t w = 0; w < M_WORKERS; w++)
            load[ai][w] = M.apps[ai].live ? cq_load(ai, w) : 0;
    for (int i = 0; i < M.nreqs; i++) {
        struct m_req *r = &M.reqs[i];
        r->complete = 1;
        if (!r->fin && (r->st != R_PENDING || load[r->app][r->ring % M_WORKERS] <= M.cq_size))
            r->fin = 1;
        unknown += !r->fin;
    }
    for (uint32_t d = 0; d < M.rc.devices && d < M_DEVS; d++)
        for (uint32_t l = 0; l < M.rc.lamps && l < M_LAMPS; l++)
            lamp_advance(d, l);
    FUZZ_CHECK(tapiq_get_stats(&s, sizeof(s)) == 0, "tapiq_get_stats with a runtime");
    FUZZ_CHECK(s.in_flight <= unknown,
               "%llu requests in flight once no round has work; at most %u can wait for room "
               "in a completion queue (%u entries)",
               (unsigned long long)s.in_flight, unknown, M.cq_size);
    return did;
}

/* Wait until every request of an open handle is replied. */
static void drain_replies(void)
{
    int64_t deadline = now_ms() + WAIT_MS;
    int idle = 0;
    for (;;) {
        int waiting = 0, cb_waiting = 0, took = 0;
        /* Thread-free: replies held back for room go out once the reads
         * below made some; so each pass starts with rounds. */
        int stepped = step_all();
        pump_callbacks();
        for (int ai = 0; ai < M.napps; ai++) {
            struct m_app *a = &M.apps[ai];
            if (!a->live || !app_pending(ai))
                continue;
            waiting = 1;
            if (a->kind == K_CB) {
                cb_waiting = 1;
                continue;
            }
            if (a->kind == K_EVENT) {
                /* Read only once the fd says so: it must become readable
                 * while a reply is pending, or the wait below runs out. */
                if (!fd_readable(a->fd, manual ? 0 : 1))
                    continue;
            }
            while (app_pending(ai) && poll_one(a))
                took = 1;
        }
        if (!waiting)
            return;
        /* Thread-free: every round has run, so only a callback thread may
         * still be on its way; anything else is lost. Twice: a read that
         * delivered nothing (replies of closed handles only) may still have
         * made room for a held reply, which the next rounds post. */
        idle = manual && !cb_waiting && !took && !stepped ? idle + 1 : 0;
        if (now_ms() > deadline || idle == 2) {
            for (int i = 0; i < M.nreqs; i++)
                if (M.reqs[i].st == R_PENDING)
                    fprintf(stderr, "  id %#x (handle %#x, lamp %u/%u) not replied\n",
                            M.reqs[i].id, M.hs[M.reqs[i].handle].h, M.reqs[i].dev,
                            M.reqs[i].lamp);
            FUZZ_CHECK(0, "replies lost (or a USEEVENT fd never became readable)");
        }
        if (!took && !stepped)
            nap();
    }
}

/* Quiescent point: nothing in flight, every queue drained; exact checks. */
static void settle(void)
{
    tapiq_stats s;
    int64_t deadline;
    if (!M.rt_live)
        return;
    drain_replies();
    step_all(); /* requests of closed handles may still wait for a round */
    deadline = now_ms() + WAIT_MS;
    for (;;) {
        FUZZ_CHECK(tapiq_get_stats(&s, sizeof(s)) == 0, "tapiq_get_stats with a runtime");
        if (s.in_flight == 0)
            break;
        FUZZ_CHECK(!manual && now_ms() < deadline, "requests stay in flight: %llu",
                   (unsigned long long)s.in_flight);
        nap();
    }
    if (M.stats_exact) {
        FUZZ_CHECK(s.accepted == M.accepted, "stats: accepted %llu, model %llu",
                   (unsigned long long)s.accepted, (unsigned long long)M.accepted);
        for (int i = 0; i < TAPIQ_REJECT_MAX; i++)
            FUZZ_CHECK(s.rejected[i] == M.rejected[i], "stats: rejected[%d] %llu, model %llu",
                       i, (unsigned long long)s.rejected[i],
                       (unsigned long long)M.rejected[i]);
    }
    FUZZ_CHECK(s.requests_capacity ==
                   (uint64_t)(M.rc.threads + 1) * M.rc.workers * M.ring_size,
               "stats: requests_capacity %llu with threads=%u, workers=%u, rings of %u",
               (unsigned long long)s.requests_capacity, M.rc.threads, M.rc.workers,
               M.ring_size);
    FUZZ_CHECK(s.requests_hwm <= s.requests_capacity && s.requests_hwm <= s.accepted,
               "stats: requests_hwm %llu (capacity %llu, accepted %llu)",
               (unsigned long long)s.requests_hwm, (unsigned long long)s.requests_capacity,
               (unsigned long long)s.accepted);
    FUZZ_CHECK(s.round_hwm <= (manual ? M.round_max : round_bound(0)),
               "stats: round_hwm %llu, but a round could start at most %u batches",
               (unsigned long long)s.round_hwm, manual ? M.round_max : round_bound(0));
    FUZZ_CHECK(s.replies >= M.replies_read, "stats: %llu replies posted, %llu read",
               (unsigned long long)s.replies, (unsigned long long)M.replies_read);
    FUZZ_CHECK(s.updates_failed == 0 || M.rc.fail_ppm, "stats: %llu updates failed, fail_ppm=0",
               (unsigned long long)s.updates_failed);
    for (int ai = 0; ai < M.napps; ai++) {
        struct m_app *a = &M.apps[ai];
        if (a->live && a->kind != K_CB) {
            while (poll_one(a))
                ;
            a->dirty = 0;
        }
    }
    pump_callbacks();
    buttons_settle(&s);
    attr_settle();
    /* Everything is finished, and gone from the completion queues we read
     * out; a callback application's thread may still have replies of closed
     * handles before it (dropped when it takes them). */
    for (int i = 0; i < M.nreqs; i++) {
        struct m_req *r = &M.reqs[i];
        r->complete = 1;
        r->fin = 1;
        if (r->read || M.apps[r->app].kind != K_CB)
            r->gone = 1;
    }
    M.nsettle++;
    TRACE("  quiescent point %d\n", M.nsettle);
    for (uint32_t d = 0; d < M.rc.devices && d < M_DEVS; d++) {
        for (uint32_t l = 0; l < M.rc.lamps && l < M_LAMPS; l++) {
            struct m_lamp *lm = &M.lamps[d][l];
            uint32_t v, prev = lm->settled;
            struct m_handle *hm = NULL;
            for (int i = 0; i < M.nhs; i++)
                if (M.hs[i].open && M.hs[i].dev == d)
                    hm = &M.hs[i];
            lamp_advance(d, l);
            v = lm->head < 0 ? lm->base : 0; /* exact when every outcome is known */
            if (hm) {
                uint32_t shown = 0;
                LONG rc = phoneGetLamp(hm->h, l, &shown);
                FUZZ_CHECK(rc == 0, "phoneGetLamp at a quiescent point: %s", err_name(rc));
                check_lamp_value(d, l, shown, "quiescent");
                FUZZ_CHECK(!v || shown == v,
                           "lamp %u/%u shows %#x after all replies; the last successful "
                           "request set %#x",
                           d, l, shown, v);
                v = shown;
            }
            /* Adopt what it shows: every outcome is final now. */
            lm->base = v;
            lm->head = lm->tail = -1;
            lm->mixed = 0;
            lm->settled = v;
            /* Every handle subscribed since before the previous quiescent point
             * saw the change (non-callback applications: those we drained). */
            if (v && prev && v != prev)
                for (int i = 0; i < M.nhs; i++) {
                    struct m_handle *h = &M.hs[i];
                    if (h->open && h->dev == d && h->sub_since >= 0 &&
                        h->sub_since <= M.nsettle - 2 &&
                        M.apps[h->app].kind != K_CB)
                        FUZZ_CHECK(h->notified[l],
                                   "lamp %u/%u changed %#x -> %#x; subscribed handle %#x got "
                                   "no PHONE_STATE",
                                   d, l, prev, v, h->h);
                }
            lm->req_since = 0;
        }
    }
    for (int i = 0; i < M.nhs; i++)
        memset(M.hs[i].notified, 0, sizeof(M.hs[i].notified));
    /* Forget what no longer matters: keep only requests whose reply may
     * still come (a callback racing a close) or that may still take room in
     * a completion queue. */
    {
        int k = 0;
        for (int i = 0; i < M.nreqs; i++) {
            struct m_req *r = &M.reqs[i];
            int keep = !r->gone || (r->st == R_SUPP && !r->read);
            if (keep) {
                M.reqs[k] = *r;
                M.reqs[k].next_lamp = -1;
                k++;
            }
        }
        M.nreqs = k;
    }
}

/* ---------------------------------------------------------- operations */

/* The library's default events (65536) costs milliseconds per application to
 * set up, so it is rare; rings and completion queues grow with queue x
 * threads, so a large pool goes with small rings. 0: leave out. */
static const uint32_t lamps_tab[] = {0, 1, 2, 4, 8, 65};
static const uint32_t queue_tab[] = {1, 2, 3, 8, 64, 300, 8, 2, 3, 1, 64, 8, 2, 4, 5, 0};
static const uint32_t threads_tab[] = {0, 1, 2, 0, 1, 3, 2, 256};
static const uint32_t events_tab[] = {16, 1, 3, 200, 70, 8, 140, 16, 1, 2, 40, 3, 69, 67, 100, 0};
static const uint32_t ppm_tab[] = {0, 0, 0, 250000, 1000000};

static void pick_config(struct fuzz_in *in, struct m_cfg *c, char *text, size_t len)
{
    uint8_t b0 = fuzz_u8(in), b1 = fuzz_u8(in), b2 = fuzz_u8(in);
    int n;
    c->devices = 1 + (b0 & 3);
    c->workers = 1 + (b0 >> 2 & 1);
    c->threads = threads_tab[(b0 >> 3 & 3) | (b0 >> 5 & 4)];
    c->latency = (b0 >> 5 & 3) == 3 ? 30 : 0;
    c->lamps = lamps_tab[b1 % 6];
    c->queue = queue_tab[b1 / 6 % 16];
    c->events = events_tab[b2 % 16];
    /* The largest ring (32768 entries, completion queues of 2 MiB) only with
     * threads, for one issuing thread and its helper. */
    if (!manual && c->queue == 0 && c->threads == 1)
        c->queue = 32768;
    if (c->threads == 256 && (c->queue == 0 || c->queue > 64))
        c->queue = 64;
    /* Thread-free runs are about speed: no multi-megabyte rings there. */
    if (manual && c->events == 0)
        c->events = 1000;
    c->fail_ppm = ppm_tab[b2 / 16 % 5];
    c->offline = (b2 / 80) % (c->devices + 1);
    n = snprintf(text, len, "devices=%u, lamps=%u ,workers=%u", c->devices, c->lamps,
                 c->workers);
    n += buttons_config(b1, c, text + n, len - (size_t)n);
    if (c->queue)
        n += snprintf(text + n, len - (size_t)n, ",queue=%u", c->queue);
    else
        c->queue = 1024;
    if (c->threads)
        n += snprintf(text + n, len - (size_t)n, ", threads = %u", c->threads);
    else
        c->threads = 64;
    if (c->events)
        n += snprintf(text + n, len - (size_t)n, ",events=%u", c->events);
    else
        c->events = 65536;
    if (c->fail_ppm)
        n += snprintf(text + n, len - (size_t)n, ",fail_ppm=%u", c->fail_ppm);
    if (c->offline)
        n += snprintf(text + n, len - (size_t)n, ",offline=%u", c->offline);
    if (c->latency)
        snprintf(text + n, len - (size_t)n, ",latency_us=%u", c->latency);
    attr_config(text, len);
}

static void op_configure(struct fuzz_in *in)
{
    struct m_cfg c;
    char text[256];
    int rc, may_fail;
    pick_config(in, &c, text, sizeof(text));
    may_fail = arm(in);
    rc = tapiq_configure(text);
    disarm();
    if (napps_live()) {
        FUZZ_CHECK(rc == -EBUSY, "tapiq_configure while initialized: %d", rc);
        return;
    }
    if (rc == -ENOMEM && may_fail)
        rc = tapiq_configure(text); /* the old one stays; set ours without failures */
    FUZZ_CHECK(rc == 0, "tapiq_configure('%s'): %d %s", text, rc, tapiq_last_error());
    M.cfg = c;
}

static const char *const bad_configs[] = {
    "devices=0", "lamps=4097", "bogus=1", "workers", "queue=1,queue=2", "fail_ppm=-1",
    "backend=nosuch", "offline=9,devices=3", ",", "devices=1 2",
    /* keys of the old core, gone */
    "mailbox=8", "queue=8,ring=mutex",
    "queue=0", "queue=32769", "threads=0", "threads=257", "threads=",
};

/* TAPIQ_CONFIG with a bad value: phoneInitializeEx fails, nothing starts. */
static void op_bad_env(struct fuzz_in *in)
{
    HPHONEAPP happ = 0;
    DWORD ndev = 0, api = TAPI_CURRENT_VERSION;
    uint8_t b = fuzz_u8(in);
    LONG rc;
    char text[256];
    if (napps_live())
        return;
    FUZZ_CHECK(tapiq_configure(NULL) == 0, "tapiq_configure(NULL)");
    setenv("TAPIQ_CONFIG", bad_configs[b % (sizeof(bad_configs) / sizeof(bad_configs[0]))], 1);
    rc = phoneInitializeEx(&happ, NULL, NULL, "bad", &ndev, &api, NULL);
    unsetenv("TAPIQ_CONFIG");
    FUZZ_CHECK(rc == (LONG)PHONEERR_INIFILECORRUPT, "bad TAPIQ_CONFIG: %s", err_name(rc));
    FUZZ_CHECK(tapiq_last_error()[0] != '\0', "INIFILECORRUPT without a message");
    FUZZ_CHECK(phoneSetLamp(1, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
               "something started after INIFILECORRUPT");
    /* Back to the model's configuration. */
    {
        struct m_cfg c = M.cfg;
        snprintf(text, sizeof(text),
                 "devices=%u,lamps=%u,workers=%u,queue=%u,events=%u,threads=%u", c.devices,
                 c.lamps, c.workers, c.queue, c.events, c.threads);
        if (c.fail_ppm || c.offline || c.latency) {
            size_t n = strlen(text);
            snprintf(text + n, sizeof(text) - n, ",fail_ppm=%u,offline=%u,latency_us=%u",
                     c.fail_ppm, c.offline, c.latency);
        }
        buttons_text(&c, text + strlen(text), sizeof(text) - strlen(text));
        FUZZ_CHECK(tapiq_configure(text) == 0, "tapiq_configure('%s') again: %s", text,
                   tapiq_last_error());
    }
}

static void op_init(struct fuzz_in *in)
{
    PHONEINITIALIZEEXPARAMS params;
    PHONEINITIALIZEEXPARAMS *pp = NULL;
    PHONECALLBACK cb = NULL;
    HPHONEAPP happ = 0;
    DWORD ndev = 0, api = TAPI_CURRENT_VERSION;
    uint8_t b = fuzz_u8(in);
    int kind = K_POLL, may_fail, first = !M.rt_live;
    LONG rc, want = OK;
    HPHONEAPP *php = &happ;

    if (napps_live() >= M_APPS || M.napps >= M_APPS_ALL)
        return;
    memset(&params, 0, sizeof(params));
    params.dwTotalSize = sizeof(params);
    switch (b % 12) {
    case 0: case 1: case 2:
        break;
    case 3:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
        kind = K_EVENT;
        break;
    case 4:
        cb = on_callback;
        kind = K_CB;
        break;
    case 5:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
        cb = on_callback;
        kind = K_CB;
        break;
    case 6:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
        want = PHONEERR_INVALPOINTER;
        break;
    case 7:
        pp = &params;
        params.dwOptions = (b & 0x80) ? PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT : 4 + (b >> 4);
        want = PHONEERR_INVALPARAM;
        break;
    case 8:
        pp = &params;
        params.dwTotalSize = (b >> 4) % sizeof(params);
        params.dwNeededSize = 0xABCD;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
        want = PHONEERR_STRUCTURETOOSMALL;
        break;
    case 9:
        api = (b & 0x80) ? 0x00010002u : 0;
        want = PHONEERR_INCOMPATIBLEAPIVERSION;
        break;
    case 10:
        php = NULL;
        want = PHONEERR_INVALPOINTER;
        break;
    default:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
        cb = on_callback; /* ignored with USEEVENT */
        kind = K_EVENT;
        break;
    }
    may_fail = want == OK ? arm(in) : 0;
    /* phoneInitializeExA is the SDK's ANSI name for the same call. */
    rc = ((b & 0x20) ? phoneInitializeExA : phoneInitializeEx)(php, NULL, cb,
                                                               (b & 0x40) ? NULL : "fuzz",
                                                               &ndev, &api, pp);
    disarm();
    TRACE("  phoneInitializeEx(case %d) = %s, app %#x\n", b % 12, err_name(rc), happ);
    if (want == (LONG)PHONEERR_STRUCTURETOOSMALL)
        FUZZ_CHECK(params.dwNeededSize == (params.dwTotalSize >= 12 ? sizeof(params) : 0xABCDu),
                   "dwNeededSize %u for dwTotalSize %u", params.dwNeededSize,
                   params.dwTotalSize);
    if (may_fail && rc == (LONG)PHONEERR_NOMEM) {
        FUZZ_CHECK(tapiq_last_error()[0] != '\0', "NOMEM without a message");
        if (first)
            FUZZ_CHECK(phoneSetLamp(1, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
                       "runtime left running after NOMEM");
        return;
    }
    FUZZ_CHECK(rc == want, "phoneInitializeEx returned %s, expected %s", err_name(rc),
               err_name(want));
    if (rc != OK)
        return;
    FUZZ_CHECK(happ != 0, "HPHONEAPP 0");
    FUZZ_CHECK(find_app(happ) == NULL, "HPHONEAPP %#x given twice", happ);
    if (first)
        model_runtime_start();
    FUZZ_CHECK(ndev == M.rc.devices, "%u devices, configured %u", ndev, M.rc.devices);
    FUZZ_CHECK(api == TAPI_VERSION2_2, "API version %#x", api);
    M.apps[M.napps].h = happ;
    M.apps[M.napps].live = 1;
    M.apps[M.napps].kind = kind;
    M.apps[M.napps].fd = -1;
    M.apps[M.napps].reserved = 0;
    M.apps[M.napps].dirty = 0;
    if (kind == K_EVENT) {
        M.apps[M.napps].fd = (int)(intptr_t)params.Handles.hEvent;
        FUZZ_CHECK(M.apps[M.napps].fd >= 0, "USEEVENT gave no fd");
        FUZZ_CHECK(!fd_readable(M.apps[M.napps].fd, 0), "USEEVENT fd readable with nothing pending");
    }
    M.napps++;
}

static void op_shutdown(struct fuzz_in *in)
{
    uint32_t h = pick_app(in);
    int valid = app_valid(h), may_fail = arm(in);
    LONG rc = phoneShutdown(h);
    struct m_app *a;
    (void)may_fail;
    disarm();
    TRACE("  phoneShutdown(%#x) = %s\n", h, err_name(rc));
    check_errs("phoneShutdown", rc, &(struct errs){{PHONEERR_INVALAPPHANDLE}, !valid}, 1, 0);
    if (!valid)
        return;
    a = find_app(h);
    for (int i = 0; i < M.nhs; i++)
        if (M.hs[i].open && &M.apps[M.hs[i].app] == a)
            model_close(&M.hs[i]);
    if (a->kind == K_CB)
        pump_callbacks(); /* its thread is joined: everything it delivered is here */
    a->live = 0;
    for (int i = 0; i < M.nreqs; i++)
        if (&M.apps[M.reqs[i].app] == a)
            M.reqs[i].gone = 1; /* its completion queues are gone */
    if (napps_live() == 0)
        model_runtime_stop();
    /* A shut-down application is no application. */
    {
        PHONEMESSAGE m;
        FUZZ_CHECK(phoneGetMessage(h, &m, 0) == (LONG)PHONEERR_INVALAPPHANDLE,
                   "phoneGetMessage after phoneShutdown");
    }
}

static const DWORD api_tab[] = {TAPI_VERSION2_2, TAPI_VERSION2_0, TAPI_VERSION1_4,
                                TAPI_VERSION1_0, TAPI_VERSION2_1, 0x00010002u,
                                0x00020003u, 0};

static void op_open(struct fuzz_in *in)
{
    uint32_t happ = pick_app(in);
    uint8_t b = fuzz_u8(in), c = fuzz_u8(in);
    DWORD dev = (b & 0x80) ? fuzz_u32(in) : (DWORD)(b & 7);
    DWORD api = api_tab[c & 7];
    DWORD ext = (c & 0x08) ? 1 : 0;
    DWORD priv = (c & 0x30) == 0x30 ? (c & 0x40 ? 0 : 3)
                 : (c & 0x10)       ? PHONEPRIVILEGE_MONITOR
                                    : PHONEPRIVILEGE_OWNER;
    DWORD_PTR inst = (DWORD_PTR)fuzz_u32(in) << 3 | (DWORD_PTR)M.nhs;
    HPHONE hphone = 0;
    int null_ptr = (b & 0x60) == 0x60 && (c & 0x80);
    struct errs e = {{0}, 0};
    int valid = app_valid(happ), may_fail;
    LONG rc;

    if (M.nhs >= M_HANDLES)
        return;
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    if (valid) {
        errs_add(&e, dev >= M.rc.devices, PHONEERR_BADDEVICEID);
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, api < TAPI_VERSION1_0 || api > TAPI_VERSION2_2,
                 PHONEERR_INCOMPATIBLEAPIVERSION);
        errs_add(&e, ext != 0, PHONEERR_INCOMPATIBLEEXTVERSION);
        errs_add(&e, priv != PHONEPRIVILEGE_OWNER && priv != PHONEPRIVILEGE_MONITOR,
                 PHONEERR_INVALPRIVILEGE);
    }
    may_fail = e.n == 0 ? arm(in) : 0;
    rc = phoneOpen(happ, dev, null_ptr ? NULL : &hphone, api, ext, inst, priv);
    disarm();
    TRACE("  phoneOpen(%#x, dev %u, api %#x, ext %u, priv %u) = %s, handle %#x\n", happ, dev,
          api, ext, priv, err_name(rc), hphone);
    check_errs("phoneOpen", rc, &e, !valid, may_fail ? PHONEERR_NOMEM : 0);
    if (rc != OK)
        return;
    FUZZ_CHECK(hphone != 0, "HPHONE 0");
    FUZZ_CHECK(find_handle(hphone) == NULL, "HPHONE %#x given twice (a closed handle aliased)",
               hphone);
    {
        struct m_handle *hm = &M.hs[M.nhs++];
        memset(hm, 0, sizeof(*hm));
        hm->h = hphone;
        hm->open = 1;
        hm->app = (int)(find_app(happ) - M.apps);
        hm->dev = dev;
        hm->priv = priv;
        hm->api = api;
        hm->inst = inst;
        hm->sub_since = -1;
    }
}

static void op_close(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    struct m_handle *hm = open_handle(h);
    int may_fail = arm(in);
    LONG rc = phoneClose(h);
    (void)may_fail;
    disarm();
    TRACE("  phoneClose(%#x) = %s\n", h, err_name(rc));
    check_errs("phoneClose", rc,
               &(struct errs){{M.rt_live ? PHONEERR_INVALPHONEHANDLE : PHONEERR_UNINITIALIZED},
                              hm == NULL},
               1, 0);
    if (hm) {
        model_close(hm);
        /* A closed handle stays closed. */
        FUZZ_CHECK(phoneSetLamp(h, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_INVALPHONEHANDLE,
                   "phoneSetLamp on a closed handle");
        M.rejected[TAPIQ_REJECT_INVALPHONEHANDLE]++;
    }
}

static uint32_t pick_mode(uint8_t b)
{
    switch (b >> 5) {
    case 0: case 1: case 2: case 3:
        return 1u << (b & 7);          /* one bit: DUMMY .. UNKNOWN */
    case 4: return 0;
    case 5: return (1u << (b & 7)) | (1u << ((b >> 3) & 3)); /* often two bits */
    case 6: return 1u << (b & 31);
    default: return 0xFFFFFFFFu;
    }
}

static uint32_t pick_lamp(struct fuzz_in *in, uint8_t b)
{
    uint32_t n = M.rt_live ? M.rc.lamps : 4;
    if (b < 0xC0)
        return n ? b % (n + 1) : b % 2; /* sometimes one past the end */
    if (b < 0xF0)
        return b % 8;
    return fuzz_u32(in);
}

/* Positions of @ring that may not be given back yet. A worker gives a ring's
 * positions back in order, each once its reply is posted or suppressed, so
 * every request from the oldest one not known to be finished on may still
 * hold one (requests forgotten at a quiescent point are finished). */
static uint32_t ring_held(int ring)
{
    uint32_t n = 0;
    for (int i = 0; i < M.nreqs; i++)
        if (M.reqs[i].ring == ring && (n || !M.reqs[i].fin))
            n++;
    return n;
}

/* The ring row a thread takes at its first request that passes the checks:
 * the lowest free pool slot. The fuzz thread holds its slot until the
 * runtime ends; a helper thread gives its back when it exits, before the
 * next call. So the fuzz thread always gets slot 0, a helper slot 0 before
 * it, slot 1 after it, or the shared row with threads=1. */
static int attach_row(int helper)
{
    if (!helper || M.main_row < 0)
        return 0;
    return M.rc.threads >= 2 ? 1 : M_ROW_SHARED;
}

/* Check the return @rc of phoneSetLamp(@h, @lamp, @mode) issued by the fuzz
 * thread or a helper thread whose ring row is *@row (-1 before its first
 * request that reached a ring), and account for it. */
static void set_lamp_check(uint32_t h, uint32_t lamp, uint32_t mode, LONG rc, int *row,
                           int helper)
{
    struct m_handle *hm = open_handle(h);
    LONG want;
    int why = -1, ring = -1;
    if (!M.rt_live)
        want = PHONEERR_UNINITIALIZED;
    else if (!hm)
        want = PHONEERR_INVALPHONEHANDLE, why = TAPIQ_REJECT_INVALPHONEHANDLE;
    else if (hm->priv != PHONEPRIVILEGE_OWNER)
        want = PHONEERR_NOTOWNER, why = TAPIQ_REJECT_NOTOWNER;
    else if (M.rc.lamps == 0)
        want = PHONEERR_OPERATIONUNAVAIL, why = TAPIQ_REJECT_OPERATIONUNAVAIL;
    else if (lamp >= M.rc.lamps)
        want = PHONEERR_INVALBUTTONLAMPID, why = TAPIQ_REJECT_INVALBUTTONLAMPID;
    else if (mode == 0 || (mode & (mode - 1)) || !(mode & ALL_MODES))
        want = PHONEERR_INVALLAMPMODE, why = TAPIQ_REJECT_INVALLAMPMODE;
    else if (!online(hm->dev))
        want = PHONEERR_INVALPHONESTATE, why = TAPIQ_REJECT_INVALPHONESTATE;
    else
        want = OK;
    TRACE("  %sphoneSetLamp(%#x, %u, %#x) = %s%s\n", helper ? "helper: " : "", h, lamp, mode,
          rc > 0 ? "id " : "", rc > 0 ? "" : err_name(rc));
    if (rc > 0)
        TRACE("    id %#x\n", (unsigned)rc);
    if (want == OK) {
        if (*row < 0) {
            *row = attach_row(helper);
            if (!helper)
                M.main_row = *row;
        }
        ring = *row * M_WORKERS + (int)(hm->dev % M.rc.workers);
    }
    if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL && want == OK) {
        FUZZ_CHECK(ring_held(ring) >= M.ring_size,
                   "RESOURCEUNAVAIL with rings of %u (queue=%u) and at most %u positions of "
                   "this thread's ring to worker %u held",
                   M.ring_size, M.rc.queue, ring_held(ring), hm->dev % M.rc.workers);
        M.rejected[TAPIQ_REJECT_RESOURCEUNAVAIL]++;
        return;
    }
    if (want != OK) {
        FUZZ_CHECK(rc == want, "phoneSetLamp(%#x, %u, %#x) returned %s, expected %s", h, lamp,
                   mode, err_name(rc), err_name(want));
        if (why >= 0)
            M.rejected[why]++;
        return;
    }
    FUZZ_CHECK(rc > 0, "phoneSetLamp(%#x, %u, %#x) returned %s, expected a request id", h, lamp,
               mode, err_name(rc));
    /* Thread-free: nothing issued since the last round was taken or given
     * back, so a ring that got that many is full (capacity exactly queue,
     * rounded up). */
    FUZZ_CHECK(!manual || M.since_step[ring] < M.ring_size,
               "phoneSetLamp accepted a request with %u requests since the last round in a "
               "ring of %u",
               M.since_step[ring], M.ring_size);
    FUZZ_CHECK((uint32_t)rc <= 0x7FFFFFFFu, "request id %#x", (unsigned)rc);
    /* Ids come back no sooner than 2^21 positions on (the ring bits of at
     * most 514 rings): beyond an input, so any not known to be finished
     * counts as in flight. */
    for (int i = 0; i < M.nreqs; i++)
        FUZZ_CHECK(!(M.reqs[i].id == (uint32_t)rc && !M.reqs[i].fin),
                   "request id %#x equals one still in flight", (unsigned)rc);
    M.accepted++;
    if (manual)
        M.since_step[ring]++;
    {
        struct m_req *r = &M.reqs[M.nreqs];
        struct m_lamp *l = &M.lamps[hm->dev][lamp];
        r->id = (uint32_t)rc;
        r->handle = (int)(hm - M.hs);
        r->app = hm->app;
        r->dev = hm->dev;
        r->lamp = lamp;
        r->mode = mode;
        r->ring = ring;
        r->settle_at = M.nsettle;
        r->st = R_PENDING;
        r->read = r->complete = r->fin = r->gone = 0;
        r->next_lamp = -1;
        for (int i = l->head; i >= 0 && !l->mixed; i = M.reqs[i].next_lamp)
            l->mixed = M.reqs[i].ring != ring;
        if (l->tail >= 0)
            M.reqs[l->tail].next_lamp = M.nreqs;
        else
            l->head = M.nreqs;
        l->tail = M.nreqs;
        l->req_since = 1;
        M.nreqs++;
    }
}

static void set_lamp(uint32_t h, uint32_t lamp, uint32_t mode)
{
    set_lamp_check(h, lamp, mode, phoneSetLamp(h, lamp, mode), &M.main_row, 0);
}

static void op_set_lamp(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t lb = fuzz_u8(in), mb = fuzz_u8(in);
    if (M.nreqs >= M_REQS)
        return;
    set_lamp(h, pick_lamp(in, lb), pick_mode(mb));
}

/* A burst for a helper thread: run there back to back, then joined. */
struct helper_job {
    int n;
    uint32_t h, lamp[M_BURST], mode[M_BURST];
    LONG rc[M_BURST];
};

static void *helper_main(void *arg)
{
    struct helper_job *j = arg;
    for (int i = 0; i < j->n; i++)
        j->rc[i] = phoneSetLamp(j->h, j->lamp[i], j->mode[i]);
    return NULL; /* exiting gives the thread's pool slot back */
}

/* Several requests on one handle, back to back: batching and coalescing;
 * now and then from a helper thread (another ring: the shared one with
 * threads=1), which exits before the next call. */
static void op_burst(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t c = fuzz_u8(in);
    struct helper_job job;
    pthread_t t;
    int row = -1;
    job.n = 0;
    job.h = h;
    for (int i = 0; i < 2 + c % 15 && M.nreqs + i < M_REQS; i++) {
        uint8_t b = fuzz_u8(in);
        job.lamp[i] = M.rt_live && M.rc.lamps ? (b & 3) % M.rc.lamps : 0;
        job.mode[i] = PHONELAMPMODE_OFF << (b >> 2) % 6;
        job.n++;
    }
    if (c < 0xF0) {
        for (int i = 0; i < job.n; i++)
            set_lamp(h, job.lamp[i], job.mode[i]);
        return;
    }
    if (pthread_create(&t, NULL, helper_main, &job) != 0)
        return;
    FUZZ_CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    for (int i = 0; i < job.n; i++)
        set_lamp_check(h, job.lamp[i], job.mode[i], job.rc[i], &row, 1);
}

#include "fuzz/fuzz_api_setters.h"

static void op_get_lamp(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t lb = fuzz_u8(in);
    uint32_t lamp = pick_lamp(in, lb), v = 0xDEAD;
    struct m_handle *hm = open_handle(h);
    int null_ptr = (lb & 0x3F) == 0x3F;
    struct errs e = {{0}, 0};
    LONG rc = phoneGetLamp(h, lamp, null_ptr ? NULL : &v);
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    if (hm) {
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, M.rc.lamps == 0, PHONEERR_OPERATIONUNAVAIL);
        errs_add(&e, lamp >= M.rc.lamps, PHONEERR_INVALBUTTONLAMPID);
    }
    check_errs("phoneGetLamp", rc, &e, !hm, 0);
    if (rc == OK)
        check_lamp_value(hm->dev, lamp, v, "phoneGetLamp");
    else
        FUZZ_CHECK(v == 0xDEAD, "phoneGetLamp wrote its output on failure");
}

/* Events a filter change reserves: once for state tokens (one per lamp and
 * per non-lamp state) when the handle first asks for states, once for
 * PHONE_BUTTON (TAPIQ_BUTTON_ROOM) when it first asks for buttons. */
static uint32_t filter_room(const struct m_handle *hm, uint32_t states, uint32_t bm,
                            uint32_t bs)
{
    uint32_t need = 0;
    if (states && hm->reserved == hm->breserved)
        need += M.rc.lamps + TAPIQ_EVENTS_PER_HANDLE_EXTRA;
    if (bm && bs && M.rc.lamps && !hm->breserved)
        need += TAPIQ_BUTTON_ROOM;
    return need;
}

static void op_set_status_messages(struct fuzz_in *in)
{
    static const DWORD states_tab[] = {PHONESTATE_LAMP, 0, 0x00FFFFFFu,
                                       PHONESTATE_LAMP | PHONESTATE_CONNECTED,
                                       PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED,
                                       0x01000000u, PHONESTATE_LAMP, PHONESTATE_OTHER};
    uint32_t h = pick_handle(in);
    uint8_t b = fuzz_u8(in);
    DWORD states = states_tab[b & 7];
    DWORD bm = (b & 0x08) ? (b & 0x10 ? 0x40u : 0x3Fu) : 0;
    DWORD bs = (b & 0x20) ? (b & 0x40 ? 0x10u : 0x0Fu) : 0;
    struct m_handle *hm = open_handle(h);
    struct errs e = {{0}, 0};
    int may_fail, room = 1, short_for_sure = 0, invalid = 0;
    uint32_t need = 0;
    LONG rc;
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    if (hm) {
        struct m_app *a = &M.apps[hm->app];
        errs_add(&e, states & ~0x00FFFFFFu, PHONEERR_INVALPHONESTATE);
        errs_add(&e, bm & ~0x3Fu, PHONEERR_INVALBUTTONMODE);
        errs_add(&e, (bs & ~0x0Fu) || (bm && !bs), PHONEERR_INVALBUTTONSTATE);
        invalid = e.n;
        /* Each subscribing handle reserves room for one pending event per lamp
         * plus the non-lamp kinds (runtime.h). */
        need = filter_room(hm, states, bm, bs);
        if (need) {
            short_for_sure = a->reserved + need > M.rc.events;
            room = !short_for_sure && !a->dirty;
        }
        if (e.n == 0 && short_for_sure)
            errs_add(&e, 1, PHONEERR_RESOURCEUNAVAIL);
    }
    may_fail = e.n == 0 ? arm(in) : 0;
    rc = phoneSetStatusMessages(h, states, bm, bs);
    disarm();
    TRACE("  phoneSetStatusMessages(%#x, %#x, %#x, %#x) = %s\n", h, states, bm, bs,
          err_name(rc));
    /* Room held by events of closed handles still queued: may be short. */
    if (!(hm && !invalid && !room && rc == (LONG)PHONEERR_RESOURCEUNAVAIL))
        check_errs("phoneSetStatusMessages", rc, &e, !hm, may_fail ? PHONEERR_NOMEM : 0);
    if (rc == OK) {
        if (need) {
            hm->breserved += bm && bs && M.rc.lamps && !hm->breserved ? TAPIQ_BUTTON_ROOM : 0;
            hm->reserved += need;
            M.apps[hm->app].reserved += need;
        }
        hm->ever_states |= states;
        buttons_on_filter(hm, bm, bs);
        hm->states = states;
        hm->bmodes = bm;
        hm->bstates = bs;
        hm->sub_since = (states & PHONESTATE_LAMP) ? M.nsettle : -1;
        if (states & PHONESTATE_LAMP)
            hm->ever_lamp = 1;
    }
}

static void op_get_status_messages(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t b = fuzz_u8(in);
    DWORD s = 0xDEAD, m = 0xDEAD, st = 0xDEAD;
    struct m_handle *hm = open_handle(h);
    int null_ptr = (b & 3) == 3;
    struct errs e = {{0}, 0};
    LONG rc = phoneGetStatusMessages(h, (b & 4) && null_ptr ? NULL : &s,
                                     (b & 8) && null_ptr ? NULL : &m,
                                     !(b & 12) && null_ptr ? NULL : &st);
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    errs_add(&e, hm && null_ptr, PHONEERR_INVALPOINTER);
    check_errs("phoneGetStatusMessages", rc, &e, 1, 0);
    if (rc == OK)
        FUZZ_CHECK(s == hm->states && m == hm->bmodes && st == hm->bstates,
                   "status messages %#x/%#x/%#x, set %#x/%#x/%#x", s, m, st, hm->states,
                   hm->bmodes, hm->bstates);
}

static void op_get_message(struct fuzz_in *in)
{
    uint32_t h = pick_app(in);
    uint8_t b = fuzz_u8(in);
    struct m_app *a = find_app(h);
    int valid = app_valid(h);
    struct errs e = {{0}, 0};
    PHONEMESSAGE msgs[8];
    LONG rc;
    if (b & 1) {
        DWORD max = (b >> 1) % 9; /* 0 is INVALPARAM */
        rc = tapiq_get_messages(h, (b & 0xF0) == 0xF0 ? NULL : msgs, max, 0);
        errs_add(&e, max == 0, PHONEERR_INVALPARAM);
        errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
        errs_add(&e, (b & 0xF0) == 0xF0, PHONEERR_INVALPOINTER);
        errs_add(&e, valid && a->kind == K_CB, PHONEERR_OPERATIONUNAVAIL);
        if (e.n == 0 && rc == (LONG)PHONEERR_OPERATIONFAILED)
            return;
        if (e.n == 0) {
            FUZZ_CHECK(rc >= 1 && (DWORD)rc <= max, "tapiq_get_messages(max %u) returned %s",
                       max, err_name(rc));
            for (LONG i = 0; i < rc; i++)
                on_message(a, &msgs[i], 0);
            return;
        }
        check_errs("tapiq_get_messages", rc, &e, 0, 0);
        return;
    }
    rc = phoneGetMessage(h, (b & 0x0E) == 0x0E ? NULL : &msgs[0], 0);
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    errs_add(&e, (b & 0x0E) == 0x0E, PHONEERR_INVALPOINTER);
    errs_add(&e, valid && a->kind == K_CB, PHONEERR_OPERATIONUNAVAIL);
    if (e.n == 0 && rc == (LONG)PHONEERR_OPERATIONFAILED)
        return;
    check_errs("phoneGetMessage", rc, &e, 0, 0);
    if (rc == OK)
        on_message(a, &msgs[0], 0);
}

/* Exact-size caller buffer with a canary after what the call may write. */
static unsigned char *buf_new(size_t total)
{
    unsigned char *p = malloc(total);
    if (p)
        memset(p, 0xA5, total);
    return p;
}

static void buf_check_tail(const unsigned char *p, size_t from, size_t total, const char *what)
{
    for (size_t i = from; i < total; i++)
        FUZZ_CHECK(p[i] == 0xA5, "%s wrote byte %zu beyond dwUsedSize %zu", what, i, from);
}

static void op_get_status(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t b = fuzz_u8(in);
    struct m_handle *hm = open_handle(h);
    DWORD fixed, need = 0, total;
    unsigned char *p;
    PHONESTATUS st;
    struct errs e = {{0}, 0};
    LONG rc;
    memset(&st, 0, sizeof(st));
    fixed = hm && hm->api < TAPI_VERSION2_0 ? offsetof(PHONESTATUS, dwPhoneFeatures)
                                            : sizeof(PHONESTATUS);
    if (hm)
        need = fixed + 4 * M.rc.lamps;
    switch (b & 7) {
    case 0: total = 4; break;
    case 1: total = 12; break;
    case 2: total = fixed - 1; break;
    case 3: total = fixed; break;
    case 4: total = need ? need - 1 : fixed; break;
    case 5: total = need ? need : fixed; break;
    case 6: total = (need ? need : fixed) + 16; break;
    default: total = 8; break;
    }
    p = buf_new(total);
    if (!p)
        return;
    memcpy(p, &total, 4);
    rc = phoneGetStatus(h, (b & 0xF8) == 0xF8 ? NULL : (LPPHONESTATUS)p);
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    errs_add(&e, hm && (b & 0xF8) == 0xF8, PHONEERR_INVALPOINTER);
    errs_add(&e, hm && total < fixed, PHONEERR_STRUCTURETOOSMALL);
    check_errs("phoneGetStatus", rc, &e, !hm, 0);
    if (rc != OK && rc != (LONG)PHONEERR_STRUCTURETOOSMALL)
        buf_check_tail(p, 4, total, "phoneGetStatus (failed)");
    if (rc == (LONG)PHONEERR_STRUCTURETOOSMALL) {
        buf_check_tail(p, total >= 12 ? 12 : 4, total, "phoneGetStatus (too small)");
        if (total >= 12) {
            memcpy(&st, p, 12);
            FUZZ_CHECK(st.dwNeededSize == need, "dwNeededSize %u, need %u", st.dwNeededSize,
                       need);
        }
    }
    if (rc == OK) {
        uint32_t owners = 0, monitors = 0;
        memcpy(&st, p, fixed);
        FUZZ_CHECK(st.dwTotalSize == total, "dwTotalSize changed");
        FUZZ_CHECK(st.dwNeededSize == need, "dwNeededSize %u, need %u", st.dwNeededSize, need);
        FUZZ_CHECK(st.dwUsedSize == (total >= need ? need : fixed), "dwUsedSize %u",
                   st.dwUsedSize);
        buf_check_tail(p, st.dwUsedSize, total, "phoneGetStatus");
        FUZZ_CHECK(!!(st.dwStatusFlags & PHONESTATUSFLAGS_CONNECTED) == online(hm->dev),
                   "status flags %#x, device %u online %d", st.dwStatusFlags, hm->dev,
                   online(hm->dev));
        for (int i = 0; i < M.nhs; i++)
            if (M.hs[i].open && M.hs[i].dev == hm->dev) {
                owners += M.hs[i].priv == PHONEPRIVILEGE_OWNER;
                monitors += M.hs[i].priv == PHONEPRIVILEGE_MONITOR;
            }
        FUZZ_CHECK(st.dwNumOwners == owners && st.dwNumMonitors == monitors,
                   "owners/monitors %u/%u, open handles say %u/%u", st.dwNumOwners,
                   st.dwNumMonitors, owners, monitors);
        if (hm->api >= TAPI_VERSION2_0)
            FUZZ_CHECK(st.dwPhoneFeatures ==
                           model_features(),
                       "features %#x", st.dwPhoneFeatures);
        if (total >= need) {
            FUZZ_CHECK(st.dwLampModesSize == 4 * M.rc.lamps &&
                           st.dwLampModesOffset + st.dwLampModesSize <= st.dwUsedSize,
                       "lamp modes at %u+%u", st.dwLampModesOffset, st.dwLampModesSize);
            for (uint32_t l = 0; l < M.rc.lamps; l++) {
                DWORD v;
                memcpy(&v, p + st.dwLampModesOffset + 4 * l, 4);
                check_lamp_value(hm->dev, l, v, "phoneGetStatus");
            }
        } else {
            FUZZ_CHECK(st.dwLampModesSize == 0, "lamp modes without room");
        }
    }
    free(p);
}

static void op_get_dev_caps(struct fuzz_in *in)
{
    uint32_t happ = pick_app(in);
    uint8_t b = fuzz_u8(in), c = fuzz_u8(in);
    DWORD dev = (b & 0x80) ? fuzz_u32(in) : (DWORD)(b & 7);
    DWORD api = api_tab[c & 7], ext = (c & 0x08) ? 1 : 0, fixed, total;
    int valid = app_valid(happ), null_ptr = (c & 0x30) == 0x30;
    struct errs e = {{0}, 0};
    unsigned char *p;
    PHONECAPS caps;
    LONG rc;
    fixed = api >= TAPI_VERSION2_2   ? sizeof(PHONECAPS)
            : api >= TAPI_VERSION2_0 ? offsetof(PHONECAPS, PermanentPhoneGuid)
                                     : offsetof(PHONECAPS, dwDeviceClassesSize);
    switch (c >> 6) {
    case 0: total = fixed; break;
    case 1: total = 4096; break;
    case 2: total = 12 + (b & 15); break;
    default: total = fixed + (b & 63); break;
    }
    p = buf_new(total);
    if (!p)
        return;
    memcpy(p, &total, 4);
    rc = phoneGetDevCaps(happ, dev, api, ext, null_ptr ? NULL : (LPPHONECAPS)p);
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    if (valid) {
        errs_add(&e, dev >= M.rc.devices, PHONEERR_BADDEVICEID);
        errs_add(&e, api < TAPI_VERSION1_0 || api > TAPI_VERSION2_2,
                 PHONEERR_INCOMPATIBLEAPIVERSION);
        errs_add(&e, ext != 0, PHONEERR_INCOMPATIBLEEXTVERSION);
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, !null_ptr && total < fixed, PHONEERR_STRUCTURETOOSMALL);
    }
    check_errs("phoneGetDevCaps", rc, &e, !valid, 0);
    if (rc == OK) {
        memcpy(&caps, p, fixed);
        FUZZ_CHECK(caps.dwTotalSize == total && caps.dwUsedSize <= total &&
                       caps.dwUsedSize >= fixed && caps.dwNeededSize >= fixed,
                   "sizes total %u used %u needed %u", caps.dwTotalSize, caps.dwUsedSize,
                   caps.dwNeededSize);
        buf_check_tail(p, caps.dwUsedSize, total, "phoneGetDevCaps");
        FUZZ_CHECK(caps.dwNumButtonLamps == M.rc.lamps, "%u lamps, configured %u",
                   caps.dwNumButtonLamps, M.rc.lamps);
        if (api >= TAPI_VERSION2_0)
            FUZZ_CHECK(caps.dwPhoneFeatures ==
                           model_features(),
                       "features %#x", caps.dwPhoneFeatures);
        if (total >= caps.dwNeededSize) {
            FUZZ_CHECK(caps.dwUsedSize == caps.dwNeededSize, "used %u needed %u",
                       caps.dwUsedSize, caps.dwNeededSize);
            FUZZ_CHECK(caps.dwLampModesSize == 4 * M.rc.lamps &&
                           caps.dwLampModesOffset >= fixed &&
                           caps.dwLampModesOffset + caps.dwLampModesSize <= caps.dwUsedSize,
                       "lamp modes at %u+%u", caps.dwLampModesOffset, caps.dwLampModesSize);
            for (uint32_t l = 0; l < M.rc.lamps; l++) {
                DWORD v;
                memcpy(&v, p + caps.dwLampModesOffset + 4 * l, 4);
                FUZZ_CHECK(v == ALL_MODES, "lamp %u supports %#x", l, v);
            }
        }
    }
    free(p);
}

static void op_negotiate(struct fuzz_in *in)
{
    uint32_t happ = pick_app(in);
    uint8_t b = fuzz_u8(in);
    DWORD dev = b & 7, lo = api_tab[(b >> 3) & 7], hi = api_tab[fuzz_u8(in) & 7], v = 0;
    PHONEEXTENSIONID ext;
    int valid = app_valid(happ), null_ptr = (b >> 6) == 3;
    struct errs e = {{0}, 0};
    LONG rc = phoneNegotiateAPIVersion(happ, dev, lo, hi, null_ptr ? NULL : &v, &ext);
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    if (valid) {
        errs_add(&e, dev >= M.rc.devices, PHONEERR_BADDEVICEID);
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, lo > hi || hi < TAPI_VERSION1_0 || lo > TAPI_VERSION2_2,
                 PHONEERR_INCOMPATIBLEAPIVERSION);
    }
    check_errs("phoneNegotiateAPIVersion", rc, &e, !valid, 0);
    if (rc == OK)
        FUZZ_CHECK(v >= lo && v <= hi && v >= TAPI_VERSION1_0 && v <= TAPI_VERSION2_2,
                   "negotiated %#x in [%#x, %#x]", v, lo, hi);
}

/* One worker round over up to 1..16 devices (thread-free), or a yield. */
static void op_step(struct fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t max = 1u + (b & 15), queued = 0;
    int n, idle = 1;
    if (!manual) {
        if (b & 1)
            sched_yield();
        return;
    }
    n = tapiq_rt_step(max);
    TRACE("  step(%u) = %d\n", max, n);
    if (!M.rt_live) {
        FUZZ_CHECK(n == -ENODEV, "tapiq_rt_step without a runtime returned %d", n);
        return;
    }
    FUZZ_CHECK(n >= 0, "tapiq_rt_step(%u) with a runtime returned %d", max, n);
    for (int r = 0; r < M_RINGS; r++)
        queued += M.since_step[r];
    /* Nothing new in a ring, nothing that may wait for a batch or for room:
     * a round has nothing to do. */
    for (int i = 0; i < M.nreqs; i++)
        idle &= M.reqs[i].fin;
    FUZZ_CHECK(!queued || n > 0, "tapiq_rt_step(%u) = 0 with %u new requests in the rings",
               max, queued);
    FUZZ_CHECK(queued || !idle || n == 0,
               "tapiq_rt_step(%u) = %d with every request known to be finished", max, n);
    rounds_ran(max);
}

/* ---------------------------------------------------------------- entry */

static void reset_model(void)
{
    memset(&M, 0, sizeof(M));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    int ops = 0;
    int64_t t0;
    static int hooked;

    if (!hooked) {
        /* Installed once, before any worker exists; armed per call. */
        tapiq_alloc_fail_hook = fail_hook;
        hooked = 1;
    }
    reset_model();
    trace_on = getenv("TAPIQ_FUZZ_TRACE") != NULL;
    manual = getenv("TAPIQ_FUZZ_THREADS") == NULL;
    tapiq_rt_manual = manual; /* no runtime exists here: taken by the next one */
    t0 = now_ms();
    /* Nothing may be left from the previous input. */
    FUZZ_CHECK(phoneSetLamp(0x10001, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
               "state left behind by the previous input");
    {
        char text[256];
        pick_config(&in, &M.cfg, text, sizeof(text));
        FUZZ_CHECK(tapiq_configure(text) == 0, "tapiq_configure('%s'): %s", text,
                   tapiq_last_error());
    }
    while (in.n && ops++ < M_OPS) {
        uint8_t op = fuzz_u8(&in);
        TRACE("op %d: %u (%lld ms)\n", ops, op % 26, (long long)(now_ms() - t0));
        if (op >= 240) { /* the top values: console events (fuzz_api_events.h) */
            if (op >= 248)
                op_press(&in);
            else
                op_hook(&in);
            continue;
        }
        switch (op % 26) {
        case 0: case 1: op_init(&in); break;
        case 2: op_shutdown(&in); break;
        case 3: case 4: op_open(&in); break;
        case 5: op_close(&in); break;
        case 6: case 7: case 8: op_set_lamp(&in); break;
        case 9: op_burst(&in); break;
        case 10: case 11: op_get_lamp(&in); break;
        case 12: op_set_status_messages(&in); break;
        case 13: op_get_status_messages(&in); break;
        case 14: case 15: op_get_message(&in); break;
        case 16: drain_replies(); break;
        case 17: settle(); break;
        case 18: op_get_status(&in); break;
        case 19: op_get_dev_caps(&in); break;
        case 20: op_negotiate(&in); break;
        case 21: op_configure(&in); break;
        case 22: op_bad_env(&in); break;
        case 24: case 25: op_set_attr(&in); break;
        default: op_step(&in); break;
        }
    }
    /* Leave nothing behind. */
    settle();
    for (int i = 0; i < M.napps; i++) {
        if (M.apps[i].live) {
            FUZZ_CHECK(phoneShutdown(M.apps[i].h) == 0, "final phoneShutdown");
            M.apps[i].live = 0;
        }
    }
    pump_callbacks();
    {
        tapiq_stats s;
        FUZZ_CHECK(tapiq_get_stats(&s, sizeof(s)) == -ENODEV, "a runtime outlived its apps");
        FUZZ_CHECK(phoneSetLamp(0x10001, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
                   "phoneSetLamp without applications");
    }
    return 0;
}
