/* test_phone_buttons - PHONE_BUTTON from the console (tapiq_mem_button, the
 * mem backend's way of playing the operator; <tapiq/tapiq.h>).
 *
 * A press (DOWN) and a release (UP) of a button reach, in call order and
 * exactly once, every open handle of that device whose phoneSetStatusMessages
 * button modes include the button's mode and whose button states include
 * the state: dwParam1 the button id, dwParam2 its PHONEBUTTONMODE_*, dwParam3
 * the PHONEBUTTONSTATE_*. Nothing else gets it (other devices, other
 * filters, closed handles). A handle holds TAPIQ_BUTTON_ROOM events for
 * them; a DOWN takes two (one for its UP), so an UP whose DOWN arrived always
 * arrives; a press that finds no room is not posted to that handle, is
 * counted in button_overruns, and the call returns -ENOBUFS (the other
 * handles still get it). Bad arguments give -EINVAL, no running instance
 * -ENODEV, another backend -EOPNOTSUPP.
 */
#include <poll.h>

#include "tq_test.h"

/* Positions: 0 call, 1 feature, 2 keypad, 3 local, 4 display, 5 dummy,
 * 6 call (hold, "Ready"), 7 not listed (dummy). */
static const char *const CONFIG =
    "devices=3,lamps=8,workers=2,"
    "buttons=call+feature+keypad+local+display+dummy+call:hold:Ready";
static const DWORD g_mode[8] = {
    PHONEBUTTONMODE_CALL,    PHONEBUTTONMODE_FEATURE, PHONEBUTTONMODE_KEYPAD,
    PHONEBUTTONMODE_LOCAL,   PHONEBUTTONMODE_DISPLAY, PHONEBUTTONMODE_DUMMY,
    PHONEBUTTONMODE_CALL,    PHONEBUTTONMODE_DUMMY};
static const DWORD g_real[] = {0, 1, 2, 3, 4, 6}; /* the positions with a button */
#define NREAL 6

struct ev {
    HPHONE h;
    DWORD_PTR inst, p1, p2, p3;
};

/* Every message @app has now (polled), in order; each must be a
 * PHONE_BUTTON. Returns how many. */
static size_t take_all(HPHONEAPP app, struct ev *out, size_t max)
{
    size_t n = 0;
    PHONEMESSAGE m;
    while (phoneGetMessage(app, &m, 0) == 0) {
        TQ_CHECKF(m.dwMessageID == PHONE_BUTTON, "message %u, want PHONE_BUTTON",
                  (unsigned)m.dwMessageID);
        TQ_CHECKF(n < max, "more than %zu messages", max);
        out[n].h = (HPHONE)m.hDevice;
        out[n].inst = m.dwCallbackInstance;
        out[n].p1 = m.dwParam1;
        out[n].p2 = m.dwParam2;
        out[n].p3 = m.dwParam3;
        n++;
    }
    return n;
}

static void press(DWORD dev, DWORD button, DWORD state, int want)
{
    int rc = tapiq_mem_button(dev, button, state);
    TQ_CHECKF(rc == want, "tapiq_mem_button(%u, %u, %#x) = %d, want %d", (unsigned)dev,
              (unsigned)button, (unsigned)state, rc, want);
}

static int selects(DWORD modes, DWORD states, DWORD mode, DWORD state)
{
    return (modes & mode) && (states & state);
}

struct sub {
    HPHONE h;
    DWORD_PTR inst;
    DWORD modes, states;
};

/* The events of @s among @ev[0..n) must be exactly what its filter selects
 * of @seq (pairs button, state), in order. Returns how many. */
static size_t check_handle(const struct sub *s, const struct ev *ev, size_t n,
                           const DWORD (*seq)[2], size_t nseq)
{
    size_t k = 0, got = 0;
    for (size_t i = 0; i < nseq; i++) {
        DWORD b = seq[i][0], st = seq[i][1];
        if (!selects(s->modes, s->states, g_mode[b], st))
            continue;
        while (k < n && ev[k].h != s->h)
            k++;
        TQ_CHECKF(k < n, "handle %#x: missing event %zu (button %u state %#x)",
                  (unsigned)s->h, i, (unsigned)b, (unsigned)st);
        TQ_CHECKF(ev[k].p1 == b && ev[k].p2 == g_mode[b] && ev[k].p3 == st &&
                      ev[k].inst == s->inst,
                  "handle %#x: got button %u mode %#x state %#x inst %#lx, want %u %#x %#x %#lx",
                  (unsigned)s->h, (unsigned)ev[k].p1, (unsigned)ev[k].p2, (unsigned)ev[k].p3,
                  (unsigned long)ev[k].inst, (unsigned)b, (unsigned)g_mode[b], (unsigned)st,
                  (unsigned long)s->inst);
        k++;
        got++;
    }
    while (k < n && ev[k].h != s->h)
        k++;
    TQ_CHECKF(k == n, "handle %#x: an event too many (button %u state %#x)", (unsigned)s->h,
              k < n ? (unsigned)ev[k].p1 : 0u, k < n ? (unsigned)ev[k].p3 : 0u);
    return got;
}

/* Filters by mode and state, several handles and applications, order and
 * exactly-once, other devices and handles without a button filter. */
static void case_filters(void)
{
    HPHONEAPP a = tq_start(CONFIG, NULL), b = 0;
    int fd = -1;
    TQ_EXPECT(tq_init_app(&b, NULL, &fd), 0);
    struct sub sa[] = {
        {0, 11, PHONEBUTTONMODE_CALL, PHONEBUTTONSTATE_DOWN | PHONEBUTTONSTATE_UP},
        {0, 12, PHONEBUTTONMODE_FEATURE | PHONEBUTTONMODE_KEYPAD, PHONEBUTTONSTATE_DOWN},
        {0, 13, 0x3F, 0x0F},
        {0, 14, 0, 0},      /* no button filter: nothing */
        {0, 15, 0, 0x0F},   /* modes 0: nothing */
        {0, 16, PHONEBUTTONMODE_DUMMY, 0x0F}, /* dummy positions are never pressed */
    };
    struct sub sb[] = {
        {0, 21, 0x3F, PHONEBUTTONSTATE_UP},
        {0, 22, PHONEBUTTONMODE_LOCAL | PHONEBUTTONMODE_DISPLAY, 0x0F},
    };
    const size_t na = sizeof sa / sizeof sa[0], nb = sizeof sb / sizeof sb[0];
    DWORD seq[64][2];
    size_t nseq = 0, n, total = 0;
    struct ev ev[256];
    tapiq_stats s0 = tq_stats();
    for (size_t i = 0; i < na; i++) {
        sa[i].h = tq_open(a, 0, i % 2 ? PHONEPRIVILEGE_MONITOR : PHONEPRIVILEGE_OWNER, sa[i].inst);
        TQ_EXPECT(phoneSetStatusMessages(sa[i].h, 0, sa[i].modes, sa[i].states), 0);
    }
    for (size_t i = 0; i < nb; i++) {
        sb[i].h = tq_open(b, 0, PHONEPRIVILEGE_MONITOR, sb[i].inst);
        TQ_EXPECT(phoneSetStatusMessages(sb[i].h, PHONESTATE_LAMP, sb[i].modes, sb[i].states), 0);
    }
    /* Handles without a button filter, and on another device. */
    HPHONE lamp_only = tq_open(a, 0, PHONEPRIVILEGE_MONITOR, 31);
    TQ_EXPECT(phoneSetStatusMessages(lamp_only, PHONESTATE_LAMP, 0, 0), 0);
    HPHONE other = tq_open(a, 1, PHONEPRIVILEGE_MONITOR, 32);
    TQ_EXPECT(phoneSetStatusMessages(other, 0, 0x3F, 0x0F), 0);
    tq_open(b, 0, PHONEPRIVILEGE_OWNER, 33); /* never subscribes */

    /* Every real button down and up, then some presses held across others. */
    for (int r = 0; r < NREAL; r++) {
        seq[nseq][0] = g_real[r], seq[nseq++][1] = PHONEBUTTONSTATE_DOWN;
        seq[nseq][0] = g_real[r], seq[nseq++][1] = PHONEBUTTONSTATE_UP;
    }
    static const DWORD nested[][2] = {{0, PHONEBUTTONSTATE_DOWN}, {1, PHONEBUTTONSTATE_DOWN},
                                      {6, PHONEBUTTONSTATE_DOWN}, {1, PHONEBUTTONSTATE_UP},
                                      {0, PHONEBUTTONSTATE_UP},   {6, PHONEBUTTONSTATE_UP},
                                      {4, PHONEBUTTONSTATE_UP},   {4, PHONEBUTTONSTATE_DOWN},
                                      {4, PHONEBUTTONSTATE_DOWN}, {4, PHONEBUTTONSTATE_UP}};
    for (size_t i = 0; i < sizeof nested / sizeof nested[0]; i++) {
        seq[nseq][0] = nested[i][0];
        seq[nseq++][1] = nested[i][1];
    }
    for (size_t i = 0; i < nseq; i++)
        press(0, seq[i][0], seq[i][1], 0);

    n = take_all(a, ev, 256);
    for (size_t i = 0; i < na; i++)
        total += check_handle(&sa[i], ev, n, (const DWORD(*)[2])seq, nseq);
    TQ_CHECKF(total == n, "application a: %zu events, %zu expected", n, total);
    TQ_CHECK(check_handle(&sa[2], ev, n, (const DWORD(*)[2])seq, nseq) == nseq);
    /* The USEEVENT application's fd is readable while its events wait. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    TQ_CHECK(poll(&p, 1, 0) == 1);
    n = take_all(b, ev, 256);
    size_t tb = 0;
    for (size_t i = 0; i < nb; i++)
        tb += check_handle(&sb[i], ev, n, (const DWORD(*)[2])seq, nseq);
    TQ_CHECKF(tb == n, "application b: %zu events, %zu expected", n, tb);
    TQ_CHECK(poll(&p, 1, 0) == 0);
    tapiq_stats s1 = tq_stats();
    TQ_CHECKF(s1.button_events - s0.button_events == total + tb, "button_events %" PRIu64
              ", %zu delivered", s1.button_events - s0.button_events, total + tb);
    TQ_CHECK(s1.button_overruns == s0.button_overruns);

    /* A closed handle gets nothing more; the others go on. */
    TQ_EXPECT(phoneClose(sa[2].h), 0);
    press(0, 1, PHONEBUTTONSTATE_DOWN, 0);
    n = take_all(a, ev, 256);
    TQ_CHECKF(n == 1 && ev[0].h == sa[1].h, "after close: %zu events", n);
    /* Switching the button filter off stops them (the UP is not sent). */
    TQ_EXPECT(phoneSetStatusMessages(sa[1].h, 0, 0, 0), 0);
    press(0, 1, PHONEBUTTONSTATE_UP, 0);
    TQ_CHECK(take_all(a, ev, 256) == 0);
    DWORD st = 1, bm = 1, bs = 1;
    TQ_EXPECT(phoneGetStatusMessages(sa[0].h, &st, &bm, &bs), 0);
    TQ_CHECK(st == 0 && bm == PHONEBUTTONMODE_CALL &&
             bs == (PHONEBUTTONSTATE_DOWN | PHONEBUTTONSTATE_UP));
    TQ_EXPECT(phoneShutdown(b), 0);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* No room: a handle that does not read gets TAPIQ_BUTTON_ROOM events at
 * most; an UP whose DOWN it got always comes; what finds no room is
 * counted and -ENOBUFS; a handle that reads gets everything. */
static void case_no_room(void)
{
    HPHONEAPP a = tq_start(CONFIG, NULL), b = 0;
    TQ_EXPECT(tq_init_app(&b, NULL, NULL), 0);
    HPHONE slow = tq_open(a, 2, PHONEPRIVILEGE_OWNER, 1);
    HPHONE fast = tq_open(b, 2, PHONEPRIVILEGE_MONITOR, 2);
    struct ev ev[256];
    const uint32_t pairs = TAPIQ_BUTTON_ROOM / 2 - 1; /* with the held DOWN: room - 1 */
    TQ_EXPECT(phoneSetStatusMessages(slow, 0, 0x3F, 0x0F), 0);
    TQ_EXPECT(phoneSetStatusMessages(fast, 0, 0x3F, 0x0F), 0);
    tapiq_stats s0 = tq_stats();

    press(2, 6, PHONEBUTTONSTATE_DOWN, 0); /* held: 2 units */
    TQ_CHECK(take_all(b, ev, 256) == 1);
    for (uint32_t i = 0; i < pairs; i++) {
        press(2, 0, PHONEBUTTONSTATE_DOWN, 0);
        press(2, 0, PHONEBUTTONSTATE_UP, 0);
        TQ_CHECK(take_all(b, ev, 256) == 2); /* the fast one reads as it goes */
    }
    /* slow holds room - 1 units + the held one: full. */
    press(2, 1, PHONEBUTTONSTATE_DOWN, -ENOBUFS);
    press(2, 1, PHONEBUTTONSTATE_UP, -ENOBUFS); /* its DOWN did not come: no unit */
    press(2, 6, PHONEBUTTONSTATE_UP, 0);        /* its DOWN came: its unit is held */
    TQ_CHECK(take_all(b, ev, 256) == 3);
    TQ_CHECK(ev[0].p1 == 1 && ev[0].p3 == PHONEBUTTONSTATE_DOWN);
    TQ_CHECK(ev[1].p1 == 1 && ev[1].p3 == PHONEBUTTONSTATE_UP);
    TQ_CHECK(ev[2].p1 == 6 && ev[2].p3 == PHONEBUTTONSTATE_UP);
    tapiq_stats s1 = tq_stats();
    TQ_CHECKF(s1.button_overruns - s0.button_overruns == 2, "button_overruns %" PRIu64,
              s1.button_overruns - s0.button_overruns);

    size_t n = take_all(a, ev, 256);
    TQ_CHECKF(n == 2 * pairs + 2, "slow handle: %zu events, want %u", n, 2 * pairs + 2);
    TQ_CHECK(ev[0].p1 == 6 && ev[0].p3 == PHONEBUTTONSTATE_DOWN);
    for (uint32_t i = 0; i < pairs; i++)
        TQ_CHECK(ev[1 + 2 * i].p1 == 0 && ev[1 + 2 * i].p3 == PHONEBUTTONSTATE_DOWN &&
                 ev[2 + 2 * i].p1 == 0 && ev[2 + 2 * i].p3 == PHONEBUTTONSTATE_UP);
    TQ_CHECK(ev[n - 1].p1 == 6 && ev[n - 1].p3 == PHONEBUTTONSTATE_UP);
    /* Read: room again, for both. */
    for (uint32_t i = 0; i < TAPIQ_BUTTON_ROOM; i++)
        press(2, 3, i % 2 ? PHONEBUTTONSTATE_UP : PHONEBUTTONSTATE_DOWN, 0);
    TQ_CHECK(take_all(a, ev, 256) == TAPIQ_BUTTON_ROOM);
    TQ_CHECK(take_all(b, ev, 256) == TAPIQ_BUTTON_ROOM);
    tapiq_stats s2 = tq_stats();
    TQ_CHECK(s2.button_overruns == s1.button_overruns);
    TQ_CHECK(s2.button_events - s0.button_events ==
             (2 * pairs + 2) * 2 + 2 + 2 * TAPIQ_BUTTON_ROOM);

    /* A ring too small for the button room: phoneSetStatusMessages says
     * RESOURCEUNAVAIL and nothing is subscribed. */
    TQ_EXPECT(phoneShutdown(b), 0);
    TQ_EXPECT(phoneShutdown(a), 0);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s,events=%u", CONFIG, TAPIQ_BUTTON_ROOM - 1);
    a = tq_start(cfg, NULL);
    slow = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 1);
    TQ_EXPECT(phoneSetStatusMessages(slow, 0, 0x3F, 0x0F), PHONEERR_RESOURCEUNAVAIL);
    press(0, 0, PHONEBUTTONSTATE_DOWN, 0);
    TQ_CHECK(take_all(a, ev, 256) == 0);
    TQ_EXPECT(phoneShutdown(a), 0);
}

/* A backend of the test's own: tapiq_host_button through the provider
 * interface, and what tapiq_mem_* say when mem is not running. */
static tapiq_host *g_host;
static void *nop_config_new(void) { return &g_host; }
static int nop_config_key(void *c, const char *k, const char *v, char *e, size_t n)
{
    (void)c, (void)k, (void)v, (void)e, (void)n;
    return -ENOENT;
}
static void nop_config_free(void *c) { (void)c; }
static int nop_start(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps, void **state,
                     char *err, size_t errlen)
{
    static const uint32_t modes[2] = {PHONEBUTTONMODE_FEATURE, PHONEBUTTONMODE_DUMMY};
    tapiq_device_attrs at;
    (void)cfg, (void)err, (void)errlen;
    memset(&at, 0, sizeof at);
    at.button_modes = modes;
    g_host = host;
    for (uint32_t d = 0; d < devices; d++) {
        int id = tapiq_host_add_device(host, lamps, NULL, 1);
        if (id < 0)
            return id;
        if (lamps == 2 && (id = tapiq_host_set_device_attrs(host, (uint32_t)id, &at, sizeof at)))
            return id;
    }
    *state = host;
    return 0;
}
static void nop_apply(void *st, uint32_t dev, tapiq_batch *b)
{
    size_t n;
    tapiq_update *u = tapiq_batch_updates(b, &n);
    (void)st, (void)dev;
    for (size_t i = 0; i < n; i++)
        u[i].status = 0;
    tapiq_batch_complete(b);
}
static void nop_stop(void *st) { (void)st; }
static const tapiq_backend_ops nop_ops = {.name = "nop",
                                          .config_new = nop_config_new,
                                          .config_key = nop_config_key,
                                          .config_free = nop_config_free,
                                          .start = nop_start,
                                          .apply = nop_apply,
                                          .stop = nop_stop};

static void case_errors(void)
{
    HPHONEAPP a;
    struct ev ev[8];
    press(0, 0, PHONEBUTTONSTATE_DOWN, -ENODEV); /* nothing runs */
    TQ_CHECK(tapiq_mem_hookswitch(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC) ==
             -ENODEV);
    a = tq_start(CONFIG, NULL);
    HPHONE h = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 1);
    /* Button modes without a button state select nothing: the SDK's
     * INVALBUTTONSTATE; with no button modes the states do not matter. */
    TQ_EXPECT(phoneSetStatusMessages(h, 0, PHONEBUTTONMODE_FEATURE, 0), PHONEERR_INVALBUTTONSTATE);
    TQ_EXPECT(phoneSetStatusMessages(h, 0, 0x3F, 0x10), PHONEERR_INVALBUTTONSTATE);
    TQ_EXPECT(phoneSetStatusMessages(h, 0, 0x40, 0), PHONEERR_INVALBUTTONMODE);
    TQ_EXPECT(phoneSetStatusMessages(h, 0, 0, 0), 0);
    TQ_EXPECT(phoneSetStatusMessages(h, 0, 0x3F, 0x0F), 0);
    press(3, 0, PHONEBUTTONSTATE_DOWN, -EINVAL);          /* no such device */
    press(UINT32_MAX, 0, PHONEBUTTONSTATE_DOWN, -EINVAL);
    press(0, 8, PHONEBUTTONSTATE_DOWN, -EINVAL);          /* no such button */
    press(0, UINT32_MAX, PHONEBUTTONSTATE_UP, -EINVAL);
    press(0, 5, PHONEBUTTONSTATE_DOWN, -EINVAL);          /* a lamp without a button */
    press(0, 7, PHONEBUTTONSTATE_UP, -EINVAL);
    static const DWORD bad_states[] = {0, PHONEBUTTONSTATE_UNKNOWN, PHONEBUTTONSTATE_UNAVAIL,
                                       PHONEBUTTONSTATE_UP | PHONEBUTTONSTATE_DOWN, 0x10,
                                       0x80000000u};
    for (size_t i = 0; i < sizeof bad_states / sizeof bad_states[0]; i++)
        press(0, 0, bad_states[i], -EINVAL);
    /* No hookswitch devices on these consoles. */
    TQ_CHECK(tapiq_mem_hookswitch(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC) ==
             -EINVAL);
    TQ_CHECK(take_all(a, ev, 8) == 0); /* nothing was posted */
    TQ_EXPECT(phoneShutdown(a), 0);
    press(0, 0, PHONEBUTTONSTATE_DOWN, -ENODEV);

    /* Another backend: the tapiq_mem_* calls refuse; the provider calls work. */
    TQ_CHECK(tapiq_register_backend(&nop_ops) == 0);
    a = tq_start("backend=nop,devices=2,lamps=2,workers=1", NULL);
    press(0, 0, PHONEBUTTONSTATE_DOWN, -EOPNOTSUPP);
    TQ_CHECK(tapiq_mem_hookswitch(0, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC) ==
             -EOPNOTSUPP);
    h = tq_open(a, 1, PHONEPRIVILEGE_MONITOR, 7);
    TQ_EXPECT(phoneSetStatusMessages(h, 0, PHONEBUTTONMODE_FEATURE, PHONEBUTTONSTATE_DOWN), 0);
    TQ_CHECK(tapiq_host_button(NULL, 1, 0, PHONEBUTTONSTATE_DOWN) == -EINVAL);
    TQ_CHECK(tapiq_host_button(g_host, 2, 0, PHONEBUTTONSTATE_DOWN) == -EINVAL);
    TQ_CHECK(tapiq_host_button(g_host, 1, 1, PHONEBUTTONSTATE_DOWN) == -EINVAL);
    TQ_CHECK(tapiq_host_button(g_host, 1, 0, PHONEBUTTONSTATE_DOWN) == 0);
    TQ_CHECK(tapiq_host_button(g_host, 1, 0, PHONEBUTTONSTATE_UP) == 0); /* not selected */
    TQ_CHECK(tapiq_host_hookswitch(NULL, 1, PHONEHOOKSWITCHDEV_HANDSET,
                                   PHONEHOOKSWITCHMODE_MIC) == -EINVAL);
    TQ_CHECK(take_all(a, ev, 8) == 1);
    TQ_CHECK(ev[0].h == h && ev[0].inst == 7 && ev[0].p1 == 0 &&
             ev[0].p2 == PHONEBUTTONMODE_FEATURE && ev[0].p3 == PHONEBUTTONSTATE_DOWN);
    TQ_EXPECT(phoneShutdown(a), 0);
}

int main(void)
{
    case_filters();
    case_no_room();
    case_errors();
    printf("test_phone_buttons: ok\n");
    return 0;
}
