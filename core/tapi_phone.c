/* core/tapi_phone.c - the TAPI boundary, continued: the synchronous phone
 * functions besides lamps, capabilities and status (see tapi.c): device
 * ids, icons, dialogs, extension versions and the getters of the display,
 * ring, hookswitch devices, volume, gain, buttons and data areas. They
 * answer from the device module's state (core/device.h) without calling the
 * backend; each check and its PHONEERR_* follows the order documented in
 * <tapiq/tapi.h>. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/app.h"
#include "core/device.h"
#include "core/guard.h"
#include "core/handle.h"
#include "core/runtime.h"
#include "core/tapi_boundary.h"

/* ------------------------------------------------------------ device class */

/* A device class argument of an A (8-bit) or a W (UTF-16) function. */
struct dev_class {
    const char *a;
    const uint16_t *w;
};

static int class_null(struct dev_class c)
{
    return !c.a && !c.w;
}

static uint32_t class_unit(struct dev_class c, size_t i)
{
    return c.a ? (unsigned char)c.a[i] : c.w[i];
}

/* "tapi/phone", ASCII letters compared without case. */
static int class_is_phone(struct dev_class c)
{
    static const char want[] = "tapi/phone";
    size_t i;
    for (i = 0; want[i]; i++) {
        uint32_t u = class_unit(c, i);
        if (u >= 'A' && u <= 'Z')
            u += 'a' - 'A';
        if (u != (unsigned char)want[i])
            return 0;
    }
    return class_unit(c, i) == 0;
}

/* "tapi/phone", "" or NULL: the phone device itself (phoneGetIcon,
 * phoneConfigDialog). */
static int class_is_phone_or_none(struct dev_class c)
{
    return class_null(c) || class_unit(c, 0) == 0 || class_is_phone(c);
}

/* ------------------------------------------------- device-id functions */

/* Enter a read-side section for a call that names a device by its id.
 * Returns 0 with *rtp set, PHONEERR_UNINITIALIZED or PHONEERR_BADDEVICEID;
 * the caller leaves with tapiq_guard_exit(). */
static LONG enter_device(DWORD id, struct tapiq_rt **rtp)
{
    tapiq_guard_enter();
    *rtp = tapiq_rt_current();
    if (!*rtp)
        return (LONG)PHONEERR_UNINITIALIZED;
    return id < (*rtp)->ndev ? 0 : (LONG)PHONEERR_BADDEVICEID;
}

static LONG get_icon(DWORD dwDeviceID, struct dev_class cls, LPHICON lphIcon)
{
    struct tapiq_rt *rt;
    LONG rc = enter_device(dwDeviceID, &rt);
    if (!rc && !lphIcon)
        rc = (LONG)PHONEERR_INVALPOINTER;
    else if (!rc && !class_is_phone_or_none(cls))
        rc = (LONG)PHONEERR_INVALDEVICECLASS;
    else if (!rc)
        rc = (LONG)PHONEERR_OPERATIONFAILED; /* Linux has no icons */
    if (lphIcon && rc != (LONG)PHONEERR_INVALPOINTER)
        *lphIcon = NULL;
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetIcon(DWORD dwDeviceID, LPCSTR lpszDeviceClass, LPHICON lphIcon)
{
    struct dev_class c = {lpszDeviceClass, NULL};
    return get_icon(dwDeviceID, c, lphIcon);
}

TAPIQ_API LONG phoneGetIconA(DWORD dwDeviceID, LPCSTR lpszDeviceClass, LPHICON lphIcon)
{
    struct dev_class c = {lpszDeviceClass, NULL};
    return get_icon(dwDeviceID, c, lphIcon);
}

TAPIQ_API LONG phoneGetIconW(DWORD dwDeviceID, LPCWSTR lpszDeviceClass, LPHICON lphIcon)
{
    struct dev_class c = {NULL, (const uint16_t *)lpszDeviceClass};
    return get_icon(dwDeviceID, c, lphIcon);
}

static LONG config_dialog(DWORD dwDeviceID, struct dev_class cls)
{
    struct tapiq_rt *rt;
    LONG rc = enter_device(dwDeviceID, &rt);
    if (!rc)
        rc = class_is_phone_or_none(cls) ? (LONG)PHONEERR_OPERATIONUNAVAIL /* no UI */
                                         : (LONG)PHONEERR_INVALDEVICECLASS;
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneConfigDialog(DWORD dwDeviceID, HWND hwndOwner, LPCSTR lpszDeviceClass)
{
    struct dev_class c = {lpszDeviceClass, NULL};
    (void)hwndOwner;
    return config_dialog(dwDeviceID, c);
}

TAPIQ_API LONG phoneConfigDialogA(DWORD dwDeviceID, HWND hwndOwner, LPCSTR lpszDeviceClass)
{
    struct dev_class c = {lpszDeviceClass, NULL};
    (void)hwndOwner;
    return config_dialog(dwDeviceID, c);
}

TAPIQ_API LONG phoneConfigDialogW(DWORD dwDeviceID, HWND hwndOwner, LPCWSTR lpszDeviceClass)
{
    struct dev_class c = {NULL, (const uint16_t *)lpszDeviceClass};
    (void)hwndOwner;
    return config_dialog(dwDeviceID, c);
}

TAPIQ_API LONG phoneNegotiateExtVersion(HPHONEAPP hPhoneApp, DWORD dwDeviceID,
                                        DWORD dwAPIVersion, DWORD dwExtLowVersion,
                                        DWORD dwExtHighVersion, LPDWORD lpdwExtVersion)
{
    struct tapiq_rt *rt;
    LONG rc;
    (void)dwExtLowVersion;
    (void)dwExtHighVersion;
    tapiq_guard_enter();
    rt = tapiq_rt_current();
    if (!rt || !tapiq_app_lookup(rt, hPhoneApp))
        rc = (LONG)PHONEERR_INVALAPPHANDLE;
    else if (dwDeviceID >= rt->ndev)
        rc = (LONG)PHONEERR_BADDEVICEID;
    else if (!lpdwExtVersion)
        rc = (LONG)PHONEERR_INVALPOINTER;
    else if (dwAPIVersion < TAPIQ_API_LOW || dwAPIVersion > TAPIQ_API_HIGH)
        rc = (LONG)PHONEERR_INCOMPATIBLEAPIVERSION;
    else
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL; /* no device has extensions */
    tapiq_guard_exit();
    return rc;
}

/* -------------------------------------------------------------- phoneGetID */

static LONG get_id(HPHONE hPhone, LPVARSTRING lpDeviceID, struct dev_class cls)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    const DWORD fixed = sizeof(VARSTRING), need = fixed + sizeof(DWORD);
    LONG rc = tapiq_enter_handle(hPhone, &rt, &hs);
    if (rc)
        goto out;
    if (!lpDeviceID || class_null(cls)) {
        rc = (LONG)PHONEERR_INVALPOINTER;
        goto out;
    }
    if (!class_is_phone(cls)) {
        rc = (LONG)PHONEERR_INVALDEVICECLASS;
        goto out;
    }
    if (lpDeviceID->dwTotalSize < fixed) {
        if (lpDeviceID->dwTotalSize >= TAPIQ_VARSIZE_HEAD)
            lpDeviceID->dwNeededSize = need;
        rc = (LONG)PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    lpDeviceID->dwNeededSize = need;
    lpDeviceID->dwUsedSize = fixed;
    lpDeviceID->dwStringFormat = STRINGFORMAT_BINARY;
    lpDeviceID->dwStringSize = 0;
    lpDeviceID->dwStringOffset = 0;
    if (lpDeviceID->dwTotalSize >= need) {
        DWORD id = hs->dev;
        memcpy((unsigned char *)lpDeviceID + fixed, &id, sizeof(id));
        lpDeviceID->dwStringSize = sizeof(id);
        lpDeviceID->dwStringOffset = fixed;
        lpDeviceID->dwUsedSize = need;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetID(HPHONE hPhone, LPVARSTRING lpDeviceID, LPCSTR lpszDeviceClass)
{
    struct dev_class c = {lpszDeviceClass, NULL};
    return get_id(hPhone, lpDeviceID, c);
}

TAPIQ_API LONG phoneGetIDA(HPHONE hPhone, LPVARSTRING lpDeviceID, LPCSTR lpszDeviceClass)
{
    struct dev_class c = {lpszDeviceClass, NULL};
    return get_id(hPhone, lpDeviceID, c);
}

TAPIQ_API LONG phoneGetIDW(HPHONE hPhone, LPVARSTRING lpDeviceID, LPCWSTR lpszDeviceClass)
{
    struct dev_class c = {NULL, (const uint16_t *)lpszDeviceClass};
    return get_id(hPhone, lpDeviceID, c);
}

/* ---------------------------------------------------------------- getters */

/* Enter for a getter of @hPhone writing through @out: UNINITIALIZED,
 * INVALPHONEHANDLE, INVALPOINTER (@out NULL); *devp on success. The caller
 * leaves with tapiq_guard_exit(). */
static LONG enter_getter(HPHONE hPhone, const void *out, struct tapiq_handle **hsp,
                         struct tapiq_dev **devp)
{
    struct tapiq_rt *rt;
    LONG rc = tapiq_enter_handle(hPhone, &rt, hsp);
    if (rc)
        return rc;
    if (!out)
        return (LONG)PHONEERR_INVALPOINTER;
    *devp = &rt->devs[(*hsp)->dev];
    return 0;
}

static LONG get_button_info(HPHONE hPhone, DWORD dwButtonLampID, LPPHONEBUTTONINFO info,
                            int wide)
{
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct tapiq_button b;
    struct tapiq_var v;
    DWORD fixed, need;
    LONG rc = enter_getter(hPhone, info, &hs, &dev);
    if (rc)
        goto out;
    if (dev->nlamps == 0) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    if (dwButtonLampID >= dev->nlamps) {
        rc = (LONG)PHONEERR_INVALBUTTONLAMPID;
        goto out;
    }
    /* dwButtonState came with API 1.4. */
    fixed = hs->api_version >= TAPI_VERSION1_4 ? sizeof(PHONEBUTTONINFO)
                                               : offsetof(PHONEBUTTONINFO, dwButtonState);
    tapiq_dev_button(dev, dwButtonLampID, &b);
    v.base = (unsigned char *)info;
    v.off = fixed;
    v.write = 0;
    if (b.text_len)
        tapiq_var_put_str(&v, b.text, b.text_len, wide);
    need = (v.off + 3) & ~3u;
    if (info->dwTotalSize < fixed) {
        if (info->dwTotalSize >= TAPIQ_VARSIZE_HEAD)
            info->dwNeededSize = need;
        rc = (LONG)PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    memset(v.base + 4, 0, fixed - 4);
    info->dwNeededSize = need;
    info->dwUsedSize = fixed;
    info->dwButtonMode = b.mode;
    info->dwButtonFunction = b.function;
    if (fixed == sizeof(PHONEBUTTONINFO))
        info->dwButtonState = b.state;
    if (info->dwTotalSize >= need && b.text_len) {
        v.off = fixed;
        v.write = 1;
        struct tapiq_field f = tapiq_var_put_str(&v, b.text, b.text_len, wide);
        info->dwButtonTextSize = f.size;
        info->dwButtonTextOffset = f.offset;
        info->dwUsedSize = need;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetButtonInfo(HPHONE hPhone, DWORD dwButtonLampID,
                                  LPPHONEBUTTONINFO lpButtonInfo)
{
    return get_button_info(hPhone, dwButtonLampID, lpButtonInfo, 0);
}

TAPIQ_API LONG phoneGetButtonInfoA(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO lpButtonInfo)
{
    return get_button_info(hPhone, dwButtonLampID, lpButtonInfo, 0);
}

TAPIQ_API LONG phoneGetButtonInfoW(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO lpButtonInfo)
{
    return get_button_info(hPhone, dwButtonLampID, lpButtonInfo, 1);
}

TAPIQ_API LONG phoneGetDisplay(HPHONE hPhone, LPVARSTRING lpDisplay)
{
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    const DWORD fixed = sizeof(VARSTRING);
    DWORD n, need;
    LONG rc = enter_getter(hPhone, lpDisplay, &hs, &dev);
    if (rc)
        goto out;
    if (!dev->ext || !dev->ext->rows) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    n = dev->ext->rows * dev->ext->cols;
    need = (fixed + n + 1 + 3) & ~3u;
    if (lpDisplay->dwTotalSize < fixed) {
        if (lpDisplay->dwTotalSize >= TAPIQ_VARSIZE_HEAD)
            lpDisplay->dwNeededSize = need;
        rc = (LONG)PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    lpDisplay->dwNeededSize = need;
    lpDisplay->dwUsedSize = fixed;
    lpDisplay->dwStringFormat = STRINGFORMAT_ASCII;
    lpDisplay->dwStringSize = 0;
    lpDisplay->dwStringOffset = 0;
    if (lpDisplay->dwTotalSize >= need) {
        char *text = (char *)lpDisplay + fixed;
        tapiq_dev_display(dev, text);
        memset(text + n, 0, need - fixed - n); /* the NUL and the padding */
        lpDisplay->dwStringSize = n + 1;
        lpDisplay->dwStringOffset = fixed;
        lpDisplay->dwUsedSize = need;
    }
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetRing(HPHONE hPhone, LPDWORD lpdwRingMode, LPDWORD lpdwVolume)
{
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    uint32_t mode, volume;
    LONG rc = enter_getter(hPhone, lpdwRingMode && lpdwVolume ? lpdwRingMode : NULL, &hs, &dev);
    if (rc)
        goto out;
    if (!dev->ext || !dev->ext->ring_modes) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    tapiq_dev_ring(dev, &mode, &volume);
    *lpdwRingMode = mode;
    *lpdwVolume = volume;
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetHookSwitch(HPHONE hPhone, LPDWORD lpdwHookSwitchDevs)
{
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    LONG rc = enter_getter(hPhone, lpdwHookSwitchDevs, &hs, &dev);
    if (rc)
        goto out;
    if (!dev->ext || !dev->ext->hs_devs) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    *lpdwHookSwitchDevs = tapiq_dev_offhook(dev);
out:
    tapiq_guard_exit();
    return rc;
}

/* phoneGetVolume / phoneGetGain: @gain selects which. */
static LONG get_level(HPHONE hPhone, DWORD dwHookSwitchDev, LPDWORD out, int gain)
{
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    uint32_t devs, i;
    LONG rc = enter_getter(hPhone, out, &hs, &dev);
    if (rc)
        goto out;
    devs = !dev->ext ? 0 : gain ? dev->ext->gain_devs : dev->ext->volume_devs;
    if (!devs) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    if (!dwHookSwitchDev || (dwHookSwitchDev & (dwHookSwitchDev - 1)) ||
        !(dwHookSwitchDev & devs)) {
        rc = (LONG)PHONEERR_INVALHOOKSWITCHDEV;
        goto out;
    }
    i = (uint32_t)__builtin_ctz(dwHookSwitchDev);
    *out = gain ? tapiq_dev_gain(dev, i) : tapiq_dev_volume(dev, i);
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneGetVolume(HPHONE hPhone, DWORD dwHookSwitchDev, LPDWORD lpdwVolume)
{
    return get_level(hPhone, dwHookSwitchDev, lpdwVolume, 0);
}

TAPIQ_API LONG phoneGetGain(HPHONE hPhone, DWORD dwHookSwitchDev, LPDWORD lpdwGain)
{
    return get_level(hPhone, dwHookSwitchDev, lpdwGain, 1);
}

TAPIQ_API LONG phoneGetData(HPHONE hPhone, DWORD dwDataID, LPVOID lpData, DWORD dwSize)
{
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    LONG rc = enter_getter(hPhone, lpData, &hs, &dev);
    if (rc)
        goto out;
    if (!dev->ext || !dev->ext->ndata) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    if (dwDataID >= dev->ext->ndata) {
        rc = (LONG)PHONEERR_INVALDATAID;
        goto out;
    }
    if (dwSize > dev->ext->data_size[dwDataID])
        dwSize = dev->ext->data_size[dwDataID];
    tapiq_dev_data(dev, dwDataID, lpData, dwSize);
out:
    tapiq_guard_exit();
    return rc;
}
