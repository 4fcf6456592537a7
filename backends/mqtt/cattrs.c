/* backends/mqtt/cattrs.c - per-console attributes of the mqtt backend; see
 * cattrs.h. */
#include "backends/mqtt/cattrs.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tapiq/tapi.h"

#define INITIAL_LEVEL 0x8000u /* as the core: volumes, gains, ring volume */

static size_t data_total(const tapiq_device_attrs *t)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->data_areas; i++)
        n += t->data_sizes[i];
    return n;
}

struct tapiq_mqtt_attrs *mqtt_cattrs_new(const tapiq_device_attrs *t, uint32_t nlamps)
{
    size_t disp = (size_t)t->display_rows * t->display_columns;
    size_t nb = t->button_modes ? nlamps : 0;
    size_t data = data_total(t);
    size_t size = sizeof(struct tapiq_mqtt_attrs) + nb * sizeof(struct tapiq_mqtt_button) +
                  disp + data;
    struct tapiq_mqtt_attrs *a = tapiq_calloc(1, size);
    unsigned char *p;
    if (!a)
        return NULL;
    p = (unsigned char *)(a + 1);
    a->buttons = nb ? (struct tapiq_mqtt_button *)p : NULL;
    a->buttons_cap = nb;
    p += nb * sizeof(struct tapiq_mqtt_button);
    a->display = disp ? p : NULL;
    a->display_cap = disp;
    p += disp;
    a->data = data ? p : NULL;
    a->data_cap = data;
    if (disp) {
        a->has |= TAPIQ_MQTT_HAS_DISPLAY;
        a->rows = t->display_rows;
        a->cols = t->display_columns;
        memset(a->display, ' ', disp);
    }
    if (t->ring_modes) {
        a->has |= TAPIQ_MQTT_HAS_RING;
        a->ring_mode = 0;
        a->ring_volume = INITIAL_LEVEL;
    }
    if (t->hookswitch_devs) {
        a->has |= TAPIQ_MQTT_HAS_HOOKSWITCH;
        a->hs_devs = t->hookswitch_devs & 7u;
        a->volume_devs = t->volume_devs & a->hs_devs;
        a->gain_devs = t->gain_devs & a->hs_devs;
        for (int i = 0; i < 3; i++) {
            a->hs_mode[i] = PHONEHOOKSWITCHMODE_ONHOOK;
            a->volume[i] = a->gain[i] = INITIAL_LEVEL;
        }
    }
    if (nb) {
        a->has |= TAPIQ_MQTT_HAS_BUTTONS;
        a->nbuttons = (uint32_t)nb;
        for (uint32_t i = 0; i < nb; i++) {
            struct tapiq_mqtt_button *b = &a->buttons[i];
            const char *text = t->button_texts && t->button_texts[i] ? t->button_texts[i] : "";
            size_t tl = strlen(text);
            b->id = i;
            b->mode = t->button_modes[i];
            b->function = t->button_functions ? t->button_functions[i]
                          : b->mode == PHONEBUTTONMODE_DUMMY ? PHONEBUTTONFUNCTION_NONE
                                                             : PHONEBUTTONFUNCTION_UNKNOWN;
            b->text_len = (uint32_t)(tl < TAPIQ_MQTT_TEXT_MAX ? tl : TAPIQ_MQTT_TEXT_MAX);
            memcpy(b->text, text, b->text_len);
        }
    }
    if (t->data_areas) {
        a->has |= TAPIQ_MQTT_HAS_DATA;
        a->ndata = t->data_areas;
        for (uint32_t i = 0; i < t->data_areas; i++)
            a->data_size[i] = t->data_sizes[i];
    }
    return a;
}

void mqtt_cattrs_cap_add(struct mqtt_cattrs_cap *cap, const struct tapiq_mqtt_attrs *a)
{
    if (a->display_cap > cap->display)
        cap->display = a->display_cap;
    if (a->buttons_cap > cap->buttons)
        cap->buttons = a->buttons_cap;
    if (a->data_cap > cap->data)
        cap->data = a->data_cap;
}

struct tapiq_mqtt_attrs *mqtt_cattrs_scratch(const struct mqtt_cattrs_cap *cap)
{
    size_t size = sizeof(struct tapiq_mqtt_attrs) +
                  cap->buttons * sizeof(struct tapiq_mqtt_button) + cap->display + cap->data;
    struct tapiq_mqtt_attrs *a = tapiq_calloc(1, size);
    unsigned char *p;
    if (!a)
        return NULL;
    p = (unsigned char *)(a + 1);
    a->buttons = (struct tapiq_mqtt_button *)p;
    a->buttons_cap = cap->buttons;
    p += cap->buttons * sizeof(struct tapiq_mqtt_button);
    a->display = p;
    a->display_cap = cap->display;
    a->data = p + cap->display;
    a->data_cap = cap->data;
    return a;
}

void mqtt_cattrs_copy(struct tapiq_mqtt_attrs *dst, const struct tapiq_mqtt_attrs *src)
{
    struct tapiq_mqtt_attrs keep = *dst; /* dst's storage */
    size_t data = 0;
    *dst = *src;
    dst->display = keep.display;
    dst->display_cap = keep.display_cap;
    dst->buttons = keep.buttons;
    dst->buttons_cap = keep.buttons_cap;
    dst->data = keep.data;
    dst->data_cap = keep.data_cap;
    if (src->display)
        memcpy(dst->display, src->display, (size_t)src->rows * src->cols);
    if (src->buttons)
        memcpy(dst->buttons, src->buttons, src->nbuttons * sizeof(*src->buttons));
    for (uint32_t i = 0; i < src->ndata; i++)
        data += src->data_size[i];
    if (data)
        memcpy(dst->data, src->data, data);
}

static int dev_index(uint32_t bit)
{
    return bit == PHONEHOOKSWITCHDEV_HANDSET   ? 0
           : bit == PHONEHOOKSWITCHDEV_SPEAKER ? 1
           : bit == PHONEHOOKSWITCHDEV_HEADSET ? 2
                                               : -1;
}

void mqtt_cattrs_apply(struct tapiq_mqtt_attrs *a, const tapiq_attr *x, size_t n,
                       struct tapiq_mqtt_devspec *ds, uint32_t *nds)
{
    for (size_t k = 0; k < n; k++) {
        const tapiq_attr *u = &x[k];
        int i;
        if (u->kind == TAPIQ_ATTR_DEVSPECIFIC) {
            if (*nds < TAPIQ_MQTT_DEVSPEC_MAX) {
                ds[*nds].data = u->data;
                ds[*nds].size = u->size;
                (*nds)++;
            }
            continue;
        }
        if (!a)
            continue;
        switch (u->kind) {
        case TAPIQ_ATTR_DISPLAY: {
            size_t at = (size_t)u->a * a->cols + u->b, total = (size_t)a->rows * a->cols;
            if ((a->has & TAPIQ_MQTT_HAS_DISPLAY) && u->size && at <= total && u->size <= total - at)
                memcpy(a->display + at, u->data, u->size);
            break;
        }
        case TAPIQ_ATTR_RING:
            a->ring_mode = u->a;
            a->ring_volume = u->b;
            break;
        case TAPIQ_ATTR_HOOKSWITCH:
            for (int d = 0; d < 3; d++)
                if ((u->id & a->hs_devs) & (1u << d))
                    a->hs_mode[d] = u->a;
            break;
        case TAPIQ_ATTR_VOLUME:
            if ((i = dev_index(u->id)) >= 0)
                a->volume[i] = u->a;
            break;
        case TAPIQ_ATTR_GAIN:
            if ((i = dev_index(u->id)) >= 0)
                a->gain[i] = u->a;
            break;
        case TAPIQ_ATTR_BUTTONINFO:
            if (u->id < a->nbuttons) {
                struct tapiq_mqtt_button *b = &a->buttons[u->id];
                b->mode = u->a;
                b->function = u->b;
                b->text_len = u->size < TAPIQ_MQTT_TEXT_MAX ? u->size : TAPIQ_MQTT_TEXT_MAX;
                if (b->text_len)
                    memcpy(b->text, u->data, b->text_len);
            }
            break;
        case TAPIQ_ATTR_DATA: {
            size_t off = 0;
            if (u->id >= a->ndata || !u->size || u->size > a->data_size[u->id])
                break;
            for (uint32_t d = 0; d < u->id; d++)
                off += a->data_size[d];
            memcpy(a->data + off, u->data, u->size);
            break;
        }
        default:
            break;
        }
    }
}
