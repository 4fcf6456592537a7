/* The setters' batches, seen from a backend: a test backend that can hold
 * a console's batch while requests pile up behind it, so the next batch's
 * contents are known. Checked: coalescing (the backend sees one update per
 * attribute, at the position of the last request, every request replied
 * once), phoneDevSpecific in issue order and never coalesced, a batch's cap
 * on attribute updates (the rest follow in the next batch, in order),
 * PHONE_STATE (with dwParam2 read when taken) before the replies, the
 * backend's -errno in PHONE_REPLY, replies suppressed after phoneClose, and
 * the payload pool: exhaustion gives RESOURCEUNAVAIL (lamps unaffected) and
 * slots come back once their batch is done. */
#include <pthread.h>

#include "tq_test.h"

#define NLAMP 4
#define LOG_MAX 256

struct logged {
    uint32_t batch, kind, id, a, b, size;
    char data[16];
};

static struct {
    pthread_mutex_t mu;
    tapiq_host *host;
    int hold;
    tapiq_batch *held;
    uint32_t batches, lamp_updates;
    int32_t attr_status;
    uint32_t nlog;
    struct logged log[LOG_MAX];
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int gb_start(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps, void **state,
                    char *err, size_t errlen)
{
    static const uint32_t sizes[1] = {8};
    tapiq_device_attrs a;
    (void)cfg, (void)err, (void)errlen;
    memset(&a, 0, sizeof a);
    a.display_rows = 2;
    a.display_columns = 8;
    a.ring_modes = 3;
    a.hookswitch_devs = PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET;
    a.volume_devs = a.gain_devs = a.hookswitch_devs;
    a.data_areas = 1;
    a.data_sizes = sizes;
    a.button_text_max = 8;
    for (uint32_t i = 0; i < devices; i++) {
        int d = tapiq_host_add_device(host, lamps, NULL, 1);
        if (d < 0 || tapiq_host_set_device_attrs(host, (uint32_t)d, &a, sizeof a))
            return -EINVAL;
    }
    G.host = host;
    *state = host;
    return 0;
}

static void finish(tapiq_batch *b)
{
    size_t n;
    tapiq_update *u = tapiq_batch_updates(b, &n);
    tapiq_attr *a;
    for (size_t i = 0; i < n; i++)
        u[i].status = 0;
    a = tapiq_batch_attrs(b, &n);
    pthread_mutex_lock(&G.mu);
    for (size_t i = 0; i < n; i++)
        a[i].status = G.attr_status;
    pthread_mutex_unlock(&G.mu);
    tapiq_batch_complete(b);
}

static void gb_apply(void *state, uint32_t device, tapiq_batch *b)
{
    size_t n, nl;
    tapiq_attr *a = tapiq_batch_attrs(b, &n);
    int hold;
    (void)state, (void)device;
    tapiq_batch_updates(b, &nl);
    pthread_mutex_lock(&G.mu);
    G.batches++;
    G.lamp_updates += (uint32_t)nl;
    for (size_t i = 0; i < n && G.nlog < LOG_MAX; i++) {
        struct logged *l = &G.log[G.nlog++];
        l->batch = G.batches;
        l->kind = a[i].kind;
        l->id = a[i].id;
        l->a = a[i].a;
        l->b = a[i].b;
        l->size = a[i].size;
        memset(l->data, 0, sizeof l->data);
        memcpy(l->data, a[i].data, a[i].size < 15 ? a[i].size : 15);
        TQ_CHECK(a[i].status == -EIO); /* the preset */
    }
    hold = G.hold;
    if (hold)
        G.held = b;
    pthread_mutex_unlock(&G.mu);
    if (!hold)
        finish(b);
}

static void gb_stop(void *state)
{
    (void)state;
    G.host = NULL;
}

static void *gb_new(void)
{
    static int dummy;
    return &dummy;
}

static void gb_free(void *cfg)
{
    (void)cfg;
}

static const tapiq_backend_ops gate_ops = {
    .name = "gate-test",
    .config_new = gb_new,
    .config_free = gb_free,
    .start = gb_start,
    .apply = gb_apply,
    .stop = gb_stop,
};

static void reset(int hold, int32_t attr_status)
{
    pthread_mutex_lock(&G.mu);
    G.hold = hold;
    G.held = NULL;
    G.batches = G.lamp_updates = G.nlog = 0;
    G.attr_status = attr_status;
    pthread_mutex_unlock(&G.mu);
}

/* Wait until the backend has seen @n batches (bounded). */
static void wait_batches(uint32_t n)
{
    for (int i = 0; i < 60000; i++) {
        uint32_t got;
        pthread_mutex_lock(&G.mu);
        got = G.batches;
        pthread_mutex_unlock(&G.mu);
        if (got >= n)
            return;
        tq_sleep_us(1000);
    }
    TQ_FAIL("the backend saw fewer than %u batches", n);
}

/* Complete the held batch (from this thread: the remote completion path);
 * the next one, if any, is held again unless @keep_holding is 0. */
static void release(int keep_holding)
{
    tapiq_batch *b;
    pthread_mutex_lock(&G.mu);
    b = G.held;
    G.held = NULL;
    G.hold = keep_holding;
    pthread_mutex_unlock(&G.mu);
    TQ_CHECK(b != NULL);
    finish(b);
}

static HPHONEAPP start(const char *extra)
{
    char cfg[160];
    snprintf(cfg, sizeof cfg, "backend=gate-test,devices=2,lamps=%d,workers=1%s", NLAMP, extra);
    return tq_start(cfg, NULL);
}

/* The messages until @nreplies replies arrived: replies counted per id in
 * @count (ids < 2^31, looked up linearly in @ids), PHONE_STATE bits OR-ed
 * into *states; *state_after_reply set when a PHONE_STATE followed a reply. */
struct seen {
    LONG ids[64];
    int count[64];
    LONG status[64];
    int n;
    DWORD states, ring_p2, hook_p2;
    int state_after_reply, replies;
};

static void collect(HPHONEAPP app, struct seen *s, int nreplies)
{
    PHONEMESSAGE m;
    while (s->replies < nreplies) {
        LONG r = phoneGetMessage(app, &m, 5000);
        TQ_CHECKF(r == 0, "%d of %d replies, then %s", s->replies, nreplies, tq_err_name(r));
        if (m.dwMessageID == PHONE_STATE) {
            s->states |= (DWORD)m.dwParam1;
            if (m.dwParam1 == PHONESTATE_RINGMODE)
                s->ring_p2 = (DWORD)m.dwParam2;
            if (m.dwParam1 == PHONESTATE_HANDSETHOOKSWITCH)
                s->hook_p2 = (DWORD)m.dwParam2;
            if (s->replies)
                s->state_after_reply = 1;
        } else if (m.dwMessageID == PHONE_REPLY) {
            int i;
            for (i = 0; i < s->n && s->ids[i] != (LONG)m.dwParam1; i++) {
            }
            TQ_CHECKF(i < s->n, "a reply for an unknown id %lu", (unsigned long)m.dwParam1);
            s->count[i]++;
            s->status[i] = tq_reply_status(&m);
            s->replies++;
        }
    }
}

static void expect_ids(struct seen *s, LONG id)
{
    TQ_CHECKF(TQ_ID_OK(id), "request refused: %s", tq_err_name(id));
    s->ids[s->n++] = id;
}

static void expect_once(const struct seen *s, LONG want)
{
    for (int i = 0; i < s->n; i++)
        TQ_CHECKF(s->count[i] == 1 && s->status[i] == want,
                  "request %d: %d replies, status %s (want %s)", i, s->count[i],
                  tq_err_name(s->status[i]), tq_err_name(want));
}

static void case_coalesce(void)
{
    HPHONEAPP app = start("");
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE mon = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 2);
    struct seen first = {0}, s = {0};
    static const uint32_t want_kind[] = {TAPIQ_ATTR_RING,        TAPIQ_ATTR_VOLUME,
                                         TAPIQ_ATTR_DEVSPECIFIC, TAPIQ_ATTR_DEVSPECIFIC,
                                         TAPIQ_ATTR_DEVSPECIFIC, TAPIQ_ATTR_HOOKSWITCH,
                                         TAPIQ_ATTR_DISPLAY};
    unsigned char vbuf[64];
    VARSTRING *vs = (VARSTRING *)vbuf;
    DWORD v1, v2;
    tapiq_stats st;
    TQ_EXPECT(phoneSetStatusMessages(mon, 0x00FFFFFFu, 0, 0), 0);
    reset(1, 0);
    expect_ids(&first, phoneSetRing(h, 1, 100));
    wait_batches(1);
    /* Behind the held batch: one request each, in this order. */
    expect_ids(&s, phoneSetDisplay(h, 0, 0, "AAAA", 4));
    expect_ids(&s, phoneSetDisplay(h, 0, 1, "BB", 2));
    expect_ids(&s, phoneSetRing(h, 2, 200));
    expect_ids(&s, phoneSetRing(h, 3, 300));
    expect_ids(&s, phoneSetVolume(h, PHONEHOOKSWITCHDEV_HANDSET, 5));
    expect_ids(&s, phoneSetVolume(h, PHONEHOOKSWITCHDEV_HANDSET, 6));
    expect_ids(&s, phoneDevSpecific(h, "1", 1));
    expect_ids(&s, phoneDevSpecific(h, "2", 1));
    expect_ids(&s, phoneDevSpecific(h, "3", 1));
    expect_ids(&s, phoneSetHookSwitch(h, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC));
    expect_ids(&s, phoneSetHookSwitch(h, PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET,
                                      PHONEHOOKSWITCHMODE_SPEAKER));
    expect_ids(&s, phoneSetLamp(h, 0, PHONELAMPMODE_STEADY));
    expect_ids(&s, phoneSetLamp(h, 0, PHONELAMPMODE_WINK));
    expect_ids(&s, phoneSetDisplay(h, 0, 0, "CCCCCC", 6));
    release(1);
    collect(app, &first, 1); /* batch 1's reply */
    expect_once(&first, 0);
    wait_batches(2);
    pthread_mutex_lock(&G.mu);
    TQ_CHECKF(G.nlog == 8, "the backend saw %u attribute updates", G.nlog);
    TQ_CHECK(G.log[0].batch == 1 && G.log[0].a == 1 && G.log[0].b == 100);
    for (uint32_t i = 1; i < 8; i++)
        TQ_CHECKF(G.log[i].batch == 2 && G.log[i].kind == want_kind[i - 1],
                  "update %u: batch %u kind %u", i, G.log[i].batch, G.log[i].kind);
    TQ_CHECK(G.log[1].a == 3 && G.log[1].b == 300);
    TQ_CHECK(G.log[2].id == PHONEHOOKSWITCHDEV_HANDSET && G.log[2].a == 6);
    TQ_CHECK(strcmp(G.log[3].data, "1") == 0 && strcmp(G.log[4].data, "2") == 0 &&
             strcmp(G.log[5].data, "3") == 0);
    TQ_CHECK(G.log[6].id == (PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET) &&
             G.log[6].a == PHONEHOOKSWITCHMODE_SPEAKER);
    TQ_CHECK(G.log[7].size == 6 && strcmp(G.log[7].data, "CCCCCC") == 0);
    TQ_CHECK(G.lamp_updates == 1);
    pthread_mutex_unlock(&G.mu);
    release(0);
    collect(app, &s, s.n);
    expect_once(&s, 0);
    TQ_CHECK(!s.state_after_reply); /* every PHONE_STATE before the first reply */
    TQ_CHECKF((s.states & (PHONESTATE_DISPLAY | PHONESTATE_RINGMODE | PHONESTATE_RINGVOLUME |
                           PHONESTATE_HANDSETVOLUME | PHONESTATE_HANDSETHOOKSWITCH |
                           PHONESTATE_HEADSETHOOKSWITCH | PHONESTATE_DEVSPECIFIC |
                           PHONESTATE_LAMP)) ==
                  (PHONESTATE_DISPLAY | PHONESTATE_RINGMODE | PHONESTATE_RINGVOLUME |
                   PHONESTATE_HANDSETVOLUME | PHONESTATE_HANDSETHOOKSWITCH |
                   PHONESTATE_HEADSETHOOKSWITCH | PHONESTATE_DEVSPECIFIC | PHONESTATE_LAMP),
              "states %#x", (unsigned)s.states);
    TQ_CHECK(s.ring_p2 == 3 && s.hook_p2 == PHONEHOOKSWITCHMODE_SPEAKER);
    /* The state: as if every request had been applied in order. */
    memset(vbuf, 0, sizeof vbuf);
    vs->dwTotalSize = sizeof vbuf;
    TQ_EXPECT(phoneGetDisplay(h, vs), 0);
    TQ_CHECK(memcmp(vbuf + vs->dwStringOffset, "CCCCCC  ", 8) == 0);
    TQ_EXPECT(phoneGetRing(h, &v1, &v2), 0);
    TQ_CHECK(v1 == 3 && v2 == 300);
    TQ_EXPECT(phoneGetVolume(h, PHONEHOOKSWITCHDEV_HANDSET, &v1), 0);
    TQ_CHECK(v1 == 6);
    TQ_EXPECT(phoneGetLamp(h, 0, &v1), 0);
    TQ_CHECK(v1 == PHONELAMPMODE_WINK);
    st = tq_wait_idle();
    TQ_CHECKF(st.attrs_applied == 8 && st.attrs_coalesced == 5 && st.updates_coalesced == 1 &&
                  st.replies == 15,
              "applied %" PRIu64 " coalesced %" PRIu64 "/%" PRIu64 " replies %" PRIu64,
              st.attrs_applied, st.attrs_coalesced, st.updates_coalesced, st.replies);
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* More attribute updates than a batch holds: the rest follow, in order. */
static void case_batch_cap(void)
{
    HPHONEAPP app = start("");
    HPHONE h = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 1);
    struct seen s = {0};
    char b[12];
    reset(1, 0);
    expect_ids(&s, phoneSetGain(h, PHONEHOOKSWITCHDEV_HEADSET, 1));
    wait_batches(1);
    for (int i = 0; i < 2 * TAPIQ_BATCH_ATTRS_MAX + 1; i++) {
        snprintf(b, sizeof b, "%d", i);
        expect_ids(&s, phoneDevSpecific(h, b, (DWORD)strlen(b)));
    }
    release(0);
    collect(app, &s, s.n);
    expect_once(&s, 0);
    pthread_mutex_lock(&G.mu);
    TQ_CHECKF(G.batches == 4 && G.nlog == 2 * TAPIQ_BATCH_ATTRS_MAX + 2, "%u batches, %u updates",
              G.batches, G.nlog);
    for (uint32_t i = 1; i < G.nlog; i++) {
        snprintf(b, sizeof b, "%u", i - 1);
        TQ_CHECKF(strcmp(G.log[i].data, b) == 0 && G.log[i].batch == 2 + (i - 1) / 8,
                  "update %u: '%s' in batch %u", i, G.log[i].data, G.log[i].batch);
    }
    pthread_mutex_unlock(&G.mu);
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* The backend's -errno, as each request's reply; the state stays. */
static void case_backend_status(void)
{
    static const struct {
        int32_t st;
        LONG want;
    } map[] = {{-EIO, PHONEERR_OPERATIONFAILED},
               {-ETIMEDOUT, PHONEERR_OPERATIONFAILED},
               {-ENOTCONN, PHONEERR_OPERATIONFAILED},
               {-EINVAL, PHONEERR_INVALPARAM},
               {-EOPNOTSUPP, PHONEERR_OPERATIONUNAVAIL}};
    HPHONEAPP app = start("");
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        struct seen s = {0};
        DWORD g = 0;
        reset(0, map[i].st);
        expect_ids(&s, phoneSetGain(h, PHONEHOOKSWITCHDEV_HANDSET, 0x77));
        expect_ids(&s, phoneSetData(h, 0, "zz", 2));
        collect(app, &s, s.n);
        expect_once(&s, map[i].want);
        TQ_EXPECT(phoneGetGain(h, PHONEHOOKSWITCHDEV_HANDSET, &g), 0);
        TQ_CHECK(g == 0x8000);
    }
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* payloads=4: the fifth attribute request in flight is refused, lamps are
 * not; the slots come back when their batch is done, also when the
 * requests' handle was closed (their replies suppressed). */
static void case_pool(void)
{
    HPHONEAPP app = start(",payloads=4");
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE h2;
    struct seen s = {0};
    PHONEMESSAGE m;
    LONG lamp;
    reset(1, 0);
    for (int i = 0; i < 4; i++)
        expect_ids(&s, phoneDevSpecific(h, "p", 1));
    wait_batches(1);
    TQ_EXPECT(phoneDevSpecific(h, "p", 1), PHONEERR_RESOURCEUNAVAIL);
    TQ_EXPECT(phoneSetDisplay(h, 0, 0, "x", 1), PHONEERR_RESOURCEUNAVAIL);
    lamp = phoneSetLamp(h, 1, PHONELAMPMODE_FLASH);
    expect_ids(&s, lamp);
    release(0);
    collect(app, &s, s.n);
    expect_once(&s, 0);
    /* Recovered: four again, then refused again. */
    h2 = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 2);
    reset(1, 0);
    for (int i = 0; i < 4; i++)
    {
        LONG r_ = phoneSetRing(h2, 1, (DWORD)i);
        TQ_CHECKF(TQ_ID_OK(r_), "ring %d: %s", i, tq_err_name(r_));
    }
    TQ_EXPECT(phoneSetRing(h2, 1, 9), PHONEERR_RESOURCEUNAVAIL);
    wait_batches(1);
    TQ_EXPECT(phoneClose(h2), 0); /* replies suppressed, slots still returned */
    release(0);
    tq_wait_idle();
    while (phoneGetMessage(app, &m, 0) == 0)
        TQ_CHECK(m.dwMessageID != PHONE_REPLY);
    {
        tapiq_stats st = tq_stats();
        TQ_CHECKF(st.replies_suppressed == 4, "suppressed %" PRIu64, st.replies_suppressed);
    }
    for (int i = 0; i < 4; i++) {
        struct seen one = {0};
        expect_ids(&one, phoneDevSpecific(h, "q", 1));
        collect(app, &one, 1);
        expect_once(&one, 0);
    }
    TQ_EXPECT(phoneShutdown(app), 0);
}

int main(int argc, char **argv)
{
    static const struct tq_case cases[] = {
        {"coalesce", case_coalesce},
        {"batch-cap", case_batch_cap},
        {"backend-status", case_backend_status},
        {"pool", case_pool},
    };
    TQ_CHECK(tapiq_register_backend(&gate_ops) == 0);
    return tq_run_cases(argc, argv, "setters_batch", cases, sizeof(cases) / sizeof(cases[0]));
}
