/* The mqtt keys: bad values, and TLS or credential settings that cannot work
 * (a missing, unreadable or directory file, a key without its partner, a
 * password MQTT cannot carry), fail phoneInitializeEx with INIFILECORRUPT and
 * a message naming the key; with no broker listening, tapiq still starts
 * (valid credentials and TLS files included) and every request is replied
 * OPERATIONFAILED after timeout_ms (no hang). */
#include "backends/mqtt/mqtt_internal.h"
#include "backends/mqtt/tests/mq_fixture.h"

/* @dir/@name with @len bytes of 'p' (then a newline when @nl). */
static const char *file_of(const char *dir, const char *name, size_t len, int nl)
{
    static char paths[8][512];
    static unsigned next;
    char *path = paths[next++ % 8];
    FILE *f;
    snprintf(path, 512, "%s/%s", dir, name);
    f = fopen(path, "w");
    TQ_CHECKF(f != NULL, "cannot write %s", path);
    for (size_t i = 0; i < len; i++)
        fputc('p', f);
    if (nl)
        fputc('\n', f);
    fclose(f);
    return path;
}

static void bad(const char *cfg, const char *needle)
{
    HPHONEAPP app;
    DWORD n, ver = TAPI_CURRENT_VERSION;
    PHONEINITIALIZEEXPARAMS p = {.dwTotalSize = sizeof(p),
                                 .dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT};
    LONG r;
    if (tapiq_configure(cfg) != 0) {
        TQ_CHECKF(strstr(tapiq_last_error(), needle) != NULL, "%s: message '%s'", cfg,
                  tapiq_last_error());
        tapiq_configure(NULL);
        return;
    }
    r = phoneInitializeEx(&app, NULL, NULL, "cfg", &n, &ver, &p);
    TQ_CHECKF(r == (LONG)PHONEERR_INIFILECORRUPT, "%s: 0x%08lx", cfg, (unsigned long)(DWORD)r);
    TQ_CHECKF(strstr(tapiq_last_error(), needle) != NULL, "%s: message '%s'", cfg, tapiq_last_error());
    tapiq_configure(NULL);
}

int main(int argc, char **argv)
{
    char cfg[1024];
    struct mq_run r;
    DWORD ndevs;
    struct mq_env env = mq_setup(argc, argv, 0); /* no broker */
    int port = env.port;                         /* nothing listens there */
    const char *dir = mq_dir, *pem, *pw, *pwlong, *pwmax, *unreadable;
    const char *base = "backend=mqtt,url=mqtts://127.0.0.1:8883";

    bad("backend=mqtt", "url");
    bad("backend=mqtt,url=http://127.0.0.1:1", "url");
    bad("backend=mqtt,url=mqtt://127.0.0.1:0", "url");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883;", "url");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,protocol=4", "protocol");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,inflight=0", "inflight");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,timeout_ms=x", "timeout_ms");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,prefix=a/#", "prefix");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,fail_ppm=1", "fail_ppm");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,certfile=/x", "keyfile");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,username=u,password_file=/nonexistent/pw",
        "password_file");
    bad("backend=mqtt,url=mqtt://127.0.0.1:1883,username=\xff\xfe", "username");

    /* Settings that parse but cannot work. */
    pem = file_of(dir, "any.pem", 10, 1); /* contents are TLS's business, when connecting */
    pw = file_of(dir, "pw", 12, 1);
    pwlong = file_of(dir, "pw-long", 65536, 0);
    pwmax = file_of(dir, "pw-max", 65535, 1);
#define BAD(fmt, needle, ...)                                                                   \
    do {                                                                                        \
        snprintf(cfg, sizeof(cfg), "%s," fmt, base, __VA_ARGS__);                               \
        bad(cfg, needle);                                                                       \
    } while (0)
    BAD("cafile=%s/missing.pem", "cafile", dir);
    BAD("cafile=%s", "cafile", dir); /* a directory */
    BAD("certfile=%s,keyfile=%s/missing.pem", "keyfile", pem, dir);
    BAD("certfile=%s/missing.pem,keyfile=%s", "certfile", dir, pem);
    BAD("keyfile=%s", "certfile", pem);
    BAD("cafile=%s,certfile=%s,keyfile=%s", "keyfile", pem, pem, dir);
    BAD("username=%s", "password_file", "u");
    BAD("password_file=%s", "username", pw);
    BAD("username=u,password_file=%s", "password_file", dir); /* a directory */
    BAD("username=u,password_file=%s", "password_file", pwlong); /* 65536 bytes */
    if (geteuid() != 0) {
        /* root reads anything: only a non-root run can check this. */
        unreadable = file_of(dir, "unreadable.pem", 10, 1);
        TQ_CHECKF(chmod(unreadable, 0) == 0, "chmod");
        BAD("cafile=%s", "cafile", unreadable);
        BAD("username=u,password_file=%s", "password_file", unreadable);
    }
#undef BAD

    /* Valid settings start: the longest password MQTT carries, TLS files
     * that exist (unused by mqtt:// urls), MQTT 5 with a password alone. */
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d|mqtt://[::1]:%d,devices=3,lamps=2,"
             "timeout_ms=300,protocol=5,resync_s=0,client_id=cfgtest,username=u,"
             "password_file=%s,cafile=%s,certfile=%s,keyfile=%s",
             port, port, pwmax, pem, pem, pem);
    mq_run_init(&r, mq_init(cfg, &ndevs), 3, 2);
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,protocol=5,password_file=%s", port, pw);
    mq_run_init(&r, mq_init(cfg, &ndevs), 1, 1);
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);

    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d|mqtt://[::1]:%d,devices=3,lamps=2,"
             "timeout_ms=300,protocol=5,resync_s=0,client_id=cfgtest",
             port, port);
    mq_run_init(&r, mq_init(cfg, &ndevs), 3, 2);
    for (unsigned i = 0; i < 50; i++)
        TQ_CHECKF(mq_issue(&r, i % 3, i % 2, mq_modes[i % 6]) > 0, "phoneSetLamp");
    mq_drain(&r, 20000);
    TQ_CHECKF(r.failed == r.accepted && r.ok == 0, "%" PRIu64 " of %" PRIu64 " failed", r.failed,
              r.accepted);
    mq_check_getlamp(&r); /* all still OFF */
    {
        /* Why, without a debug switch: attempts counted, each one failed. */
        char err[TAPIQ_MQTT_ERROR_MAX];
        TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES) > 0 &&
                      tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) == 0,
                  "failures %" PRIu64 ", connects %" PRIu64,
                  tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES),
                  tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS));
        TQ_CHECKF(tapiq_mqtt_last_error(err, sizeof(err)) > 0 && strstr(err, "mqtt://") == err,
                  "last error '%s'", err);
        printf("no broker: last error: %s\n", err);
    }
    TQ_CHECKF(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    printf("bad keys rejected; no broker: %" PRIu64 " requests failed with OPERATIONFAILED\n",
           r.failed);
    return 0;
}
