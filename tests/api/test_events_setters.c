/* test_events_setters - the asynchronous setters and the console's events
 * on the same consoles.
 *
 * - Room: a handle that asks for every state reserves lamps + 16 events
 *   (one per lamp and per non-lamp state a notification exists for); with
 *   exactly that much room, every setter's states, a console hookswitch
 *   change and OWNER / MONITORS all wait at once, unread, and each arrives
 *   exactly once with dwParam2 as it is when read. One event less and the
 *   filter is refused.
 * - phoneSetButtonInfo changes what a press reports: the new mode in
 *   PHONE_BUTTON, the filter applied to it, a dummy position that cannot be
 *   pressed; a button held down while its mode changes gives its unit
 *   back (the whole room is there after it).
 * - phoneSetHookSwitch (the worker) and tapiq_mem_hookswitch (the console)
 *   racing on the two devices of one console: neither loses the other's
 *   change, and the PHONE_STATE read last says the final mode.
 */
#include <pthread.h>

#include "tq_test.h"

#define ALL_STATES 0x00FFFFFFu
#define LAMPS 4u
#define NONLAMP_TOKENS 16u

#define CONSOLE                                                                              \
    "devices=1,lamps=4,workers=1,display=1x8,ring_modes=2,"                                  \
    "hookswitch=handset+speaker+headset,buttons=call+feature"

/* Read messages of @app until the reply of @id (bounded); returns its status. */
static LONG wait_reply(HPHONEAPP app, LONG id)
{
    PHONEMESSAGE m;
    TQ_CHECKF(TQ_ID_OK(id), "request: %s", tq_err_name(id));
    for (int i = 0; i < 10000; i++) {
        LONG r = phoneGetMessage(app, &m, 5000);
        TQ_CHECKF(r == 0, "no reply for request %d: %s", (int)id, tq_err_name(r));
        if (m.dwMessageID == PHONE_REPLY && (LONG)m.dwParam1 == id)
            return tq_reply_status(&m);
    }
    TQ_FAIL("too many messages before the reply of %d", (int)id);
}

#define DONE(app, call) TQ_EXPECT(wait_reply(app, (call)), 0)

static HPHONEAPP second_app(void)
{
    HPHONEAPP app = 0;
    TQ_EXPECT(tq_init_app(&app, NULL, NULL), 0);
    return app;
}

static void case_room(void)
{
    char cfg[256];
    HPHONEAPP a, b;
    HPHONE mon, mon2, own, other;
    PHONEMESSAGE m;
    DWORD lamps_seen = 0, states_seen = 0, v = 0;
    static const DWORD hs[3] = {PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHDEV_SPEAKER,
                                PHONEHOOKSWITCHDEV_HEADSET};
    const DWORD want = PHONESTATE_DISPLAY | PHONESTATE_RINGMODE | PHONESTATE_RINGVOLUME |
                       PHONESTATE_DEVSPECIFIC | PHONESTATE_HANDSETHOOKSWITCH |
                       PHONESTATE_SPEAKERHOOKSWITCH | PHONESTATE_HEADSETHOOKSWITCH |
                       PHONESTATE_HANDSETVOLUME | PHONESTATE_SPEAKERVOLUME |
                       PHONESTATE_HEADSETVOLUME | PHONESTATE_HANDSETGAIN |
                       PHONESTATE_SPEAKERGAIN | PHONESTATE_HEADSETGAIN | PHONESTATE_OWNER |
                       PHONESTATE_MONITORS;

    /* One event short: the filter does not get its room. */
    snprintf(cfg, sizeof cfg, "%s,events=%u", CONSOLE, LAMPS + NONLAMP_TOKENS - 1);
    a = tq_start(cfg, NULL);
    mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 1);
    TQ_EXPECT(phoneSetStatusMessages(mon, ALL_STATES, 0, 0), PHONEERR_RESOURCEUNAVAIL);
    TQ_EXPECT(phoneShutdown(a), 0);

    /* Exactly the room: the filter fits, and nothing more does. */
    snprintf(cfg, sizeof cfg, "%s,events=%u", CONSOLE, LAMPS + NONLAMP_TOKENS);
    a = tq_start(cfg, NULL);
    mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 1);
    mon2 = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 2);
    TQ_EXPECT(phoneSetStatusMessages(mon, ALL_STATES, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(mon2, PHONESTATE_LAMP, 0, 0), PHONEERR_RESOURCEUNAVAIL);

    /* Another application changes everything, twice over, and @a reads
     * nothing meanwhile. */
    b = second_app();
    own = tq_open(b, 0, PHONEPRIVILEGE_OWNER, 3);
    for (int round = 0; round < 2; round++) {
        DWORD mode = round ? PHONEHOOKSWITCHMODE_MICSPEAKER : PHONEHOOKSWITCHMODE_MIC;
        DONE(b, phoneSetDisplay(own, 0, 0, round ? "Queue 2" : "Queue 1", 7));
        DONE(b, phoneSetRing(own, 1 + (DWORD)round, 0x100 + (DWORD)round));
        DONE(b, phoneSetHookSwitch(own, hs[0] | hs[1] | hs[2], mode));
        for (int i = 0; i < 3; i++) {
            DONE(b, phoneSetVolume(own, hs[i], 0x1000 + (DWORD)round));
            DONE(b, phoneSetGain(own, hs[i], 0x2000 + (DWORD)round));
        }
        DONE(b, phoneDevSpecific(own, "x", 1));
        for (DWORD l = 0; l < LAMPS; l++)
            DONE(b, phoneSetLamp(own, l, round ? PHONELAMPMODE_STEADY : PHONELAMPMODE_FLASH));
    }
    /* The console puts the handset back: it folds into the pending token,
     * which then says ONHOOK. */
    TQ_EXPECT(tapiq_mem_hookswitch(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_ONHOOK), 0);
    other = tq_open(b, 0, PHONEPRIVILEGE_MONITOR, 4); /* MONITORS: 3 */
    TQ_EXPECT(phoneClose(own), 0);                    /* OWNER: 0 */

    while (phoneGetMessage(a, &m, 0) == 0) {
        TQ_CHECKF(m.dwMessageID == PHONE_STATE && m.hDevice == mon, "message %u on %#x",
                  (unsigned)m.dwMessageID, (unsigned)m.hDevice);
        if (m.dwParam1 == PHONESTATE_LAMP) {
            TQ_CHECKF(m.dwParam2 < LAMPS && !(lamps_seen & (1u << m.dwParam2)),
                      "lamp %lu twice or out of range", (unsigned long)m.dwParam2);
            lamps_seen |= 1u << m.dwParam2;
            continue;
        }
        TQ_CHECKF((m.dwParam1 & want) && !(m.dwParam1 & (m.dwParam1 - 1)) &&
                      !(states_seen & m.dwParam1),
                  "PHONE_STATE %#lx unexpected or twice", (unsigned long)m.dwParam1);
        states_seen |= (DWORD)m.dwParam1;
        switch (m.dwParam1) {
        case PHONESTATE_RINGMODE: v = 2; break;
        case PHONESTATE_HANDSETHOOKSWITCH: v = PHONEHOOKSWITCHMODE_ONHOOK; break;
        case PHONESTATE_SPEAKERHOOKSWITCH:
        case PHONESTATE_HEADSETHOOKSWITCH: v = PHONEHOOKSWITCHMODE_MICSPEAKER; break;
        case PHONESTATE_MONITORS: v = 3; break;
        default: v = 0; break; /* OWNER: none left; the others: 0 */
        }
        TQ_CHECKF(m.dwParam2 == v, "PHONE_STATE %#lx dwParam2 %lu, want %u",
                  (unsigned long)m.dwParam1, (unsigned long)m.dwParam2, (unsigned)v);
    }
    TQ_CHECKF(lamps_seen == (1u << LAMPS) - 1, "lamps seen %#x", (unsigned)lamps_seen);
    TQ_CHECKF(states_seen == want, "states seen %#x, want %#x", (unsigned)states_seen,
              (unsigned)want);
    TQ_EXPECT(phoneGetHookSwitch(mon, &v), 0);
    TQ_CHECK(v == (PHONEHOOKSWITCHDEV_SPEAKER | PHONEHOOKSWITCHDEV_HEADSET));
    (void)other;
    TQ_EXPECT(phoneShutdown(b), 0);
    TQ_EXPECT(phoneShutdown(a), 0);
}

static void set_button(HPHONEAPP app, HPHONE h, DWORD id, DWORD mode)
{
    unsigned char buf[sizeof(PHONEBUTTONINFO) + 16];
    PHONEBUTTONINFO *bi = (PHONEBUTTONINFO *)buf;
    memset(buf, 0, sizeof buf);
    bi->dwTotalSize = sizeof buf;
    bi->dwButtonMode = mode;
    bi->dwButtonFunction = PHONEBUTTONFUNCTION_NONE;
    DONE(app, phoneSetButtonInfo(h, id, bi));
}

static void expect_button(HPHONEAPP app, HPHONE h, DWORD id, DWORD mode, DWORD state)
{
    PHONEMESSAGE m;
    TQ_EXPECT(phoneGetMessage(app, &m, 0), 0);
    TQ_CHECKF(m.dwMessageID == PHONE_BUTTON && m.hDevice == h && m.dwParam1 == id &&
                  m.dwParam2 == mode && m.dwParam3 == state,
              "message %u on %#x: %lu %#lx %#lx, want PHONE_BUTTON %u %#x %#x",
              (unsigned)m.dwMessageID, (unsigned)m.hDevice, (unsigned long)m.dwParam1,
              (unsigned long)m.dwParam2, (unsigned long)m.dwParam3, (unsigned)id,
              (unsigned)mode, (unsigned)state);
}

static void expect_none(HPHONEAPP app)
{
    PHONEMESSAGE m;
    LONG r = phoneGetMessage(app, &m, 0);
    TQ_CHECKF(r == (LONG)PHONEERR_OPERATIONFAILED, "unexpected message %u p1 %#lx",
              (unsigned)m.dwMessageID, (unsigned long)m.dwParam1);
}

static void press(DWORD button, int want)
{
    int rc = tapiq_mem_button(0, button, PHONEBUTTONSTATE_DOWN);
    TQ_CHECKF(rc == want, "press %u: %d, want %d", (unsigned)button, rc, want);
    rc = tapiq_mem_button(0, button, PHONEBUTTONSTATE_UP);
    TQ_CHECKF(rc == want, "release %u: %d, want %d", (unsigned)button, rc, want);
}

static void case_button_info(void)
{
    char cfg[256];
    HPHONEAPP a, b;
    HPHONE mon, own;
    const DWORD updown = PHONEBUTTONSTATE_DOWN | PHONEBUTTONSTATE_UP;
    snprintf(cfg, sizeof cfg, "%s", CONSOLE);
    a = tq_start(cfg, NULL);
    b = second_app();
    mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 1);
    own = tq_open(b, 0, PHONEPRIVILEGE_OWNER, 2);
    TQ_EXPECT(phoneSetStatusMessages(mon, 0, PHONEBUTTONMODE_FEATURE, updown), 0);

    press(0, 0); /* a CALL button: not selected */
    expect_none(a);
    press(1, 0);
    expect_button(a, mon, 1, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_DOWN);
    expect_button(a, mon, 1, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_UP);

    /* Button 0 becomes a feature button: its presses now reach the handle,
     * with the new mode. */
    set_button(b, own, 0, PHONEBUTTONMODE_FEATURE);
    press(0, 0);
    expect_button(a, mon, 0, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_DOWN);
    expect_button(a, mon, 0, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_UP);

    /* Held down while it becomes a CALL button: its UP is not selected any
     * more, and its unit goes back (the next presses have their room). */
    TQ_EXPECT(tapiq_mem_button(0, 0, PHONEBUTTONSTATE_DOWN), 0);
    expect_button(a, mon, 0, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_DOWN);
    set_button(b, own, 0, PHONEBUTTONMODE_CALL);
    TQ_EXPECT(tapiq_mem_button(0, 0, PHONEBUTTONSTATE_UP), 0);
    expect_none(a);
    /* The whole room is there: TAPIQ_BUTTON_ROOM / 2 presses fit unread
     * (a DOWN holds two units, its UP none more), the next finds none. */
    for (unsigned i = 0; i < TAPIQ_BUTTON_ROOM / 2; i++)
        press(1, 0);
    press(1, -ENOBUFS);
    TQ_CHECK(tq_stats().button_overruns == 2);
    for (unsigned i = 0; i < TAPIQ_BUTTON_ROOM / 2; i++) {
        expect_button(a, mon, 1, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_DOWN);
        expect_button(a, mon, 1, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_UP);
    }
    expect_none(a);

    /* A dummy position has no button to press. */
    set_button(b, own, 1, PHONEBUTTONMODE_DUMMY);
    press(1, -EINVAL);
    expect_none(a);
    TQ_CHECK(tq_stats().button_overruns == 2);
    TQ_EXPECT(phoneShutdown(b), 0);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* ------------------------------------------------------- hookswitch race */

#define RACE_ROUNDS 400

struct racer {
    HPHONEAPP app;
    HPHONE h;
};

static DWORD race_mode(int i)
{
    return i % 2 ? PHONEHOOKSWITCHMODE_MICSPEAKER : PHONEHOOKSWITCHMODE_ONHOOK;
}

/* The worker's writer: the speaker, through phoneSetHookSwitch. */
static void *setter_thread(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < RACE_ROUNDS; i++)
        DONE(r->app, phoneSetHookSwitch(r->h, PHONEHOOKSWITCHDEV_SPEAKER, race_mode(i)));
    return NULL;
}

/* The console's writer: the handset, through tapiq_mem_hookswitch. */
static void *console_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        int rc = tapiq_mem_hookswitch(0, PHONEHOOKSWITCHDEV_HANDSET, race_mode(i + 1));
        TQ_CHECKF(rc == 0, "tapiq_mem_hookswitch = %d", rc);
    }
    return NULL;
}

static void case_hookswitch_race(void)
{
    HPHONEAPP a, b;
    HPHONE mon;
    struct racer r;
    pthread_t t1, t2;
    PHONEMESSAGE m;
    DWORD last[2] = {0xFFFF, 0xFFFF};
    static PHONESTATUS st[4];
    const DWORD hs_states = PHONESTATE_HANDSETHOOKSWITCH | PHONESTATE_SPEAKERHOOKSWITCH;
    a = tq_start(CONSOLE, NULL);
    b = second_app();
    mon = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 1);
    r.app = b;
    r.h = tq_open(b, 0, PHONEPRIVILEGE_OWNER, 2);
    TQ_EXPECT(phoneSetStatusMessages(mon, hs_states, 0, 0), 0);
    TQ_CHECK(pthread_create(&t1, NULL, setter_thread, &r) == 0);
    TQ_CHECK(pthread_create(&t2, NULL, console_thread, NULL) == 0);
    /* Read while they run: the tokens fold, none is lost. */
    while (pthread_tryjoin_np(t1, NULL) != 0) {
        if (phoneGetMessage(a, &m, 1) == 0) {
            TQ_CHECK(m.dwMessageID == PHONE_STATE && (m.dwParam1 & hs_states));
            last[m.dwParam1 == PHONESTATE_SPEAKERHOOKSWITCH] = (DWORD)m.dwParam2;
        }
    }
    TQ_CHECK(pthread_join(t2, NULL) == 0);
    while (phoneGetMessage(a, &m, 0) == 0) {
        TQ_CHECK(m.dwMessageID == PHONE_STATE && (m.dwParam1 & hs_states));
        last[m.dwParam1 == PHONESTATE_SPEAKERHOOKSWITCH] = (DWORD)m.dwParam2;
    }
    /* Each writer's last mode stands; the last notification read says it. */
    memset(st, 0, sizeof st);
    st[0].dwTotalSize = sizeof st;
    TQ_EXPECT(phoneGetStatus(mon, &st[0]), 0);
    TQ_CHECKF(st[0].dwHandsetHookSwitchMode == race_mode(RACE_ROUNDS) &&
                  st[0].dwSpeakerHookSwitchMode == race_mode(RACE_ROUNDS - 1),
              "handset %#x speaker %#x", (unsigned)st[0].dwHandsetHookSwitchMode,
              (unsigned)st[0].dwSpeakerHookSwitchMode);
    TQ_CHECKF(last[0] == st[0].dwHandsetHookSwitchMode &&
                  last[1] == st[0].dwSpeakerHookSwitchMode,
              "last PHONE_STATE said handset %#x speaker %#x", (unsigned)last[0],
              (unsigned)last[1]);
    TQ_EXPECT(phoneShutdown(b), 0);
    TQ_EXPECT(phoneShutdown(a), 0);
}

int main(void)
{
    case_room();
    case_button_info();
    case_hookswitch_race();
    printf("test_events_setters: ok\n");
    return 0;
}
