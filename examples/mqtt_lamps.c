/* examples/mqtt_lamps.c - drive consoles through tapiq's mqtt backend.
 *
 *   tapiq-mqtt-lamps "backend=mqtt,url=mqtt://127.0.0.1:1883,devices=16,lamps=16" [N]
 *
 * Opens every console as owner, sets N (default 1000) random lamps, waits for
 * every PHONE_REPLY and prints how many succeeded (0) and failed (a PHONEERR).
 * Run tapiq-console-sim beside it to watch the consoles receive the state.
 */
#include <stdio.h>
#include <stdlib.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

int main(int argc, char **argv)
{
    HPHONEAPP app;
    HPHONE *ph;
    DWORD ndevs, ver = TAPI_CURRENT_VERSION, lamps = 0;
    PHONEINITIALIZEEXPARAMS p = {.dwTotalSize = sizeof(p), .dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT};
    PHONEMESSAGE msg;
    PHONECAPS *caps;
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000, sent = 0, ok = 0, failed = 0;
    unsigned seed = 1;

    if (argc < 2) {
        fprintf(stderr, "usage: tapiq-mqtt-lamps CONFIG [N]\n");
        return 2;
    }
    if (tapiq_configure(argv[1]) != 0 || phoneInitializeEx(&app, NULL, NULL, "mqtt-lamps", &ndevs, &ver, &p) != 0) {
        fprintf(stderr, "init: %s\n", tapiq_last_error());
        return 1;
    }
    ph = calloc(ndevs, sizeof(*ph));
    caps = calloc(1, 65536);
    caps->dwTotalSize = 65536;
    for (DWORD d = 0; d < ndevs; d++) {
        PHONEEXTENSIONID ext;
        if (phoneNegotiateAPIVersion(app, d, TAPI_VERSION1_4, TAPI_VERSION2_2, &ver, &ext) != 0 ||
            phoneOpen(app, d, &ph[d], ver, 0, 0, PHONEPRIVILEGE_OWNER) != 0)
            return 1;
    }
    if (phoneGetDevCaps(app, 0, ver, 0, caps) == 0)
        lamps = caps->dwNumButtonLamps;
    while (lamps && sent < n) {
        LONG id;
        seed = seed * 1103515245u + 12345u;
        id = phoneSetLamp(ph[(seed >> 8) % ndevs], (seed >> 4) % lamps, PHONELAMPMODE_OFF << ((seed >> 16) % 6));
        if (id > 0)
            sent++;
        else if (id != (LONG)PHONEERR_RESOURCEUNAVAIL && id != (LONG)PHONEERR_INVALPHONESTATE)
            fprintf(stderr, "phoneSetLamp: 0x%08lx\n", (unsigned long)(DWORD)id);
        while (phoneGetMessage(app, &msg, id == (LONG)PHONEERR_RESOURCEUNAVAIL ? 100 : 0) == 0)
            if (msg.dwMessageID == PHONE_REPLY)
                ++*(msg.dwParam2 == 0 ? &ok : &failed);
    }
    while (ok + failed < sent && phoneGetMessage(app, &msg, 60000) == 0)
        if (msg.dwMessageID == PHONE_REPLY)
            ++*(msg.dwParam2 == 0 ? &ok : &failed);
    printf("%lu requests: %lu replied 0, %lu failed\n", sent, ok, failed);
    phoneShutdown(app);
    free(caps);
    free(ph);
    return failed ? 1 : 0;
}
