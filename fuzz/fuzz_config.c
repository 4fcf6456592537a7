/* fuzz/fuzz_config.c - the configuration grammar (TAPIQ_CONFIG and
 * tapiq_configure) on any bytes.
 *
 * Checks: tapiq_config_parse either returns -EINVAL with a non-empty,
 * terminated message, or 0 with every field in range; parsing is
 * deterministic; tapiq_configure agrees with it; and, for the built-in mem
 * backend, the accept/reject decision and the core values match a small
 * independent reference parser written from the grammar in core/config.h:
 * comma-separated key=value items, blanks around keys and values ignored,
 * unsigned decimal numbers, unknown/duplicate keys, empty items, missing '='
 * and out-of-range values rejected, "" meaning all defaults. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "fuzz/fuzz.h"
#include "tapiq/tapiq.h"

struct ref {
    uint32_t devices, lamps, workers, queue, events, threads, payloads, payload_bytes, nap_us;
};

struct ref_key {
    const char *name;
    uint32_t min, max;
    int core; /* index in the core fields, or -1 for a mem backend key */
};

static const struct ref_key ref_keys[] = {
    {"devices", 1, TAPIQ_MAX_DEVICES, 0}, {"lamps", 0, TAPIQ_MAX_LAMPS, 1},
    {"workers", 1, TAPIQ_MAX_WORKERS, 2}, {"queue", 1, TAPIQ_MAX_QUEUE, 3},
    {"events", 1, TAPIQ_MAX_EVENTS, 4},   {"threads", 1, TAPIQ_MAX_THREADS, 5},
    {"payloads", 1, 32768, 6},            {"payload_bytes", 16, 65536, 7},
    {"nap_us", 0, 1000, 8},
    {"fail_ppm", 0, 1000000, -1},
    {"latency_us", 0, 10000000, -1},      {"offline", 0, TAPIQ_MAX_DEVICES, -1},
};

static int ref_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* [b, e) trimmed */
static void ref_trim(const char **b, const char **e)
{
    while (*b < *e && ref_space(**b))
        (*b)++;
    while (*e > *b && ref_space((*e)[-1]))
        (*e)--;
}

static int ref_eq(const char *b, const char *e, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(e - b) == n && memcmp(b, s, n) == 0;
}

static int ref_u32(const char *b, const char *e, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (b == e)
        return -1;
    for (const char *p = b; p < e; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    if (v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Returns 1 accepted, 0 rejected, -1 the backend is not mem (not modelled). */
static int ref_parse(const char *text, struct ref *r)
{
    const char *keys[64][2];
    size_t nkeys = 0;
    const char *p = text, *end = text + strlen(text), *tb = text, *te = end;
    const char *backend_b = NULL, *backend_e = NULL;
    uint32_t *core[9], offline = 0;
    r->devices = 16;
    r->lamps = 16;
    r->workers = 2;
    r->queue = 1024;
    r->events = 65536;
    r->threads = 64;
    r->payloads = 64;
    r->payload_bytes = 4096;
    r->nap_us = 100;
    core[0] = &r->devices;
    core[1] = &r->lamps;
    core[2] = &r->workers;
    core[3] = &r->queue;
    core[4] = &r->events;
    core[5] = &r->threads;
    core[6] = &r->payloads;
    core[7] = &r->payload_bytes;
    core[8] = &r->nap_us;
    ref_trim(&tb, &te);
    if (tb == te)
        return 1;
    /* Pass 1: syntax, duplicates, the backend. */
    for (;;) {
        const char *ie = memchr(p, ',', (size_t)(end - p));
        const char *eq, *kb, *ke;
        if (!ie)
            ie = end;
        eq = memchr(p, '=', (size_t)(ie - p));
        if (!eq)
            return 0;
        kb = p;
        ke = eq;
        ref_trim(&kb, &ke);
        if (kb == ke)
            return 0;
        for (size_t i = 0; i < nkeys; i++)
            if ((size_t)(keys[i][1] - keys[i][0]) == (size_t)(ke - kb) &&
                memcmp(keys[i][0], kb, (size_t)(ke - kb)) == 0)
                return 0;
        if (nkeys == sizeof(keys) / sizeof(keys[0]))
            return 0; /* more distinct keys than there are known keys */
        keys[nkeys][0] = kb;
        keys[nkeys][1] = ke;
        nkeys++;
        if (ref_eq(kb, ke, "backend")) {
            backend_b = eq + 1;
            backend_e = ie;
            ref_trim(&backend_b, &backend_e);
        }
        if (ie == end)
            break;
        p = ie + 1;
    }
    if (backend_b && !ref_eq(backend_b, backend_e, "mem")) {
        char name[64];
        size_t n = (size_t)(backend_e - backend_b);
        if (n >= sizeof(name) || memchr(backend_b, '\0', n))
            return 0; /* no backend has such a name (names are at most 31 bytes) */
        memcpy(name, backend_b, n);
        name[n] = '\0';
        return tapiq_backend_find(name) ? -1 : 0; /* another backend: not modelled */
    }
    /* Pass 2: values, in order. */
    p = text;
    for (;;) {
        const char *ie = memchr(p, ',', (size_t)(end - p));
        const char *eq, *kb, *ke, *vb, *ve;
        int known = 0;
        if (!ie)
            ie = end;
        eq = memchr(p, '=', (size_t)(ie - p));
        kb = p;
        ke = eq;
        vb = eq + 1;
        ve = ie;
        ref_trim(&kb, &ke);
        ref_trim(&vb, &ve);
        if (ref_eq(kb, ke, "backend")) {
            known = 1;
        } else {
            for (size_t k = 0; k < sizeof(ref_keys) / sizeof(ref_keys[0]); k++) {
                uint32_t v;
                if (!ref_eq(kb, ke, ref_keys[k].name))
                    continue;
                if (ref_u32(vb, ve, ref_keys[k].min, ref_keys[k].max, &v))
                    return 0;
                if (ref_keys[k].core >= 0)
                    *core[ref_keys[k].core] = v;
                else if (ref_eq(kb, ke, "offline"))
                    offline = v;
                known = 1;
                break;
            }
        }
        if (!known) {
            /* The mem backend's console attribute keys (display, ring_modes,
             * hookswitch, buttons, button_text, data, each also as KEY@N or
             * KEY@A-B) have a grammar of their own that this model does not
             * follow: no verdict for a text that uses one. */
            static const char *const attr[] = {"display", "ring_modes", "hookswitch",
                                               "buttons", "button_text", "data"};
            for (size_t k = 0; k < sizeof(attr) / sizeof(attr[0]); k++) {
                size_t n = strlen(attr[k]);
                if ((size_t)(ke - kb) >= n && memcmp(kb, attr[k], n) == 0 &&
                    (kb + n == ke || kb[n] == '@'))
                    return -1;
            }
            return 0;
        }
        if (ie == end)
            break;
        p = ie + 1;
    }
    /* The mem backend's whole-configuration check. */
    return offline <= r->devices;
}

static void check_fields(const struct tapiq_config *c)
{
    FUZZ_CHECK(c->backend != NULL && c->backend->name != NULL, "no backend");
    FUZZ_CHECK(tapiq_backend_find(c->backend->name) == c->backend, "unregistered backend");
    FUZZ_CHECK(c->devices >= 1 && c->devices <= TAPIQ_MAX_DEVICES, "devices=%u", c->devices);
    FUZZ_CHECK(c->lamps <= TAPIQ_MAX_LAMPS, "lamps=%u", c->lamps);
    FUZZ_CHECK(c->workers >= 1 && c->workers <= TAPIQ_MAX_WORKERS, "workers=%u", c->workers);
    FUZZ_CHECK(c->queue >= 1 && c->queue <= TAPIQ_MAX_QUEUE, "queue=%u", c->queue);
    FUZZ_CHECK(c->events >= 1 && c->events <= TAPIQ_MAX_EVENTS, "events=%u", c->events);
    FUZZ_CHECK(c->threads >= 1 && c->threads <= TAPIQ_MAX_THREADS, "threads=%u", c->threads);
    FUZZ_CHECK(c->payloads >= 1 && c->payloads <= 32768, "payloads=%u", c->payloads);
    FUZZ_CHECK(c->payload_bytes >= 16 && c->payload_bytes <= 65536, "payload_bytes=%u",
               c->payload_bytes);
    FUZZ_CHECK(c->nap_us <= 1000, "nap_us=%u", c->nap_us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    char err[256], err2[256];
    struct tapiq_config cfg, cfg2;
    struct ref ref;
    int rc, rc2, want;

    if (size > 4096)
        return 0;
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* the grammar is a C string: bytes after a NUL are not seen */

    memset(err, 'X', sizeof(err));
    rc = tapiq_config_parse(text, &cfg, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL, "rc=%d for '%s'", rc, text);
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error message not terminated");
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0', "accepted with a message '%s'", err);
        check_fields(&cfg);
    } else {
        FUZZ_CHECK(err[0] != '\0', "-EINVAL without a message for '%s'", text);
    }

    /* Deterministic: a second parse agrees, also with a tiny message buffer. */
    rc2 = tapiq_config_parse(text, &cfg2, err2, 8);
    FUZZ_CHECK(rc2 == rc, "second parse %d, first %d", rc2, rc);
    FUZZ_CHECK(memchr(err2, '\0', 8) != NULL, "short message buffer overrun");
    if (rc2 == 0) {
        FUZZ_CHECK(cfg2.backend == cfg.backend && cfg2.devices == cfg.devices &&
                       cfg2.lamps == cfg.lamps && cfg2.workers == cfg.workers &&
                       cfg2.queue == cfg.queue && cfg2.events == cfg.events &&
                       cfg2.threads == cfg.threads,
                   "two parses of one text differ");
        tapiq_config_free(&cfg2);
    }
    /* No message buffer at all is allowed too. */
    rc2 = tapiq_config_parse(text, &cfg2, NULL, 0);
    FUZZ_CHECK(rc2 == rc, "parse without a message buffer: %d, with: %d", rc2, rc);
    if (rc2 == 0)
        tapiq_config_free(&cfg2);

    want = ref_parse(text, &ref);
    if (want >= 0) {
        FUZZ_CHECK((rc == 0) == (want == 1), "library says %d (%s), reference says %s for '%s'",
                   rc, err, want ? "valid" : "invalid", text);
        if (rc == 0)
            FUZZ_CHECK(cfg.devices == ref.devices && cfg.lamps == ref.lamps &&
                           cfg.workers == ref.workers && cfg.queue == ref.queue &&
                           cfg.events == ref.events && cfg.threads == ref.threads &&
                           cfg.payloads == ref.payloads &&
                           cfg.payload_bytes == ref.payload_bytes && cfg.nap_us == ref.nap_us,
                       "values differ from the reference for '%s'", text);
    }

    /* The public entry point takes the same decision (no application is
     * initialized in this process, so it may not answer -EBUSY). */
    rc2 = tapiq_configure(text);
    FUZZ_CHECK(rc2 == rc, "tapiq_configure %d, parse %d for '%s'", rc2, rc, text);
    if (rc2)
        FUZZ_CHECK(tapiq_last_error()[0] != '\0', "tapiq_configure failed without a message");
    else
        FUZZ_CHECK(tapiq_last_error()[0] == '\0', "message after success: %s",
                   tapiq_last_error());
    FUZZ_CHECK(tapiq_configure(NULL) == 0, "tapiq_configure(NULL) failed");

    if (rc == 0)
        tapiq_config_free(&cfg);
    free(text);
    return 0;
}
