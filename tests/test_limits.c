/* Configurations larger than the machine are refused up front, with the
 * estimate in the message; the memory of a large configuration goes back
 * at the last shutdown. */
#include <stdio.h>
#include <string.h>

#include "tq_test.h"

static long rss_kib(void)
{
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    TQ_CHECK(f != NULL);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
            break;
    fclose(f);
    return v;
}

int main(void)
{
    HPHONEAPP app;
    DWORD ndev;
    long before, during, after;

    /* 2^20 consoles x 4,096 lamps: ~100 GiB. */
    TQ_CHECK(tapiq_configure("devices=1048576,lamps=4096") == 0);
    TQ_EXPECT(tq_init_app(&app, &ndev, NULL), PHONEERR_NOMEM);
    TQ_CHECKF(strstr(tapiq_last_error(), "MiB") && strstr(tapiq_last_error(), "devices=1048576"),
              "message: %s", tapiq_last_error());
    printf("refused: %s\n", tapiq_last_error());

    /* A large one that fits: its memory comes back. */
    before = rss_kib();
    app = tq_start("devices=262144,lamps=64", &ndev);
    TQ_CHECK(ndev == 262144);
    during = rss_kib();
    TQ_EXPECT(phoneShutdown(app), 0);
    after = rss_kib();
    printf("RSS: %ld KiB before, %ld KiB running, %ld KiB after the last shutdown\n", before,
           during, after);
    TQ_CHECKF(after < before + 32 * 1024, "%ld KiB still resident (%ld before)", after, before);
    printf("limits: ok\n");
    return 0;
}
