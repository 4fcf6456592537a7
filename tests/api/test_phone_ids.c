/* The synchronous phone functions around devices and applications:
 * phoneGetID(A/W) ("tapi/phone": the device id), phoneGetIcon(A/W) and
 * phoneConfigDialog(A/W) (no icons, no dialogs on Linux),
 * phoneNegotiateExtVersion (no extensions), phoneInitialize (TAPI 1.x,
 * callbacks) and phoneInitializeExW, each with its success path and its
 * errors in the documented order; and UTF-8 button texts of a backend
 * coming back as UTF-16 from phoneGetButtonInfoW, with the provider call
 * tapiq_host_set_device_attrs refusing every out-of-range value. */
#include <pthread.h>
#include <stddef.h>

#include "tq_test.h"

/* ------------------------------------------------ a backend with texts */

static const char *const g_texts[3] = {"Ruf \xE2\x86\x92", "\xF0\x9F\x93\x9E", "bad\xFF"};
static int g_refused[32], g_nrefused, g_valid, g_again, g_short;

static int attrs_start(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps,
                       void **state, char *err, size_t errlen)
{
    static const uint32_t modes[3] = {PHONEBUTTONMODE_FEATURE, PHONEBUTTONMODE_CALL,
                                      PHONEBUTTONMODE_LOCAL};
    static const uint32_t fns[3] = {PHONEBUTTONFUNCTION_TRANSFER, PHONEBUTTONFUNCTION_NONE,
                                    PHONEBUTTONFUNCTION_SEND};
    static const uint32_t sizes[2] = {4, 65536};
    static const uint32_t zero_size[1] = {0};
    static const uint32_t two_bits[3] = {3, 2, 2};
    static const uint32_t bad_fn[3] = {0, 48, 0};
    tapiq_device_attrs ok, b;
    (void)cfg;
    (void)err;
    (void)errlen;
    (void)lamps;
    for (uint32_t d = 0; d < devices; d++)
        if (tapiq_host_add_device(host, 3, NULL, 1) < 0)
            return -EINVAL;
    memset(&ok, 0, sizeof ok);
    ok.display_rows = 1;
    ok.display_columns = 4096;
    ok.ring_modes = 255;
    ok.hookswitch_devs = 7;
    ok.hookswitch_modes[1] = PHONEHOOKSWITCHMODE_ONHOOK | PHONEHOOKSWITCHMODE_MIC;
    ok.volume_devs = PHONEHOOKSWITCHDEV_HEADSET;
    ok.gain_devs = PHONEHOOKSWITCHDEV_SPEAKER;
    ok.data_areas = 2;
    ok.data_sizes = sizes;
    ok.button_text_max = 8;
    ok.button_modes = modes;
    ok.button_functions = fns;
    ok.button_texts = g_texts;

#define REFUSE(change)                                                                       \
    do {                                                                                     \
        b = ok;                                                                              \
        change;                                                                              \
        g_refused[g_nrefused++] = tapiq_host_set_device_attrs(host, 0, &b, sizeof b);         \
    } while (0)
    REFUSE(b.display_rows = 0);
    REFUSE(b.display_columns = 0);
    REFUSE(b.display_rows = 2);
    REFUSE(b.ring_modes = 256);
    REFUSE(b.hookswitch_devs = 8);
    REFUSE(b.hookswitch_devs = 1);          /* volume / gain devices not among them */
    REFUSE(b.hookswitch_modes[0] = PHONEHOOKSWITCHMODE_MIC); /* without ONHOOK */
    REFUSE(b.hookswitch_modes[2] = PHONEHOOKSWITCHMODE_ONHOOK | PHONEHOOKSWITCHMODE_UNKNOWN);
    REFUSE(b.data_areas = 65);
    REFUSE(b.data_sizes = NULL);
    REFUSE(b.data_areas = 1; b.data_sizes = zero_size);
    REFUSE(b.button_text_max = 256);
    REFUSE(b.button_text_max = 5); /* "Ruf ->" is 6 bytes */
    REFUSE(b.button_modes = two_bits);
    REFUSE(b.button_functions = bad_fn);
#undef REFUSE
    g_refused[g_nrefused++] = tapiq_host_set_device_attrs(host, devices, &ok, sizeof ok);
    g_refused[g_nrefused++] = tapiq_host_set_device_attrs(host, 0, NULL, sizeof ok);
    g_valid = tapiq_host_set_device_attrs(host, 0, &ok, sizeof ok);
    g_again = tapiq_host_set_device_attrs(host, 0, &ok, sizeof ok);
    /* A caller that knows only the display fields: the rest count as 0. */
    g_short = tapiq_host_set_device_attrs(host, 1, &ok,
                                          offsetof(tapiq_device_attrs, ring_modes));
    *state = host;
    return 0;
}

static void attrs_apply(void *state, uint32_t device, tapiq_batch *batch)
{
    size_t n;
    tapiq_update *u = tapiq_batch_updates(batch, &n);
    (void)state;
    (void)device;
    for (size_t i = 0; i < n; i++)
        u[i].status = 0;
    tapiq_batch_complete(batch);
}

static void attrs_stop(void *state)
{
    (void)state;
}

static const tapiq_backend_ops attrs_ops = {
    .name = "attrs-test",
    .start = attrs_start,
    .apply = attrs_apply,
    .stop = attrs_stop,
};

static int wide_is(const void *p, const uint16_t *want, size_t n)
{
    return memcmp(p, want, n * 2) == 0;
}

static void case_backend_attrs(void)
{
    unsigned char buf[512];
    PHONEBUTTONINFO *bi = (PHONEBUTTONINFO *)buf;
    static const uint16_t w0[] = {'R', 'u', 'f', ' ', 0x2192, 0};
    static const uint16_t w1[] = {0xD83D, 0xDCDE, 0};
    static const uint16_t w2[] = {'b', 'a', 'd', 0xFFFD, 0};
    static const uint16_t *const wants[3] = {w0, w1, w2};
    static const size_t lens[3] = {6, 3, 5};
    PHONECAPS caps;
    HPHONEAPP app;
    HPHONE h, h1;
    DWORD d;

    TQ_CHECK(tapiq_register_backend(&attrs_ops) == 0);
    app = tq_start("backend=attrs-test,devices=2,lamps=3", NULL);
    TQ_CHECK(g_nrefused == 17);
    for (int i = 0; i < g_nrefused; i++)
        TQ_CHECKF(g_refused[i] == -EINVAL, "refusal %d returned %d", i, g_refused[i]);
    TQ_CHECK(g_valid == 0 && g_again == -EINVAL && g_short == 0);
    h = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 0);
    for (DWORD id = 0; id < 3; id++) {
        memset(buf, 0xEE, sizeof buf);
        bi->dwTotalSize = sizeof buf;
        TQ_EXPECT(phoneGetButtonInfoW(h, id, bi), 0);
        TQ_CHECKF(bi->dwButtonTextSize == 2 * lens[id] &&
                      wide_is(buf + bi->dwButtonTextOffset, wants[id], lens[id]),
                  "button %u: %u bytes of UTF-16", (unsigned)id, (unsigned)bi->dwButtonTextSize);
        memset(buf, 0xEE, sizeof buf);
        bi->dwTotalSize = sizeof buf;
        TQ_EXPECT(phoneGetButtonInfoA(h, id, bi), 0); /* the backend's bytes */
        TQ_CHECK(bi->dwButtonTextSize == strlen(g_texts[id]) + 1 &&
                 memcmp(buf + bi->dwButtonTextOffset, g_texts[id], bi->dwButtonTextSize) == 0);
    }
    TQ_EXPECT(phoneGetButtonInfo(h, 2, bi), 0);
    TQ_CHECK(bi->dwButtonMode == PHONEBUTTONMODE_LOCAL &&
             bi->dwButtonFunction == PHONEBUTTONFUNCTION_SEND);
    /* volume only on the headset, gain only on the speaker */
    TQ_EXPECT(phoneGetVolume(h, PHONEHOOKSWITCHDEV_HEADSET, &d), 0);
    TQ_EXPECT(phoneGetVolume(h, PHONEHOOKSWITCHDEV_SPEAKER, &d), PHONEERR_INVALHOOKSWITCHDEV);
    TQ_EXPECT(phoneGetGain(h, PHONEHOOKSWITCHDEV_SPEAKER, &d), 0);
    TQ_EXPECT(phoneGetGain(h, PHONEHOOKSWITCHDEV_HANDSET, &d), PHONEERR_INVALHOOKSWITCHDEV);
    memset(&caps, 0, sizeof caps);
    caps.dwTotalSize = sizeof caps;
    TQ_EXPECT(phoneGetDevCaps(app, 0, TQ_API, 0, &caps), 0);
    TQ_CHECK(caps.dwSpeakerHookSwitchModes ==
                 (PHONEHOOKSWITCHMODE_ONHOOK | PHONEHOOKSWITCHMODE_MIC) &&
             caps.dwDisplayNumColumns == 4096 && caps.dwNumRingModes == 255 &&
             caps.dwNumGetData == 2);
    /* device 1: only the display fields were given */
    h1 = tq_open(app, 1, PHONEPRIVILEGE_MONITOR, 0);
    TQ_EXPECT(phoneGetRing(h1, &d, &d), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetDevCaps(app, 1, TQ_API, 0, &caps), 0);
    TQ_CHECK(caps.dwDisplayNumRows == 1 && caps.dwNumRingModes == 0 && caps.dwHookSwitchDevs == 0);
    TQ_EXPECT(phoneShutdown(app), 0);
    TQ_CHECK(tapiq_configure(NULL) == 0);
}

/* ------------------------------------------------------------ phoneGetID */

static void case_get_id(HPHONEAPP app, HPHONE h1, HPHONE mon2, HPHONE closed)
{
    unsigned char buf[64];
    VARSTRING *v = (VARSTRING *)buf;
    static const char *const good_a[] = {"tapi/phone", "TAPI/Phone", "tApI/pHoNe"};
    static const char *const bad_a[] = {"tapi/line", "", "tapi/phon", "tapi/phonex", "comm",
                                        "tapi/phone "};
    DWORD id;

    for (size_t i = 0; i < sizeof good_a / sizeof good_a[0]; i++) {
        memset(buf, 0xEE, sizeof buf);
        v->dwTotalSize = sizeof buf;
        TQ_EXPECT((i % 2 ? phoneGetID : phoneGetIDA)(h1, v, good_a[i]), 0);
        TQ_CHECK(v->dwNeededSize == 28 && v->dwUsedSize == 28 &&
                 v->dwStringFormat == STRINGFORMAT_BINARY && v->dwStringSize == 4 &&
                 v->dwStringOffset == 24);
        memcpy(&id, buf + 24, 4);
        TQ_CHECK(id == 1);
        for (size_t k = 28; k < sizeof buf; k++)
            TQ_CHECK(buf[k] == 0xEE);
    }
    memset(buf, 0xEE, sizeof buf);
    v->dwTotalSize = sizeof buf;
    TQ_EXPECT(phoneGetIDW(mon2, v, u"Tapi/PHONE"), 0); /* a monitor handle, UTF-16 */
    memcpy(&id, buf + v->dwStringOffset, 4);
    TQ_CHECK(id == 2 && v->dwStringFormat == STRINGFORMAT_BINARY);
    for (size_t i = 0; i < sizeof bad_a / sizeof bad_a[0]; i++)
        TQ_EXPECT(phoneGetIDA(h1, v, bad_a[i]), PHONEERR_INVALDEVICECLASS);
    TQ_EXPECT(phoneGetIDW(h1, v, u"tapi/line"), PHONEERR_INVALDEVICECLASS);
    TQ_EXPECT(phoneGetIDW(h1, v, u""), PHONEERR_INVALDEVICECLASS);
    TQ_EXPECT(phoneGetIDW(h1, v, u"tapi/phone\x00E9"), PHONEERR_INVALDEVICECLASS);
    /* fixed part only: success, the size says how much */
    memset(buf, 0xEE, sizeof buf);
    v->dwTotalSize = 24;
    TQ_EXPECT(phoneGetID(h1, v, "tapi/phone"), 0);
    TQ_CHECK(v->dwUsedSize == 24 && v->dwNeededSize == 28 && v->dwStringSize == 0 &&
             buf[24] == 0xEE);
    /* too small: dwNeededSize when there is room for it, nothing else */
    memset(buf, 0xEE, sizeof buf);
    v->dwTotalSize = 23;
    TQ_EXPECT(phoneGetID(h1, v, "tapi/phone"), PHONEERR_STRUCTURETOOSMALL);
    TQ_CHECK(v->dwNeededSize == 28 && buf[12] == 0xEE);
    memset(buf, 0xEE, sizeof buf);
    v->dwTotalSize = 8;
    TQ_EXPECT(phoneGetID(h1, v, "tapi/phone"), PHONEERR_STRUCTURETOOSMALL);
    TQ_CHECK(buf[8] == 0xEE);
    /* order: handle, pointers, class, size */
    TQ_EXPECT(phoneGetID(0, NULL, NULL), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneGetIDW(closed, v, u"tapi/phone"), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneGetID(h1, NULL, "tapi/phone"), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetID(h1, NULL, "bogus"), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetIDA(h1, v, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetIDW(h1, v, NULL), PHONEERR_INVALPOINTER);
    v->dwTotalSize = 8;
    TQ_EXPECT(phoneGetID(h1, v, "bogus"), PHONEERR_INVALDEVICECLASS);
    (void)app;
}

/* ------------------------------------------- icons, dialogs, extensions */

static void case_icon_dialog(DWORD ndev)
{
    HICON icon;
    const HICON marker = (HICON)&icon;
    static const char *const own_a[] = {NULL, "", "tapi/phone", "TAPI/PHONE"};
    static const char *const other_a[] = {"comm", "tapi/line", "wave/in", "tapi/phone/x"};

    for (size_t i = 0; i < sizeof own_a / sizeof own_a[0]; i++) {
        icon = marker;
        TQ_EXPECT((i % 2 ? phoneGetIcon : phoneGetIconA)(0, own_a[i], &icon),
                  PHONEERR_OPERATIONFAILED);
        TQ_CHECK(icon == NULL);
        TQ_EXPECT((i % 2 ? phoneConfigDialog : phoneConfigDialogA)(ndev - 1, NULL, own_a[i]),
                  PHONEERR_OPERATIONUNAVAIL);
    }
    icon = marker;
    TQ_EXPECT(phoneGetIconW(0, u"tapi/Phone", &icon), PHONEERR_OPERATIONFAILED);
    TQ_CHECK(icon == NULL);
    TQ_EXPECT(phoneGetIconW(0, NULL, &icon), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(phoneGetIconW(0, u"", &icon), PHONEERR_OPERATIONFAILED);
    TQ_EXPECT(phoneConfigDialogW(0, NULL, u"tapi/phone"), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneConfigDialogW(0, NULL, NULL), PHONEERR_OPERATIONUNAVAIL);
    for (size_t i = 0; i < sizeof other_a / sizeof other_a[0]; i++) {
        icon = marker;
        TQ_EXPECT(phoneGetIconA(0, other_a[i], &icon), PHONEERR_INVALDEVICECLASS);
        TQ_CHECK(icon == NULL);
        TQ_EXPECT(phoneConfigDialog(0, NULL, other_a[i]), PHONEERR_INVALDEVICECLASS);
    }
    TQ_EXPECT(phoneGetIconW(0, u"comm", &icon), PHONEERR_INVALDEVICECLASS);
    TQ_EXPECT(phoneConfigDialogW(0, NULL, u"comm"), PHONEERR_INVALDEVICECLASS);
    /* order: device, pointer, class */
    TQ_EXPECT(phoneGetIcon(ndev, "comm", NULL), PHONEERR_BADDEVICEID);
    TQ_EXPECT(phoneGetIcon(0xFFFFFFFFu, NULL, &icon), PHONEERR_BADDEVICEID);
    TQ_EXPECT(phoneGetIconA(0, "comm", NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetIconW(0, NULL, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneConfigDialog(ndev, NULL, "comm"), PHONEERR_BADDEVICEID);
    TQ_EXPECT(phoneConfigDialogW(ndev, NULL, NULL), PHONEERR_BADDEVICEID);
}

static void case_ext_version(HPHONEAPP app, DWORD ndev)
{
    DWORD ext = 0x5A5A5A5A;
    TQ_EXPECT(phoneNegotiateExtVersion(app, 0, TAPI_VERSION2_2, 0, 0xFFFFFFFF, &ext),
              PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneNegotiateExtVersion(app, ndev - 1, TAPI_VERSION1_0, 0x10000, 0x10000, &ext),
              PHONEERR_OPERATIONUNAVAIL);
    TQ_CHECK(ext == 0x5A5A5A5A); /* nothing negotiated, nothing written */
    /* order: application, device, pointer, API version */
    TQ_EXPECT(phoneNegotiateExtVersion(0, ndev, 0, 0, 0, NULL), PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneNegotiateExtVersion(app ^ 0x10000u, 0, TQ_API, 0, 0, &ext),
              PHONEERR_INVALAPPHANDLE);
    TQ_EXPECT(phoneNegotiateExtVersion(app, ndev, 0, 0, 0, NULL), PHONEERR_BADDEVICEID);
    TQ_EXPECT(phoneNegotiateExtVersion(app, 0, 0, 0, 0, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneNegotiateExtVersion(app, 0, 0x00010002, 0, 0, &ext),
              PHONEERR_INCOMPATIBLEAPIVERSION);
    TQ_EXPECT(phoneNegotiateExtVersion(app, 0, 0x00020003, 0, 0, &ext),
              PHONEERR_INCOMPATIBLEAPIVERSION);
    TQ_EXPECT(phoneNegotiateExtVersion(app, 0, 0x00030001, 0, 0, &ext),
              PHONEERR_INCOMPATIBLEAPIVERSION);
}

/* With no application at all. */
static void case_no_app(HPHONEAPP stale_app, HPHONE stale)
{
    HICON icon;
    VARSTRING v;
    DWORD ext;
    memset(&v, 0, sizeof v);
    v.dwTotalSize = sizeof v;
    TQ_EXPECT(phoneGetIcon(0, NULL, &icon), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetIconW(999, u"comm", NULL), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneConfigDialog(0, NULL, NULL), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneConfigDialogW(999, NULL, u"comm"), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetID(stale, &v, "tapi/phone"), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetIDW(stale, NULL, NULL), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneNegotiateExtVersion(stale_app, 0, TQ_API, 0, 0, &ext),
              PHONEERR_INVALAPPHANDLE);
}

/* ---------------------------------------------------------- initialize */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static PHONEMESSAGE g_got[8];
static int g_ngot;

static void on_message(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance, DWORD_PTR dwParam1,
                       DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    pthread_mutex_lock(&g_mu);
    if (g_ngot < 8) {
        PHONEMESSAGE m = {hDevice, dwMessage, dwInstance, dwParam1, dwParam2, dwParam3};
        g_got[g_ngot++] = m;
    }
    pthread_mutex_unlock(&g_mu);
}

static void case_initialize(void)
{
    HPHONEAPP app = 0, app2 = 0;
    HPHONE h = 0;
    DWORD n = 0, ver = TQ_API;
    PHONEMESSAGE m;
    PHONEINITIALIZEEXPARAMS p;
    LONG id;
    int got = 0;

    TQ_CHECK(tapiq_configure("devices=3,lamps=4") == 0);
    TQ_EXPECT(phoneInitialize(&app, NULL, NULL, "tapi 1.x", &n), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneInitialize(NULL, NULL, on_message, "tapi 1.x", &n), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneInitialize(&app, NULL, on_message, "tapi 1.x", NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneInitialize(&app, NULL, on_message, "tapi 1.x", &n), 0);
    TQ_CHECK(app != 0 && n == 3);
    /* a callback application: its messages go to the callback */
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneOpen(app, 2, &h, TAPI_VERSION1_4, 0, 77, PHONEPRIVILEGE_OWNER), 0);
    id = phoneSetLamp(h, 3, PHONELAMPMODE_WINK);
    TQ_CHECK(TQ_ID_OK(id));
    for (int i = 0; i < 10000 && !got; i++) {
        pthread_mutex_lock(&g_mu);
        for (int k = 0; k < g_ngot; k++)
            got |= g_got[k].dwMessageID == PHONE_REPLY && g_got[k].dwParam1 == (DWORD_PTR)id &&
                   g_got[k].dwParam2 == 0 && g_got[k].hDevice == h &&
                   g_got[k].dwCallbackInstance == 77;
        pthread_mutex_unlock(&g_mu);
        if (!got)
            tq_sleep_us(1000);
    }
    TQ_CHECK(got);

    /* phoneInitializeExW: a UTF-16 name, beside the first application */
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    TQ_EXPECT(phoneInitializeExW(&app2, NULL, NULL, u"Zentrale \x00DC" u"bersicht", &n, NULL, &p),
              PHONEERR_INVALPOINTER);
    ver = 0x00010002;
    TQ_EXPECT(phoneInitializeExW(&app2, NULL, NULL, u"Zentrale", &n, &ver, &p),
              PHONEERR_INCOMPATIBLEAPIVERSION);
    ver = TQ_API;
    TQ_EXPECT(phoneInitializeExW(&app2, NULL, NULL, u"Zentrale \x00DC" u"bersicht \xD83D\xDCDE",
                                 &n, &ver, &p),
              0);
    TQ_CHECK(app2 != 0 && app2 != app && n == 3 && ver == TAPI_VERSION2_2 &&
             (int)(intptr_t)p.Handles.hEvent >= 0);
    TQ_EXPECT(phoneGetMessage(app2, &m, 0), PHONEERR_OPERATIONFAILED); /* polled: nothing */
    TQ_EXPECT(phoneShutdown(app2), 0);
    TQ_EXPECT(phoneInitializeExW(&app2, NULL, NULL, NULL, &n, &ver, &p), 0); /* no name */
    TQ_EXPECT(phoneShutdown(app2), 0);
    TQ_EXPECT(phoneShutdown(app), 0);
    TQ_CHECK(tapiq_configure(NULL) == 0);
}

int main(void)
{
    DWORD ndev = 0;
    HPHONEAPP app = tq_start("devices=3,lamps=2", &ndev);
    HPHONE h1 = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 0);
    HPHONE mon2 = tq_open(app, 2, PHONEPRIVILEGE_MONITOR, 0);
    HPHONE closed = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 0);
    TQ_EXPECT(phoneClose(closed), 0);
    case_get_id(app, h1, mon2, closed);
    case_icon_dialog(ndev);
    case_ext_version(app, ndev);
    TQ_EXPECT(phoneShutdown(app), 0);
    case_no_app(app, h1);
    case_initialize();
    case_backend_attrs();
    printf("test_phone_ids: ok\n");
    return 0;
}
