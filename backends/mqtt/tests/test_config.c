/* The mqtt keys: bad values fail phoneInitializeEx with INIFILECORRUPT and a
 * message naming the key; with no broker listening, tapiq still starts and
 * every request is replied OPERATIONFAILED after timeout_ms (no hang). */
#include "backends/mqtt/tests/mq_fixture.h"

static void bad(const char *cfg, const char *needle)
{
    HPHONEAPP app;
    DWORD n, ver = TAPI_CURRENT_VERSION;
    PHONEINITIALIZEEXPARAMS p = {.dwTotalSize = sizeof(p),
                                 .dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT};
    LONG r;
    if (tapiq_configure(cfg) != 0) {
        MQ_CHECK(strstr(tapiq_last_error(), needle) != NULL, "%s: message '%s'", cfg,
                 tapiq_last_error());
        tapiq_configure(NULL);
        return;
    }
    r = phoneInitializeEx(&app, NULL, NULL, "cfg", &n, &ver, &p);
    MQ_CHECK(r == PHONEERR_INIFILECORRUPT, "%s: 0x%08lx", cfg, (unsigned long)(DWORD)r);
    MQ_CHECK(strstr(tapiq_last_error(), needle) != NULL, "%s: message '%s'", cfg, tapiq_last_error());
    tapiq_configure(NULL);
}

int main(void)
{
    char cfg[256];
    struct mq_run r;
    DWORD ndevs;
    int port = mq_free_port(); /* nothing listens there */

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

    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d|mqtt://[::1]:%d,devices=3,lamps=2,"
             "timeout_ms=300,protocol=5,resync_s=0,client_id=cfgtest",
             port, port);
    mq_run_init(&r, mq_init(cfg, &ndevs), 3, 2);
    for (unsigned i = 0; i < 50; i++)
        MQ_CHECK(mq_issue(&r, i % 3, i % 2, mq_modes[i % 6]) > 0, "phoneSetLamp");
    mq_drain(&r, 20000);
    MQ_CHECK(r.failed == r.accepted && r.ok == 0, "%" PRIu64 " of %" PRIu64 " failed", r.failed,
             r.accepted);
    mq_check_getlamp(&r); /* all still OFF */
    MQ_CHECK(phoneShutdown(r.app) == 0, "shutdown");
    mq_run_free(&r);
    printf("bad keys rejected; no broker: %" PRIu64 " requests failed with OPERATIONFAILED\n",
           r.failed);
    return 0;
}
