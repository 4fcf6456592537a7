/* core/batch_attrs.c - a batch's attribute updates; see batch_attrs.h. */
#include "core/batch_attrs.h"

#include <errno.h>
#include <string.h>

#include "core/handle.h"
#include "core/result.h"

/* Does the request @p cover the earlier update @a (same kind)? */
static int covers(const struct tapiq_dev *dev, const struct tapiq_payload *p,
                  const tapiq_attr *a)
{
    if (p->kind != a->kind)
        return 0;
    switch (p->kind) {
    case TAPIQ_ATTR_DISPLAY: {
        uint32_t cols = dev->ext->cols;
        uint64_t ps = (uint64_t)p->a * cols + p->b, as = (uint64_t)a->a * cols + a->b;
        return ps <= as && ps + p->size >= as + a->size;
    }
    case TAPIQ_ATTR_RING:
        return 1;
    case TAPIQ_ATTR_HOOKSWITCH:
        return (a->id & ~p->id) == 0;
    case TAPIQ_ATTR_VOLUME:
    case TAPIQ_ATTR_GAIN:
    case TAPIQ_ATTR_BUTTONINFO:
        return p->id == a->id;
    case TAPIQ_ATTR_DATA:
        return p->id == a->id && p->size >= a->size;
    default: /* DEVSPECIFIC: never */
        return 0;
    }
}

int tapiq_battr_add(struct tapiq_worker *wk, struct tapiq_dev *dev, struct tapiq_batch *b,
                    uint32_t slot)
{
    struct tapiq_payload *p = tapiq_pool_rec(wk->pool, slot);
    tapiq_attr *attr = tapiq_batch_attr_array(b), *a;
    uint16_t *slots = tapiq_batch_attr_slots(b);
    uint32_t j, w = 0, any = 0;
    for (j = 0; j < b->nattr && !any; j++)
        any = covers(dev, p, &attr[j]);
    if (!any && b->nattr == TAPIQ_BATCH_ATTRS_MAX)
        return -ENOSPC;
    p->final = (uint16_t)slot;
    for (j = 0; j < b->nattr; j++) {
        if (any && covers(dev, p, &attr[j])) {
            tapiq_pool_rec(wk->pool, slots[j])->final = (uint16_t)slot;
            wk->c[TAPIQ_W_ATTRS_COALESCED]++;
            continue;
        }
        if (w != j) {
            attr[w] = attr[j];
            slots[w] = slots[j];
        }
        w++;
    }
    a = &attr[w];
    a->kind = p->kind;
    a->id = p->id;
    a->a = p->a;
    a->b = p->b;
    a->data = tapiq_pool_bytes(wk->pool, slot);
    a->size = p->size;
    a->status = -EIO;
    slots[w] = (uint16_t)slot;
    b->nattr = w + 1;
    return 0;
}

void tapiq_battr_seal(struct tapiq_worker *wk, struct tapiq_batch *b)
{
    const uint16_t *slots = tapiq_batch_attr_slots(b);
    for (uint32_t i = 0; i < b->nattr; i++)
        tapiq_pool_rec(wk->pool, slots[i])->entry = (uint8_t)i;
    wk->c[TAPIQ_W_ATTRS_APPLIED] += b->nattr;
}

/* Hookswitch device bit (one of PHONEHOOKSWITCHDEV_*) -> index. */
static uint32_t hs_index(uint32_t bit)
{
    return bit == PHONEHOOKSWITCHDEV_HANDSET ? 0 : bit == PHONEHOOKSWITCHDEV_SPEAKER ? 1 : 2;
}

void tapiq_battr_apply(struct tapiq_worker *wk, struct tapiq_dev *dev, struct tapiq_batch *b,
                       int subs)
{
    const tapiq_attr *attr = tapiq_batch_attr_array(b);
    uint32_t changed = 0;
    for (uint32_t i = 0; i < b->nattr; i++) {
        const tapiq_attr *a = &attr[i];
        if (a->status != 0)
            continue;
        switch (a->kind) {
        case TAPIQ_ATTR_DISPLAY:
            changed |= tapiq_dev_set_display_worker(dev, a->a, a->b, a->data, a->size);
            break;
        case TAPIQ_ATTR_RING:
            changed |= tapiq_dev_set_ring_worker(dev, a->a, a->b);
            break;
        case TAPIQ_ATTR_HOOKSWITCH:
            changed |= tapiq_dev_set_hookswitch_worker(dev, a->id, a->a);
            break;
        case TAPIQ_ATTR_VOLUME:
            changed |= tapiq_dev_set_volume_worker(dev, hs_index(a->id), a->a);
            break;
        case TAPIQ_ATTR_GAIN:
            changed |= tapiq_dev_set_gain_worker(dev, hs_index(a->id), a->a);
            break;
        case TAPIQ_ATTR_BUTTONINFO: /* no PHONESTATE_* bit for button info */
            tapiq_dev_set_button_worker(dev, a->id, a->a, a->b, a->data, a->size);
            break;
        case TAPIQ_ATTR_DATA: /* no PHONESTATE_* bit for data areas */
            tapiq_dev_set_data_worker(dev, a->id, a->data, a->size);
            break;
        default: /* DEVSPECIFIC: the device's own state may have changed */
            changed |= PHONESTATE_DEVSPECIFIC;
            break;
        }
    }
    /* One token per state bit: each bit is a notification of its own. */
    while (subs && changed) {
        uint32_t bit = changed & -changed;
        changed &= ~bit;
        tapiq_notify_states(wk->rt, dev, bit);
    }
}

int32_t tapiq_battr_reply(struct tapiq_worker *wk, struct tapiq_batch *b, uint32_t slot)
{
    uint32_t s = slot;
    struct tapiq_payload *p = tapiq_pool_rec(wk->pool, s);
    int32_t st;
    while (p->final != s) { /* to the update that answers this request */
        s = p->final;
        p = tapiq_pool_rec(wk->pool, s);
    }
    st = tapiq_batch_attr_array(b)[p->entry].status;
    if (st != 0) /* the reply's result (core/result.h) */
        st = (int32_t)tapiq_provider_result(st);
    tapiq_pool_put(wk->pool, slot);
    return st;
}
