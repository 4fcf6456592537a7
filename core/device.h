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
 *    there is one list per device;
 *  - ext (the other attributes: display, ring, hookswitch devices, buttons,
 *    data areas; NULL for a device with lamps only): its shape is immutable
 *    once the backend's start returned; its state is written by the
 *    device's worker (the tapiq_dev_set_*_worker calls) and read by any
 *    thread (the getters); the hookswitch word also by the backend's
 *    inbound reports (core/inbound.c). Scalars are single atomics (ring
 *    mode and volume one 64-bit word, the three hookswitch modes one word); the display,
 *    each button and each data area are snapshot cells (core/snap.h).
 * Synchronization table: every reader with every writer, lock-free; the
 * writers of one field are serialised as listed. Progress: wait-free, but
 * the readers of a snapshot cell, which are lock-free (a reader copies again
 * only after a write was published meanwhile).
 */
#ifndef TAPIQ_CORE_DEVICE_H
#define TAPIQ_CORE_DEVICE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/mpmc.h"
#include "core/snap.h"
#include "tapiq/tapi.h"
#include "tapiq/tapiq.h"

struct tapiq_rt;
struct tapiq_subs;

#define TAPIQ_MAX_DISPLAY 4096u    /* rows x columns */
#define TAPIQ_MAX_RING_MODES 255u
#define TAPIQ_MAX_DATA_AREAS 64u
#define TAPIQ_MAX_DATA_SIZE 65536u /* bytes of one data area */
#define TAPIQ_MAX_BUTTON_TEXT 255u

/* Hookswitch devices by index: 0 handset, 1 speaker, 2 headset
 * (PHONEHOOKSWITCHDEV_* == 1 << index). */
#define TAPIQ_HOOKSWITCH_DEVS 3u

/* A button/lamp position as the getters see it. */
struct tapiq_button {
    uint32_t mode;     /* PHONEBUTTONMODE_* */
    uint32_t function; /* PHONEBUTTONFUNCTION_* */
    uint32_t state;    /* PHONEBUTTONSTATE_* */
    uint32_t text_len; /* bytes of text (no NUL) */
    char text[TAPIQ_MAX_BUTTON_TEXT + 1]; /* UTF-8, NUL-terminated */
};

/* The attributes of a device besides its lamps (tapiq_host_set_device_attrs).
 * Shape: immutable after the backend's start. State: see the table above. */
struct tapiq_dev_ext {
    uint32_t rows, cols;           /* display; 0 x 0: none */
    uint32_t ring_modes;           /* 0: no ringer */
    uint32_t hs_devs;              /* PHONEHOOKSWITCHDEV_* */
    uint32_t hs_modes[TAPIQ_HOOKSWITCH_DEVS]; /* supported PHONEHOOKSWITCHMODE_* */
    uint32_t volume_devs, gain_devs;
    uint32_t ndata;
    uint32_t text_max;             /* longest button text */
    uint32_t nbuttons;             /* = the device's nlamps */
    uint32_t *data_size;           /* ndata */
    struct tapiq_snap display;     /* rows x cols bytes */
    struct tapiq_snap *button;     /* nbuttons cells: a record (device.c) + text */
    struct tapiq_snap *data;       /* ndata cells */
    /* Written by the device's worker, read by any thread. */
    alignas(TAPIQ_CACHELINE) _Atomic uint64_t ring; /* mode << 32 | volume */
    _Atomic uint32_t hook;         /* mode of device i in bits 8i .. 8i+7 */
    _Atomic uint32_t volume[TAPIQ_HOOKSWITCH_DEVS], gain[TAPIQ_HOOKSWITCH_DEVS];
};

/* A device batch: the pending requests of one device handed to the backend
 * at once. Owned by the device's worker until apply(), then by the backend
 * until tapiq_batch_complete(), then by the worker again. */
struct tapiq_batch {
    struct tapiq_rt *rt;
    struct tapiq_batch *next_done; /* the worker's completion list */
    tapiq_update *upd;  /* &one, or the device's upd_arena */
    uint32_t first;     /* first request (worker cell index), chained by next[] */
    uint32_t nreqs;
    uint16_t nupd;      /* <= nlamps <= 0xffff */
    uint16_t nattr;     /* attribute updates (tapiq_batch_attr_array), <= 8 */
    tapiq_update one;   /* the update of a batch of one lamp request: in the
                           device's worker line, not a line of the arena */
};

/* Bytes of @n, rounded up to whole cache lines (the device arrays). */
#define TAPIQ_LINE_UP(n) (((size_t)(n) + TAPIQ_CACHELINE - 1) / TAPIQ_CACHELINE * TAPIQ_CACHELINE)

struct tapiq_dev {
    /* Read per request, written rarely. */
    /* 0: disconnected; connected: (modes_all << 1) | 1 (tapiq_dev_fast_ok()) */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t connected;
    uint32_t id;
    uint32_t nlamps;
    uint32_t worker;            /* id % workers */
    uint32_t modes_all;         /* the modes of every lamp when all lamps have the
                                   same and none is a dummy, else 0 (then modes[]) */
    uint8_t own_arrays;         /* lamp arrays allocated apart from the arena */
    uint32_t *modes;            /* supported modes per lamp (immutable) */
    _Atomic uint8_t *lamp;      /* current mode per lamp (every PHONELAMPMODE_* fits a
                                   byte: 64 lamps are one cache line) */
    _Atomic(struct tapiq_subs *) subs; /* core/handle.c's */
    struct tapiq_dev_ext *ext;  /* other attributes, or NULL (lamps only) */
    tapiq_update *upd_arena;    /* nlamps updates for batches of several; then
                                   lamp_pos (tapiq_batch_lamp_pos()) */
    /* Written by open/close. (alignas() applies to one declarator: a list
     * after it would put every name on a line of its own.) */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t nowners;
    _Atomic uint32_t nmonitors;
    /* The worker's alone, one line: what a request costs the worker. */
    alignas(TAPIQ_CACHELINE) uint32_t pend_first;
    uint32_t pend_last, npend;
    uint8_t queued;             /* listed in the worker's touched list */
    uint8_t busy;               /* a batch is at the backend */
    uint16_t lp_gen;            /* lamp_pos stamp of the last batch (core/worker.c) */
    struct tapiq_batch batch;
};
_Static_assert(offsetof(struct tapiq_dev, batch) + sizeof(struct tapiq_batch) -
                       offsetof(struct tapiq_dev, pend_first) <= TAPIQ_CACHELINE,
               "the worker's part of a device is one cache line");
_Static_assert(sizeof(struct tapiq_dev) == 3 * TAPIQ_CACHELINE, "a device is three lines");
_Static_assert(offsetof(struct tapiq_dev, nowners) == TAPIQ_CACHELINE,
               "what a request reads of a device is its first line");

/* The device whose batch @b is (a batch is part of its device). */
static inline struct tapiq_dev *tapiq_batch_dev(const struct tapiq_batch *b)
{
    return (struct tapiq_dev *)((uintptr_t)b - offsetof(struct tapiq_dev, batch));
}

/* Per lamp: lp_gen << 16 | its index in upd, for the batch being filled
 * (entries with another stamp are stale; 0 never matches); then the
 * attribute arrays. In the device's arrays, after upd (core/device.c). */
static inline uint32_t *tapiq_batch_lamp_pos(const struct tapiq_batch *b)
{
    const struct tapiq_dev *d = tapiq_batch_dev(b);
    uint32_t l = d->nlamps ? d->nlamps : 1;
    return (uint32_t *)((unsigned char *)d->upd_arena + TAPIQ_LINE_UP(l * sizeof(tapiq_update)));
}
_Static_assert(TAPIQ_MAX_LAMPS <= 0xffffu, "a lamp's index in upd fits lamp_pos's low half");

/* A batch's attribute updates (TAPIQ_BATCH_ATTRS_MAX entries, in the order
 * of effect), then per entry the payload slot (core/payload.h) of its
 * request: in the device's arrays, after lamp_pos (core/device.c). They are
 * not fields of the batch, so the device stays as small as a lamp-only one
 * (the lamp path reads a device per request). */
static inline tapiq_attr *tapiq_batch_attr_array(const struct tapiq_batch *b)
{
    uint32_t l = tapiq_batch_dev(b)->nlamps;
    if (l == 0)
        l = 1;
    return (tapiq_attr *)((unsigned char *)tapiq_batch_lamp_pos(b) +
                          TAPIQ_LINE_UP(l * sizeof(int32_t)));
}

static inline uint16_t *tapiq_batch_attr_slots(const struct tapiq_batch *b)
{
    return (uint16_t *)(tapiq_batch_attr_array(b) + TAPIQ_BATCH_ATTRS_MAX);
}

/* tapiq_batch_attrs() for the built-in backends: the same (but NULL when
 * *count is 0), without a call through the library's export table: the mem
 * backend's lamp-only batches should not pay for attributes they lack. */
static inline tapiq_attr *tapiq_batch_attrs_inline(struct tapiq_batch *b, size_t *count)
{
    *count = b->nattr;
    return b->nattr ? tapiq_batch_attr_array(b) : NULL;
}

/* tapiq_batch_updates() for the built-in backends, likewise without a call. */
static inline tapiq_update *tapiq_batch_updates_inline(struct tapiq_batch *b, uint32_t *count)
{
    *count = b->nupd;
    return b->upd;
}

static inline int tapiq_batch_has_attrs(const struct tapiq_batch *b)
{
    return b->nattr != 0;
}

/* The current mode of @lamp (< nlamps). acquire: pairs with the release in
 * tapiq_dev_set_lamp_worker(), so a reply seen before means its mode is. */
static inline uint32_t tapiq_dev_lamp(struct tapiq_dev *d, uint32_t lamp)
{
    return atomic_load_explicit(&d->lamp[lamp], memory_order_acquire);
}

/* The device's worker only: store @mode in lamp @lamp of the lamp array
 * @lamps (the device's: tapiq_dev_lamps_worker()); returns 1 if the lamp
 * changed. A loop over one device's updates keeps the array in a local (a
 * byte store may alias anything, so d->lamp would be read again after
 * each). */
_Static_assert(PHONELAMPMODE_UNKNOWN <= 0xFFu, "a lamp's mode is one byte");

static inline int tapiq_lamp_set_worker(_Atomic uint8_t *lamps, uint32_t lamp, uint32_t mode)
{
    /* relaxed: only the device's worker writes the lamp. */
    if (atomic_load_explicit(&lamps[lamp], memory_order_relaxed) == mode)
        return 0;
    /* release: pairs with the acquire in tapiq_dev_lamp(). */
    atomic_store_explicit(&lamps[lamp], (uint8_t)mode, memory_order_release);
    return 1;
}

static inline _Atomic uint8_t *tapiq_dev_lamps_worker(struct tapiq_dev *d)
{
    return d->lamp;
}

static inline int tapiq_dev_set_lamp_worker(struct tapiq_dev *d, uint32_t lamp, uint32_t mode)
{
    return tapiq_lamp_set_worker(d->lamp, lamp, mode);
}

/* The value of `connected` for a connected device: bit 0, and above it the
 * modes every lamp supports (modes_all, one bit up), so that one test of a
 * lamp mode against it tells that the device is connected and every lamp
 * supports the mode (tapiq_dev_fast_ok()). modes_all never holds
 * PHONELAMPMODE_DUMMY (bit 0) and every mode is below bit 31. */
static inline uint32_t tapiq_dev_connected_word(const struct tapiq_dev *d)
{
    return (d->modes_all << 1) | 1u;
}

/* relaxed: a status flag with no data behind it. */
static inline int tapiq_dev_connected(struct tapiq_dev *d)
{
    return atomic_load_explicit(&d->connected, memory_order_relaxed) != 0;
}

/* The connection state for a PHONE_STATE message. acquire: pairs with the
 * acq_rel exchange in tapiq_host_set_connected(). */
static inline int tapiq_dev_connected_acquire(struct tapiq_dev *d)
{
    return atomic_load_explicit(&d->connected, memory_order_acquire) != 0;
}

/* For a fast path: nonzero when @d is connected and every lamp of it
 * supports a bit of @mode (modes_all; 0 when the lamps differ, so such a
 * device always takes the full path). The caller tests that @mode is a
 * single bit; bit 31 shifts out (0: the full path answers).
 * relaxed: as tapiq_dev_connected(). */
static inline int tapiq_dev_fast_ok(struct tapiq_dev *d, uint32_t mode)
{
    return ((mode << 1) & atomic_load_explicit(&d->connected, memory_order_relaxed)) != 0;
}

/* ------------------------------------------------ the other attributes
 * Readers: any thread, in a read-side section (the device outlives it);
 * wait-free, but tapiq_dev_display / tapiq_dev_button / tapiq_dev_data,
 * which are lock-free. Each returns one consistent value of its attribute.
 * They need d->ext (the caller checks the device has the attribute). */

/* PHONEFEATURE_* of what the device has and this build can do. */
uint32_t tapiq_dev_features(const struct tapiq_dev *d);
/* PHONESTATE_* the device can report (PHONECAPS dwPhoneStates). */
uint32_t tapiq_dev_phone_states(const struct tapiq_dev *d);
/* Ring mode and volume, one pair. */
void tapiq_dev_ring(const struct tapiq_dev *d, uint32_t *mode, uint32_t *volume);
/* The mode of hookswitch device @i (index, < 3); 0 if the device lacks it. */
uint32_t tapiq_dev_hookswitch_mode(const struct tapiq_dev *d, uint32_t i);
/* PHONEHOOKSWITCHDEV_* bits of the hookswitch devices not ONHOOK. */
uint32_t tapiq_dev_offhook(const struct tapiq_dev *d);
uint32_t tapiq_dev_volume(const struct tapiq_dev *d, uint32_t i);
uint32_t tapiq_dev_gain(const struct tapiq_dev *d, uint32_t i);
/* Copy the display (rows x cols bytes) into @dst. */
void tapiq_dev_display(const struct tapiq_dev *d, char *dst);
/* Button/lamp position @id (< nlamps): a device without ext gives a DUMMY
 * position (function NONE, state UNAVAIL, no text). */
void tapiq_dev_button(const struct tapiq_dev *d, uint32_t id, struct tapiq_button *out);
/* Copy the first @n bytes (<= its size) of data area @id into @dst. */
void tapiq_dev_data(const struct tapiq_dev *d, uint32_t id, void *dst, uint32_t n);

/* Writers: the device's worker only (the asynchronous phoneSet* path; the
 * caller has validated the arguments against the device's shape).
 * Wait-free. Release: a reader that sees the new value sees everything the
 * worker did before. Each returns the PHONESTATE_* bits that changed (0 when
 * the value was already that), for the PHONE_STATE notifications. */
uint32_t tapiq_dev_set_display_worker(struct tapiq_dev *d, uint32_t row, uint32_t col,
                                      const char *text, uint32_t n);
uint32_t tapiq_dev_set_ring_worker(struct tapiq_dev *d, uint32_t mode, uint32_t volume);
/* Every hookswitch device in @devs (PHONEHOOKSWITCHDEV_* bits) to @mode.
 * Unlike the other writers, any thread (the worker for phoneSetHookSwitch,
 * a backend thread for tapiq_host_hookswitch): a CAS loop, lock-free. */
uint32_t tapiq_dev_set_hookswitch_worker(struct tapiq_dev *d, uint32_t devs, uint32_t mode);
uint32_t tapiq_dev_set_volume_worker(struct tapiq_dev *d, uint32_t i, uint32_t volume);
uint32_t tapiq_dev_set_gain_worker(struct tapiq_dev *d, uint32_t i, uint32_t gain);
/* Mode, function and text (@len <= text_max) of button @id; returns 1 when
 * anything changed (button info has no PHONESTATE_* bit). */
int tapiq_dev_set_button_worker(struct tapiq_dev *d, uint32_t id, uint32_t mode,
                                uint32_t function, const char *text, uint32_t len);
/* The state of button @id (PHONEBUTTONSTATE_*); 1 when it changed. */
int tapiq_dev_set_button_state_worker(struct tapiq_dev *d, uint32_t id, uint32_t state);
/* The first @n bytes of data area @id; 1 when they changed. */
int tapiq_dev_set_data_worker(struct tapiq_dev *d, uint32_t id, const void *src, uint32_t n);

/* Owners and monitors (PHONESTATUS); add is +1 or -1, under g_lock. */
void tapiq_dev_count_handle(struct tapiq_dev *d, uint32_t priv, int add);
void tapiq_dev_counts(struct tapiq_dev *d, uint32_t *owners, uint32_t *monitors);

/* The device table of @rt: allocated zeroed by tapiq_devs_alloc (devices are
 * added by the backend's start through tapiq_host_add_device). 0 or -ENOMEM. */
int tapiq_devs_alloc(struct tapiq_rt *rt);
void tapiq_devs_free(struct tapiq_rt *rt);

#endif /* TAPIQ_CORE_DEVICE_H */
