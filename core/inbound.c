/* core/inbound.c - the provider's inbound event calls: what the operator did
 * at the console (tapiq_host_button, tapiq_host_hookswitch; <tapiq/tapiq.h>).
 *
 * Concurrency: any thread, any time between the backend's start and the end
 * of its stop, concurrently with everything (the device table is fixed once
 * start returned). Each call works in a read-side section and touches only
 * the device's atomics (core/device.c) and the handles' tokens
 * (core/handle.c). Progress: lock-free (a CAS loop on the hookswitch word,
 * the handles' unit counters).
 */
#include <errno.h>
#include <stdint.h>

#include "core/device.h"
#include "core/guard.h"
#include "core/handle.h"
#include "core/runtime.h"

static int one_bit(uint32_t v, uint32_t mask)
{
    return v && !(v & (v - 1)) && (v & mask) == v;
}

TAPIQ_API int tapiq_host_button(tapiq_host *host, uint32_t device, uint32_t button, uint32_t state)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    struct tapiq_button b;
    struct tapiq_dev *d;
    uint32_t missed;
    if (!rt || device >= rt->ndev)
        return -EINVAL;
    d = &rt->devs[device];
    if (button >= d->nlamps ||
        (state != PHONEBUTTONSTATE_UP && state != PHONEBUTTONSTATE_DOWN))
        return -EINVAL;
    tapiq_guard_enter();
    tapiq_dev_button(d, button, &b);
    missed = b.mode == PHONEBUTTONMODE_DUMMY
                 ? UINT32_MAX
                 : tapiq_notify_button(rt, d, button, b.mode, state);
    tapiq_guard_exit();
    if (missed == UINT32_MAX)
        return -EINVAL; /* a lamp without a button */
    return missed ? -ENOBUFS : 0;
}

TAPIQ_API int tapiq_host_hookswitch(tapiq_host *host, uint32_t device, uint32_t hookswitch_dev,
                                    uint32_t mode)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    struct tapiq_dev *d;
    uint32_t i, changed;
    if (!rt || device >= rt->ndev)
        return -EINVAL;
    d = &rt->devs[device];
    if (!d->ext || !one_bit(hookswitch_dev, d->ext->hs_devs))
        return -EINVAL;
    i = (uint32_t)__builtin_ctz(hookswitch_dev);
    if (!one_bit(mode, d->ext->hs_modes[i]))
        return -EINVAL;
    changed = tapiq_dev_set_hookswitch_worker(d, hookswitch_dev, mode);
    if (changed) {
        tapiq_guard_enter();
        tapiq_notify_states(rt, d, changed);
        tapiq_guard_exit();
    }
    return 0;
}
