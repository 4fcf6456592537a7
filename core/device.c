/* core/device.c - devices and the provider's host calls; see device.h. */
#include "core/device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/guard.h"
#include "core/handle.h"
#include "core/runtime.h"

void tapiq_dev_count_handle(struct tapiq_dev *d, uint32_t priv, int add)
{
    _Atomic uint32_t *c = priv == PHONEPRIVILEGE_OWNER ? &d->nowners : &d->nmonitors;
    /* relaxed: plain counters for PHONESTATUS (writers hold g_lock). */
    if (add > 0)
        atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(c, 1, memory_order_relaxed);
}

void tapiq_dev_counts(struct tapiq_dev *d, uint32_t *owners, uint32_t *monitors)
{
    /* relaxed: plain counters. */
    *owners = atomic_load_explicit(&d->nowners, memory_order_relaxed);
    *monitors = atomic_load_explicit(&d->nmonitors, memory_order_relaxed);
}

int tapiq_devs_alloc(struct tapiq_rt *rt)
{
    rt->devs = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->devs) * rt->cfg.devices);
    if (!rt->devs)
        return -ENOMEM;
    memset(rt->devs, 0, sizeof(*rt->devs) * rt->cfg.devices);
    return 0;
}

void tapiq_devs_free(struct tapiq_rt *rt)
{
    if (!rt->devs)
        return;
    for (uint32_t i = 0; i < rt->cfg.devices; i++) {
        struct tapiq_dev *d = &rt->devs[i];
        free(d->modes);
        free(d->lamp);
        free(d->batch.upd);
        free(d->batch.lamp_pos);
        free(atomic_load_explicit(&d->subs, memory_order_relaxed));
    }
    free(rt->devs);
    rt->devs = NULL;
}

TAPIQ_API int tapiq_host_add_device(tapiq_host *host, uint32_t nlamps, const uint32_t *lamp_modes,
                                    int connected)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    struct tapiq_dev *d;
    const uint32_t all = PHONELAMPMODE_OFF | PHONELAMPMODE_STEADY | PHONELAMPMODE_WINK |
                         PHONELAMPMODE_FLASH | PHONELAMPMODE_FLUTTER |
                         PHONELAMPMODE_BROKENFLUTTER;
    if (!rt || nlamps > TAPIQ_MAX_LAMPS)
        return -EINVAL;
    if (rt->ndev >= rt->cfg.devices)
        return -ENOSPC;
    d = &rt->devs[rt->ndev];
    /* Each array on cache lines of its own: modes is read per request,
     * lamp is written on changes, the batch arrays per batch. */
    d->modes = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(uint32_t));
    d->lamp = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(*d->lamp));
    d->batch.upd = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(tapiq_update));
    d->batch.lamp_pos = tapiq_aligned_alloc(TAPIQ_CACHELINE, (nlamps ? nlamps : 1) * sizeof(int32_t));
    if (!d->modes || !d->lamp || !d->batch.upd || !d->batch.lamp_pos) {
        free(d->modes);
        free(d->lamp);
        free(d->batch.upd);
        free(d->batch.lamp_pos);
        memset(d, 0, sizeof(*d));
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < nlamps; i++) {
        uint32_t m = lamp_modes ? lamp_modes[i] : all;
        if (m & PHONELAMPMODE_DUMMY)
            m = PHONELAMPMODE_DUMMY;
        d->modes[i] = m & (PHONELAMPMODE_DUMMY | all);
        atomic_init(&d->lamp[i], m == PHONELAMPMODE_DUMMY ? PHONELAMPMODE_DUMMY
                                                          : PHONELAMPMODE_OFF);
        d->batch.lamp_pos[i] = -1;
    }
    d->modes_all = nlamps ? d->modes[0] : 0;
    for (uint32_t i = 0; i < nlamps; i++)
        if (d->modes[i] != d->modes_all || d->modes[i] == PHONELAMPMODE_DUMMY)
            d->modes_all = 0;
    d->id = rt->ndev;
    d->worker = rt->ndev % rt->cfg.workers;
    d->nlamps = nlamps;
    d->batch.rt = rt;
    d->batch.dev = d;
    atomic_init(&d->connected, connected ? 1 : 0);
    atomic_init(&d->subs, NULL);
    atomic_init(&d->nowners, 0);
    atomic_init(&d->nmonitors, 0);
    return (int)rt->ndev++;
}

TAPIQ_API int tapiq_host_set_connected(tapiq_host *host, uint32_t device, int connected)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    struct tapiq_dev *d;
    uint32_t v = connected ? 1 : 0;
    if (!rt || device >= rt->ndev)
        return -EINVAL;
    d = &rt->devs[device];
    /* acq_rel: one caller per change posts the notification. */
    if (atomic_exchange_explicit(&d->connected, v, memory_order_acq_rel) == v)
        return 0;
    tapiq_guard_enter();
    tapiq_notify_states(rt, d, v ? PHONESTATE_CONNECTED : PHONESTATE_DISCONNECTED);
    tapiq_guard_exit();
    return 0;
}
