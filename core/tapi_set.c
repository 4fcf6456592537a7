/* core/tapi_set.c - the TAPI boundary, continued: the asynchronous phoneSet*
 * functions besides phoneSetLamp, and phoneDevSpecific. Each validates its
 * arguments against the device's attributes (core/device.h), in the order
 * documented in <tapiq/tapi.h>, then takes a slot of the payload pool of
 * the device's worker (core/payload.h), fills it and submits a 16-byte
 * entry that names it through the calling thread's ring, as phoneSetLamp
 * does: a positive request id, then exactly one PHONE_REPLY. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/device.h"
#include "core/guard.h"
#include "core/handle.h"
#include "core/issuer.h"
#include "core/payload.h"
#include "core/runtime.h"
#include "core/tapi_boundary.h"
#include "core/worker.h"

/* One attribute request, validated; @data/@size the bytes to copy (a W
 * button text arrives converted). */
struct req {
    uint32_t kind, id, a, b;
    const void *data;
    uint32_t size;
};

/* Enter for a setter: UNINITIALIZED, INVALPHONEHANDLE, NOTOWNER. The caller
 * leaves with tapiq_guard_exit(). */
static LONG enter_setter(HPHONE hPhone, struct tapiq_rt **rtp, struct tapiq_handle **hsp,
                         struct tapiq_dev **devp)
{
    LONG rc = tapiq_enter_handle(hPhone, rtp, hsp);
    if (rc)
        return rc;
    if ((*hsp)->priv != PHONEPRIVILEGE_OWNER)
        return (LONG)PHONEERR_NOTOWNER;
    *devp = &(*rtp)->devs[(*hsp)->dev];
    return 0;
}

/* The end of every setter: INVALPARAM when the payload can never fit a
 * slot (the `payload_bytes` key), INVALPHONESTATE, then a payload slot and
 * room in the ring (RESOURCEUNAVAIL when either is exhausted). In the
 * read-side section. */
static LONG submit(struct tapiq_rt *rt, HPHONE hPhone, struct tapiq_dev *dev,
                   const struct req *r)
{
    struct tapiq_pool *pl = &rt->pools[dev->worker];
    struct tapiq_payload *p;
    struct tapiq_sqe e;
    struct tapiq_sq *q;
    uint32_t slot, pos;
    if (r->size > pl->slot_bytes)
        return (LONG)PHONEERR_INVALPARAM;
    if (!tapiq_dev_connected(dev))
        return (LONG)PHONEERR_INVALPHONESTATE;
    q = tapiq_issuer_ring(rt, dev->worker); /* the thread's ring row, as phoneSetLamp takes it */
    if (tapiq_pool_get_try(pl, &slot))
        return (LONG)PHONEERR_RESOURCEUNAVAIL;
    p = tapiq_pool_rec(pl, slot);
    p->kind = r->kind;
    p->id = r->id;
    p->a = r->a;
    p->b = r->b;
    p->size = r->size;
    if (r->size)
        memcpy(tapiq_pool_bytes(pl, slot), r->data, r->size);
    e.handle = hPhone;
    e.dev = dev->id;
    e.lamp = TAPIQ_SQE_ATTR;
    e.mode = (uint16_t)slot;
    /* The ring's release store publishes the slot's contents with the entry. */
    if ((q->mpsc ? tapiq_sq_push_mpsc(q, &e, &pos) : tapiq_sq_push_spsc(q, &e, &pos)) != 0) {
        tapiq_pool_put(pl, slot);
        return (LONG)PHONEERR_RESOURCEUNAVAIL;
    }
    tapiq_worker_kick(&rt->workers[dev->worker]);
    return (LONG)tapiq_sq_id(q, pos);
}

static int one_bit(uint32_t v)
{
    return v && !(v & (v - 1));
}

/* ------------------------------------------------------------ display */

TAPIQ_API LONG phoneSetDisplay(HPHONE hPhone, DWORD dwRow, DWORD dwColumn, LPCSTR lpsDisplay,
                               DWORD dwSize)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct req r = {TAPIQ_ATTR_DISPLAY, 0, dwRow, dwColumn, lpsDisplay, 0};
    LONG rc = enter_setter(hPhone, &rt, &hs, &dev);
    if (rc)
        goto out;
    if (!lpsDisplay && dwSize) {
        rc = (LONG)PHONEERR_INVALPOINTER;
    } else if (!dev->ext || !dev->ext->rows) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
    } else if (dwRow >= dev->ext->rows || dwColumn >= dev->ext->cols) {
        rc = (LONG)PHONEERR_INVALPARAM;
    } else {
        /* Up to the first NUL (the SDK counts it in dwSize), and no further
         * than the display's last character. */
        uint32_t left = (dev->ext->rows - dwRow) * dev->ext->cols - dwColumn;
        const char *nul = dwSize ? memchr(lpsDisplay, '\0', dwSize) : NULL;
        r.size = nul ? (uint32_t)(nul - lpsDisplay) : dwSize;
        if (r.size > left)
            r.size = left;
        rc = submit(rt, hPhone, dev, &r);
    }
out:
    tapiq_guard_exit();
    return rc;
}

/* --------------------------------------------------------------- ring */

TAPIQ_API LONG phoneSetRing(HPHONE hPhone, DWORD dwRingMode, DWORD dwVolume)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct req r = {TAPIQ_ATTR_RING, 0, dwRingMode, dwVolume, NULL, 0};
    LONG rc = enter_setter(hPhone, &rt, &hs, &dev);
    if (rc)
        goto out;
    if (!dev->ext || !dev->ext->ring_modes)
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
    else if (dwRingMode > dev->ext->ring_modes)
        rc = (LONG)PHONEERR_INVALRINGMODE;
    else if (dwVolume > 0xFFFFu)
        rc = (LONG)PHONEERR_INVALPARAM;
    else
        rc = submit(rt, hPhone, dev, &r);
out:
    tapiq_guard_exit();
    return rc;
}

/* --------------------------------------------------------- hookswitch */

TAPIQ_API LONG phoneSetHookSwitch(HPHONE hPhone, DWORD dwHookSwitchDevs, DWORD dwHookSwitchMode)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct req r = {TAPIQ_ATTR_HOOKSWITCH, dwHookSwitchDevs, dwHookSwitchMode, 0, NULL, 0};
    LONG rc = enter_setter(hPhone, &rt, &hs, &dev);
    if (rc)
        goto out;
    if (!dev->ext || !dev->ext->hs_devs) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
    } else if (!dwHookSwitchDevs || (dwHookSwitchDevs & ~dev->ext->hs_devs)) {
        rc = (LONG)PHONEERR_INVALHOOKSWITCHDEV;
    } else {
        /* One mode, supported by every device named. */
        int ok = one_bit(dwHookSwitchMode) && dwHookSwitchMode != PHONEHOOKSWITCHMODE_UNKNOWN;
        for (uint32_t i = 0; ok && i < TAPIQ_HOOKSWITCH_DEVS; i++)
            if ((dwHookSwitchDevs & (1u << i)) && !(dev->ext->hs_modes[i] & dwHookSwitchMode))
                ok = 0;
        rc = ok ? submit(rt, hPhone, dev, &r) : (LONG)PHONEERR_INVALHOOKSWITCHMODE;
    }
out:
    tapiq_guard_exit();
    return rc;
}

/* ------------------------------------------------------- volume / gain */

static LONG set_level(HPHONE hPhone, uint32_t kind, DWORD dwHookSwitchDev, DWORD dwLevel)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct req r = {kind, dwHookSwitchDev, dwLevel, 0, NULL, 0};
    uint32_t devs;
    LONG rc = enter_setter(hPhone, &rt, &hs, &dev);
    if (rc)
        goto out;
    devs = !dev->ext ? 0 : kind == TAPIQ_ATTR_VOLUME ? dev->ext->volume_devs : dev->ext->gain_devs;
    if (!devs)
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
    else if (!one_bit(dwHookSwitchDev) || !(dwHookSwitchDev & devs))
        rc = (LONG)PHONEERR_INVALHOOKSWITCHDEV;
    else if (dwLevel > 0xFFFFu)
        rc = (LONG)PHONEERR_INVALPARAM;
    else
        rc = submit(rt, hPhone, dev, &r);
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneSetVolume(HPHONE hPhone, DWORD dwHookSwitchDev, DWORD dwVolume)
{
    return set_level(hPhone, TAPIQ_ATTR_VOLUME, dwHookSwitchDev, dwVolume);
}

TAPIQ_API LONG phoneSetGain(HPHONE hPhone, DWORD dwHookSwitchDev, DWORD dwGain)
{
    return set_level(hPhone, TAPIQ_ATTR_GAIN, dwHookSwitchDev, dwGain);
}

/* --------------------------------------------------------------- data */

TAPIQ_API LONG phoneSetData(HPHONE hPhone, DWORD dwDataID, LPVOID const lpData, DWORD dwSize)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct req r = {TAPIQ_ATTR_DATA, dwDataID, 0, 0, lpData, dwSize};
    LONG rc = enter_setter(hPhone, &rt, &hs, &dev);
    if (rc)
        goto out;
    if (!lpData && dwSize) {
        rc = (LONG)PHONEERR_INVALPOINTER;
    } else if (!dev->ext || !dev->ext->ndata) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
    } else if (dwDataID >= dev->ext->ndata) {
        rc = (LONG)PHONEERR_INVALDATAID;
    } else {
        if (r.size > dev->ext->data_size[dwDataID]) /* as phoneGetData: the area's first bytes */
            r.size = dev->ext->data_size[dwDataID];
        rc = submit(rt, hPhone, dev, &r);
    }
out:
    tapiq_guard_exit();
    return rc;
}

/* -------------------------------------------------------- devspecific */

TAPIQ_API LONG phoneDevSpecific(HPHONE hPhone, LPVOID lpParams, DWORD dwSize)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    struct req r = {TAPIQ_ATTR_DEVSPECIFIC, 0, 0, 0, lpParams, dwSize};
    LONG rc = enter_setter(hPhone, &rt, &hs, &dev);
    if (rc)
        goto out;
    if (!lpParams && dwSize)
        rc = (LONG)PHONEERR_INVALPOINTER;
    else
        rc = submit(rt, hPhone, dev, &r);
out:
    tapiq_guard_exit();
    return rc;
}

/* --------------------------------------------------------- button info */

/* Does [off, off + size) lie in the structure's dwTotalSize? */
static int var_in(const PHONEBUTTONINFO *bi, DWORD size, DWORD off)
{
    return size == 0 || ((uint64_t)off + size <= bi->dwTotalSize && off >= TAPIQ_VARSIZE_HEAD);
}

static LONG set_button_info(HPHONE hPhone, DWORD id, const PHONEBUTTONINFO *bi, int wide)
{
    struct tapiq_rt *rt;
    struct tapiq_handle *hs;
    struct tapiq_dev *dev;
    char text[TAPIQ_MAX_BUTTON_TEXT + 1];
    struct req r = {TAPIQ_ATTR_BUTTONINFO, id, 0, 0, text, 0};
    DWORD fixed, tsize, toff;
    LONG rc = enter_setter(hPhone, &rt, &hs, &dev);
    if (rc)
        goto out;
    if (!bi) {
        rc = (LONG)PHONEERR_INVALPOINTER;
        goto out;
    }
    if (!dev->ext || dev->nlamps == 0) {
        rc = (LONG)PHONEERR_OPERATIONUNAVAIL;
        goto out;
    }
    if (id >= dev->nlamps) {
        rc = (LONG)PHONEERR_INVALBUTTONLAMPID;
        goto out;
    }
    fixed = hs->api_version >= TAPI_VERSION1_4 ? sizeof(PHONEBUTTONINFO)
                                               : offsetof(PHONEBUTTONINFO, dwButtonState);
    if (bi->dwTotalSize < fixed) {
        rc = (LONG)PHONEERR_STRUCTURETOOSMALL;
        goto out;
    }
    if (!one_bit(bi->dwButtonMode) || (bi->dwButtonMode & ~0x3Fu)) {
        rc = (LONG)PHONEERR_INVALBUTTONMODE;
        goto out;
    }
    tsize = bi->dwButtonTextSize;
    toff = bi->dwButtonTextOffset;
    if (bi->dwButtonFunction > PHONEBUTTONFUNCTION_SEND || !var_in(bi, tsize, toff) ||
        !var_in(bi, bi->dwDevSpecificSize, bi->dwDevSpecificOffset)) {
        rc = (LONG)PHONEERR_INVALPARAM;
        goto out;
    }
    /* The text, to its first NUL: A bytes as they are (UTF-8), W UTF-16
     * units converted. Longer than the device's button text: INVALPARAM. */
    if (!wide) {
        const char *s = (const char *)bi + toff;
        const char *nul = tsize ? memchr(s, '\0', tsize) : NULL;
        size_t n = nul ? (size_t)(nul - s) : tsize;
        if (n > dev->ext->text_max) {
            rc = (LONG)PHONEERR_INVALPARAM;
            goto out;
        }
        memcpy(text, s, n);
        r.size = (uint32_t)n;
    } else {
        uint16_t units[TAPIQ_MAX_BUTTON_TEXT + 1];
        size_t n = 0, len;
        const unsigned char *s = (const unsigned char *)bi + toff;
        while (n < tsize / 2 && n < TAPIQ_MAX_BUTTON_TEXT) {
            memcpy(&units[n], s + 2 * n, 2);
            if (!units[n])
                break;
            n++;
        }
        if (n == TAPIQ_MAX_BUTTON_TEXT && n < tsize / 2) {
            uint16_t next;
            memcpy(&next, s + 2 * n, 2);
            if (next) { /* more units than any button text may have */
                rc = (LONG)PHONEERR_INVALPARAM;
                goto out;
            }
        }
        units[n] = 0;
        len = tapiq_utf16_to_utf8(units, text, sizeof(text));
        if (len > dev->ext->text_max) {
            rc = (LONG)PHONEERR_INVALPARAM;
            goto out;
        }
        r.size = (uint32_t)len;
    }
    r.a = bi->dwButtonMode;
    r.b = bi->dwButtonFunction;
    rc = submit(rt, hPhone, dev, &r);
out:
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API LONG phoneSetButtonInfo(HPHONE hPhone, DWORD dwButtonLampID,
                                  LPPHONEBUTTONINFO const lpButtonInfo)
{
    return set_button_info(hPhone, dwButtonLampID, lpButtonInfo, 0);
}

TAPIQ_API LONG phoneSetButtonInfoA(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO const lpButtonInfo)
{
    return set_button_info(hPhone, dwButtonLampID, lpButtonInfo, 0);
}

TAPIQ_API LONG phoneSetButtonInfoW(HPHONE hPhone, DWORD dwButtonLampID,
                                   LPPHONEBUTTONINFO const lpButtonInfo)
{
    return set_button_info(hPhone, dwButtonLampID, lpButtonInfo, 1);
}
