/* wall_app - the tapiq application side of the browser test (test_wall.py).
 *
 * argv: CONFIG (a backend=mqtt configuration with devices and lamps).
 * Commands, one per line on stdin; each answers on stdout and ends with a
 * line "ok":
 *   pattern K   sets every lamp of every console to a mode derived from K
 *               (lamp l of console c: the (c + l + K)-th of the six modes),
 *               first passing each lamp through the five other modes (bursts
 *               the wall must coalesce), waits for every reply (each must be
 *               0), then prints one line per console, what phoneGetLamp
 *               returns: "lamps C m0 m1 ..." (wire-format mode names).
 *   display     prints "display C HEX" per console: phoneGetDisplay's string
 *               (without its NUL) in hex; "display C none" without a display.
 *   buttons N   waits (20 s at most) for N PHONE_BUTTON messages, printing
 *               "button C ID MODE STATE" for each (C: the console of the
 *               handle; MODE and STATE: dwParam2, dwParam3). Every handle
 *               asks for every button mode going DOWN or UP.
 *   quit        shuts down and exits 0.
 * Any failure prints "error ..." and exits 1.
 */
#include "backends/mqtt/tests/mq_fixture.h"
#include "backends/mqtt/wire.h"

static const DWORD modes[6] = {PHONELAMPMODE_OFF, PHONELAMPMODE_STEADY, PHONELAMPMODE_WINK,
                               PHONELAMPMODE_FLASH, PHONELAMPMODE_FLUTTER,
                               PHONELAMPMODE_BROKENFLUTTER};

static HPHONEAPP app;
static HPHONE *h;
static DWORD ndev, nlamps;
static uint64_t outstanding;

static void fail(const char *what, LONG rc)
{
    printf("error %s: 0x%08lx\n", what, (unsigned long)(DWORD)rc);
    fflush(stdout);
    exit(1);
}

static unsigned nbuttons;
static char button_lines[64][64];

static void reap(DWORD timeout_ms)
{
    PHONEMESSAGE msg;
    while (phoneGetMessage(app, &msg, timeout_ms) == 0) {
        if (msg.dwMessageID == PHONE_BUTTON && nbuttons < 64) {
            DWORD c = 0;
            while (c < ndev && (DWORD)h[c] != msg.hDevice)
                c++;
            snprintf(button_lines[nbuttons++], sizeof(button_lines[0]), "button %lu %lu %lu %lu",
                     (unsigned long)c, (unsigned long)msg.dwParam1, (unsigned long)msg.dwParam2,
                     (unsigned long)msg.dwParam3);
        }
        if (msg.dwMessageID == PHONE_REPLY) {
            if (msg.dwParam2 != 0)
                fail("PHONE_REPLY", (LONG)msg.dwParam2);
            outstanding--;
        }
        if (outstanding == 0 || timeout_ms)
            break;
    }
}

static void set(DWORD c, DWORD l, DWORD mode)
{
    for (int tries = 0;; tries++) {
        LONG id = phoneSetLamp(h[c], l, mode);
        if (id > 0) {
            outstanding++;
            return;
        }
        if (id != (LONG)PHONEERR_RESOURCEUNAVAIL || tries > 100000)
            fail("phoneSetLamp", id);
        reap(10);
    }
}

static void pattern(unsigned k)
{
    for (DWORD step = 1; step <= 6; step++)
        for (DWORD c = 0; c < ndev; c++)
            for (DWORD l = 0; l < nlamps; l++)
                set(c, l, modes[(c + l + k + step) % 6]);
    uint64_t until = mq_now_ms() + 30000;
    while (outstanding > 0) {
        if (mq_now_ms() > until)
            fail("replies missing", (LONG)outstanding);
        reap(100);
    }
    for (DWORD c = 0; c < ndev; c++) {
        printf("lamps %lu", (unsigned long)c);
        for (DWORD l = 0; l < nlamps; l++) {
            DWORD m = 0;
            LONG rc = phoneGetLamp(h[c], l, &m);
            if (rc != 0)
                fail("phoneGetLamp", rc);
            printf(" %s", tapiq_mqtt_mode_name(m));
        }
        printf("\n");
    }
}

static void display(void)
{
    unsigned char buf[sizeof(VARSTRING) + 4200];
    VARSTRING *v = (VARSTRING *)buf;
    for (DWORD c = 0; c < ndev; c++) {
        LONG rc;
        memset(buf, 0, sizeof(buf));
        v->dwTotalSize = sizeof(buf);
        rc = phoneGetDisplay(h[c], v);
        printf("display %lu ", (unsigned long)c);
        if (rc == (LONG)PHONEERR_OPERATIONUNAVAIL) {
            printf("none\n");
            continue;
        }
        if (rc != 0)
            fail("phoneGetDisplay", rc);
        for (DWORD i = 0; i + 1 < v->dwStringSize; i++)
            printf("%02x", buf[v->dwStringOffset + i]);
        printf("\n");
    }
}

static void buttons(unsigned n)
{
    uint64_t until = mq_now_ms() + 20000;
    while (nbuttons < n && mq_now_ms() < until)
        reap(100);
    for (unsigned i = 0; i < nbuttons; i++)
        printf("%s\n", button_lines[i]);
    nbuttons = 0;
}

int main(int argc, char **argv)
{
    char line[64];
    PHONECAPS caps;
    if (argc != 2) {
        fprintf(stderr, "usage: wall_app CONFIG\n");
        return 2;
    }
    app = mq_init(argv[1], &ndev);
    h = calloc(ndev, sizeof(*h));
    TQ_CHECK(h != NULL);
    for (DWORD c = 0; c < ndev; c++) {
        h[c] = mq_open(app, c, PHONEPRIVILEGE_OWNER);
        DWORD modes = PHONEBUTTONMODE_CALL | PHONEBUTTONMODE_FEATURE | PHONEBUTTONMODE_KEYPAD |
                      PHONEBUTTONMODE_LOCAL | PHONEBUTTONMODE_DISPLAY;
        if (phoneSetStatusMessages(h[c], 0, modes, PHONEBUTTONSTATE_DOWN | PHONEBUTTONSTATE_UP) != 0)
            fail("phoneSetStatusMessages", 0);
    }
    memset(&caps, 0, sizeof(caps));
    caps.dwTotalSize = sizeof(caps);
    TQ_CHECK(phoneGetDevCaps(app, 0, TAPI_VERSION2_2, 0, &caps) == 0);
    nlamps = caps.dwNumButtonLamps;
    printf("ok\n");
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        unsigned k;
        if (sscanf(line, "pattern %u", &k) == 1)
            pattern(k);
        else if (sscanf(line, "buttons %u", &k) == 1)
            buttons(k);
        else if (strncmp(line, "display", 7) == 0)
            display();
        else if (strncmp(line, "quit", 4) == 0)
            break;
        else
            fail("unknown command", 0);
        printf("ok\n");
        fflush(stdout);
    }
    phoneShutdown(app);
    free(h);
    return 0;
}
