/* fuzz/fuzz_api_events.c - the console events of fuzz_api's model:
 * PHONE_BUTTON from tapiq_mem_button (the operator), checked against the
 * contract of <tapiq/tapiq.h> (tapiq_host_button).
 *
 * Some configurations give the consoles buttons (position 0 a CALL button,
 * 1 a FEATURE button; a console with one lamp: a FEATURE button at 0; the
 * other positions are lamps without a button). op_press presses or releases
 * one, or passes a bad argument. The model follows each handle's button room
 * as the library does (units: events in its queue, plus one per button
 * whose DOWN it got and whose UP has not come) and predicts, for handles of
 * polled applications (whose queues only this thread reads): exactly which
 * PHONE_BUTTON each one gets, in order (a FIFO per handle, compared as they
 * are read), and which press finds no room (-ENOBUFS, button_overruns).
 * A callback application's queue is read by its own thread: its handles'
 * room is unknown, so a press that selects one may or may not overrun, and
 * its messages are only checked to be valid and selected by a filter the
 * handle had. At a quiescent point every predicted message was read.
 *
 * The same configurations give the consoles a handset (hookswitch=handset).
 * op_hook lifts or replaces it (tapiq_mem_hookswitch) or passes a bad
 * argument: phoneGetHookSwitch follows; a polled handle whose filter had
 * PHONESTATE_HANDSETHOOKSWITCH at a change reads a PHONE_STATE for it before
 * the next quiescent point, and each one it reads says the mode then.
 * PHONE_STATE OWNER / MONITORS (phoneOpen / phoneClose of another handle)
 * read by a polled application say the count then.
 */
#include <errno.h>
#include <stdio.h>

#include "fuzz/fuzz_api.h"

/* The configuration text for the buttons of @c (appended to @text). */
int buttons_text(const struct m_cfg *c, char *text, size_t len)
{
    if (!c->buttons)
        return 0;
    return snprintf(text, len, c->lamps == 1 ? ",buttons=feature,hookswitch=handset"
                                             : ",buttons=call+feature,hookswitch=handset");
}

/* Which configurations have buttons: b1 >= 192 (an input byte's top
 * quarter, so the other configurations are as they were). */
int buttons_config(uint8_t b1, struct m_cfg *c, char *text, size_t len)
{
    c->buttons = b1 >= 192 && c->lamps > 0;
    return buttons_text(c, text, len);
}

/* PHONECAPS / PHONESTATUS dwPhoneFeatures of the running consoles. */
uint32_t model_features(void)
{
    uint32_t f = M.rc.lamps ? LAMP_FEATURES : 0u;
    if (M.rc.buttons) /* and the setters of what they have */
        f |= PHONEFEATURE_GETHOOKSWITCHHANDSET | PHONEFEATURE_GETVOLUMEHANDSET |
             PHONEFEATURE_GETGAINHANDSET | PHONEFEATURE_SETHOOKSWITCHHANDSET |
             PHONEFEATURE_SETVOLUMEHANDSET | PHONEFEATURE_SETGAINHANDSET |
             PHONEFEATURE_SETBUTTONINFO;
    return f;
}

/* The PHONEBUTTONMODE_* of position @b of the running consoles; 0 when it
 * has no button. */
static uint32_t button_mode(uint32_t b)
{
    if (!M.rc.buttons || b >= M.rc.lamps || b > 1)
        return 0;
    if (M.rc.lamps == 1)
        return PHONEBUTTONMODE_FEATURE;
    return b == 0 ? PHONEBUTTONMODE_CALL : PHONEBUTTONMODE_FEATURE;
}

static int button_selects(const struct m_handle *hm, uint32_t mode, uint32_t state)
{
    return (hm->bmodes & mode) && (hm->bstates & state) && M.rc.lamps;
}

static void bq_push(struct m_handle *hm, uint32_t button, uint32_t state)
{
    FUZZ_CHECK((uint32_t)hm->bt.n < TAPIQ_BUTTON_ROOM, "model: more than the room queued");
    hm->bt.q[(hm->bt.head + hm->bt.n++) % TAPIQ_BUTTON_ROOM] = (uint16_t)(button << 8 | state);
}

/* A handle closed: what it had queued is never delivered. */
void buttons_on_close(struct m_handle *hm)
{
    hm->bt.n = 0;
}

/* A PHONE_BUTTON read (or delivered to a callback). */
void on_button(struct m_handle *hm, const PHONEMESSAGE *m, int from_cb)
{
    uint32_t b = (uint32_t)m->dwParam1, state = (uint32_t)m->dwParam3;
    FUZZ_CHECK(button_mode(b) != 0 && m->dwParam2 == button_mode(b),
               "PHONE_BUTTON for position %u with mode %#lx (its mode %#x)", b,
               (unsigned long)m->dwParam2, button_mode(b));
    FUZZ_CHECK(state == PHONEBUTTONSTATE_DOWN || state == PHONEBUTTONSTATE_UP,
               "PHONE_BUTTON state %#x", state);
    FUZZ_CHECK((hm->bt.ever_modes & m->dwParam2) && (hm->bt.ever_states & state),
               "PHONE_BUTTON for handle %#x whose filter never selected it", m->hDevice);
    if (from_cb || M.apps[hm->app].kind == K_CB)
        return;
    FUZZ_CHECK(hm->bt.n > 0, "PHONE_BUTTON %u/%#x for handle %#x, none expected", b, state,
               m->hDevice);
    {
        uint16_t want = hm->bt.q[hm->bt.head];
        FUZZ_CHECK(want == (uint16_t)(b << 8 | state),
                   "PHONE_BUTTON %u/%#x for handle %#x, expected %u/%#x next", b, state,
                   m->hDevice, want >> 8, want & 0xFFu);
    }
    hm->bt.head = (hm->bt.head + 1) % TAPIQ_BUTTON_ROOM;
    hm->bt.n--;
    hm->bt.units--;
}

/* The filter of @hm became @bm / @bs (phoneSetStatusMessages succeeded). */
void buttons_on_filter(struct m_handle *hm, uint32_t bm, uint32_t bs)
{
    if (bm && bs && M.rc.lamps) {
        hm->bt.ever_modes |= bm;
        hm->bt.ever_states |= bs;
        if (M.apps[hm->app].kind == K_CB)
            M.cb_buttons = 1;
    }
}

/* What the library does for a polled handle: 1 posted, 0 not selected, -1
 * no room. */
static int model_press(struct m_handle *hm, uint32_t b, uint32_t mode, uint32_t state)
{
    uint32_t bit = 1u << b;
    int sel = button_selects(hm, mode, state);
    if (state == PHONEBUTTONSTATE_DOWN) {
        if (!sel)
            return 0;
        if (hm->bt.units + 2 > TAPIQ_BUTTON_ROOM)
            return -1;
        hm->bt.units += (hm->bt.down & bit) ? 1 : 2;
        hm->bt.down |= bit;
    } else {
        int held = (hm->bt.down & bit) != 0;
        hm->bt.down &= ~bit;
        if (!sel) {
            hm->bt.units -= held ? 1 : 0;
            return 0;
        }
        if (!held) {
            if (hm->bt.units + 1 > TAPIQ_BUTTON_ROOM)
                return -1;
            hm->bt.units++;
        }
    }
    bq_push(hm, b, state);
    return 1;
}

void op_press(struct fuzz_in *in)
{
    static const uint32_t state_tab[] = {PHONEBUTTONSTATE_DOWN, PHONEBUTTONSTATE_UP,
                                         PHONEBUTTONSTATE_DOWN, PHONEBUTTONSTATE_UP,
                                         PHONEBUTTONSTATE_UP,   PHONEBUTTONSTATE_DOWN,
                                         PHONEBUTTONSTATE_UNKNOWN, 0};
    uint8_t x = fuzz_u8(in);
    uint32_t dev = x & 0x80 ? 4 + (x & 1) : x & 3;
    uint32_t b = (x & 0x40 ? M.rc.lamps : 0) + (x >> 2 & 1);
    uint32_t state = state_tab[x >> 3 & 7];
    uint32_t mode = M.rt_live && dev < M.rc.devices ? button_mode(b) : 0;
    int want, rc, missed = 0, maybe = 0;
    if (!M.rt_live)
        want = -ENODEV;
    else if (!mode || (state != PHONEBUTTONSTATE_DOWN && state != PHONEBUTTONSTATE_UP))
        want = -EINVAL;
    else
        want = 0;
    if (want == 0) {
        for (int i = 0; i < M.nhs; i++) {
            struct m_handle *hm = &M.hs[i];
            if (!hm->open || hm->dev != dev)
                continue;
            if (M.apps[hm->app].kind == K_CB)
                maybe |= button_selects(hm, mode, state);
            else if (model_press(hm, b, mode, state) < 0)
                missed++;
        }
    }
    rc = tapiq_mem_button(dev, b, state);
    TRACE("  tapiq_mem_button(%u, %u, %#x) = %d (missed %d%s)\n", dev, b, state, rc, missed,
          maybe ? ", maybe more" : "");
    if (want == 0 && (missed || maybe)) {
        FUZZ_CHECK(rc == -ENOBUFS || (!missed && rc == 0),
                   "tapiq_mem_button = %d, %d polled handles had no room", rc, missed);
        M.overruns += (uint64_t)missed;
    } else {
        FUZZ_CHECK(rc == want, "tapiq_mem_button(%u, %u, %#x) = %d, want %d", dev, b, state, rc,
                   want);
    }
}

/* ------------------------------------------------------------- handset */

static void on_hook_state(struct m_handle *hm, const PHONEMESSAGE *m, int from_cb)
{
    const uint32_t modes = PHONEHOOKSWITCHMODE_ONHOOK | PHONEHOOKSWITCHMODE_MIC |
                           PHONEHOOKSWITCHMODE_SPEAKER | PHONEHOOKSWITCHMODE_MICSPEAKER;
    FUZZ_CHECK(M.rc.buttons, "PHONE_STATE HANDSETHOOKSWITCH without a handset");
    FUZZ_CHECK(hm->ever_states & PHONESTATE_HANDSETHOOKSWITCH,
               "PHONE_STATE HANDSETHOOKSWITCH for handle %#x that never asked for it",
               m->hDevice);
    FUZZ_CHECK(m->dwParam2 && !(m->dwParam2 & (m->dwParam2 - 1)) && (m->dwParam2 & modes),
               "PHONE_STATE HANDSETHOOKSWITCH mode %#lx", (unsigned long)m->dwParam2);
    if (from_cb || M.apps[hm->app].kind == K_CB)
        return;
    FUZZ_CHECK(m->dwParam2 == M.hook[hm->dev] ||
                   (M.hook_alt[hm->dev] && m->dwParam2 == M.hook_alt[hm->dev]),
               "PHONE_STATE HANDSETHOOKSWITCH says %#lx, the handset of console %u is in %#x "
               "(or %#x)", (unsigned long)m->dwParam2, hm->dev, M.hook[hm->dev],
               M.hook_alt[hm->dev]);
    hm->hook_owed = 0;
}

/* phoneGetHookSwitch's answer for a handset in @mode. */
DWORD hook_offhook(uint32_t mode)
{
    return mode == PHONEHOOKSWITCHMODE_ONHOOK ? 0u : PHONEHOOKSWITCHDEV_HANDSET;
}

void op_hook(struct fuzz_in *in)
{
    static const uint32_t mode_tab[] = {PHONEHOOKSWITCHMODE_ONHOOK, PHONEHOOKSWITCHMODE_MIC,
                                        PHONEHOOKSWITCHMODE_SPEAKER, PHONEHOOKSWITCHMODE_MICSPEAKER,
                                        PHONEHOOKSWITCHMODE_ONHOOK, PHONEHOOKSWITCHMODE_MICSPEAKER,
                                        PHONEHOOKSWITCHMODE_UNKNOWN, 0};
    uint8_t x = fuzz_u8(in);
    uint32_t dev = x & 0x80 ? 4 + (x & 1) : x & 3;
    uint32_t hs = x & 0x40 ? (x & 4 ? PHONEHOOKSWITCHDEV_SPEAKER
                                    : PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET)
                           : PHONEHOOKSWITCHDEV_HANDSET;
    uint32_t mode = mode_tab[x >> 3 & 7];
    int want, rc, flying;
    if (!M.rt_live)
        want = -ENODEV;
    else if (dev >= M.rc.devices || !M.rc.buttons || hs != PHONEHOOKSWITCHDEV_HANDSET || !mode ||
             mode == PHONEHOOKSWITCHMODE_UNKNOWN)
        want = -EINVAL;
    else
        want = 0;
    rc = tapiq_mem_hookswitch(dev, hs, mode);
    TRACE("  tapiq_mem_hookswitch(%u, %#x, %#x) = %d\n", dev, hs, mode, rc);
    FUZZ_CHECK(rc == want, "tapiq_mem_hookswitch(%u, %#x, %#x) = %d, want %d", dev, hs, mode, rc,
               want);
    if (rc != 0)
        return;
    /* A phoneSetHookSwitch may have left the handset in hook_alt instead:
     * a change only when the mode differs from both. */
    if (mode != M.hook[dev] && mode != M.hook_alt[dev]) {
        for (int i = 0; i < M.nhs; i++)
            if (M.hs[i].open && M.hs[i].dev == dev &&
                (M.hs[i].states & PHONESTATE_HANDSETHOOKSWITCH))
                M.hs[i].hook_owed = 1;
    }
    M.hook[dev] = mode;
    /* With no phoneSetHookSwitch of the console left to apply, this is the
     * mode now; one still to apply may leave its own after it. */
    flying = attr_hook_in_flight(dev);
    if (!flying)
        M.hook_alt[dev] = 0;
    for (int i = 0; i < M.nhs; i++) {
        DWORD offhook = 0xFF;
        if (!M.hs[i].open || M.hs[i].dev != dev)
            continue;
        FUZZ_CHECK(phoneGetHookSwitch(M.hs[i].h, &offhook) == 0 &&
                       (offhook == hook_offhook(mode) ||
                        (M.hook_alt[dev] && offhook == hook_offhook(M.hook_alt[dev]))),
                   "phoneGetHookSwitch %#x after the handset went to %#x", offhook, mode);
        break;
    }
}

/* At a quiescent point (polled applications drained): every predicted
 * PHONE_BUTTON was read; the counters agree. */
void buttons_settle(const tapiq_stats *s)
{
    for (int i = 0; i < M.nhs; i++) {
        struct m_handle *hm = &M.hs[i];
        if (hm->open && M.apps[hm->app].kind != K_CB) {
            FUZZ_CHECK(hm->bt.n == 0 && hm->bt.units == (uint32_t)__builtin_popcount(hm->bt.down),
                       "handle %#x: %d PHONE_BUTTON never came (%u units, down %#x)", hm->h,
                       hm->bt.n, hm->bt.units, hm->bt.down);
            FUZZ_CHECK(!hm->hook_owed, "handle %#x: no PHONE_STATE for the handset's change",
                       hm->h);
        }
    }
    FUZZ_CHECK(M.cb_buttons ? s->button_overruns >= M.overruns : s->button_overruns == M.overruns,
               "stats: button_overruns %llu, model %llu", (unsigned long long)s->button_overruns,
               (unsigned long long)M.overruns);
}

/* A PHONE_STATE other than LAMP: HANDSETHOOKSWITCH, OWNER / MONITORS
 * (another handle of the device opened or closed; dwParam2 the count when
 * it was read), or a state a setter changed (attr_state_ok()).
 * CONNECTED / DISCONNECTED are not modelled: the fuzzer never changes a
 * device's connection. */
void on_other_state(struct m_handle *hm, const PHONEMESSAGE *m, int from_cb)
{
    if (m->dwParam1 == PHONESTATE_HANDSETHOOKSWITCH) {
        on_hook_state(hm, m, from_cb);
        return;
    }
    if (m->dwParam1 != PHONESTATE_OWNER && m->dwParam1 != PHONESTATE_MONITORS) {
        /* the setters' states (fuzz_api_setters.c) */
        FUZZ_CHECK(attr_state_ok(hm, m), "PHONE_STATE %#lx (%#lx): no device changes that state",
                   (unsigned long)m->dwParam1, (unsigned long)m->dwParam2);
        return;
    }
    uint32_t priv = m->dwParam1 == PHONESTATE_OWNER ? PHONEPRIVILEGE_OWNER : PHONEPRIVILEGE_MONITOR;
    uint32_t n = 0;
    FUZZ_CHECK(m->dwParam1 == PHONESTATE_OWNER || m->dwParam1 == PHONESTATE_MONITORS,
               "PHONE_STATE %#lx (no device changes that state)", (unsigned long)m->dwParam1);
    FUZZ_CHECK(hm->ever_states & m->dwParam1, "PHONE_STATE %#lx for handle %#x that never "
               "asked for it", (unsigned long)m->dwParam1, m->hDevice);
    FUZZ_CHECK(m->dwParam2 <= M_HANDLES, "PHONE_STATE %#lx count %lu",
               (unsigned long)m->dwParam1, (unsigned long)m->dwParam2);
    if (from_cb)
        return; /* read on the callback thread: opens and closes race it */
    /* Read now, on this thread: the count now. */
    for (int i = 0; i < M.nhs; i++)
        n += M.hs[i].open && M.hs[i].dev == hm->dev && M.hs[i].priv == priv;
    FUZZ_CHECK(m->dwParam2 == n, "PHONE_STATE %#lx says %lu, %u open", (unsigned long)m->dwParam1,
               (unsigned long)m->dwParam2, n);
}
