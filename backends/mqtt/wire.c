/* backends/mqtt/wire.c - encode and parse the MQTT wire format; see wire.h. */
#include "backends/mqtt/wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
    uint32_t mode;
    const char *name;
} mode_names[] = {
    {0x01, "dummy"}, {0x02, "off"},     {0x04, "steady"},        {0x08, "wink"},
    {0x10, "flash"}, {0x20, "flutter"}, {0x40, "brokenflutter"}, {0x80, "unknown"},
};

const char *tapiq_mqtt_mode_name(uint32_t mode)
{
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
        if (mode_names[i].mode == mode)
            return mode_names[i].name;
    return NULL;
}

uint32_t tapiq_mqtt_mode_parse(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
        if (strlen(mode_names[i].name) == len && memcmp(mode_names[i].name, s, len) == 0)
            return mode_names[i].mode;
    return 0;
}

int tapiq_mqtt_encode_lamps(char *buf, size_t cap, uint32_t console, uint64_t seq,
                            const uint32_t *modes, uint32_t nlamps)
{
    size_t pos;
    int n = snprintf(buf, cap, "{\"console\":%" PRIu32 ",\"seq\":%" PRIu64 ",\"lamps\":[", console,
                     seq);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    pos = (size_t)n;
    for (uint32_t i = 0; i < nlamps; i++) {
        const char *name = tapiq_mqtt_mode_name(modes[i]);
        size_t l;
        if (!name)
            return -EINVAL;
        l = strlen(name);
        if (pos + l + 3 >= cap)
            return -ENOSPC;
        if (i)
            buf[pos++] = ',';
        buf[pos++] = '"';
        memcpy(buf + pos, name, l);
        pos += l;
        buf[pos++] = '"';
    }
    if (pos + 3 > cap)
        return -ENOSPC;
    buf[pos++] = ']';
    buf[pos++] = '}';
    buf[pos] = '\0';
    return (int)pos;
}

/* ------------------------------------------------------------------ parsing */

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

/* A string without escapes: sets [*s, *s + *len). */
static int get_string(struct cursor *c, const char **s, size_t *len)
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

/* An unsigned decimal integer <= max, no leading zeros, no sign. */
static int get_uint(struct cursor *c, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *start;
    skip_ws(c);
    start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        uint64_t d = (uint64_t)(*c->p - '0');
        if (v > (max - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
        c->p++;
    }
    if (c->p == start || (c->p - start > 1 && *start == '0'))
        return -EINVAL;
    *out = v;
    return 0;
}

int tapiq_mqtt_parse_lamps(const void *payload, size_t len, uint32_t *console, uint64_t *seq,
                           uint32_t *modes, uint32_t cap, uint32_t *nlamps)
{
    struct cursor c = {(const char *)payload, (const char *)payload + len};
    int have_console = 0, have_seq = 0, have_lamps = 0, rc;
    uint64_t v;
    uint32_t n = 0;

    if (!payload && len)
        return -EINVAL;
    if (expect(&c, '{'))
        return -EINVAL;
    for (;;) {
        const char *key;
        size_t klen;
        if (get_string(&c, &key, &klen) || expect(&c, ':'))
            return -EINVAL;
        if (klen == 7 && memcmp(key, "console", 7) == 0) {
            if (have_console++ || get_uint(&c, UINT32_MAX, &v))
                return -EINVAL;
            *console = (uint32_t)v;
        } else if (klen == 3 && memcmp(key, "seq", 3) == 0) {
            if (have_seq++ || get_uint(&c, INT64_MAX, &v))
                return -EINVAL;
            *seq = v;
        } else if (klen == 5 && memcmp(key, "lamps", 5) == 0) {
            if (have_lamps++ || expect(&c, '['))
                return -EINVAL;
            skip_ws(&c);
            if (c.p < c.end && *c.p == ']') {
                c.p++;
            } else {
                for (;;) {
                    const char *s;
                    size_t sl;
                    uint32_t m;
                    if (get_string(&c, &s, &sl))
                        return -EINVAL;
                    m = tapiq_mqtt_mode_parse(s, sl);
                    if (!m)
                        return -EINVAL;
                    if (n == cap)
                        return -ENOSPC;
                    modes[n++] = m;
                    skip_ws(&c);
                    if (c.p < c.end && *c.p == ',') {
                        c.p++;
                        continue;
                    }
                    if (expect(&c, ']'))
                        return -EINVAL;
                    break;
                }
            }
        } else {
            return -EINVAL;
        }
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        break;
    }
    if ((rc = expect(&c, '}')))
        return rc;
    skip_ws(&c);
    if (c.p != c.end || !have_console || !have_seq || !have_lamps)
        return -EINVAL;
    *nlamps = n;
    return 0;
}

int tapiq_mqtt_parse_presence(const char *prefix, const char *topic, const void *payload,
                              size_t len, uint32_t ndev, uint32_t *device, int *online)
{
    static const char mid[] = "/console/";
    static const char tail[] = "/online";
    size_t pl;
    const char *p;
    uint32_t id = 0;
    int digits = 0;

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
    if (!digits || strcmp(p, tail) != 0)
        return -EINVAL;
    if (len == 0) {
        *online = 1;
    } else if (len == 1 && ((const char *)payload)[0] == '1') {
        *online = 1;
    } else if (len == 1 && ((const char *)payload)[0] == '0') {
        *online = 0;
    } else {
        return -EINVAL;
    }
    if (id >= ndev)
        return -ERANGE;
    *device = id;
    return 0;
}
