/* A phone sample written the way Windows TAPI samples are: <windows.h> and
 * <tapi.h>, `#if` on the SDK's constants, a DWORD table of error names,
 * switches on message ids and on (DWORD) results, dwParam2 compared with the
 * PHONEERR_* both ways, the realloc-on-dwNeededSize loop, A and W calls and
 * TEXT() strings that follow UNICODE, a TAPI 1.x callback application. Built
 * as C11 and C++17, each with and without UNICODE, against tapiq's headers
 * and a small <windows.h> shim (shim/), linked with tapiq and run against
 * the mem backend (TAPIQ_CONFIG in meson.build). It exits 0 only when every
 * call returned what the configuration says it must. */
#include <windows.h>
#include <tapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if TAPI_CURRENT_VERSION < 0x00020000
#error "this sample uses TAPI 2.0"
#endif
#if PHONEERR_OPERATIONFAILED != 0x9000001C || PHONE_REPLY != 17
#error "tapi.h must have the SDK's values"
#endif

static const struct {
    DWORD dwErr;
    const char *pszName;
} g_aErrors[] = {
    {PHONEERR_ALLOCATED, "PHONEERR_ALLOCATED"},
    {PHONEERR_BADDEVICEID, "PHONEERR_BADDEVICEID"},
    {PHONEERR_INCOMPATIBLEAPIVERSION, "PHONEERR_INCOMPATIBLEAPIVERSION"},
    {PHONEERR_INCOMPATIBLEEXTVERSION, "PHONEERR_INCOMPATIBLEEXTVERSION"},
    {PHONEERR_INIFILECORRUPT, "PHONEERR_INIFILECORRUPT"},
    {PHONEERR_INVALAPPHANDLE, "PHONEERR_INVALAPPHANDLE"},
    {PHONEERR_INVALBUTTONLAMPID, "PHONEERR_INVALBUTTONLAMPID"},
    {PHONEERR_INVALDATAID, "PHONEERR_INVALDATAID"},
    {PHONEERR_INVALDEVICECLASS, "PHONEERR_INVALDEVICECLASS"},
    {PHONEERR_INVALHOOKSWITCHDEV, "PHONEERR_INVALHOOKSWITCHDEV"},
    {PHONEERR_INVALLAMPMODE, "PHONEERR_INVALLAMPMODE"},
    {PHONEERR_INVALPARAM, "PHONEERR_INVALPARAM"},
    {PHONEERR_INVALPHONEHANDLE, "PHONEERR_INVALPHONEHANDLE"},
    {PHONEERR_INVALPOINTER, "PHONEERR_INVALPOINTER"},
    {PHONEERR_NOMEM, "PHONEERR_NOMEM"},
    {PHONEERR_NOTOWNER, "PHONEERR_NOTOWNER"},
    {PHONEERR_OPERATIONFAILED, "PHONEERR_OPERATIONFAILED"},
    {PHONEERR_OPERATIONUNAVAIL, "PHONEERR_OPERATIONUNAVAIL"},
    {PHONEERR_RESOURCEUNAVAIL, "PHONEERR_RESOURCEUNAVAIL"},
    {PHONEERR_STRUCTURETOOSMALL, "PHONEERR_STRUCTURETOOSMALL"},
    {PHONEERR_UNINITIALIZED, "PHONEERR_UNINITIALIZED"},
};

static int g_nFailures;

static const char *ErrorName(LONG lResult)
{
    size_t i;
    if (lResult == 0)
        return "SUCCESS";
    if (lResult > 0)
        return "a request id";
    for (i = 0; i < sizeof(g_aErrors) / sizeof(g_aErrors[0]); i++)
        if ((DWORD)lResult == g_aErrors[i].dwErr)
            return g_aErrors[i].pszName;
    return "PHONEERR_?";
}

static const char *MessageName(DWORD dwMsg)
{
    switch (dwMsg) {
    case PHONE_BUTTON:
        return "PHONE_BUTTON";
    case PHONE_CLOSE:
        return "PHONE_CLOSE";
    case PHONE_DEVSPECIFIC:
        return "PHONE_DEVSPECIFIC";
    case PHONE_REPLY:
        return "PHONE_REPLY";
    case PHONE_STATE:
        return "PHONE_STATE";
    case PHONE_CREATE:
        return "PHONE_CREATE";
    case PHONE_REMOVE:
        return "PHONE_REMOVE";
    default:
        return "?";
    }
}

/* The result must be @dwWant (0 or a PHONEERR_*). */
static void Expect(const char *pszCall, LONG lResult, DWORD dwWant)
{
    if ((DWORD)lResult != dwWant) {
        printf("FAIL %s: %s (0x%08lx), expected 0x%08lx\n", pszCall, ErrorName(lResult),
               (unsigned long)(DWORD)lResult, (unsigned long)dwWant);
        g_nFailures++;
    }
}

static void Require(const char *pszWhat, BOOL bOk)
{
    if (!bOk) {
        printf("FAIL %s\n", pszWhat);
        g_nFailures++;
    }
}

/* phoneGetDevCaps, growing the buffer until dwNeededSize fits. */
static LPPHONECAPS GetCaps(HPHONEAPP hApp, DWORD dwDevice, DWORD dwAPIVersion, BOOL bWide)
{
    DWORD dwSize = sizeof(PHONECAPS);
    LPPHONECAPS pCaps = NULL;
    for (;;) {
        LONG lResult;
        pCaps = (LPPHONECAPS)realloc(pCaps, dwSize);
        ZeroMemory(pCaps, dwSize);
        pCaps->dwTotalSize = dwSize;
        lResult = bWide ? phoneGetDevCapsW(hApp, dwDevice, dwAPIVersion, 0, pCaps)
                        : phoneGetDevCaps(hApp, dwDevice, dwAPIVersion, 0, pCaps);
        if (lResult != 0) {
            Expect("phoneGetDevCaps", lResult, 0);
            free(pCaps);
            return NULL;
        }
        if (pCaps->dwNeededSize <= pCaps->dwTotalSize)
            return pCaps;
        dwSize = pCaps->dwNeededSize;
    }
}

/* Wait for the PHONE_REPLY of @lRequestID; returns its result. */
static LONG WaitReply(HPHONEAPP hApp, LONG lRequestID)
{
    PHONEMESSAGE msg;
    while (phoneGetMessage(hApp, &msg, 5000) == 0) {
        switch (msg.dwMessageID) {
        case PHONE_REPLY:
            if (msg.dwParam1 != (DWORD_PTR)lRequestID)
                break;
            if (msg.dwParam2 == 0)
                return 0;
            if (msg.dwParam2 == PHONEERR_OPERATIONFAILED)
                printf("the console could not do it\n");
            return (LONG)msg.dwParam2;
        case PHONE_STATE:
            if (msg.dwParam1 == PHONESTATE_LAMP)
                printf("%s: lamp %lu changed\n", MessageName(msg.dwMessageID),
                       (unsigned long)msg.dwParam2);
            break;
        case PHONE_BUTTON:
        case PHONE_CLOSE:
        default:
            printf("%s\n", MessageName(msg.dwMessageID));
            break;
        }
    }
    return (LONG)PHONEERR_OPERATIONFAILED;
}

/* TAPI 1.x: messages arrive through a callback, on another thread (a reply
 * may come before phoneSetLamp has returned its id). */
static int32_t volatile g_lReplyResult = -1;
static int32_t volatile g_lReplyID;

static void CALLBACK PhoneCallback(DWORD hDevice, DWORD dwMsg, DWORD_PTR dwCallbackInstance,
                                   DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    (void)hDevice;
    (void)dwCallbackInstance;
    (void)dwParam3;
    if (dwMsg == PHONE_REPLY) {
        InterlockedExchange(&g_lReplyResult, (int32_t)(LONG)dwParam2);
        InterlockedExchange(&g_lReplyID, (int32_t)dwParam1);
    }
}

static void Getters(HPHONE hPhone, BOOL bMonitor)
{
    BYTE buf[512];
    LPVARSTRING pVar = (LPVARSTRING)buf;
    LPPHONEBUTTONINFO pInfo = (LPPHONEBUTTONINFO)buf;
    LPPHONESTATUS pStatus = (LPPHONESTATUS)buf;
    DWORD dwMode = 0, dwVolume = 0, dwDevs = 0, dwLevel = 0, dwID = 0;
    BYTE data[8];
    HICON hIcon;

    ZeroMemory(buf, sizeof(buf));
    pVar->dwTotalSize = sizeof(buf);
    Expect("phoneGetID", phoneGetID(hPhone, pVar, TEXT("tapi/phone")), 0);
    if (pVar->dwStringFormat == STRINGFORMAT_BINARY && pVar->dwStringSize == sizeof(DWORD))
        memcpy(&dwID, buf + pVar->dwStringOffset, sizeof(DWORD));
    Require("the phone's device id is 1", dwID == 1);
    Expect("phoneGetIDA", phoneGetIDA(hPhone, pVar, "tapi/line"), PHONEERR_INVALDEVICECLASS);
    Expect("phoneGetIDW", phoneGetIDW(hPhone, pVar, u"tapi/phone"), 0);

    pVar->dwTotalSize = sizeof(buf);
    Expect("phoneGetDisplay", phoneGetDisplay(hPhone, pVar), 0);
    Require("a 2x16 display", pVar->dwStringSize == 2 * 16 + 1);
    Expect("phoneGetRing", phoneGetRing(hPhone, &dwMode, &dwVolume), 0);
    Require("the ringer is off", dwMode == 0);
    Expect("phoneGetHookSwitch", phoneGetHookSwitch(hPhone, &dwDevs), 0);
    Require("the handset is on hook", (dwDevs & PHONEHOOKSWITCHDEV_HANDSET) == 0);
    Expect("phoneGetVolume", phoneGetVolume(hPhone, PHONEHOOKSWITCHDEV_HANDSET, &dwLevel), 0);
    Expect("phoneGetGain", phoneGetGain(hPhone, PHONEHOOKSWITCHDEV_SPEAKER, &dwLevel),
           PHONEERR_INVALHOOKSWITCHDEV);
    Expect("phoneGetData", phoneGetData(hPhone, 0, data, sizeof(data)), 0);
    Expect("phoneGetData", phoneGetData(hPhone, 1, data, sizeof(data)), PHONEERR_INVALDATAID);

    ZeroMemory(buf, sizeof(buf));
    pInfo->dwTotalSize = sizeof(buf);
    Expect("phoneGetButtonInfo", phoneGetButtonInfo(hPhone, 0, pInfo), 0);
    Require("button 0 is HOLD", pInfo->dwButtonMode == PHONEBUTTONMODE_FEATURE &&
                                    pInfo->dwButtonFunction == PHONEBUTTONFUNCTION_HOLD);
    Require("its text is TEXT(\"Hold\")",
            pInfo->dwButtonTextSize == 5 * sizeof(TCHAR) &&
                memcmp(buf + pInfo->dwButtonTextOffset, TEXT("Hold"), 5 * sizeof(TCHAR)) == 0);
    Expect("phoneGetButtonInfoA", phoneGetButtonInfoA(hPhone, 0, pInfo), 0);
    Require("A: 8-bit text", pInfo->dwButtonTextSize == 5);
    Expect("phoneGetButtonInfoW", phoneGetButtonInfoW(hPhone, 0, pInfo), 0);
    Require("W: UTF-16 text", pInfo->dwButtonTextSize == 10);

    ZeroMemory(buf, sizeof(buf));
    pStatus->dwTotalSize = sizeof(buf);
    Expect("phoneGetStatus", phoneGetStatus(hPhone, pStatus), 0);
    Require("one owner", pStatus->dwNumOwners == 1 && pStatus->dwNumMonitors == 1);
    Require("connected", (pStatus->dwStatusFlags & PHONESTATUSFLAGS_CONNECTED) != 0);
    Expect("phoneGetStatusA", phoneGetStatusA(hPhone, pStatus), 0);
    Expect("phoneGetStatusW", phoneGetStatusW(hPhone, pStatus), 0);

    Expect("phoneGetIcon", phoneGetIcon(1, TEXT("tapi/phone"), &hIcon), PHONEERR_OPERATIONFAILED);
    Expect("phoneGetIconA", phoneGetIconA(1, NULL, &hIcon), PHONEERR_OPERATIONFAILED);
    Expect("phoneGetIconW", phoneGetIconW(1, u"comm", &hIcon), PHONEERR_INVALDEVICECLASS);
    if (!bMonitor) {
        Expect("phoneConfigDialog", phoneConfigDialog(1, NULL, TEXT("tapi/phone")),
               PHONEERR_OPERATIONUNAVAIL);
        Expect("phoneConfigDialogA", phoneConfigDialogA(1, NULL, NULL),
               PHONEERR_OPERATIONUNAVAIL);
        Expect("phoneConfigDialogW", phoneConfigDialogW(1, NULL, u"comm"),
               PHONEERR_INVALDEVICECLASS);
    }
}

/* An asynchronous call: its request id, then its PHONE_REPLY. */
static void Async(const char *pszCall, HPHONEAPP hApp, LONG lRequestID, DWORD dwWant)
{
    if (lRequestID > 0)
        Expect(pszCall, WaitReply(hApp, lRequestID), dwWant);
    else
        Expect(pszCall, lRequestID, 0);
}

static void Setters(HPHONEAPP hApp, HPHONE hPhone, HPHONE hMonitor)
{
    BYTE buf[256];
    LPPHONEBUTTONINFO pInfo = (LPPHONEBUTTONINFO)buf;
    BYTE data[4] = {1, 2, 3, 4}, back[4] = {0};
    DWORD dwMode = 0, dwVolume = 0, dwDevs = 0, dwLevel = 0;
    static const char szHello[] = "Queue 3: 12";

    Async("phoneSetDisplay", hApp, phoneSetDisplay(hPhone, 1, 0, szHello, sizeof(szHello)), 0);
    Async("phoneSetRing", hApp, phoneSetRing(hPhone, 2, 0xC000), 0);
    Expect("phoneGetRing", phoneGetRing(hMonitor, &dwMode, &dwVolume), 0);
    Require("ringing in mode 2", dwMode == 2 && dwVolume == 0xC000);
    Async("phoneSetHookSwitch", hApp,
          phoneSetHookSwitch(hPhone, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MICSPEAKER),
          0);
    Expect("phoneGetHookSwitch", phoneGetHookSwitch(hMonitor, &dwDevs), 0);
    Require("the handset is off hook", (dwDevs & PHONEHOOKSWITCHDEV_HANDSET) != 0);
    Async("phoneSetVolume", hApp, phoneSetVolume(hPhone, PHONEHOOKSWITCHDEV_HANDSET, 0x1000), 0);
    Async("phoneSetGain", hApp, phoneSetGain(hPhone, PHONEHOOKSWITCHDEV_HANDSET, 0x2000), 0);
    Expect("phoneGetGain", phoneGetGain(hMonitor, PHONEHOOKSWITCHDEV_HANDSET, &dwLevel), 0);
    Require("the gain is set", dwLevel == 0x2000);
    Async("phoneSetData", hApp, phoneSetData(hPhone, 0, data, sizeof(data)), 0);
    Expect("phoneGetData", phoneGetData(hMonitor, 0, back, sizeof(back)), 0);
    Require("the data area", memcmp(back, data, sizeof(data)) == 0);
    Async("phoneDevSpecific", hApp, phoneDevSpecific(hPhone, data, sizeof(data)), 0);

    ZeroMemory(buf, sizeof(buf));
    pInfo->dwTotalSize = sizeof(buf);
    Expect("phoneGetButtonInfo", phoneGetButtonInfo(hPhone, 1, pInfo), 0);
    pInfo->dwButtonFunction = PHONEBUTTONFUNCTION_CONFERENCE;
    pInfo->dwButtonTextSize = 0;
    Async("phoneSetButtonInfo", hApp, phoneSetButtonInfo(hPhone, 1, pInfo), 0);
    Async("phoneSetButtonInfoA", hApp, phoneSetButtonInfoA(hPhone, 1, pInfo), 0);
    Async("phoneSetButtonInfoW", hApp, phoneSetButtonInfoW(hPhone, 1, pInfo), 0);
    Expect("phoneGetButtonInfo", phoneGetButtonInfo(hMonitor, 1, pInfo), 0);
    Require("button 1 is CONFERENCE", pInfo->dwButtonFunction == PHONEBUTTONFUNCTION_CONFERENCE);

    switch ((DWORD)phoneSetRing(hMonitor, 1, 0)) {
    case PHONEERR_NOTOWNER:
        break;
    default:
        Require("phoneSetRing from a monitor: PHONEERR_NOTOWNER", FALSE);
        break;
    }
#if PHONEERR_INVALRINGMODE == 0x90000017
    Expect("phoneSetRing", phoneSetRing(hPhone, 3, 0), PHONEERR_INVALRINGMODE);
#endif
}

int main(void)
{
    HPHONEAPP hPhoneApp = 0;
    HPHONE hPhone = 0, hMonitor = 0;
    DWORD dwNumDevs = 0, dwAPIVersion = TAPI_CURRENT_VERSION, dwExtVersion = 0;
    DWORD dwStates = 0, dwModes = 0, dwButtonStates = 0, dwLamp = 0;
    PHONEINITIALIZEEXPARAMS params;
    PHONEEXTENSIONID extID;
    LPPHONECAPS pCaps;
    LONG lResult, lRequestID;

    ZeroMemory(&params, sizeof(params));
    params.dwTotalSize = sizeof(params);
    params.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    lResult = phoneInitializeEx(&hPhoneApp, NULL, NULL, TEXT("Compat sample"), &dwNumDevs,
                                &dwAPIVersion, &params);
    switch ((DWORD)lResult) {
    case 0:
        break;
    case PHONEERR_INIFILECORRUPT:
    case PHONEERR_NODRIVER:
    case PHONEERR_NOMEM:
    default:
        printf("phoneInitializeEx: %s\n", ErrorName(lResult));
        return 1;
    }
    Require("three phones", dwNumDevs == 3);

    Expect("phoneNegotiateAPIVersion",
           phoneNegotiateAPIVersion(hPhoneApp, 1, TAPI_VERSION1_4, TAPI_CURRENT_VERSION,
                                    &dwAPIVersion, &extID),
           0);
    Expect("phoneNegotiateExtVersion",
           phoneNegotiateExtVersion(hPhoneApp, 1, dwAPIVersion, 0, 0, &dwExtVersion),
           PHONEERR_OPERATIONUNAVAIL);

    pCaps = GetCaps(hPhoneApp, 1, dwAPIVersion, FALSE);
    if (pCaps) {
#ifdef UNICODE
        Require("phoneGetDevCaps is the W function", pCaps->dwStringFormat == STRINGFORMAT_UNICODE);
#else
        Require("phoneGetDevCaps is the A function", pCaps->dwStringFormat == STRINGFORMAT_ASCII);
#endif
        Require("lamps and a display",
                pCaps->dwNumButtonLamps == 4 && pCaps->dwDisplayNumRows == 2 &&
                    (pCaps->dwPhoneFeatures & (PHONEFEATURE_SETLAMP | PHONEFEATURE_GETDISPLAY)) ==
                        (PHONEFEATURE_SETLAMP | PHONEFEATURE_GETDISPLAY));
        free(pCaps);
    }
    pCaps = GetCaps(hPhoneApp, 1, dwAPIVersion, TRUE);
    Require("phoneGetDevCapsW", pCaps && pCaps->dwStringFormat == STRINGFORMAT_UNICODE);
    free(pCaps);
    pCaps = (LPPHONECAPS)calloc(1, sizeof(PHONECAPS));
    pCaps->dwTotalSize = sizeof(PHONECAPS);
    Expect("phoneGetDevCapsA", phoneGetDevCapsA(hPhoneApp, 1, dwAPIVersion, 0, pCaps), 0);
    free(pCaps);

    Expect("phoneOpen", phoneOpen(hPhoneApp, 1, &hPhone, dwAPIVersion, 0, 7, PHONEPRIVILEGE_OWNER),
           0);
    Expect("phoneOpen", phoneOpen(hPhoneApp, 1, &hMonitor, dwAPIVersion, 0, 8,
                                  PHONEPRIVILEGE_MONITOR),
           0);
    Expect("phoneSetStatusMessages", phoneSetStatusMessages(hPhone, PHONESTATE_LAMP, 0, 0), 0);
    Expect("phoneGetStatusMessages",
           phoneGetStatusMessages(hPhone, &dwStates, &dwModes, &dwButtonStates), 0);
    Require("lamp messages on", dwStates == PHONESTATE_LAMP);

    lRequestID = phoneSetLamp(hPhone, 2, PHONELAMPMODE_FLASH);
    if (lRequestID > 0) {
        lResult = WaitReply(hPhoneApp, lRequestID);
        Expect("PHONE_REPLY of phoneSetLamp", lResult, 0);
    } else {
        Expect("phoneSetLamp", lRequestID, 0);
    }
    Expect("phoneGetLamp", phoneGetLamp(hMonitor, 2, &dwLamp), 0);
    Require("lamp 2 flashes", dwLamp == PHONELAMPMODE_FLASH);
    Expect("phoneSetLamp from a monitor", phoneSetLamp(hMonitor, 2, PHONELAMPMODE_OFF),
           PHONEERR_NOTOWNER);
    Getters(hPhone, FALSE);
    Getters(hMonitor, TRUE);
    Setters(hPhoneApp, hPhone, hMonitor);
    Expect("phoneClose", phoneClose(hMonitor), 0);
    Expect("phoneClose", phoneClose(hPhone), 0);
    Expect("phoneShutdown", phoneShutdown(hPhoneApp), 0);

    /* The same phone from a TAPI 1.x application. */
    Expect("phoneInitialize",
           phoneInitialize(&hPhoneApp, NULL, PhoneCallback, "Compat sample 1.x", &dwNumDevs), 0);
    Expect("phoneOpen", phoneOpen(hPhoneApp, 1, &hPhone, TAPI_VERSION1_4, 0, 0,
                                  PHONEPRIVILEGE_OWNER),
           0);
    lRequestID = phoneSetLamp(hPhone, 3, PHONELAMPMODE_STEADY);
    for (int i = 0; i < 500 && InterlockedCompareExchange(&g_lReplyID, 0, 0) != lRequestID; i++)
        Sleep(10);
    Require("the callback got the reply", lRequestID > 0 &&
                                              InterlockedCompareExchange(&g_lReplyID, 0, 0) ==
                                                  lRequestID &&
                                              InterlockedCompareExchange(&g_lReplyResult, 0, 0) ==
                                                  0);
    Expect("phoneShutdown", phoneShutdown(hPhoneApp), 0);

    printf("%s: %d failure(s)\n",
#ifdef __cplusplus
           "compat sample (C++)",
#else
           "compat sample (C)",
#endif
           g_nFailures);
    return g_nFailures ? 1 : 0;
}
