/* Setters and lamps from several threads on shared consoles (mem backend,
 * one update in ten failing): each thread has its own application, its own
 * two display columns and its own lamp on every console, and sets them at
 * random. Every request is replied exactly once; afterwards each console
 * shows, in each thread's columns and lamp, the value of that thread's last
 * successful request there (requests from one thread to one console take
 * effect in issue order; failed ones change nothing). Runs under TSan. */
#include <pthread.h>

#include "tq_test.h"

#define NTHREAD 4
#define NDEV 6

struct last {
    LONG id;    /* the request in flight whose value is below, or 0 */
    DWORD value;
};

struct worker {
    int t;
    unsigned long n;
    HPHONEAPP app;
    HPHONE h[NDEV];
    /* Per console: the value of the last successful display / lamp request,
     * and the value of each request by id (a small map: ids in flight). */
    DWORD disp_ok[NDEV], lamp_ok[NDEV];
    int disp_set[NDEV], lamp_set[NDEV];
    struct {
        LONG id;
        int dev, lamp;
        DWORD value;
        unsigned long seq;
    } fl[4096];
    unsigned nfl;
    /* Order of success per console: the issue sequence of the value kept. */
    unsigned long disp_seq[NDEV], lamp_seq[NDEV];
    unsigned long replies, accepted;
};

static void take_reply(struct worker *w, const PHONEMESSAGE *m)
{
    for (unsigned i = 0; i < w->nfl; i++) {
        if (w->fl[i].id != (LONG)m->dwParam1)
            continue;
        if (tq_reply_status(m) == 0) {
            int d = w->fl[i].dev;
            if (w->fl[i].lamp) {
                if (!w->lamp_set[d] || w->fl[i].seq > w->lamp_seq[d]) {
                    w->lamp_ok[d] = w->fl[i].value;
                    w->lamp_seq[d] = w->fl[i].seq;
                    w->lamp_set[d] = 1;
                }
            } else if (!w->disp_set[d] || w->fl[i].seq > w->disp_seq[d]) {
                w->disp_ok[d] = w->fl[i].value;
                w->disp_seq[d] = w->fl[i].seq;
                w->disp_set[d] = 1;
            }
        } else {
            TQ_CHECKF(tq_reply_status(m) == (LONG)PHONEERR_OPERATIONFAILED, "reply %s",
                      tq_err_name(tq_reply_status(m)));
        }
        w->fl[i] = w->fl[--w->nfl];
        w->replies++;
        return;
    }
    TQ_FAIL("thread %d: a reply for id %lu not in flight (twice?)", w->t,
            (unsigned long)m->dwParam1);
}

static void drain(struct worker *w, DWORD timeout)
{
    PHONEMESSAGE m;
    while (phoneGetMessage(w->app, &m, timeout) == 0) {
        if (m.dwMessageID == PHONE_REPLY)
            take_reply(w, &m);
        timeout = 0;
    }
}

static void *run(void *arg)
{
    struct worker *w = arg;
    uint64_t rnd = 0x1234567u + (uint64_t)w->t * 977u;
    TQ_CHECK(tq_init_app(&w->app, NULL, NULL) == 0);
    for (int d = 0; d < NDEV; d++)
        w->h[d] = tq_open(w->app, (DWORD)d, PHONEPRIVILEGE_OWNER, (DWORD_PTR)d);
    for (unsigned long i = 0; i < w->n; i++) {
        int d = (int)(tq_rand(&rnd) % NDEV), lamp = (int)(tq_rand(&rnd) & 1);
        DWORD value;
        LONG id;
        char text[3];
        if (lamp) {
            value = tq_mode((unsigned)tq_rand(&rnd));
        } else {
            value = (DWORD)(tq_rand(&rnd) % 100);
            snprintf(text, sizeof text, "%02u", (unsigned)value);
        }
        for (;;) {
            if (w->nfl == sizeof w->fl / sizeof w->fl[0])
                drain(w, 1000);
            id = lamp ? phoneSetLamp(w->h[d], (DWORD)w->t, value)
                      : phoneSetDisplay(w->h[d], 0, (DWORD)(2 * w->t), text, 2);
            if (id != (LONG)PHONEERR_RESOURCEUNAVAIL)
                break;
            drain(w, 1); /* backpressure: make room */
        }
        TQ_CHECKF(TQ_ID_OK(id), "thread %d: %s", w->t, tq_err_name(id));
        w->fl[w->nfl].id = id;
        w->fl[w->nfl].dev = d;
        w->fl[w->nfl].lamp = lamp;
        w->fl[w->nfl].value = value;
        w->fl[w->nfl].seq = i;
        w->nfl++;
        w->accepted++;
        if ((i & 63) == 0)
            drain(w, 0);
    }
    while (w->nfl)
        drain(w, 5000);
    return NULL;
}

int main(void)
{
    static struct worker w[NTHREAD];
    pthread_t th[NTHREAD];
    char cfg[200];
    HPHONEAPP main_app;
    HPHONE h[NDEV];
    unsigned long total = 0;
    snprintf(cfg, sizeof cfg,
             "devices=%d,lamps=%d,workers=2,queue=64,payloads=16,fail_ppm=100000,display=1x%d",
             NDEV, NTHREAD, 2 * NTHREAD);
    main_app = tq_start(cfg, NULL);
    for (int d = 0; d < NDEV; d++)
        h[d] = tq_open(main_app, (DWORD)d, PHONEPRIVILEGE_MONITOR, 0);
    for (int t = 0; t < NTHREAD; t++) {
        w[t].t = t;
        w[t].n = 6000 / tq_scale();
        TQ_CHECK(pthread_create(&th[t], NULL, run, &w[t]) == 0);
    }
    for (int t = 0; t < NTHREAD; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < NTHREAD; t++) {
        TQ_CHECK(w[t].replies == w[t].accepted && w[t].accepted == w[t].n);
        total += w[t].accepted;
    }
    {
        tapiq_stats s = tq_wait_idle();
        TQ_CHECKF(s.accepted == total && s.replies == total && s.in_flight == 0,
                  "accepted %" PRIu64 " replies %" PRIu64 " of %lu", s.accepted, s.replies,
                  total);
    }
    for (int d = 0; d < NDEV; d++) {
        unsigned char buf[128];
        VARSTRING *vs = (VARSTRING *)buf;
        const char *disp;
        memset(buf, 0, sizeof buf);
        vs->dwTotalSize = sizeof buf;
        TQ_EXPECT(phoneGetDisplay(h[d], vs), 0);
        disp = (const char *)buf + vs->dwStringOffset;
        for (int t = 0; t < NTHREAD; t++) {
            DWORD mode = 0;
            char want[3] = "  ";
            if (w[t].disp_set[d])
                snprintf(want, sizeof want, "%02u", (unsigned)w[t].disp_ok[d]);
            TQ_CHECKF(memcmp(disp + 2 * t, want, 2) == 0, "console %d thread %d: '%.2s' not '%s'",
                      d, t, disp + 2 * t, want);
            TQ_EXPECT(phoneGetLamp(h[d], (DWORD)t, &mode), 0);
            TQ_CHECKF(mode == (w[t].lamp_set[d] ? w[t].lamp_ok[d] : PHONELAMPMODE_OFF),
                      "console %d lamp %d: %#x", d, t, (unsigned)mode);
        }
    }
    for (int t = 0; t < NTHREAD; t++)
        TQ_EXPECT(phoneShutdown(w[t].app), 0);
    TQ_EXPECT(phoneShutdown(main_app), 0);
    printf("setters_threads: ok (%lu requests)\n", total);
    return 0;
}
