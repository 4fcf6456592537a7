/* fuzz_wire - libFuzzer target for the mqtt backend's inbound parsers.
 *
 * Input: byte 0 selects the parser. Even: a message a console publishes,
 * the rest is "<topic>\n<payload>" (the topic ends at the first '\n' or
 * NUL), checked against prefix "tapiq" and 100 consoles (online, button,
 * hookswitch: tapiq_mqtt_parse_inbound; presence alone through
 * tapiq_mqtt_parse_presence as well). Odd: the rest is a state message
 * (version 1 or 2, every attribute).
 * Properties checked beyond "no crash": a parsed inbound message names a
 * console below 100 and values of its kind (online 0 or 1, one state bit,
 * one hookswitch device and mode bit), and presence agrees with it; a parsed
 * state message re-encodes and parses back to the same console, seq, lamps,
 * attributes and device-specific bytes, and parse_lamps accepts it too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/mqtt/wire.h"
#include "backends/mqtt/wire_state.h"

int tapiq_fuzz_wire_one(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int one_bit(uint32_t v, uint32_t below)
{
    return v && !(v & (v - 1)) && v < below;
}

static int inbound(const uint8_t *data, size_t size)
{
    char topic[256];
    size_t tl = 0;
    const uint8_t *p = data, *end = data + size;
    uint32_t dev = 12345;
    int online = -1, rc, prc;
    struct tapiq_mqtt_inbound in;
    while (p + tl < end && p[tl] != '\n' && p[tl] != '\0' && tl < sizeof(topic) - 1)
        tl++;
    memcpy(topic, p, tl);
    topic[tl] = '\0';
    p += tl;
    if (p < end)
        p++; /* the separator */
    rc = tapiq_mqtt_parse_inbound("tapiq", topic, p, (size_t)(end - p), 100, &in);
    prc = tapiq_mqtt_parse_presence("tapiq", topic, p, (size_t)(end - p), 100, &dev, &online);
    if (rc == 0) {
        if (in.device >= 100)
            abort();
        if (in.kind == TAPIQ_MQTT_IN_ONLINE &&
            (in.a > 1 || prc != 0 || dev != in.device || online != (int)in.a))
            abort();
        if (in.kind == TAPIQ_MQTT_IN_BUTTON && (in.a > 0xFFFF || (in.b != 1 && in.b != 2)))
            abort();
        if (in.kind == TAPIQ_MQTT_IN_HOOKSWITCH && (!one_bit(in.a, 8) || !one_bit(in.b, 16)))
            abort();
        if (in.kind != TAPIQ_MQTT_IN_ONLINE && prc == 0)
            abort();
    } else if (prc == 0) {
        abort();
    }
    return rc;
}

/* Storage of one parsed state message. */
struct parsed {
    uint32_t version, console, n, nds, modes[4096];
    uint64_t seq;
    struct tapiq_mqtt_attrs a;
    struct tapiq_mqtt_devspec ds[TAPIQ_MQTT_DEVSPEC_MAX];
    uint8_t display[TAPIQ_MQTT_DISPLAY_MAX];
    struct tapiq_mqtt_button buttons[64];
    uint8_t data[1 << 16], dsbuf[1 << 16];
};

static int parse(const void *p, size_t len, struct parsed *x)
{
    memset(&x->a, 0, sizeof(x->a));
    x->a.display = x->display;
    x->a.display_cap = sizeof(x->display);
    x->a.buttons = x->buttons;
    x->a.buttons_cap = 64;
    x->a.data = x->data;
    x->a.data_cap = sizeof(x->data);
    return tapiq_mqtt_parse_state(p, len, &x->version, &x->console, &x->seq, x->modes, 4096,
                                  &x->n, &x->a, x->ds, &x->nds, x->dsbuf, sizeof(x->dsbuf));
}

static int same(const struct parsed *x, const struct parsed *y)
{
    const struct tapiq_mqtt_attrs *a = &x->a, *b = &y->a;
    size_t data = 0;
    if (x->console != y->console || x->seq != y->seq || x->n != y->n || x->nds != y->nds ||
        memcmp(x->modes, y->modes, x->n * sizeof(uint32_t)) || a->has != b->has ||
        a->rows != b->rows || a->cols != b->cols || a->ndata != b->ndata ||
        a->nbuttons != b->nbuttons || a->hs_devs != b->hs_devs ||
        a->volume_devs != b->volume_devs || a->gain_devs != b->gain_devs)
        return 0;
    if (memcmp(a->display, b->display, (size_t)a->rows * a->cols))
        return 0;
    if ((a->has & TAPIQ_MQTT_HAS_RING) &&
        (a->ring_mode != b->ring_mode || a->ring_volume != b->ring_volume))
        return 0;
    for (int i = 0; i < 3; i++)
        if (((a->hs_devs >> i) & 1 && a->hs_mode[i] != b->hs_mode[i]) ||
            ((a->volume_devs >> i) & 1 && a->volume[i] != b->volume[i]) ||
            ((a->gain_devs >> i) & 1 && a->gain[i] != b->gain[i]))
            return 0;
    for (uint32_t i = 0; i < a->nbuttons; i++) {
        const struct tapiq_mqtt_button *p = &a->buttons[i], *q = &b->buttons[i];
        if (p->id != q->id || p->mode != q->mode || p->function != q->function ||
            p->text_len != q->text_len || memcmp(p->text, q->text, p->text_len))
            return 0;
    }
    for (uint32_t i = 0; i < a->ndata; i++) {
        if (a->data_size[i] != b->data_size[i])
            return 0;
        data += a->data_size[i];
    }
    if (memcmp(a->data, b->data, data))
        return 0;
    for (uint32_t i = 0; i < x->nds; i++)
        if (x->ds[i].size != y->ds[i].size || memcmp(x->ds[i].data, y->ds[i].data, x->ds[i].size))
            return 0;
    return 1;
}

static int state(const uint8_t *data, size_t size)
{
    static struct parsed x, y;
    static char buf[1 << 19];
    uint32_t c, n, modes[4096];
    uint64_t seq;
    int rc = parse(data, size, &x), len;
    if (rc != 0)
        return rc;
    if (tapiq_mqtt_parse_lamps(data, size, &c, &seq, modes, 4096, &n) != 0 || c != x.console ||
        seq != x.seq || n != x.n)
        abort();
    len = tapiq_mqtt_encode_state(buf, sizeof(buf), x.console, x.seq, x.modes, x.n,
                                  x.version == 2 ? &x.a : NULL, x.ds, x.nds);
    if (len < 0 || parse(buf, (size_t)len, &y) != 0 || y.version != 2 || !same(&x, &y))
        abort();
    return 0;
}

int tapiq_fuzz_wire_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return -1;
    return (data[0] & 1) == 0 ? inbound(data + 1, size - 1) : state(data + 1, size - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tapiq_fuzz_wire_one(data, size);
    return 0;
}
