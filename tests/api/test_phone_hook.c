/* test_phone_hook - inbound hookswitch changes, PHONE_STATE OWNER/MONITORS,
 * and console events through every delivery mode.
 *
 * tapiq_mem_hookswitch (the mem backend's operator lifting or replacing a
 * handset) changes the device's state, so phoneGetHookSwitch and
 * phoneGetStatus agree with it, and sends PHONE_STATE HANDSETHOOKSWITCH /
 * SPEAKERHOOKSWITCH / HEADSETHOOKSWITCH (dwParam2: the hookswitch device's
 * mode) to the handles whose filter has it; repeating the mode is no
 * change; notifications coalesce and the last one read agrees with the
 * state. phoneOpen / phoneClose / phoneShutdown of a handle send
 * PHONE_STATE OWNER or MONITORS (dwParam2: the new count) to the device's
 * other handles that asked for it. PHONE_BUTTON and PHONE_STATE reach a
 * callback application, and nothing reaches a handle after its phoneClose
 * returned.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tq_test.h"

static const char *const CONFIG =
    "devices=2,lamps=4,workers=2,hookswitch=handset+speaker,buttons=call+feature";

static void expect_state(HPHONEAPP app, HPHONE h, DWORD state, DWORD p2)
{
    PHONEMESSAGE m;
    LONG r = phoneGetMessage(app, &m, 0);
    TQ_CHECKF(r == 0, "no message, want PHONE_STATE %#x", (unsigned)state);
    TQ_CHECKF(m.dwMessageID == PHONE_STATE && m.hDevice == h && m.dwParam1 == state &&
                  m.dwParam2 == p2 && m.dwParam3 == 0,
              "message %u on %#x p1 %#lx p2 %#lx, want PHONE_STATE on %#x %#x %#x",
              (unsigned)m.dwMessageID, (unsigned)m.hDevice, (unsigned long)m.dwParam1,
              (unsigned long)m.dwParam2, (unsigned)h, (unsigned)state, (unsigned)p2);
}

static void expect_none(HPHONEAPP app)
{
    PHONEMESSAGE m;
    LONG r = phoneGetMessage(app, &m, 0);
    TQ_CHECKF(r == (LONG)PHONEERR_OPERATIONFAILED, "unexpected message %u p1 %#lx p2 %#lx",
              (unsigned)m.dwMessageID, (unsigned long)m.dwParam1, (unsigned long)m.dwParam2);
}

static void hook(DWORD dev, DWORD hs, DWORD mode, int want)
{
    int rc = tapiq_mem_hookswitch(dev, hs, mode);
    TQ_CHECKF(rc == want, "tapiq_mem_hookswitch(%u, %#x, %#x) = %d, want %d", (unsigned)dev,
              (unsigned)hs, (unsigned)mode, rc, want);
}

static void expect_hook(HPHONE h, DWORD offhook, DWORD handset, DWORD speaker)
{
    static PHONESTATUS st[4]; /* room for the variable part */
    DWORD d = 0xFFFF;
    TQ_EXPECT(phoneGetHookSwitch(h, &d), 0);
    TQ_CHECKF(d == offhook, "phoneGetHookSwitch %#x, want %#x", (unsigned)d, (unsigned)offhook);
    memset(st, 0, sizeof st);
    st[0].dwTotalSize = sizeof st;
    TQ_EXPECT(phoneGetStatus(h, &st[0]), 0);
    TQ_CHECKF(st[0].dwHandsetHookSwitchMode == handset &&
                  st[0].dwSpeakerHookSwitchMode == speaker && st[0].dwHeadsetHookSwitchMode == 0,
              "PHONESTATUS modes %#x %#x %#x", (unsigned)st[0].dwHandsetHookSwitchMode,
              (unsigned)st[0].dwSpeakerHookSwitchMode, (unsigned)st[0].dwHeadsetHookSwitchMode);
}

static void case_hookswitch(void)
{
    HPHONEAPP a = tq_start(CONFIG, NULL);
    HPHONE h = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE speaker_only = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 2);
    HPHONE other_dev = tq_open(a, 1, PHONEPRIVILEGE_MONITOR, 3);
    const DWORD hs_states = PHONESTATE_HANDSETHOOKSWITCH | PHONESTATE_SPEAKERHOOKSWITCH |
                            PHONESTATE_HEADSETHOOKSWITCH;
    TQ_EXPECT(phoneSetStatusMessages(h, hs_states, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(speaker_only, PHONESTATE_SPEAKERHOOKSWITCH, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(other_dev, hs_states, 0, 0), 0);
    expect_hook(h, 0, PHONEHOOKSWITCHMODE_ONHOOK, PHONEHOOKSWITCHMODE_ONHOOK);

    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MICSPEAKER, 0); /* lifted */
    expect_hook(h, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MICSPEAKER,
                PHONEHOOKSWITCHMODE_ONHOOK);
    expect_hook(speaker_only, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MICSPEAKER,
                PHONEHOOKSWITCHMODE_ONHOOK);
    expect_state(a, h, PHONESTATE_HANDSETHOOKSWITCH, PHONEHOOKSWITCHMODE_MICSPEAKER);
    expect_none(a);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MICSPEAKER, 0); /* no change */
    expect_none(a);

    hook(0, PHONEHOOKSWITCHDEV_SPEAKER, PHONEHOOKSWITCHMODE_SPEAKER, 0);
    expect_hook(h, PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_SPEAKER,
                PHONEHOOKSWITCHMODE_MICSPEAKER, PHONEHOOKSWITCHMODE_SPEAKER);
    expect_state(a, h, PHONESTATE_SPEAKERHOOKSWITCH, PHONEHOOKSWITCHMODE_SPEAKER);
    expect_state(a, speaker_only, PHONESTATE_SPEAKERHOOKSWITCH, PHONEHOOKSWITCHMODE_SPEAKER);
    expect_none(a);

    /* Changes while one waits fold into it; it says the mode when read. */
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC, 0);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_SPEAKER, 0);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_ONHOOK, 0); /* replaced */
    expect_state(a, h, PHONESTATE_HANDSETHOOKSWITCH, PHONEHOOKSWITCHMODE_ONHOOK);
    expect_none(a);
    expect_hook(h, PHONEHOOKSWITCHDEV_SPEAKER, PHONEHOOKSWITCHMODE_ONHOOK,
                PHONEHOOKSWITCHMODE_SPEAKER);
    tapiq_stats s = tq_stats();
    TQ_CHECK(s.state_coalesced >= 2);

    /* Bad arguments change nothing and send nothing. */
    hook(0, PHONEHOOKSWITCHDEV_HEADSET, PHONEHOOKSWITCHMODE_MIC, -EINVAL); /* not there */
    hook(0, 0, PHONEHOOKSWITCHMODE_MIC, -EINVAL);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_SPEAKER, PHONEHOOKSWITCHMODE_MIC,
         -EINVAL);
    hook(0, 0x8, PHONEHOOKSWITCHMODE_MIC, -EINVAL);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, 0, -EINVAL);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_UNKNOWN, -EINVAL);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC | PHONEHOOKSWITCHMODE_SPEAKER,
         -EINVAL);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, 0x20, -EINVAL);
    hook(2, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC, -EINVAL); /* no device 2 */
    expect_none(a);
    expect_hook(h, PHONEHOOKSWITCHDEV_SPEAKER, PHONEHOOKSWITCHMODE_ONHOOK,
                PHONEHOOKSWITCHMODE_SPEAKER);
    TQ_EXPECT(phoneShutdown(a), 0);
    hook(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC, -ENODEV);
}

static void case_owner_monitors(void)
{
    HPHONEAPP a = tq_start(CONFIG, NULL), b = 0;
    TQ_EXPECT(tq_init_app(&b, NULL, NULL), 0);
    HPHONE watch = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 1); /* monitors: 1 */
    HPHONE deaf = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 2);  /* 2, asks for nothing */
    HPHONE lamps = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 3); /* 3, asks for lamps */
    (void)deaf;
    TQ_EXPECT(phoneSetStatusMessages(watch, PHONESTATE_OWNER | PHONESTATE_MONITORS, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(lamps, PHONESTATE_LAMP, 0, 0), 0);
    expect_none(a);

    HPHONE o1 = tq_open(b, 0, PHONEPRIVILEGE_OWNER, 4);
    expect_state(a, watch, PHONESTATE_OWNER, 1);
    expect_none(a);
    HPHONE m1 = tq_open(b, 0, PHONEPRIVILEGE_MONITOR, 5);
    expect_state(a, watch, PHONESTATE_MONITORS, 4);
    tq_open(b, 1, PHONEPRIVILEGE_OWNER, 6); /* another device: nothing */
    expect_none(a);
    TQ_EXPECT(phoneClose(m1), 0);
    expect_state(a, watch, PHONESTATE_MONITORS, 3);
    /* Two changes before the application reads: one message, the count now. */
    HPHONE o2 = tq_open(b, 0, PHONEPRIVILEGE_OWNER, 7);
    (void)o2;
    TQ_EXPECT(phoneClose(o1), 0);
    expect_state(a, watch, PHONESTATE_OWNER, 1);
    expect_none(a);
    /* phoneShutdown closes b's handles: the owner leaves. */
    TQ_EXPECT(phoneShutdown(b), 0);
    expect_state(a, watch, PHONESTATE_OWNER, 0);
    expect_none(a);
    /* The handle that watches gets nothing about its own close; the others
     * asked for nothing about it. */
    TQ_EXPECT(phoneClose(watch), 0);
    expect_none(a);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* ------------------------------------------------------------ callbacks */

#define CB_MAX 4096
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static PHONEMESSAGE g_cb[CB_MAX];
static size_t g_ncb;
#define NCLOSED 50
static _Atomic uint32_t g_closed[NCLOSED]; /* handles whose phoneClose returned */
static _Atomic int g_after_close;

static void on_msg(DWORD h, DWORD msg, DWORD_PTR inst, DWORD_PTR p1, DWORD_PTR p2,
                            DWORD_PTR p3)
{
    for (int i = 0; i < NCLOSED; i++)
        /* acquire: pairs with the release store after phoneClose returned. */
        if (h == atomic_load_explicit(&g_closed[i], memory_order_acquire))
            atomic_store_explicit(&g_after_close, 1, memory_order_relaxed);
    pthread_mutex_lock(&g_mu);
    if (g_ncb < CB_MAX) {
        PHONEMESSAGE *m = &g_cb[g_ncb++];
        m->hDevice = h, m->dwMessageID = msg, m->dwCallbackInstance = inst;
        m->dwParam1 = p1, m->dwParam2 = p2, m->dwParam3 = p3;
    }
    pthread_mutex_unlock(&g_mu);
}

static size_t cb_wait(size_t n)
{
    size_t got = 0;
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&g_mu);
        got = g_ncb;
        pthread_mutex_unlock(&g_mu);
        if (got >= n)
            break;
        tq_sleep_us(1000);
    }
    return got;
}

static void case_callback(void)
{
    PHONEINITIALIZEEXPARAMS p;
    HPHONEAPP app = 0;
    DWORD n = 0, ver = TQ_API;
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    TQ_CHECK(tapiq_configure(CONFIG) == 0);
    TQ_EXPECT(phoneInitializeEx(&app, NULL, on_msg, "cb", &n, &ver, &p), 0);
    HPHONE h = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 0xCB);
    TQ_EXPECT(phoneSetStatusMessages(h, PHONESTATE_HANDSETHOOKSWITCH, PHONEBUTTONMODE_FEATURE,
                                     PHONEBUTTONSTATE_DOWN | PHONEBUTTONSTATE_UP), 0);
    TQ_CHECK(tapiq_mem_button(1, 1, PHONEBUTTONSTATE_DOWN) == 0);
    TQ_CHECK(tapiq_mem_button(1, 0, PHONEBUTTONSTATE_DOWN) == 0); /* a call button */
    TQ_CHECK(tapiq_mem_button(1, 1, PHONEBUTTONSTATE_UP) == 0);
    hook(1, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC, 0);
    TQ_CHECK(cb_wait(3) == 3);
    tq_sleep_us(20000);
    pthread_mutex_lock(&g_mu);
    TQ_CHECKF(g_ncb == 3, "%zu callbacks", g_ncb);
    TQ_CHECK(g_cb[0].dwMessageID == PHONE_BUTTON && g_cb[0].hDevice == h &&
             g_cb[0].dwCallbackInstance == 0xCB && g_cb[0].dwParam1 == 1 &&
             g_cb[0].dwParam2 == PHONEBUTTONMODE_FEATURE &&
             g_cb[0].dwParam3 == PHONEBUTTONSTATE_DOWN);
    TQ_CHECK(g_cb[1].dwMessageID == PHONE_BUTTON && g_cb[1].dwParam1 == 1 &&
             g_cb[1].dwParam3 == PHONEBUTTONSTATE_UP);
    TQ_CHECK(g_cb[2].dwMessageID == PHONE_STATE &&
             g_cb[2].dwParam1 == PHONESTATE_HANDSETHOOKSWITCH &&
             g_cb[2].dwParam2 == PHONEHOOKSWITCHMODE_MIC);
    g_ncb = 0;
    pthread_mutex_unlock(&g_mu);

    /* Events queued for a handle that closes before they are delivered are
     * never delivered after phoneClose returned. (h stops listening: it
     * would fill its room faster than the callback thread takes it.) */
    TQ_EXPECT(phoneSetStatusMessages(h, 0, 0, 0), 0);
    for (int round = 0; round < NCLOSED; round++) {
        HPHONE x = tq_open(app, 1, PHONEPRIVILEGE_MONITOR, 0xC0 + (DWORD_PTR)round);
        TQ_EXPECT(phoneSetStatusMessages(x, 0, 0x3F, 0x0F), 0);
        for (int i = 0; i < 8; i++) {
            int rc = tapiq_mem_button(1, 1, i % 2 ? PHONEBUTTONSTATE_UP : PHONEBUTTONSTATE_DOWN);
            TQ_CHECKF(rc == 0, "round %d press %d: %d", round, i, rc);
        }
        TQ_EXPECT(phoneClose(x), 0);
        /* release: pairs with the acquire in the callback. */
        atomic_store_explicit(&g_closed[round], x, memory_order_release);
        TQ_CHECK(tapiq_mem_button(1, 1, PHONEBUTTONSTATE_DOWN) == 0);
        TQ_CHECK(tapiq_mem_button(1, 1, PHONEBUTTONSTATE_UP) == 0);
    }
    tq_sleep_us(20000);
    TQ_CHECK(!atomic_load_explicit(&g_after_close, memory_order_relaxed));
    TQ_EXPECT(phoneShutdown(app), 0);
}

int main(void)
{
    case_hookswitch();
    case_owner_monitors();
    case_callback();
    printf("test_phone_hook: ok\n");
    return 0;
}
