/* After phoneClose / phoneShutdown returns, nothing more for that handle or
 * application reaches the application, in any delivery mode; every accepted
 * request counts exactly once (replied or suppressed); the last connection
 * notification an application reads agrees with phoneGetStatus.
 *
 *   callback-close-self    the callback closes the handle on its first reply:
 *                          no later callback for it
 *   callback-close-other   another thread closes while replies are delivered:
 *                          no callback for the handle after phoneClose returned
 *   callback-shutdown-self the callback shuts its application down: no later
 *                          callback at all
 *   callback-close-cross   application X's callback closes a handle of Y while
 *                          Y's callback runs for it: X's phoneClose waits
 *                          until Y's callback returned (only an application's
 *                          own delivery thread is exempt; tapi.h's rule)
 *   polled-posted          a reply already posted, then phoneClose: not
 *                          delivered, counted once (suppressed)
 *   callback-taken         replies the delivery thread already took from the
 *                          queue, then phoneClose of their handle while it
 *                          delivers an earlier one: not delivered, counted
 *                          once as suppressed (tapiq_get_stats' replies are
 *                          exactly the ones the callback got)
 *   presence               disconnect/connect/disconnect unread: the last
 *                          PHONE_STATE says disconnected, as does the status
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tq_test.h"

/* ------------------------------------------------------------- callbacks */

static _Atomic uint32_t g_mode;      /* which case the callback serves */
static _Atomic DWORD g_closed;       /* handle whose phoneClose returned */
static _Atomic int g_shut;           /* the callback's phoneShutdown returned */
static _Atomic uint64_t g_violations;
static HPHONEAPP g_app;

static void on_msg(DWORD hDevice, DWORD dwMsg, DWORD_PTR inst, DWORD_PTR p1, DWORD_PTR p2,
                            DWORD_PTR p3)
{
    (void)dwMsg, (void)inst, (void)p1, (void)p2, (void)p3;
    if (atomic_load(&g_shut) || (atomic_load(&g_closed) && atomic_load(&g_closed) == hDevice))
        atomic_fetch_add(&g_violations, 1);
    if (atomic_load(&g_mode) == 1 && !atomic_load(&g_closed)) {
        atomic_store(&g_closed, hDevice); /* first: the issuer may see it closed */
        TQ_EXPECT(phoneClose(hDevice), 0);
    } else if (atomic_load(&g_mode) == 4) {
        tq_sleep_us(20); /* a slow application: close meets a batch mid-way */
    } else if (atomic_load(&g_mode) == 3 && !atomic_load(&g_shut)) {
        atomic_store(&g_shut, 1); /* first: the issuer may see it gone */
        TQ_EXPECT(phoneShutdown(g_app), 0);
    }
}

static HPHONEAPP start_cb_app_with(PHONECALLBACK cb)
{
    HPHONEAPP app;
    DWORD ndev, ver = TQ_API;
    PHONEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    TQ_EXPECT(phoneInitializeEx(&app, NULL, cb, "close-rules", &ndev, &ver, &p), 0);
    return app;
}

static HPHONEAPP start_cb_app(void)
{
    return start_cb_app_with(on_msg);
}

static void issue(HPHONE h, int n)
{
    for (int i = 0; i < n; i++) {
        LONG id;
        while ((id = phoneSetLamp(h, (DWORD)(i % 8), tq_mode((unsigned)i))) ==
               (LONG)PHONEERR_RESOURCEUNAVAIL)
            sched_yield();
        if ((id == (LONG)PHONEERR_INVALPHONEHANDLE && atomic_load(&g_closed) == h) ||
            (id < 0 && atomic_load(&g_shut)))
            return; /* the callback closed it, or shut the application down */
        TQ_CHECKF(TQ_ID_OK(id), "phoneSetLamp = %s", tq_err_name(id));
    }
}

static void case_callback_close_self(void)
{
    TQ_CHECK(tapiq_configure("devices=2,lamps=8,workers=1,latency_us=200") == 0);
    for (int round = 0; round < 20; round++) {
        HPHONEAPP app = start_cb_app();
        HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1), other;
        atomic_store(&g_mode, 1);
        atomic_store(&g_closed, 0);
        issue(h, 200); /* batches of many replies each */
        for (int k = 0; k < 10000 && !atomic_load(&g_closed); k++)
            tq_sleep_us(1000);
        TQ_CHECK(atomic_load(&g_closed) == h);
        tapiq_stats st = tq_wait_idle();
        TQ_CHECKF(st.replies + st.replies_suppressed == st.accepted,
                  "replies %llu + suppressed %llu != accepted %llu",
                  (unsigned long long)st.replies, (unsigned long long)st.replies_suppressed,
                  (unsigned long long)st.accepted);
        other = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 2); /* the app lives on */
        atomic_store(&g_mode, 0);
        issue(other, 1);
        tq_wait_idle();
        TQ_EXPECT(phoneShutdown(app), 0);
    }
    TQ_CHECKF(atomic_load(&g_violations) == 0, "%llu callbacks for a handle after its close",
              (unsigned long long)atomic_load(&g_violations));
}

static void case_callback_close_other(void)
{
    HPHONEAPP app;
    TQ_CHECK(tapiq_configure("devices=2,lamps=8,workers=1") == 0);
    app = start_cb_app();
    atomic_store(&g_mode, 4);
    for (int round = 0; round < 300; round++) {
        HPHONE h = tq_open(app, (DWORD)(round & 1), PHONEPRIVILEGE_OWNER, 3);
        issue(h, 64);
        tq_sleep_us(200);
        TQ_EXPECT(phoneClose(h), 0);
        atomic_store(&g_closed, h); /* from here on, nothing for h */
    }
    tq_wait_idle();
    TQ_EXPECT(phoneShutdown(app), 0);
    TQ_CHECKF(atomic_load(&g_violations) == 0,
              "%llu callbacks for a handle after phoneClose returned",
              (unsigned long long)atomic_load(&g_violations));
}

static void case_callback_shutdown_self(void)
{
    TQ_CHECK(tapiq_configure("devices=2,lamps=8,workers=1,latency_us=200") == 0);
    for (int round = 0; round < 20; round++) {
        HPHONE h;
        atomic_store(&g_shut, 0);
        atomic_store(&g_closed, 0);
        atomic_store(&g_mode, 3);
        g_app = start_cb_app();
        h = tq_open(g_app, 0, PHONEPRIVILEGE_OWNER, 4);
        issue(h, 200);
        while (!atomic_load(&g_shut))
            tq_sleep_us(1000);
        tq_sleep_us(20000); /* a stray callback would come now */
        atomic_store(&g_shut, 0);
    }
    TQ_CHECKF(atomic_load(&g_violations) == 0, "%llu callbacks after phoneShutdown returned",
              (unsigned long long)atomic_load(&g_violations));
}

/* Cross-application close: Y's callback holds the reply for hY until the
 * test lets it go; X's callback closes hY meanwhile. */
static _Atomic DWORD g_hy;        /* Y's handle, closed by X's callback */
static _Atomic int g_y_in;        /* Y's callback is running for hY */
static _Atomic int g_y_go;        /* the test lets Y's callback return */
static _Atomic int g_y_done;      /* Y's callback returned */
static _Atomic int g_x_in;        /* X's callback is calling phoneClose(hY) */
static _Atomic int g_x_closed;    /* X's phoneClose(hY) returned */
static _Atomic int g_x_saw_done;  /* ... and saw Y's callback done */
static _Atomic int g_y_after;     /* callbacks for hY after the close */

static void on_y(DWORD hDevice, DWORD dwMsg, DWORD_PTR inst, DWORD_PTR p1, DWORD_PTR p2,
                 DWORD_PTR p3)
{
    (void)inst, (void)p1, (void)p2, (void)p3;
    if (hDevice != atomic_load(&g_hy) || dwMsg != PHONE_REPLY)
        return;
    if (atomic_load(&g_x_closed))
        atomic_fetch_add(&g_y_after, 1);
    if (atomic_exchange(&g_y_in, 1))
        return; /* only the first reply blocks */
    while (!atomic_load(&g_y_go))
        tq_sleep_us(1000);
    atomic_store(&g_y_done, 1);
}

static void on_x(DWORD hDevice, DWORD dwMsg, DWORD_PTR inst, DWORD_PTR p1, DWORD_PTR p2,
                 DWORD_PTR p3)
{
    (void)hDevice, (void)inst, (void)p1, (void)p2, (void)p3;
    if (dwMsg != PHONE_REPLY || atomic_load(&g_x_closed))
        return;
    atomic_store(&g_x_in, 1);
    TQ_EXPECT(phoneClose((HPHONE)atomic_load(&g_hy)), 0);
    atomic_store(&g_x_saw_done, atomic_load(&g_y_done));
    atomic_store(&g_x_closed, 1);
}

static void case_callback_close_cross(void)
{
    HPHONEAPP x, y;
    HPHONE hx, hy;
    TQ_CHECK(tapiq_configure("devices=2,lamps=8,workers=1") == 0);
    x = start_cb_app_with(on_x);
    y = start_cb_app_with(on_y);
    hx = tq_open(x, 0, PHONEPRIVILEGE_OWNER, 8);
    hy = tq_open(y, 1, PHONEPRIVILEGE_OWNER, 9);
    atomic_store(&g_hy, hy);
    TQ_CHECK(TQ_ID_OK(phoneSetLamp(hy, 0, PHONELAMPMODE_STEADY)));
    for (int k = 0; k < 10000 && !atomic_load(&g_y_in); k++)
        tq_sleep_us(1000);
    TQ_CHECK(atomic_load(&g_y_in));
    TQ_CHECK(TQ_ID_OK(phoneSetLamp(hy, 1, PHONELAMPMODE_STEADY))); /* queued behind */
    TQ_CHECK(TQ_ID_OK(phoneSetLamp(hx, 0, PHONELAMPMODE_STEADY)));
    for (int k = 0; k < 10000 && !atomic_load(&g_x_in); k++)
        tq_sleep_us(1000);
    TQ_CHECK(atomic_load(&g_x_in));
    /* X's callback is in phoneClose(hY): it waits for Y's callback. */
    tq_sleep_us(200000);
    TQ_CHECKF(!atomic_load(&g_x_closed),
              "phoneClose from X's callback returned while Y's callback ran for the handle");
    atomic_store(&g_y_go, 1);
    for (int k = 0; k < 10000 && !atomic_load(&g_x_closed); k++)
        tq_sleep_us(1000);
    TQ_CHECK(atomic_load(&g_x_closed));
    TQ_CHECK(atomic_load(&g_x_saw_done)); /* returned only after Y's callback did */
    tq_wait_idle();
    tq_sleep_us(20000); /* a stray callback for hY would come now */
    TQ_CHECKF(atomic_load(&g_y_after) == 0, "%d callbacks for hY after phoneClose returned",
              atomic_load(&g_y_after));
    TQ_EXPECT(phoneClose(hx), 0);
    TQ_EXPECT(phoneShutdown(x), 0);
    TQ_EXPECT(phoneShutdown(y), 0);
}

/* ------------------------------------------------------------------ polled */

/* callback-taken: the callback holds the delivery thread on the first
 * reply (Z) until the next replies are posted, then on the second (A) until
 * B's handle is closed; B's replies were taken with A's in one go. */
static _Atomic int ct_phase, ct_entered, ct_go, ct_replies;

static void on_taken(DWORD hDevice, DWORD dwMsg, DWORD_PTR inst, DWORD_PTR p1, DWORD_PTR p2,
                     DWORD_PTR p3)
{
    (void)hDevice, (void)inst, (void)p1, (void)p2, (void)p3;
    if (dwMsg != PHONE_REPLY)
        return;
    atomic_fetch_add(&ct_replies, 1);
    int phase = atomic_fetch_add(&ct_phase, 1);
    if (phase < 2) { /* Z, then A: wait for the test's go */
        atomic_store(&ct_entered, phase + 1);
        for (int k = 0; k < 20000 && atomic_load(&ct_go) <= phase; k++)
            tq_sleep_us(500);
    }
}

static void case_callback_taken(void)
{
    HPHONEAPP app;
    HPHONE a, b;
    tapiq_stats st;
    int k;
    TQ_CHECK(tapiq_configure("devices=2,lamps=8,workers=1") == 0);
    app = start_cb_app_with(on_taken);
    a = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    b = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 2);
    issue(a, 1); /* Z: its callback waits */
    for (k = 0; k < 20000 && atomic_load(&ct_entered) < 1; k++)
        tq_sleep_us(500);
    TQ_CHECK(atomic_load(&ct_entered) == 1);
    issue(a, 1); /* A, posted before B's: the queue is FIFO */
    tq_wait_idle();
    issue(b, 5);
    tq_wait_idle(); /* all posted: the next take gets A and B's together */
    atomic_store(&ct_go, 1);
    for (k = 0; k < 20000 && atomic_load(&ct_entered) < 2; k++)
        tq_sleep_us(500);
    TQ_CHECK(atomic_load(&ct_entered) == 2); /* in A's callback, B's taken */
    TQ_EXPECT(phoneClose(b), 0);
    atomic_store(&ct_go, 2);
    for (k = 0; k < 20000; k++) { /* B's replies are dropped as the thread meets them */
        st = tq_stats();
        if (st.replies_suppressed == 5)
            break;
        tq_sleep_us(500);
    }
    TQ_CHECKF(st.accepted == 7 && st.replies == 2 && st.replies_suppressed == 5 &&
                  st.in_flight == 0,
              "accepted %llu, replies %llu, suppressed %llu, in flight %llu",
              (unsigned long long)st.accepted, (unsigned long long)st.replies,
              (unsigned long long)st.replies_suppressed, (unsigned long long)st.in_flight);
    TQ_CHECK(atomic_load(&ct_replies) == 2);
    TQ_EXPECT(phoneShutdown(app), 0);
}

static void case_polled_posted(void)
{
    HPHONEAPP app = tq_start("devices=1,lamps=8,workers=1", NULL);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 5);
    PHONEMESSAGE m;
    LONG id = phoneSetLamp(h, 1, PHONELAMPMODE_FLASH);
    TQ_CHECK(TQ_ID_OK(id));
    tapiq_stats st = tq_wait_idle(); /* the reply is posted, not read */
    TQ_CHECK(st.accepted == 1 && st.replies == 1 && st.replies_suppressed == 0);
    TQ_EXPECT(phoneClose(h), 0);
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONFAILED);
    st = tq_stats();
    TQ_CHECKF(st.replies == 0 && st.replies_suppressed == 1 && st.in_flight == 0,
              "after close: replies %llu, suppressed %llu, in flight %llu (want 0, 1, 0)",
              (unsigned long long)st.replies, (unsigned long long)st.replies_suppressed,
              (unsigned long long)st.in_flight);
    TQ_EXPECT(phoneShutdown(app), 0);

    /* Unread replies of an application that shuts down count as suppressed
     * (another application keeps the instance running). */
    {
        HPHONEAPP keep = tq_start("devices=1,lamps=8,workers=1", NULL), gone;
        HPHONE g;
        TQ_EXPECT(tq_init_app(&gone, NULL, NULL), 0);
        g = tq_open(gone, 0, PHONEPRIVILEGE_OWNER, 7);
        for (int i = 0; i < 10; i++) {
            LONG id = phoneSetLamp(g, (DWORD)i % 8, PHONELAMPMODE_STEADY);
            TQ_CHECK(TQ_ID_OK(id));
        }
        tq_wait_idle();
        TQ_EXPECT(phoneShutdown(gone), 0);
        st = tq_stats();
        TQ_CHECKF(st.accepted == 10 && st.replies == 0 && st.replies_suppressed == 10,
                  "after shutdown with 10 unread: replies %llu, suppressed %llu (want 0, 10)",
                  (unsigned long long)st.replies, (unsigned long long)st.replies_suppressed);
        TQ_EXPECT(phoneShutdown(keep), 0);
    }
}

/* ---------------------------------------------------------------- presence */

static tapiq_host *g_host;

static int pr_start(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps, void **state,
                    char *err, size_t errlen)
{
    (void)cfg, (void)err, (void)errlen;
    for (uint32_t i = 0; i < devices; i++)
        if (tapiq_host_add_device(host, lamps, NULL, 1) < 0)
            return -ENOMEM;
    g_host = host;
    *state = host;
    return 0;
}

static void pr_apply(void *state, uint32_t device, tapiq_batch *b)
{
    size_t n;
    tapiq_update *u = tapiq_batch_updates(b, &n);
    (void)state, (void)device;
    for (size_t i = 0; i < n; i++)
        u[i].status = 0;
    tapiq_batch_complete(b);
}

static void pr_stop(void *state)
{
    (void)state;
    g_host = NULL;
}

static void *pr_new(void)
{
    static int dummy;
    return &dummy;
}

static void pr_free(void *cfg)
{
    (void)cfg;
}

static const tapiq_backend_ops presence_ops = {
    .name = "presence-test",
    .config_new = pr_new,
    .config_free = pr_free,
    .start = pr_start,
    .apply = pr_apply,
    .stop = pr_stop,
};

/* Apply @seq of connection changes unread, then read every message: the
 * last connection notification must equal the final state. */
static void presence_seq(HPHONEAPP app, HPHONE mon, const int *seq, int n)
{
    PHONEMESSAGE m;
    DWORD last = 0;
    unsigned char buf[sizeof(PHONESTATUS) + 64];
    PHONESTATUS *ps = (PHONESTATUS *)buf;
    for (int i = 0; i < n; i++)
        TQ_EXPECT(tapiq_host_set_connected(g_host, 0, seq[i]), 0);
    while (phoneGetMessage(app, &m, 0) == 0)
        if (m.dwMessageID == PHONE_STATE && m.hDevice == mon &&
            (m.dwParam1 & (PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED)))
            last = (DWORD)m.dwParam1;
    memset(buf, 0, sizeof(buf));
    ps->dwTotalSize = sizeof(buf);
    TQ_EXPECT(phoneGetStatus(mon, ps), 0);
    TQ_CHECKF(last == (seq[n - 1] ? PHONESTATE_CONNECTED : PHONESTATE_DISCONNECTED),
              "last notification %#lx after ending %s", (unsigned long)last,
              seq[n - 1] ? "connected" : "disconnected");
    TQ_CHECK(!!(ps->dwStatusFlags & PHONESTATUSFLAGS_CONNECTED) == !!seq[n - 1]);
}

static void case_presence(void)
{
    static const int a[] = {0, 1, 0}, b[] = {1}, c[] = {0, 1}, d[] = {0, 1, 0, 1, 0};
    HPHONEAPP app;
    HPHONE mon;
    TQ_CHECK(tapiq_register_backend(&presence_ops) == 0);
    app = tq_start("backend=presence-test,devices=1,lamps=4,workers=1", NULL);
    mon = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 6);
    TQ_EXPECT(phoneSetStatusMessages(mon, PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED, 0, 0),
              0);
    presence_seq(app, mon, a, 3);
    presence_seq(app, mon, b, 1);
    presence_seq(app, mon, c, 2);
    presence_seq(app, mon, d, 5);
    TQ_EXPECT(phoneShutdown(app), 0);
}

int main(int argc, char **argv)
{
    static const struct tq_case cases[] = {
        {"polled-posted", case_polled_posted},
        {"presence", case_presence},
        {"callback-close-self", case_callback_close_self},
        {"callback-close-other", case_callback_close_other},
        {"callback-shutdown-self", case_callback_shutdown_self},
        {"callback-close-cross", case_callback_close_cross},
        {"callback-taken", case_callback_taken},
    };
    return tq_run_cases(argc, argv, "close_rules", cases, sizeof(cases) / sizeof(cases[0]));
}
