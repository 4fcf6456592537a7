/* backends/mqtt/wire_parse.c - the parsers of the wire format: the state
 * message (versions 1 and 2) and the inbound console messages; see wire.h
 * and wire_state.h. A small strict JSON reader: only the documented members,
 * no duplicates, no byte read past the payload's end. */
#include "backends/mqtt/wire_state.h"

#include <errno.h>
#include <string.h>

#include <tapiq/tapi.h>

#include "backends/mqtt/wire.h"

struct cursor {
    const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static int expect(struct cursor *c, char ch)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch)
        return -EINVAL;
    c->p++;
    return 0;
}

/* After a value: 1 when a ',' follows (consumed), 0 when @close follows
 * (consumed), -EINVAL otherwise. */
static int next(struct cursor *c, char close)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        return 1;
    }
    return expect(c, close) ? -EINVAL : 0;
}

/* '[' then: 1 when the array is empty (']' consumed), else 0. */
static int open_array(struct cursor *c)
{
    if (expect(c, '['))
        return -EINVAL;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 1;
    }
    return 0;
}

/* A string without escapes (names, keys): [*s, *s + *len). */
static int get_name(struct cursor *c, const char **s, size_t *len)
{
    const char *q;
    if (expect(c, '"'))
        return -EINVAL;
    q = c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\' || (unsigned char)*c->p < 0x20)
            return -EINVAL;
        c->p++;
    }
    if (c->p >= c->end)
        return -EINVAL;
    *s = q;
    *len = (size_t)(c->p - q);
    c->p++;
    return 0;
}

static int get_key(struct cursor *c, const char **k, size_t *kl)
{
    return get_name(c, k, kl) || expect(c, ':') ? -EINVAL : 0;
}

static int key_is(const char *k, size_t kl, const char *name)
{
    return strlen(name) == kl && memcmp(k, name, kl) == 0;
}

/* An unsigned decimal integer <= max, no leading zeros, no sign. */
static int get_uint(struct cursor *c, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *start;
    skip_ws(c);
    start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        uint64_t d = (uint64_t)(*c->p - '0');
        if (d > max || v > (max - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
        c->p++;
    }
    if (c->p == start || (c->p - start > 1 && *start == '0'))
        return -EINVAL;
    *out = v;
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* A string with the escapes of wire_state.h, decoded into @out (NULL: only
 * counted; else -ENOSPC past @cap). @text: a button text (bytes >= 0x80
 * literal, \u up to 007f), else a display row (printable ASCII literal, \u
 * up to 00ff). */
static int get_bytes(struct cursor *c, uint8_t *out, size_t cap, size_t *len, int text)
{
    size_t n = 0;
    if (expect(c, '"'))
        return -EINVAL;
    for (;;) {
        uint8_t b;
        if (c->p >= c->end)
            return -EINVAL;
        b = (uint8_t)*c->p++;
        if (b == '"')
            break;
        if (b == '\\') {
            if (c->p >= c->end)
                return -EINVAL;
            b = (uint8_t)*c->p++;
            if (b == 'u') {
                int v = 0;
                if (c->end - c->p < 4 || c->p[0] != '0' || c->p[1] != '0')
                    return -EINVAL;
                for (int i = 2; i < 4; i++) {
                    int h = hexval(c->p[i]);
                    if (h < 0)
                        return -EINVAL;
                    v = v * 16 + h;
                }
                if (text && v > 0x7f)
                    return -EINVAL;
                c->p += 4;
                b = (uint8_t)v;
            } else if (b != '"' && b != '\\' && b != '/') {
                return -EINVAL;
            }
        } else if (b < 0x20 || b == 0x7f || (!text && b >= 0x80)) {
            return -EINVAL;
        }
        if (out) {
            if (n == cap)
                return -ENOSPC;
            out[n] = b;
        }
        n++;
    }
    *len = n;
    return 0;
}

/* Lower-case hex, two digits per byte, at most @max bytes. */
static int get_hex(struct cursor *c, uint8_t *out, size_t cap, size_t max, size_t *len)
{
    const char *s;
    size_t sl;
    if (get_name(c, &s, &sl) || sl % 2 || sl / 2 > max)
        return -EINVAL;
    if (out && sl / 2 > cap)
        return -ENOSPC;
    for (size_t i = 0; i < sl; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        if (out)
            out[i / 2] = (uint8_t)(hi * 16 + lo);
    }
    *len = sl / 2;
    return 0;
}

static int dev_index(const char *k, size_t kl)
{
    if (key_is(k, kl, "handset"))
        return 0;
    if (key_is(k, kl, "speaker"))
        return 1;
    if (key_is(k, kl, "headset"))
        return 2;
    return -1;
}

/* {"<dev>":<hsmode or uint>,...}: sets the device bits in *@devs. */
static int get_devs(struct cursor *c, uint32_t *devs, uint32_t *v, int modes)
{
    const char *k, *s;
    size_t kl, sl;
    uint64_t u;
    int rc;
    if (expect(c, '{'))
        return -EINVAL;
    do {
        int i;
        if (get_key(c, &k, &kl) || (i = dev_index(k, kl)) < 0 || (*devs & (1u << i)))
            return -EINVAL;
        *devs |= 1u << i;
        if (modes) {
            if (get_name(c, &s, &sl) || !(v[i] = tapiq_mqtt_hsmode_parse(s, sl)))
                return -EINVAL;
        } else {
            if (get_uint(c, 0xFFFF, &u))
                return -EINVAL;
            v[i] = (uint32_t)u;
        }
    } while ((rc = next(c, '}')) == 1);
    return rc;
}

static int get_button(struct cursor *c, struct tapiq_mqtt_button *b)
{
    const char *k, *s;
    size_t kl, sl, tl;
    uint64_t u;
    unsigned seen = 0;
    int rc;
    if (expect(c, '{'))
        return -EINVAL;
    do {
        unsigned bit;
        if (get_key(c, &k, &kl))
            return -EINVAL;
        if (key_is(k, kl, "id")) {
            bit = 1;
            if (get_uint(c, 0xFFFF, &u))
                return -EINVAL;
            b->id = (uint32_t)u;
        } else if (key_is(k, kl, "mode")) {
            bit = 2;
            b->mode = 0;
            if (get_name(c, &s, &sl))
                return -EINVAL;
            for (uint32_t m = 2; m <= 0x20; m <<= 1)
                if (strlen(tapiq_mqtt_bmode_name(m)) == sl &&
                    memcmp(tapiq_mqtt_bmode_name(m), s, sl) == 0)
                    b->mode = m;
            if (!b->mode)
                return -EINVAL;
        } else if (key_is(k, kl, "function")) {
            bit = 4;
            if (get_uint(c, UINT32_MAX, &u))
                return -EINVAL;
            b->function = (uint32_t)u;
        } else if (key_is(k, kl, "text")) {
            bit = 8;
            if ((rc = get_bytes(c, (uint8_t *)b->text, sizeof(b->text), &tl, 1)))
                return rc == -ENOSPC ? -EINVAL : rc;
            b->text_len = (uint32_t)tl;
        } else {
            return -EINVAL;
        }
        if (seen & bit)
            return -EINVAL;
        seen |= bit;
    } while ((rc = next(c, '}')) == 1);
    return rc ? rc : seen == 15 ? 0 : -EINVAL;
}

/* The value of one attribute member @k of a state message. */
static int attr_member(struct cursor *c, const char *k, size_t kl, struct tapiq_mqtt_attrs *a,
                       struct tapiq_mqtt_devspec *ds, uint32_t *nds, uint8_t *dsbuf,
                       size_t dscap, size_t *dsused)
{
    int rc, e;
    size_t n;
    uint64_t u;
    if (key_is(k, kl, "display")) {
        a->has |= TAPIQ_MQTT_HAS_DISPLAY;
        if ((e = open_array(c)))
            return -EINVAL; /* no rows */
        do {
            size_t off = (size_t)a->rows * a->cols;
            uint8_t *o = a->display ? a->display + off : NULL;
            size_t room = a->display && a->display_cap > off ? a->display_cap - off : 0;
            if ((rc = get_bytes(c, o, room, &n, 0)))
                return rc;
            if (n == 0 || (a->rows && n != a->cols) || (size_t)(a->rows + 1) * n > TAPIQ_MQTT_DISPLAY_MAX)
                return -EINVAL;
            a->cols = (uint32_t)n;
            a->rows++;
        } while ((rc = next(c, ']')) == 1);
        return rc;
    }
    if (key_is(k, kl, "ring")) {
        unsigned seen = 0;
        a->has |= TAPIQ_MQTT_HAS_RING;
        if (expect(c, '{'))
            return -EINVAL;
        do {
            const char *rk;
            size_t rkl;
            if (get_key(c, &rk, &rkl))
                return -EINVAL;
            if (key_is(rk, rkl, "mode") && !(seen & 1) && !get_uint(c, 255, &u)) {
                seen |= 1;
                a->ring_mode = (uint32_t)u;
            } else if (key_is(rk, rkl, "volume") && !(seen & 2) && !get_uint(c, 0xFFFF, &u)) {
                seen |= 2;
                a->ring_volume = (uint32_t)u;
            } else {
                return -EINVAL;
            }
        } while ((rc = next(c, '}')) == 1);
        return rc ? rc : seen == 3 ? 0 : -EINVAL;
    }
    if (key_is(k, kl, "hookswitch")) {
        a->has |= TAPIQ_MQTT_HAS_HOOKSWITCH;
        return get_devs(c, &a->hs_devs, a->hs_mode, 1);
    }
    if (key_is(k, kl, "volume"))
        return get_devs(c, &a->volume_devs, a->volume, 0);
    if (key_is(k, kl, "gain"))
        return get_devs(c, &a->gain_devs, a->gain, 0);
    if (key_is(k, kl, "buttons")) {
        a->has |= TAPIQ_MQTT_HAS_BUTTONS;
        if ((e = open_array(c)))
            return e < 0 ? e : 0;
        do {
            struct tapiq_mqtt_button tmp;
            struct tapiq_mqtt_button *b = a->buttons && a->nbuttons < a->buttons_cap
                                              ? &a->buttons[a->nbuttons] : &tmp;
            if (a->buttons && b == &tmp)
                return -ENOSPC;
            if ((rc = get_button(c, b)))
                return rc;
            a->nbuttons++;
        } while ((rc = next(c, ']')) == 1);
        return rc;
    }
    if (key_is(k, kl, "data") || key_is(k, kl, "devspecific")) {
        int dev = k[0] == 'd' && k[1] == 'e';
        size_t used = 0;
        if (!dev)
            a->has |= TAPIQ_MQTT_HAS_DATA;
        else
            *nds = 0;
        if ((e = open_array(c)))
            return e < 0 ? e : 0;
        do {
            if (dev) {
                uint8_t *o = dsbuf ? dsbuf + *dsused : NULL;
                if (*nds == TAPIQ_MQTT_DEVSPEC_MAX)
                    return -EINVAL;
                if ((rc = get_hex(c, o, dsbuf ? dscap - *dsused : 0, 65536, &n)))
                    return rc;
                if (ds) {
                    ds[*nds].data = o;
                    ds[*nds].size = (uint32_t)n;
                }
                *dsused += dsbuf ? n : 0;
                (*nds)++;
            } else {
                uint8_t *o = a->data ? a->data + used : NULL;
                if (a->ndata == TAPIQ_MQTT_DATA_AREAS)
                    return -EINVAL;
                if ((rc = get_hex(c, o, a->data ? a->data_cap - used : 0, 65536, &n)))
                    return rc;
                if (n == 0)
                    return -EINVAL; /* areas have 1 .. 65536 bytes */
                a->data_size[a->ndata++] = (uint32_t)n;
                used += a->data ? n : 0;
            }
        } while ((rc = next(c, ']')) == 1);
        return rc;
    }
    return -EINVAL;
}

int tapiq_mqtt_parse_state(const void *payload, size_t len, uint32_t *version, uint32_t *console,
                           uint64_t *seq, uint32_t *modes, uint32_t cap, uint32_t *nlamps,
                           struct tapiq_mqtt_attrs *a, struct tapiq_mqtt_devspec *ds,
                           uint32_t *nds, uint8_t *dsbuf, size_t dscap)
{
    struct cursor c = {(const char *)payload, (const char *)payload + len};
    struct tapiq_mqtt_attrs local;
    uint32_t seen = 0, n = 0, ver = 1, nds_local = 0;
    size_t dsused = 0;
    uint64_t v;
    int rc;
    static const char *const keys[] = {"v", "console", "seq", "lamps", "display", "ring",
                                       "hookswitch", "volume", "gain", "buttons", "data",
                                       "devspecific"};

    if (!payload && len)
        return -EINVAL;
    if (!a) {
        memset(&local, 0, sizeof(local));
        a = &local;
    } else {
        a->has = a->rows = a->cols = a->nbuttons = a->ndata = 0;
        a->hs_devs = a->volume_devs = a->gain_devs = 0;
    }
    if (!nds)
        nds = &nds_local;
    *nds = 0;
    if (expect(&c, '{'))
        return -EINVAL;
    do {
        const char *k;
        size_t kl;
        uint32_t bit = 0;
        if (get_key(&c, &k, &kl))
            return -EINVAL;
        for (uint32_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (key_is(k, kl, keys[i]))
                bit = 1u << i;
        if (!bit || (seen & bit))
            return -EINVAL;
        seen |= bit;
        if (bit == 1) {
            if (get_uint(&c, 2, &v) || v == 0)
                return -EINVAL;
            ver = (uint32_t)v;
        } else if (bit == 2) {
            if (get_uint(&c, UINT32_MAX, &v))
                return -EINVAL;
            *console = (uint32_t)v;
        } else if (bit == 4) {
            if (get_uint(&c, INT64_MAX, &v))
                return -EINVAL;
            *seq = v;
        } else if (bit == 8) {
            int e = open_array(&c);
            if (e < 0)
                return e;
            while (!e) {
                const char *s;
                size_t sl;
                uint32_t m;
                if (get_name(&c, &s, &sl) || !(m = tapiq_mqtt_mode_parse(s, sl)))
                    return -EINVAL;
                if (n == cap)
                    return -ENOSPC;
                modes[n++] = m;
                if ((e = next(&c, ']')) < 0)
                    return e;
                e = !e;
            }
        } else if ((rc = attr_member(&c, k, kl, a, ds, nds, dsbuf, dscap, &dsused))) {
            return rc;
        }
    } while ((rc = next(&c, '}')) == 1);
    if (rc)
        return rc;
    skip_ws(&c);
    if (c.p != c.end || (seen & 14) != 14)
        return -EINVAL;
    if (ver == 1 && (seen & ~15u))
        return -EINVAL; /* version 1 has lamps only */
    if ((a->volume_devs | a->gain_devs) & ~a->hs_devs)
        return -EINVAL; /* volume or gain of a device that is not listed */
    *version = ver;
    *nlamps = n;
    return 0;
}

/* ----------------------------------------------------------------- inbound */

int tapiq_mqtt_parse_inbound(const char *prefix, const char *topic, const void *payload,
                             size_t len, uint32_t ndev, struct tapiq_mqtt_inbound *out)
{
    static const char mid[] = "/console/";
    struct cursor c = {(const char *)payload, (const char *)payload + len};
    const char *p, *k, *s;
    size_t pl, kl, sl;
    uint32_t id = 0, kind;
    unsigned seen = 0;
    int digits = 0, rc;
    uint64_t u;

    if (!prefix || !topic || (!payload && len))
        return -EINVAL;
    pl = strlen(prefix);
    if (strncmp(topic, prefix, pl) != 0)
        return -EINVAL;
    p = topic + pl;
    if (strncmp(p, mid, sizeof(mid) - 1) != 0)
        return -EINVAL;
    p += sizeof(mid) - 1;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return -EINVAL; /* leading zero */
    while (*p >= '0' && *p <= '9') {
        if (++digits > 7)
            return -EINVAL;
        id = id * 10 + (uint32_t)(*p - '0');
        p++;
    }
    if (!digits)
        return -EINVAL;
    if (strcmp(p, "/online") == 0)
        kind = TAPIQ_MQTT_IN_ONLINE;
    else if (strcmp(p, "/button") == 0)
        kind = TAPIQ_MQTT_IN_BUTTON;
    else if (strcmp(p, "/hookswitch") == 0)
        kind = TAPIQ_MQTT_IN_HOOKSWITCH;
    else
        return -EINVAL;
    out->kind = kind;
    out->a = out->b = 0;
    if (kind == TAPIQ_MQTT_IN_ONLINE) {
        if (len == 0 || (len == 1 && ((const char *)payload)[0] == '1'))
            out->a = 1;
        else if (!(len == 1 && ((const char *)payload)[0] == '0'))
            return -EINVAL;
    } else {
        if (expect(&c, '{'))
            return -EINVAL;
        do {
            unsigned bit;
            if (get_key(&c, &k, &kl))
                return -EINVAL;
            if (kind == TAPIQ_MQTT_IN_BUTTON && key_is(k, kl, "button")) {
                bit = 1;
                if (get_uint(&c, 0xFFFF, &u))
                    return -EINVAL;
                out->a = (uint32_t)u;
            } else if (kind == TAPIQ_MQTT_IN_BUTTON && key_is(k, kl, "state")) {
                bit = 2;
                if (get_name(&c, &s, &sl))
                    return -EINVAL;
                if (key_is(s, sl, "down"))
                    out->b = PHONEBUTTONSTATE_DOWN;
                else if (key_is(s, sl, "up"))
                    out->b = PHONEBUTTONSTATE_UP;
                else
                    return -EINVAL;
            } else if (kind == TAPIQ_MQTT_IN_HOOKSWITCH && key_is(k, kl, "device")) {
                int i;
                bit = 1;
                if (get_name(&c, &s, &sl) || (i = dev_index(s, sl)) < 0)
                    return -EINVAL;
                out->a = 1u << i;
            } else if (kind == TAPIQ_MQTT_IN_HOOKSWITCH && key_is(k, kl, "mode")) {
                bit = 2;
                if (get_name(&c, &s, &sl) || !(out->b = tapiq_mqtt_hsmode_parse(s, sl)))
                    return -EINVAL;
            } else {
                return -EINVAL;
            }
            if (seen & bit)
                return -EINVAL;
            seen |= bit;
        } while ((rc = next(&c, '}')) == 1);
        if (rc)
            return rc;
        skip_ws(&c);
        if (c.p != c.end || seen != 3)
            return -EINVAL;
    }
    if (id >= ndev)
        return -ERANGE;
    out->device = id;
    return 0;
}
