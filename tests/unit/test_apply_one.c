/* The backend op apply_one(), through the public API only: a backend with
 * apply_one() and apply_sync() whose apply_one() succeeds, fails, declines
 * or returns a stray positive value, per lamp.
 * Checks: each request replied exactly once, with the status the backend
 * gave (OPERATIONFAILED for -EIO and for a stray positive value), a declined
 * update handed over as a batch with exactly that update, attribute requests
 * never through apply_one(), lamp state after the replies (the last success),
 * PHONE_STATE before the reply of a changed lamp, the backend's count of
 * updates equal to the statistics' updates_applied, and, with 4 threads on
 * their own consoles at once, every reply exactly once and each lamp at the
 * mode of its last request. Then, with the worker stepped by hand, several
 * requests of one console in one round: up to 4 on distinct lamps go
 * through apply_one() one by one, in order (a decline hands that update and
 * those after it over as one batch in the same round); 5, a lamp twice (to
 * coalesce) or an attribute request among them make a batch. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "core/runtime.h"
#include "tq_test.h"

#define NDEV 8
#define NLAMP 8
#define THREADS 4
#define PER_THREAD 20000

/* Lamp 1 fails (-EIO), lamp 2 declines, lamp 3 returns a stray 7; the
 * others succeed. */
#define LAMP_FAIL 1
#define LAMP_DECLINE 2
#define LAMP_STRAY 3

static _Atomic uint32_t shown[NDEV][NLAMP]; /* the backend's own view */
static _Atomic uint64_t n_one, n_one_applied, n_sync_updates, n_sync_batches, n_declined;
/* The last batch apply_sync() saw, recorded in the stepped part only (the
 * steps run on the test's one thread). */
static _Atomic int recording;
static uint32_t last_dev, last_n, last_lamp[NLAMP + 1];

static int one_start(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps, void **out,
                     char *err, size_t errlen)
{
    (void)cfg;
    if (devices != NDEV || lamps != NLAMP) {
        snprintf(err, errlen, "one-test wants devices=%d,lamps=%d", NDEV, NLAMP);
        return -EINVAL;
    }
    for (uint32_t d = 0; d < devices; d++)
        TQ_CHECK(tapiq_host_add_device(host, lamps, NULL, 1) == (int)d);
    *out = &shown;
    return 0;
}

static int one_apply_one(void *st, uint32_t device, uint32_t lamp, uint32_t mode)
{
    TQ_CHECK(st == &shown && device < NDEV && lamp < NLAMP);
    atomic_fetch_add(&n_one, 1);
    if (lamp == LAMP_FAIL)
        return -EIO;
    if (lamp == LAMP_STRAY)
        return 7;
    if (lamp == LAMP_DECLINE) {
        atomic_fetch_add(&n_declined, 1);
        return TAPIQ_APPLY_DECLINE;
    }
    atomic_store(&shown[device][lamp], mode);
    atomic_fetch_add(&n_one_applied, 1);
    return 0;
}

static void one_apply_sync(void *st, uint32_t device, tapiq_batch *b)
{
    size_t n;
    tapiq_update *u = tapiq_batch_updates(b, &n);
    TQ_CHECK(st == &shown && device < NDEV);
    atomic_fetch_add(&n_sync_batches, 1);
    if (atomic_load(&recording)) {
        last_dev = device;
        last_n = (uint32_t)n;
        for (size_t i = 0; i < n && i <= NLAMP; i++)
            last_lamp[i] = u[i].lamp;
    }
    for (size_t i = 0; i < n; i++) {
        /* the sync path applies whatever apply_one() would have refused */
        atomic_store(&shown[device][u[i].lamp], u[i].mode);
        u[i].status = 0;
    }
    atomic_fetch_add(&n_sync_updates, n);
    {
        size_t na;
        tapiq_attr *a = tapiq_batch_attrs(b, &na);
        for (size_t i = 0; i < na; i++)
            a[i].status = 0;
    }
}

static void one_stop(void *st)
{
    (void)st;
}

static const tapiq_backend_ops one_ops = {
    .name = "one-test",
    .start = one_start,
    .apply_sync = one_apply_sync,
    .apply_one = one_apply_one,
    .stop = one_stop,
};

static HPHONEAPP g_app;

static void next_msg(PHONEMESSAGE *m)
{
    tq_next_msg(g_app, m);
}

/* One request, waited for: its reply's status (and, with @state, the
 * PHONE_STATE that must come first). */
static DWORD one_request(HPHONE h, DWORD lamp, DWORD mode, int state)
{
    PHONEMESSAGE m;
    LONG id = phoneSetLamp(h, lamp, mode);
    TQ_CHECK(id > 0);
    if (state) {
        next_msg(&m);
        TQ_CHECK(m.dwMessageID == PHONE_STATE && m.dwParam1 == PHONESTATE_LAMP &&
                 m.dwParam2 == lamp);
    }
    next_msg(&m);
    TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD)id);
    return m.dwParam2;
}

struct worker_arg {
    HPHONE h[2];
    uint32_t dev[2];
    DWORD last[2][NLAMP];
    LONG rc;
};

/* Requests to the thread's own two consoles, lamps 0, 4..7 (those that
 * always succeed); backpressure retried. */
static void *issue(void *p)
{
    struct worker_arg *a = p;
    static const DWORD lamps[5] = {0, 4, 5, 6, 7};
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        uint32_t k = i & 1;
        DWORD lamp = lamps[(i / 2) % 5], mode = (DWORD)PHONELAMPMODE_OFF << ((i / 10) % 6);
        LONG id;
        while ((id = phoneSetLamp(a->h[k], lamp, mode)) == (LONG)PHONEERR_RESOURCEUNAVAIL)
            sched_yield();
        if (id <= 0) {
            a->rc = id;
            return NULL;
        }
        a->last[k][lamp] = mode;
    }
    return NULL;
}

/* The replies of @n requests @id (in issue order), with statuses @want. */
static void expect_replies(const LONG *id, const DWORD *want, int n)
{
    PHONEMESSAGE m;
    for (int i = 0; i < n; i++) {
        TQ_CHECK(phoneGetMessage(g_app, &m, 0) == 0);
        TQ_CHECKF(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD)id[i] &&
                      m.dwParam2 == want[i],
                  "reply %d: message %lu for %lu status %#lx", i, (unsigned long)m.dwMessageID,
                  (unsigned long)m.dwParam1, (unsigned long)m.dwParam2);
    }
    TQ_CHECK(phoneGetMessage(g_app, &m, 0) == (LONG)PHONEERR_OPERATIONFAILED);
}

/* Several requests of one console in one round, the worker stepped by hand
 * (tapiq_rt_manual): which go through apply_one(), which as a batch. */
static void stepped(void)
{
    DWORD ndev, ver = TAPI_CURRENT_VERSION, mode;
    PHONEINITIALIZEEXPARAMS p;
    HPHONE h[NDEV];
    PHONEMESSAGE m;
    LONG id[6];
    uint64_t ones, batches, upd;
    tapiq_stats st;

    for (int d = 0; d < NDEV; d++)
        for (int l = 0; l < NLAMP; l++)
            atomic_store(&shown[d][l], 0);
    tapiq_rt_manual = 1;
    atomic_store(&recording, 1);
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    TQ_CHECK(phoneInitializeEx(&g_app, NULL, NULL, "apply-one-stepped", &ndev, &ver, &p) == 0);
    for (DWORD d = 0; d < NDEV; d++)
        TQ_CHECK(phoneOpen(g_app, d, &h[d], ver, 0, 0, PHONEPRIVILEGE_OWNER) == 0);

    /* 4 on distinct lamps, one failing: apply_one() for each, in order;
     * PHONE_STATE for each changed lamp before the replies. */
    TQ_CHECK(phoneSetStatusMessages(h[0], PHONESTATE_LAMP, 0, 0) == 0);
    ones = atomic_load(&n_one);
    batches = atomic_load(&n_sync_batches);
    id[0] = phoneSetLamp(h[0], 4, PHONELAMPMODE_STEADY);
    id[1] = phoneSetLamp(h[0], LAMP_FAIL, PHONELAMPMODE_WINK);
    id[2] = phoneSetLamp(h[0], 0, PHONELAMPMODE_FLASH);
    id[3] = phoneSetLamp(h[0], 5, PHONELAMPMODE_WINK);
    TQ_CHECK(id[0] > 0 && id[1] > 0 && id[2] > 0 && id[3] > 0);
    TQ_CHECK(tapiq_rt_step(0) > 0);
    TQ_CHECK(atomic_load(&n_one) == ones + 4 && atomic_load(&n_sync_batches) == batches);
    {
        static const DWORD lamps[3] = {4, 0, 5};
        for (int i = 0; i < 3; i++) {
            TQ_CHECK(phoneGetMessage(g_app, &m, 0) == 0);
            TQ_CHECK(m.dwMessageID == PHONE_STATE && m.dwParam1 == PHONESTATE_LAMP &&
                     m.dwParam2 == lamps[i]);
        }
        static const DWORD want[4] = {0, PHONEERR_OPERATIONFAILED, 0, 0};
        expect_replies(id, want, 4);
    }
    TQ_CHECK(phoneGetLamp(h[0], 4, &mode) == 0 && mode == PHONELAMPMODE_STEADY);
    TQ_CHECK(phoneGetLamp(h[0], LAMP_FAIL, &mode) == 0 && mode == PHONELAMPMODE_OFF);
    TQ_CHECK(phoneGetLamp(h[0], 5, &mode) == 0 && mode == PHONELAMPMODE_WINK);
    TQ_CHECK(atomic_load(&shown[0][0]) == PHONELAMPMODE_FLASH);
    TQ_CHECK(phoneSetStatusMessages(h[0], 0, 0, 0) == 0);

    /* A decline in the middle: the update before it is applied, it and the
     * one after go as one batch in the same round, apply_one() asked once
     * for it; replies in order. Console 5's request first (the same
     * worker's), so console 1's go the way of replies to an application
     * already replied to in the round. */
    ones = atomic_load(&n_one);
    batches = atomic_load(&n_sync_batches);
    id[0] = phoneSetLamp(h[5], 0, PHONELAMPMODE_STEADY);
    id[1] = phoneSetLamp(h[1], 6, PHONELAMPMODE_STEADY);
    id[2] = phoneSetLamp(h[1], LAMP_DECLINE, PHONELAMPMODE_FLASH);
    id[3] = phoneSetLamp(h[1], 7, PHONELAMPMODE_WINK);
    TQ_CHECK(id[0] > 0 && id[1] > 0 && id[2] > 0 && id[3] > 0);
    TQ_CHECK(tapiq_rt_step(0) > 0);
    TQ_CHECK(atomic_load(&n_one) == ones + 3 && atomic_load(&n_sync_batches) == batches + 1);
    TQ_CHECK(last_dev == 1 && last_n == 2 && last_lamp[0] == LAMP_DECLINE && last_lamp[1] == 7);
    TQ_CHECK(atomic_load(&shown[1][6]) == PHONELAMPMODE_STEADY);
    TQ_CHECK(atomic_load(&shown[1][7]) == PHONELAMPMODE_WINK);
    {
        static const DWORD want[4] = {0, 0, 0, 0};
        expect_replies(id, want, 4);
    }
    TQ_CHECK(phoneGetLamp(h[1], LAMP_DECLINE, &mode) == 0 && mode == PHONELAMPMODE_FLASH);
    TQ_CHECK(phoneGetLamp(h[1], 7, &mode) == 0 && mode == PHONELAMPMODE_WINK);

    /* The same lamp twice: coalesced in a batch (the backend sees the last). */
    ones = atomic_load(&n_one);
    batches = atomic_load(&n_sync_batches);
    upd = atomic_load(&n_sync_updates);
    id[0] = phoneSetLamp(h[2], 0, PHONELAMPMODE_STEADY);
    id[1] = phoneSetLamp(h[2], 4, PHONELAMPMODE_STEADY);
    id[2] = phoneSetLamp(h[2], 0, PHONELAMPMODE_WINK);
    TQ_CHECK(tapiq_rt_step(0) > 0);
    TQ_CHECK(atomic_load(&n_one) == ones && atomic_load(&n_sync_batches) == batches + 1 &&
             atomic_load(&n_sync_updates) == upd + 2);
    TQ_CHECK(last_dev == 2 && last_n == 2);
    TQ_CHECK(atomic_load(&shown[2][0]) == PHONELAMPMODE_WINK);
    {
        static const DWORD want[3] = {0, 0, 0};
        expect_replies(id, want, 3);
    }

    /* An attribute request among lamp requests: a batch. */
    ones = atomic_load(&n_one);
    batches = atomic_load(&n_sync_batches);
    {
        static const char bytes[4] = "dev";
        static const DWORD want[3] = {0, 0, 0};
        id[0] = phoneSetLamp(h[3], 0, PHONELAMPMODE_STEADY);
        id[1] = phoneDevSpecific(h[3], (LPVOID)bytes, sizeof(bytes));
        id[2] = phoneSetLamp(h[3], 4, PHONELAMPMODE_STEADY);
        TQ_CHECK(id[0] > 0 && id[1] > 0 && id[2] > 0);
        TQ_CHECK(tapiq_rt_step(0) > 0);
        TQ_CHECK(atomic_load(&n_one) == ones && atomic_load(&n_sync_batches) == batches + 1);
        TQ_CHECK(last_dev == 3 && last_n == 2);
        expect_replies(id, want, 3);
    }

    /* 5 distinct lamps: more than run through apply_one(), a batch. */
    ones = atomic_load(&n_one);
    batches = atomic_load(&n_sync_batches);
    {
        static const DWORD lamps[5] = {0, 4, 5, 6, 7};
        static const DWORD want[5] = {0, 0, 0, 0, 0};
        for (int i = 0; i < 5; i++)
            TQ_CHECK((id[i] = phoneSetLamp(h[4], lamps[i], PHONELAMPMODE_FLUTTER)) > 0);
        TQ_CHECK(tapiq_rt_step(0) > 0);
        TQ_CHECK(atomic_load(&n_one) == ones && atomic_load(&n_sync_batches) == batches + 1);
        TQ_CHECK(last_dev == 4 && last_n == 5);
        expect_replies(id, want, 5);
    }

    TQ_CHECK(tapiq_rt_step(0) == 0); /* nothing left */
    TQ_CHECK(tapiq_get_stats(&st, sizeof(st)) == 0);
    TQ_CHECK(st.in_flight == 0 && st.replies == st.accepted);
    TQ_CHECK(phoneShutdown(g_app) == 0);
    tapiq_rt_manual = 0;
}

int main(void)
{
    DWORD ndev, ver = TAPI_CURRENT_VERSION, mode;
    PHONEINITIALIZEEXPARAMS p;
    HPHONE h[NDEV];
    PHONEMESSAGE m;
    tapiq_stats st;

    TQ_CHECK(tapiq_register_backend(&one_ops) == 0);
    TQ_CHECK(tapiq_configure("backend=one-test,devices=8,lamps=8,workers=2,queue=64") == 0);
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    TQ_CHECK(phoneInitializeEx(&g_app, NULL, NULL, "apply-one", &ndev, &ver, &p) == 0);
    TQ_CHECK(ndev == NDEV);
    for (DWORD d = 0; d < NDEV; d++)
        TQ_CHECK(phoneOpen(g_app, d, &h[d], ver, 0, 0, PHONEPRIVILEGE_OWNER) == 0);

    /* One request at a time: each is a device's only request in its round. */
    TQ_CHECK(one_request(h[0], 0, PHONELAMPMODE_STEADY, 0) == 0);
    TQ_CHECK(atomic_load(&n_one) == 1 && atomic_load(&n_sync_batches) == 0);
    TQ_CHECK(atomic_load(&shown[0][0]) == PHONELAMPMODE_STEADY);
    TQ_CHECK(phoneGetLamp(h[0], 0, &mode) == 0 && mode == PHONELAMPMODE_STEADY);

    TQ_CHECK(one_request(h[0], LAMP_FAIL, PHONELAMPMODE_FLASH, 0) == PHONEERR_OPERATIONFAILED);
    TQ_CHECK(phoneGetLamp(h[0], LAMP_FAIL, &mode) == 0 && mode == PHONELAMPMODE_OFF);
    TQ_CHECK(one_request(h[0], LAMP_STRAY, PHONELAMPMODE_FLASH, 0) == PHONEERR_OPERATIONFAILED);
    TQ_CHECK(phoneGetLamp(h[0], LAMP_STRAY, &mode) == 0 && mode == PHONELAMPMODE_OFF);
    TQ_CHECK(atomic_load(&n_one) == 3 && atomic_load(&n_sync_batches) == 0);

    /* Declined: the same update goes over as a batch of one. */
    TQ_CHECK(one_request(h[1], LAMP_DECLINE, PHONELAMPMODE_WINK, 0) == 0);
    TQ_CHECK(atomic_load(&n_declined) == 1 && atomic_load(&n_sync_batches) == 1 &&
             atomic_load(&n_sync_updates) == 1);
    TQ_CHECK(atomic_load(&shown[1][LAMP_DECLINE]) == PHONELAMPMODE_WINK);
    TQ_CHECK(phoneGetLamp(h[1], LAMP_DECLINE, &mode) == 0 && mode == PHONELAMPMODE_WINK);

    /* An attribute request alone never goes through apply_one(). */
    {
        static const char bytes[4] = "dev";
        LONG id = phoneDevSpecific(h[2], (LPVOID)bytes, sizeof(bytes));
        uint64_t ones = atomic_load(&n_one);
        TQ_CHECK(id > 0);
        next_msg(&m);
        TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD)id && m.dwParam2 == 0);
        TQ_CHECK(atomic_load(&n_one) == ones && atomic_load(&n_sync_batches) == 2);
    }

    /* PHONE_STATE before the reply of a changed lamp; none when unchanged. */
    TQ_CHECK(phoneSetStatusMessages(h[3], PHONESTATE_LAMP, 0, 0) == 0);
    TQ_CHECK(one_request(h[3], 5, PHONELAMPMODE_FLUTTER, 1) == 0);
    TQ_CHECK(one_request(h[3], 5, PHONELAMPMODE_FLUTTER, 0) == 0);
    TQ_CHECK(phoneGetMessage(g_app, &m, 0) == (LONG)PHONEERR_OPERATIONFAILED); /* nothing more */
    TQ_CHECK(phoneSetStatusMessages(h[3], 0, 0, 0) == 0);

    /* 4 threads, two consoles each, at once: every reply exactly once. */
    {
        pthread_t t[THREADS];
        struct worker_arg a[THREADS];
        uint64_t got = 0;
        memset(a, 0, sizeof(a));
        for (int i = 0; i < THREADS; i++) {
            for (int k = 0; k < 2; k++) {
                a[i].h[k] = h[2 * i + k];
                a[i].dev[k] = (uint32_t)(2 * i + k);
            }
            TQ_CHECK(pthread_create(&t[i], NULL, issue, &a[i]) == 0);
        }
        /* Reap while they issue (the rings are small: they wait for us). */
        while (got < (uint64_t)THREADS * PER_THREAD) {
            next_msg(&m);
            TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam2 == 0);
            got++;
        }
        for (int i = 0; i < THREADS; i++) {
            TQ_CHECK(pthread_join(t[i], NULL) == 0);
            TQ_CHECK(a[i].rc == 0);
        }
        TQ_CHECK(phoneGetMessage(g_app, &m, 0) == (LONG)PHONEERR_OPERATIONFAILED);
        for (int i = 0; i < THREADS; i++)
            for (int k = 0; k < 2; k++)
                for (DWORD l = 0; l < NLAMP; l++) {
                    if (!a[i].last[k][l])
                        continue;
                    TQ_CHECK(phoneGetLamp(a[i].h[k], l, &mode) == 0 && mode == a[i].last[k][l]);
                    TQ_CHECK(atomic_load(&shown[a[i].dev[k]][l]) == a[i].last[k][l]);
                }
    }

    /* The backend saw exactly the updates the statistics count: every
     * apply_one() call that did not decline, plus the batches' updates. */
    st = tq_wait_idle(); /* exact once the worker published them */
    TQ_CHECK(st.in_flight == 0 && st.replies == st.accepted);
    TQ_CHECK(st.updates_applied ==
             atomic_load(&n_one) - atomic_load(&n_declined) + atomic_load(&n_sync_updates));
    TQ_CHECK(st.updates_failed == 2);
    TQ_CHECK(phoneShutdown(g_app) == 0);

    stepped();
    return 0;
}
