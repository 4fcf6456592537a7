/* test_getmessage - how messages reach the application.
 *
 * phoneGetMessage: timeout 0 on an empty queue and a finite timeout with
 * nothing coming give PHONEERR_OPERATIONFAILED; a waiter (INFINITE or finite)
 * returns PHONEERR_INVALAPPHANDLE when another thread shuts the application
 * down. USEEVENT: Handles.hEvent is a file descriptor that polls readable
 * while messages are pending and not once they were all read. USEHIDDENWINDOW
 * with a callback: each reply reaches the callback exactly once. Several
 * applications at once: each gets only its own replies (and its fd only
 * signals its own). A wait that fails (poll refuses while RLIMIT_NOFILE is
 * 0) returns PHONEERR_OPERATIONFAILED at once instead of spinning, and a
 * message already there is still returned.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "tq_test.h"

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    TQ_CHECKF(r >= 0, "poll: %s", strerror(errno));
    TQ_CHECKF(!(p.revents & (POLLERR | POLLNVAL)), "poll revents %#x", (unsigned)p.revents);
    return r > 0 && (p.revents & POLLIN);
}

static LONG set_retry(HPHONE h, DWORD lamp, DWORD mode)
{
    for (int i = 0; i < 1000000; i++) {
        LONG id = phoneSetLamp(h, lamp, mode);
        if (id != (LONG)PHONEERR_RESOURCEUNAVAIL) {
            TQ_CHECKF(TQ_ID_OK(id), "phoneSetLamp = %s", tq_err_name(id));
            return id;
        }
        sched_yield();
    }
    TQ_FAIL("RESOURCEUNAVAIL a million times");
}

static void case_timeouts(void)
{
    HPHONEAPP app = tq_start("devices=2,lamps=4", NULL);
    PHONEMESSAGE m;
    memset(&m, 0x5A, sizeof m);
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(phoneGetMessage(app, &m, 1), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(phoneGetMessage(app, &m, 30), PHONEERR_OPERATIONFAILED);
    /* A message that arrives during a finite wait is returned by it. */
    HPHONE h = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 99);
    LONG id = set_retry(h, 2, PHONELAMPMODE_WINK);
    TQ_EXPECT(phoneGetMessage(app, &m, 10000), 0);
    TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD_PTR)id && m.hDevice == h &&
             m.dwCallbackInstance == 99 && m.dwParam2 == 0);
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(phoneShutdown(app), 0);
}

static void case_wait_fails(void)
{
    HPHONEAPP app = tq_start("devices=1,lamps=4,workers=1", NULL);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 7);
    PHONEMESSAGE m;
    struct rlimit old, zero;
    LONG id = set_retry(h, 1, PHONELAMPMODE_STEADY), r1, r2;
    tq_wait_idle(); /* the reply is posted */
    TQ_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    zero = old;
    zero.rlim_cur = 0;
    TQ_CHECK(setrlimit(RLIMIT_NOFILE, &zero) == 0);
    r1 = phoneGetMessage(app, &m, INFINITE); /* there: no wait */
    r2 = phoneGetMessage(app, &m, INFINITE); /* the wait fails */
    TQ_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    TQ_CHECKF(r1 == 0 && m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD_PTR)id,
              "phoneGetMessage with a reply waiting = %s", tq_err_name(r1));
    TQ_CHECKF(r2 == (LONG)PHONEERR_OPERATIONFAILED, "phoneGetMessage whose wait fails = %s",
              tq_err_name(r2));
    TQ_EXPECT(phoneGetMessage(app, &m, 10), PHONEERR_OPERATIONFAILED); /* waits again */
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* ------------------------------------------------------------ shutdown */

struct waiter {
    HPHONEAPP app;
    DWORD timeout;
    _Atomic int started;
    _Atomic LONG result;
    pthread_t t;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    PHONEMESSAGE m;
    /* release: pairs with the acquire in main's spin (only says "about to wait"). */
    atomic_store_explicit(&w->started, 1, memory_order_release);
    LONG r = phoneGetMessage(w->app, &m, w->timeout);
    atomic_store_explicit(&w->result, r, memory_order_release);
    return NULL;
}

static void join_bounded(pthread_t t, const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 20;
    int rc = pthread_timedjoin_np(t, NULL, &ts);
    TQ_CHECKF(rc == 0, "%s: the waiter did not return within 20 s of phoneShutdown (%s)", what,
              strerror(rc));
}

static void case_shutdown_wakes_waiters(void)
{
    static const DWORD timeouts[] = {INFINITE, 600000};
    for (size_t k = 0; k < sizeof timeouts / sizeof timeouts[0]; k++) {
        for (int nwait = 1; nwait <= 3; nwait += 2) {
            struct waiter w[3];
            HPHONEAPP keep = 0;
            HPHONEAPP app = tq_start("devices=2,lamps=4", NULL);
            /* Another application stays: the shutdown is not the last one. */
            if (nwait == 3)
                TQ_EXPECT(tq_init_app(&keep, NULL, NULL), 0);
            for (int i = 0; i < nwait; i++) {
                w[i].app = app;
                w[i].timeout = timeouts[k];
                atomic_init(&w[i].started, 0);
                atomic_init(&w[i].result, 1);
                TQ_CHECK(pthread_create(&w[i].t, NULL, wait_thread, &w[i]) == 0);
            }
            for (int i = 0; i < nwait; i++)
                for (int spin = 0; !atomic_load_explicit(&w[i].started, memory_order_acquire);
                     spin++) {
                    TQ_CHECK(spin < 100000);
                    tq_sleep_us(100);
                }
            /* Let them reach the wait; if one has not, it sees a dead handle
             * anyway, so the expected result is the same. */
            tq_sleep_us(50000);
            for (int i = 0; i < nwait; i++)
                TQ_CHECKF(atomic_load_explicit(&w[i].result, memory_order_acquire) == 1,
                          "phoneGetMessage returned %s on an empty queue before the shutdown",
                          tq_err_name(atomic_load_explicit(&w[i].result, memory_order_acquire)));
            TQ_EXPECT(phoneShutdown(app), 0);
            for (int i = 0; i < nwait; i++) {
                join_bounded(w[i].t, timeouts[k] == INFINITE ? "INFINITE" : "finite");
                TQ_EXPECT(atomic_load_explicit(&w[i].result, memory_order_acquire),
                          PHONEERR_INVALAPPHANDLE);
            }
            if (keep) {
                PHONEMESSAGE m;
                TQ_EXPECT(phoneGetMessage(keep, &m, 0), PHONEERR_OPERATIONFAILED);
                TQ_EXPECT(phoneShutdown(keep), 0);
            }
        }
    }
}

/* ------------------------------------------------------------ USEEVENT */

static void case_event_fd(void)
{
    HPHONEAPP app = 0;
    DWORD n = 0;
    int fd = -1;
    TQ_CHECK(tapiq_configure("devices=2,lamps=8,workers=2,queue=64") == 0);
    TQ_EXPECT(tq_init_app(&app, &n, &fd), 0);
    TQ_CHECKF(fd >= 0, "Handles.hEvent %d is not a file descriptor", fd);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 5);
    TQ_CHECK(!readable(fd, 0));

    for (int round = 0; round < 20; round++) {
        int k = 1 + round % 7;
        LONG ids[8];
        for (int i = 0; i < k; i++)
            ids[i] = set_retry(h, (DWORD)i, tq_mode((unsigned)(round + i)));
        /* Readable once a message is pending (bounded wait). */
        TQ_CHECKF(readable(fd, 10000), "round %d: fd not readable with replies coming", round);
        for (int got = 0; got < k; got++) {
            PHONEMESSAGE m;
            /* Messages are pending: the fd says so before each read. */
            TQ_CHECKF(readable(fd, 10000), "round %d: %d of %d read, fd not readable", round,
                      got, k);
            TQ_EXPECT(phoneGetMessage(app, &m, 10000), 0);
            TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.hDevice == h);
            int found = 0;
            for (int i = 0; i < k; i++)
                if (m.dwParam1 == (DWORD_PTR)ids[i]) {
                    found++;
                    ids[i] = 0;
                }
            TQ_CHECK(found == 1);
        }
        tq_wait_idle();
        PHONEMESSAGE m;
        TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONFAILED);
        TQ_CHECKF(!readable(fd, 0), "round %d: fd readable after every message was read", round);
    }
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* ------------------------------------------------------------ callback */

#define CB_MAX 20000

struct cb_rec {
    DWORD hDevice, msg;
    DWORD_PTR inst, p1, p2;
};
static struct cb_rec g_cb[CB_MAX];
static _Atomic uint32_t g_cb_n;
static _Atomic uint32_t g_cb_overflow;

static void callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance, DWORD_PTR dwParam1,
                     DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    (void)dwParam3;
    /* relaxed: the slot index; the record is published by the release below */
    uint32_t i = atomic_load_explicit(&g_cb_n, memory_order_relaxed);
    if (i >= CB_MAX) {
        atomic_fetch_add_explicit(&g_cb_overflow, 1, memory_order_relaxed);
        return;
    }
    g_cb[i].hDevice = hDevice;
    g_cb[i].msg = dwMessage;
    g_cb[i].inst = dwInstance;
    g_cb[i].p1 = dwParam1;
    g_cb[i].p2 = dwParam2;
    /* release: pairs with the acquire loads in case_callback. Callbacks of one
     * application come from one delivery thread, so one writer at a time. */
    atomic_store_explicit(&g_cb_n, i + 1, memory_order_release);
}

static void case_callback(unsigned long scale)
{
    PHONEINITIALIZEEXPARAMS p;
    HPHONEAPP app = 0;
    DWORD n = 0, ver = TQ_API;
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    TQ_CHECK(tapiq_configure("devices=3,lamps=8,workers=2,queue=128") == 0);
    TQ_EXPECT(phoneInitializeEx(&app, NULL, callback, "cb", &n, &ver, &p), 0);
    HPHONE h[3];
    for (int d = 0; d < 3; d++)
        h[d] = tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, (DWORD_PTR)(0xC0DE0000u + d));

    const uint32_t total = (uint32_t)(12000 / scale);
    uint32_t *issued = malloc(sizeof *issued * total);
    TQ_CHECK(issued != NULL);
    for (uint32_t i = 0; i < total; i++)
        issued[i] = (uint32_t)set_retry(h[i % 3], i % 8, tq_mode(i / 3));
    for (int spin = 0; atomic_load_explicit(&g_cb_n, memory_order_acquire) < total; spin++) {
        TQ_CHECKF(spin < 60000, "%u of %u replies reached the callback",
                  atomic_load_explicit(&g_cb_n, memory_order_acquire), total);
        tq_sleep_us(1000);
    }
    tq_wait_idle();
    tq_sleep_us(20000); /* a duplicate, if any, has time to show */
    uint32_t got = atomic_load_explicit(&g_cb_n, memory_order_acquire);
    TQ_CHECKF(got == total && atomic_load_explicit(&g_cb_overflow, memory_order_relaxed) == 0,
              "%u callbacks for %u requests", got, total);
    uint32_t *ids = malloc(sizeof *ids * total);
    TQ_CHECK(ids != NULL);
    for (uint32_t i = 0; i < got; i++) {
        TQ_CHECKF(g_cb[i].msg == PHONE_REPLY, "callback message %u", (unsigned)g_cb[i].msg);
        TQ_CHECK(g_cb[i].p2 == 0);
        int d;
        for (d = 0; d < 3; d++)
            if (g_cb[i].hDevice == h[d])
                break;
        TQ_CHECKF(d < 3, "callback for unknown handle %#x", (unsigned)g_cb[i].hDevice);
        TQ_CHECK(g_cb[i].inst == (DWORD_PTR)(0xC0DE0000u + d));
        ids[i] = (uint32_t)g_cb[i].p1;
    }
    qsort(ids, total, sizeof *ids, tq_cmp_u32);
    qsort(issued, total, sizeof *issued, tq_cmp_u32);
    TQ_CHECKF(memcmp(ids, issued, sizeof *ids * total) == 0,
              "the callback's reply ids differ from the issued ids");
    for (uint32_t l = 0; l < 8; l++) {
        DWORD mode = 0;
        uint32_t last = 0;
        for (uint32_t i = 0; i < total; i++)
            if (i % 3 == 0 && i % 8 == l)
                last = i;
        TQ_EXPECT(phoneGetLamp(h[0], l, &mode), 0);
        TQ_CHECK(mode == tq_mode(last / 3));
    }
    free(ids);
    free(issued);
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* ------------------------------------------------------------ several apps */

#define NAPP 3

static void case_several_apps(void)
{
    HPHONEAPP app[NAPP];
    int fd[NAPP];
    HPHONE h[NAPP][2];
    static uint32_t issued[NAPP][3000], got[NAPP][3000];
    int ni[NAPP] = {0}, ng[NAPP] = {0};
    TQ_CHECK(tapiq_configure("devices=4,lamps=8,workers=2,queue=4096") == 0);
    for (int a = 0; a < NAPP; a++) {
        TQ_EXPECT(tq_init_app(&app[a], NULL, &fd[a]), 0);
        /* Each app an owner on its own device, and all on device 3. */
        h[a][0] = tq_open(app[a], (DWORD)a, PHONEPRIVILEGE_OWNER, (DWORD_PTR)(100 + a));
        h[a][1] = tq_open(app[a], 3, PHONEPRIVILEGE_OWNER, (DWORD_PTR)(200 + a));
    }
    for (int a = 0; a < NAPP; a++)
        for (int b = a + 1; b < NAPP; b++)
            TQ_CHECK(app[a] != app[b] && fd[a] != fd[b]);

    uint64_t seed = 3;
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 300; i++) {
            int a = (int)(tq_rand(&seed) % NAPP);
            int k = (int)(tq_rand(&seed) % 2);
            TQ_CHECK(ni[a] < 3000);
            issued[a][ni[a]++] = (uint32_t)set_retry(h[a][k], (DWORD)(i % 8), tq_mode((unsigned)i));
        }
        tq_wait_idle();
        /* Drain one application at a time; the others' fds stay readable
         * while their replies wait, and this one's goes quiet. */
        for (int a = 0; a < NAPP; a++) {
            PHONEMESSAGE m;
            while (phoneGetMessage(app[a], &m, 0) == 0) {
                TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam2 == 0);
                TQ_CHECKF(m.hDevice == h[a][0] || m.hDevice == h[a][1],
                          "app %d got a reply for handle %#x", a, (unsigned)m.hDevice);
                TQ_CHECK(m.dwCallbackInstance ==
                         (DWORD_PTR)((m.hDevice == h[a][0] ? 100 : 200) + a));
                TQ_CHECK(ng[a] < 3000);
                got[a][ng[a]++] = (uint32_t)m.dwParam1;
            }
            TQ_CHECKF(ng[a] == ni[a], "app %d: %d replies for %d requests", a, ng[a], ni[a]);
            TQ_CHECK(!readable(fd[a], 0));
            for (int b = a + 1; b < NAPP; b++)
                if (ni[b] > ng[b])
                    TQ_CHECKF(readable(fd[b], 0), "app %d has replies, its fd is not readable",
                              b);
        }
    }
    for (int a = 0; a < NAPP; a++) {
        qsort(issued[a], (size_t)ni[a], sizeof(uint32_t), tq_cmp_u32);
        qsort(got[a], (size_t)ng[a], sizeof(uint32_t), tq_cmp_u32);
        TQ_CHECK(memcmp(issued[a], got[a], sizeof(uint32_t) * (size_t)ni[a]) == 0);
    }
    for (int a = 0; a < NAPP; a++)
        TQ_EXPECT(phoneShutdown(app[a]), 0);
}

int main(void)
{
    case_timeouts();
    case_wait_fails();
    case_shutdown_wakes_waiters();
    case_event_fd();
    case_callback(tq_scale());
    case_several_apps();
    printf("test_getmessage: ok\n");
    return 0;
}
