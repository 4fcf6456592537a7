/* fuzz/fuzz_api_setup.c - fuzz_api's configuration, applications and
 * handles: tapiq_configure, phoneInitializeEx, phoneShutdown, phoneOpen,
 * phoneClose. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_api.h"

/* The library's default events (65536) costs milliseconds per application to
 * set up, so it is rare; rings and completion queues grow with queue x
 * threads, so a large pool goes with small rings. 0: leave out. */
static const uint32_t lamps_tab[] = {0, 1, 2, 4, 8, 65};
static const uint32_t queue_tab[] = {1, 2, 3, 8, 64, 300, 8, 2, 3, 1, 64, 8, 2, 4, 5, 0};
static const uint32_t threads_tab[] = {0, 1, 2, 0, 1, 3, 2, 256};
static const uint32_t events_tab[] = {16, 1, 3, 200, 70, 8, 140, 16, 1, 2, 40, 3, 69, 67, 100, 0};
static const uint32_t ppm_tab[] = {0, 0, 0, 250000, 1000000};

void pick_config(struct fuzz_in *in, struct m_cfg *c, char *text, size_t len)
{
    uint8_t b0 = fuzz_u8(in), b1 = fuzz_u8(in), b2 = fuzz_u8(in);
    int n;
    c->devices = 1 + (b0 & 3);
    c->workers = 1 + (b0 >> 2 & 1);
    c->threads = threads_tab[(b0 >> 3 & 3) | (b0 >> 5 & 4)];
    c->latency = (b0 >> 5 & 3) == 3 ? 30 : 0;
    c->lamps = lamps_tab[b1 % 6];
    c->queue = queue_tab[b1 / 6 % 16];
    c->events = events_tab[b2 % 16];
    /* The largest ring (32768 entries, completion queues of 2 MiB) only with
     * threads, for one issuing thread and its helper. */
    if (!fa_manual && c->queue == 0 && c->threads == 1)
        c->queue = 32768;
    if (c->threads == 256 && (c->queue == 0 || c->queue > 64))
        c->queue = 64;
    /* Thread-free runs are about speed: no multi-megabyte rings there. */
    if (fa_manual && c->events == 0)
        c->events = 1000;
    c->fail_ppm = ppm_tab[b2 / 16 % 5];
    c->offline = (b2 / 80) % (c->devices + 1);
    n = snprintf(text, len, "devices=%u, lamps=%u ,workers=%u", c->devices, c->lamps,
                 c->workers);
    n += buttons_config(b1, c, text + n, len - (size_t)n);
    if (c->queue)
        n += snprintf(text + n, len - (size_t)n, ",queue=%u", c->queue);
    else
        c->queue = 1024;
    if (c->threads)
        n += snprintf(text + n, len - (size_t)n, ", threads = %u", c->threads);
    else
        c->threads = 64;
    if (c->events)
        n += snprintf(text + n, len - (size_t)n, ",events=%u", c->events);
    else
        c->events = 65536;
    if (c->fail_ppm)
        n += snprintf(text + n, len - (size_t)n, ",fail_ppm=%u", c->fail_ppm);
    if (c->offline)
        n += snprintf(text + n, len - (size_t)n, ",offline=%u", c->offline);
    if (c->latency)
        n += snprintf(text + n, len - (size_t)n, ",latency_us=%u", c->latency);
    /* An eighth of the runtimes: idle workers that sleep at once (no naps;
     * the semantics are the same). */
    if ((b0 + b1 + b2) % 8 == 0)
        snprintf(text + n, len - (size_t)n, ",nap_us=0");
    attr_config(text, len);
}

void op_configure(struct fuzz_in *in)
{
    struct m_cfg c;
    char text[256];
    int rc, may_fail;
    pick_config(in, &c, text, sizeof(text));
    may_fail = fa_arm(in);
    rc = tapiq_configure(text);
    fa_disarm();
    if (napps_live()) {
        FUZZ_CHECK(rc == -EBUSY, "tapiq_configure while initialized: %d", rc);
        return;
    }
    if (rc == -ENOMEM && may_fail)
        rc = tapiq_configure(text); /* the old one stays; set ours without failures */
    FUZZ_CHECK(rc == 0, "tapiq_configure('%s'): %d %s", text, rc, tapiq_last_error());
    M.cfg = c;
}

static const char *const bad_configs[] = {
    "devices=0", "lamps=4097", "bogus=1", "workers", "queue=1,queue=2", "fail_ppm=-1",
    "backend=nosuch", "offline=9,devices=3", ",", "devices=1 2",
    /* keys of the old core, gone */
    "mailbox=8", "queue=8,ring=mutex",
    "queue=0", "queue=32769", "threads=0", "threads=257", "threads=",
};

/* TAPIQ_CONFIG with a bad value: phoneInitializeEx fails, nothing starts. */
void op_bad_env(struct fuzz_in *in)
{
    HPHONEAPP happ = 0;
    DWORD ndev = 0, api = TAPI_CURRENT_VERSION;
    uint8_t b = fuzz_u8(in);
    LONG rc;
    char text[256];
    if (napps_live())
        return;
    FUZZ_CHECK(tapiq_configure(NULL) == 0, "tapiq_configure(NULL)");
    setenv("TAPIQ_CONFIG", bad_configs[b % (sizeof(bad_configs) / sizeof(bad_configs[0]))], 1);
    rc = phoneInitializeEx(&happ, NULL, NULL, "bad", &ndev, &api, NULL);
    unsetenv("TAPIQ_CONFIG");
    FUZZ_CHECK(rc == (LONG)PHONEERR_INIFILECORRUPT, "bad TAPIQ_CONFIG: %s", fa_err_name(rc));
    FUZZ_CHECK(tapiq_last_error()[0] != '\0', "INIFILECORRUPT without a message");
    FUZZ_CHECK(phoneSetLamp(1, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
               "something started after INIFILECORRUPT");
    /* Back to the model's configuration. */
    {
        struct m_cfg c = M.cfg;
        snprintf(text, sizeof(text),
                 "devices=%u,lamps=%u,workers=%u,queue=%u,events=%u,threads=%u", c.devices,
                 c.lamps, c.workers, c.queue, c.events, c.threads);
        if (c.fail_ppm || c.offline || c.latency) {
            size_t n = strlen(text);
            snprintf(text + n, sizeof(text) - n, ",fail_ppm=%u,offline=%u,latency_us=%u",
                     c.fail_ppm, c.offline, c.latency);
        }
        buttons_text(&c, text + strlen(text), sizeof(text) - strlen(text));
        FUZZ_CHECK(tapiq_configure(text) == 0, "tapiq_configure('%s') again: %s", text,
                   tapiq_last_error());
    }
}

void op_init(struct fuzz_in *in)
{
    PHONEINITIALIZEEXPARAMS params;
    PHONEINITIALIZEEXPARAMS *pp = NULL;
    PHONECALLBACK cb = NULL;
    HPHONEAPP happ = 0;
    DWORD ndev = 0, api = TAPI_CURRENT_VERSION;
    uint8_t b = fuzz_u8(in);
    int kind = K_POLL, may_fail, first = !M.rt_live;
    LONG rc, want = OK;
    HPHONEAPP *php = &happ;

    if (napps_live() >= M_APPS || M.napps >= M_APPS_ALL)
        return;
    memset(&params, 0, sizeof(params));
    params.dwTotalSize = sizeof(params);
    switch (b % 12) {
    case 0: case 1: case 2:
        break;
    case 3:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
        kind = K_EVENT;
        break;
    case 4:
        cb = on_callback;
        kind = K_CB;
        break;
    case 5:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
        cb = on_callback;
        kind = K_CB;
        break;
    case 6:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
        want = PHONEERR_INVALPOINTER;
        break;
    case 7:
        pp = &params;
        params.dwOptions = (b & 0x80) ? PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT : 4 + (b >> 4);
        want = PHONEERR_INVALPARAM;
        break;
    case 8:
        pp = &params;
        params.dwTotalSize = (b >> 4) % sizeof(params);
        params.dwNeededSize = 0xABCD;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
        want = PHONEERR_STRUCTURETOOSMALL;
        break;
    case 9:
        api = (b & 0x80) ? 0x00010002u : 0;
        want = PHONEERR_INCOMPATIBLEAPIVERSION;
        break;
    case 10:
        php = NULL;
        want = PHONEERR_INVALPOINTER;
        break;
    default:
        pp = &params;
        params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
        cb = on_callback; /* ignored with USEEVENT */
        kind = K_EVENT;
        break;
    }
    may_fail = want == OK ? fa_arm(in) : 0;
    /* phoneInitializeExA is the SDK's ANSI name for the same call. */
    rc = ((b & 0x20) ? phoneInitializeExA : phoneInitializeEx)(php, NULL, cb,
                                                               (b & 0x40) ? NULL : "fuzz",
                                                               &ndev, &api, pp);
    fa_disarm();
    TRACE("  phoneInitializeEx(case %d) = %s, app %#x\n", b % 12, fa_err_name(rc), happ);
    if (want == (LONG)PHONEERR_STRUCTURETOOSMALL)
        FUZZ_CHECK(params.dwNeededSize == (params.dwTotalSize >= 12 ? sizeof(params) : 0xABCDu),
                   "dwNeededSize %u for dwTotalSize %u", params.dwNeededSize,
                   params.dwTotalSize);
    if (may_fail && rc == (LONG)PHONEERR_NOMEM) {
        FUZZ_CHECK(tapiq_last_error()[0] != '\0', "NOMEM without a message");
        if (first)
            FUZZ_CHECK(phoneSetLamp(1, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_UNINITIALIZED,
                       "runtime left running after NOMEM");
        return;
    }
    FUZZ_CHECK(rc == want, "phoneInitializeEx returned %s, expected %s", fa_err_name(rc),
               fa_err_name(want));
    if (rc != OK)
        return;
    FUZZ_CHECK(happ != 0, "HPHONEAPP 0");
    FUZZ_CHECK(find_app(happ) == NULL, "HPHONEAPP %#x given twice", happ);
    if (first)
        model_runtime_start();
    FUZZ_CHECK(ndev == M.rc.devices, "%u devices, configured %u", ndev, M.rc.devices);
    FUZZ_CHECK(api == TAPI_VERSION2_2, "API version %#x", api);
    M.apps[M.napps].h = happ;
    M.apps[M.napps].live = 1;
    M.apps[M.napps].kind = kind;
    M.apps[M.napps].fd = -1;
    M.apps[M.napps].reserved = 0;
    M.apps[M.napps].dirty = 0;
    if (kind == K_EVENT) {
        M.apps[M.napps].fd = (int)(intptr_t)params.Handles.hEvent;
        FUZZ_CHECK(M.apps[M.napps].fd >= 0, "USEEVENT gave no fd");
        FUZZ_CHECK(!fd_readable(M.apps[M.napps].fd, 0), "USEEVENT fd readable with nothing pending");
    }
    M.napps++;
}

void op_shutdown(struct fuzz_in *in)
{
    uint32_t h = pick_app(in);
    int valid = app_valid(h), may_fail = fa_arm(in);
    LONG rc = phoneShutdown(h);
    struct m_app *a;
    (void)may_fail;
    fa_disarm();
    TRACE("  phoneShutdown(%#x) = %s\n", h, fa_err_name(rc));
    check_errs("phoneShutdown", rc, &(struct errs){{PHONEERR_INVALAPPHANDLE}, !valid}, 1, 0);
    if (!valid)
        return;
    a = find_app(h);
    for (int i = 0; i < M.nhs; i++)
        if (M.hs[i].open && &M.apps[M.hs[i].app] == a)
            model_close(&M.hs[i]);
    if (a->kind == K_CB)
        pump_callbacks(); /* its thread is joined: everything it delivered is here */
    a->live = 0;
    for (int i = 0; i < M.nreqs; i++)
        if (&M.apps[M.reqs[i].app] == a)
            M.reqs[i].gone = 1; /* its completion queues are gone */
    if (napps_live() == 0)
        model_runtime_stop();
    /* A shut-down application is no application. */
    {
        PHONEMESSAGE m;
        FUZZ_CHECK(phoneGetMessage(h, &m, 0) == (LONG)PHONEERR_INVALAPPHANDLE,
                   "phoneGetMessage after phoneShutdown");
    }
}

const DWORD fa_api_tab[] = {TAPI_VERSION2_2, TAPI_VERSION2_0, TAPI_VERSION1_4,
                                TAPI_VERSION1_0, TAPI_VERSION2_1, 0x00010002u,
                                0x00020003u, 0};

void op_open(struct fuzz_in *in)
{
    uint32_t happ = pick_app(in);
    uint8_t b = fuzz_u8(in), c = fuzz_u8(in);
    DWORD dev = (b & 0x80) ? fuzz_u32(in) : (DWORD)(b & 7);
    DWORD api = fa_api_tab[c & 7];
    DWORD ext = (c & 0x08) ? 1 : 0;
    DWORD priv = (c & 0x30) == 0x30 ? (c & 0x40 ? 0 : 3)
                 : (c & 0x10)       ? PHONEPRIVILEGE_MONITOR
                                    : PHONEPRIVILEGE_OWNER;
    DWORD_PTR inst = (DWORD_PTR)fuzz_u32(in) << 3 | (DWORD_PTR)M.nhs;
    HPHONE hphone = 0;
    int null_ptr = (b & 0x60) == 0x60 && (c & 0x80);
    struct errs e = {{0}, 0};
    int valid = app_valid(happ), may_fail;
    LONG rc;

    if (M.nhs >= M_HANDLES)
        return;
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    if (valid) {
        errs_add(&e, dev >= M.rc.devices, PHONEERR_BADDEVICEID);
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, api < TAPI_VERSION1_0 || api > TAPI_VERSION2_2,
                 PHONEERR_INCOMPATIBLEAPIVERSION);
        errs_add(&e, ext != 0, PHONEERR_INCOMPATIBLEEXTVERSION);
        errs_add(&e, priv != PHONEPRIVILEGE_OWNER && priv != PHONEPRIVILEGE_MONITOR,
                 PHONEERR_INVALPRIVILEGE);
    }
    may_fail = e.n == 0 ? fa_arm(in) : 0;
    rc = phoneOpen(happ, dev, null_ptr ? NULL : &hphone, api, ext, inst, priv);
    fa_disarm();
    TRACE("  phoneOpen(%#x, dev %u, api %#x, ext %u, priv %u) = %s, handle %#x\n", happ, dev,
          api, ext, priv, fa_err_name(rc), hphone);
    check_errs("phoneOpen", rc, &e, !valid, may_fail ? PHONEERR_NOMEM : 0);
    if (rc != OK)
        return;
    FUZZ_CHECK(hphone != 0, "HPHONE 0");
    FUZZ_CHECK(find_handle(hphone) == NULL, "HPHONE %#x given twice (a closed handle aliased)",
               hphone);
    {
        struct m_handle *hm = &M.hs[M.nhs++];
        memset(hm, 0, sizeof(*hm));
        hm->h = hphone;
        hm->open = 1;
        hm->app = (int)(find_app(happ) - M.apps);
        hm->dev = dev;
        hm->priv = priv;
        hm->api = api;
        hm->inst = inst;
        hm->sub_since = -1;
    }
}

void op_close(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    struct m_handle *hm = open_handle(h);
    int may_fail = fa_arm(in);
    LONG rc = phoneClose(h);
    (void)may_fail;
    fa_disarm();
    TRACE("  phoneClose(%#x) = %s\n", h, fa_err_name(rc));
    check_errs("phoneClose", rc,
               &(struct errs){{M.rt_live ? PHONEERR_INVALPHONEHANDLE : PHONEERR_UNINITIALIZED},
                              hm == NULL},
               1, 0);
    if (hm) {
        model_close(hm);
        /* A closed handle stays closed. */
        FUZZ_CHECK(phoneSetLamp(h, 0, PHONELAMPMODE_OFF) == (LONG)PHONEERR_INVALPHONEHANDLE,
                   "phoneSetLamp on a closed handle");
        M.rejected[TAPIQ_REJECT_INVALPHONEHANDLE]++;
    }
}
