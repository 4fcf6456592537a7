/* test_phone_events_race - console events racing phoneOpen / phoneClose /
 * phoneSetStatusMessages (meant for TSan as much as for the plain build).
 *
 * Presser threads press and release buttons and lift and replace the handset
 * of two consoles while the main thread opens, subscribes and closes handles
 * of a callback application and a polled one, and a reader thread takes the
 * polled one's messages. Checked: no message reaches a handle after its
 * phoneClose returned (a callback, or a phoneGetMessage that began after);
 * each handle sees a button's DOWNs and UPs alternate (the first may be an
 * UP: it subscribed between a DOWN and its UP) unless presses overran; every
 * PHONE_BUTTON names a real button with its mode; the hookswitch message says
 * a mode the handset can be in; the counters add up.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tq_test.h"

static const char *const CONFIG =
    "devices=2,lamps=4,workers=2,hookswitch=handset,buttons=call+feature+keypad+local";
static const DWORD g_mode[4] = {PHONEBUTTONMODE_CALL, PHONEBUTTONMODE_FEATURE,
                                PHONEBUTTONMODE_KEYPAD, PHONEBUTTONMODE_LOCAL};

#define MAX_CLOSED 4096
static _Atomic uint32_t g_closed[MAX_CLOSED]; /* handles whose phoneClose returned */
static _Atomic uint32_t g_nclosed;
static _Atomic int g_stop;
static _Atomic uint64_t g_received, g_bad_order, g_enobufs;

/* Per handle slot (low 16 bits of the handle): the handle and, per button,
 * the last state seen. One consumer per application, so one writer each. */
struct seen {
    uint32_t h;
    DWORD last[4];
};
static struct seen g_seen_cb[65536], g_seen_poll[65536];

static int was_closed(uint32_t h, uint32_t upto)
{
    for (uint32_t i = 0; i < upto; i++)
        /* acquire: pairs with the release store after phoneClose returned. */
        if (atomic_load_explicit(&g_closed[i], memory_order_acquire) == h)
            return 1;
    return 0;
}

static void on_event(struct seen *tab, uint32_t h, DWORD msg, DWORD_PTR p1, DWORD_PTR p2,
                     DWORD_PTR p3)
{
    struct seen *s = &tab[h & 0xFFFF];
    atomic_fetch_add_explicit(&g_received, 1, memory_order_relaxed);
    if (msg == PHONE_STATE) {
        TQ_CHECKF(p1 == PHONESTATE_HANDSETHOOKSWITCH &&
                      (p2 == PHONEHOOKSWITCHMODE_ONHOOK || p2 == PHONEHOOKSWITCHMODE_MICSPEAKER),
                  "PHONE_STATE %#lx %#lx", (unsigned long)p1, (unsigned long)p2);
        return;
    }
    TQ_CHECKF(msg == PHONE_BUTTON && p1 < 4 && p2 == g_mode[p1] &&
                  (p3 == PHONEBUTTONSTATE_DOWN || p3 == PHONEBUTTONSTATE_UP),
              "message %u p1 %#lx p2 %#lx p3 %#lx", (unsigned)msg, (unsigned long)p1,
              (unsigned long)p2, (unsigned long)p3);
    if (s->h != h) {
        memset(s, 0, sizeof *s);
        s->h = h;
    }
    if (s->last[p1] == p3)
        atomic_fetch_add_explicit(&g_bad_order, 1, memory_order_relaxed);
    s->last[p1] = (DWORD)p3;
}

static void on_cb(DWORD h, DWORD msg, DWORD_PTR inst, DWORD_PTR p1, DWORD_PTR p2, DWORD_PTR p3)
{
    (void)inst;
    TQ_CHECKF(!was_closed(h, atomic_load_explicit(&g_nclosed, memory_order_acquire)),
              "callback for handle %#x after its phoneClose returned", (unsigned)h);
    on_event(g_seen_cb, h, msg, p1, p2, p3);
}

static void *reader_main(void *arg)
{
    HPHONEAPP app = *(HPHONEAPP *)arg;
    for (;;) {
        PHONEMESSAGE m;
        /* acquire: pairs with the release increment after a close. */
        uint32_t upto = atomic_load_explicit(&g_nclosed, memory_order_acquire);
        LONG r = phoneGetMessage(app, &m, 20);
        if (r == (LONG)PHONEERR_INVALAPPHANDLE)
            break;
        if (r != 0)
            continue;
        TQ_CHECKF(!was_closed((uint32_t)m.hDevice, upto),
                  "phoneGetMessage gave handle %#x, closed before the call began",
                  (unsigned)m.hDevice);
        on_event(g_seen_poll, (uint32_t)m.hDevice, m.dwMessageID, m.dwParam1, m.dwParam2,
                 m.dwParam3);
    }
    return NULL;
}

static void *presser_main(void *arg)
{
    uint32_t dev = (uint32_t)(uintptr_t)arg;
    uint64_t rnd = dev + 1;
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        uint32_t b = (uint32_t)(tq_rand(&rnd) % 4);
        for (int k = 0; k < 2; k++) {
            int rc = tapiq_mem_button(dev, b, k ? PHONEBUTTONSTATE_UP : PHONEBUTTONSTATE_DOWN);
            TQ_CHECKF(rc == 0 || rc == -ENOBUFS, "tapiq_mem_button = %d", rc);
            if (rc)
                atomic_fetch_add_explicit(&g_enobufs, 1, memory_order_relaxed);
        }
        if (tq_rand(&rnd) % 8 == 0)
            TQ_CHECK(tapiq_mem_hookswitch(dev, PHONEHOOKSWITCHDEV_HANDSET,
                                          tq_rand(&rnd) % 2 ? PHONEHOOKSWITCHMODE_ONHOOK
                                                            : PHONEHOOKSWITCHMODE_MICSPEAKER) ==
                     0);
        tq_sleep_us(20);
    }
    return NULL;
}

int main(void)
{
    PHONEINITIALIZEEXPARAMS p;
    HPHONEAPP cb = 0, poll_app = 0;
    DWORD n = 0, ver = TQ_API;
    pthread_t pressers[2], reader;
    unsigned long rounds = 1500 / tq_scale();
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    TQ_CHECK(tapiq_configure(CONFIG) == 0);
    TQ_EXPECT(phoneInitializeEx(&cb, NULL, on_cb, "cb", &n, &ver, &p), 0);
    TQ_EXPECT(tq_init_app(&poll_app, NULL, NULL), 0);
    TQ_CHECK(pthread_create(&reader, NULL, reader_main, &poll_app) == 0);
    for (uintptr_t d = 0; d < 2; d++)
        TQ_CHECK(pthread_create(&pressers[d], NULL, presser_main, (void *)d) == 0);

    HPHONE open_h[8] = {0};
    uint64_t rnd = 42;
    for (unsigned long i = 0; i < rounds && i < MAX_CLOSED; i++) {
        int slot = (int)(tq_rand(&rnd) % 8);
        if (open_h[slot]) {
            TQ_EXPECT(phoneClose(open_h[slot]), 0);
            uint32_t k = atomic_load_explicit(&g_nclosed, memory_order_relaxed);
            /* release (both): the handle is listed before the count says so. */
            atomic_store_explicit(&g_closed[k], open_h[slot], memory_order_release);
            atomic_store_explicit(&g_nclosed, k + 1, memory_order_release);
            open_h[slot] = 0;
        } else {
            HPHONEAPP app = slot % 2 ? cb : poll_app;
            open_h[slot] = tq_open(app, (DWORD)(slot / 2) % 2, PHONEPRIVILEGE_MONITOR, 0);
            DWORD modes = tq_rand(&rnd) % 2 ? 0x3F : PHONEBUTTONMODE_CALL | PHONEBUTTONMODE_LOCAL;
            TQ_EXPECT(phoneSetStatusMessages(open_h[slot], PHONESTATE_HANDSETHOOKSWITCH, modes,
                                             PHONEBUTTONSTATE_DOWN | PHONEBUTTONSTATE_UP),
                      0);
        }
        tq_sleep_us((unsigned)(tq_rand(&rnd) % 200));
    }
    atomic_store_explicit(&g_stop, 1, memory_order_relaxed);
    for (int d = 0; d < 2; d++)
        pthread_join(pressers[d], NULL);
    tq_sleep_us(50000);
    tapiq_stats s = tq_stats();
    TQ_EXPECT(phoneShutdown(cb), 0);
    TQ_EXPECT(phoneShutdown(poll_app), 0);
    pthread_join(reader, NULL);

    uint64_t got = atomic_load_explicit(&g_received, memory_order_relaxed);
    uint64_t bad = atomic_load_explicit(&g_bad_order, memory_order_relaxed);
    uint64_t enobufs = atomic_load_explicit(&g_enobufs, memory_order_relaxed);
    printf("test_phone_events_race: %" PRIu64 " messages, %" PRIu64 " button events posted, %"
           PRIu64 " overruns, %" PRIu64 " calls with -ENOBUFS, %" PRIu64 " out of order\n",
           got, s.button_events, s.button_overruns, enobufs, bad);
    TQ_CHECK(got > 0);
    TQ_CHECK(got <= s.button_events + s.state_events);
    TQ_CHECKF((s.button_overruns == 0) == (enobufs == 0), "overruns %" PRIu64 ", -ENOBUFS %" PRIu64,
              s.button_overruns, enobufs);
    TQ_CHECKF(bad == 0 || s.button_overruns > 0, "%" PRIu64 " events out of order", bad);
    printf("test_phone_events_race: ok\n");
    return 0;
}
