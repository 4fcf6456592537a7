/* Set one lamp and wait for its reply (the README's example). */
#include <stdio.h>
#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

int main(void)
{
    HPHONEAPP app;
    HPHONE phone;
    DWORD ndevs, ver = TAPI_CURRENT_VERSION;
    PHONEEXTENSIONID ext;
    PHONEMESSAGE msg;
    PHONEINITIALIZEEXPARAMS p = {.dwTotalSize = sizeof(p), .dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT};

    if (tapiq_configure("backend=mem,devices=4,lamps=8") != 0 ||
        phoneInitializeEx(&app, NULL, NULL, "example", &ndevs, &ver, &p) != 0) {
        fprintf(stderr, "init: %s\n", tapiq_last_error());
        return 1;
    }
    LONG id = -1, result = -1;
    if (phoneNegotiateAPIVersion(app, 0, TAPI_VERSION1_4, TAPI_VERSION2_2, &ver, &ext) == 0 &&
        phoneOpen(app, 0, &phone, ver, 0, 0, PHONEPRIVILEGE_OWNER) == 0)
        id = phoneSetLamp(phone, 3, PHONELAMPMODE_FLASH); /* > 0: a request id */
    while (id > 0 && phoneGetMessage(app, &msg, 5000) == 0) /* 5 s timeout */
        if (msg.dwMessageID == PHONE_REPLY && msg.dwParam1 == (DWORD_PTR)id) {
            result = (LONG)msg.dwParam2; /* 0, or a PHONEERR_* */
            break;
        }
    printf("request %ld: result 0x%08lx\n", (long)id, (unsigned long)(DWORD)result);
    phoneShutdown(app);
    return result == 0 ? 0 : 1;
}
