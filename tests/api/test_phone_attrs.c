/* The phone attributes besides lamps, through the public API over the mem
 * backend: per-console configuration (plain keys, KEY@N and KEY@A-B
 * overrides, the later of two overlapping ranges winning, consoles left
 * with lamps only), what PHONECAPS and PHONESTATUS report (A and W, every
 * variable field inside dwUsedSize, nothing written beyond), the initial
 * state through every getter, each getter's errors in their documented
 * order, and configuration errors (PHONEERR_INIFILECORRUPT with a message). */
#include "tq_test.h"

#define NDEV 5
#define NLAMP 4

/* Console 0, 1 and 4 (offline) have the plain attributes (1 a smaller
 * display), 2 its own display, hookswitch device and buttons, 3 lamps
 * only. */
static const char *const CONFIG =
    "devices=5,lamps=4,offline=1,display=2x8,ring_modes=3,hookswitch=handset+headset,"
    "buttons=feature:hold:Hold+call:7:Line 1+dummy+keypad,button_text=12,data=8+32,"
    "display@3=none,ring_modes@3=0,hookswitch@3=none,buttons@3=none,data@3=none,"
    "display@1-2=1x4,display@2=3x3,hookswitch@2=speaker,buttons@2=call";

#define HS_MODES                                                                             \
    (PHONEHOOKSWITCHMODE_ONHOOK | PHONEHOOKSWITCHMODE_MIC | PHONEHOOKSWITCHMODE_SPEAKER |    \
     PHONEHOOKSWITCHMODE_MICSPEAKER)
#define BASE_STATES                                                                          \
    (PHONESTATE_OTHER | PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED | PHONESTATE_OWNER |  \
     PHONESTATE_MONITORS | PHONESTATE_LAMP | PHONESTATE_DEVSPECIFIC)
#define LAMP_FEATURES (PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP | PHONEFEATURE_GETBUTTONINFO)

static unsigned char g_buf[8192];

static DWORD dword_at(const void *base, DWORD off)
{
    DWORD v;
    memcpy(&v, (const unsigned char *)base + off, sizeof v);
    return v;
}

/* A variable field lies after the fixed part, 4-aligned, inside dwUsedSize. */
static void check_field(DWORD size, DWORD off, DWORD fixed, DWORD used, const char *what)
{
    if (size == 0)
        return;
    TQ_CHECKF(off >= fixed && off % 4 == 0 && off + size <= used,
              "%s at %u+%u (fixed %u, used %u)", what, (unsigned)off, (unsigned)size,
              (unsigned)fixed, (unsigned)used);
}

static void check_untouched(size_t from, const char *what)
{
    for (size_t i = from; i < sizeof g_buf; i++)
        TQ_CHECKF(g_buf[i] == 0xEE, "%s: byte %zu beyond dwUsedSize written", what, i);
}

/* UTF-16 at @p equals the ASCII string @s (with its NUL). */
static int wide_eq(const unsigned char *p, const char *s)
{
    size_t i = 0;
    for (;; i++) {
        uint16_t u;
        memcpy(&u, p + 2 * i, 2);
        if (u != (unsigned char)s[i])
            return 0;
        if (!s[i])
            return 1;
    }
}

static PHONECAPS *get_caps(HPHONEAPP app, DWORD dev, int wide)
{
    PHONECAPS *c = (PHONECAPS *)g_buf;
    memset(g_buf, 0xEE, sizeof g_buf);
    c->dwTotalSize = sizeof g_buf;
    TQ_EXPECT((wide ? phoneGetDevCapsW : phoneGetDevCapsA)(app, dev, TQ_API, 0, c), 0);
    TQ_CHECK(c->dwTotalSize == sizeof g_buf && c->dwNeededSize == c->dwUsedSize);
    check_untouched(c->dwUsedSize, "PHONECAPS");
    check_field(c->dwProviderInfoSize, c->dwProviderInfoOffset, sizeof *c, c->dwUsedSize,
                "provider info");
    check_field(c->dwPhoneNameSize, c->dwPhoneNameOffset, sizeof *c, c->dwUsedSize, "name");
    check_field(c->dwButtonModesSize, c->dwButtonModesOffset, sizeof *c, c->dwUsedSize,
                "button modes");
    check_field(c->dwButtonFunctionsSize, c->dwButtonFunctionsOffset, sizeof *c, c->dwUsedSize,
                "button functions");
    check_field(c->dwLampModesSize, c->dwLampModesOffset, sizeof *c, c->dwUsedSize,
                "lamp modes");
    check_field(c->dwSetDataSize, c->dwSetDataOffset, sizeof *c, c->dwUsedSize, "set data");
    check_field(c->dwGetDataSize, c->dwGetDataOffset, sizeof *c, c->dwUsedSize, "get data");
    check_field(c->dwDeviceClassesSize, c->dwDeviceClassesOffset, sizeof *c, c->dwUsedSize,
                "device classes");
    TQ_CHECK(c->dwNumButtonLamps == NLAMP && c->dwButtonModesSize == 4 * NLAMP &&
             c->dwButtonFunctionsSize == 4 * NLAMP && c->dwLampModesSize == 4 * NLAMP);
    TQ_CHECK(c->dwStringFormat == (wide ? STRINGFORMAT_UNICODE : STRINGFORMAT_ASCII));
    if (wide) {
        TQ_CHECK(c->dwProviderInfoSize == 20 && wide_eq(g_buf + c->dwProviderInfoOffset,
                                                        "tapiq mem"));
        TQ_CHECK(c->dwDeviceClassesSize == 24 &&
                 wide_eq(g_buf + c->dwDeviceClassesOffset, "tapi/phone") &&
                 dword_at(g_buf, c->dwDeviceClassesOffset + 20) == 0);
    } else {
        TQ_CHECK(c->dwProviderInfoSize == 10 &&
                 memcmp(g_buf + c->dwProviderInfoOffset, "tapiq mem", 10) == 0);
        TQ_CHECK(c->dwDeviceClassesSize == 12 &&
                 memcmp(g_buf + c->dwDeviceClassesOffset, "tapi/phone\0", 12) == 0);
    }
    for (DWORD l = 0; l < NLAMP; l++)
        TQ_CHECK(dword_at(g_buf, c->dwLampModesOffset + 4 * l) == TQ_MEM_MODES);
    return c;
}

static void case_caps(HPHONEAPP app)
{
    static const DWORD modes0[NLAMP] = {PHONEBUTTONMODE_FEATURE, PHONEBUTTONMODE_CALL,
                                        PHONEBUTTONMODE_DUMMY, PHONEBUTTONMODE_KEYPAD};
    static const DWORD fns0[NLAMP] = {PHONEBUTTONFUNCTION_HOLD, PHONEBUTTONFUNCTION_CONNECT,
                                      PHONEBUTTONFUNCTION_NONE, PHONEBUTTONFUNCTION_UNKNOWN};
    const DWORD states0 = BASE_STATES | PHONESTATE_DISPLAY | PHONESTATE_RINGMODE |
                          PHONESTATE_RINGVOLUME | PHONESTATE_HANDSETHOOKSWITCH |
                          PHONESTATE_HANDSETVOLUME | PHONESTATE_HANDSETGAIN |
                          PHONESTATE_HEADSETHOOKSWITCH | PHONESTATE_HEADSETVOLUME |
                          PHONESTATE_HEADSETGAIN;
    const DWORD features0 = LAMP_FEATURES | PHONEFEATURE_GETDISPLAY | PHONEFEATURE_GETRING |
                            PHONEFEATURE_GETDATA | PHONEFEATURE_GETHOOKSWITCHHANDSET |
                            PHONEFEATURE_GETHOOKSWITCHHEADSET | PHONEFEATURE_GETVOLUMEHANDSET |
                            PHONEFEATURE_GETVOLUMEHEADSET | PHONEFEATURE_GETGAINHANDSET |
                            PHONEFEATURE_GETGAINHEADSET | PHONEFEATURE_SETBUTTONINFO |
                            PHONEFEATURE_SETDISPLAY | PHONEFEATURE_SETRING | PHONEFEATURE_SETDATA |
                            PHONEFEATURE_SETHOOKSWITCHHANDSET | PHONEFEATURE_SETHOOKSWITCHHEADSET |
                            PHONEFEATURE_SETVOLUMEHANDSET | PHONEFEATURE_SETVOLUMEHEADSET |
                            PHONEFEATURE_SETGAINHANDSET | PHONEFEATURE_SETGAINHEADSET;
    DWORD need22 = 0;
    for (int wide = 0; wide < 2; wide++) {
        PHONECAPS *c = get_caps(app, 0, wide);
        if (!wide)
            need22 = c->dwNeededSize;
        TQ_CHECKF(c->dwPhoneStates == states0, "states %#x", (unsigned)c->dwPhoneStates);
        TQ_CHECKF(c->dwPhoneFeatures == features0, "features %#x", (unsigned)c->dwPhoneFeatures);
        TQ_CHECK(c->dwHookSwitchDevs == (PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET));
        TQ_CHECK(c->dwHandsetHookSwitchModes == HS_MODES && c->dwSpeakerHookSwitchModes == 0 &&
                 c->dwHeadsetHookSwitchModes == HS_MODES);
        TQ_CHECK(c->dwSettableHandsetHookSwitchModes == HS_MODES &&
                 c->dwMonitoredHeadsetHookSwitchModes == HS_MODES &&
                 c->dwSettableSpeakerHookSwitchModes == 0);
        TQ_CHECK(c->dwVolumeFlags == c->dwHookSwitchDevs && c->dwGainFlags == c->dwHookSwitchDevs);
        TQ_CHECK(c->dwDisplayNumRows == 2 && c->dwDisplayNumColumns == 8);
        TQ_CHECK(c->dwNumRingModes == 3);
        TQ_CHECK(c->dwNumSetData == 2 && c->dwNumGetData == 2 && c->dwSetDataSize == 8 &&
                 c->dwGetDataSize == 8);
        TQ_CHECK(dword_at(g_buf, c->dwGetDataOffset) == 8 &&
                 dword_at(g_buf, c->dwGetDataOffset + 4) == 32 &&
                 dword_at(g_buf, c->dwSetDataOffset + 4) == 32);
        for (DWORD l = 0; l < NLAMP; l++) {
            TQ_CHECK(dword_at(g_buf, c->dwButtonModesOffset + 4 * l) == modes0[l]);
            TQ_CHECK(dword_at(g_buf, c->dwButtonFunctionsOffset + 4 * l) == fns0[l]);
        }
    }
    /* Console 1: the plain attributes but a 1x4 display. */
    {
        PHONECAPS *c = get_caps(app, 1, 0);
        TQ_CHECK(c->dwDisplayNumRows == 1 && c->dwDisplayNumColumns == 4 &&
                 c->dwNumRingModes == 3 && c->dwNumGetData == 2);
    }
    /* Console 2: display 3x3 (the later range wins), a speaker, button 0 a
     * call button of unknown function, the rest lamps without buttons. */
    {
        PHONECAPS *c = get_caps(app, 2, 0);
        TQ_CHECK(c->dwDisplayNumRows == 3 && c->dwDisplayNumColumns == 3);
        TQ_CHECK(c->dwHookSwitchDevs == PHONEHOOKSWITCHDEV_SPEAKER &&
                 c->dwSpeakerHookSwitchModes == HS_MODES && c->dwHandsetHookSwitchModes == 0);
        TQ_CHECK((c->dwPhoneFeatures & (PHONEFEATURE_GETHOOKSWITCHSPEAKER |
                                        PHONEFEATURE_GETHOOKSWITCHHANDSET)) ==
                 PHONEFEATURE_GETHOOKSWITCHSPEAKER);
        TQ_CHECK(dword_at(g_buf, c->dwButtonModesOffset) == PHONEBUTTONMODE_CALL &&
                 dword_at(g_buf, c->dwButtonFunctionsOffset) == PHONEBUTTONFUNCTION_UNKNOWN &&
                 dword_at(g_buf, c->dwButtonModesOffset + 4) == PHONEBUTTONMODE_DUMMY &&
                 dword_at(g_buf, c->dwButtonFunctionsOffset + 4) == PHONEBUTTONFUNCTION_NONE);
    }
    /* Console 3: lamps only. */
    {
        PHONECAPS *c = get_caps(app, 3, 0);
        TQ_CHECK(c->dwPhoneStates == BASE_STATES && c->dwPhoneFeatures == LAMP_FEATURES);
        TQ_CHECK(c->dwDisplayNumRows == 0 && c->dwNumRingModes == 0 &&
                 c->dwHookSwitchDevs == 0 && c->dwNumGetData == 0 && c->dwGetDataSize == 0 &&
                 c->dwVolumeFlags == 0);
        for (DWORD l = 0; l < NLAMP; l++)
            TQ_CHECK(dword_at(g_buf, c->dwButtonModesOffset + 4 * l) == PHONEBUTTONMODE_DUMMY);
    }
    /* The plain name is the A function; TAPI 1.4 has no device classes. */
    {
        PHONECAPS *c = (PHONECAPS *)g_buf;
        DWORD fixed14 = offsetof(PHONECAPS, dwDeviceClassesSize);
        memset(g_buf, 0xEE, sizeof g_buf);
        c->dwTotalSize = sizeof g_buf;
        TQ_EXPECT(phoneGetDevCaps(app, 0, TAPI_VERSION1_4, 0, c), 0);
        TQ_CHECK(c->dwStringFormat == STRINGFORMAT_ASCII && c->dwNumRingModes == 3);
        check_field(c->dwGetDataSize, c->dwGetDataOffset, fixed14, c->dwUsedSize, "1.4 data");
        TQ_CHECK(c->dwNeededSize == c->dwUsedSize);
        check_untouched(c->dwUsedSize, "PHONECAPS 1.4");
        /* the same variable part, less the device classes (12 bytes) */
        TQ_CHECKF(need22 - c->dwNeededSize == sizeof(PHONECAPS) - fixed14 + 12,
                  "needed %u at 2.2, %u at 1.4", (unsigned)need22, (unsigned)c->dwNeededSize);
    }
}

static PHONESTATUS *get_status(HPHONE h, int wide)
{
    PHONESTATUS *s = (PHONESTATUS *)g_buf;
    memset(g_buf, 0xEE, sizeof g_buf);
    s->dwTotalSize = sizeof g_buf;
    TQ_EXPECT((wide ? phoneGetStatusW : phoneGetStatusA)(h, s), 0);
    TQ_CHECK(s->dwNeededSize == s->dwUsedSize);
    check_untouched(s->dwUsedSize, "PHONESTATUS");
    check_field(s->dwDisplaySize, s->dwDisplayOffset, sizeof *s, s->dwUsedSize, "display");
    check_field(s->dwLampModesSize, s->dwLampModesOffset, sizeof *s, s->dwUsedSize, "lamps");
    TQ_CHECK(s->dwOwnerNameSize == 0 && s->dwDevSpecificSize == 0);
    return s;
}

static void case_status(HPHONE own0, HPHONE mon3, HPHONE own4)
{
    for (int wide = 0; wide < 2; wide++) {
        PHONESTATUS *s = get_status(own0, wide);
        TQ_CHECK(s->dwStatusFlags == PHONESTATUSFLAGS_CONNECTED);
        TQ_CHECK(s->dwRingMode == 0 && s->dwRingVolume == 0x8000);
        TQ_CHECK(s->dwHandsetHookSwitchMode == PHONEHOOKSWITCHMODE_ONHOOK &&
                 s->dwHandsetVolume == 0x8000 && s->dwHandsetGain == 0x8000);
        TQ_CHECK(s->dwSpeakerHookSwitchMode == 0 && s->dwSpeakerVolume == 0 &&
                 s->dwSpeakerGain == 0);
        TQ_CHECK(s->dwHeadsetHookSwitchMode == PHONEHOOKSWITCHMODE_ONHOOK &&
                 s->dwHeadsetVolume == 0x8000 && s->dwHeadsetGain == 0x8000);
        TQ_CHECK(s->dwDisplaySize == 17 &&
                 memcmp(g_buf + s->dwDisplayOffset, "                ", 17) == 0);
        TQ_CHECK(s->dwLampModesSize == 4 * NLAMP);
        for (DWORD l = 0; l < NLAMP; l++)
            TQ_CHECK(dword_at(g_buf, s->dwLampModesOffset + 4 * l) == PHONELAMPMODE_OFF);
        TQ_CHECK(s->dwPhoneFeatures & PHONEFEATURE_GETDISPLAY);
    }
    {
        PHONESTATUS *s = get_status(mon3, 0);
        TQ_CHECK(s->dwDisplaySize == 0 && s->dwRingVolume == 0 && s->dwHandsetVolume == 0);
        TQ_CHECK(s->dwPhoneFeatures == LAMP_FEATURES);
        s = get_status(own4, 0); /* offline: state still reported */
        TQ_CHECK(s->dwStatusFlags == 0 && s->dwRingVolume == 0x8000 && s->dwDisplaySize == 17);
    }
    /* Room for the fixed part only. */
    {
        PHONESTATUS *s = (PHONESTATUS *)g_buf;
        memset(g_buf, 0xEE, sizeof g_buf);
        s->dwTotalSize = sizeof(PHONESTATUS);
        TQ_EXPECT(phoneGetStatus(own0, s), 0);
        TQ_CHECK(s->dwUsedSize == sizeof(PHONESTATUS) &&
                 s->dwNeededSize == sizeof(PHONESTATUS) + 4 * NLAMP + 20);
        TQ_CHECK(s->dwDisplaySize == 0 && s->dwLampModesSize == 0 && s->dwRingVolume == 0x8000);
        check_untouched(sizeof(PHONESTATUS), "PHONESTATUS fixed only");
    }
}

/* The initial state through each getter, from an owner and a monitor. */
static void case_getters(HPHONE h)
{
    DWORD a = 1, b = 1;
    VARSTRING *v = (VARSTRING *)g_buf;
    unsigned char data[40];

    memset(g_buf, 0xEE, sizeof g_buf);
    v->dwTotalSize = sizeof g_buf;
    TQ_EXPECT(phoneGetDisplay(h, v), 0);
    TQ_CHECK(v->dwStringFormat == STRINGFORMAT_ASCII && v->dwStringSize == 17 &&
             v->dwStringOffset == sizeof(VARSTRING) && v->dwUsedSize == v->dwNeededSize &&
             v->dwUsedSize == 44);
    TQ_CHECK(memcmp(g_buf + v->dwStringOffset, "                ", 17) == 0);
    check_untouched(v->dwUsedSize, "phoneGetDisplay");
    /* fixed part only; then too small */
    memset(g_buf, 0xEE, sizeof g_buf);
    v->dwTotalSize = sizeof(VARSTRING);
    TQ_EXPECT(phoneGetDisplay(h, v), 0);
    TQ_CHECK(v->dwNeededSize == 44 && v->dwUsedSize == 24 && v->dwStringSize == 0);
    check_untouched(24, "phoneGetDisplay fixed only");
    memset(g_buf, 0xEE, sizeof g_buf);
    v->dwTotalSize = 12;
    TQ_EXPECT(phoneGetDisplay(h, v), PHONEERR_STRUCTURETOOSMALL);
    TQ_CHECK(v->dwNeededSize == 44);
    check_untouched(12, "phoneGetDisplay too small");

    TQ_EXPECT(phoneGetRing(h, &a, &b), 0);
    TQ_CHECK(a == 0 && b == 0x8000);
    TQ_EXPECT(phoneGetHookSwitch(h, &a), 0);
    TQ_CHECK(a == 0); /* everything on hook */
    a = 0;
    TQ_EXPECT(phoneGetVolume(h, PHONEHOOKSWITCHDEV_HANDSET, &a), 0);
    TQ_CHECK(a == 0x8000);
    a = 0;
    TQ_EXPECT(phoneGetGain(h, PHONEHOOKSWITCHDEV_HEADSET, &a), 0);
    TQ_CHECK(a == 0x8000);

    memset(data, 0x77, sizeof data);
    TQ_EXPECT(phoneGetData(h, 1, data, sizeof data), 0); /* area of 32: clamps */
    for (size_t i = 0; i < sizeof data; i++)
        TQ_CHECK(data[i] == (i < 32 ? 0 : 0x77));
    memset(data, 0x77, sizeof data);
    TQ_EXPECT(phoneGetData(h, 0, data, 3), 0);
    TQ_CHECK(data[0] == 0 && data[2] == 0 && data[3] == 0x77);
    TQ_EXPECT(phoneGetData(h, 0, data, 0), 0);
}

static PHONEBUTTONINFO *button(HPHONE h, DWORD id, int wide)
{
    PHONEBUTTONINFO *bi = (PHONEBUTTONINFO *)g_buf;
    memset(g_buf, 0xEE, sizeof g_buf);
    bi->dwTotalSize = sizeof g_buf;
    TQ_EXPECT((wide ? phoneGetButtonInfoW : phoneGetButtonInfo)(h, id, bi), 0);
    TQ_CHECK(bi->dwNeededSize == bi->dwUsedSize && bi->dwDevSpecificSize == 0);
    check_field(bi->dwButtonTextSize, bi->dwButtonTextOffset, sizeof *bi, bi->dwUsedSize, "text");
    check_untouched(bi->dwUsedSize, "PHONEBUTTONINFO");
    return bi;
}

static void case_buttons(HPHONE h, HPHONEAPP app)
{
    PHONEBUTTONINFO *bi = button(h, 0, 0);
    TQ_CHECK(bi->dwButtonMode == PHONEBUTTONMODE_FEATURE &&
             bi->dwButtonFunction == PHONEBUTTONFUNCTION_HOLD &&
             bi->dwButtonState == PHONEBUTTONSTATE_UP);
    TQ_CHECK(bi->dwButtonTextSize == 5 && memcmp(g_buf + bi->dwButtonTextOffset, "Hold", 5) == 0);
    bi = button(h, 1, 1);
    TQ_CHECK(bi->dwButtonMode == PHONEBUTTONMODE_CALL &&
             bi->dwButtonFunction == PHONEBUTTONFUNCTION_CONNECT);
    TQ_CHECK(bi->dwButtonTextSize == 14 && wide_eq(g_buf + bi->dwButtonTextOffset, "Line 1"));
    bi = button(h, 2, 0);
    TQ_CHECK(bi->dwButtonMode == PHONEBUTTONMODE_DUMMY &&
             bi->dwButtonFunction == PHONEBUTTONFUNCTION_NONE &&
             bi->dwButtonState == PHONEBUTTONSTATE_UNAVAIL && bi->dwButtonTextSize == 0 &&
             bi->dwUsedSize == sizeof(PHONEBUTTONINFO));
    bi = button(h, 3, 1);
    TQ_CHECK(bi->dwButtonMode == PHONEBUTTONMODE_KEYPAD &&
             bi->dwButtonFunction == PHONEBUTTONFUNCTION_UNKNOWN && bi->dwButtonTextSize == 0);

    /* Room for the fixed part only, then too small. */
    bi = (PHONEBUTTONINFO *)g_buf;
    memset(g_buf, 0xEE, sizeof g_buf);
    bi->dwTotalSize = sizeof(PHONEBUTTONINFO);
    TQ_EXPECT(phoneGetButtonInfoA(h, 0, bi), 0);
    TQ_CHECK(bi->dwNeededSize == 48 && bi->dwUsedSize == 40 && bi->dwButtonTextSize == 0 &&
             bi->dwButtonFunction == PHONEBUTTONFUNCTION_HOLD);
    check_untouched(40, "PHONEBUTTONINFO fixed only");
    memset(g_buf, 0xEE, sizeof g_buf);
    bi->dwTotalSize = 39;
    TQ_EXPECT(phoneGetButtonInfo(h, 0, bi), PHONEERR_STRUCTURETOOSMALL);
    TQ_CHECK(bi->dwNeededSize == 48);
    check_untouched(12, "PHONEBUTTONINFO too small");

    /* A handle opened with API 1.3: 36 bytes, no dwButtonState. */
    {
        HPHONE old = 0;
        TQ_EXPECT(phoneOpen(app, 0, &old, TAPI_VERSION1_0, 0, 0, PHONEPRIVILEGE_MONITOR), 0);
        memset(g_buf, 0xEE, sizeof g_buf);
        bi->dwTotalSize = 36;
        TQ_EXPECT(phoneGetButtonInfo(old, 0, bi), 0);
        TQ_CHECK(bi->dwUsedSize == 36 && bi->dwNeededSize == 44 &&
                 bi->dwButtonMode == PHONEBUTTONMODE_FEATURE);
        check_untouched(36, "PHONEBUTTONINFO 1.3");
        bi->dwTotalSize = 35;
        TQ_EXPECT(phoneGetButtonInfo(old, 0, bi), PHONEERR_STRUCTURETOOSMALL);
        TQ_EXPECT(phoneClose(old), 0);
    }
}

/* Each getter's errors in the documented order: UNINITIALIZED,
 * INVALPHONEHANDLE, INVALPOINTER, OPERATIONUNAVAIL, the argument error,
 * STRUCTURETOOSMALL; each pair tried with both conditions true. */
static void case_errors(HPHONE h, HPHONE lamps_only, HPHONE closed)
{
    DWORD d;
    VARSTRING v;
    PHONEBUTTONINFO bi;
    unsigned char data[8];
    const HPHONE bad[] = {0, closed, 0xDEAD0001u, h ^ 0x10000u};

    memset(&v, 0, sizeof v);
    memset(&bi, 0, sizeof bi);
    v.dwTotalSize = sizeof v;
    bi.dwTotalSize = sizeof bi;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        HPHONE x = bad[i];
        /* the handle comes before the pointer */
        TQ_EXPECT(phoneGetDisplay(x, NULL), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetRing(x, NULL, &d), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetHookSwitch(x, NULL), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetVolume(x, 0, NULL), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetGain(x, 0, NULL), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetData(x, 99, NULL, 1), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetButtonInfo(x, 99, NULL), PHONEERR_INVALPHONEHANDLE);
        TQ_EXPECT(phoneGetButtonInfoW(x, 0, &bi), PHONEERR_INVALPHONEHANDLE);
    }
    /* the pointer comes before the feature and the argument */
    TQ_EXPECT(phoneGetDisplay(lamps_only, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetRing(lamps_only, &d, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetRing(h, NULL, &d), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetHookSwitch(lamps_only, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetVolume(lamps_only, 3, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetGain(h, 3, NULL), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetData(lamps_only, 99, NULL, 0), PHONEERR_INVALPOINTER);
    TQ_EXPECT(phoneGetButtonInfo(h, 99, NULL), PHONEERR_INVALPOINTER);
    /* the feature comes before the argument and the size */
    v.dwTotalSize = 4;
    TQ_EXPECT(phoneGetDisplay(lamps_only, &v), PHONEERR_OPERATIONUNAVAIL);
    v.dwTotalSize = sizeof v;
    TQ_EXPECT(phoneGetDisplay(lamps_only, &v), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetRing(lamps_only, &d, &d), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetHookSwitch(lamps_only, &d), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetVolume(lamps_only, 3, &d), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetGain(lamps_only, PHONEHOOKSWITCHDEV_HANDSET, &d), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetData(lamps_only, 99, data, 1), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetData(lamps_only, 0, data, 1), PHONEERR_OPERATIONUNAVAIL);
    /* the argument errors */
    static const DWORD bad_devs[] = {0, 3, 5, 7, 8, PHONEHOOKSWITCHDEV_SPEAKER, 0x80000000u};
    for (size_t i = 0; i < sizeof bad_devs / sizeof bad_devs[0]; i++) {
        TQ_EXPECT(phoneGetVolume(h, bad_devs[i], &d), PHONEERR_INVALHOOKSWITCHDEV);
        TQ_EXPECT(phoneGetGain(h, bad_devs[i], &d), PHONEERR_INVALHOOKSWITCHDEV);
    }
    TQ_EXPECT(phoneGetData(h, 2, data, 1), PHONEERR_INVALDATAID);
    TQ_EXPECT(phoneGetData(h, 0xFFFFFFFFu, data, 1), PHONEERR_INVALDATAID);
    bi.dwTotalSize = 4; /* the id comes before the size */
    TQ_EXPECT(phoneGetButtonInfo(h, NLAMP, &bi), PHONEERR_INVALBUTTONLAMPID);
    TQ_EXPECT(phoneGetButtonInfoW(h, 0xFFFFFFFFu, &bi), PHONEERR_INVALBUTTONLAMPID);
    TQ_EXPECT(phoneGetButtonInfoA(h, 0, &bi), PHONEERR_STRUCTURETOOSMALL);
}

/* Button info on a console without button/lamp positions. */
static void case_no_positions(void)
{
    PHONEBUTTONINFO bi;
    HPHONEAPP app = tq_start("devices=1,lamps=0", NULL);
    HPHONE h = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 0);
    memset(&bi, 0, sizeof bi);
    bi.dwTotalSize = sizeof bi;
    TQ_EXPECT(phoneGetButtonInfo(h, 0, &bi), PHONEERR_OPERATIONUNAVAIL);
    TQ_EXPECT(phoneGetButtonInfo(h, 0, NULL), PHONEERR_INVALPOINTER);
    {
        PHONECAPS c;
        memset(&c, 0, sizeof c);
        c.dwTotalSize = sizeof c;
        TQ_EXPECT(phoneGetDevCaps(app, 0, TQ_API, 0, &c), 0);
        TQ_CHECK(c.dwNumButtonLamps == 0 && c.dwPhoneFeatures == 0);
    }
    TQ_EXPECT(phoneShutdown(app), 0);
}

/* With no application initialized, a stale handle is UNINITIALIZED, before
 * any other check. */
static void case_uninitialized(HPHONE stale)
{
    DWORD d;
    VARSTRING v;
    PHONEBUTTONINFO bi;
    memset(&v, 0, sizeof v);
    memset(&bi, 0, sizeof bi);
    TQ_EXPECT(phoneGetDisplay(stale, &v), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetDisplay(stale, NULL), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetRing(stale, NULL, NULL), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetHookSwitch(stale, &d), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetVolume(stale, 9, NULL), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetGain(0, PHONEHOOKSWITCHDEV_HANDSET, &d), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetData(stale, 0, NULL, 0), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetButtonInfoW(stale, 0, &bi), PHONEERR_UNINITIALIZED);
    TQ_EXPECT(phoneGetStatusW(stale, NULL), PHONEERR_UNINITIALIZED);
}

/* Bad attribute keys: refused by tapiq_configure with a message naming the
 * item, or (a text longer than the console's button_text) by the first
 * phoneInitializeEx with PHONEERR_INIFILECORRUPT. */
static void case_config_errors(void)
{
    static const char *const refused[] = {
        "display=0x5",         "display=65x65",        "display=2x",
        "display=x2",          "ring_modes=256",       "ring_modes=-1",
        "hookswitch=handset+handset", "hookswitch=phone", "buttons=bogus",
        "buttons=feature:nosuch", "buttons=feature:48", "buttons=call+",
        "button_text=256",     "data=0",               "data=65537",
        "data=1+",             "display@=2x2",         "display@5-2=2x2",
        "display@2x=2x2",      "devices=4,display@4=2x2", "devices=4,display@2-4=2x2",
        "lamps=2,buttons=call+call+call", "lamps=2,buttons@1=dummy+dummy+dummy",
        "nosuch@1=2",
    };
    char cfg[128];
    HPHONEAPP app = 0;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int rc = tapiq_configure(refused[i]);
        TQ_CHECKF(rc == -EINVAL, "tapiq_configure(\"%s\") = %d", refused[i], rc);
        TQ_CHECKF(tapiq_last_error()[0] != '\0', "no message for \"%s\"", refused[i]);
    }
    snprintf(cfg, sizeof cfg, "devices=3,buttons=feature::Hello world,button_text=10");
    TQ_CHECK(tapiq_configure(cfg) == 0);
    TQ_EXPECT(tq_init_app(&app, NULL, NULL), PHONEERR_INIFILECORRUPT);
    TQ_CHECKF(strstr(tapiq_last_error(), "button_text") != NULL, "message: %s",
              tapiq_last_error());
    /* the same text fits a console given more room */
    TQ_CHECK(tapiq_configure("devices=3,buttons=feature::Hello world,button_text=10,"
                             "button_text@0-2=11") == 0);
    TQ_EXPECT(tq_init_app(&app, NULL, NULL), 0);
    TQ_EXPECT(phoneShutdown(app), 0);
    TQ_CHECK(tapiq_configure(NULL) == 0);
}

int main(void)
{
    HPHONEAPP app = tq_start(CONFIG, NULL);
    HPHONE own0 = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 1);
    HPHONE mon0 = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 2);
    HPHONE mon3 = tq_open(app, 3, PHONEPRIVILEGE_MONITOR, 3);
    HPHONE own4 = tq_open(app, 4, PHONEPRIVILEGE_OWNER, 4);
    HPHONE closed = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 5);
    TQ_EXPECT(phoneClose(closed), 0);

    case_caps(app);
    case_status(own0, mon3, own4);
    case_getters(own0);
    case_getters(mon0); /* a monitor reads the same */
    case_getters(own4); /* so does a disconnected console's handle */
    case_buttons(mon0, app);
    case_errors(own0, mon3, closed);
    TQ_EXPECT(phoneShutdown(app), 0);
    case_uninitialized(own0);
    case_no_positions();
    case_config_errors();
    printf("test_phone_attrs: ok\n");
    return 0;
}
