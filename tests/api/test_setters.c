/* The asynchronous setters over the mem backend: each one's success path
 * (a request id, exactly one PHONE_REPLY with 0, the getter then returning
 * the value), PHONE_STATE before the replies, every documented error in its
 * order of precedence (one argument fixed at a time), and the backend's
 * failures (fail_ppm) arriving in PHONE_REPLY as OPERATIONFAILED with the
 * state left as it was. */
#include "tq_test.h"

/* Every PHONESTATE_* bit but LAMP (phoneSetStatusMessages takes them all). */
#define TAPIQ_ALL_TEST_STATES (0x00FFFFFFu & ~(DWORD)PHONESTATE_LAMP)

/* Console 0: everything; 1: lamps only (no attributes); 2: offline. */
static const char *const CONFIG =
    "devices=3,lamps=4,offline=1,workers=1,display=2x8,ring_modes=3,"
    "hookswitch=handset+headset,buttons=feature:hold:Hold+call:7:Line 1+dummy+keypad,"
    "button_text=12,data=8+32,display@1=none,ring_modes@1=0,hookswitch@1=none,"
    "buttons@1=none,data@1=none";

/* Read messages until the reply of @id arrived (bounded); count replies of
 * @id and return its status. PHONE_STATE messages seen before it are
 * added to *states (may be NULL). */
static LONG wait_reply(HPHONEAPP app, LONG id, DWORD *states)
{
    PHONEMESSAGE m;
    for (int i = 0; i < 10000; i++) {
        LONG r = phoneGetMessage(app, &m, 5000);
        TQ_CHECKF(r == 0, "no reply for request %d: %s", (int)id, tq_err_name(r));
        if (m.dwMessageID == PHONE_STATE && states)
            *states |= (DWORD)m.dwParam1;
        if (m.dwMessageID == PHONE_REPLY && (LONG)m.dwParam1 == id)
            return tq_reply_status(&m);
    }
    TQ_FAIL("too many messages before the reply of %d", (int)id);
}

/* No message left: a second reply would show here. */
static void expect_quiet(HPHONEAPP app)
{
    PHONEMESSAGE m;
    tq_wait_idle();
    while (phoneGetMessage(app, &m, 0) == 0)
        TQ_CHECKF(m.dwMessageID != PHONE_REPLY, "an extra PHONE_REPLY (id %lu)",
                  (unsigned long)m.dwParam1);
}

#define OK_REQ(call, app, states)                                                            \
    do {                                                                                     \
        LONG id_ = (call);                                                                   \
        TQ_CHECKF(TQ_ID_OK(id_), "%s = %s", #call, tq_err_name(id_));                        \
        TQ_EXPECT(wait_reply(app, id_, states), 0);                                          \
    } while (0)

static void case_success(void)
{
    HPHONEAPP app = tq_start(CONFIG, NULL);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    unsigned char buf[512];
    VARSTRING *vs = (VARSTRING *)buf;
    PHONEBUTTONINFO *bi = (PHONEBUTTONINFO *)buf;
    DWORD st = 0, v1 = 0, v2 = 0;
    unsigned char data[40];
    TQ_EXPECT(phoneSetStatusMessages(h, TAPIQ_ALL_TEST_STATES, 0, 0), 0);

    /* Display: row 1, column 2; the NUL ends the text; it wraps no further
     * than the display's end. */
    OK_REQ(phoneSetDisplay(h, 1, 2, "Queue\0xx", 8), app, &st);
    TQ_CHECK(st == PHONESTATE_DISPLAY);
    memset(buf, 0, sizeof buf);
    vs->dwTotalSize = sizeof buf;
    TQ_EXPECT(phoneGetDisplay(h, vs), 0);
    TQ_CHECKF(memcmp(buf + vs->dwStringOffset, "          Queue ", 16) == 0, "display '%.16s'",
              (const char *)buf + vs->dwStringOffset);
    st = 0;
    OK_REQ(phoneSetDisplay(h, 1, 6, "ABCDEFGH", 8), app, &st); /* cut at the end */
    TQ_EXPECT(phoneGetDisplay(h, vs), 0);
    TQ_CHECK(memcmp(buf + vs->dwStringOffset, "          QueuAB", 16) == 0);
    /* The same text again is no change: no PHONE_STATE. */
    st = 0;
    OK_REQ(phoneSetDisplay(h, 1, 6, "AB", 2), app, &st);
    TQ_CHECK(st == 0);

    /* Ring: RINGMODE with the mode in dwParam2, RINGVOLUME. */
    st = 0;
    OK_REQ(phoneSetRing(h, 2, 0x1234), app, &st);
    TQ_CHECK(st == (PHONESTATE_RINGMODE | PHONESTATE_RINGVOLUME));
    TQ_EXPECT(phoneGetRing(h, &v1, &v2), 0);
    TQ_CHECK(v1 == 2 && v2 == 0x1234);

    /* Hookswitch: both devices off hook, then the headset back. */
    st = 0;
    OK_REQ(phoneSetHookSwitch(h, PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET,
                              PHONEHOOKSWITCHMODE_MICSPEAKER),
           app, &st);
    TQ_CHECK(st == (PHONESTATE_HANDSETHOOKSWITCH | PHONESTATE_HEADSETHOOKSWITCH));
    TQ_EXPECT(phoneGetHookSwitch(h, &v1), 0);
    TQ_CHECK(v1 == (PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET));
    OK_REQ(phoneSetHookSwitch(h, PHONEHOOKSWITCHDEV_HEADSET, PHONEHOOKSWITCHMODE_ONHOOK), app,
           NULL);
    TQ_EXPECT(phoneGetHookSwitch(h, &v1), 0);
    TQ_CHECK(v1 == PHONEHOOKSWITCHDEV_HANDSET);

    /* Volume and gain. */
    st = 0;
    OK_REQ(phoneSetVolume(h, PHONEHOOKSWITCHDEV_HEADSET, 0xFFFF), app, &st);
    TQ_CHECK(st == PHONESTATE_HEADSETVOLUME);
    TQ_EXPECT(phoneGetVolume(h, PHONEHOOKSWITCHDEV_HEADSET, &v1), 0);
    TQ_CHECK(v1 == 0xFFFF);
    st = 0;
    OK_REQ(phoneSetGain(h, PHONEHOOKSWITCHDEV_HANDSET, 0), app, &st);
    TQ_CHECK(st == PHONESTATE_HANDSETGAIN);
    TQ_EXPECT(phoneGetGain(h, PHONEHOOKSWITCHDEV_HANDSET, &v1), 0);
    TQ_CHECK(v1 == 0);

    /* Data: the first bytes of area 1; more than the area is cut to it. */
    for (int i = 0; i < 40; i++)
        data[i] = (unsigned char)(i + 1);
    OK_REQ(phoneSetData(h, 1, data, 40), app, NULL);
    memset(data, 0, sizeof data);
    TQ_EXPECT(phoneGetData(h, 1, data, 32), 0);
    TQ_CHECK(data[0] == 1 && data[31] == 32);
    OK_REQ(phoneSetData(h, 0, "\x55\x66", 2), app, NULL);
    TQ_EXPECT(phoneGetData(h, 0, data, 8), 0);
    TQ_CHECK(data[0] == 0x55 && data[1] == 0x66 && data[2] == 0);

    /* Button info, A then W. */
    memset(buf, 0, sizeof buf);
    bi->dwTotalSize = sizeof(PHONEBUTTONINFO) + 16;
    bi->dwButtonMode = PHONEBUTTONMODE_FEATURE;
    bi->dwButtonFunction = PHONEBUTTONFUNCTION_TRANSFER;
    bi->dwButtonTextSize = 6;
    bi->dwButtonTextOffset = sizeof(PHONEBUTTONINFO);
    memcpy(buf + sizeof(PHONEBUTTONINFO), "Xfer!", 6);
    OK_REQ(phoneSetButtonInfoA(h, 3, bi), app, NULL);
    memset(buf, 0, sizeof buf);
    bi->dwTotalSize = sizeof buf;
    TQ_EXPECT(phoneGetButtonInfoA(h, 3, bi), 0);
    TQ_CHECK(bi->dwButtonMode == PHONEBUTTONMODE_FEATURE &&
             bi->dwButtonFunction == PHONEBUTTONFUNCTION_TRANSFER && bi->dwButtonTextSize == 6 &&
             memcmp(buf + bi->dwButtonTextOffset, "Xfer!", 6) == 0);
    {
        static const uint16_t w[] = {'L', 0xE9, 'o', 0};
        memset(buf, 0, sizeof buf);
        bi->dwTotalSize = sizeof(PHONEBUTTONINFO) + sizeof w;
        bi->dwButtonMode = PHONEBUTTONMODE_CALL;
        bi->dwButtonFunction = PHONEBUTTONFUNCTION_CONNECT;
        bi->dwButtonTextSize = sizeof w;
        bi->dwButtonTextOffset = sizeof(PHONEBUTTONINFO);
        memcpy(buf + sizeof(PHONEBUTTONINFO), w, sizeof w);
        OK_REQ(phoneSetButtonInfoW(h, 0, bi), app, NULL);
        memset(buf, 0, sizeof buf);
        bi->dwTotalSize = sizeof buf;
        TQ_EXPECT(phoneGetButtonInfoA(h, 0, bi), 0); /* UTF-8 */
        TQ_CHECK(bi->dwButtonMode == PHONEBUTTONMODE_CALL && bi->dwButtonTextSize == 5 &&
                 memcmp(buf + bi->dwButtonTextOffset, "L\xC3\xA9o", 5) == 0);
    }

    /* Device-specific bytes, also on a console without attributes. */
    st = 0;
    OK_REQ(phoneDevSpecific(h, "abc", 3), app, &st);
    TQ_CHECK(st == PHONESTATE_DEVSPECIFIC);
    {
        HPHONE h1 = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 2);
        OK_REQ(phoneDevSpecific(h1, NULL, 0), app, NULL);
    }
    expect_quiet(app);
    {
        tapiq_stats s = tq_stats();
        TQ_CHECKF(s.attrs_applied == s.accepted && s.attrs_coalesced == 0 &&
                      s.updates_failed == 0 && s.replies == s.accepted,
                  "applied %" PRIu64 " accepted %" PRIu64, s.attrs_applied, s.accepted);
    }
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* Every error, in the documented order: each step fixes the argument the
 * previous one complained about. */
static void case_errors(void)
{
    HPHONEAPP app;
    HPHONE own, mon, bare, off, closed;
    unsigned char buf[256];
    PHONEBUTTONINFO *bi = (PHONEBUTTONINFO *)buf;

    TQ_EXPECT(phoneSetDisplay(1, 0, 0, "x", 1), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneDevSpecific(1, NULL, 0), PHONEERR_UNINITIALIZED);
    app = tq_start(CONFIG, NULL);
    own = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    mon = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 2);
    bare = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 3);
    off = tq_open(app, 2, PHONEPRIVILEGE_OWNER, 4);
    closed = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 5);
    TQ_EXPECT(phoneClose(closed), 0);

    /* Display. */
    TQ_EXPECT(phoneSetDisplay(0, 9, 9, NULL, 1), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneSetDisplay(closed, 9, 9, NULL, 1), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneSetDisplay(mon, 9, 9, NULL, 1), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneSetDisplay(bare, 9, 9, NULL, 1), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneSetDisplay(bare, 9, 9, "x", 1), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetDisplay(own, 2, 0, "x", 1), PHONEERR_INVALPARAM);
    TQ_EXPECT(phoneSetDisplay(own, 0, 8, "x", 1), PHONEERR_INVALPARAM);
    TQ_EXPECT(phoneSetDisplay(off, 1, 7, "x", 1), PHONEERR_INVALPHONESTATE);

    /* Ring. */
    TQ_EXPECT(phoneSetRing(mon, 9, 0x10000), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneSetRing(bare, 9, 0x10000), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetRing(own, 4, 0x10000), PHONEERR_INVALRINGMODE);
    TQ_EXPECT(phoneSetRing(own, 3, 0x10000), PHONEERR_INVALPARAM);
    TQ_EXPECT(phoneSetRing(off, 3, 0xFFFF), PHONEERR_INVALPHONESTATE);

    /* Hookswitch. */
    TQ_EXPECT(phoneSetHookSwitch(mon, 0, 0), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneSetHookSwitch(bare, 0, 0), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetHookSwitch(own, 0, 0), PHONEERR_INVALHOOKSWITCHDEV);
    TQ_EXPECT(phoneSetHookSwitch(own, PHONEHOOKSWITCHDEV_SPEAKER, 0),
              PHONEERR_INVALHOOKSWITCHDEV);
    TQ_EXPECT(phoneSetHookSwitch(own, PHONEHOOKSWITCHDEV_HANDSET, 0),
              PHONEERR_INVALHOOKSWITCHMODE);
    TQ_EXPECT(phoneSetHookSwitch(own, PHONEHOOKSWITCHDEV_HANDSET,
                                 PHONEHOOKSWITCHMODE_MIC | PHONEHOOKSWITCHMODE_SPEAKER),
              PHONEERR_INVALHOOKSWITCHMODE);
    TQ_EXPECT(phoneSetHookSwitch(own, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_UNKNOWN),
              PHONEERR_INVALHOOKSWITCHMODE);
    TQ_EXPECT(phoneSetHookSwitch(off, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC),
              PHONEERR_INVALPHONESTATE);

    /* Volume and gain. */
    TQ_EXPECT(phoneSetVolume(mon, 0, 0x10000), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneSetVolume(bare, 0, 0x10000), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetVolume(own, 0, 0x10000), PHONEERR_INVALHOOKSWITCHDEV);
    TQ_EXPECT(phoneSetVolume(own, PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET, 0),
              PHONEERR_INVALHOOKSWITCHDEV);
    TQ_EXPECT(phoneSetGain(own, PHONEHOOKSWITCHDEV_SPEAKER, 0), PHONEERR_INVALHOOKSWITCHDEV);
    TQ_EXPECT(phoneSetGain(own, PHONEHOOKSWITCHDEV_HANDSET, 0x10000), PHONEERR_INVALPARAM);
    TQ_EXPECT(phoneSetVolume(off, PHONEHOOKSWITCHDEV_HANDSET, 1), PHONEERR_INVALPHONESTATE);

    /* Data. */
    TQ_EXPECT(phoneSetData(mon, 9, NULL, 1), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneSetData(bare, 9, NULL, 1), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneSetData(bare, 9, "x", 1), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetData(own, 2, "x", 1), PHONEERR_INVALDATAID);
    TQ_EXPECT(phoneSetData(off, 1, "x", 1), PHONEERR_INVALPHONESTATE);

    /* Button info. */
    memset(buf, 0, sizeof buf);
    TQ_EXPECT(phoneSetButtonInfo(mon, 9, NULL), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneSetButtonInfo(bare, 9, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneSetButtonInfo(bare, 9, bi), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneSetButtonInfo(own, 4, bi), PHONEERR_INVALBUTTONLAMPID);
    bi->dwTotalSize = sizeof(PHONEBUTTONINFO) - 1;
    TQ_EXPECT(phoneSetButtonInfo(own, 3, bi), PHONEERR_STRUCTURETOOSMALL);
    bi->dwTotalSize = sizeof(PHONEBUTTONINFO) + 16;
    bi->dwButtonMode = PHONEBUTTONMODE_CALL | PHONEBUTTONMODE_FEATURE;
    TQ_EXPECT(phoneSetButtonInfo(own, 3, bi), PHONEERR_INVALBUTTONMODE);
    bi->dwButtonMode = 0x40;
    TQ_EXPECT(phoneSetButtonInfoW(own, 3, bi), PHONEERR_INVALBUTTONMODE);
    bi->dwButtonMode = PHONEBUTTONMODE_KEYPAD;
    bi->dwButtonFunction = PHONEBUTTONFUNCTION_SEND + 1;
    TQ_EXPECT(phoneSetButtonInfo(own, 3, bi), PHONEERR_INVALPARAM);
    bi->dwButtonFunction = PHONEBUTTONFUNCTION_SEND;
    bi->dwButtonTextSize = 17; /* beyond dwTotalSize */
    bi->dwButtonTextOffset = sizeof(PHONEBUTTONINFO);
    TQ_EXPECT(phoneSetButtonInfo(own, 3, bi), PHONEERR_INVALPARAM);
    bi->dwButtonTextSize = 14; /* 13 characters: one more than button_text=12 */
    memcpy(buf + sizeof(PHONEBUTTONINFO), "0123456789abc", 14);
    TQ_EXPECT(phoneSetButtonInfoA(own, 3, bi), PHONEERR_INVALPARAM);
    bi->dwButtonTextSize = 13;
    buf[sizeof(PHONEBUTTONINFO) + 12] = '\0';
    TQ_EXPECT(phoneSetButtonInfo(off, 3, bi), PHONEERR_INVALPHONESTATE);
    {
        LONG id = phoneSetButtonInfo(own, 3, bi); /* twelve characters fit */
        TQ_CHECK(TQ_ID_OK(id));
        TQ_EXPECT(wait_reply(app, id, NULL), 0);
    }

    /* Device-specific bytes: more than a payload slot holds. */
    {
        static unsigned char big[4097];
        TQ_EXPECT(phoneDevSpecific(mon, NULL, 1), PHONEERR_NOTOWNER);
        TQ_EXPECT(phoneDevSpecific(own, NULL, 1), PHONEERR_INVALPOINTER);
        TQ_EXPECT(phoneDevSpecific(off, big, sizeof big), PHONEERR_INVALPARAM);
        TQ_EXPECT(phoneDevSpecific(off, big, 4096), PHONEERR_INVALPHONESTATE);
    }
    expect_quiet(app);
    {
        tapiq_stats s = tq_stats();
        TQ_CHECKF(s.accepted == 1, "accepted %" PRIu64, s.accepted);
    }
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* The backend fails every update: OPERATIONFAILED in every reply, no
 * PHONE_STATE, the state unchanged. */
static void case_backend_fails(void)
{
    HPHONEAPP app = tq_start("devices=1,lamps=2,fail_ppm=1000000,display=1x4,ring_modes=2",
                             NULL);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    DWORD st = 0, mode = 9, vol = 9;
    LONG a, b;
    TQ_EXPECT(phoneSetStatusMessages(h, TAPIQ_ALL_TEST_STATES, 0, 0), 0);
    a = phoneSetRing(h, 1, 7);
    b = phoneDevSpecific(h, "z", 1);
    TQ_CHECK(TQ_ID_OK(a) && TQ_ID_OK(b));
    TQ_EXPECT(wait_reply(app, a, &st), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(wait_reply(app, b, &st), PHONEERR_OPERATIONFAILED);
    TQ_CHECK(st == 0);
    TQ_EXPECT(phoneGetRing(h, &mode, &vol), 0);
    TQ_CHECK(mode == 0 && vol == 0x8000);
    expect_quiet(app);
    TQ_CHECK(tq_stats().updates_failed == 2);
    TQ_EXPECT(phoneShutdown(app), 0);
}

int main(int argc, char **argv)
{
    static const struct tq_case cases[] = {
        {"success", case_success},
        {"errors", case_errors},
        {"backend-fails", case_backend_fails},
    };
    return tq_run_cases(argc, argv, "setters", cases, sizeof(cases) / sizeof(cases[0]));
}
