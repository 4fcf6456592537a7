/* core/tapi_caps.c - the TAPI boundary, continued: device capabilities,
 * status and status-message filters (see tapi.c). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "core/device.h"
#include "core/guard.h"
#include "core/handle.h"
#include "core/runtime.h"

static int api_ok(DWORD v)
{
    return v >= TAPIQ_API_LOW && v <= TAPIQ_API_HIGH;
}

/* Enter a read-side section and find the open handle @h (as in tapi.c). */
static inline LONG enter_handle(HPHONE h, struct tapiq_rt **rtp, struct tapiq_handle **hsp)
{
    tapiq_guard_enter();
    *rtp = tapiq_rt_current();
    if (!*rtp)
        return PHONEERR_UNINITIALIZED;
    *hsp = tapiq_handle_lookup(*rtp, h);
    return *hsp ? 0 : PHONEERR_INVALPHONEHANDLE;
}

/* ---------------------------------------------------------- caps and status */

static DWORD caps_fixed_size(DWORD api)
{
    if (api >= TAPI_VERSION2_2)
        return sizeof(PHONECAPS);
    if (api >= TAPI_VERSION2_0)
        return offsetof(PHONECAPS, PermanentPhoneGuid);
    return offsetof(PHONECAPS, dwDeviceClassesSize);
}

static DWORD status_fixed_size(DWORD api)
{
    if (api >= TAPI_VERSION2_0)
        return sizeof(PHONESTATUS);
    return offsetof(PHONESTATUS, dwPhoneFeatures);
}

#define PHONEBUTTONMODE_DUMMY_ 0x00000001u

TAPIQ_API LONG phoneGetDevCaps(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                               DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps)
{
    struct tapiq_rt *rt;
    struct tapiq_dev *dev;
    char provider[48], pname[64];
    DWORD fixed, need, total, plen, nlen, arr;
    unsigned char *base = (unsigned char *)lpPhoneCaps;
    LONG rc = 0;

    tapiq_guard_enter();
    rt = tapiq_rt_current();
    if (!rt || !tapiq_app_lookup(rt, hPhoneApp)) {
        rc = PHONEERR_INVALAPPHANDLE;
        goto out;
    }
    if (dwDeviceID >= rt->ndev) {
        rc = PHONEERR_BADDEVICEID;
        goto out;
    }
    if (!api_ok(dwAPIVersion)) {
        rc = PHONEERR_INCOMPATIBLEAPIVERSION;
        goto out;
    }
    if (dwExtVersion != 0) {
        rc = PHONEERR_INCOMPATIBLEEXTVERSION;
        goto out;
    }
    if (!lpPhoneCaps) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    dev = &rt->devs[dwDeviceID];
    fixed = caps_fixed_size(dwAPIVersion);
    snprintf(provider, sizeof(provider), "tapiq %s", rt->cfg.backend->name);
    snprintf(pname, sizeof(pname), "%s console %u", rt->cfg.backend->name, dwDeviceID);
    plen = (DWORD)strlen(provider) + 1;
    nlen = (DWORD)strlen(pname) + 1;
    arr = dev->nlamps * (DWORD)sizeof(DWORD);
    need = fixed + ((plen + 3) & ~3u) + ((nlen + 3) & ~3u) + 2 * arr;
    total = lpPhoneCaps->dwTotalSize;
    if (total < fixed) {
        if (total >= 12)
            lpPhoneCaps->dwNeededSize = need;
        rc = PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    memset(base + 4, 0, fixed - 4);
    lpPhoneCaps->dwTotalSize = total;
    lpPhoneCaps->dwNeededSize = need;
    lpPhoneCaps->dwUsedSize = fixed;
    lpPhoneCaps->dwPermanentPhoneID = dwDeviceID;
    lpPhoneCaps->dwStringFormat = STRINGFORMAT_ASCII;
    lpPhoneCaps->dwPhoneStates = PHONESTATE_OTHER | PHONESTATE_CONNECTED |
                                 PHONESTATE_DISCONNECTED | PHONESTATE_OWNER |
                                 PHONESTATE_MONITORS | PHONESTATE_LAMP;
    lpPhoneCaps->dwNumButtonLamps = dev->nlamps;
    if (dwAPIVersion >= TAPI_VERSION2_0)
        lpPhoneCaps->dwPhoneFeatures = dev->nlamps ? PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP : 0;
    if (total >= need) {
        DWORD off = fixed;
        memcpy(base + off, provider, plen);
        lpPhoneCaps->dwProviderInfoSize = plen;
        lpPhoneCaps->dwProviderInfoOffset = off;
        off += (plen + 3) & ~3u;
        memcpy(base + off, pname, nlen);
        lpPhoneCaps->dwPhoneNameSize = nlen;
        lpPhoneCaps->dwPhoneNameOffset = off;
        off += (nlen + 3) & ~3u;
        lpPhoneCaps->dwButtonModesSize = arr;
        lpPhoneCaps->dwButtonModesOffset = off;
        for (DWORD i = 0; i < dev->nlamps; i++) {
            DWORD v = PHONEBUTTONMODE_DUMMY_;
            memcpy(base + off + i * 4, &v, 4);
        }
        off += arr;
        lpPhoneCaps->dwLampModesSize = arr;
        lpPhoneCaps->dwLampModesOffset = off;
        memcpy(base + off, dev->modes, arr);
        off += arr;
        lpPhoneCaps->dwUsedSize = off;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetStatus(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    DWORD fixed, need, total, arr;
    uint32_t owners, monitors;
    unsigned char *base = (unsigned char *)lpPhoneStatus;
    LONG rc = 0;

    rc = enter_handle(hPhone, &rt, &hs);
    if (rc)
        goto out;
    if (!lpPhoneStatus) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    dev = &rt->devs[hs->dev];
    fixed = status_fixed_size(hs->api_version);
    arr = dev->nlamps * (DWORD)sizeof(DWORD);
    need = fixed + arr;
    total = lpPhoneStatus->dwTotalSize;
    if (total < fixed) {
        if (total >= 12)
            lpPhoneStatus->dwNeededSize = need;
        rc = PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    memset(base + 4, 0, fixed - 4);
    tapiq_dev_counts(dev, &owners, &monitors);
    lpPhoneStatus->dwNeededSize = need;
    lpPhoneStatus->dwUsedSize = fixed;
    lpPhoneStatus->dwStatusFlags = tapiq_dev_connected(dev) ? PHONESTATUSFLAGS_CONNECTED : 0;
    lpPhoneStatus->dwNumOwners = owners;
    lpPhoneStatus->dwNumMonitors = monitors;
    if (hs->api_version >= TAPI_VERSION2_0)
        lpPhoneStatus->dwPhoneFeatures =
            dev->nlamps ? PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP : 0;
    if (total >= need) {
        for (DWORD i = 0; i < dev->nlamps; i++) {
            DWORD v = tapiq_dev_lamp(dev, i);
            memcpy(base + fixed + i * 4, &v, 4);
        }
        lpPhoneStatus->dwLampModesSize = arr;
        lpPhoneStatus->dwLampModesOffset = fixed;
        lpPhoneStatus->dwUsedSize = need;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneSetStatusMessages(HPHONE hPhone, DWORD dwPhoneStates, DWORD dwButtonModes,
                                      DWORD dwButtonStates)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_subs *old = NULL;
    LONG rc = 0;
    int r;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = tapiq_rt_current();
    if (!rt)
        rc = PHONEERR_UNINITIALIZED;
    else if (!(hs = tapiq_handle_lookup(rt, hPhone)))
        rc = PHONEERR_INVALPHONEHANDLE;
    else if (dwPhoneStates & ~TAPIQ_ALL_PHONESTATES)
        rc = PHONEERR_INVALPHONESTATE;
    else if (dwButtonModes & ~0x3Fu)
        rc = PHONEERR_INVALBUTTONMODE;
    else if (dwButtonStates & ~0x0Fu)
        rc = PHONEERR_INVALBUTTONSTATE;
    else if ((r = tapiq_handle_set_filter_locked(rt, hs, dwPhoneStates, dwButtonModes,
                                                 dwButtonStates, &old)))
        rc = r == -EAGAIN ? PHONEERR_RESOURCEUNAVAIL : PHONEERR_NOMEM;
    pthread_mutex_unlock(&tapiq_g_lock);
    if (old) {
        tapiq_guard_synchronize();
        tapiq_subs_free(old);
    }
    return rc;
}

TAPIQ_API LONG phoneGetStatusMessages(HPHONE hPhone, LPDWORD lpdwPhoneStates,
                                      LPDWORD lpdwButtonModes, LPDWORD lpdwButtonStates)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    LONG rc = 0;

    pthread_mutex_lock(&tapiq_g_lock);
    rt = tapiq_rt_current();
    if (!rt)
        rc = PHONEERR_UNINITIALIZED;
    else if (!(hs = tapiq_handle_lookup(rt, hPhone)))
        rc = PHONEERR_INVALPHONEHANDLE;
    else if (!lpdwPhoneStates || !lpdwButtonModes || !lpdwButtonStates)
        rc = PHONEERR_INVALPOINTER;
    else {
        uint32_t states, modes, bstates;
        tapiq_handle_get_filter(hs, &states, &modes, &bstates);
        *lpdwPhoneStates = states;
        *lpdwButtonModes = modes;
        *lpdwButtonStates = bstates;
    }
    pthread_mutex_unlock(&tapiq_g_lock);
    return rc;
}

