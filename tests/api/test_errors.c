/* test_errors - every synchronous error of phoneSetLamp, their precedence,
 * OPERATIONFAILED in the reply, and the errors of the surrounding calls
 * (pointers, application handles, configuration). RESOURCEUNAVAIL and its
 * backpressure: test_resource.c.
 *
 * Each case starts and ends with no application initialized, so it can pick
 * its own configuration. A rejected call must not create a request: after
 * each case that issues requests, the replies received are exactly those of
 * the accepted ids (no reply for a negative return).
 */

#include "tq_test.h"

#define TQ_MAXREQ 64

/* The ids accepted in the current case and the replies owed for them. */
struct owed {
    LONG id[4096];
    HPHONE h[4096];
    int n;
};

static void owe(struct owed *o, LONG id, HPHONE h)
{
    TQ_CHECKF(TQ_ID_OK(id), "request id %" PRId32 " (%s) out of 1..0x7FFFFFFF", id,
              tq_err_name(id));
    TQ_CHECK(o->n < 4096);
    o->id[o->n] = id;
    o->h[o->n] = h;
    o->n++;
}

/* Collect exactly the replies owed (each one once, dwParam2 == want_status),
 * then check that nothing else arrives. */
static void collect(HPHONEAPP app, struct owed *o, LONG want_status)
{
    while (o->n > 0) {
        PHONEMESSAGE m;
        LONG r = phoneGetMessage(app, &m, 10000);
        TQ_CHECKF(r == 0, "waiting for %d replies: phoneGetMessage = %s", o->n, tq_err_name(r));
        TQ_CHECKF(m.dwMessageID == PHONE_REPLY, "unexpected message %u", (unsigned)m.dwMessageID);
        int i;
        for (i = 0; i < o->n; i++)
            if ((DWORD_PTR)o->id[i] == m.dwParam1 && o->h[i] == m.hDevice)
                break;
        TQ_CHECKF(i < o->n, "reply for id %" PRIuPTR " on handle %#x that is not owed",
                  (uintptr_t)m.dwParam1, (unsigned)m.hDevice);
        TQ_CHECKF(tq_reply_status(&m) == want_status, "reply status %s, want %s",
                  tq_err_name(tq_reply_status(&m)), tq_err_name(want_status));
        o->n--;
        o->id[i] = o->id[o->n];
        o->h[i] = o->h[o->n];
    }
    tq_wait_idle();
    PHONEMESSAGE m;
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONFAILED);
}

/* ------------------------------------------------------------------ */

static void case_uninitialized(void)
{
    PHONEMESSAGE m;
    DWORD mode = 0;
    tapiq_stats st;
    /* Before any application: phone-handle calls say UNINITIALIZED, whatever
     * else is wrong with their arguments. */
    TQ_EXPECT(phoneSetLamp(0, 0, PHONELAMPMODE_STEADY), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneSetLamp(0x12345, 999, 0), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneSetLamp(1, 0, PHONELAMPMODE_STEADY), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetLamp(1, 0, &mode), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneClose(1), PHONEERR_UNINITIALIZED);
    /* App-handle calls say INVALAPPHANDLE. */
    TQ_EXPECT(phoneGetMessage(0, &m, 0), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneGetMessage(1, &m, 0), PHONEERR_INVALAPPHANDLE);
    TQ_CHECK(tapiq_get_stats(&st, sizeof st) == -ENODEV);

    /* The same after the last application shut down. */
    HPHONEAPP app = tq_start("devices=2,lamps=4", NULL);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 0);
    TQ_EXPECT(phoneShutdown(app), 0);
    TQ_EXPECT(phoneSetLamp(h, 0, PHONELAMPMODE_STEADY), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneSetLamp(0, 0, PHONELAMPMODE_STEADY), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_INVALAPPHANDLE);
    LONG r = phoneShutdown(app);
    TQ_CHECKF(r == (LONG)PHONEERR_INVALAPPHANDLE || r == (LONG)PHONEERR_UNINITIALIZED,
              "second phoneShutdown = %s", tq_err_name(r));
    TQ_CHECK(tapiq_get_stats(&st, sizeof st) == -ENODEV);
}

/* ------------------------------------------------------------------ */

static void expect_configure_einval(const char *cfg)
{
    int rc = tapiq_configure(cfg);
    TQ_CHECKF(rc == -EINVAL, "tapiq_configure(\"%s\") = %d, want -EINVAL", cfg, rc);
    const char *msg = tapiq_last_error();
    TQ_CHECKF(msg != NULL && msg[0] != '\0', "no message after tapiq_configure(\"%s\")", cfg);
}

static void expect_env_inifilecorrupt(const char *cfg)
{
    HPHONEAPP app = 0xABCD;
    DWORD n = 0;
    TQ_CHECK(setenv("TAPIQ_CONFIG", cfg, 1) == 0);
    TQ_CHECK(tapiq_configure(NULL) == 0);
    LONG r = tq_init_app(&app, &n, NULL);
    TQ_CHECKF(r == (LONG)PHONEERR_INIFILECORRUPT, "phoneInitializeEx with TAPIQ_CONFIG=\"%s\" = %s",
              cfg, tq_err_name(r));
    const char *msg = tapiq_last_error();
    TQ_CHECKF(msg != NULL && msg[0] != '\0', "no message after TAPIQ_CONFIG=\"%s\"", cfg);
    /* Nothing started. */
    tapiq_stats st;
    TQ_CHECK(tapiq_get_stats(&st, sizeof st) == -ENODEV);
    TQ_EXPECT(phoneSetLamp(1, 0, PHONELAMPMODE_STEADY), PHONEERR_UNINITIALIZED);
    TQ_CHECK(unsetenv("TAPIQ_CONFIG") == 0);
}

static void case_config(void)
{
    static const char *const bad[] = {
        "devices=abc", "lamps=-1", "bogus=1", "backend=nosuch", "workers=", "devices=4,devices",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_configure_einval(bad[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_env_inifilecorrupt(bad[i]);

    /* A good configuration afterwards works, and is taken at init. */
    DWORD n = 0;
    HPHONEAPP a = tq_start("devices=3,lamps=4", &n);
    TQ_CHECKF(n == 3, "numDevs %u, want 3", (unsigned)n);
    /* Fixed while any application is initialized. */
    TQ_CHECK(tapiq_configure("devices=5") == -EBUSY);
    TQ_CHECK(tapiq_configure(NULL) == -EBUSY);
    HPHONEAPP b = 0;
    TQ_EXPECT(tq_init_app(&b, &n, NULL), 0);
    TQ_CHECKF(n == 3, "second app numDevs %u, want 3 (configuration is fixed)", (unsigned)n);
    TQ_CHECK(a != b);
    TQ_EXPECT(phoneShutdown(a), 0);
    TQ_CHECK(tapiq_configure("devices=5") == -EBUSY);
    TQ_EXPECT(phoneShutdown(b), 0);
    /* Taken afresh after the last phoneShutdown. */
    a = tq_start("devices=5,lamps=2", &n);
    TQ_CHECKF(n == 5, "numDevs %u, want 5", (unsigned)n);
    TQ_EXPECT(phoneShutdown(a), 0);

    /* TAPIQ_CONFIG applies when tapiq_configure(NULL) cleared the override... */
    TQ_CHECK(setenv("TAPIQ_CONFIG", "devices=7", 1) == 0);
    TQ_CHECK(tapiq_configure(NULL) == 0);
    TQ_EXPECT(tq_init_app(&a, &n, NULL), 0);
    TQ_CHECKF(n == 7, "numDevs %u with TAPIQ_CONFIG=devices=7", (unsigned)n);
    TQ_EXPECT(phoneShutdown(a), 0);
    /* ...and tapiq_configure overrides it. */
    a = tq_start("devices=2", &n);
    TQ_CHECKF(n == 2, "numDevs %u, want 2 (tapiq_configure overrides TAPIQ_CONFIG)",
              (unsigned)n);
    TQ_EXPECT(phoneShutdown(a), 0);
    TQ_CHECK(unsetenv("TAPIQ_CONFIG") == 0);

    /* phoneInitializeExA is the same entry point. */
    PHONEINITIALIZEEXPARAMS p;
    DWORD ver = TQ_API;
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    TQ_CHECK(tapiq_configure("devices=3") == 0);
    TQ_EXPECT(phoneInitializeExA(&a, NULL, NULL, "A", &n, &ver, &p), 0);
    TQ_CHECK(n == 3);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* ------------------------------------------------------------------ */

static void case_handles(void)
{
    static struct owed o;
    HPHONEAPP app = tq_start("devices=4,lamps=8,workers=2,queue=64", NULL);
    DWORD mode;

    TQ_EXPECT(phoneSetLamp(0, 0, PHONELAMPMODE_STEADY), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneGetLamp(0, 0, &mode), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneClose(0), PHONEERR_INVALPHONEHANDLE);

    HPHONE h = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 7);
    const HPHONE forged[] = {h + 1, h - 1, h ^ 0x80000000u, h ^ 0x00010000u, h ^ 0x100u,
                             0xFFFFFFFFu, 0xDEADBEEFu, 1, 2};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        if (forged[i] == h || forged[i] == 0)
            continue;
        TQ_EXPECT(phoneSetLamp(forged[i], 0, PHONELAMPMODE_STEADY), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetLamp(forged[i], 0, &mode), PHONEERR_INVALPHONEHANDLE);
        /* INVALPHONEHANDLE comes before every argument error. */
        TQ_EXPECT(phoneSetLamp(forged[i], 999, 0), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneClose(forged[i]), PHONEERR_INVALPHONEHANDLE);
    }
    LONG id = phoneSetLamp(h, 0, PHONELAMPMODE_STEADY);
    owe(&o, id, h);
    collect(app, &o, 0);

    /* A closed handle is dead for good... */
    TQ_EXPECT(phoneClose(h), 0);
    TQ_EXPECT(phoneSetLamp(h, 0, PHONELAMPMODE_STEADY), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneSetLamp(h, 999, 0), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneGetLamp(h, 0, &mode), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneClose(h), PHONEERR_INVALPHONEHANDLE);

    /* ...and never aliases a newer one, however often slots are reused. */
    enum { CYCLES = 1000 };
    static HPHONE closed[CYCLES + 2]; /* h, one per cycle, h1 */
    int nclosed = 0;
    closed[nclosed++] = h;
    for (int i = 0; i < CYCLES; i++) {
        HPHONE n = tq_open(app, (DWORD)(i % 4), PHONEPRIVILEGE_OWNER, (DWORD_PTR)i);
        for (int j = 0; j < nclosed; j++)
            TQ_CHECKF(closed[j] != n, "cycle %d: new handle %#x equals a closed one", i,
                      (unsigned)n);
        for (int j = nclosed > 8 ? nclosed - 8 : 0; j < nclosed; j++)
            TQ_EXPECT(phoneSetLamp(closed[j], 1, PHONELAMPMODE_WINK), PHONEERR_INVALPHONEHANDLE);
        if (i % 50 == 0) {
            owe(&o, phoneSetLamp(n, (DWORD)(i % 8), tq_mode((unsigned)i)), n);
            collect(app, &o, 0);
        }
        TQ_EXPECT(phoneClose(n), 0);
        closed[nclosed++] = n;
    }
    for (int j = 0; j < nclosed; j++)
        TQ_EXPECT(phoneSetLamp(closed[j], 1, PHONELAMPMODE_WINK), PHONEERR_INVALPHONEHANDLE);

    /* Handles closed by phoneShutdown of their app, while another app lives. */
    HPHONEAPP app2 = 0;
    TQ_EXPECT(tq_init_app(&app2, NULL, NULL), 0);
    HPHONE h2 = tq_open(app2, 2, PHONEPRIVILEGE_OWNER, 0);
    HPHONE h1 = tq_open(app, 2, PHONEPRIVILEGE_OWNER, 0);
    TQ_EXPECT(phoneShutdown(app2), 0);
    TQ_EXPECT(phoneSetLamp(h2, 0, PHONELAMPMODE_STEADY), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneClose(h2), PHONEERR_INVALPHONEHANDLE);
    owe(&o, phoneSetLamp(h1, 0, PHONELAMPMODE_STEADY), h1);
    collect(app, &o, 0);
    TQ_EXPECT(phoneShutdown(app), 0);

    /* Handles of a previous runtime stay dead in the next one (a closed handle
     * never aliases a new one), even with the same configuration and the same
     * sequence of opens. */
    app = tq_start("devices=4,lamps=8,workers=2,queue=64", NULL);
    HPHONE fresh[4];
    for (int d = 0; d < 4; d++)
        fresh[d] = tq_open(app, (DWORD)d, PHONEPRIVILEGE_OWNER, 0);
    closed[nclosed++] = h1;
    for (int j = 0; j < nclosed; j++) {
        for (int d = 0; d < 4; d++)
            TQ_CHECKF(closed[j] != fresh[d], "handle %#x of a previous runtime was handed out again",
                      (unsigned)fresh[d]);
        TQ_EXPECT(phoneSetLamp(closed[j], 1, PHONELAMPMODE_WINK), PHONEERR_INVALPHONEHANDLE);
    }
    for (int d = 0; d < 4; d++)
        owe(&o, phoneSetLamp(fresh[d], 3, PHONELAMPMODE_FLASH), fresh[d]);
    collect(app, &o, 0);
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* ------------------------------------------------------------------ */

/* NOTOWNER, INVALBUTTONLAMPID, INVALLAMPMODE, INVALPHONESTATE and their order;
 * the per-reason stats counters match what was caused. */
static void case_arguments(void)
{
    static struct owed o;
    uint64_t want_rej[TAPIQ_REJECT_MAX] = {0};
    uint64_t want_acc = 0;
    DWORD mode = 0;
    HPHONEAPP app = tq_start("devices=3,lamps=8,workers=2,queue=64,offline=1", NULL);
    HPHONE own = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE mon = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 2);
    HPHONE off = tq_open(app, 2, PHONEPRIVILEGE_OWNER, 3);    /* the offline device */
    HPHONE offmon = tq_open(app, 2, PHONEPRIVILEGE_MONITOR, 4);
    HPHONE monc = tq_open(app, 1, PHONEPRIVILEGE_MONITOR, 5); /* closed below */
    TQ_EXPECT(phoneClose(monc), 0);

#define REJ(call, err, reason)                                                               \
    do {                                                                                     \
        TQ_EXPECT(call, err);                                                                \
        want_rej[reason]++;                                                                  \
    } while (0)

    /* NOTOWNER on monitor handles, before every argument error. */
    REJ(phoneSetLamp(mon, 0, PHONELAMPMODE_STEADY), PHONEERR_NOTOWNER, TAPIQ_REJECT_NOTOWNER);
    REJ(phoneSetLamp(mon, 8, PHONELAMPMODE_STEADY), PHONEERR_NOTOWNER, TAPIQ_REJECT_NOTOWNER);
    REJ(phoneSetLamp(mon, 999, 0), PHONEERR_NOTOWNER, TAPIQ_REJECT_NOTOWNER);
    REJ(phoneSetLamp(offmon, 999, 0), PHONEERR_NOTOWNER, TAPIQ_REJECT_NOTOWNER);
    REJ(phoneSetLamp(offmon, 0, PHONELAMPMODE_STEADY), PHONEERR_NOTOWNER, TAPIQ_REJECT_NOTOWNER);
    /* A closed monitor handle is an invalid handle first. */
    REJ(phoneSetLamp(monc, 999, 0), PHONEERR_INVALPHONEHANDLE, TAPIQ_REJECT_INVALPHONEHANDLE);
    /* Monitors may read. */
    TQ_EXPECT(phoneGetLamp(mon, 0, &mode), 0);
    TQ_CHECK(mode == PHONELAMPMODE_OFF);

    /* INVALBUTTONLAMPID: ids >= dwNumButtonLamps, before the mode and the state. */
    static const DWORD badlamp[] = {8, 9, 64, 0x7FFFFFFF, 0xFFFFFFFF};
    for (size_t i = 0; i < sizeof badlamp / sizeof badlamp[0]; i++) {
        REJ(phoneSetLamp(own, badlamp[i], PHONELAMPMODE_STEADY), PHONEERR_INVALBUTTONLAMPID,
            TAPIQ_REJECT_INVALBUTTONLAMPID);
        REJ(phoneSetLamp(own, badlamp[i], 0), PHONEERR_INVALBUTTONLAMPID,
            TAPIQ_REJECT_INVALBUTTONLAMPID);
        REJ(phoneSetLamp(off, badlamp[i], 0), PHONEERR_INVALBUTTONLAMPID,
            TAPIQ_REJECT_INVALBUTTONLAMPID);
        TQ_EXPECT(phoneGetLamp(own, badlamp[i], &mode), PHONEERR_INVALBUTTONLAMPID);
    }

    /* INVALLAMPMODE: no bit, two bits, DUMMY, UNKNOWN, undefined bits; before
     * the device state. */
    static const DWORD badmode[] = {
        0,
        PHONELAMPMODE_STEADY | PHONELAMPMODE_WINK,
        PHONELAMPMODE_OFF | PHONELAMPMODE_BROKENFLUTTER,
        PHONELAMPMODE_DUMMY,
        PHONELAMPMODE_UNKNOWN,
        0x100,
        0x80000000u,
        0xFFFFFFFFu,
        TQ_MEM_MODES,
    };
    for (size_t i = 0; i < sizeof badmode / sizeof badmode[0]; i++) {
        for (DWORD lamp = 0; lamp < 8; lamp += 7) {
            REJ(phoneSetLamp(own, lamp, badmode[i]), PHONEERR_INVALLAMPMODE,
                TAPIQ_REJECT_INVALLAMPMODE);
            REJ(phoneSetLamp(off, lamp, badmode[i]), PHONEERR_INVALLAMPMODE,
                TAPIQ_REJECT_INVALLAMPMODE);
        }
    }

    /* INVALPHONESTATE: the offline (last) device, with valid arguments. */
    for (unsigned i = 0; i < 6; i++)
        REJ(phoneSetLamp(off, i, tq_mode(i)), PHONEERR_INVALPHONESTATE,
            TAPIQ_REJECT_INVALPHONESTATE);

    /* Every supported mode on every lamp of a connected device is accepted. */
    for (DWORD lamp = 0; lamp < 8; lamp++)
        for (unsigned i = 0; i < 6; i++) {
            owe(&o, phoneSetLamp(own, lamp, tq_mode(i + lamp)), own);
            want_acc++;
            if (o.n >= 32)
                collect(app, &o, 0);
        }
    collect(app, &o, 0);
    for (DWORD lamp = 0; lamp < 8; lamp++) {
        TQ_EXPECT(phoneGetLamp(own, lamp, &mode), 0);
        TQ_CHECKF(mode == tq_mode(5 + lamp), "lamp %u mode %#x, want %#x", (unsigned)lamp,
                  (unsigned)mode, (unsigned)tq_mode(5 + lamp));
        TQ_EXPECT(phoneGetLamp(mon, lamp, &mode), 0);
        TQ_CHECK(mode == tq_mode(5 + lamp));
    }

    tapiq_stats st = tq_wait_idle();
    TQ_CHECKF(st.accepted == want_acc, "stats accepted %" PRIu64 ", want %" PRIu64, st.accepted,
              want_acc);
    for (int r = 0; r < TAPIQ_REJECT_MAX; r++)
        TQ_CHECKF(st.rejected[r] == want_rej[r], "stats rejected[%d] %" PRIu64 ", want %" PRIu64,
                  r, st.rejected[r], want_rej[r]);
#undef REJ
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* ------------------------------------------------------------------ */

static void case_no_lamps(void)
{
    HPHONEAPP app = tq_start("devices=2,lamps=0,offline=1", NULL);
    HPHONE own = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 0);
    HPHONE off = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 0);
    HPHONE mon = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 0);
    union {
        PHONECAPS c;
        unsigned char raw[4096];
    } caps;
    memset(&caps, 0, sizeof caps);
    caps.c.dwTotalSize = sizeof caps;
    TQ_EXPECT(phoneGetDevCaps(app, 0, TQ_API, 0, &caps.c), 0);
    TQ_CHECK(caps.c.dwNumButtonLamps == 0);
    TQ_CHECK((caps.c.dwPhoneFeatures & PHONEFEATURE_SETLAMP) == 0);

    /* OPERATIONUNAVAIL comes before the lamp id, the mode and the state... */
    TQ_EXPECT(phoneSetLamp(own, 0, PHONELAMPMODE_STEADY), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetLamp(own, 5, 0), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetLamp(off, 0, PHONELAMPMODE_STEADY), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetLamp(off, 7, PHONELAMPMODE_DUMMY), PHONEERR_OPERATIONUNAVAIL);
    /* ...and after NOTOWNER and INVALPHONEHANDLE. */
    TQ_EXPECT(phoneSetLamp(mon, 0, PHONELAMPMODE_STEADY), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneClose(mon), 0);
    TQ_EXPECT(phoneSetLamp(mon, 0, PHONELAMPMODE_STEADY), PHONEERR_INVALPHONEHANDLE);

    tapiq_stats st = tq_wait_idle();
    TQ_CHECK(st.accepted == 0);
    TQ_CHECK(st.rejected[TAPIQ_REJECT_OPERATIONUNAVAIL] == 4);
    PHONEMESSAGE m;
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* ------------------------------------------------------------------ */

static void case_operation_failed(void)
{
    static struct owed o;
    HPHONEAPP app = tq_start("devices=2,lamps=4,fail_ppm=1000000", NULL);
    HPHONE h = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 0);
    for (int i = 0; i < 40; i++)
        owe(&o, phoneSetLamp(h, (DWORD)(i % 4), tq_mode((unsigned)i + 1)), h);
    collect(app, &o, PHONEERR_OPERATIONFAILED);
    /* A failed update does not change the lamp. */
    for (DWORD lamp = 0; lamp < 4; lamp++) {
        DWORD mode = 0;
        TQ_EXPECT(phoneGetLamp(h, lamp, &mode), 0);
        TQ_CHECKF(mode == PHONELAMPMODE_OFF, "lamp %u is %#x after failed updates",
                  (unsigned)lamp, (unsigned)mode);
    }
    tapiq_stats st = tq_wait_idle();
    TQ_CHECK(st.accepted == 40);
    TQ_CHECKF(st.updates_failed == 40, "updates_failed %" PRIu64, st.updates_failed);
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* ------------------------------------------------------------------ */

static void case_pointers_and_apps(void)
{
    HPHONEAPP app = tq_start("devices=2,lamps=4", NULL);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 0);
    PHONEMESSAGE m;
    DWORD v = 0;

    TQ_EXPECT(phoneGetLamp(h, 0, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetMessage(app, NULL, 0), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetDevCaps(app, 0, TQ_API, 0, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetStatus(h, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneOpen(app, 0, NULL, TQ_API, 0, 0, PHONEPRIVILEGE_OWNER), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneNegotiateAPIVersion(app, 0, TAPI_VERSION1_4, TQ_API, NULL, NULL),
              PHONEERR_INVALPOINTER);
    /* The handle still works after those. */
    TQ_EXPECT(phoneGetLamp(h, 0, &v), 0);

    /* Application handles: 0, forged, shut down. */
    TQ_EXPECT(phoneGetMessage(0, &m, 0), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneGetMessage(app ^ 0x5A5A0000u, &m, 0), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneGetMessage(app + 1, &m, 0), PHONEERR_INVALAPPHANDLE);
    HPHONE x = 0;
    TQ_EXPECT(phoneOpen(app + 1, 0, &x, TQ_API, 0, 0, PHONEPRIVILEGE_OWNER),
              PHONEERR_INVALAPPHANDLE);
    HPHONEAPP gone = 0;
    TQ_EXPECT(tq_init_app(&gone, NULL, NULL), 0);
    TQ_EXPECT(phoneShutdown(gone), 0);
    TQ_EXPECT(phoneGetMessage(gone, &m, 0), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneGetMessage(gone, &m, 10), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneShutdown(gone), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneOpen(gone, 0, &x, TQ_API, 0, 0, PHONEPRIVILEGE_OWNER),
              PHONEERR_INVALAPPHANDLE);
    /* A new application does not revive the old handle. */
    HPHONEAPP again = 0;
    TQ_EXPECT(tq_init_app(&again, NULL, NULL), 0);
    if (again != gone)
        TQ_EXPECT(phoneGetMessage(gone, &m, 0), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneGetMessage(again, &m, 0), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(phoneShutdown(again), 0);

    /* USECOMPLETIONPORT is not supported, and nothing is left initialized. */
    PHONEINITIALIZEEXPARAMS p;
    DWORD n = 0, ver = TQ_API;
    HPHONEAPP cp = 0;
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT;
    TQ_EXPECT(phoneInitializeEx(&cp, NULL, NULL, "cp", &n, &ver, &p), PHONEERR_INVALPARAM);
    TQ_EXPECT(phoneShutdown(app), 0);
    TQ_EXPECT(phoneSetLamp(h, 0, PHONELAMPMODE_STEADY), PHONEERR_UNINITIALIZED);
}

int main(void)
{
    TQ_CHECK(unsetenv("TAPIQ_CONFIG") == 0);
    case_uninitialized();
    case_config();
    case_handles();
    case_arguments();
    case_no_lamps();
    case_operation_failed();
    case_pointers_and_apps();
    printf("test_errors: ok\n");
    return 0;
}
