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
#include "core/tapi_boundary.h"

static int api_ok(DWORD v)
{
    return v >= TAPIQ_API_LOW && v <= TAPIQ_API_HIGH;
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

/* One DWORD per button/lamp position. */
enum per_lamp { BUTTON_MODES, BUTTON_FUNCTIONS, LAMP_MODES, LAMP_STATE };

static struct tapiq_field var_put_lamps(struct tapiq_var *v, struct tapiq_dev *dev,
                                        enum per_lamp what)
{
    struct tapiq_field f = tapiq_var_put(v, NULL, dev->nlamps * 4);
    for (DWORD i = 0; v->write && i < dev->nlamps; i++) {
        struct tapiq_button b;
        DWORD x;
        if (what == LAMP_MODES) {
            x = dev->modes[i];
        } else if (what == LAMP_STATE) {
            x = tapiq_dev_lamp(dev, i);
        } else {
            tapiq_dev_button(dev, i, &b);
            x = what == BUTTON_MODES ? b.mode : b.function;
        }
        memcpy(v->base + f.offset + i * 4, &x, 4);
    }
    return f;
}

static const char device_classes[] = "tapi/phone\0"; /* and the string's NUL */

/* Store a field's size and offset (the structures are packed). */
#define PUT(sizefield, offsetfield, field)                                                   \
    do {                                                                                     \
        struct tapiq_field f_ = (field);                                                     \
        sizefield = f_.size;                                                                 \
        offsetfield = f_.offset;                                                             \
    } while (0)

static void caps_fill(struct tapiq_var *v, PHONECAPS *c, struct tapiq_dev *dev,
                      const char *provider, const char *pname, DWORD api, int wide)
{
    struct tapiq_dev_ext *x = dev->ext;
    DWORD sizes[TAPIQ_MAX_DATA_AREAS];
    DWORD nd = x ? x->ndata : 0;
    for (DWORD i = 0; i < nd; i++)
        sizes[i] = x->data_size[i];
    PUT(c->dwProviderInfoSize, c->dwProviderInfoOffset,
        tapiq_var_put_str(v, provider, strlen(provider), wide));
    PUT(c->dwPhoneNameSize, c->dwPhoneNameOffset, tapiq_var_put_str(v, pname, strlen(pname), wide));
    PUT(c->dwButtonModesSize, c->dwButtonModesOffset, var_put_lamps(v, dev, BUTTON_MODES));
    PUT(c->dwButtonFunctionsSize, c->dwButtonFunctionsOffset,
        var_put_lamps(v, dev, BUTTON_FUNCTIONS));
    PUT(c->dwLampModesSize, c->dwLampModesOffset, var_put_lamps(v, dev, LAMP_MODES));
    PUT(c->dwSetDataSize, c->dwSetDataOffset, tapiq_var_put(v, sizes, nd * 4));
    PUT(c->dwGetDataSize, c->dwGetDataOffset, tapiq_var_put(v, sizes, nd * 4));
    if (api >= TAPI_VERSION2_0)
        PUT(c->dwDeviceClassesSize, c->dwDeviceClassesOffset,
            tapiq_var_put_str(v, device_classes, sizeof(device_classes) - 1, wide));
}

static LONG get_dev_caps(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                         DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps, int wide)
{
    struct tapiq_rt *rt;
    struct tapiq_dev *dev;
    struct tapiq_dev_ext *x;
    char provider[48], pname[64];
    DWORD fixed, need, total;
    struct tapiq_var v;
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
    x = dev->ext;
    fixed = caps_fixed_size(dwAPIVersion);
    snprintf(provider, sizeof(provider), "tapiq %s", rt->cfg.backend->name);
    snprintf(pname, sizeof(pname), "%s console %u", rt->cfg.backend->name, dwDeviceID);
    v.base = (unsigned char *)lpPhoneCaps;
    v.off = fixed;
    v.write = 0;
    {
        PHONECAPS scratch;
        caps_fill(&v, &scratch, dev, provider, pname, dwAPIVersion, wide);
    }
    need = (v.off + 3) & ~3u;
    total = lpPhoneCaps->dwTotalSize;
    if (total < fixed) {
        if (total >= TAPIQ_VARSIZE_HEAD)
            lpPhoneCaps->dwNeededSize = need;
        rc = PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    memset(v.base + 4, 0, fixed - 4);
    lpPhoneCaps->dwNeededSize = need;
    lpPhoneCaps->dwUsedSize = fixed;
    lpPhoneCaps->dwPermanentPhoneID = dwDeviceID;
    lpPhoneCaps->dwStringFormat = wide ? STRINGFORMAT_UNICODE : STRINGFORMAT_ASCII;
    lpPhoneCaps->dwPhoneStates = tapiq_dev_phone_states(dev);
    lpPhoneCaps->dwNumButtonLamps = dev->nlamps;
    if (x) {
        lpPhoneCaps->dwHookSwitchDevs = x->hs_devs;
        lpPhoneCaps->dwHandsetHookSwitchModes = x->hs_modes[0];
        lpPhoneCaps->dwSpeakerHookSwitchModes = x->hs_modes[1];
        lpPhoneCaps->dwHeadsetHookSwitchModes = x->hs_modes[2];
        lpPhoneCaps->dwVolumeFlags = x->volume_devs;
        lpPhoneCaps->dwGainFlags = x->gain_devs;
        lpPhoneCaps->dwDisplayNumRows = x->rows;
        lpPhoneCaps->dwDisplayNumColumns = x->cols;
        lpPhoneCaps->dwNumRingModes = x->ring_modes;
        lpPhoneCaps->dwNumSetData = x->ndata;
        lpPhoneCaps->dwNumGetData = x->ndata;
    }
    if (dwAPIVersion >= TAPI_VERSION2_0) {
        lpPhoneCaps->dwPhoneFeatures = tapiq_dev_features(dev);
        if (x) {
            lpPhoneCaps->dwSettableHandsetHookSwitchModes = x->hs_modes[0];
            lpPhoneCaps->dwSettableSpeakerHookSwitchModes = x->hs_modes[1];
            lpPhoneCaps->dwSettableHeadsetHookSwitchModes = x->hs_modes[2];
            lpPhoneCaps->dwMonitoredHandsetHookSwitchModes = x->hs_modes[0];
            lpPhoneCaps->dwMonitoredSpeakerHookSwitchModes = x->hs_modes[1];
            lpPhoneCaps->dwMonitoredHeadsetHookSwitchModes = x->hs_modes[2];
        }
    }
    if (total >= need) {
        v.off = fixed;
        v.write = 1;
        caps_fill(&v, lpPhoneCaps, dev, provider, pname, dwAPIVersion, wide);
        lpPhoneCaps->dwUsedSize = need;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetDevCaps(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                               DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps)
{
    return get_dev_caps(hPhoneApp, dwDeviceID, dwAPIVersion, dwExtVersion, lpPhoneCaps, 0);
}

TAPIQ_API LONG phoneGetDevCapsA(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                                DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps)
{
    return get_dev_caps(hPhoneApp, dwDeviceID, dwAPIVersion, dwExtVersion, lpPhoneCaps, 0);
}

TAPIQ_API LONG phoneGetDevCapsW(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                                DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps)
{
    return get_dev_caps(hPhoneApp, dwDeviceID, dwAPIVersion, dwExtVersion, lpPhoneCaps, 1);
}

static void status_fill(struct tapiq_var *v, PHONESTATUS *s, struct tapiq_dev *dev)
{
    struct tapiq_dev_ext *x = dev->ext;
    PUT(s->dwLampModesSize, s->dwLampModesOffset, var_put_lamps(v, dev, LAMP_STATE));
    if (x && x->rows) {
        DWORD n = x->rows * x->cols;
        struct tapiq_field f = tapiq_var_put(v, NULL, n + 1);
        s->dwDisplaySize = f.size;
        s->dwDisplayOffset = f.offset;
        if (v->write) {
            tapiq_dev_display(dev, (char *)v->base + f.offset);
            v->base[f.offset + n] = '\0';
        }
    }
}

/* The A and W forms are the same: the display is bytes in both, and there
 * is no owner name (see tapi.h). */
static LONG get_status(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct tapiq_dev_ext *x;
    DWORD fixed, need, total;
    uint32_t owners, monitors;
    struct tapiq_var v;
    LONG rc = 0;

    rc = tapiq_enter_handle(hPhone, &rt, &hs);
    if (rc)
        goto out;
    if (!lpPhoneStatus) {
        rc = PHONEERR_INVALPOINTER;
        goto out;
    }
    dev = &rt->devs[hs->dev];
    x = dev->ext;
    fixed = status_fixed_size(hs->api_version);
    v.base = (unsigned char *)lpPhoneStatus;
    v.off = fixed;
    v.write = 0;
    {
        PHONESTATUS scratch;
        status_fill(&v, &scratch, dev);
    }
    need = (v.off + 3) & ~3u;
    total = lpPhoneStatus->dwTotalSize;
    if (total < fixed) {
        if (total >= TAPIQ_VARSIZE_HEAD)
            lpPhoneStatus->dwNeededSize = need;
        rc = PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    memset(v.base + 4, 0, fixed - 4);
    tapiq_dev_counts(dev, &owners, &monitors);
    lpPhoneStatus->dwNeededSize = need;
    lpPhoneStatus->dwUsedSize = fixed;
    lpPhoneStatus->dwStatusFlags = tapiq_dev_connected(dev) ? PHONESTATUSFLAGS_CONNECTED : 0;
    lpPhoneStatus->dwNumOwners = owners;
    lpPhoneStatus->dwNumMonitors = monitors;
    if (x) {
        /* Values first, then plain stores: the structure is packed, so no
         * pointers to its fields. */
        DWORD mode[TAPIQ_HOOKSWITCH_DEVS] = {0}, vol[TAPIQ_HOOKSWITCH_DEVS] = {0},
              gain[TAPIQ_HOOKSWITCH_DEVS] = {0};
        uint32_t rmode, rvol;
        if (x->ring_modes) {
            tapiq_dev_ring(dev, &rmode, &rvol);
            lpPhoneStatus->dwRingMode = rmode;
            lpPhoneStatus->dwRingVolume = rvol;
        }
        for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
            if (x->hs_devs & (1u << i))
                mode[i] = tapiq_dev_hookswitch_mode(dev, i);
            if (x->volume_devs & (1u << i))
                vol[i] = tapiq_dev_volume(dev, i);
            if (x->gain_devs & (1u << i))
                gain[i] = tapiq_dev_gain(dev, i);
        }
        lpPhoneStatus->dwHandsetHookSwitchMode = mode[0];
        lpPhoneStatus->dwHandsetVolume = vol[0];
        lpPhoneStatus->dwHandsetGain = gain[0];
        lpPhoneStatus->dwSpeakerHookSwitchMode = mode[1];
        lpPhoneStatus->dwSpeakerVolume = vol[1];
        lpPhoneStatus->dwSpeakerGain = gain[1];
        lpPhoneStatus->dwHeadsetHookSwitchMode = mode[2];
        lpPhoneStatus->dwHeadsetVolume = vol[2];
        lpPhoneStatus->dwHeadsetGain = gain[2];
    }
    if (hs->api_version >= TAPI_VERSION2_0)
        lpPhoneStatus->dwPhoneFeatures = tapiq_dev_features(dev);
    if (total >= need) {
        v.off = fixed;
        v.write = 1;
        status_fill(&v, lpPhoneStatus, dev);
        lpPhoneStatus->dwUsedSize = need;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetStatus(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus)
{
    return get_status(hPhone, lpPhoneStatus);
}

TAPIQ_API LONG phoneGetStatusA(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus)
{
    return get_status(hPhone, lpPhoneStatus);
}

TAPIQ_API LONG phoneGetStatusW(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus)
{
    return get_status(hPhone, lpPhoneStatus);
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
    else if ((dwButtonStates & ~0x0Fu) || (dwButtonModes && !dwButtonStates))
        rc = PHONEERR_INVALBUTTONSTATE; /* modes without a state select nothing */
    else if ((r = tapiq_handle_set_filter_locked(rt, hs, dwPhoneStates, dwButtonModes,
                                                 dwButtonStates, &old)))
        rc = r == -EAGAIN ? PHONEERR_RESOURCEUNAVAIL : PHONEERR_NOMEM;
    pthread_mutex_unlock(&tapiq_g_lock);
    if (old) {
        tapiq_guard_synchronize_blocking();
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

