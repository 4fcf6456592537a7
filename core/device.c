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

static size_t line_up(size_t n)
{
    return (n + TAPIQ_CACHELINE - 1) / TAPIQ_CACHELINE * TAPIQ_CACHELINE;
}

/* Per device, four arrays each on cache lines of its own: modes (read per
 * request), lamp (written on changes), the batch's updates and positions. */
static size_t arrays_size(uint32_t nlamps)
{
    size_t l = nlamps ? nlamps : 1;
    return line_up(l * sizeof(uint32_t)) + line_up(l * sizeof(_Atomic uint32_t)) +
           line_up(l * sizeof(tapiq_update)) + line_up(l * sizeof(int32_t));
}

int tapiq_devs_alloc(struct tapiq_rt *rt)
{
    rt->devs = tapiq_aligned_alloc(TAPIQ_CACHELINE, sizeof(*rt->devs) * rt->cfg.devices);
    if (!rt->devs)
        return -ENOMEM;
    memset(rt->devs, 0, sizeof(*rt->devs) * rt->cfg.devices);
    /* One block for every device's arrays of `lamps` lamps: one mapping,
     * given back whole at the last shutdown (millions of small blocks would
     * stay in the heap). A device with more lamps gets arrays of its own. */
    rt->dev_stride = arrays_size(rt->cfg.lamps);
    rt->dev_arena = tapiq_aligned_alloc(TAPIQ_CACHELINE, rt->dev_stride * rt->cfg.devices);
    if (!rt->dev_arena) {
        free(rt->devs);
        rt->devs = NULL;
        return -ENOMEM;
    }
    return 0;
}

void tapiq_devs_free(struct tapiq_rt *rt)
{
    if (!rt->devs)
        return;
    for (uint32_t i = 0; i < rt->cfg.devices; i++) {
        struct tapiq_dev *d = &rt->devs[i];
        if (d->own_arrays)
            free(d->modes); /* one block: modes first */
        free(atomic_load_explicit(&d->subs, memory_order_relaxed));
    }
    free(rt->dev_arena);
    free(rt->devs);
    rt->dev_arena = NULL;
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
    {
        size_t l = nlamps ? nlamps : 1;
        unsigned char *p;
        if (nlamps <= rt->cfg.lamps) {
            p = rt->dev_arena + rt->dev_stride * rt->ndev;
        } else {
            p = tapiq_aligned_alloc(TAPIQ_CACHELINE, arrays_size(nlamps));
            if (!p)
                return -ENOMEM;
            d->own_arrays = 1;
        }
        d->modes = (uint32_t *)p;
        p += line_up(l * sizeof(uint32_t));
        d->lamp = (_Atomic uint32_t *)p;
        p += line_up(l * sizeof(_Atomic uint32_t));
        d->batch.upd = (tapiq_update *)p;
        p += line_up(l * sizeof(tapiq_update));
        d->batch.lamp_pos = (int32_t *)p;
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
