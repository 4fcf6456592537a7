/* backends/mqtt/tests/mq_fixture.h - the broker fixture of every mqtt test
 * (and of mqtt_bench): brokers, the console simulator, TAPI helpers.
 *
 * Everything listens on 127.0.0.1 only, on ports picked free at run time.
 * Child processes are started with fork/exec and stopped by PID; each test
 * works in its own temporary directory. A failed check (tests/check.h) kills
 * the children the fixture knows of and exits 1. Exit 77 means "skipped" (a
 * program is missing).
 *
 * A test begins with mq_setup(), which takes the paths of the programs it
 * needs from argv (meson passes them) and skips when one is missing.
 */
#ifndef TAPIQ_MQTT_TESTS_MQ_FIXTURE_H
#define TAPIQ_MQTT_TESTS_MQ_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "backends/mqtt/wire.h"
#include "tests/check.h"

#define MQ_MAX_CHILDREN 16

static pid_t mq_children[MQ_MAX_CHILDREN];
static char mq_dir[256];

static inline void mq_kill_all(void)
{
    for (int i = 0; i < MQ_MAX_CHILDREN; i++)
        if (mq_children[i] > 0) {
            kill(mq_children[i], SIGKILL);
            waitpid(mq_children[i], NULL, 0);
            mq_children[i] = 0;
        }
}

static inline uint64_t mq_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void mq_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static inline void mq_skip_unless(const char *path)
{
    if (!path || access(path, X_OK) != 0) {
        fprintf(stderr, "skipped: %s is not installed\n", path ? path : "a program");
        exit(77);
    }
}

/* A private temporary directory, removed by nobody (small; under /tmp).
 * From here on a failed check also kills the fixture's children. */
static inline const char *mq_tempdir(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    tq_check_cleanup = mq_kill_all;
    snprintf(mq_dir, sizeof(mq_dir), "%s/tapiq-mqtt-XXXXXX", base);
    TQ_CHECKF(mkdtemp(mq_dir) != NULL, "mkdtemp: %s", strerror(errno));
    return mq_dir;
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static inline int mq_free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    TQ_CHECKF(fd >= 0, "socket");
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    TQ_CHECKF(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind: %s", strerror(errno));
    TQ_CHECKF(getsockname(fd, (struct sockaddr *)&a, &l) == 0, "getsockname");
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* What mq_setup() prepared: the broker's port and a topic prefix of this
 * process (tests sharing a broker do not see each other's messages). */
struct mq_env {
    int port;
    char prefix[32];
};

/* The prologue of every test: skips (exit 77) unless the @nprogs programs at
 * @progs are installed; makes the temporary directory and picks a free port. */
static inline struct mq_env mq_setup_progs(const char *const *progs, int nprogs)
{
    struct mq_env env;
    for (int i = 0; i < nprogs; i++)
        mq_skip_unless(progs[i]);
    mq_tempdir();
    env.port = mq_free_port();
    snprintf(env.prefix, sizeof(env.prefix), "tq%ld", (long)getpid());
    return env;
}

/* The same with the programs from the command line: argv[1] .. argv[@nprogs]
 * (meson passes their paths; a short argv skips too). */
static inline struct mq_env mq_setup(int argc, char **argv, int nprogs)
{
    if (argc < nprogs + 1) {
        fprintf(stderr, "skipped: %s needs %d program paths as arguments\n", argv[0], nprogs);
        exit(77);
    }
    return mq_setup_progs((const char *const *)argv + 1, nprogs);
}

static inline int mq_port_open(int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    if (fd < 0)
        return 0;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static inline void mq_wait_port(int port, unsigned timeout_ms)
{
    uint64_t until = mq_now_ms() + timeout_ms;
    while (!mq_port_open(port)) {
        TQ_CHECKF(mq_now_ms() < until, "port %d did not open within %u ms", port, timeout_ms);
        mq_sleep_ms(10);
    }
}

/* Start argv[0] with argv (stdout/stderr to @log when given). */
static inline pid_t mq_spawn(char *const argv[], const char *log)
{
    pid_t pid;
    fflush(NULL); /* else the child writes our buffered output a second time */
    pid = fork();
    TQ_CHECKF(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (log) {
            FILE *f = freopen(log, "a", stdout);
            (void)f;
            dup2(1, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    for (int i = 0; i < MQ_MAX_CHILDREN; i++)
        if (mq_children[i] == 0) {
            mq_children[i] = pid;
            break;
        }
    return pid;
}

/* Stop a child by PID with @sig and reap it. Returns its wait status. */
static inline int mq_stop(pid_t pid, int sig)
{
    int status = 0;
    if (pid <= 0)
        return 0;
    kill(pid, sig);
    waitpid(pid, &status, 0);
    for (int i = 0; i < MQ_MAX_CHILDREN; i++)
        if (mq_children[i] == pid)
            mq_children[i] = 0;
    return status;
}

/* A Mosquitto on 127.0.0.1:@port with a generated configuration: @listener
 * (lines that follow the listener line: authentication, TLS); retained
 * messages are not persisted (a restart loses them). Mosquitto started as
 * root reads files named there as its own user: see mq_share_dir(). */
static inline pid_t mq_mosquitto_start_conf(const char *mosquitto, int port, const char *name,
                                            const char *listener)
{
    char conf[512], log[512];
    FILE *f;
    snprintf(conf, sizeof(conf), "%s/%s.conf", mq_dir, name);
    snprintf(log, sizeof(log), "%s/%s.log", mq_dir, name);
    f = fopen(conf, "w");
    TQ_CHECKF(f != NULL, "cannot write %s", conf);
    fprintf(f, "listener %d 127.0.0.1\n%spersistence false\n"
               "max_inflight_messages 1000\nmax_queued_messages 100000\n", port, listener);
    fclose(f);
    {
        char *argv[] = {(char *)mosquitto, "-c", conf, NULL};
        pid_t pid = mq_spawn(argv, log);
        mq_wait_port(port, 10000);
        return pid;
    }
}

/* An anonymous Mosquitto on 127.0.0.1:@port. */
static inline pid_t mq_mosquitto_start(const char *mosquitto, int port, const char *name)
{
    return mq_mosquitto_start_conf(mosquitto, port, name, "allow_anonymous true\n");
}

/* Let a broker that dropped root read the files of the test directory
 * (password files, certificates): they are test data, not secrets. */
static inline void mq_share_dir(void)
{
    TQ_CHECKF(chmod(mq_dir, 0755) == 0, "chmod %s: %s", mq_dir, strerror(errno));
}

/* Run @argv (output to @log when given) and wait for it; its exit status. */
static inline int mq_run_prog(char *const argv[], const char *log)
{
    int status = 0;
    pid_t pid = mq_spawn(argv, log);
    waitpid(pid, &status, 0);
    for (int i = 0; i < MQ_MAX_CHILDREN; i++)
        if (mq_children[i] == pid)
            mq_children[i] = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* @mq_dir/@name: a Mosquitto password file with @user and @password. */
static inline const char *mq_broker_passwd(const char *passwd_prog, const char *name,
                                           const char *user, const char *password)
{
    static char path[512];
    char log[512];
    snprintf(path, sizeof(path), "%s/%s", mq_dir, name);
    snprintf(log, sizeof(log), "%s/%s.log", mq_dir, name);
    {
        char *argv[] = {(char *)passwd_prog, "-c", "-b", path, (char *)user, (char *)password,
                        NULL};
        TQ_CHECKF(mq_run_prog(argv, log) == 0, "mosquitto_passwd failed (see %s)", log);
    }
    TQ_CHECKF(chmod(path, 0644) == 0, "chmod %s", path);
    return path;
}

/* The simulator for consoles [first, first + n) with @lamps lamps. Waits
 * until every console is connected and subscribed. */
static inline pid_t mq_sim_start(const char *sim, int port, const char *prefix, unsigned first,
                          unsigned n, unsigned lamps, const char *name)
{
    char url[64], sn[16], sf[16], sl[16], state[512], ready[512], log[512];
    pid_t pid;
    uint64_t until = mq_now_ms() + 60000;
    snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", port);
    snprintf(sn, sizeof(sn), "%u", n);
    snprintf(sf, sizeof(sf), "%u", first);
    snprintf(sl, sizeof(sl), "%u", lamps);
    snprintf(state, sizeof(state), "%s/%s.state", mq_dir, name);
    snprintf(ready, sizeof(ready), "%s/%s.ready", mq_dir, name);
    snprintf(log, sizeof(log), "%s/%s.log", mq_dir, name);
    unlink(ready);
    {
        char *argv[] = {(char *)sim, "--url", url, "--prefix", (char *)prefix, "--consoles", sn,
                        "--first", sf, "--lamps", sl, "--state-file", state, "--ready-file",
                        ready, NULL};
        pid = mq_spawn(argv, log);
    }
    while (access(ready, F_OK) != 0) {
        TQ_CHECKF(mq_now_ms() < until, "simulator %s not ready within 60 s", name);
        mq_sleep_ms(20);
    }
    return pid;
}

/* Read a simulator's state file after asking it for a fresh one (SIGUSR1).
 * @modes is n * lamps, indexed by (console - first). Returns the number of
 * consoles whose line was read. */
static inline unsigned mq_sim_state(pid_t pid, const char *name, unsigned first, unsigned n,
                             unsigned lamps, uint32_t *modes, uint64_t *seqs)
{
    char path[512], line[1 << 16];
    FILE *f;
    unsigned got = 0;
    struct stat st0, st1;
    snprintf(path, sizeof(path), "%s/%s.state", mq_dir, name);
    memset(&st0, 0, sizeof(st0));
    stat(path, &st0);
    kill(pid, SIGUSR1);
    /* Wait for the rewrite (a new inode after the rename). */
    for (int i = 0; i < 200; i++) {
        if (stat(path, &st1) == 0 && st1.st_ino != st0.st_ino)
            break;
        mq_sleep_ms(10);
    }
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        uint32_t console, nl, m[4096];
        uint64_t seq;
        if (tapiq_mqtt_parse_lamps(line, strcspn(line, "\n"), &console, &seq, m, 4096, &nl) != 0)
            continue;
        if (console < first || console >= first + n || nl != lamps)
            continue;
        memcpy(modes + (size_t)(console - first) * lamps, m, lamps * sizeof(uint32_t));
        if (seqs)
            seqs[console - first] = seq;
        got++;
    }
    fclose(f);
    return got;
}

/* The retained lamp messages under @prefix, read with mosquitto_sub. @modes
 * is n * lamps. Returns the number of consoles read. */
static inline unsigned mq_retained(const char *sub, int port, const char *prefix, unsigned n,
                            unsigned lamps, uint32_t *modes, uint64_t *seqs)
{
    char cmd[1024], line[1 << 16];
    FILE *p;
    unsigned got = 0;
    snprintf(cmd, sizeof(cmd),
             "'%s' -h 127.0.0.1 -p %d -t '%s/console/+/lamps' --retained-only -C %u -W 5 -q 1 "
             "2>/dev/null",
             sub, port, prefix, n);
    p = popen(cmd, "r");
    TQ_CHECKF(p != NULL, "popen mosquitto_sub");
    while (fgets(line, sizeof(line), p)) {
        uint32_t console, nl, m[4096];
        uint64_t seq;
        if (tapiq_mqtt_parse_lamps(line, strcspn(line, "\n"), &console, &seq, m, 4096, &nl) != 0)
            continue;
        if (console >= n || nl != lamps)
            continue;
        memcpy(modes + (size_t)console * lamps, m, lamps * sizeof(uint32_t));
        if (seqs)
            seqs[console] = seq;
        got++;
    }
    pclose(p);
    return got;
}

/* ------------------------------------------------------------ TAPI helpers */

static inline HPHONEAPP mq_init(const char *config, DWORD *ndevs)
{
    HPHONEAPP app;
    DWORD ver = TAPI_CURRENT_VERSION;
    PHONEINITIALIZEEXPARAMS p = {.dwTotalSize = sizeof(p),
                                 .dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT};
    LONG r;
    TQ_CHECKF(tapiq_configure(config) == 0, "configure \"%s\": %s", config, tapiq_last_error());
    r = phoneInitializeEx(&app, NULL, NULL, "mqtt-test", ndevs, &ver, &p);
    TQ_CHECKF(r == 0, "phoneInitializeEx: 0x%08lx %s", (unsigned long)(DWORD)r, tapiq_last_error());
    return app;
}

static inline HPHONE mq_open(HPHONEAPP app, DWORD dev, DWORD priv)
{
    HPHONE h;
    DWORD ver;
    PHONEEXTENSIONID ext;
    LONG r = phoneNegotiateAPIVersion(app, dev, TAPI_VERSION1_4, TAPI_VERSION2_2, &ver, &ext);
    TQ_CHECKF(r == 0, "negotiate %u: 0x%08lx", (unsigned)dev, (unsigned long)(DWORD)r);
    r = phoneOpen(app, dev, &h, ver, 0, 0, priv);
    TQ_CHECKF(r == 0, "phoneOpen %u: 0x%08lx", (unsigned)dev, (unsigned long)(DWORD)r);
    return h;
}

static const uint32_t mq_modes[6] = {PHONELAMPMODE_OFF,   PHONELAMPMODE_STEADY,
                                     PHONELAMPMODE_WINK,  PHONELAMPMODE_FLASH,
                                     PHONELAMPMODE_FLUTTER, PHONELAMPMODE_BROKENFLUTTER};

static inline uint32_t mq_rand(void)
{
    static uint64_t x = 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* A single issuing thread and its bookkeeping: every accepted request is
 * remembered by id until its one reply; per lamp, the mode of the last
 * request (in issue order) replied 0 is what phoneGetLamp must return. */
#define MQ_TABLE (1u << 17)
struct mq_req {
    LONG id; /* 0: free */
    uint32_t dev, lamp, mode;
    uint64_t seq;
};
struct mq_run {
    HPHONEAPP app;
    HPHONE *h;
    unsigned ndev, nlamps;
    uint32_t *model;   /* expected mode per (dev, lamp) */
    uint64_t *okseq;   /* issue seq of the newest success per (dev, lamp) */
    struct mq_req *tab;
    uint64_t issued, accepted, replied, ok, failed, unavail;
    uint64_t state_msgs[32];
    DWORD last_state_dev, last_state_p1;
};

static inline void mq_run_init(struct mq_run *r, HPHONEAPP app, unsigned ndev, unsigned nlamps)
{
    memset(r, 0, sizeof(*r));
    r->app = app;
    r->ndev = ndev;
    r->nlamps = nlamps;
    r->h = calloc(ndev, sizeof(HPHONE));
    r->model = calloc((size_t)ndev * nlamps, sizeof(uint32_t));
    r->okseq = calloc((size_t)ndev * nlamps, sizeof(uint64_t));
    r->tab = calloc(MQ_TABLE, sizeof(struct mq_req));
    TQ_CHECKF(r->h && r->model && r->okseq && r->tab, "out of memory");
    for (size_t i = 0; i < (size_t)ndev * nlamps; i++)
        r->model[i] = PHONELAMPMODE_OFF;
    for (unsigned d = 0; d < ndev; d++)
        r->h[d] = mq_open(app, d, PHONEPRIVILEGE_OWNER);
}

static inline void mq_run_free(struct mq_run *r)
{
    free(r->h);
    free(r->model);
    free(r->okseq);
    free(r->tab);
    r->h = NULL;
    r->model = NULL;
    r->okseq = NULL;
    r->tab = NULL;
}

/* Handle one message (waiting up to @timeout_ms). Returns 1 if one came. */
static inline int mq_pump(struct mq_run *r, DWORD timeout_ms)
{
    PHONEMESSAGE m;
    LONG rc = phoneGetMessage(r->app, &m, timeout_ms);
    if (rc != 0)
        return 0;
    if (m.dwMessageID == PHONE_REPLY) {
        uint32_t k = (uint32_t)m.dwParam1 & (MQ_TABLE - 1);
        while (r->tab[k].id != (LONG)m.dwParam1) {
            TQ_CHECKF(r->tab[k].id != 0, "reply for unknown request %lu",
                      (unsigned long)m.dwParam1);
            k = (k + 1) & (MQ_TABLE - 1);
        }
        {
            struct mq_req q = r->tab[k];
            LONG res = (LONG)m.dwParam2;
            size_t li = (size_t)q.dev * r->nlamps + q.lamp;
            /* Backward-shift deletion keeps the probe chains intact. */
            uint32_t j = k;
            r->tab[k].id = 0;
            for (;;) {
                uint32_t home;
                j = (j + 1) & (MQ_TABLE - 1);
                if (r->tab[j].id == 0)
                    break;
                home = (uint32_t)r->tab[j].id & (MQ_TABLE - 1);
                if (((j - home) & (MQ_TABLE - 1)) >= ((j - k) & (MQ_TABLE - 1))) {
                    r->tab[k] = r->tab[j];
                    r->tab[j].id = 0;
                    k = j;
                }
            }
            r->replied++;
            if (res == 0) {
                r->ok++;
                if (q.seq > r->okseq[li]) {
                    r->okseq[li] = q.seq;
                    r->model[li] = q.mode;
                }
            } else {
                TQ_CHECKF(res == (LONG)PHONEERR_OPERATIONFAILED, "reply 0x%08lx for request %ld",
                          (unsigned long)(DWORD)res, (long)q.id);
                r->failed++;
            }
        }
    } else if (m.dwMessageID == PHONE_STATE) {
        for (int b = 0; b < 32; b++)
            if (m.dwParam1 & (1u << b))
                r->state_msgs[b]++;
        r->last_state_dev = m.hDevice;
        r->last_state_p1 = (DWORD)m.dwParam1;
    }
    return 1;
}

/* Issue one request; on RESOURCEUNAVAIL handle messages and retry. Returns
 * the phoneSetLamp result (a request id, or another error). */
static inline LONG mq_issue(struct mq_run *r, uint32_t dev, uint32_t lamp, uint32_t mode)
{
    for (;;) {
        LONG id = phoneSetLamp(r->h[dev], lamp, mode);
        r->issued++;
        if (id > 0) {
            uint32_t k = (uint32_t)id & (MQ_TABLE - 1);
            while (r->tab[k].id != 0)
                k = (k + 1) & (MQ_TABLE - 1);
            r->tab[k].id = id;
            r->tab[k].dev = dev;
            r->tab[k].lamp = lamp;
            r->tab[k].mode = mode;
            r->tab[k].seq = r->issued;
            r->accepted++;
            return id;
        }
        if (id != (LONG)PHONEERR_RESOURCEUNAVAIL)
            return id;
        r->unavail++;
        mq_pump(r, 100);
    }
}

/* Wait until every accepted request has its reply (or fail after @ms). */
static inline void mq_drain(struct mq_run *r, unsigned ms)
{
    uint64_t until = mq_now_ms() + ms;
    while (r->replied < r->accepted) {
        TQ_CHECKF(mq_now_ms() < until, "%" PRIu64 " of %" PRIu64 " replies after %u ms",
                  r->replied, r->accepted, ms);
        mq_pump(r, 100);
    }
    while (mq_pump(r, 0))
        ;
}

/* phoneGetLamp equals the model on every lamp. */
static inline void mq_check_getlamp(struct mq_run *r)
{
    for (unsigned d = 0; d < r->ndev; d++)
        for (unsigned l = 0; l < r->nlamps; l++) {
            DWORD mode = 0;
            LONG rc = phoneGetLamp(r->h[d], l, &mode);
            TQ_CHECKF(rc == 0 && mode == r->model[(size_t)d * r->nlamps + l],
                      "phoneGetLamp(%u, %u) = 0x%lx (rc %ld), expected 0x%x", d, l,
                      (unsigned long)mode, (long)rc, r->model[(size_t)d * r->nlamps + l]);
        }
}

static inline unsigned mq_diff(const uint32_t *a, const uint32_t *b, size_t n)
{
    unsigned diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += a[i] != b[i];
    return diff;
}

#endif /* TAPIQ_MQTT_TESTS_MQ_FIXTURE_H */
