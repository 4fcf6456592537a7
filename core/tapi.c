/* core/tapi.c - the TAPI 2.2 phone functions and the native configuration
 * calls: the boundary. Each function validates its arguments, calls the
 * module that owns the object (core/runtime.h lists them) and translates the
 * module's -errno into the documented PHONEERR_* (the one place where that
 * happens). See runtime.h for what may run concurrently with what. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/app.h"
#include "core/device.h"
#include "core/guard.h"
#include "core/handle.h"
#include "core/issuer.h"
#include "core/runtime.h"
#include "core/tapi_boundary.h"
#include "core/utf.h"
#include "core/worker.h"

/* ------------------------------------------------------------ global state */

static char *g_config_text; /* tapiq_configure(); NULL: use TAPIQ_CONFIG */
static int g_config_set;

static TAPIQ_TLS char t_last_error[256];

static void set_last_error(const char *msg)
{
    snprintf(t_last_error, sizeof(t_last_error), "%s", msg);
}

TAPIQ_API const char *tapiq_last_error(void)
{
    return t_last_error;
}

/* ------------------------------------------------------------ phoneSetLamp */

static LONG reject(struct tapiq_rt *rt, enum tapiq_reject why, LONG err)
{
    tapiq_stat_add(rt->stats, (enum tapiq_ctr)(TAPIQ_C_REJECTED0 + why), 1);
    return err;
}

/* Every check and every error, in the documented precedence; also threads
 * without a ring yet, consoles with per-lamp mode sets, full rings and the
 * shared rings. */
static __attribute__((noinline)) LONG set_lamp_full(HPHONE hPhone, DWORD dwButtonLampID,
                                                    DWORD dwLampMode)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct tapiq_sq *q;
    struct tapiq_sqe e;
    uint32_t modes, pos;
    LONG rc;
    int r;

    rc = tapiq_enter_handle(hPhone, &rt, &hs);
    if (rc) {
        if (rc == (LONG)PHONEERR_INVALPHONEHANDLE)
            reject(rt, TAPIQ_REJECT_INVALPHONEHANDLE, rc);
        goto out;
    }
    if (hs->priv != PHONEPRIVILEGE_OWNER) {
        rc = reject(rt, TAPIQ_REJECT_NOTOWNER, PHONEERR_NOTOWNER);
        goto out;
    }
    dev = &rt->devs[hs->dev];
    if (dev->nlamps == 0) {
        rc = reject(rt, TAPIQ_REJECT_OPERATIONUNAVAIL, PHONEERR_OPERATIONUNAVAIL);
        goto out;
    }
    /* Every lamp alike (the usual console): no look at the per-lamp table. */
    modes = dev->modes_all;
    if (!modes && dwButtonLampID < dev->nlamps)
        modes = dev->modes[dwButtonLampID];
    if (dwButtonLampID >= dev->nlamps || modes == PHONELAMPMODE_DUMMY) {
        rc = reject(rt, TAPIQ_REJECT_INVALBUTTONLAMPID, PHONEERR_INVALBUTTONLAMPID);
        goto out;
    }
    /* A dummy lamp was refused above; no other lamp supports DUMMY. */
    if ((dwLampMode & (dwLampMode - 1)) || !(dwLampMode & modes)) {
        rc = reject(rt, TAPIQ_REJECT_INVALLAMPMODE, PHONEERR_INVALLAMPMODE);
        goto out;
    }
    if (!tapiq_dev_connected(dev)) {
        rc = reject(rt, TAPIQ_REJECT_INVALPHONESTATE, PHONEERR_INVALPHONESTATE);
        goto out;
    }
    /* Admission: room in our ring to the device's worker. */
    q = tapiq_issuer_ring(rt, dev->worker);
    e.handle = hPhone;
    e.dev = hs->dev;
    e.lamp = (uint16_t)dwButtonLampID;
    e.mode = (uint16_t)dwLampMode;
    r = q->mpsc ? tapiq_sq_push_mpsc(q, &e, &pos) : tapiq_sq_push_spsc(q, &e, &pos);
    if (r) {
        rc = reject(rt, TAPIQ_REJECT_RESOURCEUNAVAIL, PHONEERR_RESOURCEUNAVAIL);
        goto out;
    }
    tapiq_worker_kick(&rt->workers[dev->worker]);
    rc = (LONG)tapiq_sq_id(q, pos);
out:
    tapiq_guard_exit();
    return rc;
}

/* The fast path's section ends after a wake-up of the device's worker. */
static __attribute__((noinline)) LONG wake_fast_exit(struct tapiq_worker *wk, LONG rc)
{
    tapiq_worker_wake(wk);
    tapiq_guard_fast_exit();
    return rc;
}

/* The common case in one pass: an owner handle, a console whose lamps all
 * support the same modes, a valid lamp and mode, connected, the calling
 * thread holding a pool slot with room in its ring, in a fast path's
 * section (core/guard.h); a full ring of such a thread is refused here
 * too. Anything else (errors included) goes to set_lamp_full(), which
 * decides the same way. */
TAPIQ_API LONG phoneSetLamp(HPHONE hPhone, DWORD dwButtonLampID, DWORD dwLampMode)
{
    struct tapiq_issuer *t = &tapiq_issuer_me;
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct tapiq_sq *q;
    struct tapiq_worker *wk;
    uint32_t id;

    if (__builtin_expect(!tapiq_guard_fast_ok(), 0))
        return set_lamp_full(hPhone, dwButtonLampID, dwLampMode);
    tapiq_guard_fast_enter();
    rt = tapiq_rt_fast(); /* tapiq_rt_none without a runtime: its epoch never matches */
    /* fast_epoch: a pool slot's row of this runtime (SPSC rings; the
     * shared row's MPSC rings take the full path). */
    if (__builtin_expect(t->fast_epoch != rt->epoch, 0))
        goto slow;
    hs = tapiq_handle_slot(rt, hPhone);
    if (__builtin_expect(!tapiq_handle_is(hs, hPhone) || hs->priv != PHONEPRIVILEGE_OWNER, 0))
        goto slow;
    dev = &rt->devs[hs->dev];
    /* modes_all is 0 unless every lamp has the same modes and none is a
     * dummy; tapiq_dev_fast_ok() tests it and the connection at once. */
    if (__builtin_expect(dwButtonLampID >= dev->nlamps || (dwLampMode & (dwLampMode - 1)) ||
                             !tapiq_dev_fast_ok(dev, dwLampMode),
                         0))
        goto slow;
    q = &t->row[dev->worker];
    id = tapiq_sq_push_spsc_id(q, hPhone, hs->dev, dwButtonLampID, dwLampMode);
    if (__builtin_expect(id == 0, 0))
        goto full;
    wk = q->consumer;
    if (tapiq_worker_must_wake_fast(wk))
        return wake_fast_exit(wk, (LONG)id);
    tapiq_guard_fast_exit();
    return (LONG)id;
full:
    /* Every check passed and our ring is full: set_lamp_full()'s answer
     * too, counted on the ring (tapiq_get_stats() adds it up). */
    tapiq_sq_count_full(q);
    tapiq_guard_fast_exit();
    return PHONEERR_RESOURCEUNAVAIL;
slow:
    tapiq_guard_fast_exit();
    return set_lamp_full(hPhone, dwButtonLampID, dwLampMode);
}

/* ------------------------------------------------------------ phoneGetLamp */

TAPIQ_API LONG phoneGetLamp(HPHONE hPhone, DWORD dwButtonLampID, LPDWORD lpdwLampMode)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    LONG rc = 0;

    rc = tapiq_enter_handle(hPhone, &rt, &hs);
    if (rc)
        goto out;
    if (!lpdwLampMode) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    dev = &rt->devs[hs->dev];
    if (dev->nlamps == 0) {
        rc = PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    if (dwButtonLampID >= dev->nlamps) {
        rc = PHONEERR_INVALBUTTONLAMPID;
        goto out;
    }
    *lpdwLampMode = tapiq_dev_lamp(dev, dwButtonLampID);
out:
    tapiq_guard_exit();
    return rc;
}

/* ------------------------------------------------------- provider results */

uint32_t tapiq_provider_result(int32_t status)
{
    switch (status) {
    case -EOPNOTSUPP:
        return PHONEERR_OPERATIONUNAVAIL;
    case -EINVAL:
        return PHONEERR_INVALPARAM;
    case -ENOMEM:
        return PHONEERR_NOMEM;
    default:
        return PHONEERR_OPERATIONFAILED;
    }
}

/* ---------------------------------------------------------- phoneGetMessage */

static LONG messages_error(long r)
{
    switch (r) {
    case -EFAULT:
        return PHONEERR_INVALPOINTER;
    case -EOPNOTSUPP:
        return PHONEERR_OPERATIONUNAVAIL; /* messages go to the callback */
    case -ETIMEDOUT:
        return PHONEERR_OPERATIONFAILED;
    case -ENOMEM: /* the wait failed: poll() had no kernel memory */
        return PHONEERR_NOMEM;
    case -EINVAL: /* the wait failed: poll() refused (RLIMIT_NOFILE 0) */
        return PHONEERR_OPERATIONFAILED;
    default:
        return PHONEERR_INVALAPPHANDLE;
    }
}

static __attribute__((noinline)) LONG get_message_full(HPHONEAPP hPhoneApp,
                                                       LPPHONEMESSAGE lpMessage, DWORD dwTimeout)
{
    long r = tapiq_app_get_messages(hPhoneApp, lpMessage, 1, dwTimeout, 0);
    return r > 0 ? 0 : messages_error(r);
}

/* Leave the fast path's section (counting a reply it dropped: @late), then
 * the full path. */
static __attribute__((noinline)) LONG get_message_leave_full(struct tapiq_rt *rt,
                                                             HPHONEAPP hPhoneApp,
                                                             LPPHONEMESSAGE lpMessage,
                                                             DWORD dwTimeout, int late)
{
    if (late)
        tapiq_stat_add(rt->stats, TAPIQ_C_SUPPRESSED_LATE, 1); /* handle closed */
    tapiq_guard_fast_exit();
    return get_message_full(hPhoneApp, lpMessage, dwTimeout);
}

TAPIQ_API LONG phoneGetMessage(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessage, DWORD dwTimeout)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    int r = 0;

    /* The common case first: a reply waiting for a polled application, in
     * a fast path's section (core/guard.h). */
    if (__builtin_expect(!tapiq_guard_fast_ok(), 0))
        return get_message_full(hPhoneApp, lpMessage, dwTimeout);
    tapiq_guard_fast_enter();
    rt = tapiq_rt_current();
    app = rt ? tapiq_app_lookup(rt, hPhoneApp) : NULL;
    if (__builtin_expect(app && lpMessage && (r = tapiq_app_take_one(rt, app, lpMessage)) > 0, 1)) {
        tapiq_guard_fast_exit();
        return 0;
    }
    return get_message_leave_full(rt, hPhoneApp, lpMessage, dwTimeout, r < 0);
}

TAPIQ_API LONG tapiq_get_messages(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessages, DWORD dwMax,
                                  DWORD dwTimeout)
{
    long r;
    if (dwMax == 0)
        return PHONEERR_INVALPARAM;
    r = tapiq_app_get_messages(hPhoneApp, lpMessages, dwMax, dwTimeout, 0);
    return r > 0 ? (LONG)r : messages_error(r);
}

/* ------------------------------------------------------- initialize / shut */

static LONG initialize(LPHPHONEAPP lphApp, PHONECALLBACK cb, LPCSTR name, LPDWORD lpdwNumDevs,
                       LPDWORD lpdwAPIVersion, LPPHONEINITIALIZEEXPARAMS params)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    DWORD options = 0;
    int level, rc, started = 0;
    char err[256] = "";

    set_last_error("");
    if (!lphApp || !lpdwNumDevs || !lpdwAPIVersion)
        return PHONEERR_INVALPOINTER;
    if (params) {
        if (params->dwTotalSize < sizeof(PHONEINITIALIZEEXPARAMS)) {
            if (params->dwTotalSize >= TAPIQ_VARSIZE_HEAD)
                params->dwNeededSize = sizeof(PHONEINITIALIZEEXPARAMS);
            return PHONEERR_STRUCTURETOOSMALL;
        }
        options = params->dwOptions;
    } else if (cb) {
        options = PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    }
    if (options == PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT || options > 3) {
        set_last_error("only USEHIDDENWINDOW (with a callback) and USEEVENT are supported");
        return PHONEERR_INVALPARAM;
    }
    if (options == PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW && !cb)
        return PHONEERR_INVALPOINTER;
    if (options != PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW)
        cb = NULL;
    if (*lpdwAPIVersion < TAPIQ_API_LOW)
        return PHONEERR_INCOMPATIBLEAPIVERSION;
    level = options == PHONEINITIALIZEEXOPTION_USEEVENT;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = tapiq_rt_current();
    if (!rt) {
        rc = tapiq_rt_start_locked(g_config_set ? g_config_text : getenv("TAPIQ_CONFIG"), err,
                                   sizeof(err));
        if (rc) {
            pthread_mutex_unlock(&tapiq_g_lock);
            set_last_error(err[0] ? err : "cannot start");
            if (rc == -ENOMEM)
                return PHONEERR_NOMEM;
            if (rc == -EINVAL)
                return PHONEERR_INIFILECORRUPT;
            return PHONEERR_NODRIVER;
        }
        rt = tapiq_rt_current();
        started = 1;
    }
    rc = tapiq_app_create_locked(rt, cb, name, level, &app);
    if (rc) {
        if (started)
            tapiq_rt_stop_locked(rt);
        pthread_mutex_unlock(&tapiq_g_lock);
        if (rc == -EMFILE || rc == -ENFILE) {
            snprintf(err, sizeof(err), "no file descriptor left for the application's event fd: %s",
                     strerror(-rc));
            set_last_error(err);
            return PHONEERR_RESOURCEUNAVAIL;
        }
        set_last_error(rc == -ENOSPC   ? "too many applications at once (1,023), or their "
                                         "values used up"
                       : rc == -EAGAIN ? "cannot start the callback thread"
                                       : "out of memory");
        return rc == -ENOSPC ? PHONEERR_RESOURCEUNAVAIL : PHONEERR_NOMEM;
    }
    *lphApp = app->h;
    *lpdwNumDevs = rt->ndev;
    *lpdwAPIVersion = TAPIQ_API_HIGH;
    if (params) {
        params->dwNeededSize = sizeof(PHONEINITIALIZEEXPARAMS);
        params->dwUsedSize = sizeof(PHONEINITIALIZEEXPARAMS);
        if (level)
            params->Handles.hEvent = (HANDLE)(intptr_t)app->ring.efd;
    }
    pthread_mutex_unlock(&tapiq_g_lock);
    return 0;
}

TAPIQ_API LONG phoneInitializeEx(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                 PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                 LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                 LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams)
{
    (void)hInstance;
    return initialize(lphPhoneApp, lpfnCallback, lpszFriendlyAppName, lpdwNumDevs,
                      lpdwAPIVersion, lpPhoneInitializeExParams);
}

TAPIQ_API LONG phoneInitializeExA(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                  PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                                  LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                  LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams)
{
    (void)hInstance;
    return initialize(lphPhoneApp, lpfnCallback, lpszFriendlyAppName, lpdwNumDevs,
                      lpdwAPIVersion, lpPhoneInitializeExParams);
}

TAPIQ_API LONG phoneInitializeExW(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                                  PHONECALLBACK lpfnCallback, LPCWSTR lpszFriendlyAppName,
                                  LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                                  LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams)
{
    char name[256]; /* the application keeps 63 bytes of it */
    (void)hInstance;
    if (lpszFriendlyAppName)
        tapiq_utf16_to_utf8((const uint16_t *)lpszFriendlyAppName, name, sizeof(name));
    return initialize(lphPhoneApp, lpfnCallback, lpszFriendlyAppName ? name : NULL, lpdwNumDevs,
                      lpdwAPIVersion, lpPhoneInitializeExParams);
}

/* TAPI 1.x: the callback model, at the lowest API version (each phoneOpen
 * still names its own). */
TAPIQ_API LONG phoneInitialize(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                               PHONECALLBACK lpfnCallback, LPCSTR lpszAppName,
                               LPDWORD lpdwNumDevs)
{
    DWORD ver = TAPIQ_API_LOW;
    (void)hInstance;
    if (!lpfnCallback)
        return (LONG)PHONEERR_INVALPOINTER;
    return initialize(lphPhoneApp, lpfnCallback, lpszAppName, lpdwNumDevs, &ver, NULL);
}

TAPIQ_API LONG phoneShutdown(HPHONEAPP hPhoneApp)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    struct tapiq_subs *garbage = NULL;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = tapiq_rt_current();
    app = rt ? tapiq_app_lookup(rt, hPhoneApp) : NULL;
    if (!app) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return PHONEERR_INVALAPPHANDLE;
    }
    tapiq_handles_close_app_locked(rt, app, &garbage);
    tapiq_app_unpublish_locked(rt, app);
    pthread_mutex_unlock(&tapiq_g_lock);

    tapiq_guard_synchronize_blocking();
    tapiq_subs_free(garbage);
    tapiq_app_wait_idle_blocking(app);

    pthread_mutex_lock(&tapiq_g_lock);
    /* Tokens of this app's closed handles died with its ring. */
    tapiq_handles_forget_app_locked(rt, app);
    tapiq_app_free(app);
    if (rt->napps == 0)
        tapiq_rt_stop_locked(rt);
    pthread_mutex_unlock(&tapiq_g_lock);
    return 0;
}

/* ------------------------------------------------------ devices and handles */

static int api_ok(DWORD v)
{
    return v >= TAPIQ_API_LOW && v <= TAPIQ_API_HIGH;
}

TAPIQ_API LONG phoneNegotiateAPIVersion(HPHONEAPP hPhoneApp, DWORD dwDeviceID,
                                        DWORD dwAPILowVersion, DWORD dwAPIHighVersion,
                                        LPDWORD lpdwAPIVersion, LPPHONEEXTENSIONID lpExtensionID)
{
    struct tapiq_rt *rt;
    LONG rc = 0;
    tapiq_guard_enter();
    rt = tapiq_rt_current();
    if (!rt || !tapiq_app_lookup(rt, hPhoneApp))
        rc = PHONEERR_INVALAPPHANDLE;
    else if (dwDeviceID >= rt->ndev)
        rc = PHONEERR_BADDEVICEID;
    else if (!lpdwAPIVersion || !lpExtensionID)
        rc = PHONEERR_INVALPOINTER;
    else if (dwAPILowVersion > dwAPIHighVersion || dwAPIHighVersion < TAPIQ_API_LOW ||
             dwAPILowVersion > TAPIQ_API_HIGH)
        rc = PHONEERR_INCOMPATIBLEAPIVERSION;
    else {
        *lpdwAPIVersion = dwAPIHighVersion < TAPIQ_API_HIGH ? dwAPIHighVersion : TAPIQ_API_HIGH;
        lpExtensionID->dwExtensionID0 = 0;
        lpExtensionID->dwExtensionID1 = 0;
        lpExtensionID->dwExtensionID2 = 0;
        lpExtensionID->dwExtensionID3 = 0;
    }
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneOpen(HPHONEAPP hPhoneApp, DWORD dwDeviceID, LPHPHONE lphPhone,
                         DWORD dwAPIVersion, DWORD dwExtVersion, DWORD_PTR dwCallbackInstance,
                         DWORD dwPrivilege)
{
    struct tapiq_rt *rt;
    struct tapiq_app *app;
    uint32_t h;
    LONG rc = 0;
    int r;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = tapiq_rt_current();
    app = rt ? tapiq_app_lookup(rt, hPhoneApp) : NULL;
    if (!app)
        rc = PHONEERR_INVALAPPHANDLE;
    else if (dwDeviceID >= rt->ndev)
        rc = PHONEERR_BADDEVICEID;
    else if (!lphPhone)
        rc = PHONEERR_INVALPOINTER;
    else if (!api_ok(dwAPIVersion))
        rc = PHONEERR_INCOMPATIBLEAPIVERSION;
    else if (dwExtVersion != 0)
        rc = PHONEERR_INCOMPATIBLEEXTVERSION;
    else if (dwPrivilege != PHONEPRIVILEGE_OWNER && dwPrivilege != PHONEPRIVILEGE_MONITOR)
        rc = PHONEERR_INVALPRIVILEGE;
    else if ((r = tapiq_handle_open_locked(rt, app, dwDeviceID, dwAPIVersion, dwPrivilege,
                                           dwCallbackInstance, &h)))
        rc = r == -ENOSPC ? PHONEERR_RESOURCEUNAVAIL : PHONEERR_NOMEM;
    else
        *lphPhone = h;
    pthread_mutex_unlock(&tapiq_g_lock);
    return rc;
}

TAPIQ_API LONG phoneClose(HPHONE hPhone)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_app *app;
    struct tapiq_subs *old = NULL;
    int pinned;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = tapiq_rt_current();
    if (!rt) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return PHONEERR_UNINITIALIZED;
    }
    hs = tapiq_handle_lookup(rt, hPhone);
    if (!hs) {
        pthread_mutex_unlock(&tapiq_g_lock);
        return PHONEERR_INVALPHONEHANDLE;
    }
    app = hs->app;
    old = tapiq_handle_close_locked(rt, hs);
    pinned = tapiq_app_pin_for_close_locked(app);
    pthread_mutex_unlock(&tapiq_g_lock);
    if (pinned) {
        tapiq_app_wait_delivery_blocking(app, hPhone);
        tapiq_app_unpin(app);
    }
    if (old) {
        tapiq_guard_synchronize_blocking();
        tapiq_subs_free(old);
    }
    return 0;
}

/* ----------------------------------------------------------- native config */

TAPIQ_API int tapiq_configure(const char *config)
{
    struct tapiq_config cfg;
    char err[256];
    char *copy = NULL;
    int rc;

    pthread_mutex_lock(&tapiq_g_lock);
    if (tapiq_rt_current()) {
        pthread_mutex_unlock(&tapiq_g_lock);
        set_last_error("the configuration is fixed while an application is initialized");
        return -EBUSY;
    }
    if (config) {
        rc = tapiq_config_parse(config, &cfg, err, sizeof(err));
        if (rc) {
            pthread_mutex_unlock(&tapiq_g_lock);
            set_last_error(err);
            return rc;
        }
        tapiq_config_free(&cfg);
        copy = tapiq_strdup(config);
        if (!copy) {
            pthread_mutex_unlock(&tapiq_g_lock);
            set_last_error("out of memory");
            return -ENOMEM;
        }
    }
    free(g_config_text);
    g_config_text = copy;
    g_config_set = config != NULL;
    pthread_mutex_unlock(&tapiq_g_lock);
    set_last_error("");
    return 0;
}

TAPIQ_API int tapiq_register_backend(const tapiq_backend_ops *ops)
{
    int rc;
    pthread_mutex_lock(&tapiq_g_lock);
    rc = tapiq_backend_register_unsync(ops);
    pthread_mutex_unlock(&tapiq_g_lock);
    return rc;
}
