/* test_status - PHONE_STATE lamp events, status filters, PHONECAPS,
 * PHONESTATUS and API version negotiation.
 *
 * PHONE_STATE (dwParam1 = PHONESTATE_LAMP, dwParam2 = lamp) goes after a real
 * change of a lamp's mode and before the reply of the request to every handle
 * of that device (owner or monitor, in any application) whose filter has
 * PHONESTATE_LAMP; filters are off by default; setting the mode a lamp
 * already has, or a failed update, gives none.
 */
#include "tq_test.h"

#define NLAMP 8

static LONG set_ok(HPHONE h, DWORD lamp, DWORD mode)
{
    LONG id = phoneSetLamp(h, lamp, mode);
    TQ_CHECKF(TQ_ID_OK(id), "phoneSetLamp(%u, %#x) = %s", (unsigned)lamp, (unsigned)mode,
              tq_err_name(id));
    return id;
}

static void expect_empty(HPHONEAPP app, const char *what)
{
    PHONEMESSAGE m;
    LONG r = phoneGetMessage(app, &m, 0);
    TQ_CHECKF(r == (LONG)PHONEERR_OPERATIONFAILED,
              "%s: unexpected message %u on handle %#x (p1 %#" PRIxPTR ", p2 %#" PRIxPTR ") [%s]",
              what, (unsigned)m.dwMessageID, (unsigned)m.hDevice, (uintptr_t)m.dwParam1,
              (uintptr_t)m.dwParam2, tq_err_name(r));
}

struct want_state {
    HPHONE h;
    DWORD_PTR inst;
    int seen;
};

/* Read the messages of @app up to the reply of @id: exactly one PHONE_STATE
 * for @lamp per entry of @ws (any order), nothing else before the reply, and
 * nothing after it. */
static void expect_states_then_reply(HPHONEAPP app, LONG id, HPHONE issuer, DWORD lamp,
                                     struct want_state *ws, int nws, LONG status)
{
    for (;;) {
        PHONEMESSAGE m;
        LONG r = phoneGetMessage(app, &m, 10000);
        TQ_CHECKF(r == 0, "waiting for the reply of %" PRId32 ": %s", id, tq_err_name(r));
        if (m.dwMessageID == PHONE_REPLY) {
            TQ_CHECKF(m.dwParam1 == (DWORD_PTR)id && m.hDevice == issuer,
                      "reply for %" PRIuPTR " on %#x, want %" PRId32 " on %#x",
                      (uintptr_t)m.dwParam1, (unsigned)m.hDevice, id, (unsigned)issuer);
            TQ_CHECKF(tq_reply_status(&m) == status, "reply status %s, want %s",
                      tq_err_name(tq_reply_status(&m)), tq_err_name(status));
            break;
        }
        TQ_CHECKF(m.dwMessageID == PHONE_STATE, "unexpected message %u", (unsigned)m.dwMessageID);
        TQ_CHECKF(m.dwParam1 == PHONESTATE_LAMP && m.dwParam2 == lamp,
                  "PHONE_STATE p1 %#" PRIxPTR " p2 %" PRIuPTR ", want LAMP / %u",
                  (uintptr_t)m.dwParam1, (uintptr_t)m.dwParam2, (unsigned)lamp);
        int i;
        for (i = 0; i < nws; i++)
            if (ws[i].h == m.hDevice)
                break;
        TQ_CHECKF(i < nws, "PHONE_STATE for lamp %u on handle %#x, which should get none",
                  (unsigned)lamp, (unsigned)m.hDevice);
        TQ_CHECKF(!ws[i].seen, "two PHONE_STATE for lamp %u on handle %#x", (unsigned)lamp,
                  (unsigned)m.hDevice);
        TQ_CHECK(m.dwCallbackInstance == ws[i].inst);
        ws[i].seen = 1;
    }
    for (int i = 0; i < nws; i++)
        TQ_CHECKF(ws[i].seen, "no PHONE_STATE for lamp %u on handle %#x before the reply",
                  (unsigned)lamp, (unsigned)ws[i].h);
    expect_empty(app, "after the reply");
}

/* Messages of another application: exactly the PHONE_STATEs in @ws, already
 * posted (they precede the reply in the other application). */
static void expect_states_only(HPHONEAPP app, DWORD lamp, struct want_state *ws, int nws)
{
    for (int k = 0; k < nws; k++) {
        PHONEMESSAGE m;
        LONG r = phoneGetMessage(app, &m, 0);
        TQ_CHECKF(r == 0, "PHONE_STATE %d of %d for lamp %u missing when the reply arrived: %s",
                  k + 1, nws, (unsigned)lamp, tq_err_name(r));
        TQ_CHECK(m.dwMessageID == PHONE_STATE);
        TQ_CHECK(m.dwParam1 == PHONESTATE_LAMP && m.dwParam2 == lamp);
        int i;
        for (i = 0; i < nws; i++)
            if (ws[i].h == m.hDevice && !ws[i].seen)
                break;
        TQ_CHECKF(i < nws, "PHONE_STATE on unexpected handle %#x", (unsigned)m.hDevice);
        TQ_CHECK(m.dwCallbackInstance == ws[i].inst);
        ws[i].seen = 1;
    }
    expect_empty(app, "other application");
}

static void expect_filter(HPHONE h, DWORD states)
{
    DWORD s = 0xAAAA, b = 0xBBBB, t = 0xCCCC;
    TQ_EXPECT(phoneGetStatusMessages(h, &s, &b, &t), 0);
    TQ_CHECKF(s == states && b == 0 && t == 0, "filter %#x/%#x/%#x, want %#x/0/0", (unsigned)s,
              (unsigned)b, (unsigned)t, (unsigned)states);
}

static void case_lamp_events(void)
{
    HPHONEAPP a = tq_start("devices=3,lamps=8,workers=2,queue=64", NULL);
    HPHONEAPP b = 0;
    TQ_EXPECT(tq_init_app(&b, NULL, NULL), 0);
    HPHONE own = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 11);
    HPHONE mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 22);
    HPHONE own1 = tq_open(a, 1, PHONEPRIVILEGE_OWNER, 33);
    HPHONE bmon = tq_open(b, 0, PHONEPRIVILEGE_MONITOR, 44);
    HPHONE bmon2 = tq_open(b, 0, PHONEPRIVILEGE_MONITOR, 55); /* keeps its filter off */
    HPHONE handles[] = {own, mon, own1, bmon, bmon2};

    /* Off by default: only the reply. */
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        expect_filter(handles[i], 0);
    LONG id = set_ok(own, 3, PHONELAMPMODE_STEADY);
    expect_states_then_reply(a, id, own, 3, NULL, 0, 0);
    expect_empty(b, "filters off");

    /* Subscribe owner and monitors (monitors may set their filter). */
    TQ_EXPECT(phoneSetStatusMessages(own, PHONESTATE_LAMP, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(mon, PHONESTATE_LAMP, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(own1, PHONESTATE_LAMP, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(bmon, PHONESTATE_LAMP, 0, 0), 0);
    expect_filter(own, PHONESTATE_LAMP);
    expect_filter(mon, PHONESTATE_LAMP);
    expect_filter(bmon, PHONESTATE_LAMP);
    expect_filter(bmon2, 0);
    /* A handle opened later starts with the filter off. */
    HPHONE late = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 66);
    expect_filter(late, 0);

    /* A real change: PHONE_STATE to own and mon before the reply, and to bmon. */
    static const DWORD seq[][2] = {
        {3, PHONELAMPMODE_FLASH}, {5, PHONELAMPMODE_WINK}, {6, PHONELAMPMODE_WINK},
        {0, PHONELAMPMODE_BROKENFLUTTER}, {7, PHONELAMPMODE_FLUTTER}, {3, PHONELAMPMODE_OFF},
    };
    for (size_t k = 0; k < sizeof seq / sizeof seq[0]; k++) {
        struct want_state wa[2] = {{own, 11, 0}, {mon, 22, 0}};
        struct want_state wb[1] = {{bmon, 44, 0}};
        id = set_ok(own, seq[k][0], seq[k][1]);
        expect_states_then_reply(a, id, own, seq[k][0], wa, 2, 0);
        expect_states_only(b, seq[k][0], wb, 1);
        DWORD mode = 0;
        TQ_EXPECT(phoneGetLamp(mon, seq[k][0], &mode), 0);
        TQ_CHECK(mode == seq[k][1]);
    }

    /* The same mode again is not a change. */
    id = set_ok(own, 7, PHONELAMPMODE_FLUTTER);
    expect_states_then_reply(a, id, own, 7, NULL, 0, 0);
    expect_empty(b, "same mode");
    id = set_ok(own, 1, PHONELAMPMODE_OFF); /* lamps start OFF */
    expect_states_then_reply(a, id, own, 1, NULL, 0, 0);
    expect_empty(b, "same mode (initial OFF)");

    /* Another device: only its own subscribed handle. */
    {
        struct want_state w1[1] = {{own1, 33, 0}};
        id = set_ok(own1, 2, PHONELAMPMODE_STEADY);
        expect_states_then_reply(a, id, own1, 2, w1, 1, 0);
        expect_empty(b, "other device");
    }

    /* Unsubscribing the monitor stops its events only. */
    TQ_EXPECT(phoneSetStatusMessages(mon, 0, 0, 0), 0);
    expect_filter(mon, 0);
    {
        struct want_state wa[1] = {{own, 11, 0}};
        struct want_state wb[1] = {{bmon, 44, 0}};
        id = set_ok(own, 4, PHONELAMPMODE_STEADY);
        expect_states_then_reply(a, id, own, 4, wa, 1, 0);
        expect_states_only(b, 4, wb, 1);
    }
    /* A closed handle gets nothing. */
    TQ_EXPECT(phoneClose(bmon), 0);
    {
        struct want_state wa[1] = {{own, 11, 0}};
        id = set_ok(own, 4, PHONELAMPMODE_WINK);
        expect_states_then_reply(a, id, own, 4, wa, 1, 0);
        expect_empty(b, "closed monitor");
    }
    TQ_EXPECT(phoneShutdown(b), 0);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* Failed updates change nothing and give no PHONE_STATE. */
static void case_failed_no_event(void)
{
    HPHONEAPP a = tq_start("devices=1,lamps=4,fail_ppm=1000000", NULL);
    HPHONE own = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 2);
    TQ_EXPECT(phoneSetStatusMessages(own, PHONESTATE_LAMP, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(mon, PHONESTATE_LAMP, 0, 0), 0);
    for (DWORD l = 0; l < 4; l++) {
        LONG id = set_ok(own, l, PHONELAMPMODE_STEADY);
        expect_states_then_reply(a, id, own, l, NULL, 0, PHONEERR_OPERATIONFAILED);
    }
    TQ_EXPECT(phoneShutdown(a), 0);
}


/* A full message queue: lamp notifications coalesce per handle and lamp, but
 * none is silently dropped, and replies are never dropped. queue=4 keeps the
 * queues tiny; application B (a monitor) never reads until the end. */
static void case_queue_full(void)
{
    HPHONEAPP a = tq_start("devices=1,lamps=8,workers=1,queue=4", NULL);
    HPHONEAPP b = 0;
    TQ_EXPECT(tq_init_app(&b, NULL, NULL), 0);
    HPHONE own = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 2);
    HPHONE bmon = tq_open(b, 0, PHONEPRIVILEGE_MONITOR, 3);
    TQ_EXPECT(phoneSetStatusMessages(own, PHONESTATE_LAMP, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(mon, PHONESTATE_LAMP, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(bmon, PHONESTATE_LAMP, 0, 0), 0);

    unsigned changes[8] = {0};
    for (int round = 0; round < 50; round++) {
        /* Up to 4 requests (the allowance), none read until all are done. */
        LONG ids[4];
        int n = 0;
        for (int k = 0; k < 4; k++) {
            DWORD lamp = (round % 2) ? 0 : (DWORD)k; /* odd rounds: one lamp */
            LONG id = PHONEERR_RESOURCEUNAVAIL;
            for (int t = 0; t < 20000 && id == (LONG)PHONEERR_RESOURCEUNAVAIL; t++) {
                id = phoneSetLamp(own, lamp, tq_mode((unsigned)(round * 4 + k + 1)));
                if (id == (LONG)PHONEERR_RESOURCEUNAVAIL)
                    tq_sleep_us(500);
            }
            if (id == (LONG)PHONEERR_RESOURCEUNAVAIL)
                break; /* the allowance is smaller than 4: fine */
            TQ_CHECKF(TQ_ID_OK(id), "phoneSetLamp = %s", tq_err_name(id));
            ids[n++] = id;
            changes[lamp]++;
        }
        TQ_CHECK(n >= 1);
        tq_wait_idle();
        /* A: every reply, and for each handle and each lamp changed in this
         * round at least one PHONE_STATE (at most one per change). */
        unsigned st_own[8] = {0}, st_mon[8] = {0}, want[8] = {0};
        for (int k = 0; k < n; k++)
            want[(round % 2) ? 0 : k]++;
        int replies = 0;
        PHONEMESSAGE m;
        while (phoneGetMessage(a, &m, 0) == 0) {
            if (m.dwMessageID == PHONE_REPLY) {
                int k;
                for (k = 0; k < n; k++)
                    if ((DWORD_PTR)ids[k] == m.dwParam1)
                        break;
                TQ_CHECKF(k < n, "reply for unknown id %" PRIuPTR, (uintptr_t)m.dwParam1);
                ids[k] = 0;
                replies++;
                continue;
            }
            TQ_CHECK(m.dwMessageID == PHONE_STATE && m.dwParam1 == PHONESTATE_LAMP);
            TQ_CHECK(m.dwParam2 < 8);
            if (m.hDevice == own)
                st_own[m.dwParam2]++;
            else {
                TQ_CHECK(m.hDevice == mon);
                st_mon[m.dwParam2]++;
            }
        }
        TQ_CHECKF(replies == n, "round %d: %d replies for %d requests", round, replies, n);
        for (int l = 0; l < 8; l++) {
            TQ_CHECKF((want[l] == 0) == (st_own[l] == 0) && st_own[l] <= want[l],
                      "round %d lamp %d: %u PHONE_STATE on the owner for %u changes", round, l,
                      st_own[l], want[l]);
            TQ_CHECKF((want[l] == 0) == (st_mon[l] == 0) && st_mon[l] <= want[l],
                      "round %d lamp %d: %u PHONE_STATE on the monitor for %u changes", round, l,
                      st_mon[l], want[l]);
        }
    }
    /* B never read: at least one notification per lamp that changed, at most
     * one per change, none for the others. */
    unsigned st_b[8] = {0};
    PHONEMESSAGE m;
    while (phoneGetMessage(b, &m, 0) == 0) {
        TQ_CHECK(m.dwMessageID == PHONE_STATE && m.hDevice == bmon && m.dwParam2 < 8);
        st_b[m.dwParam2]++;
    }
    for (int l = 0; l < 8; l++)
        TQ_CHECKF((changes[l] == 0) == (st_b[l] == 0) && st_b[l] <= changes[l],
                  "unread application, lamp %d: %u PHONE_STATE for %u changes", l, st_b[l],
                  changes[l]);
    TQ_EXPECT(phoneShutdown(b), 0);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* ------------------------------------------------------------ structures */

static void case_caps(void)
{
    DWORD ndev = 0;
    HPHONEAPP a = tq_start("devices=3,lamps=8,offline=1", &ndev);
    TQ_CHECK(ndev == 3);
    const size_t fixed = sizeof(PHONECAPS);
    const size_t bufsz = 8192;
    unsigned char *buf = malloc(bufsz);
    TQ_CHECK(buf != NULL);
    PHONECAPS *c = (PHONECAPS *)buf;

    for (DWORD dev = 0; dev < ndev; dev++) {
        memset(buf, 0xEE, bufsz);
        memset(buf, 0, fixed);
        c->dwTotalSize = (DWORD)bufsz;
        TQ_EXPECT(phoneGetDevCaps(a, dev, TQ_API, 0, c), 0);
        TQ_CHECK(c->dwTotalSize == bufsz);
        TQ_CHECKF(c->dwUsedSize >= fixed && c->dwUsedSize <= c->dwTotalSize,
                  "dwUsedSize %u", (unsigned)c->dwUsedSize);
        TQ_CHECKF(c->dwNeededSize == c->dwUsedSize, "dwNeededSize %u, dwUsedSize %u",
                  (unsigned)c->dwNeededSize, (unsigned)c->dwUsedSize);
        TQ_CHECK(c->dwNumButtonLamps == NLAMP);
        TQ_CHECKF(c->dwLampModesSize == NLAMP * sizeof(DWORD), "dwLampModesSize %u",
                  (unsigned)c->dwLampModesSize);
        TQ_CHECKF(c->dwLampModesOffset >= fixed &&
                      c->dwLampModesOffset + c->dwLampModesSize <= c->dwUsedSize,
                  "dwLampModesOffset %u", (unsigned)c->dwLampModesOffset);
        for (int l = 0; l < NLAMP; l++) {
            DWORD modes;
            memcpy(&modes, buf + c->dwLampModesOffset + (size_t)l * sizeof(DWORD), sizeof modes);
            TQ_CHECKF(modes == TQ_MEM_MODES, "lamp %d supports %#x, want %#x", l,
                      (unsigned)modes, (unsigned)TQ_MEM_MODES);
        }
        if (c->dwButtonModesSize != 0)
            TQ_CHECK(c->dwButtonModesOffset >= fixed &&
                     c->dwButtonModesOffset + c->dwButtonModesSize <= c->dwUsedSize);
        TQ_CHECKF((c->dwPhoneFeatures & (PHONEFEATURE_SETLAMP | PHONEFEATURE_GETLAMP)) ==
                      (PHONEFEATURE_SETLAMP | PHONEFEATURE_GETLAMP),
                  "dwPhoneFeatures %#x", (unsigned)c->dwPhoneFeatures);
        TQ_CHECKF(c->dwPhoneStates & PHONESTATE_LAMP, "dwPhoneStates %#x",
                  (unsigned)c->dwPhoneStates);
        /* Nothing written beyond dwUsedSize. */
        for (size_t i = c->dwUsedSize; i < bufsz; i++)
            TQ_CHECKF(buf[i] == 0xEE, "byte %zu beyond dwUsedSize written", i);
    }
    const DWORD needed = c->dwNeededSize;

    /* Too small for the fixed part. */
    static const DWORD small[] = {12, 16, 100, sizeof(PHONECAPS) - 1};
    for (size_t k = 0; k < sizeof small / sizeof small[0]; k++) {
        memset(buf, 0xEE, bufsz);
        memset(buf, 0, 12);
        c->dwTotalSize = small[k];
        TQ_EXPECT(phoneGetDevCaps(a, 0, TQ_API, 0, c), PHONEERR_STRUCTURETOOSMALL);
        TQ_CHECKF(c->dwNeededSize == needed, "dwTotalSize %u: dwNeededSize %u, want %u",
                  (unsigned)small[k], (unsigned)c->dwNeededSize, (unsigned)needed);
        for (size_t i = small[k]; i < bufsz; i++)
            TQ_CHECKF(buf[i] == 0xEE, "dwTotalSize %u: byte %zu written", (unsigned)small[k], i);
    }
    memset(buf, 0xEE, bufsz);
    c->dwTotalSize = 8;
    TQ_EXPECT(phoneGetDevCaps(a, 0, TQ_API, 0, c), PHONEERR_STRUCTURETOOSMALL);
    for (size_t i = 8; i < bufsz; i++)
        TQ_CHECKF(buf[i] == 0xEE, "dwTotalSize 8: byte %zu written", i);

    /* Room for the fixed part only: success, dwNeededSize says how much. */
    memset(buf, 0xEE, bufsz);
    memset(buf, 0, fixed);
    c->dwTotalSize = (DWORD)fixed;
    TQ_EXPECT(phoneGetDevCaps(a, 0, TQ_API, 0, c), 0);
    TQ_CHECK(c->dwNeededSize == needed);
    TQ_CHECKF(c->dwUsedSize == fixed, "dwUsedSize %u, want %zu", (unsigned)c->dwUsedSize, fixed);
    TQ_CHECK(c->dwLampModesSize == 0);
    TQ_CHECK(c->dwNumButtonLamps == NLAMP);
    for (size_t i = fixed; i < bufsz; i++)
        TQ_CHECKF(buf[i] == 0xEE, "byte %zu beyond the fixed part written", i);

    /* Bad device ids. */
    c->dwTotalSize = (DWORD)bufsz;
    TQ_EXPECT(phoneGetDevCaps(a, ndev, TQ_API, 0, c), PHONEERR_BADDEVICEID);
    TQ_EXPECT(phoneGetDevCaps(a, 0xFFFFFFFF, TQ_API, 0, c), PHONEERR_BADDEVICEID);
    HPHONE x = 0;
    TQ_EXPECT(phoneOpen(a, ndev, &x, TQ_API, 0, 0, PHONEPRIVILEGE_OWNER), PHONEERR_BADDEVICEID);
    free(buf);
    TQ_EXPECT(phoneShutdown(a), 0);
}

static void get_status(HPHONE h, unsigned char *buf, size_t bufsz)
{
    PHONESTATUS *s = (PHONESTATUS *)buf;
    memset(buf, 0xEE, bufsz);
    memset(buf, 0, sizeof(PHONESTATUS));
    s->dwTotalSize = (DWORD)bufsz;
    TQ_EXPECT(phoneGetStatus(h, s), 0);
    TQ_CHECK(s->dwUsedSize >= sizeof(PHONESTATUS) && s->dwUsedSize <= bufsz);
    TQ_CHECK(s->dwNeededSize == s->dwUsedSize);
    TQ_CHECKF(s->dwLampModesSize == NLAMP * sizeof(DWORD), "dwLampModesSize %u",
              (unsigned)s->dwLampModesSize);
    TQ_CHECK(s->dwLampModesOffset >= sizeof(PHONESTATUS) &&
             s->dwLampModesOffset + s->dwLampModesSize <= s->dwUsedSize);
    for (size_t i = s->dwUsedSize; i < bufsz; i++)
        TQ_CHECKF(buf[i] == 0xEE, "byte %zu beyond dwUsedSize written", i);
}

static void case_status(void)
{
    HPHONEAPP a = tq_start("devices=3,lamps=8,offline=1", NULL);
    HPHONEAPP b = 0;
    TQ_EXPECT(tq_init_app(&b, NULL, NULL), 0);
    HPHONE own = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 2);
    HPHONE bmon = tq_open(b, 0, PHONEPRIVILEGE_MONITOR, 3);
    HPHONE off = tq_open(a, 2, PHONEPRIVILEGE_OWNER, 4);
    const size_t bufsz = 4096;
    unsigned char *buf = malloc(bufsz);
    TQ_CHECK(buf != NULL);
    PHONESTATUS *s = (PHONESTATUS *)buf;

    /* Set some lamps and wait for their replies. */
    LONG ids[NLAMP];
    for (DWORD l = 0; l < NLAMP; l++)
        ids[l] = set_ok(own, l, tq_mode(l * 5 + 1));
    for (int k = 0; k < NLAMP; k++) {
        PHONEMESSAGE m;
        TQ_EXPECT(phoneGetMessage(a, &m, 10000), 0);
        TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam2 == 0);
        int found = 0;
        for (int l = 0; l < NLAMP; l++)
            found += (DWORD_PTR)ids[l] == m.dwParam1;
        TQ_CHECK(found == 1);
    }

    HPHONE hs[] = {own, mon, bmon};
    for (size_t k = 0; k < sizeof hs / sizeof hs[0]; k++) {
        get_status(hs[k], buf, bufsz);
        TQ_CHECKF(s->dwStatusFlags & PHONESTATUSFLAGS_CONNECTED, "dwStatusFlags %#x",
                  (unsigned)s->dwStatusFlags);
        TQ_CHECKF(s->dwNumOwners == 1 && s->dwNumMonitors == 2, "owners %u monitors %u",
                  (unsigned)s->dwNumOwners, (unsigned)s->dwNumMonitors);
        for (DWORD l = 0; l < NLAMP; l++) {
            DWORD mode = 0, st;
            memcpy(&st, buf + s->dwLampModesOffset + l * sizeof(DWORD), sizeof st);
            TQ_EXPECT(phoneGetLamp(hs[k], l, &mode), 0);
            TQ_CHECK(mode == tq_mode(l * 5 + 1));
            TQ_CHECKF(st == mode, "PHONESTATUS lamp %u %#x, phoneGetLamp %#x", (unsigned)l,
                      (unsigned)st, (unsigned)mode);
        }
    }
    get_status(own, buf, bufsz);
    TQ_CHECKF((s->dwPhoneFeatures & (PHONEFEATURE_SETLAMP | PHONEFEATURE_GETLAMP)) ==
                  (PHONEFEATURE_SETLAMP | PHONEFEATURE_GETLAMP),
              "owner dwPhoneFeatures %#x", (unsigned)s->dwPhoneFeatures);

    /* Counts follow opens and closes. */
    TQ_EXPECT(phoneClose(mon), 0);
    get_status(own, buf, bufsz);
    TQ_CHECK(s->dwNumOwners == 1 && s->dwNumMonitors == 1);
    TQ_EXPECT(phoneShutdown(b), 0);
    get_status(own, buf, bufsz);
    TQ_CHECK(s->dwNumOwners == 1 && s->dwNumMonitors == 0);

    /* The offline device: not connected. */
    get_status(off, buf, bufsz);
    TQ_CHECKF(!(s->dwStatusFlags & PHONESTATUSFLAGS_CONNECTED), "offline dwStatusFlags %#x",
              (unsigned)s->dwStatusFlags);
    TQ_CHECK(s->dwNumOwners == 1 && s->dwNumMonitors == 0);

    /* Too small, then room for the fixed part only. */
    memset(buf, 0xEE, bufsz);
    s->dwTotalSize = sizeof(PHONESTATUS) - 1;
    TQ_EXPECT(phoneGetStatus(own, s), PHONEERR_STRUCTURETOOSMALL);
    TQ_CHECKF(s->dwNeededSize >= sizeof(PHONESTATUS) + NLAMP * sizeof(DWORD),
              "dwNeededSize %u", (unsigned)s->dwNeededSize);
    for (size_t i = sizeof(PHONESTATUS) - 1; i < bufsz; i++)
        TQ_CHECKF(buf[i] == 0xEE, "byte %zu written", i);
    memset(buf, 0xEE, bufsz);
    memset(buf, 0, sizeof(PHONESTATUS));
    s->dwTotalSize = sizeof(PHONESTATUS);
    TQ_EXPECT(phoneGetStatus(own, s), 0);
    TQ_CHECK(s->dwUsedSize == sizeof(PHONESTATUS));
    TQ_CHECK(s->dwNeededSize >= sizeof(PHONESTATUS) + NLAMP * sizeof(DWORD));
    TQ_CHECK(s->dwLampModesSize == 0);
    for (size_t i = sizeof(PHONESTATUS); i < bufsz; i++)
        TQ_CHECKF(buf[i] == 0xEE, "byte %zu written", i);
    free(buf);
    TQ_EXPECT(phoneShutdown(a), 0);
}

static void case_negotiate(void)
{
    DWORD ndev = 0;
    HPHONEAPP a = tq_start("devices=2,lamps=2", &ndev);
    PHONEEXTENSIONID ext;
    static const DWORD ok[][3] = {
        /* low, high, negotiated */
        {TAPI_VERSION1_4, TAPI_VERSION2_2, TAPI_VERSION2_2},
        {TAPI_VERSION1_4, 0x00030000, TAPI_VERSION2_2},
        {TAPI_VERSION1_0, TAPI_VERSION2_2, TAPI_VERSION2_2},
        {TAPI_VERSION2_2, TAPI_VERSION2_2, TAPI_VERSION2_2},
        {TAPI_VERSION1_4, TAPI_VERSION1_4, TAPI_VERSION1_4},
        {TAPI_VERSION2_0, TAPI_VERSION2_1, TAPI_VERSION2_1},
        {TAPI_VERSION1_4, TAPI_VERSION2_0, TAPI_VERSION2_0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        for (DWORD dev = 0; dev < ndev; dev++) {
            DWORD v = 0;
            TQ_EXPECT(phoneNegotiateAPIVersion(a, dev, ok[i][0], ok[i][1], &v, &ext), 0);
            TQ_CHECKF(v == ok[i][2], "%#x..%#x negotiated %#x, want %#x", (unsigned)ok[i][0],
                      (unsigned)ok[i][1], (unsigned)v, (unsigned)ok[i][2]);
        }
    static const DWORD bad[][2] = {
        {0x00010000, 0x00010001},
        {0x00020003, 0x00030000},
        {0x00030000, 0x00040000},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        DWORD v = 0;
        TQ_EXPECT(phoneNegotiateAPIVersion(a, 0, bad[i][0], bad[i][1], &v, &ext),
                  PHONEERR_INCOMPATIBLEAPIVERSION);
    }
    DWORD v = 0;
    TQ_EXPECT(phoneNegotiateAPIVersion(a, ndev, TAPI_VERSION1_4, TAPI_VERSION2_2, &v, &ext),
              PHONEERR_BADDEVICEID);
    TQ_EXPECT(phoneNegotiateAPIVersion(a, 0xFFFFFFFF, TAPI_VERSION1_4, TAPI_VERSION2_2, &v, &ext),
              PHONEERR_BADDEVICEID);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* The supported range is 1.3 (the SDK's TAPI_VERSION1_0, 0x00010003) ..
 * 2.2: a range that ends below 1.3 has nothing in common with it; one that
 * ends at 1.3 negotiates 1.3. Separate test case. */
static void case_negotiate_low_end(void)
{
    HPHONEAPP a = tq_start("devices=1,lamps=2", NULL);
    PHONEEXTENSIONID ext;
    DWORD v = 0xFFFF;
    LONG r = phoneNegotiateAPIVersion(a, 0, 0x00010000, TAPI_VERSION1_0 - 1, &v, &ext);
    TQ_CHECKF(r == (LONG)PHONEERR_INCOMPATIBLEAPIVERSION,
              "range 0x00010000..0x00010002 gave %s (version %#x); the supported range is "
              "0x00010003..0x00020002", tq_err_name(r), (unsigned)v);
    v = 0;
    TQ_EXPECT(phoneNegotiateAPIVersion(a, 0, 0x00010000, TAPI_VERSION1_0, &v, &ext), 0);
    TQ_CHECK(v == TAPI_VERSION1_0);
    v = 0;
    TQ_EXPECT(phoneNegotiateAPIVersion(a, 0, TAPI_VERSION1_0, TAPI_VERSION1_4, &v, &ext), 0);
    TQ_CHECK(v == TAPI_VERSION1_4);
    TQ_EXPECT(phoneShutdown(a), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "api-low-end") == 0) {
        case_negotiate_low_end();
        printf("test_status api-low-end: ok\n");
        return 0;
    }
    case_lamp_events();
    case_failed_no_event();
    case_queue_full();
    case_caps();
    case_status();
    case_negotiate();
    printf("test_status: ok\n");
    return 0;
}
