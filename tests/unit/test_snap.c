/* Snapshot cells (core/snap.h) and the device attributes built on them
 * (core/device.h): single-threaded, a cell matches a reference array through
 * random unaligned writes and reads, and a write reports whether anything
 * changed; with a writer and several readers, every read is one version
 * (all bytes of a version carry its tag, tags never go backwards). Then
 * the same through the TAPI getters: while one thread writes a console's
 * display, ring, hookswitch devices, buttons and data through the device
 * module's worker calls, readers check each value they get is a value that
 * was written whole (a display of one letter, a ring volume that matches
 * its mode ...), and the writers report the PHONESTATE_* bits that changed.
 * Meant for the TSan build too. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "core/device.h"
#include "core/guard.h"
#include "core/runtime.h"
#include "core/snap.h"
#include "check.h"

/* TAPIQ_TEST_SCALE divides the loop counts (the sanitizer setups set it). */
static uint32_t scaled(uint32_t n)
{
    const char *s = getenv("TAPIQ_TEST_SCALE");
    unsigned long d = s ? strtoul(s, NULL, 10) : 1;
    return (uint32_t)(n / (d ? d : 1));
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void case_reference(void)
{
    enum { SIZE = 37 };
    unsigned char ref[SIZE], got[SIZE], init[SIZE];
    uint32_t storage[2 * ((SIZE + 3) / 4)];
    struct tapiq_snap s;
    uint64_t seed = 12345;
    uint32_t ver = 0;

    TQ_CHECK(tapiq_snap_storage(SIZE) == sizeof storage);
    for (int i = 0; i < SIZE; i++)
        init[i] = ref[i] = (unsigned char)(i * 7);
    tapiq_snap_init_unsync(&s, storage, SIZE, init);
    TQ_CHECK(tapiq_snap_read(&s, 0, got, SIZE) == 0 && memcmp(got, ref, SIZE) == 0);
    for (int k = 0; k < 20000; k++) {
        uint32_t off = (uint32_t)(rnd(&seed) % SIZE);
        uint32_t n = (uint32_t)(rnd(&seed) % (SIZE - off + 1));
        unsigned char src[SIZE];
        int same;
        for (uint32_t i = 0; i < n; i++)
            src[i] = (unsigned char)(rnd(&seed) % 4); /* often equal to what is there */
        same = memcmp(ref + off, src, n) == 0;
        TQ_CHECK(tapiq_snap_write_unsync(&s, off, src, n) == !same);
        memcpy(ref + off, src, n);
        ver += !same;
        off = (uint32_t)(rnd(&seed) % SIZE);
        n = (uint32_t)(rnd(&seed) % (SIZE - off + 1));
        memset(got, 0xEE, sizeof got);
        if (n)
            TQ_CHECK(tapiq_snap_read(&s, off, got, n) == ver);
        TQ_CHECK(memcmp(got, ref + off, n) == 0);
        for (uint32_t i = n; i < SIZE; i++)
            TQ_CHECK(got[i] == 0xEE);
    }
    /* a zeroed cell */
    tapiq_snap_init_unsync(&s, storage, SIZE, NULL);
    tapiq_snap_read(&s, 0, got, SIZE);
    for (int i = 0; i < SIZE; i++)
        TQ_CHECK(got[i] == 0);
}

/* ------------------------------------------------- one writer, readers */

enum { CELL = 61, WRITES = 200000, READERS = 3 };
static struct tapiq_snap g_cell;
static uint32_t g_storage[2 * ((CELL + 3) / 4)];
static atomic_int g_done;

static void *cell_reader(void *arg)
{
    uint32_t last = 0;
    unsigned long reads = 0;
    (void)arg;
    while (!atomic_load(&g_done) || reads < 1000) {
        unsigned char b[CELL];
        uint32_t tag, ver;
        ver = tapiq_snap_read(&g_cell, 0, b, CELL);
        memcpy(&tag, b, 4);
        TQ_CHECK(tag == ver); /* the writer stores version v's number in it */
        TQ_CHECK(tag >= last);
        for (int i = 4; i < CELL; i++)
            TQ_CHECK(b[i] == (unsigned char)tag);
        last = tag;
        reads++;
    }
    return NULL;
}

static void case_concurrent(void)
{
    pthread_t r[READERS];
    unsigned char b[CELL];
    tapiq_snap_init_unsync(&g_cell, g_storage, CELL, NULL);
    atomic_store(&g_done, 0);
    for (int i = 0; i < READERS; i++)
        TQ_CHECK(pthread_create(&r[i], NULL, cell_reader, NULL) == 0);
    const uint32_t writes = scaled(WRITES);
    for (uint32_t v = 1; v <= writes; v++) {
        memcpy(b, &v, 4);
        memset(b + 4, (unsigned char)v, CELL - 4);
        TQ_CHECK(tapiq_snap_write_unsync(&g_cell, 0, b, CELL) == 1);
    }
    atomic_store(&g_done, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    TQ_CHECK(tapiq_snap_read(&g_cell, 0, b, CELL) == writes);
}

/* ------------------------------------ the device module and the getters */

#define ROWS 4
#define COLS 10
static struct tapiq_dev *g_dev;
static HPHONE g_h;

static void write_round(uint32_t k)
{
    char disp[ROWS * COLS];
    char text[9];
    unsigned char data[16];
    uint32_t f = k % 48, m = k % 4;
    memset(disp, 'a' + (int)(k % 26), sizeof disp);
    tapiq_dev_set_display_worker(g_dev, 0, 0, disp, sizeof disp);
    tapiq_dev_set_ring_worker(g_dev, m, m * 0x1111u);
    tapiq_dev_set_hookswitch_worker(g_dev, 7, k % 2 ? PHONEHOOKSWITCHMODE_MICSPEAKER
                                                    : PHONEHOOKSWITCHMODE_ONHOOK);
    memset(text, 'a' + (int)(f % 26), sizeof text);
    tapiq_dev_set_button_worker(g_dev, 1, PHONEBUTTONMODE_FEATURE, f, text, f % 9);
    memset(data, (int)(k & 0xFF), sizeof data);
    tapiq_dev_set_data_worker(g_dev, 0, data, sizeof data);
    tapiq_dev_set_volume_worker(g_dev, 2, k & 0xFFFF);
}

static void *tapi_reader(void *arg)
{
    unsigned char buf[512];
    unsigned long rounds = 0;
    (void)arg;
    while (!atomic_load(&g_done) || rounds < 200) {
        VARSTRING *v = (VARSTRING *)buf;
        PHONEBUTTONINFO *bi = (PHONEBUTTONINFO *)buf;
        PHONESTATUS *st = (PHONESTATUS *)buf;
        DWORD a, b;
        unsigned char data[16];

        v->dwTotalSize = sizeof buf;
        TQ_CHECK(phoneGetDisplay(g_h, v) == 0 && v->dwStringSize == ROWS * COLS + 1);
        for (int i = 1; i < ROWS * COLS; i++)
            TQ_CHECK(buf[v->dwStringOffset + i] == buf[v->dwStringOffset]);
        TQ_CHECK(phoneGetRing(g_h, &a, &b) == 0 && b == a * 0x1111u);
        TQ_CHECK(phoneGetHookSwitch(g_h, &a) == 0 && (a == 0 || a == 7));
        bi->dwTotalSize = sizeof buf;
        TQ_CHECK(phoneGetButtonInfoW(g_h, 1, bi) == 0);
        if (bi->dwButtonMode == PHONEBUTTONMODE_FEATURE) { /* after the first write */
            DWORD f = bi->dwButtonFunction, n = f % 9;
            TQ_CHECK(bi->dwButtonTextSize == (n ? 2 * (n + 1) : 0));
            for (DWORD i = 0; i < n; i++) {
                uint16_t u;
                memcpy(&u, buf + bi->dwButtonTextOffset + 2 * i, 2);
                TQ_CHECK(u == 'a' + f % 26);
            }
        }
        TQ_CHECK(phoneGetData(g_h, 0, data, sizeof data) == 0);
        for (int i = 1; i < 16; i++)
            TQ_CHECK(data[i] == data[0]);
        st->dwTotalSize = sizeof buf;
        TQ_CHECK(phoneGetStatus(g_h, st) == 0 && st->dwRingVolume == st->dwRingMode * 0x1111u);
        TQ_CHECK(st->dwHandsetHookSwitchMode == PHONEHOOKSWITCHMODE_ONHOOK ||
                 st->dwHandsetHookSwitchMode == PHONEHOOKSWITCHMODE_MICSPEAKER);
        for (int i = 1; i < ROWS * COLS; i++)
            TQ_CHECK(buf[st->dwDisplayOffset + i] == buf[st->dwDisplayOffset]);
        rounds++;
    }
    return NULL;
}

static void case_device(void)
{
    HPHONEAPP app;
    DWORD n = 0, ver = TAPI_VERSION2_2;
    PHONEINITIALIZEEXPARAMS p;
    pthread_t r[READERS];
    struct tapiq_rt *rt;
    char same[ROWS * COLS];

    TQ_CHECK(tapiq_configure("devices=2,lamps=3,display=4x10,ring_modes=3,"
                             "hookswitch=handset+speaker+headset,buttons=feature:hold:A+call,"
                             "data=16") == 0);
    memset(&p, 0, sizeof p);
    p.dwTotalSize = sizeof p;
    p.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    TQ_CHECK(phoneInitializeEx(&app, NULL, NULL, "test_snap", &n, &ver, &p) == 0);
    TQ_CHECK(phoneOpen(app, 1, &g_h, TAPI_VERSION2_2, 0, 0, PHONEPRIVILEGE_MONITOR) == 0);
    tapiq_guard_enter();
    rt = tapiq_rt_current();
    tapiq_guard_exit();
    g_dev = &rt->devs[1]; /* the runtime stays until the shutdown below */

    /* What each writer reports (no request path writes these yet: this
     * thread is the only writer, as the device's worker would be). */
    memset(same, ' ', sizeof same);
    TQ_CHECK(tapiq_dev_set_display_worker(g_dev, 0, 0, same, sizeof same) == 0);
    TQ_CHECK(tapiq_dev_set_display_worker(g_dev, 3, 9, "xyz", 3) == PHONESTATE_DISPLAY);
    TQ_CHECK(tapiq_dev_set_display_worker(g_dev, 3, 9, "x", 1) == 0);
    TQ_CHECK(tapiq_dev_set_ring_worker(g_dev, 0, 0x8000) == 0);
    TQ_CHECK(tapiq_dev_set_ring_worker(g_dev, 2, 0x8000) == PHONESTATE_RINGMODE);
    TQ_CHECK(tapiq_dev_set_ring_worker(g_dev, 2, 7) == PHONESTATE_RINGVOLUME);
    TQ_CHECK(tapiq_dev_set_ring_worker(g_dev, 0, 0) ==
             (PHONESTATE_RINGMODE | PHONESTATE_RINGVOLUME));
    TQ_CHECK(tapiq_dev_set_hookswitch_worker(g_dev, PHONEHOOKSWITCHDEV_SPEAKER,
                                             PHONEHOOKSWITCHMODE_MIC) ==
             PHONESTATE_SPEAKERHOOKSWITCH);
    TQ_CHECK(tapiq_dev_set_hookswitch_worker(g_dev, 7, PHONEHOOKSWITCHMODE_MIC) ==
             (PHONESTATE_HANDSETHOOKSWITCH | PHONESTATE_HEADSETHOOKSWITCH));
    {
        DWORD devs = 0;
        TQ_CHECK(phoneGetHookSwitch(g_h, &devs) == 0 && devs == 7);
    }
    TQ_CHECK(tapiq_dev_set_volume_worker(g_dev, 0, 0x8000) == 0);
    TQ_CHECK(tapiq_dev_set_volume_worker(g_dev, 0, 1) == PHONESTATE_HANDSETVOLUME);
    TQ_CHECK(tapiq_dev_set_gain_worker(g_dev, 2, 2) == PHONESTATE_HEADSETGAIN);
    TQ_CHECK(tapiq_dev_set_button_worker(g_dev, 0, PHONEBUTTONMODE_FEATURE,
                                         PHONEBUTTONFUNCTION_HOLD, "A", 1) == 0);
    TQ_CHECK(tapiq_dev_set_button_state_worker(g_dev, 0, PHONEBUTTONSTATE_DOWN) == 1);
    TQ_CHECK(tapiq_dev_set_button_state_worker(g_dev, 0, PHONEBUTTONSTATE_DOWN) == 0);
    {
        struct tapiq_button b;
        tapiq_dev_button(g_dev, 0, &b);
        TQ_CHECK(b.state == PHONEBUTTONSTATE_DOWN && b.function == PHONEBUTTONFUNCTION_HOLD &&
                 b.text_len == 1 && strcmp(b.text, "A") == 0);
        TQ_CHECK(tapiq_dev_set_button_worker(g_dev, 0, PHONEBUTTONMODE_CALL,
                                             PHONEBUTTONFUNCTION_HOLD, "A", 1) == 1);
        tapiq_dev_button(g_dev, 0, &b);
        TQ_CHECK(b.mode == PHONEBUTTONMODE_CALL && b.state == PHONEBUTTONSTATE_DOWN);
    }
    {
        VARSTRING *v;
        unsigned char buf[128];
        v = (VARSTRING *)buf;
        v->dwTotalSize = sizeof buf;
        TQ_CHECK(phoneGetDisplay(g_h, v) == 0);
        TQ_CHECK(memcmp(buf + v->dwStringOffset + 39, "x\0", 2) == 0); /* cut at the end */
    }

    atomic_store(&g_done, 0);
    write_round(0);
    for (int i = 0; i < READERS; i++)
        TQ_CHECK(pthread_create(&r[i], NULL, tapi_reader, NULL) == 0);
    for (uint32_t k = 1; k < scaled(20000); k++)
        write_round(k);
    atomic_store(&g_done, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    TQ_CHECK(phoneShutdown(app) == 0);
    TQ_CHECK(tapiq_configure(NULL) == 0);
}

int main(void)
{
    case_reference();
    case_concurrent();
    case_device();
    printf("test_snap: ok\n");
    return 0;
}
