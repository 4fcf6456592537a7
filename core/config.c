/* core/config.c - configuration grammar and backend registry; see config.h. */
#include "core/alloc.h"
#include "core/config.h"

#include "core/payload.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"

#define TAPIQ_MAX_BACKENDS 16

static const tapiq_backend_ops *tapiq_backends[TAPIQ_MAX_BACKENDS] = {
    &tapiq_mem_backend,
#ifdef TAPIQ_HAVE_MQTT
    &tapiq_mqtt_backend,
#endif
};
static unsigned tapiq_nbackends =
#ifdef TAPIQ_HAVE_MQTT
    2;
#else
    1;
#endif

const tapiq_backend_ops *tapiq_backend_find(const char *name)
{
    for (unsigned i = 0; i < tapiq_nbackends; i++)
        if (strcmp(tapiq_backends[i]->name, name) == 0)
            return tapiq_backends[i];
    return NULL;
}

int tapiq_backend_register_unsync(const tapiq_backend_ops *ops)
{
    if (!ops || !ops->name || !ops->name[0] || strlen(ops->name) > 31 || strchr(ops->name, ',') ||
        strchr(ops->name, '=') || !ops->start ||
        (!ops->apply && !ops->apply_sync) || !ops->stop)
        return -EINVAL;
    if (tapiq_backend_find(ops->name))
        return -EEXIST;
    if (tapiq_nbackends == TAPIQ_MAX_BACKENDS)
        return -ENOSPC;
    tapiq_backends[tapiq_nbackends++] = ops;
    return 0;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int tapiq_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return -EINVAL;
    }
    if (v < min || v > max)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* One item, split and trimmed in place. */
struct item {
    char *key;
    char *value;
};

static char *trim(char *s)
{
    char *e;
    while (*s && isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

struct core_key {
    const char *name;
    size_t offset;
    uint32_t min, max;
};

static const struct core_key core_keys[] = {
    {"devices", offsetof(struct tapiq_config, devices), 1, TAPIQ_MAX_DEVICES},
    {"lamps", offsetof(struct tapiq_config, lamps), 0, TAPIQ_MAX_LAMPS},
    {"workers", offsetof(struct tapiq_config, workers), 1, TAPIQ_MAX_WORKERS},
    {"queue", offsetof(struct tapiq_config, queue), 1, TAPIQ_MAX_QUEUE},
    {"events", offsetof(struct tapiq_config, events), 1, TAPIQ_MAX_EVENTS},
    {"threads", offsetof(struct tapiq_config, threads), 1, TAPIQ_MAX_THREADS},
    {"payloads", offsetof(struct tapiq_config, payloads), 1, TAPIQ_MAX_PAYLOADS},
    {"payload_bytes", offsetof(struct tapiq_config, payload_bytes), 16, TAPIQ_MAX_PAYLOAD_BYTES},
    {"nap_us", offsetof(struct tapiq_config, nap_us), 0, TAPIQ_MAX_NAP_US},
};

static size_t key_hash(const char *k)
{
    size_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

int tapiq_config_parse(const char *text, struct tapiq_config *out, char *err, size_t errlen)
{
    uint32_t *hset = NULL;
    size_t hcap = 0;
    char *buf, *p;
    struct item *items = NULL;
    size_t nitems = 0, cap = 0;
    int rc = 0;
    const char *bname = "mem";

    memset(out, 0, sizeof(*out));
    out->devices = 16;
    out->lamps = 16;
    out->workers = 2;
    out->queue = 1024;
    out->events = 65536;
    out->threads = 64;
    out->payloads = 64;
    out->payload_bytes = 4096;
    out->nap_us = 100;
    seterr(err, errlen, "%s", "");

    buf = tapiq_strdup(text ? text : "");
    if (!buf) {
        seterr(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (*trim(buf) != '\0') {
        /* Split into items. */
        p = buf;
        for (;;) {
            char *comma = strchr(p, ',');
            char *eq, *key, *value;
            if (comma)
                *comma = '\0';
            eq = strchr(p, '=');
            if (!eq) {
                seterr(err, errlen, "configuration item '%s' is not key=value", trim(p));
                rc = -EINVAL;
                goto out;
            }
            *eq = '\0';
            key = trim(p);
            value = trim(eq + 1);
            if (!*key) {
                seterr(err, errlen, "configuration item with an empty key");
                rc = -EINVAL;
                goto out;
            }
            if (nitems + 1 > hcap / 2) { /* keep the key set at most half full */
                size_t ncap = hcap ? hcap * 2 : 32;
                uint32_t *nh = tapiq_calloc(ncap, sizeof(*nh));
                if (!nh) {
                    seterr(err, errlen, "out of memory");
                    rc = -ENOMEM;
                    goto out;
                }
                for (size_t i = 0; i < nitems; i++) {
                    size_t h = key_hash(items[i].key) & (ncap - 1);
                    while (nh[h])
                        h = (h + 1) & (ncap - 1);
                    nh[h] = (uint32_t)i + 1;
                }
                free(hset);
                hset = nh;
                hcap = ncap;
            }
            {
                /* The keys seen so far, hashed: linear in the number of
                 * items (a long list of keys is refused quickly). */
                size_t h = key_hash(key) & (hcap - 1);
                for (; hset[h]; h = (h + 1) & (hcap - 1)) {
                    if (strcmp(items[hset[h] - 1].key, key) == 0) {
                        seterr(err, errlen, "configuration key '%s' given twice", key);
                        rc = -EINVAL;
                        goto out;
                    }
                }
                hset[h] = (uint32_t)nitems + 1;
            }
            if (nitems == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                struct item *n = tapiq_realloc(items, ncap * sizeof(*n));
                if (!n) {
                    seterr(err, errlen, "out of memory");
                    rc = -ENOMEM;
                    goto out;
                }
                items = n;
                cap = ncap;
            }
            items[nitems].key = key;
            items[nitems].value = value;
            nitems++;
            if (!comma)
                break;
            p = comma + 1;
        }
    }

    for (size_t i = 0; i < nitems; i++)
        if (strcmp(items[i].key, "backend") == 0)
            bname = items[i].value;
    out->backend = tapiq_backend_find(bname);
    if (!out->backend) {
        seterr(err, errlen, "unknown backend '%s'", bname);
        rc = -EINVAL;
        goto out;
    }
    if (out->backend->config_new) {
        out->backend_cfg = out->backend->config_new();
        if (!out->backend_cfg) {
            seterr(err, errlen, "out of memory");
            rc = -ENOMEM;
            goto out;
        }
    }

    for (size_t i = 0; i < nitems; i++) {
        const char *key = items[i].key, *value = items[i].value;
        int done = 0;
        if (strcmp(key, "backend") == 0)
            continue;
        for (size_t k = 0; k < sizeof(core_keys) / sizeof(core_keys[0]); k++) {
            const struct core_key *ck = &core_keys[k];
            if (strcmp(key, ck->name) != 0)
                continue;
            if (tapiq_parse_u32(value, ck->min, ck->max, (uint32_t *)((char *)out + ck->offset))) {
                seterr(err, errlen, "bad value '%s' for '%s': expected an integer from %u to %u",
                       value, key, ck->min, ck->max);
                rc = -EINVAL;
                goto out;
            }
            done = 1;
            break;
        }
        if (done)
            continue;
        if (out->backend->config_key) {
            char berr[200] = "";
            int r = out->backend->config_key(out->backend_cfg, key, value, berr, sizeof(berr));
            if (r == 0)
                continue;
            if (r != -ENOENT) {
                if (berr[0])
                    seterr(err, errlen, "%s", berr);
                else
                    seterr(err, errlen, "bad value '%s' for '%s'", value, key);
                rc = r == -ENOMEM ? -ENOMEM : -EINVAL;
                goto out;
            }
        }
        seterr(err, errlen, "unknown configuration key '%s' (backend %s)", key,
               out->backend->name);
        rc = -EINVAL;
        goto out;
    }

    if (out->backend->config_check) {
        char berr[200] = "";
        int r = out->backend->config_check(out->backend_cfg, out->devices, out->lamps, berr,
                                           sizeof(berr));
        if (r) {
            seterr(err, errlen, "%s", berr[0] ? berr : "bad backend configuration");
            rc = r == -ENOMEM ? -ENOMEM : -EINVAL;
            goto out;
        }
    }

out:
    free(hset);
    free(items);
    free(buf);
    if (rc)
        tapiq_config_free(out);
    return rc;
}

void tapiq_config_free(struct tapiq_config *cfg)
{
    if (cfg->backend && cfg->backend->config_free && cfg->backend_cfg)
        cfg->backend->config_free(cfg->backend_cfg);
    cfg->backend_cfg = NULL;
}
