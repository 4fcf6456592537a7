/* tapiq - the TAPI 2.2 phone surface.
 *
 * Source-compatible with the phone functions, constants and structures of the
 * Windows SDK's tapi.h (same names, values, field names and field order; the
 * structures are packed to 1 byte as in the SDK). Linux LP64 types:
 * DWORD = uint32_t, LONG = int32_t, DWORD_PTR = uintptr_t.
 *
 * Every function returns LONG: 0 (or a positive request id for asynchronous
 * functions) on success, a negative PHONEERR_* on failure.
 *
 * Decisions where the SDK documentation is silent (see the README for more):
 *  - phoneSetLamp is asynchronous: a positive request id, then exactly one
 *    PHONE_REPLY (dwParam1 = id, dwParam2 = 0 or a negative PHONEERR_* as LONG).
 *    A negative return means no request exists and no reply will come.
 *    When several errors apply, the first of UNINITIALIZED, INVALPHONEHANDLE,
 *    NOTOWNER, OPERATIONUNAVAIL, INVALBUTTONLAMPID, INVALLAMPMODE,
 *    INVALPHONESTATE, RESOURCEUNAVAIL is returned. OPERATIONFAILED (the backend
 *    could not apply the update) only ever arrives in PHONE_REPLY.
 *  - Request ids are 1..0x7FFFFFFF, never 0, never equal to another request in
 *    flight (slot index plus a per-slot generation).
 *  - API versions 0x00010003 (TAPI_VERSION1_0) .. 0x00020002 are supported;
 *    phoneNegotiateAPIVersion picks the highest in the caller's range.
 *  - Requests from one thread to one lamp take effect in issue order; after
 *    their replies phoneGetLamp returns the mode of the last successful one.
 *    Several updates of one lamp in one batch reach the backend as one, and
 *    every request still gets its own reply. A reply may arrive before
 *    phoneSetLamp returns.
 *  - PHONE_STATE (dwParam1 = PHONESTATE_LAMP, dwParam2 = lamp id) goes, after a
 *    lamp's mode really changed and before the replies of that batch, to every
 *    handle on the device whose phoneSetStatusMessages filter has
 *    PHONESTATE_LAMP (off by default). Pending lamp notifications for one
 *    lamp of one handle coalesce into one; none is dropped. Replies are never
 *    dropped: each accepted request reserves room in its application's queue.
 *  - phoneGetMessage: timeout 0 polls, INFINITE blocks; PHONEERR_OPERATIONFAILED
 *    when nothing arrived in time; PHONEERR_INVALAPPHANDLE at once when
 *    phoneShutdown runs on another thread during the wait.
 *  - PHONEINITIALIZEEXOPTION_USEEVENT: Handles.hEvent receives a file
 *    descriptor (cast through intptr_t) that polls readable while messages are
 *    pending. USEHIDDENWINDOW with a callback: messages are delivered to the
 *    callback, on a delivery thread owned by the application's instance.
 *    USECOMPLETIONPORT is not supported (PHONEERR_INVALPARAM).
 *  - After phoneClose (phoneShutdown) returns, no message and no callback for
 *    that handle (application) reaches the application, in any delivery
 *    mode: replies not yet read are suppressed, also when they were already
 *    posted; a callback in progress for the handle is waited for (unless the
 *    callback itself closes it). A phoneGetMessage that was already running
 *    on another thread when phoneClose was called may still return one.
 *  - PHONE_STATE CONNECTED / DISCONNECTED: one notification per handle at a
 *    time; it says the device's state when the application reads it, so the
 *    last one read agrees with phoneGetStatus.
 *  - PHONECAPS / PHONESTATUS: dwTotalSize below the fixed part gives
 *    PHONEERR_STRUCTURETOOSMALL (dwNeededSize is filled when dwTotalSize >= 12).
 *    A structure with room for the fixed part but not for the variable part
 *    succeeds with dwNeededSize set, dwUsedSize = the fixed part and the
 *    variable sizes 0, as the SDK does.
 *  - The configuration (TAPIQ_CONFIG or tapiq_configure() in <tapiq/tapiq.h>)
 *    is taken at the first phoneInitializeEx; a bad key or value fails it with
 *    PHONEERR_INIFILECORRUPT and tapiq_last_error() says why.
 */
#ifndef TAPIQ_TAPI_H
#define TAPIQ_TAPI_H

#include <stdint.h>

#if defined(TAPIQ_BUILDING_LIBRARY)
#define TAPIQ_API __attribute__((visibility("default")))
#else
#define TAPIQ_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(TAPIQ_NO_WINTYPES) && !defined(_WINDEF_) && !defined(TAPIQ_WINTYPES_DEFINED)
#define TAPIQ_WINTYPES_DEFINED 1
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef uint16_t WORD;
typedef uint8_t BYTE;
typedef uintptr_t DWORD_PTR;
typedef void *HANDLE;
typedef void *HINSTANCE;
typedef DWORD *LPDWORD;
typedef const char *LPCSTR;
#endif

#if !defined(TAPIQ_NO_WINTYPES) && !defined(GUID_DEFINED) && !defined(TAPIQ_GUID_DEFINED)
#define TAPIQ_GUID_DEFINED 1
#define GUID_DEFINED 1
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
#endif

typedef DWORD HPHONEAPP;
typedef DWORD HPHONE;
typedef HPHONEAPP *LPHPHONEAPP;
typedef HPHONE *LPHPHONE;

typedef void (*PHONECALLBACK)(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance,
                              DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3);

#ifndef INFINITE
#define INFINITE 0xFFFFFFFF
#endif

/* API versions */
#define TAPI_VERSION1_0 0x00010003
#define TAPI_VERSION1_4 0x00010004
#define TAPI_VERSION2_0 0x00020000
#define TAPI_VERSION2_1 0x00020001
#define TAPI_VERSION2_2 0x00020002
#ifndef TAPI_CURRENT_VERSION
#define TAPI_CURRENT_VERSION TAPI_VERSION2_2
#endif

/* Errors: as LONG they are negative. */
#define PHONEERR_ALLOCATED ((LONG)0x90000001)
#define PHONEERR_BADDEVICEID ((LONG)0x90000002)
#define PHONEERR_INCOMPATIBLEAPIVERSION ((LONG)0x90000003)
#define PHONEERR_INCOMPATIBLEEXTVERSION ((LONG)0x90000004)
#define PHONEERR_INIFILECORRUPT ((LONG)0x90000005)
#define PHONEERR_INUSE ((LONG)0x90000006)
#define PHONEERR_INVALAPPHANDLE ((LONG)0x90000007)
#define PHONEERR_INVALAPPNAME ((LONG)0x90000008)
#define PHONEERR_INVALBUTTONLAMPID ((LONG)0x90000009)
#define PHONEERR_INVALBUTTONMODE ((LONG)0x9000000A)
#define PHONEERR_INVALBUTTONSTATE ((LONG)0x9000000B)
#define PHONEERR_INVALDATAID ((LONG)0x9000000C)
#define PHONEERR_INVALDEVICECLASS ((LONG)0x9000000D)
#define PHONEERR_INVALEXTVERSION ((LONG)0x9000000E)
#define PHONEERR_INVALHOOKSWITCHDEV ((LONG)0x9000000F)
#define PHONEERR_INVALHOOKSWITCHMODE ((LONG)0x90000010)
#define PHONEERR_INVALLAMPMODE ((LONG)0x90000011)
#define PHONEERR_INVALPARAM ((LONG)0x90000012)
#define PHONEERR_INVALPHONEHANDLE ((LONG)0x90000013)
#define PHONEERR_INVALPHONESTATE ((LONG)0x90000014)
#define PHONEERR_INVALPOINTER ((LONG)0x90000015)
#define PHONEERR_INVALPRIVILEGE ((LONG)0x90000016)
#define PHONEERR_INVALRINGMODE ((LONG)0x90000017)
#define PHONEERR_NODEVICE ((LONG)0x90000018)
#define PHONEERR_NODRIVER ((LONG)0x90000019)
#define PHONEERR_NOMEM ((LONG)0x9000001A)
#define PHONEERR_NOTOWNER ((LONG)0x9000001B)
#define PHONEERR_OPERATIONFAILED ((LONG)0x9000001C)
#define PHONEERR_OPERATIONUNAVAIL ((LONG)0x9000001D)
#define PHONEERR_RESOURCEUNAVAIL ((LONG)0x9000001F)
#define PHONEERR_REQUESTOVERRUN ((LONG)0x90000020)
#define PHONEERR_STRUCTURETOOSMALL ((LONG)0x90000021)
#define PHONEERR_UNINITIALIZED ((LONG)0x90000022)
#define PHONEERR_REINIT ((LONG)0x90000023)
#define PHONEERR_DISCONNECTED ((LONG)0x90000024)
#define PHONEERR_SERVICE_NOT_RUNNING ((LONG)0x90000025)

/* Lamp modes */
#define PHONELAMPMODE_DUMMY 0x00000001
#define PHONELAMPMODE_OFF 0x00000002
#define PHONELAMPMODE_STEADY 0x00000004
#define PHONELAMPMODE_WINK 0x00000008
#define PHONELAMPMODE_FLASH 0x00000010
#define PHONELAMPMODE_FLUTTER 0x00000020
#define PHONELAMPMODE_BROKENFLUTTER 0x00000040
#define PHONELAMPMODE_UNKNOWN 0x00000080

#define PHONEPRIVILEGE_MONITOR 0x00000001
#define PHONEPRIVILEGE_OWNER 0x00000002

#define PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW 0x00000001
#define PHONEINITIALIZEEXOPTION_USEEVENT 0x00000002
#define PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT 0x00000003

/* Messages */
#define PHONE_BUTTON 14
#define PHONE_CLOSE 15
#define PHONE_DEVSPECIFIC 16
#define PHONE_REPLY 17
#define PHONE_STATE 18
#define PHONE_CREATE 20
#define PHONE_REMOVE 26

#define PHONESTATE_OTHER 0x00000001
#define PHONESTATE_CONNECTED 0x00000002
#define PHONESTATE_DISCONNECTED 0x00000004
#define PHONESTATE_OWNER 0x00000008
#define PHONESTATE_MONITORS 0x00000010
#define PHONESTATE_DISPLAY 0x00000020
#define PHONESTATE_LAMP 0x00000040
#define PHONESTATE_RINGMODE 0x00000080
#define PHONESTATE_RINGVOLUME 0x00000100
#define PHONESTATE_HANDSETHOOKSWITCH 0x00000200
#define PHONESTATE_HANDSETVOLUME 0x00000400
#define PHONESTATE_HANDSETGAIN 0x00000800
#define PHONESTATE_SPEAKERHOOKSWITCH 0x00001000
#define PHONESTATE_SPEAKERVOLUME 0x00002000
#define PHONESTATE_SPEAKERGAIN 0x00004000
#define PHONESTATE_HEADSETHOOKSWITCH 0x00008000
#define PHONESTATE_HEADSETVOLUME 0x00010000
#define PHONESTATE_HEADSETGAIN 0x00020000
#define PHONESTATE_SUSPEND 0x00040000
#define PHONESTATE_RESUME 0x00080000
#define PHONESTATE_DEVSPECIFIC 0x00100000
#define PHONESTATE_REINIT 0x00200000
#define PHONESTATE_CAPSCHANGE 0x00400000
#define PHONESTATE_REMOVED 0x00800000

#define PHONESTATUSFLAGS_CONNECTED 0x00000001
#define PHONESTATUSFLAGS_SUSPENDED 0x00000002

#define PHONEFEATURE_GETLAMP 0x00000200
#define PHONEFEATURE_SETLAMP 0x00800000

#define STRINGFORMAT_ASCII 0x00000001

#pragma pack(push, 1)

typedef struct phonemessage_tag {
    DWORD hDevice;
    DWORD dwMessageID;
    DWORD_PTR dwCallbackInstance;
    DWORD_PTR dwParam1;
    DWORD_PTR dwParam2;
    DWORD_PTR dwParam3;
} PHONEMESSAGE, *LPPHONEMESSAGE;

typedef struct phoneinitializeexparams_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwOptions;
    union {
        HANDLE hEvent;
        HANDLE hCompletionPort;
    } Handles;
    DWORD dwCompletionKey;
} PHONEINITIALIZEEXPARAMS, *LPPHONEINITIALIZEEXPARAMS;

typedef struct phoneextensionid_tag {
    DWORD dwExtensionID0;
    DWORD dwExtensionID1;
    DWORD dwExtensionID2;
    DWORD dwExtensionID3;
} PHONEEXTENSIONID, *LPPHONEEXTENSIONID;

typedef struct phonecaps_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwProviderInfoSize;
    DWORD dwProviderInfoOffset;
    DWORD dwPhoneInfoSize;
    DWORD dwPhoneInfoOffset;
    DWORD dwPermanentPhoneID;
    DWORD dwPhoneNameSize;
    DWORD dwPhoneNameOffset;
    DWORD dwStringFormat;
    DWORD dwPhoneStates;
    DWORD dwHookSwitchDevs;
    DWORD dwHandsetHookSwitchModes;
    DWORD dwSpeakerHookSwitchModes;
    DWORD dwHeadsetHookSwitchModes;
    DWORD dwVolumeFlags;
    DWORD dwGainFlags;
    DWORD dwDisplayNumRows;
    DWORD dwDisplayNumColumns;
    DWORD dwNumRingModes;
    DWORD dwNumButtonLamps;
    DWORD dwButtonModesSize;
    DWORD dwButtonModesOffset;
    DWORD dwButtonFunctionsSize;
    DWORD dwButtonFunctionsOffset;
    DWORD dwLampModesSize;
    DWORD dwLampModesOffset;
    DWORD dwNumSetData;
    DWORD dwSetDataSize;
    DWORD dwSetDataOffset;
    DWORD dwNumGetData;
    DWORD dwGetDataSize;
    DWORD dwGetDataOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
    DWORD dwDeviceClassesSize;
    DWORD dwDeviceClassesOffset;
    DWORD dwPhoneFeatures;
    DWORD dwSettableHandsetHookSwitchModes;
    DWORD dwSettableSpeakerHookSwitchModes;
    DWORD dwSettableHeadsetHookSwitchModes;
    DWORD dwMonitoredHandsetHookSwitchModes;
    DWORD dwMonitoredSpeakerHookSwitchModes;
    DWORD dwMonitoredHeadsetHookSwitchModes;
    GUID PermanentPhoneGuid;
} PHONECAPS, *LPPHONECAPS;

typedef struct phonestatus_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwStatusFlags;
    DWORD dwNumOwners;
    DWORD dwNumMonitors;
    DWORD dwRingMode;
    DWORD dwRingVolume;
    DWORD dwHandsetHookSwitchMode;
    DWORD dwHandsetVolume;
    DWORD dwHandsetGain;
    DWORD dwSpeakerHookSwitchMode;
    DWORD dwSpeakerVolume;
    DWORD dwSpeakerGain;
    DWORD dwHeadsetHookSwitchMode;
    DWORD dwHeadsetVolume;
    DWORD dwHeadsetGain;
    DWORD dwDisplaySize;
    DWORD dwDisplayOffset;
    DWORD dwLampModesSize;
    DWORD dwLampModesOffset;
    DWORD dwOwnerNameSize;
    DWORD dwOwnerNameOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
    DWORD dwPhoneFeatures;
} PHONESTATUS, *LPPHONESTATUS;

#pragma pack(pop)

TAPIQ_API LONG phoneInitializeEx(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                 PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                 LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                 LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams);
TAPIQ_API LONG phoneInitializeExA(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                  PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                  LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                  LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams);
TAPIQ_API LONG phoneShutdown(HPHONEAPP hPhoneApp);
TAPIQ_API LONG phoneNegotiateAPIVersion(HPHONEAPP hPhoneApp, DWORD dwDeviceID,
                                        DWORD dwAPILowVersion, DWORD dwAPIHighVersion,
                                        LPDWORD lpdwAPIVersion,
                                        LPPHONEEXTENSIONID lpExtensionID);
TAPIQ_API LONG phoneOpen(HPHONEAPP hPhoneApp, DWORD dwDeviceID, LPHPHONE lphPhone,
                         DWORD dwAPIVersion, DWORD dwExtVersion, DWORD_PTR dwCallbackInstance,
                         DWORD dwPrivilege);
TAPIQ_API LONG phoneClose(HPHONE hPhone);
TAPIQ_API LONG phoneGetDevCaps(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                               DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps);
TAPIQ_API LONG phoneGetStatus(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus);
TAPIQ_API LONG phoneSetStatusMessages(HPHONE hPhone, DWORD dwPhoneStates, DWORD dwButtonModes,
                                      DWORD dwButtonStates);
TAPIQ_API LONG phoneGetStatusMessages(HPHONE hPhone, LPDWORD lpdwPhoneStates,
                                      LPDWORD lpdwButtonModes, LPDWORD lpdwButtonStates);
TAPIQ_API LONG phoneSetLamp(HPHONE hPhone, DWORD dwButtonLampID, DWORD dwLampMode);
TAPIQ_API LONG phoneGetLamp(HPHONE hPhone, DWORD dwButtonLampID, LPDWORD lpdwLampMode);
TAPIQ_API LONG phoneGetMessage(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessage, DWORD dwTimeout);

#ifdef __cplusplus
}
#endif

#endif /* TAPIQ_TAPI_H */
