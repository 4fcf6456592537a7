/* Layout and values of the TAPI surface: struct sizes and field offsets of
 * the SDK (packed to 1 byte, LP64), type widths, constant values, and the
 * exact signature of every function (assigned to a typed pointer). */
#include <stddef.h>
#include <stdio.h>

#include <tapiq/tapiq.h>

#include "check.h"

_Static_assert(sizeof(PHONEMESSAGE) == 40, "PHONEMESSAGE is 40 bytes");
_Static_assert(sizeof(PHONECAPS) == 196, "PHONECAPS is 196 bytes");
_Static_assert(sizeof(PHONESTATUS) == 104, "PHONESTATUS is 104 bytes");
_Static_assert(sizeof(PHONEINITIALIZEEXPARAMS) == 28, "PHONEINITIALIZEEXPARAMS is 28 bytes");
_Static_assert(sizeof(PHONEEXTENSIONID) == 16, "PHONEEXTENSIONID is 16 bytes");
_Static_assert(sizeof(VARSTRING) == 24, "VARSTRING is 24 bytes");
_Static_assert(sizeof(PHONEBUTTONINFO) == 40, "PHONEBUTTONINFO is 40 bytes");
_Static_assert(sizeof(WCHAR) == 2 && (WCHAR)-1 > 0, "WCHAR is an unsigned 16-bit code unit");
_Static_assert(sizeof(HICON) == sizeof(void *) && sizeof(HWND) == sizeof(void *), "handles");
_Static_assert(sizeof(DWORD) == 4 && sizeof(LONG) == 4, "DWORD and LONG are 32-bit");
_Static_assert(sizeof(DWORD_PTR) == sizeof(void *), "DWORD_PTR is pointer-sized");
_Static_assert(sizeof(HPHONE) == 4 && sizeof(HPHONEAPP) == 4, "handles are 32-bit");
_Static_assert((LONG)-1 < 0 && (DWORD)-1 > 0, "LONG signed, DWORD unsigned");

static void check_offsets(void)
{
    TQ_CHECK(offsetof(PHONEMESSAGE, hDevice) == 0);
    TQ_CHECK(offsetof(PHONEMESSAGE, dwMessageID) == 4);
    TQ_CHECK(offsetof(PHONEMESSAGE, dwCallbackInstance) == 8);
    TQ_CHECK(offsetof(PHONEMESSAGE, dwParam1) == 16);
    TQ_CHECK(offsetof(PHONEMESSAGE, dwParam2) == 24);
    TQ_CHECK(offsetof(PHONEMESSAGE, dwParam3) == 32);
    TQ_CHECK(offsetof(PHONEINITIALIZEEXPARAMS, dwOptions) == 12);
    TQ_CHECK(offsetof(PHONEINITIALIZEEXPARAMS, Handles) == 16);
    TQ_CHECK(offsetof(PHONEINITIALIZEEXPARAMS, dwCompletionKey) == 24);
    TQ_CHECK(offsetof(PHONECAPS, dwPhoneStates) == 44);
    TQ_CHECK(offsetof(PHONECAPS, dwNumButtonLamps) == 84);
    TQ_CHECK(offsetof(PHONECAPS, dwButtonModesSize) == 88);
    TQ_CHECK(offsetof(PHONECAPS, dwLampModesSize) == 104);
    TQ_CHECK(offsetof(PHONECAPS, dwLampModesOffset) == 108);
    TQ_CHECK(offsetof(PHONECAPS, dwPhoneFeatures) == 152);
    TQ_CHECK(offsetof(PHONECAPS, PermanentPhoneGuid) == 180);
    TQ_CHECK(offsetof(PHONESTATUS, dwStatusFlags) == 12);
    TQ_CHECK(offsetof(PHONESTATUS, dwNumOwners) == 16);
    TQ_CHECK(offsetof(PHONESTATUS, dwNumMonitors) == 20);
    TQ_CHECK(offsetof(PHONESTATUS, dwLampModesSize) == 76);
    TQ_CHECK(offsetof(PHONESTATUS, dwLampModesOffset) == 80);
    TQ_CHECK(offsetof(PHONESTATUS, dwPhoneFeatures) == 100);
    TQ_CHECK(offsetof(PHONESTATUS, dwRingMode) == 24);
    TQ_CHECK(offsetof(PHONESTATUS, dwHeadsetGain) == 64);
    TQ_CHECK(offsetof(PHONESTATUS, dwDisplaySize) == 68);
    TQ_CHECK(offsetof(PHONESTATUS, dwDisplayOffset) == 72);
    TQ_CHECK(offsetof(PHONESTATUS, dwOwnerNameSize) == 84);
    TQ_CHECK(offsetof(PHONECAPS, dwHookSwitchDevs) == 48);
    TQ_CHECK(offsetof(PHONECAPS, dwDisplayNumRows) == 72);
    TQ_CHECK(offsetof(PHONECAPS, dwNumRingModes) == 80);
    TQ_CHECK(offsetof(PHONECAPS, dwButtonFunctionsSize) == 96);
    TQ_CHECK(offsetof(PHONECAPS, dwNumSetData) == 112);
    TQ_CHECK(offsetof(PHONECAPS, dwNumGetData) == 124);
    TQ_CHECK(offsetof(PHONECAPS, dwDeviceClassesSize) == 144);
    TQ_CHECK(offsetof(PHONECAPS, dwMonitoredHeadsetHookSwitchModes) == 176);
    TQ_CHECK(offsetof(VARSTRING, dwStringFormat) == 12);
    TQ_CHECK(offsetof(VARSTRING, dwStringSize) == 16);
    TQ_CHECK(offsetof(VARSTRING, dwStringOffset) == 20);
    TQ_CHECK(offsetof(PHONEBUTTONINFO, dwButtonMode) == 12);
    TQ_CHECK(offsetof(PHONEBUTTONINFO, dwButtonFunction) == 16);
    TQ_CHECK(offsetof(PHONEBUTTONINFO, dwButtonTextSize) == 20);
    TQ_CHECK(offsetof(PHONEBUTTONINFO, dwButtonTextOffset) == 24);
    TQ_CHECK(offsetof(PHONEBUTTONINFO, dwDevSpecificSize) == 28);
    TQ_CHECK(offsetof(PHONEBUTTONINFO, dwDevSpecificOffset) == 32);
    TQ_CHECK(offsetof(PHONEBUTTONINFO, dwButtonState) == 36);
}

static void check_constants(void)
{
    static const struct {
        LONG v;
        DWORD raw;
    } errs[] = {
        {PHONEERR_ALLOCATED, 0x90000001},         {PHONEERR_BADDEVICEID, 0x90000002},
        {PHONEERR_INCOMPATIBLEAPIVERSION, 0x90000003}, {PHONEERR_INIFILECORRUPT, 0x90000005},
        {PHONEERR_INVALAPPHANDLE, 0x90000007},    {PHONEERR_INVALBUTTONLAMPID, 0x90000009},
        {PHONEERR_INVALLAMPMODE, 0x90000011},     {PHONEERR_INVALPARAM, 0x90000012},
        {PHONEERR_INVALPHONEHANDLE, 0x90000013},  {PHONEERR_INVALPHONESTATE, 0x90000014},
        {PHONEERR_INVALPOINTER, 0x90000015},      {PHONEERR_INVALPRIVILEGE, 0x90000016},
        {PHONEERR_NOMEM, 0x9000001A},             {PHONEERR_NOTOWNER, 0x9000001B},
        {PHONEERR_OPERATIONFAILED, 0x9000001C},   {PHONEERR_OPERATIONUNAVAIL, 0x9000001D},
        {PHONEERR_RESOURCEUNAVAIL, 0x9000001F},   {PHONEERR_REQUESTOVERRUN, 0x90000020},
        {PHONEERR_STRUCTURETOOSMALL, 0x90000021}, {PHONEERR_UNINITIALIZED, 0x90000022},
        {PHONEERR_REINIT, 0x90000023},            {PHONEERR_DISCONNECTED, 0x90000024},
        {PHONEERR_SERVICE_NOT_RUNNING, 0x90000025},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        TQ_CHECK(errs[i].v < 0);
        TQ_CHECK(errs[i].v == (LONG)errs[i].raw);
        TQ_CHECK((DWORD)errs[i].v == errs[i].raw);
    }
    TQ_CHECK(PHONELAMPMODE_DUMMY == 0x01 && PHONELAMPMODE_OFF == 0x02 &&
             PHONELAMPMODE_STEADY == 0x04 && PHONELAMPMODE_WINK == 0x08 &&
             PHONELAMPMODE_FLASH == 0x10 && PHONELAMPMODE_FLUTTER == 0x20 &&
             PHONELAMPMODE_BROKENFLUTTER == 0x40 && PHONELAMPMODE_UNKNOWN == 0x80);
    TQ_CHECK(PHONEPRIVILEGE_MONITOR == 1 && PHONEPRIVILEGE_OWNER == 2);
    TQ_CHECK(PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW == 1 &&
             PHONEINITIALIZEEXOPTION_USEEVENT == 2 &&
             PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT == 3);
    TQ_CHECK(PHONE_BUTTON == 14 && PHONE_CLOSE == 15 && PHONE_DEVSPECIFIC == 16 &&
             PHONE_REPLY == 17 && PHONE_STATE == 18 && PHONE_CREATE == 20 && PHONE_REMOVE == 26);
    TQ_CHECK(PHONESTATE_LAMP == 0x40 && PHONESTATE_CONNECTED == 0x2 &&
             PHONESTATE_DISCONNECTED == 0x4 && PHONESTATE_REMOVED == 0x800000);
    TQ_CHECK(PHONESTATUSFLAGS_CONNECTED == 1 && PHONESTATUSFLAGS_SUSPENDED == 2);
    TQ_CHECK(PHONEFEATURE_GETLAMP == 0x200 && PHONEFEATURE_SETLAMP == 0x800000);
    TQ_CHECK(TAPI_VERSION1_0 == 0x00010003 && TAPI_VERSION1_4 == 0x00010004 &&
             TAPI_VERSION2_0 == 0x00020000 && TAPI_VERSION2_1 == 0x00020001 &&
             TAPI_VERSION2_2 == 0x00020002);
    TQ_CHECK(INFINITE == 0xFFFFFFFFu);
}

/* Each function has exactly the documented signature. */
static void check_signatures(void)
{
    LONG (*init)(LPHPHONEAPP, HINSTANCE, PHONECALLBACK, LPCSTR, LPDWORD, LPDWORD,
                 LPPHONEINITIALIZEEXPARAMS) = phoneInitializeEx;
    LONG (*init_a)(LPHPHONEAPP, HINSTANCE, PHONECALLBACK, LPCSTR, LPDWORD, LPDWORD,
                   LPPHONEINITIALIZEEXPARAMS) = phoneInitializeExA;
    LONG (*shutdown)(HPHONEAPP) = phoneShutdown;
    LONG (*negotiate)(HPHONEAPP, DWORD, DWORD, DWORD, LPDWORD, LPPHONEEXTENSIONID) =
        phoneNegotiateAPIVersion;
    LONG (*open)(HPHONEAPP, DWORD, LPHPHONE, DWORD, DWORD, DWORD_PTR, DWORD) = phoneOpen;
    LONG (*close)(HPHONE) = phoneClose;
    LONG (*caps)(HPHONEAPP, DWORD, DWORD, DWORD, LPPHONECAPS) = phoneGetDevCaps;
    LONG (*status)(HPHONE, LPPHONESTATUS) = phoneGetStatus;
    LONG (*setmsgs)(HPHONE, DWORD, DWORD, DWORD) = phoneSetStatusMessages;
    LONG (*getmsgs)(HPHONE, LPDWORD, LPDWORD, LPDWORD) = phoneGetStatusMessages;
    LONG (*setlamp)(HPHONE, DWORD, DWORD) = phoneSetLamp;
    LONG (*getlamp)(HPHONE, DWORD, LPDWORD) = phoneGetLamp;
    LONG (*getmsg)(HPHONEAPP, LPPHONEMESSAGE, DWORD) = phoneGetMessage;
    void (*cb)(DWORD, DWORD, DWORD_PTR, DWORD_PTR, DWORD_PTR, DWORD_PTR) = (PHONECALLBACK)0;
    TQ_CHECK(init && init_a && shutdown && negotiate && open && close && caps && status &&
             setmsgs && getmsgs && setlamp && getlamp && getmsg && !cb);
}

int main(void)
{
    check_offsets();
    check_constants();
    check_signatures();
    printf("layout: ok\n");
    return 0;
}
