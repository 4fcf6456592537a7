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
 *    PHONE_REPLY (dwParam1 = id, dwParam2 = 0 or the PHONEERR_* code).
 *    A negative return means no request exists and no reply will come.
 *    When several errors apply, the first of UNINITIALIZED, INVALPHONEHANDLE,
 *    NOTOWNER, OPERATIONUNAVAIL, INVALBUTTONLAMPID, INVALLAMPMODE,
 *    INVALPHONESTATE, RESOURCEUNAVAIL is returned. OPERATIONFAILED (the backend
 *    could not apply the update) only ever arrives in PHONE_REPLY.
 *  - Request ids are 1..0x7FFFFFFF, never 0, never equal to another request in
 *    flight. An id is (ring + 1) << p | (position mod 2^p): the number of the
 *    submission ring (one per issuing thread and worker, plus a shared one
 *    per worker) and the request's position in it, p = 31 - the bits of the
 *    ring count (23 with the defaults). "In flight" ends when the reply is
 *    posted, not when it is read: the ring position is released then, and
 *    the same id comes back after 2^p further requests through the same
 *    ring, even while the earlier reply is still unread.
 *  - API versions 0x00010003 (TAPI_VERSION1_0) .. 0x00020002 are supported;
 *    phoneNegotiateAPIVersion picks the highest in the caller's range.
 *    TAPI_CURRENT_VERSION is 0x00020002, as Microsoft's SDK defines it (the
 *    mingw-w64 header says 0x00030001, a version tapiq does not support:
 *    phoneOpen with it fails with PHONEERR_INCOMPATIBLEAPIVERSION). The
 *    declarations do not depend on TAPI_CURRENT_VERSION: a program that sets
 *    it lower gets the 2.2 structures, which is harmless because every
 *    variable-size structure says its size in dwTotalSize and tapiq fills
 *    only the part of the version negotiated for the device.
 *  - PHONEERR_* are written as the SDK writes them, plain hex
 *    (0x9000001A, an unsigned int): `#if PHONEERR_NOMEM == 0x9000001A`
 *    preprocesses and `{ PHONEERR_NOMEM, "NOMEM" }` initialises a DWORD.
 *    Functions return them as negative LONGs; `r == PHONEERR_NOMEM` holds for
 *    a LONG r (r converts to unsigned; -Wsign-compare warns, as with the SDK).
 *    As with the SDK under g++ and clang++, C++ refuses narrowing them to
 *    LONG: a `switch` on a LONG with `case PHONEERR_NOMEM:` labels, or a LONG
 *    table field initialised with them, does not compile in C++; switch on
 *    (DWORD)r, or write (LONG)PHONEERR_NOMEM. C accepts both.
 *  - PHONE_REPLY's dwParam2 is the result as a DWORD value (0 or the
 *    PHONEERR_* code, zero-extended into DWORD_PTR), as Microsoft documents
 *    it (dwParam2 = (DWORD)Status): both `msg.dwParam2 == PHONEERR_X` and
 *    `(LONG)msg.dwParam2 == PHONEERR_X` hold.
 *  - The SDK's `L` suffixes (PHONE_BUTTON 14L, TAPIERR_DROPPED -1L) are left
 *    out: on LP64 a `long` is 64-bit, the values are LONG (int32_t).
 *  - Requests from one thread to one lamp take effect in issue order; after
 *    their replies phoneGetLamp returns the mode of the last successful one.
 *    Several updates of one lamp in one batch reach the backend as one, and
 *    every request still gets its own reply. A reply may arrive before
 *    phoneSetLamp returns.
 *  - PHONE_STATE (dwParam1 = PHONESTATE_LAMP, dwParam2 = lamp id) goes, after a
 *    lamp's mode really changed and before the replies of that batch, to every
 *    handle on the device whose phoneSetStatusMessages filter has
 *    PHONESTATE_LAMP (off by default). Pending lamp notifications for one
 *    lamp of one handle coalesce into one; none is dropped.
 *  - Replies are never dropped, and nothing reserves room for them: a worker
 *    posts a reply only where its application's completion queue (one per
 *    application and worker) has room; otherwise the worker holds the reply,
 *    and the request's ring position with it, and retries about every
 *    millisecond until the application has read enough. Ring positions are
 *    released in order, so a held reply also holds every later position of
 *    that issuing thread's ring to that worker: an application that never
 *    reads its replies makes the same thread's later requests to devices of
 *    that worker fail with PHONEERR_RESOURCEUNAVAIL once the ring is full,
 *    even requests for other applications (head-of-line blocking). Issue
 *    from separate threads for applications that must not hold each other
 *    up.
 *  - phoneGetMessage: timeout 0 polls, INFINITE blocks; PHONEERR_OPERATIONFAILED
 *    when nothing arrived in time; PHONEERR_INVALAPPHANDLE at once when
 *    phoneShutdown runs on another thread during the wait. When the wait
 *    itself fails (poll(): PHONEERR_NOMEM without kernel memory,
 *    PHONEERR_OPERATIONFAILED for another error such as RLIMIT_NOFILE 0), it
 *    returns that at once instead of waiting.
 *  - PHONEINITIALIZEEXOPTION_USEEVENT: Handles.hEvent receives a file
 *    descriptor (cast through intptr_t) that polls readable while messages are
 *    pending. USEHIDDENWINDOW with a callback: messages are delivered to the
 *    callback, on a delivery thread owned by the application's instance.
 *    USECOMPLETIONPORT is not supported (PHONEERR_INVALPARAM). phoneInitialize
 *    (TAPI 1.x) is the callback model: lpfnCallback is required
 *    (PHONEERR_INVALPOINTER without one).
 *  - After phoneClose (phoneShutdown) returns, no message and no callback for
 *    that handle (application) reaches the application, in any delivery
 *    mode: replies not yet read are suppressed, also when they were already
 *    posted; a callback in progress for the handle is waited for (unless the
 *    callback itself closes it). A phoneGetMessage that was already running
 *    on another thread when phoneClose was called may still return one.
 *    Rule for callbacks: only an application's own delivery thread is
 *    exempt from that wait. A callback of application X that closes a
 *    handle of application Y waits until Y's callback is no longer running
 *    for that handle (X's deliveries stop meanwhile). So if X's callback
 *    closes a handle of Y while Y's callback closes the handle X's callback
 *    is running for, each waits for the other for ever. Close another
 *    application's handles from a thread that is not a delivery thread (or
 *    from that application's own callback). Exempting every delivery thread
 *    would break the guarantee above for Y (its callback could still run
 *    for the handle after phoneClose returned), so tapiq does not.
 *  - PHONE_STATE CONNECTED / DISCONNECTED: one notification per handle at a
 *    time; it says the device's state when the application reads it, so the
 *    last one read agrees with phoneGetStatus.
 *  - PHONE_STATE OWNER / MONITORS (another handle of the device opened or
 *    closed) and HANDSET / SPEAKER / HEADSET HOOKSWITCH (the console reported
 *    a change) coalesce the same way; dwParam2 is the count or the mode when
 *    the application reads the message.
 *  - PHONE_BUTTON (dwParam1 button id, dwParam2 its PHONEBUTTONMODE_*,
 *    dwParam3 PHONEBUTTONSTATE_DOWN or UP) goes to every handle whose
 *    phoneSetStatusMessages button modes and states select it, in the
 *    console's order, never folded. A handle that asks for buttons reserves
 *    room for TAPIQ_BUTTON_ROOM of them (<tapiq/tapiq.h>); an UP whose DOWN
 *    reached a handle always reaches it; a press that finds no room is not
 *    posted to that handle and is counted (tapiq_stats.button_overruns; the
 *    backend's call returns -ENOBUFS). dwButtonState (PHONEBUTTONINFO) does
 *    not follow presses.
 *  - Variable-size structures (PHONECAPS, PHONESTATUS, PHONEBUTTONINFO,
 *    VARSTRING): dwTotalSize below the fixed part (of the API version
 *    negotiated for the device) gives PHONEERR_STRUCTURETOOSMALL
 *    (dwNeededSize is filled when dwTotalSize >= 12). A structure with room
 *    for the fixed part but not for the variable part succeeds with
 *    dwNeededSize set, dwUsedSize = the fixed part and the variable sizes 0,
 *    as the SDK does. Nothing is written beyond dwUsedSize. Variable fields
 *    follow the fixed part, each at a multiple of 4 bytes.
 *  - Strings: A (and the plain names) use 8-bit strings, UTF-8 on Linux
 *    (STRINGFORMAT_ASCII); W variants use UTF-16 (WCHAR is a 16-bit code
 *    unit: char16_t, so u"..." literals are LPCWSTR in C11 and C++;
 *    STRINGFORMAT_UNICODE). Variable-size strings are NUL-terminated and
 *    their sizes, in bytes, count the terminator. W variants convert: text a
 *    backend gave as UTF-8 comes back as UTF-16 (an invalid sequence as
 *    U+FFFD); a W argument that is not valid UTF-16 is treated the same way.
 *    With UNICODE defined, the plain names of the functions that have A/W
 *    variants map to the W variants, as in the SDK; without it they are the
 *    8-bit functions themselves (also exported under the plain names).
 *  - The display has dwDisplayNumRows x dwDisplayNumColumns bytes (rows one
 *    after the other, blanks when nothing was written), followed by a NUL;
 *    phoneGetDisplay and PHONESTATUS give it in that form
 *    (STRINGFORMAT_ASCII) in the A and the W variants alike: the SDK has no
 *    wide form of phoneSetDisplay.
 *  - The getters (phoneGetDisplay, phoneGetRing, phoneGetHookSwitch,
 *    phoneGetVolume, phoneGetGain, phoneGetButtonInfo, phoneGetData, like
 *    phoneGetLamp) answer from tapiq's copy of the device's state, also for a
 *    MONITOR handle and while the device is disconnected; a reader never
 *    waits for a writer and sees each attribute as one consistent value.
 *    Their errors, first match wins: UNINITIALIZED, INVALPHONEHANDLE,
 *    INVALPOINTER (a NULL output), OPERATIONUNAVAIL (the device does not have
 *    that feature: see PHONECAPS.dwPhoneFeatures), then the argument error of
 *    the function (INVALBUTTONLAMPID, INVALHOOKSWITCHDEV, INVALDATAID), then
 *    STRUCTURETOOSMALL. A device without any hookswitch device gives
 *    OPERATIONUNAVAIL for phoneGetHookSwitch; a hookswitch device argument
 *    that is not exactly one PHONEHOOKSWITCHDEV_* bit the device has volume
 *    (gain) control for gives INVALHOOKSWITCHDEV.
 *  - Initial state, until something changes it: display blank, ring mode 0
 *    (off) at volume 0x8000, every hookswitch device ONHOOK at volume and gain
 *    0x8000, data areas zero, buttons UP (UNAVAIL where the position has no
 *    button, PHONEBUTTONMODE_DUMMY). A device whose backend says nothing about
 *    these attributes has only its lamps, and buttons of mode DUMMY.
 *  - phoneGetID knows the device class "tapi/phone" (ASCII letters compared
 *    without case): the device id, a DWORD in STRINGFORMAT_BINARY; any other
 *    class (also "") gives PHONEERR_INVALDEVICECLASS, a NULL class
 *    PHONEERR_INVALPOINTER. PHONECAPS lists "tapi/phone" in
 *    dwDeviceClasses (API 2.0 and later).
 *  - phoneGetIcon: Linux has no icons. For "tapi/phone", "" or NULL it fails
 *    with PHONEERR_OPERATIONFAILED (one of its documented errors), other
 *    classes give PHONEERR_INVALDEVICECLASS; either way *lphIcon is NULL.
 *    phoneConfigDialog: no dialogs, PHONEERR_OPERATIONUNAVAIL (after
 *    UNINITIALIZED, BADDEVICEID and INVALDEVICECLASS). phoneNegotiateExtVersion:
 *    no device has extensions (phoneNegotiateAPIVersion returns a zero
 *    extension id): PHONEERR_OPERATIONUNAVAIL after the checks of the
 *    application, device, pointer and API version.
 *  - PHONESTATUS reports no owner name (dwOwnerNameSize 0) and no
 *    device-specific part; PHONECAPS no phone info and no device-specific
 *    part. dwPhoneFeatures lists what the device has and this build can do.
 *  - Asynchronous setters: phoneSetDisplay, phoneSetRing, phoneSetHookSwitch,
 *    phoneSetVolume, phoneSetGain, phoneSetData, phoneSetButtonInfo(A/W) and
 *    phoneDevSpecific behave as phoneSetLamp: a positive request id, then
 *    exactly one PHONE_REPLY (0, or PHONEERR_OPERATIONFAILED when the
 *    backend failed to apply it, PHONEERR_OPERATIONUNAVAIL when the backend
 *    cannot apply that kind, e.g. the mqtt backend today). They go through
 *    the same path as phoneSetLamp: requests from one thread to one device
 *    take effect in issue order, batched with that device's lamp updates;
 *    later settings of the same attribute in one batch (same ring, same
 *    hookswitch devices or a superset, same volume/gain device, same button,
 *    a display or data write spanning an earlier one) reach the backend as
 *    one, every request still replied. phoneDevSpecific never coalesces.
 *    Errors, the first that applies: UNINITIALIZED, INVALPHONEHANDLE,
 *    NOTOWNER, INVALPOINTER, OPERATIONUNAVAIL (the device lacks the
 *    feature: PHONECAPS dwPhoneFeatures SETDISPLAY ...), the argument errors
 *    of the function (listed with it below, in their order), INVALPARAM
 *    (the payload is larger than a payload slot: the `payload_bytes`
 *    configuration key, 4096 by default), INVALPHONESTATE (disconnected),
 *    RESOURCEUNAVAIL (no free payload slot: the `payloads` key, or no room
 *    in the request ring; backpressure, retry after replies arrived).
 *  - PHONE_STATE after a successful setter changed the state, before the
 *    replies of its batch, to handles whose filter has the bit: DISPLAY,
 *    RINGMODE (dwParam2 = the ring mode), RINGVOLUME, HANDSET/SPEAKER/
 *    HEADSETHOOKSWITCH (dwParam2 = that device's mode), the VOLUME and GAIN
 *    bits of each device, one message per bit. A pending notification of
 *    the same bit folds the next into it; dwParam2 is read when the message
 *    is taken, so the last one read agrees with the Get functions. Setting
 *    the value an attribute already has is no change. phoneDevSpecific,
 *    once applied, gives PHONESTATE_DEVSPECIFIC (the device's own state may
 *    have changed). Button info and data areas have no PHONESTATE_* bit.
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

/* The Windows types tapi.h uses. A program that has its own (a windows.h of
 * its own, or TAPIQ_NO_WINTYPES defined) provides all of them: DWORD, LONG,
 * WORD, BYTE, DWORD_PTR, HANDLE, HINSTANCE, HWND, HICON, LPVOID, LPDWORD,
 * LPCSTR, WCHAR (16-bit), LPWSTR, LPCWSTR. */
#if !defined(TAPIQ_NO_WINTYPES) && !defined(_WINDEF_) && !defined(TAPIQ_WINTYPES_DEFINED)
#define TAPIQ_WINTYPES_DEFINED 1
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef uint16_t WORD;
typedef uint8_t BYTE;
typedef uintptr_t DWORD_PTR;
typedef void *HANDLE;
typedef void *HINSTANCE;
typedef void *HWND;
typedef void *HICON;
typedef void *LPVOID;
typedef DWORD *LPDWORD;
typedef const char *LPCSTR;
#ifdef __cplusplus
typedef char16_t WCHAR; /* u"..." is a const WCHAR[] */
#else
typedef uint16_t WCHAR; /* = C11's char16_t: u"..." is a const WCHAR[] */
#endif
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
#endif

#ifdef __cplusplus
static_assert(sizeof(WCHAR) == 2, "tapiq: WCHAR must be a 16-bit code unit (UTF-16)");
#else
_Static_assert(sizeof(WCHAR) == 2, "tapiq: WCHAR must be a 16-bit code unit (UTF-16)");
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
typedef HICON *LPHICON;

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
#define TAPI_CURRENT_VERSION 0x00020002
#endif

/* Messages */
#define PHONE_BUTTON 14
#define PHONE_CLOSE 15
#define PHONE_DEVSPECIFIC 16
#define PHONE_REPLY 17
#define PHONE_STATE 18
#define PHONE_CREATE 20
#define PHONE_REMOVE 26

#define PHONEBUTTONFUNCTION_UNKNOWN 0x00000000
#define PHONEBUTTONFUNCTION_CONFERENCE 0x00000001
#define PHONEBUTTONFUNCTION_TRANSFER 0x00000002
#define PHONEBUTTONFUNCTION_DROP 0x00000003
#define PHONEBUTTONFUNCTION_HOLD 0x00000004
#define PHONEBUTTONFUNCTION_RECALL 0x00000005
#define PHONEBUTTONFUNCTION_DISCONNECT 0x00000006
#define PHONEBUTTONFUNCTION_CONNECT 0x00000007
#define PHONEBUTTONFUNCTION_MSGWAITON 0x00000008
#define PHONEBUTTONFUNCTION_MSGWAITOFF 0x00000009
#define PHONEBUTTONFUNCTION_SELECTRING 0x0000000A
#define PHONEBUTTONFUNCTION_ABBREVDIAL 0x0000000B
#define PHONEBUTTONFUNCTION_FORWARD 0x0000000C
#define PHONEBUTTONFUNCTION_PICKUP 0x0000000D
#define PHONEBUTTONFUNCTION_RINGAGAIN 0x0000000E
#define PHONEBUTTONFUNCTION_PARK 0x0000000F
#define PHONEBUTTONFUNCTION_REJECT 0x00000010
#define PHONEBUTTONFUNCTION_REDIRECT 0x00000011
#define PHONEBUTTONFUNCTION_MUTE 0x00000012
#define PHONEBUTTONFUNCTION_VOLUMEUP 0x00000013
#define PHONEBUTTONFUNCTION_VOLUMEDOWN 0x00000014
#define PHONEBUTTONFUNCTION_SPEAKERON 0x00000015
#define PHONEBUTTONFUNCTION_SPEAKEROFF 0x00000016
#define PHONEBUTTONFUNCTION_FLASH 0x00000017
#define PHONEBUTTONFUNCTION_DATAON 0x00000018
#define PHONEBUTTONFUNCTION_DATAOFF 0x00000019
#define PHONEBUTTONFUNCTION_DONOTDISTURB 0x0000001A
#define PHONEBUTTONFUNCTION_INTERCOM 0x0000001B
#define PHONEBUTTONFUNCTION_BRIDGEDAPP 0x0000001C
#define PHONEBUTTONFUNCTION_BUSY 0x0000001D
#define PHONEBUTTONFUNCTION_CALLAPP 0x0000001E
#define PHONEBUTTONFUNCTION_DATETIME 0x0000001F
#define PHONEBUTTONFUNCTION_DIRECTORY 0x00000020
#define PHONEBUTTONFUNCTION_COVER 0x00000021
#define PHONEBUTTONFUNCTION_CALLID 0x00000022
#define PHONEBUTTONFUNCTION_LASTNUM 0x00000023
#define PHONEBUTTONFUNCTION_NIGHTSRV 0x00000024
#define PHONEBUTTONFUNCTION_SENDCALLS 0x00000025
#define PHONEBUTTONFUNCTION_MSGINDICATOR 0x00000026
#define PHONEBUTTONFUNCTION_REPDIAL 0x00000027
#define PHONEBUTTONFUNCTION_SETREPDIAL 0x00000028
#define PHONEBUTTONFUNCTION_SYSTEMSPEED 0x00000029
#define PHONEBUTTONFUNCTION_STATIONSPEED 0x0000002A
#define PHONEBUTTONFUNCTION_CAMPON 0x0000002B
#define PHONEBUTTONFUNCTION_SAVEREPEAT 0x0000002C
#define PHONEBUTTONFUNCTION_QUEUECALL 0x0000002D
#define PHONEBUTTONFUNCTION_NONE 0x0000002E
#define PHONEBUTTONFUNCTION_SEND 0x0000002F

#define PHONEBUTTONMODE_DUMMY 0x00000001
#define PHONEBUTTONMODE_CALL 0x00000002
#define PHONEBUTTONMODE_FEATURE 0x00000004
#define PHONEBUTTONMODE_KEYPAD 0x00000008
#define PHONEBUTTONMODE_LOCAL 0x00000010
#define PHONEBUTTONMODE_DISPLAY 0x00000020

#define PHONEBUTTONSTATE_UP 0x00000001
#define PHONEBUTTONSTATE_DOWN 0x00000002
#define PHONEBUTTONSTATE_UNKNOWN 0x00000004
#define PHONEBUTTONSTATE_UNAVAIL 0x00000008

/* Errors: unsigned constants as in the SDK; as LONG they are negative. */
#define PHONEERR_ALLOCATED 0x90000001
#define PHONEERR_BADDEVICEID 0x90000002
#define PHONEERR_INCOMPATIBLEAPIVERSION 0x90000003
#define PHONEERR_INCOMPATIBLEEXTVERSION 0x90000004
#define PHONEERR_INIFILECORRUPT 0x90000005
#define PHONEERR_INUSE 0x90000006
#define PHONEERR_INVALAPPHANDLE 0x90000007
#define PHONEERR_INVALAPPNAME 0x90000008
#define PHONEERR_INVALBUTTONLAMPID 0x90000009
#define PHONEERR_INVALBUTTONMODE 0x9000000A
#define PHONEERR_INVALBUTTONSTATE 0x9000000B
#define PHONEERR_INVALDATAID 0x9000000C
#define PHONEERR_INVALDEVICECLASS 0x9000000D
#define PHONEERR_INVALEXTVERSION 0x9000000E
#define PHONEERR_INVALHOOKSWITCHDEV 0x9000000F
#define PHONEERR_INVALHOOKSWITCHMODE 0x90000010
#define PHONEERR_INVALLAMPMODE 0x90000011
#define PHONEERR_INVALPARAM 0x90000012
#define PHONEERR_INVALPHONEHANDLE 0x90000013
#define PHONEERR_INVALPHONESTATE 0x90000014
#define PHONEERR_INVALPOINTER 0x90000015
#define PHONEERR_INVALPRIVILEGE 0x90000016
#define PHONEERR_INVALRINGMODE 0x90000017
#define PHONEERR_NODEVICE 0x90000018
#define PHONEERR_NODRIVER 0x90000019
#define PHONEERR_NOMEM 0x9000001A
#define PHONEERR_NOTOWNER 0x9000001B
#define PHONEERR_OPERATIONFAILED 0x9000001C
#define PHONEERR_OPERATIONUNAVAIL 0x9000001D
#define PHONEERR_RESOURCEUNAVAIL 0x9000001F
#define PHONEERR_REQUESTOVERRUN 0x90000020
#define PHONEERR_STRUCTURETOOSMALL 0x90000021
#define PHONEERR_UNINITIALIZED 0x90000022
#define PHONEERR_REINIT 0x90000023
#define PHONEERR_DISCONNECTED 0x90000024
#define PHONEERR_SERVICE_NOT_RUNNING 0x90000025

#define PHONEFEATURE_GETBUTTONINFO 0x00000001
#define PHONEFEATURE_GETDATA 0x00000002
#define PHONEFEATURE_GETDISPLAY 0x00000004
#define PHONEFEATURE_GETGAINHANDSET 0x00000008
#define PHONEFEATURE_GETGAINSPEAKER 0x00000010
#define PHONEFEATURE_GETGAINHEADSET 0x00000020
#define PHONEFEATURE_GETHOOKSWITCHHANDSET 0x00000040
#define PHONEFEATURE_GETHOOKSWITCHSPEAKER 0x00000080
#define PHONEFEATURE_GETHOOKSWITCHHEADSET 0x00000100
#define PHONEFEATURE_GETLAMP 0x00000200
#define PHONEFEATURE_GETRING 0x00000400
#define PHONEFEATURE_GETVOLUMEHANDSET 0x00000800
#define PHONEFEATURE_GETVOLUMESPEAKER 0x00001000
#define PHONEFEATURE_GETVOLUMEHEADSET 0x00002000
#define PHONEFEATURE_SETBUTTONINFO 0x00004000
#define PHONEFEATURE_SETDATA 0x00008000
#define PHONEFEATURE_SETDISPLAY 0x00010000
#define PHONEFEATURE_SETGAINHANDSET 0x00020000
#define PHONEFEATURE_SETGAINSPEAKER 0x00040000
#define PHONEFEATURE_SETGAINHEADSET 0x00080000
#define PHONEFEATURE_SETHOOKSWITCHHANDSET 0x00100000
#define PHONEFEATURE_SETHOOKSWITCHSPEAKER 0x00200000
#define PHONEFEATURE_SETHOOKSWITCHHEADSET 0x00400000
#define PHONEFEATURE_SETLAMP 0x00800000
#define PHONEFEATURE_SETRING 0x01000000
#define PHONEFEATURE_SETVOLUMEHANDSET 0x02000000
#define PHONEFEATURE_SETVOLUMESPEAKER 0x04000000
#define PHONEFEATURE_SETVOLUMEHEADSET 0x08000000
#define PHONEFEATURE_GENERICPHONE 0x10000000

#define PHONEHOOKSWITCHDEV_HANDSET 0x00000001
#define PHONEHOOKSWITCHDEV_SPEAKER 0x00000002
#define PHONEHOOKSWITCHDEV_HEADSET 0x00000004

#define PHONEHOOKSWITCHMODE_ONHOOK 0x00000001
#define PHONEHOOKSWITCHMODE_MIC 0x00000002
#define PHONEHOOKSWITCHMODE_SPEAKER 0x00000004
#define PHONEHOOKSWITCHMODE_MICSPEAKER 0x00000008
#define PHONEHOOKSWITCHMODE_UNKNOWN 0x00000010

#define PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW 0x00000001
#define PHONEINITIALIZEEXOPTION_USEEVENT 0x00000002
#define PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT 0x00000003

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

#define STRINGFORMAT_ASCII 0x00000001
#define STRINGFORMAT_DBCS 0x00000002
#define STRINGFORMAT_UNICODE 0x00000003
#define STRINGFORMAT_BINARY 0x00000004

/* The assisted-telephony results (tapiRequestMakeCall ...), for programs that
 * name them; tapiq has no assisted telephony. */
#define TAPIERR_CONNECTED 0
#define TAPIERR_DROPPED (-1)
#define TAPIERR_NOREQUESTRECIPIENT (-2)
#define TAPIERR_REQUESTQUEUEFULL (-3)
#define TAPIERR_INVALDESTADDRESS (-4)
#define TAPIERR_INVALWINDOWHANDLE (-5)
#define TAPIERR_INVALDEVICECLASS (-6)
#define TAPIERR_INVALDEVICEID (-7)
#define TAPIERR_DEVICECLASSUNAVAIL (-8)
#define TAPIERR_DEVICEIDUNAVAIL (-9)
#define TAPIERR_DEVICEINUSE (-10)
#define TAPIERR_DESTBUSY (-11)
#define TAPIERR_DESTNOANSWER (-12)
#define TAPIERR_DESTUNAVAIL (-13)
#define TAPIERR_UNKNOWNWINHANDLE (-14)
#define TAPIERR_UNKNOWNREQUESTID (-15)
#define TAPIERR_REQUESTFAILED (-16)
#define TAPIERR_REQUESTCANCELLED (-17)
#define TAPIERR_INVALPOINTER (-18)
#define TAPIERR_NOTADMIN (-19)
#define TAPIERR_MMCWRITELOCKED (-20)
#define TAPIERR_PROVIDERALREADYINSTALLED (-21)
#define TAPIERR_SCP_ALREADY_EXISTS (-22)
#define TAPIERR_SCP_DOES_NOT_EXIST (-23)

#define TAPIMAXDESTADDRESSSIZE 80
#define TAPIMAXAPPNAMESIZE 40
#define TAPIMAXCALLEDPARTYSIZE 40
#define TAPIMAXCOMMENTSIZE 80
#define TAPIMAXDEVICECLASSSIZE 40
#define TAPIMAXDEVICEIDSIZE 40

/* A TAPI error (PHONEERR_*, LINEERR_*, TAPIERR_*) as a message number of
 * tapi32.dll's message table, exactly as the SDK defines it. */
#define TAPIERROR_FORMATMESSAGE(code)                                                        \
    (((code) > 0xFFFF0000) ? ((code)&0x0000FFFF)                                             \
                           : (((code)&0x10000000) ? ((code)-0x90000000 + 0xF000)             \
                                                  : ((code)-0x80000000 + 0xE000)))

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

typedef struct phonebuttoninfo_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwButtonMode;
    DWORD dwButtonFunction;
    DWORD dwButtonTextSize;
    DWORD dwButtonTextOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
    DWORD dwButtonState; /* API 1.4 and later */
} PHONEBUTTONINFO, *LPPHONEBUTTONINFO;

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

typedef struct varstring_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwStringFormat;
    DWORD dwStringSize;
    DWORD dwStringOffset;
} VARSTRING, *LPVARSTRING;

#pragma pack(pop)

/* ------------------------------------------------------------ applications */

TAPIQ_API LONG phoneInitializeEx(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                 PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                 LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                 LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams);
TAPIQ_API LONG phoneInitializeExA(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                  PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                  LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                  LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams);
/* The application name in UTF-16; otherwise phoneInitializeExA. */
TAPIQ_API LONG phoneInitializeExW(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                  PHONECALLBACK lpfnCallback, LPCWSTR lpszFriendlyAppName,
                                  LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                  LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams);
/* TAPI 1.x: phoneInitializeEx with a callback (USEHIDDENWINDOW) and no
 * parameters. lphPhoneApp, lpfnCallback and lpdwNumDevs are required
 * (PHONEERR_INVALPOINTER); other errors as phoneInitializeEx. */
TAPIQ_API LONG phoneInitialize(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                               PHONECALLBACK lpfnCallback, LPCSTR lpszAppName,
                               LPDWORD lpdwNumDevs);
TAPIQ_API LONG phoneShutdown(HPHONEAPP hPhoneApp);
TAPIQ_API LONG phoneGetMessage(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessage, DWORD dwTimeout);

/* ---------------------------------------------------------------- devices */

TAPIQ_API LONG phoneNegotiateAPIVersion(HPHONEAPP hPhoneApp, DWORD dwDeviceID,
                                        DWORD dwAPILowVersion, DWORD dwAPIHighVersion,
                                        LPDWORD lpdwAPIVersion,
                                        LPPHONEEXTENSIONID lpExtensionID);
/* No device has extensions. Errors, first match wins: INVALAPPHANDLE,
 * BADDEVICEID, INVALPOINTER, INCOMPATIBLEAPIVERSION (dwAPIVersion outside
 * the supported range), OPERATIONUNAVAIL (always, otherwise). */
TAPIQ_API LONG phoneNegotiateExtVersion(HPHONEAPP hPhoneApp, DWORD dwDeviceID,
                                        DWORD dwAPIVersion, DWORD dwExtLowVersion,
                                        DWORD dwExtHighVersion, LPDWORD lpdwExtVersion);
/* Errors, first match wins: INVALAPPHANDLE, BADDEVICEID,
 * INCOMPATIBLEAPIVERSION, INCOMPATIBLEEXTVERSION, INVALPOINTER,
 * STRUCTURETOOSMALL. A: strings UTF-8, dwStringFormat STRINGFORMAT_ASCII;
 * W: UTF-16, STRINGFORMAT_UNICODE. Variable part, in this order: provider
 * info, phone name, button modes, button functions, lamp modes (one DWORD
 * per button/lamp position each), the sizes of the settable and of the
 * gettable data areas (one DWORD each), device classes (2.0 and later). */
TAPIQ_API LONG phoneGetDevCaps(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                               DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps);
TAPIQ_API LONG phoneGetDevCapsA(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                                DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps);
TAPIQ_API LONG phoneGetDevCapsW(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                                DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps);
/* Linux has no icons: PHONEERR_OPERATIONFAILED for "tapi/phone", "" or NULL.
 * Errors, first match wins: UNINITIALIZED (no application), BADDEVICEID,
 * INVALPOINTER, INVALDEVICECLASS, OPERATIONFAILED; *lphIcon is set to NULL
 * whenever lphIcon is not NULL. */
TAPIQ_API LONG phoneGetIcon(DWORD dwDeviceID, LPCSTR lpszDeviceClass, LPHICON lphIcon);
TAPIQ_API LONG phoneGetIconA(DWORD dwDeviceID, LPCSTR lpszDeviceClass, LPHICON lphIcon);
TAPIQ_API LONG phoneGetIconW(DWORD dwDeviceID, LPCWSTR lpszDeviceClass, LPHICON lphIcon);
/* No dialogs on a server: PHONEERR_OPERATIONUNAVAIL. Errors, first match
 * wins: UNINITIALIZED (no application), BADDEVICEID, INVALDEVICECLASS (a
 * class other than "tapi/phone", "" or NULL), OPERATIONUNAVAIL. */
TAPIQ_API LONG phoneConfigDialog(DWORD dwDeviceID, HWND hwndOwner, LPCSTR lpszDeviceClass);
TAPIQ_API LONG phoneConfigDialogA(DWORD dwDeviceID, HWND hwndOwner, LPCSTR lpszDeviceClass);
TAPIQ_API LONG phoneConfigDialogW(DWORD dwDeviceID, HWND hwndOwner, LPCWSTR lpszDeviceClass);

/* ---------------------------------------------------------------- handles */

TAPIQ_API LONG phoneOpen(HPHONEAPP hPhoneApp, DWORD dwDeviceID, LPHPHONE lphPhone,
                         DWORD dwAPIVersion, DWORD dwExtVersion, DWORD_PTR dwCallbackInstance,
                         DWORD dwPrivilege);
TAPIQ_API LONG phoneClose(HPHONE hPhone);
/* Errors: UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER, STRUCTURETOOSMALL.
 * Variable part: the lamp modes (one DWORD per button/lamp position), then
 * the display (as phoneGetDisplay's string). A and W give the same. */
TAPIQ_API LONG phoneGetStatus(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus);
TAPIQ_API LONG phoneGetStatusA(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus);
TAPIQ_API LONG phoneGetStatusW(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus);
/* Errors, in this order: UNINITIALIZED, INVALPHONEHANDLE, INVALPHONESTATE
 * (a bit that is no PHONESTATE_*), INVALBUTTONMODE (a bit that is no
 * PHONEBUTTONMODE_*), INVALBUTTONSTATE (a bit that is no PHONEBUTTONSTATE_*,
 * or button modes with no button state: as the SDK, modes need a state),
 * RESOURCEUNAVAIL (no event room left to reserve), NOMEM. */
TAPIQ_API LONG phoneSetStatusMessages(HPHONE hPhone, DWORD dwPhoneStates, DWORD dwButtonModes,
                                      DWORD dwButtonStates);
TAPIQ_API LONG phoneGetStatusMessages(HPHONE hPhone, LPDWORD lpdwPhoneStates,
                                      LPDWORD lpdwButtonModes, LPDWORD lpdwButtonStates);
/* "tapi/phone": the device id (as phoneOpen's dwDeviceID) as 4 bytes,
 * STRINGFORMAT_BINARY. Errors: UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER
 * (lpDeviceID or the class NULL), INVALDEVICECLASS, STRUCTURETOOSMALL. */
TAPIQ_API LONG phoneGetID(HPHONE hPhone, LPVARSTRING lpDeviceID, LPCSTR lpszDeviceClass);
TAPIQ_API LONG phoneGetIDA(HPHONE hPhone, LPVARSTRING lpDeviceID, LPCSTR lpszDeviceClass);
TAPIQ_API LONG phoneGetIDW(HPHONE hPhone, LPVARSTRING lpDeviceID, LPCWSTR lpszDeviceClass);

/* ------------------------------------------------------------ lamps and the
 * other attributes. The getters answer from tapiq's state; their errors, in
 * the order of the decisions above. */

TAPIQ_API LONG phoneSetLamp(HPHONE hPhone, DWORD dwButtonLampID, DWORD dwLampMode);
TAPIQ_API LONG phoneGetLamp(HPHONE hPhone, DWORD dwButtonLampID, LPDWORD lpdwLampMode);
/* The mode, function and state of a button/lamp position and its text (A:
 * UTF-8, W: UTF-16; no text: size 0). The fixed part is 36 bytes for a
 * handle opened with API 1.3 (no dwButtonState), 40 from 1.4. Errors:
 * UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER, OPERATIONUNAVAIL (no
 * button/lamp positions), INVALBUTTONLAMPID, STRUCTURETOOSMALL. */
TAPIQ_API LONG phoneGetButtonInfo(HPHONE hPhone, DWORD dwButtonLampID,
                                  LPPHONEBUTTONINFO lpButtonInfo);
TAPIQ_API LONG phoneGetButtonInfoA(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO lpButtonInfo);
TAPIQ_API LONG phoneGetButtonInfoW(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO lpButtonInfo);
/* The whole display: rows x columns bytes and a NUL, STRINGFORMAT_ASCII.
 * Errors: UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER, OPERATIONUNAVAIL
 * (no display), STRUCTURETOOSMALL. */
TAPIQ_API LONG phoneGetDisplay(HPHONE hPhone, LPVARSTRING lpDisplay);
/* Ring mode (0 = off, 1..dwNumRingModes) and volume (0..0xFFFF), one
 * consistent pair. Errors: UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER
 * (either NULL), OPERATIONUNAVAIL (dwNumRingModes 0). */
TAPIQ_API LONG phoneGetRing(HPHONE hPhone, LPDWORD lpdwRingMode, LPDWORD lpdwVolume);
/* The PHONEHOOKSWITCHDEV_* bits of the hookswitch devices that are not
 * ONHOOK. Errors: UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER,
 * OPERATIONUNAVAIL (no hookswitch device). */
TAPIQ_API LONG phoneGetHookSwitch(HPHONE hPhone, LPDWORD lpdwHookSwitchDevs);
/* Volume / gain (0..0xFFFF) of one hookswitch device. Errors:
 * UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER, OPERATIONUNAVAIL (no
 * hookswitch device with volume / gain control), INVALHOOKSWITCHDEV (not
 * exactly one PHONEHOOKSWITCHDEV_* bit, or that device has no control). */
TAPIQ_API LONG phoneGetVolume(HPHONE hPhone, DWORD dwHookSwitchDev, LPDWORD lpdwVolume);
TAPIQ_API LONG phoneGetGain(HPHONE hPhone, DWORD dwHookSwitchDev, LPDWORD lpdwGain);
/* Copies min(dwSize, the area's size) bytes of data area dwDataID (the
 * areas and their sizes: PHONECAPS dwNumGetData / dwGetDataOffset). Errors:
 * UNINITIALIZED, INVALPHONEHANDLE, INVALPOINTER (lpData NULL),
 * OPERATIONUNAVAIL (no data areas), INVALDATAID. */
TAPIQ_API LONG phoneGetData(HPHONE hPhone, DWORD dwDataID, LPVOID lpData, DWORD dwSize);

/* The asynchronous setters (see "Asynchronous setters" above for the
 * request, reply, coalescing and PHONE_STATE rules, and the order of the
 * errors). Each needs an OWNER handle.
 * phoneSetDisplay: writes from (dwRow, dwColumn) on, continuing on the next
 *   rows, up to the first NUL in dwSize bytes; what passes the display's
 *   end is cut. INVALPOINTER (NULL with a size), OPERATIONUNAVAIL (no
 *   display), INVALPARAM (row or column out of range). */
TAPIQ_API LONG phoneSetDisplay(HPHONE hPhone, DWORD dwRow, DWORD dwColumn, LPCSTR lpsDisplay,
                               DWORD dwSize);
/* phoneSetRing: OPERATIONUNAVAIL (no ringer), INVALRINGMODE (above
 *   dwNumRingModes; 0 is off), INVALPARAM (volume above 0xFFFF). */
TAPIQ_API LONG phoneSetRing(HPHONE hPhone, DWORD dwRingMode, DWORD dwVolume);
/* phoneSetHookSwitch: every device in dwHookSwitchDevs to one mode.
 *   OPERATIONUNAVAIL (no hookswitch device), INVALHOOKSWITCHDEV (0, or a
 *   device the phone lacks), INVALHOOKSWITCHMODE (not exactly one
 *   PHONEHOOKSWITCHMODE_* bit, UNKNOWN, or a mode one of the devices does
 *   not support: PHONECAPS dwHandsetHookSwitchModes ...). */
TAPIQ_API LONG phoneSetHookSwitch(HPHONE hPhone, DWORD dwHookSwitchDevs, DWORD dwHookSwitchMode);
/* phoneSetVolume / phoneSetGain: OPERATIONUNAVAIL (no device with that
 *   control), INVALHOOKSWITCHDEV (not exactly one PHONEHOOKSWITCHDEV_* bit
 *   with that control), INVALPARAM (above 0xFFFF). */
TAPIQ_API LONG phoneSetVolume(HPHONE hPhone, DWORD dwHookSwitchDev, DWORD dwVolume);
TAPIQ_API LONG phoneSetGain(HPHONE hPhone, DWORD dwHookSwitchDev, DWORD dwGain);
/* phoneSetData: writes the first min(dwSize, the area's size) bytes of
 *   data area dwDataID, as phoneGetData reads them. INVALPOINTER (NULL with
 *   a size), OPERATIONUNAVAIL (no data areas), INVALDATAID. */
TAPIQ_API LONG phoneSetData(HPHONE hPhone, DWORD dwDataID, LPVOID const lpData, DWORD dwSize);
/* phoneSetButtonInfo: dwButtonMode, dwButtonFunction and the text (A:
 *   8-bit, UTF-8; W: UTF-16; up to its first NUL) of a button/lamp
 *   position; dwButtonState and the device-specific part are not set (the
 *   state is the console's; no device has a device-specific part).
 *   INVALPOINTER, OPERATIONUNAVAIL (no buttons, or a device whose backend
 *   describes none: PHONECAPS lacks PHONEFEATURE_SETBUTTONINFO),
 *   INVALBUTTONLAMPID, STRUCTURETOOSMALL (below the fixed part of the API
 *   version), INVALBUTTONMODE (not exactly one PHONEBUTTONMODE_* bit),
 *   INVALPARAM (an unknown function, a text or device-specific part outside
 *   dwTotalSize, a text longer than the device's button texts). */
TAPIQ_API LONG phoneSetButtonInfo(HPHONE hPhone, DWORD dwButtonLampID,
                                  LPPHONEBUTTONINFO const lpButtonInfo);
TAPIQ_API LONG phoneSetButtonInfoA(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO const lpButtonInfo);
TAPIQ_API LONG phoneSetButtonInfoW(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO const lpButtonInfo);
/* phoneDevSpecific: dwSize bytes handed to the backend as they are (their
 *   meaning is the backend's; the mem backend accepts any). Never coalesced:
 *   the backend sees them in issue order. INVALPOINTER (NULL with a size). */
TAPIQ_API LONG phoneDevSpecific(HPHONE hPhone, LPVOID lpParams, DWORD dwSize);

/* As the SDK does, UNICODE selects the W variants for the plain names. */
#ifdef UNICODE
#define phoneInitializeEx phoneInitializeExW
#define phoneGetDevCaps phoneGetDevCapsW
#define phoneGetIcon phoneGetIconW
#define phoneConfigDialog phoneConfigDialogW
#define phoneGetStatus phoneGetStatusW
#define phoneGetID phoneGetIDW
#define phoneGetButtonInfo phoneGetButtonInfoW
#define phoneSetButtonInfo phoneSetButtonInfoW
#endif

#ifdef __cplusplus
}
#endif

#endif /* TAPIQ_TAPI_H */
