/* tools/soak/broker.c - a Mosquitto of tapiq-soak's own for backend=mqtt.
 *
 * The broker listens on 127.0.0.1 only, on ports found free at start: a plain listener
 * (anonymous) and, when openssl is installed, a TLS listener that requires a client
 * certificate signed by a generated authority and, when mosquitto_passwd is installed too, a
 * user name and password. Retained messages are not persisted: a restart starts with an empty
 * store. The broker is a child process stopped by its PID (and killed by the kernel if this
 * process dies: PR_SET_PDEATHSIG). Everything here runs on the main thread; mqttio.c reads
 * and publishes through it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "soak.h"

struct soak_broker {
    char dir[256];
    char mosquitto[512], openssl[512], passwd[512];
    char conf[512], log[512];
    int port, tls_port;
    pid_t pid;
    bool paused;
    bool tls, auth;
    bool lib_init;
    unsigned files; /* what to remove at the end */
    char file[24][512];
};

/* ------------------------------------------------------------ programs */

static bool find_program(const char *given, const char *name, char *out, size_t len)
{
    if (given) {
        snprintf(out, len, "%s", given);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/local/sbin:/sbin", path ? path : "/usr/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", d, name);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* Start @argv with stdout and stderr appended to @log. */
static pid_t spawn(char *const argv[], const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        close_range(3, ~0u, 0); /* nothing of ours (eventfds, sockets) lives on in the child */
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int run(char *const argv[], const char *log)
{
    int status = 0;
    pid_t pid = spawn(argv, log);
    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *path_in(struct soak_broker *b, const char *name)
{
    if (b->files < 24) {
        char tmp[sizeof(b->file[0])];
        snprintf(tmp, sizeof(tmp), "%s/%s", b->dir, name);
        memcpy(b->file[b->files], tmp, sizeof(tmp));
        return b->file[b->files++];
    }
    return "/nonexistent";
}

static const char *path_of(const struct soak_broker *b, const char *name)
{
    static char buf[4][512];
    static unsigned k;
    char *p = buf[k++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", b->dir, name);
    return p;
}

/* ------------------------------------------------------------- network */

static int free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
    if (fd < 0)
        return -1;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_open(int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* --------------------------------------------------------- certificates */

static int ossl(struct soak_broker *b, char *const argv[])
{
    if (run(argv, path_of(b, "openssl.log")) != 0) {
        fprintf(stderr, "tapiq-soak: openssl %s %s failed (see %s)\n", argv[1], argv[2],
                path_of(b, "openssl.log"));
        return -1;
    }
    return 0;
}

static int make_ca(struct soak_broker *b)
{
    char *argv[] = {b->openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    "/CN=tapiq-soak authority", "-keyout", (char *)path_in(b, "ca.key"), "-out",
                    (char *)path_in(b, "ca.pem"), NULL};
    return ossl(b, argv);
}

/* @name.pem / @name.key for @cn, signed by the authority; @ext: the extension line. */
static int make_cert(struct soak_broker *b, const char *name, const char *cn, const char *ext)
{
    char f[64], key[512], csr[512], pem[512], extf[512], subj[128];
    snprintf(f, sizeof(f), "%s.key", name);
    snprintf(key, sizeof(key), "%s", path_in(b, f));
    snprintf(f, sizeof(f), "%s.csr", name);
    snprintf(csr, sizeof(csr), "%s", path_in(b, f));
    snprintf(f, sizeof(f), "%s.pem", name);
    snprintf(pem, sizeof(pem), "%s", path_in(b, f));
    snprintf(f, sizeof(f), "%s.ext", name);
    snprintf(extf, sizeof(extf), "%s", path_in(b, f));
    snprintf(subj, sizeof(subj), "/CN=%s", cn);
    FILE *fp = fopen(extf, "we");
    if (!fp)
        return -1;
    fprintf(fp, "%s\n", ext);
    fclose(fp);
    char *req[] = {b->openssl, "req", "-new", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-subj", subj, "-keyout", key, "-out",
                   csr, NULL};
    char *sign[] = {b->openssl, "x509", "-req", "-in", csr, "-CA", (char *)path_of(b, "ca.pem"),
                    "-CAkey", (char *)path_of(b, "ca.key"), "-CAcreateserial", "-days", "2",
                    "-extfile", extf, "-out", pem, NULL};
    if (ossl(b, req) || ossl(b, sign))
        return -1;
    /* The broker drops root and reads its key as its own user: test data, not a secret. */
    return chmod(key, 0644);
}

static int make_password(struct soak_broker *b, uint64_t seed)
{
    char pw[33];
    static const char chars[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.~";
    uint64_t r = seed ^ 0x5DEECE66Dull;
    for (size_t i = 0; i + 1 < sizeof(pw); i++)
        pw[i] = chars[soak_below(&r, (unsigned)sizeof(chars) - 1)];
    pw[sizeof(pw) - 1] = 0;
    const char *bpw = path_in(b, "broker.pw");
    char *argv[] = {b->passwd, "-c", "-b", (char *)bpw, "tapiq-soak", pw, NULL};
    if (run(argv, path_in(b, "passwd.log")) != 0 || chmod(bpw, 0644) != 0) {
        fprintf(stderr, "tapiq-soak: mosquitto_passwd failed (see %s)\n",
                path_of(b, "passwd.log"));
        return -1;
    }
    FILE *f = fopen(path_in(b, "client.pw"), "we");
    if (!f)
        return -1;
    fprintf(f, "%s\n", pw);
    fclose(f);
    return 0;
}

/* ---------------------------------------------------------------- setup */

int soak_broker_setup(struct soak_broker **out, const struct soak_opts *o, bool want_tls)
{
    struct soak_broker *b = calloc(1, sizeof(*b));
    if (!b)
        return 2;
    *out = b;
    b->pid = -1;
    if (!find_program(o->mosquitto, "mosquitto", b->mosquitto, sizeof(b->mosquitto))) {
        printf("tapiq-soak: skipped: mosquitto is not installed (backend mqtt starts a broker of "
               "its own; install mosquitto or give --mosquitto PATH)\n");
        return 77;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(b->dir, sizeof(b->dir), "%s/tapiq-soak-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b->dir) || chmod(b->dir, 0755) != 0) {
        fprintf(stderr, "tapiq-soak: cannot create a directory under %s: %s\n",
                tmp && *tmp ? tmp : "/tmp", strerror(errno));
        b->dir[0] = 0;
        return 2;
    }
    b->port = free_port();
    b->tls_port = free_port();
    while (b->tls_port == b->port)
        b->tls_port = free_port();
    if (b->port < 0 || b->tls_port < 0) {
        fprintf(stderr, "tapiq-soak: no free port on 127.0.0.1\n");
        return 2;
    }
    if (want_tls) {
        if (!find_program(o->openssl, "openssl", b->openssl, sizeof(b->openssl))) {
            printf("tapiq-soak: TLS epochs skipped: openssl is not installed\n");
        } else if (make_ca(b) ||
                   make_cert(b, "server", "localhost", "subjectAltName=DNS:localhost") ||
                   make_cert(b, "client", "tapiq-soak client", "extendedKeyUsage=clientAuth")) {
            return 2;
        } else {
            b->tls = true;
            if (!find_program(o->passwd, "mosquitto_passwd", b->passwd, sizeof(b->passwd)))
                printf("tapiq-soak: TLS without a password: mosquitto_passwd is not installed\n");
            else if (make_password(b, o->seed))
                return 2;
            else
                b->auth = true;
        }
    }
    snprintf(b->conf, sizeof(b->conf), "%s", path_in(b, "mosquitto.conf"));
    snprintf(b->log, sizeof(b->log), "%s", path_in(b, "mosquitto.log"));
    path_in(b, "ca.srl");
    FILE *f = fopen(b->conf, "we");
    if (!f)
        return 2;
    fprintf(f,
            "per_listener_settings true\npersistence false\n"
            "max_inflight_messages 1000\nmax_queued_messages 100000\n"
            "listener %d 127.0.0.1\nallow_anonymous true\n",
            b->port);
    if (b->tls) {
        fprintf(f, "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
                   "require_certificate true\n",
                b->tls_port, path_of(b, "ca.pem"), path_of(b, "server.pem"),
                path_of(b, "server.key"));
        if (b->auth)
            fprintf(f, "allow_anonymous false\npassword_file %s\n", path_of(b, "broker.pw"));
        else
            fprintf(f, "allow_anonymous true\n");
    }
    fclose(f);
    chmod(b->conf, 0644);
    soak_mqtt_client_init();
    b->lib_init = true;
    return 0;
}

bool soak_broker_has_tls(const struct soak_broker *b)
{
    return b->tls;
}

int soak_broker_port(const struct soak_broker *b)
{
    return b->port;
}

void soak_broker_config(const struct soak_broker *b, bool tls, char *buf, size_t len)
{
    if (tls && b->tls) {
        int n = snprintf(buf, len, "url=mqtts://localhost:%d,cafile=%s,certfile=%s,keyfile=%s",
                         b->tls_port, path_of(b, "ca.pem"), path_of(b, "client.pem"),
                         path_of(b, "client.key"));
        if (b->auth && n > 0 && (size_t)n < len)
            snprintf(buf + n, len - (size_t)n, ",username=tapiq-soak,password_file=%s",
                     path_of(b, "client.pw"));
    } else {
        snprintf(buf, len, "url=mqtt://127.0.0.1:%d", b->port);
    }
}

/* --------------------------------------------------------------- control */

int soak_broker_start(struct soak_broker *b)
{
    char *argv[] = {b->mosquitto, "-c", b->conf, NULL};
    b->pid = spawn(argv, b->log);
    b->paused = false;
    if (b->pid < 0)
        return -1;
    for (int i = 0; i < 3000; i++) { /* 30 s: a loaded machine (sanitizer builds) can be slow to restart it */
        if (port_open(b->port) && (!b->tls || port_open(b->tls_port)))
            return 0;
        int status;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            fprintf(stderr, "tapiq-soak: mosquitto exited at start (see %s)\n", b->log);
            b->pid = -1;
            return -1;
        }
        soak_sleep_ns(10000000);
    }
    fprintf(stderr, "tapiq-soak: mosquitto did not listen within 30 s (see %s)\n", b->log);
    return -1;
}

static void reap(struct soak_broker *b)
{
    while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    b->pid = -1;
    b->paused = false;
}

void soak_broker_kill(struct soak_broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGKILL);
        reap(b);
    }
}

void soak_broker_pause(struct soak_broker *b)
{
    if (b->pid > 0 && !b->paused) {
        kill(b->pid, SIGSTOP);
        b->paused = true;
    }
}

void soak_broker_resume(struct soak_broker *b)
{
    if (b->pid > 0 && b->paused) {
        kill(b->pid, SIGCONT);
        b->paused = false;
    }
}

void soak_broker_stop(struct soak_broker *b)
{
    if (b->pid <= 0)
        return;
    soak_broker_resume(b);
    kill(b->pid, SIGTERM);
    for (int i = 0; i < 500; i++) { /* 5 s, then SIGKILL */
        if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
            b->pid = -1;
            return;
        }
        soak_sleep_ns(10000000);
    }
    soak_broker_kill(b);
}

bool soak_broker_running(const struct soak_broker *b)
{
    return b->pid > 0 && !b->paused;
}

void soak_broker_free(struct soak_broker *b, bool keep)
{
    if (!b)
        return;
    soak_broker_stop(b);
    if (keep && b->dir[0]) {
        fprintf(stderr, "tapiq-soak: kept %s (mosquitto.log, certificates)\n", b->dir);
    } else if (b->dir[0]) {
        for (unsigned i = 0; i < b->files; i++)
            unlink(b->file[i]);
        unlink(path_of(b, "openssl.log"));
        if (rmdir(b->dir) != 0)
            fprintf(stderr, "tapiq-soak: left %s\n", b->dir);
    }
    if (b->lib_init)
        soak_mqtt_client_cleanup();
    free(b);
}
