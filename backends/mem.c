/* backends/mem.c - simulated consoles in memory.
 *
 * Every console has the configured number of lamps, each supporting OFF,
 * STEADY, WINK, FLASH, FLUTTER and BROKENFLUTTER, no dummy positions, all OFF
 * at start. Fault injection:
 *   fail_ppm   updates per million that fail (-EIO: the reply says
 *              PHONEERR_OPERATIONFAILED), lamp and attribute updates
 *              (tapiq_batch_attrs) alike;
 *   latency_us delay per applied batch (the worker sleeps, like a slow link);
 *   offline    the last N consoles are disconnected.
 * Display, ringer, hookswitch devices, buttons and data areas, per console:
 * backends/mem_attrs.h.
 * The backend keeps its own copy of each console's lamps (what the "hardware"
 * shows), written only by the worker that applies that console's batch (at
 * most one batch per console is outstanding), so it needs no lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "backends/backend.h"
#include "backends/mem_attrs.h"
#include "core/config.h"
#include "core/device.h"
#include "core/guard.h"
#include "core/runtime.h"

struct mem_cfg {
    uint32_t fail_ppm;
    uint32_t latency_us;
    uint32_t offline;
    struct mem_attrs *attrs; /* owned; used by start only */
};

struct mem_state {
    tapiq_host *host;
    struct mem_cfg cfg;
    uint32_t ndev;
    uint32_t lamps;
    uint8_t *shown; /* ndev * lamps: what each console shows (a PHONELAMPMODE_* each) */
};

static void *mem_config_new(void)
{
    struct mem_cfg *cfg = tapiq_calloc(1, sizeof(struct mem_cfg));
    if (cfg && !(cfg->attrs = mem_attrs_new())) {
        free(cfg);
        cfg = NULL;
    }
    return cfg;
}

static void mem_config_free(void *vcfg)
{
    struct mem_cfg *cfg = vcfg;
    if (cfg)
        mem_attrs_free(cfg->attrs);
    free(cfg);
}

static int mem_config_key(void *vcfg, const char *key, const char *value, char *err, size_t errlen)
{
    struct mem_cfg *cfg = vcfg;
    uint32_t *dst, max;
    if (strcmp(key, "fail_ppm") == 0) {
        dst = &cfg->fail_ppm;
        max = 1000000;
    } else if (strcmp(key, "latency_us") == 0) {
        dst = &cfg->latency_us;
        max = 10000000;
    } else if (strcmp(key, "offline") == 0) {
        dst = &cfg->offline;
        max = TAPIQ_MAX_DEVICES;
    } else {
        return mem_attrs_key(cfg->attrs, key, value, err, errlen);
    }
    if (tapiq_parse_u32(value, 0, max, dst)) {
        snprintf(err, errlen, "bad value '%s' for '%s': expected an integer from 0 to %u", value,
                 key, max);
        return -EINVAL;
    }
    return 0;
}

static int mem_start(tapiq_host *host, void *vcfg, uint32_t devices, uint32_t lamps, void **state,
                     char *err, size_t errlen)
{
    struct mem_cfg *cfg = vcfg;
    struct mem_state *st;
    if (cfg->offline > devices) {
        snprintf(err, errlen, "offline=%u is more than devices=%u", cfg->offline, devices);
        return -EINVAL;
    }
    st = tapiq_calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->shown = tapiq_malloc((size_t)devices * (lamps ? lamps : 1) * sizeof(*st->shown));
    if (!st->shown) {
        free(st);
        return -ENOMEM;
    }
    for (size_t i = 0; i < (size_t)devices * lamps; i++)
        st->shown[i] = PHONELAMPMODE_OFF;
    st->host = host;
    st->cfg = *cfg;
    st->cfg.attrs = NULL; /* the configuration's, read during start only */
    st->ndev = devices;
    st->lamps = lamps;
    for (uint32_t d = 0; d < devices; d++) {
        int id = tapiq_host_add_device(host, lamps, NULL, d < devices - cfg->offline);
        if (id < 0) {
            snprintf(err, errlen, "cannot add device %u", d);
            free(st->shown);
            free(st);
            return id;
        }
        id = mem_attrs_apply(cfg->attrs, host, d, lamps, err, errlen);
        if (id < 0) {
            free(st->shown);
            free(st);
            return id;
        }
    }
    *state = st;
    return 0;
}

/* xorshift64*, one stream per thread. */
static uint32_t mem_random(void)
{
    static _Thread_local __attribute__((tls_model("initial-exec"))) uint64_t x;
    if (!x)
        x = (uint64_t)(uintptr_t)&x * 0x9E3779B97F4A7C15ull | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* The other attributes: the core keeps their state (the getters answer
 * from it), so a simulated console only accepts them, in order, failing as
 * many per million as lamp updates. Apart: lamp-only batches skip it. */
static __attribute__((noinline)) void mem_apply_attrs(struct mem_state *st, tapiq_batch *batch)
{
    size_t n;
    tapiq_attr *a = tapiq_batch_attrs_inline(batch, &n);
    for (size_t i = 0; i < n; i++)
        a[i].status = st->cfg.fail_ppm && mem_random() % 1000000u < st->cfg.fail_ppm ? -EIO : 0;
}

/* With latency or failures configured: the general loop. */
static __attribute__((noinline)) void mem_apply_slow(struct mem_state *st, uint8_t *shown,
                                                     tapiq_batch *batch)
{
    size_t n;
    tapiq_update *u = tapiq_batch_updates(batch, &n);

    if (st->cfg.latency_us) {
        struct timespec ts = {st->cfg.latency_us / 1000000, (long)(st->cfg.latency_us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
    }
    for (size_t i = 0; i < n; i++) {
        if (st->cfg.fail_ppm && mem_random() % 1000000u < st->cfg.fail_ppm) {
            u[i].status = -EIO;
            continue;
        }
        shown[u[i].lamp] = (uint8_t)u[i].mode;
        u[i].status = 0;
    }
}

static void mem_apply_sync(void *vstate, uint32_t device, tapiq_batch *batch)
{
    struct mem_state *st = vstate;
    uint8_t *shown = st->shown + (size_t)device * st->lamps;

    /* The usual simulation (no latency, no failures): every update shows. */
    if (__builtin_expect((st->cfg.latency_us | st->cfg.fail_ppm) != 0, 0)) {
        mem_apply_slow(st, shown, batch);
    } else {
        uint32_t n;
        tapiq_update *u = tapiq_batch_updates_inline(batch, &n);
        for (uint32_t i = 0; i < n; i++) {
            shown[u[i].lamp] = (uint8_t)u[i].mode;
            u[i].status = 0;
        }
    }
    if (tapiq_batch_has_attrs(batch))
        mem_apply_attrs(st, batch);
}

/* One lamp update without a batch; with latency or failures configured
 * it declines (the latency sleeps, which apply_one() must not). */
static int mem_apply_one(void *vstate, uint32_t device, uint32_t lamp, uint32_t mode)
{
    struct mem_state *st = vstate;
    if (__builtin_expect((st->cfg.latency_us | st->cfg.fail_ppm) != 0, 0))
        return TAPIQ_APPLY_DECLINE;
    st->shown[(size_t)device * st->lamps + lamp] = (uint8_t)mode;
    return 0;
}

static void mem_stop(void *vstate)
{
    struct mem_state *st = vstate;
    if (!st)
        return;
    free(st->shown);
    free(st);
}

static int mem_config_check(void *vcfg, uint32_t devices, uint32_t lamps, char *err,
                            size_t errlen)
{
    struct mem_cfg *cfg = vcfg;
    if (cfg->offline > devices) {
        snprintf(err, errlen, "offline=%u is more than devices=%u", cfg->offline, devices);
        return -EINVAL;
    }
    return mem_attrs_check(cfg->attrs, devices, lamps, err, errlen);
}

const tapiq_backend_ops tapiq_mem_backend = {
    .name = "mem",
    .config_new = mem_config_new,
    .config_key = mem_config_key,
    .config_free = mem_config_free,
    .start = mem_start,
    .stop = mem_stop,
    .config_check = mem_config_check,
    .apply_sync = mem_apply_sync,
    .apply_one = mem_apply_one,
};

/* ------------------------------------------------------------ the operator */

/* The running instance if its backend is mem; in a read-side section.
 * Returns 0 with *rt, -ENODEV, -EOPNOTSUPP. */
static int mem_running(struct tapiq_rt **rt)
{
    *rt = tapiq_rt_current();
    if (!*rt)
        return -ENODEV;
    return (*rt)->cfg.backend == &tapiq_mem_backend ? 0 : -EOPNOTSUPP;
}

/* The instance is unpublished and a grace period passes before its backend
 * stops, so a host call made inside the section reaches a live one. */
TAPIQ_API int tapiq_mem_button(uint32_t device, uint32_t button, uint32_t state)
{
    struct tapiq_rt *rt;
    int rc;
    tapiq_guard_enter();
    rc = mem_running(&rt);
    if (rc == 0)
        rc = tapiq_host_button((tapiq_host *)rt, device, button, state);
    tapiq_guard_exit();
    return rc;
}

TAPIQ_API int tapiq_mem_hookswitch(uint32_t device, uint32_t hookswitch_dev, uint32_t mode)
{
    struct tapiq_rt *rt;
    int rc;
    tapiq_guard_enter();
    rc = mem_running(&rt);
    if (rc == 0)
        rc = tapiq_host_hookswitch((tapiq_host *)rt, device, hookswitch_dev, mode);
    tapiq_guard_exit();
    return rc;
}
