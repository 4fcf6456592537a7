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

/* Per device, five arrays each on cache lines of its own: modes (read per
 * request), lamp (written on changes), the batch's updates and positions,
 * the batch's attribute updates. */
static size_t arrays_size(uint32_t nlamps)
{
    size_t l = nlamps ? nlamps : 1;
    return line_up(l * sizeof(uint32_t)) + line_up(l * sizeof(_Atomic uint8_t)) +
           line_up(l * sizeof(tapiq_update)) + line_up(l * sizeof(int32_t)) +
           line_up(TAPIQ_BATCH_ATTRS_MAX * (sizeof(tapiq_attr) + sizeof(uint16_t)));
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
        free(d->ext);       /* one block: the attributes and their cells */
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
        d->lamp = (_Atomic uint8_t *)p;
        p += line_up(l * sizeof(_Atomic uint8_t));
        d->upd_arena = (tapiq_update *)p; /* then lamp_pos, the attribute arrays (device.h) */
        d->batch.upd = d->upd_arena;
    }
    for (uint32_t i = 0; i < nlamps; i++) {
        uint32_t m = lamp_modes ? lamp_modes[i] : all;
        if (m & PHONELAMPMODE_DUMMY)
            m = PHONELAMPMODE_DUMMY;
        d->modes[i] = m & (PHONELAMPMODE_DUMMY | all);
        atomic_init(&d->lamp[i], m == PHONELAMPMODE_DUMMY ? PHONELAMPMODE_DUMMY
                                                          : PHONELAMPMODE_OFF);
    }
    d->modes_all = nlamps ? d->modes[0] : 0;
    for (uint32_t i = 0; i < nlamps; i++)
        if (d->modes[i] != d->modes_all || d->modes[i] == PHONELAMPMODE_DUMMY)
            d->modes_all = 0;
    d->id = rt->ndev;
    d->worker = rt->ndev % rt->cfg.workers;
    d->nlamps = nlamps;
    d->batch.rt = rt;
    {
        uint32_t *lamp_pos = tapiq_batch_lamp_pos(&d->batch); /* needs nlamps, upd_arena */
        for (uint32_t i = 0; i < nlamps; i++)
            lamp_pos[i] = 0; /* stamp 0: no batch (lp_gen starts at 1) */
    }
    atomic_init(&d->connected, connected ? tapiq_dev_connected_word(d) : 0);
    atomic_init(&d->subs, NULL);
    atomic_init(&d->nowners, 0);
    atomic_init(&d->nmonitors, 0);
    d->ext = NULL;
    return (int)rt->ndev++;
}

TAPIQ_API int tapiq_host_set_connected(tapiq_host *host, uint32_t device, int connected)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    struct tapiq_dev *d;
    uint32_t v;
    if (!rt || device >= rt->ndev)
        return -EINVAL;
    d = &rt->devs[device];
    v = connected ? tapiq_dev_connected_word(d) : 0; /* modes_all is immutable */
    /* acq_rel: one caller per change posts the notification. */
    if (atomic_exchange_explicit(&d->connected, v, memory_order_acq_rel) == v)
        return 0;
    tapiq_guard_enter();
    tapiq_notify_states(rt, d, v ? PHONESTATE_CONNECTED : PHONESTATE_DISCONNECTED);
    tapiq_guard_exit();
    return 0;
}

/* ------------------------------------------------------ other attributes */

/* PHONESTATE_* / PHONEFEATURE_* bits per hookswitch device index. */
static const uint32_t hs_state[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONESTATE_HANDSETHOOKSWITCH, PHONESTATE_SPEAKERHOOKSWITCH, PHONESTATE_HEADSETHOOKSWITCH};
static const uint32_t vol_state[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONESTATE_HANDSETVOLUME, PHONESTATE_SPEAKERVOLUME, PHONESTATE_HEADSETVOLUME};
static const uint32_t gain_state[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONESTATE_HANDSETGAIN, PHONESTATE_SPEAKERGAIN, PHONESTATE_HEADSETGAIN};
static const uint32_t hs_feature[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONEFEATURE_GETHOOKSWITCHHANDSET, PHONEFEATURE_GETHOOKSWITCHSPEAKER,
    PHONEFEATURE_GETHOOKSWITCHHEADSET};
static const uint32_t vol_feature[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONEFEATURE_GETVOLUMEHANDSET, PHONEFEATURE_GETVOLUMESPEAKER, PHONEFEATURE_GETVOLUMEHEADSET};
static const uint32_t gain_feature[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONEFEATURE_GETGAINHANDSET, PHONEFEATURE_GETGAINSPEAKER, PHONEFEATURE_GETGAINHEADSET};
static const uint32_t hs_set_feature[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONEFEATURE_SETHOOKSWITCHHANDSET, PHONEFEATURE_SETHOOKSWITCHSPEAKER,
    PHONEFEATURE_SETHOOKSWITCHHEADSET};
static const uint32_t vol_set_feature[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONEFEATURE_SETVOLUMEHANDSET, PHONEFEATURE_SETVOLUMESPEAKER, PHONEFEATURE_SETVOLUMEHEADSET};
static const uint32_t gain_set_feature[TAPIQ_HOOKSWITCH_DEVS] = {
    PHONEFEATURE_SETGAINHANDSET, PHONEFEATURE_SETGAINSPEAKER, PHONEFEATURE_SETGAINHEADSET};

#define ALL_HS_MODES                                                                         \
    (PHONEHOOKSWITCHMODE_ONHOOK | PHONEHOOKSWITCHMODE_MIC | PHONEHOOKSWITCHMODE_SPEAKER |    \
     PHONEHOOKSWITCHMODE_MICSPEAKER)
#define INITIAL_LEVEL 0x8000u /* volumes and gains before anything sets them */

/* A button cell: one word (mode | function << 8 | state << 16 | text
 * length << 24), then the text. */
static uint32_t button_word(uint32_t mode, uint32_t function, uint32_t state, uint32_t len)
{
    return mode | function << 8 | state << 16 | len << 24;
}

static int one_bit(uint32_t v, uint32_t mask)
{
    return v && !(v & (v - 1)) && (v & mask) == v;
}

/* The data area sizes, kept 8-byte aligned for the cells after them. */
static size_t sizes_bytes(uint32_t ndata)
{
    return ((size_t)ndata + 1) / 2 * 8;
}

/* Check @a against the device's lamps; 0 or -EINVAL, with the bytes of
 * the device's block in *storage. */
static int attrs_check(const tapiq_device_attrs *a, uint32_t nlamps, size_t *storage)
{
    uint64_t total = 0, data = 0;
    if ((a->display_rows == 0) != (a->display_columns == 0) ||
        (uint64_t)a->display_rows * a->display_columns > TAPIQ_MAX_DISPLAY ||
        a->ring_modes > TAPIQ_MAX_RING_MODES || (a->hookswitch_devs & ~7u) ||
        (a->volume_devs & ~a->hookswitch_devs) || (a->gain_devs & ~a->hookswitch_devs) ||
        a->data_areas > TAPIQ_MAX_DATA_AREAS || (a->data_areas && !a->data_sizes) ||
        a->button_text_max > TAPIQ_MAX_BUTTON_TEXT)
        return -EINVAL;
    for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
        uint32_t m = a->hookswitch_modes[i];
        if (m && (!(m & PHONEHOOKSWITCHMODE_ONHOOK) || (m & ~ALL_HS_MODES)))
            return -EINVAL;
    }
    for (uint32_t i = 0; i < a->data_areas; i++) {
        if (a->data_sizes[i] == 0 || a->data_sizes[i] > TAPIQ_MAX_DATA_SIZE)
            return -EINVAL;
        data += tapiq_snap_storage(a->data_sizes[i]);
    }
    for (uint32_t i = 0; i < nlamps; i++) {
        if (a->button_modes && !one_bit(a->button_modes[i], 0x3Fu))
            return -EINVAL;
        if (a->button_functions && a->button_functions[i] > PHONEBUTTONFUNCTION_SEND)
            return -EINVAL;
        if (a->button_texts && a->button_texts[i] &&
            strlen(a->button_texts[i]) > a->button_text_max)
            return -EINVAL;
    }
    total = sizeof(struct tapiq_dev_ext) + sizes_bytes(a->data_areas) +
            a->data_areas * sizeof(struct tapiq_snap) +
            nlamps * (sizeof(struct tapiq_snap) + tapiq_snap_storage(4 + a->button_text_max)) +
            tapiq_snap_storage(a->display_rows * a->display_columns) + data;
    *storage = (size_t)total;
    return 0;
}

TAPIQ_API int tapiq_host_set_device_attrs(tapiq_host *host, uint32_t device,
                                          const tapiq_device_attrs *attrs, size_t size)
{
    struct tapiq_rt *rt = (struct tapiq_rt *)host;
    tapiq_device_attrs a;
    struct tapiq_dev *d;
    struct tapiq_dev_ext *x;
    unsigned char *p;
    size_t bytes;
    uint32_t hook = 0;

    if (!rt || !attrs || device >= rt->ndev || rt->devs[device].ext)
        return -EINVAL;
    memset(&a, 0, sizeof(a));
    memcpy(&a, attrs, size < sizeof(a) ? size : sizeof(a));
    d = &rt->devs[device];
    if (attrs_check(&a, d->nlamps, &bytes))
        return -EINVAL;
    x = tapiq_aligned_alloc(TAPIQ_CACHELINE, bytes);
    if (!x)
        return -ENOMEM;
    memset(x, 0, sizeof(*x));
    x->rows = a.display_rows;
    x->cols = a.display_columns;
    x->ring_modes = a.ring_modes;
    x->hs_devs = a.hookswitch_devs;
    for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
        if (!(a.hookswitch_devs & (1u << i)))
            continue;
        x->hs_modes[i] = a.hookswitch_modes[i] ? a.hookswitch_modes[i] : ALL_HS_MODES;
        hook |= PHONEHOOKSWITCHMODE_ONHOOK << (8 * i);
    }
    x->volume_devs = a.volume_devs;
    x->gain_devs = a.gain_devs;
    x->ndata = a.data_areas;
    x->text_max = a.button_text_max;
    x->nbuttons = d->nlamps;
    p = (unsigned char *)(x + 1);
    x->data_size = (uint32_t *)p;
    p += sizes_bytes(a.data_areas);
    x->button = (struct tapiq_snap *)p;
    p += d->nlamps * sizeof(struct tapiq_snap);
    x->data = (struct tapiq_snap *)p;
    p += a.data_areas * sizeof(struct tapiq_snap);
    /* Cells: the storage of each is a multiple of 8 bytes from here. */
    {
        uint32_t n = x->rows * x->cols;
        char blank[TAPIQ_MAX_DISPLAY];
        memset(blank, ' ', n);
        tapiq_snap_init_unsync(&x->display, p, n, blank);
        p += tapiq_snap_storage(n);
    }
    for (uint32_t i = 0; i < d->nlamps; i++) {
        unsigned char rec[4 + TAPIQ_MAX_BUTTON_TEXT];
        uint32_t mode = a.button_modes ? a.button_modes[i] : PHONEBUTTONMODE_DUMMY;
        uint32_t dummy = mode == PHONEBUTTONMODE_DUMMY;
        uint32_t fn = a.button_functions ? a.button_functions[i]
                      : dummy            ? PHONEBUTTONFUNCTION_NONE
                                         : PHONEBUTTONFUNCTION_UNKNOWN;
        const char *t = a.button_texts && a.button_texts[i] ? a.button_texts[i] : "";
        uint32_t len = (uint32_t)strlen(t);
        uint32_t w = button_word(mode, fn, dummy ? PHONEBUTTONSTATE_UNAVAIL : PHONEBUTTONSTATE_UP,
                                 len);
        memset(rec, 0, sizeof(rec));
        memcpy(rec, &w, 4);
        memcpy(rec + 4, t, len);
        tapiq_snap_init_unsync(&x->button[i], p, 4 + x->text_max, rec);
        p += tapiq_snap_storage(4 + x->text_max);
    }
    for (uint32_t i = 0; i < a.data_areas; i++) {
        x->data_size[i] = a.data_sizes[i];
        tapiq_snap_init_unsync(&x->data[i], p, a.data_sizes[i], NULL);
        p += tapiq_snap_storage(a.data_sizes[i]);
    }
    atomic_init(&x->ring, INITIAL_LEVEL);
    atomic_init(&x->hook, hook);
    for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
        atomic_init(&x->volume[i], INITIAL_LEVEL);
        atomic_init(&x->gain[i], INITIAL_LEVEL);
    }
    /* Published with the runtime (start runs before it is published). */
    d->ext = x;
    return 0;
}

uint32_t tapiq_dev_features(const struct tapiq_dev *d)
{
    const struct tapiq_dev_ext *x = d->ext;
    uint32_t f = d->nlamps ? PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP |
                                 PHONEFEATURE_GETBUTTONINFO
                           : 0;
    if (!x)
        return f;
    if (d->nlamps)
        f |= PHONEFEATURE_SETBUTTONINFO;
    if (x->rows)
        f |= PHONEFEATURE_GETDISPLAY | PHONEFEATURE_SETDISPLAY;
    if (x->ring_modes)
        f |= PHONEFEATURE_GETRING | PHONEFEATURE_SETRING;
    if (x->ndata)
        f |= PHONEFEATURE_GETDATA | PHONEFEATURE_SETDATA;
    for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
        if (x->hs_devs & (1u << i))
            f |= hs_feature[i] | hs_set_feature[i];
        if (x->volume_devs & (1u << i))
            f |= vol_feature[i] | vol_set_feature[i];
        if (x->gain_devs & (1u << i))
            f |= gain_feature[i] | gain_set_feature[i];
    }
    return f;
}

uint32_t tapiq_dev_phone_states(const struct tapiq_dev *d)
{
    const struct tapiq_dev_ext *x = d->ext;
    uint32_t s = PHONESTATE_OTHER | PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED |
                 PHONESTATE_OWNER | PHONESTATE_MONITORS | PHONESTATE_LAMP |
                 PHONESTATE_DEVSPECIFIC;
    if (!x)
        return s;
    if (x->rows)
        s |= PHONESTATE_DISPLAY;
    if (x->ring_modes)
        s |= PHONESTATE_RINGMODE | PHONESTATE_RINGVOLUME;
    for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
        if (x->hs_devs & (1u << i))
            s |= hs_state[i];
        if (x->volume_devs & (1u << i))
            s |= vol_state[i];
        if (x->gain_devs & (1u << i))
            s |= gain_state[i];
    }
    return s;
}

void tapiq_dev_ring(const struct tapiq_dev *d, uint32_t *mode, uint32_t *volume)
{
    /* acquire: pairs with the release in tapiq_dev_set_ring_worker(). */
    uint64_t v = atomic_load_explicit(&d->ext->ring, memory_order_acquire);
    *mode = (uint32_t)(v >> 32);
    *volume = (uint32_t)v;
}

uint32_t tapiq_dev_hookswitch_mode(const struct tapiq_dev *d, uint32_t i)
{
    /* acquire: pairs with the release in tapiq_dev_set_hookswitch_worker(). */
    return (atomic_load_explicit(&d->ext->hook, memory_order_acquire) >> (8 * i)) & 0xFFu;
}

uint32_t tapiq_dev_offhook(const struct tapiq_dev *d)
{
    /* acquire: as above; one load, so the three modes are one snapshot. */
    uint32_t h = atomic_load_explicit(&d->ext->hook, memory_order_acquire), devs = 0;
    for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
        uint32_t m = (h >> (8 * i)) & 0xFFu;
        if ((d->ext->hs_devs & (1u << i)) && m != PHONEHOOKSWITCHMODE_ONHOOK)
            devs |= 1u << i;
    }
    return devs;
}

uint32_t tapiq_dev_volume(const struct tapiq_dev *d, uint32_t i)
{
    /* acquire: pairs with the release in tapiq_dev_set_volume_worker(). */
    return atomic_load_explicit(&d->ext->volume[i], memory_order_acquire);
}

uint32_t tapiq_dev_gain(const struct tapiq_dev *d, uint32_t i)
{
    /* acquire: pairs with the release in tapiq_dev_set_gain_worker(). */
    return atomic_load_explicit(&d->ext->gain[i], memory_order_acquire);
}

void tapiq_dev_display(const struct tapiq_dev *d, char *dst)
{
    tapiq_snap_read(&d->ext->display, 0, dst, d->ext->rows * d->ext->cols);
}

void tapiq_dev_button(const struct tapiq_dev *d, uint32_t id, struct tapiq_button *out)
{
    const struct tapiq_dev_ext *x = d->ext;
    unsigned char rec[4 + TAPIQ_MAX_BUTTON_TEXT];
    uint32_t w;
    if (!x) {
        out->mode = PHONEBUTTONMODE_DUMMY;
        out->function = PHONEBUTTONFUNCTION_NONE;
        out->state = PHONEBUTTONSTATE_UNAVAIL;
        out->text_len = 0;
        out->text[0] = '\0';
        return;
    }
    tapiq_snap_read(&x->button[id], 0, rec, 4 + x->text_max);
    memcpy(&w, rec, 4);
    out->mode = w & 0xFFu;
    out->function = (w >> 8) & 0xFFu;
    out->state = (w >> 16) & 0xFFu;
    out->text_len = w >> 24;
    memcpy(out->text, rec + 4, out->text_len);
    out->text[out->text_len] = '\0';
}

void tapiq_dev_data(const struct tapiq_dev *d, uint32_t id, void *dst, uint32_t n)
{
    tapiq_snap_read(&d->ext->data[id], 0, dst, n);
}

uint32_t tapiq_dev_set_display_worker(struct tapiq_dev *d, uint32_t row, uint32_t col,
                                      const char *text, uint32_t n)
{
    struct tapiq_dev_ext *x = d->ext;
    uint32_t at = row * x->cols + col, size = x->rows * x->cols;
    if (at >= size)
        return 0;
    if (n > size - at)
        n = size - at;
    return tapiq_snap_write_unsync(&x->display, at, text, n) ? PHONESTATE_DISPLAY : 0;
}

uint32_t tapiq_dev_set_ring_worker(struct tapiq_dev *d, uint32_t mode, uint32_t volume)
{
    struct tapiq_dev_ext *x = d->ext;
    /* relaxed: only the device's worker writes the ring. */
    uint64_t old = atomic_load_explicit(&x->ring, memory_order_relaxed);
    uint64_t v = (uint64_t)mode << 32 | volume;
    uint32_t changed = 0;
    if ((uint32_t)(old >> 32) != mode)
        changed |= PHONESTATE_RINGMODE;
    if ((uint32_t)old != volume)
        changed |= PHONESTATE_RINGVOLUME;
    if (changed) /* release: pairs with the acquire in tapiq_dev_ring(). */
        atomic_store_explicit(&x->ring, v, memory_order_release);
    return changed;
}

uint32_t tapiq_dev_set_hookswitch_worker(struct tapiq_dev *d, uint32_t devs, uint32_t mode)
{
    struct tapiq_dev_ext *x = d->ext;
    /* The device's worker (phoneSetHookSwitch) and the backend's inbound
     * reports (tapiq_host_hookswitch, any thread) both write the word: a
     * CAS, so neither loses the other's change.
     * relaxed: the CAS re-reads. */
    uint32_t h = atomic_load_explicit(&x->hook, memory_order_relaxed), n, changed;
    do {
        n = h;
        changed = 0;
        for (uint32_t i = 0; i < TAPIQ_HOOKSWITCH_DEVS; i++) {
            if (!(devs & x->hs_devs & (1u << i)) || ((h >> (8 * i)) & 0xFFu) == mode)
                continue;
            n = (n & ~(0xFFu << (8 * i))) | mode << (8 * i);
            changed |= hs_state[i];
        }
        if (!changed)
            return 0;
        /* release: pairs with the acquires in tapiq_dev_hookswitch_mode(). */
    } while (!atomic_compare_exchange_weak_explicit(&x->hook, &h, n, memory_order_release,
                                                    memory_order_relaxed));
    return changed;
}

uint32_t tapiq_dev_set_volume_worker(struct tapiq_dev *d, uint32_t i, uint32_t volume)
{
    /* relaxed: only the device's worker writes it. */
    if (atomic_load_explicit(&d->ext->volume[i], memory_order_relaxed) == volume)
        return 0;
    /* release: pairs with the acquire in tapiq_dev_volume(). */
    atomic_store_explicit(&d->ext->volume[i], volume, memory_order_release);
    return vol_state[i];
}

uint32_t tapiq_dev_set_gain_worker(struct tapiq_dev *d, uint32_t i, uint32_t gain)
{
    /* relaxed: only the device's worker writes it. */
    if (atomic_load_explicit(&d->ext->gain[i], memory_order_relaxed) == gain)
        return 0;
    /* release: pairs with the acquire in tapiq_dev_gain(). */
    atomic_store_explicit(&d->ext->gain[i], gain, memory_order_release);
    return gain_state[i];
}

int tapiq_dev_set_button_worker(struct tapiq_dev *d, uint32_t id, uint32_t mode,
                                uint32_t function, const char *text, uint32_t len)
{
    struct tapiq_dev_ext *x = d->ext;
    unsigned char rec[4 + TAPIQ_MAX_BUTTON_TEXT];
    uint32_t w;
    tapiq_snap_read(&x->button[id], 0, &w, 4); /* the writer's own cell */
    w = button_word(mode, function, (w >> 16) & 0xFFu, len);
    memcpy(rec, &w, 4);
    memcpy(rec + 4, text, len);
    return tapiq_snap_write_unsync(&x->button[id], 0, rec, 4 + len);
}

int tapiq_dev_set_button_state_worker(struct tapiq_dev *d, uint32_t id, uint32_t state)
{
    struct tapiq_dev_ext *x = d->ext;
    uint32_t w;
    tapiq_snap_read(&x->button[id], 0, &w, 4);
    w = (w & ~(0xFFu << 16)) | state << 16;
    return tapiq_snap_write_unsync(&x->button[id], 0, &w, 4);
}

int tapiq_dev_set_data_worker(struct tapiq_dev *d, uint32_t id, const void *src, uint32_t n)
{
    return tapiq_snap_write_unsync(&d->ext->data[id], 0, src, n);
}
