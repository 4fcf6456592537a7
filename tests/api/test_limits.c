/* Configurations larger than the machine are refused up front, with the
 * estimate in the message; the memory of a large configuration goes back
 * at the last shutdown; running out of file descriptors says so; a fork()ed
 * child gets clear errors for the parent's handles. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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
#if !defined(__SANITIZE_ADDRESS__) /* ASan's quarantine keeps freed memory */
    TQ_CHECKF(after < before + 32 * 1024, "%ld KiB still resident (%ld before)", after, before);
#endif
    /* No file descriptor left: a resource error that says so, not NOMEM. */
    {
        struct rlimit old, low;
        HPHONEAPP a1, a2;
        int fds[4096], nfds = 0;
        a1 = tq_start("devices=2,lamps=4", &ndev);
        TQ_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
        low = old;
        low.rlim_cur = 64;
        TQ_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
        while (nfds < 4096 && (fds[nfds] = dup(0)) >= 0)
            nfds++;
        TQ_EXPECT(tq_init_app(&a2, &ndev, NULL), PHONEERR_RESOURCEUNAVAIL);
        TQ_CHECKF(strstr(tapiq_last_error(), "file descriptor"), "message: %s",
                  tapiq_last_error());
        printf("no fd: %s\n", tapiq_last_error());
        while (nfds)
            close(fds[--nfds]);
        TQ_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
        TQ_EXPECT(tq_init_app(&a2, &ndev, NULL), 0);
        TQ_EXPECT(phoneShutdown(a2), 0);
        TQ_EXPECT(phoneShutdown(a1), 0);
    }

    /* fork(): the child cannot use the parent's instance (its threads are
     * not there): clear errors, and an instance of its own works.
     * (ThreadSanitizer does not support threads started after a fork of a
     * multi-threaded process: not there.) */
#ifndef __SANITIZE_THREAD__
    {
        HPHONEAPP a = tq_start("devices=2,lamps=4", &ndev), c;
        HPHONE h = tq_open(a, 0, PHONEPRIVILEGE_OWNER, 1);
        PHONEMESSAGE m;
        pid_t pid;
        int st;
        LONG first = phoneSetLamp(h, 1, PHONELAMPMODE_STEADY);
        TQ_CHECK(TQ_ID_OK(first));
        pid = fork();
        TQ_CHECK(pid >= 0);
        if (pid == 0) {
            HPHONE ch;
            LONG id;
            TQ_EXPECT(phoneSetLamp(h, 1, PHONELAMPMODE_FLASH), PHONEERR_UNINITIALIZED);
            TQ_EXPECT(phoneGetMessage(a, &m, 0), PHONEERR_INVALAPPHANDLE);
            TQ_EXPECT(tq_init_app(&c, &ndev, NULL), 0);
            TQ_EXPECT(phoneSetLamp(h, 1, PHONELAMPMODE_FLASH), PHONEERR_INVALPHONEHANDLE);
            ch = tq_open(c, 1, PHONEPRIVILEGE_OWNER, 2);
            id = phoneSetLamp(ch, 2, PHONELAMPMODE_WINK);
            TQ_CHECK(TQ_ID_OK(id));
            TQ_EXPECT(phoneGetMessage(c, &m, 10000), 0);
            TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD_PTR)id);
            TQ_EXPECT(phoneShutdown(c), 0);
            _exit(0);
        }
        TQ_CHECK(waitpid(pid, &st, 0) == pid);
        TQ_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
        TQ_EXPECT(phoneGetMessage(a, &m, 10000), 0); /* the parent goes on */
        TQ_CHECK(m.dwMessageID == PHONE_REPLY);
        TQ_EXPECT(phoneShutdown(a), 0);
    }
#endif
    printf("limits: ok\n");
    return 0;
}
