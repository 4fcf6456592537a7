/* core/device.h - devices (consoles): lamps, connection state, batches.
 *
 * A device belongs to one worker (id % workers). Its pending list and batch
 * are that worker's alone (no atomics). Shared fields:
 *  - lamp[]: written by the device's worker when a batch completes
 *    (tapiq_dev_set_lamp_worker), read by any thread (tapiq_dev_lamp);
 *  - connected: written by the backend (tapiq_host_set_connected), read by
 *    any thread;
 *  - nowners/nmonitors: written under g_lock by open/close, read by any
 *    thread (PHONESTATUS);
 *  - subs: the handle module's field (core/handle.c), stored here because
 *    there is one list per device.
 * Synchronization table: every reader with every writer, lock-free; the
 * writers of one field are serialised as listed. Progress: wait-free.
 */
#ifndef TAPIQ_CORE_DEVICE_H
#define TAPIQ_CORE_DEVICE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/mpmc.h"
#include "tapiq/tapi.h"
#include "tapiq/tapiq.h"

struct tapiq_rt;
struct tapiq_subs;

/* A device batch: the pending requests of one device handed to the backend
 * at once. Owned by the device's worker until apply(), then by the backend
 * until tapiq_batch_complete(), then by the worker again. */
struct tapiq_batch {
    struct tapiq_rt *rt;
    struct tapiq_dev *dev;
    struct tapiq_batch *next_done; /* the worker's completion list */
    uint32_t first;     /* first request (worker cell index), chained by next[] */
    uint32_t nreqs;
    uint32_t nupd;
    tapiq_update *upd;  /* nlamps entries */
    int32_t *lamp_pos;  /* per lamp: index in upd, or -1 */
};

struct tapiq_dev {
    /* Read per request, written rarely. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t connected; /* 0/1 */
    uint32_t id;
    uint32_t nlamps;
    uint32_t worker;            /* id % workers */
    uint32_t modes_all;         /* the modes of every lamp when all lamps have the
                                   same and none is a dummy, else 0 (then modes[]) */
    uint32_t *modes;            /* supported modes per lamp (immutable) */
    _Atomic uint32_t *lamp;     /* current mode per lamp */
    _Atomic(struct tapiq_subs *) subs; /* core/handle.c's */
    /* Written by open/close. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t nowners, nmonitors;
    /* The worker's alone. */
    alignas(TAPIQ_CACHELINE) uint32_t pend_first, pend_last, npend;
    uint8_t queued;             /* listed in the worker's touched list */
    uint8_t busy;               /* a batch is at the backend */
    uint8_t own_arrays;         /* lamp arrays allocated apart from the arena */
    struct tapiq_batch batch;
};

/* The current mode of @lamp (< nlamps). acquire: pairs with the release in
 * tapiq_dev_set_lamp_worker(), so a reply seen before means its mode is. */
static inline uint32_t tapiq_dev_lamp(struct tapiq_dev *d, uint32_t lamp)
{
    return atomic_load_explicit(&d->lamp[lamp], memory_order_acquire);
}

/* The device's worker only: store @mode; returns 1 if the lamp changed. */
static inline int tapiq_dev_set_lamp_worker(struct tapiq_dev *d, uint32_t lamp, uint32_t mode)
{
    /* relaxed: only the device's worker writes the lamp. */
    if (atomic_load_explicit(&d->lamp[lamp], memory_order_relaxed) == mode)
        return 0;
    /* release: pairs with the acquire in tapiq_dev_lamp(). */
    atomic_store_explicit(&d->lamp[lamp], mode, memory_order_release);
    return 1;
}

/* relaxed: a status flag with no data behind it. */
static inline int tapiq_dev_connected(struct tapiq_dev *d)
{
    return (int)atomic_load_explicit(&d->connected, memory_order_relaxed);
}

/* The connection state for a PHONE_STATE message. acquire: pairs with the
 * acq_rel exchange in tapiq_host_set_connected(). */
static inline int tapiq_dev_connected_acquire(struct tapiq_dev *d)
{
    return (int)atomic_load_explicit(&d->connected, memory_order_acquire);
}

/* Owners and monitors (PHONESTATUS); add is +1 or -1, under g_lock. */
void tapiq_dev_count_handle(struct tapiq_dev *d, uint32_t priv, int add);
void tapiq_dev_counts(struct tapiq_dev *d, uint32_t *owners, uint32_t *monitors);

/* The device table of @rt: allocated zeroed by tapiq_devs_alloc (devices are
 * added by the backend's start through tapiq_host_add_device). 0 or -ENOMEM. */
int tapiq_devs_alloc(struct tapiq_rt *rt);
void tapiq_devs_free(struct tapiq_rt *rt);

#endif /* TAPIQ_CORE_DEVICE_H */
