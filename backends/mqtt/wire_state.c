/* backends/mqtt/wire_state.c - the state message (version 2) and the
 * inbound console messages; see wire_state.h. */
#include "backends/mqtt/wire_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backends/mqtt/wire.h"

static const char *const hsdev_names[3] = {"handset", "speaker", "headset"};
static const char *const hsmode_names[4] = {"onhook", "mic", "speaker", "micspeaker"};
static const char *const bmode_names[6] = {"dummy", "call", "feature", "keypad", "local",
                                           "display"};

/* The index of the single set bit of @v below @n, or -1. */
static int bit_index(uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        if (v == 1u << i)
            return i;
    return -1;
}

static int name_index(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

const char *tapiq_mqtt_hsdev_name(uint32_t dev)
{
    int i = bit_index(dev, 3);
    return i < 0 ? NULL : hsdev_names[i];
}

const char *tapiq_mqtt_hsmode_name(uint32_t mode)
{
    int i = bit_index(mode, 4);
    return i < 0 ? NULL : hsmode_names[i];
}

const char *tapiq_mqtt_bmode_name(uint32_t mode)
{
    int i = bit_index(mode, 6);
    return i < 0 ? NULL : bmode_names[i];
}

uint32_t tapiq_mqtt_hsmode_parse(const char *s, size_t len)
{
    int i = name_index(hsmode_names, 4, s, len);
    return i < 0 ? 0 : 1u << i;
}

/* ---------------------------------------------------------------- encoding */

struct out {
    char *buf;
    size_t cap, pos;
    int full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || o->pos + n >= o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->buf + o->pos, s, n);
    o->pos += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* @fmt: one conversion of @v and at most 40 other bytes. */
static void putf(struct out *o, const char *fmt, uint64_t v)
{
    char t[64];
    int n = snprintf(t, sizeof(t), fmt, v);
    if (n < 0 || (size_t)n >= sizeof(t)) {
        o->full = 1; /* cannot happen with the formats here */
        return;
    }
    put(o, t, (size_t)n);
}

/* A JSON string of @n bytes; @text: bytes >= 0x80 as themselves (UTF-8). */
static void put_str(struct out *o, const uint8_t *s, size_t n, int text)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = s[i];
        if (b == '"' || b == '\\') {
            char e[2] = {'\\', (char)b};
            put(o, e, 2);
        } else if (b >= 0x20 && (b < 0x7f || (text && b >= 0x80))) {
            put(o, (const char *)&b, 1);
        } else {
            putf(o, "\\u%04" PRIx64, b);
        }
    }
    put(o, "\"", 1);
}

static void put_hex(struct out *o, const uint8_t *s, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char h[2] = {digits[s[i] >> 4], digits[s[i] & 15]};
        put(o, h, 2);
    }
    put(o, "\"", 1);
}

static void put_devs(struct out *o, const char *key, uint32_t devs, const uint32_t *v, int modes)
{
    int first = 1;
    puts_(o, key);
    for (int i = 0; i < 3; i++) {
        if (!(devs & (1u << i)))
            continue;
        if (!first)
            put(o, ",", 1);
        first = 0;
        put(o, "\"", 1);
        puts_(o, hsdev_names[i]);
        put(o, "\":", 2);
        if (modes) {
            put(o, "\"", 1);
            puts_(o, tapiq_mqtt_hsmode_name(v[i]));
            put(o, "\"", 1);
        } else {
            putf(o, "%" PRIu64, v[i]);
        }
    }
    put(o, "}", 1);
}

size_t tapiq_mqtt_attrs_max(const struct tapiq_mqtt_attrs *a, uint32_t nds, size_t ds_bytes)
{
    size_t n = 64 + 32 * (size_t)nds + 2 * ds_bytes;
    if (!a)
        return n;
    if (a->has & TAPIQ_MQTT_HAS_DISPLAY)
        n += 16 + (size_t)a->rows * (3 + 6 * (size_t)a->cols);
    n += 48 + 3 * 3 * 40; /* ring, hookswitch, volume, gain */
    if (a->has & TAPIQ_MQTT_HAS_BUTTONS)
        n += 16 + (size_t)a->nbuttons * (80 + 6 * TAPIQ_MQTT_TEXT_MAX);
    if (a->has & TAPIQ_MQTT_HAS_DATA) {
        n += 16;
        for (uint32_t i = 0; i < a->ndata; i++)
            n += 4 + 2 * (size_t)a->data_size[i];
    }
    return n;
}

static int check_attrs(const struct tapiq_mqtt_attrs *a)
{
    size_t total = 0;
    if ((a->has & TAPIQ_MQTT_HAS_DISPLAY) &&
        ((size_t)a->rows * a->cols > TAPIQ_MQTT_DISPLAY_MAX || a->rows * a->cols == 0))
        return -EINVAL;
    if (a->has & TAPIQ_MQTT_HAS_HOOKSWITCH) {
        if (!a->hs_devs || a->hs_devs > 7 || (a->volume_devs & ~a->hs_devs) ||
            (a->gain_devs & ~a->hs_devs))
            return -EINVAL;
        for (int i = 0; i < 3; i++)
            if ((a->hs_devs & (1u << i)) && !tapiq_mqtt_hsmode_name(a->hs_mode[i]))
                return -EINVAL;
    }
    for (uint32_t i = 0; (a->has & TAPIQ_MQTT_HAS_BUTTONS) && i < a->nbuttons; i++) {
        const struct tapiq_mqtt_button *b = &a->buttons[i];
        if (!tapiq_mqtt_bmode_name(b->mode) || b->text_len > TAPIQ_MQTT_TEXT_MAX)
            return -EINVAL;
    }
    for (uint32_t i = 0; (a->has & TAPIQ_MQTT_HAS_DATA) && i < a->ndata; i++)
        total += a->data_size[i];
    if ((a->has & TAPIQ_MQTT_HAS_DATA) && (a->ndata > TAPIQ_MQTT_DATA_AREAS || total > a->data_cap))
        return -EINVAL;
    return 0;
}

int tapiq_mqtt_encode_state(char *buf, size_t cap, uint32_t console, uint64_t seq,
                            const uint32_t *modes, uint32_t nlamps,
                            const struct tapiq_mqtt_attrs *a, const struct tapiq_mqtt_devspec *ds,
                            uint32_t nds)
{
    struct out o = {buf, cap, 0, 0};
    if (a && check_attrs(a))
        return -EINVAL;
    if (nds > TAPIQ_MQTT_DEVSPEC_MAX)
        return -EINVAL;
    putf(&o, "{\"v\":2,\"console\":%" PRIu64, console);
    putf(&o, ",\"seq\":%" PRIu64 ",\"lamps\":[", seq);
    for (uint32_t i = 0; i < nlamps; i++) {
        const char *name = tapiq_mqtt_mode_name(modes[i]);
        if (!name)
            return -EINVAL;
        if (i)
            put(&o, ",", 1);
        put(&o, "\"", 1);
        puts_(&o, name);
        put(&o, "\"", 1);
    }
    put(&o, "]", 1);
    if (a && (a->has & TAPIQ_MQTT_HAS_DISPLAY)) {
        puts_(&o, ",\"display\":[");
        for (uint32_t r = 0; r < a->rows; r++) {
            if (r)
                put(&o, ",", 1);
            put_str(&o, a->display + (size_t)r * a->cols, a->cols, 0);
        }
        put(&o, "]", 1);
    }
    if (a && (a->has & TAPIQ_MQTT_HAS_RING)) {
        putf(&o, ",\"ring\":{\"mode\":%" PRIu64, a->ring_mode);
        putf(&o, ",\"volume\":%" PRIu64 "}", a->ring_volume);
    }
    if (a && (a->has & TAPIQ_MQTT_HAS_HOOKSWITCH)) {
        put_devs(&o, ",\"hookswitch\":{", a->hs_devs, a->hs_mode, 1);
        if (a->volume_devs)
            put_devs(&o, ",\"volume\":{", a->volume_devs, a->volume, 0);
        if (a->gain_devs)
            put_devs(&o, ",\"gain\":{", a->gain_devs, a->gain, 0);
    }
    if (a && (a->has & TAPIQ_MQTT_HAS_BUTTONS)) {
        int first = 1;
        puts_(&o, ",\"buttons\":[");
        for (uint32_t i = 0; i < a->nbuttons; i++) {
            const struct tapiq_mqtt_button *b = &a->buttons[i];
            if (b->mode == 1)
                continue; /* DUMMY: a lamp without a button, not listed */
            putf(&o, first ? "{\"id\":%" PRIu64 : ",{\"id\":%" PRIu64, b->id);
            first = 0;
            puts_(&o, ",\"mode\":\"");
            puts_(&o, tapiq_mqtt_bmode_name(b->mode));
            putf(&o, "\",\"function\":%" PRIu64 ",\"text\":", b->function);
            put_str(&o, (const uint8_t *)b->text, b->text_len, 1);
            put(&o, "}", 1);
        }
        put(&o, "]", 1);
    }
    if (a && (a->has & TAPIQ_MQTT_HAS_DATA)) {
        size_t off = 0;
        puts_(&o, ",\"data\":[");
        for (uint32_t i = 0; i < a->ndata; i++) {
            if (i)
                put(&o, ",", 1);
            put_hex(&o, a->data + off, a->data_size[i]);
            off += a->data_size[i];
        }
        put(&o, "]", 1);
    }
    if (nds) {
        puts_(&o, ",\"devspecific\":[");
        for (uint32_t i = 0; i < nds; i++) {
            if (i)
                put(&o, ",", 1);
            put_hex(&o, ds[i].data, ds[i].size);
        }
        put(&o, "]", 1);
    }
    put(&o, "}", 1);
    if (o.full)
        return -ENOSPC;
    buf[o.pos] = '\0';
    return (int)o.pos;
}
