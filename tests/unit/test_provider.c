/* The provider interface, through the public API only: a backend registered
 * with tapiq_register_backend() that completes its batches later, on a
 * thread of its own (as a network backend does), declares per-lamp mode sets
 * and a dummy position, and reports devices going away and coming back.
 * Checks: every request replied exactly once with the status the backend
 * set, one outstanding batch per device, each lamp at most once per batch,
 * lamp state after the replies, INVALBUTTONLAMPID for the dummy position,
 * INVALLAMPMODE for a mode the lamp lacks, INVALPHONESTATE while
 * disconnected, PHONE_STATE CONNECTED / DISCONNECTED to filtered handles. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "tq_test.h"

#define NDEV 3
#define NLAMP 4
#define PENDING 64

/* Lamp 0: OFF/STEADY only; lamp 1: all; lamp 2: dummy; lamp 3: all. */
static const uint32_t lamp_modes[NLAMP] = {
    PHONELAMPMODE_OFF | PHONELAMPMODE_STEADY,
    PHONELAMPMODE_OFF | PHONELAMPMODE_STEADY | PHONELAMPMODE_FLASH | PHONELAMPMODE_WINK,
    PHONELAMPMODE_DUMMY,
    PHONELAMPMODE_OFF | PHONELAMPMODE_STEADY | PHONELAMPMODE_FLASH | PHONELAMPMODE_WINK,
};

struct async_state {
    tapiq_host *host;
    pthread_t thread;
    pthread_mutex_t mu; /* the test backend's own queue: simplicity over speed */
    pthread_cond_t cv;
    tapiq_batch *q[PENDING];
    uint32_t qdev[PENDING];
    unsigned head, tail;
    int stop;
    _Atomic int outstanding[NDEV]; /* batches applied, not completed */
    _Atomic unsigned batches;
    _Atomic int fail_lamp3; /* when not 0, updates of lamp 3 fail with it */
};

static struct async_state *g_state;

static int async_start(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps, void **out,
                       char *err, size_t errlen);
static void async_apply(void *st, uint32_t device, tapiq_batch *b);
static void async_stop(void *st);

static const tapiq_backend_ops async_ops = {
    .name = "async-test",
    .start = async_start,
    .apply = async_apply,
    .stop = async_stop,
};

static void *async_main(void *arg)
{
    struct async_state *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->head == s->tail && !s->stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->head == s->tail && s->stop)
            break;
        tapiq_batch *b = s->q[s->head % PENDING];
        uint32_t dev = s->qdev[s->head % PENDING];
        s->head++;
        pthread_mutex_unlock(&s->mu);
        usleep(200); /* the broker takes its time */
        size_t n;
        tapiq_update *u = tapiq_batch_updates(b, &n);
        int seen[NLAMP] = {0};
        for (size_t i = 0; i < n; i++) {
            TQ_CHECK(u[i].lamp < NLAMP && !seen[u[i].lamp]); /* each lamp at most once */
            seen[u[i].lamp] = 1;
            TQ_CHECK(u[i].mode & lamp_modes[u[i].lamp]);
            u[i].status = u[i].lamp == 3 ? atomic_load(&s->fail_lamp3) : 0;
        }
        TQ_CHECK(atomic_fetch_sub(&s->outstanding[dev], 1) == 1);
        tapiq_batch_complete(b);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static int async_start(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps, void **out,
                       char *err, size_t errlen)
{
    struct async_state *s = calloc(1, sizeof(*s));
    (void)cfg;
    if (!s)
        return -ENOMEM;
    if (lamps != NLAMP || devices != NDEV) {
        snprintf(err, errlen, "async-test wants devices=%d,lamps=%d", NDEV, NLAMP);
        free(s);
        return -EINVAL;
    }
    for (uint32_t d = 0; d < devices; d++)
        TQ_CHECK(tapiq_host_add_device(host, lamps, lamp_modes, 1) == (int)d);
    TQ_CHECK(tapiq_host_add_device(host, lamps, lamp_modes, 1) == -ENOSPC);
    s->host = host;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    TQ_CHECK(pthread_create(&s->thread, NULL, async_main, s) == 0);
    g_state = s;
    *out = s;
    return 0;
}

static void async_apply(void *st, uint32_t device, tapiq_batch *b)
{
    struct async_state *s = st;
    /* at most one outstanding batch per device */
    TQ_CHECK(atomic_fetch_add(&s->outstanding[device], 1) == 0);
    atomic_fetch_add(&s->batches, 1);
    pthread_mutex_lock(&s->mu);
    TQ_CHECK(s->tail - s->head < PENDING);
    s->q[s->tail % PENDING] = b;
    s->qdev[s->tail % PENDING] = device;
    s->tail++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void async_stop(void *st)
{
    struct async_state *s = st;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    TQ_CHECK(s->head == s->tail);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    g_state = NULL;
    free(s);
}

static HPHONEAPP g_app;

static void next_msg(PHONEMESSAGE *m)
{
    tq_next_msg(g_app, m);
}

int main(void)
{
    DWORD ndev, ver = TAPI_CURRENT_VERSION, mode;
    PHONEINITIALIZEEXPARAMS p;
    HPHONE own, mon;
    PHONEMESSAGE m;
    LONG ids[400];
    int got[400];

    TQ_CHECK(tapiq_register_backend(&async_ops) == 0);
    TQ_CHECK(tapiq_register_backend(&async_ops) == -EEXIST);
    {
        /* Neither apply() nor apply_sync(): refused. */
        tapiq_backend_ops none = async_ops;
        none.name = "no-apply";
        none.apply = NULL;
        TQ_CHECK(tapiq_register_backend(&none) == -EINVAL);
    }
    TQ_CHECK(tapiq_configure("backend=async-test,devices=3,lamps=4,workers=2,queue=64") == 0);
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    TQ_CHECK(phoneInitializeEx(&g_app, NULL, NULL, "provider", &ndev, &ver, &p) == 0);
    TQ_CHECK(ndev == NDEV);
    TQ_CHECK(phoneOpen(g_app, 1, &own, ver, 0, 7, PHONEPRIVILEGE_OWNER) == 0);
    TQ_CHECK(phoneOpen(g_app, 1, &mon, ver, 0, 8, PHONEPRIVILEGE_MONITOR) == 0);

    /* Per-lamp mode sets and the dummy position. */
    TQ_CHECK(phoneSetLamp(own, 2, PHONELAMPMODE_STEADY) == (LONG)PHONEERR_INVALBUTTONLAMPID);
    TQ_CHECK(phoneSetLamp(own, 0, PHONELAMPMODE_FLASH) == (LONG)PHONEERR_INVALLAMPMODE);
    TQ_CHECK(phoneGetLamp(own, 2, &mode) == 0 && mode == PHONELAMPMODE_DUMMY);

    /* Many requests, completed later on the backend's thread, some failing:
     * each replied once with the backend's status; lamp 3's state stays at
     * the last success. */
    for (int i = 0; i < 400; i++) {
        DWORD lamp = (DWORD)(i % 2 ? 1 : 3), md = i % 3 ? PHONELAMPMODE_FLASH : PHONELAMPMODE_WINK;
        if (i == 200)
            atomic_store(&g_state->fail_lamp3, -EIO);
        do {
            ids[i] = phoneSetLamp(own, lamp, md);
            if (ids[i] == (LONG)PHONEERR_RESOURCEUNAVAIL) {
                /* backpressure: take a reply, keep it counted */
                next_msg(&m);
                TQ_CHECK(m.dwMessageID == PHONE_REPLY);
                for (int k = 0; k < i; k++)
                    if ((DWORD_PTR)ids[k] == m.dwParam1) {
                        TQ_CHECK(!got[k]);
                        got[k] = 1;
                    }
            }
        } while (ids[i] == (LONG)PHONEERR_RESOURCEUNAVAIL);
        TQ_CHECK(ids[i] > 0);
        got[i] = 0;
        /* wait for the replies of the first 200 before failing lamp 3 */
        if (i == 199)
            for (int k = 0; k < 200; k++)
                while (!got[k]) {
                    next_msg(&m);
                    TQ_CHECK(m.dwMessageID == PHONE_REPLY && (LONG)m.dwParam2 == 0);
                    for (int j = 0; j < 200; j++)
                        if ((DWORD_PTR)ids[j] == m.dwParam1) {
                            TQ_CHECK(!got[j]);
                            got[j] = 1;
                        }
                }
    }
    for (;;) {
        int all = 1;
        for (int k = 0; k < 400; k++)
            all &= got[k];
        if (all)
            break;
        next_msg(&m);
        TQ_CHECK(m.dwMessageID == PHONE_REPLY);
        int found = 0;
        for (int k = 200; k < 400; k++) {
            if ((DWORD_PTR)ids[k] != m.dwParam1)
                continue;
            TQ_CHECK(!got[k]);
            got[k] = 1;
            found = 1;
            /* lamp 3 fails from request 200 on, lamp 1 never */
            TQ_CHECK((LONG)m.dwParam2 == (k % 2 ? 0 : (LONG)PHONEERR_OPERATIONFAILED));
            /* the SDK idiom: dwParam2 carries the DWORD value, zero-extended */
            TQ_CHECK(m.dwParam2 == (k % 2 ? 0 : PHONEERR_OPERATIONFAILED));
        }
        TQ_CHECK(found);
    }
    TQ_CHECK(phoneGetLamp(own, 1, &mode) == 0 &&
             mode == (399 % 3 ? PHONELAMPMODE_FLASH : PHONELAMPMODE_WINK));
    /* lamp 3: the last success was request 198 */
    TQ_CHECK(phoneGetLamp(own, 3, &mode) == 0 &&
             mode == (198 % 3 ? PHONELAMPMODE_FLASH : PHONELAMPMODE_WINK));
    TQ_CHECK(phoneGetMessage(g_app, &m, 0) == (LONG)PHONEERR_OPERATIONFAILED); /* nothing extra */

    /* The backend's -errno becomes the reply's PHONEERR_*, one at a time. */
    static const struct {
        int32_t status;
        DWORD result;
    } results[] = {
        {-EOPNOTSUPP, PHONEERR_OPERATIONUNAVAIL},
        {-EINVAL, PHONEERR_INVALPARAM},
        {-ENOMEM, PHONEERR_NOMEM},
        {-ETIMEDOUT, PHONEERR_OPERATIONFAILED},
        {-ENOTCONN, PHONEERR_OPERATIONFAILED},
        {5, PHONEERR_OPERATIONFAILED},                    /* not -errno */
        {(int32_t)PHONEERR_NOMEM, PHONEERR_OPERATIONFAILED}, /* a TAPI code is not passed on */
        {0, 0},
    };
    for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
        atomic_store(&g_state->fail_lamp3, results[i].status);
        LONG id = phoneSetLamp(own, 3, PHONELAMPMODE_STEADY);
        TQ_CHECK(id > 0);
        next_msg(&m);
        TQ_CHECKF(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD_PTR)id &&
                      m.dwParam2 == results[i].result,
                  "status %d: reply 0x%lx", (int)results[i].status, (unsigned long)m.dwParam2);
    }
    TQ_CHECK(phoneGetLamp(own, 3, &mode) == 0 && mode == PHONELAMPMODE_STEADY);

    /* Device 1 goes away: filtered handles hear of it, requests are refused;
     * it comes back: they hear again, requests work. */
    TQ_CHECK(phoneSetStatusMessages(mon, PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED, 0, 0) ==
             0);
    TQ_CHECK(tapiq_host_set_connected(g_state->host, 1, 0) == 0);
    TQ_CHECK(tapiq_host_set_connected(g_state->host, 1, 0) == 0); /* no change, no message */
    TQ_CHECK(tapiq_host_set_connected(g_state->host, NDEV, 0) == -EINVAL);
    next_msg(&m);
    TQ_CHECK(m.dwMessageID == PHONE_STATE && m.hDevice == mon &&
             m.dwParam1 == PHONESTATE_DISCONNECTED);
    TQ_CHECK(m.dwCallbackInstance == 8);
    /* the owner has no filter */
    TQ_CHECK(phoneGetMessage(g_app, &m, 0) == (LONG)PHONEERR_OPERATIONFAILED);
    TQ_CHECK(phoneSetLamp(own, 1, PHONELAMPMODE_STEADY) == (LONG)PHONEERR_INVALPHONESTATE);
    TQ_CHECK(tapiq_host_set_connected(g_state->host, 1, 1) == 0);
    next_msg(&m);
    TQ_CHECK(m.dwMessageID == PHONE_STATE && m.hDevice == mon &&
             m.dwParam1 == PHONESTATE_CONNECTED);
    LONG id = phoneSetLamp(own, 1, PHONELAMPMODE_STEADY);
    TQ_CHECK(id > 0);
    next_msg(&m);
    TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD_PTR)id && m.dwParam2 == 0);

    /* Shutdown with a batch still at the backend: stop() completes it; no
     * reply reaches anyone, nothing is touched after it is freed. */
    TQ_CHECK(phoneSetLamp(own, 1, PHONELAMPMODE_FLASH) > 0);
    TQ_CHECK(phoneShutdown(g_app) == 0);
    TQ_CHECK(g_state == NULL);
    printf("provider: ok (%s)\n", "async completion, mode sets, presence");
    return 0;
}
