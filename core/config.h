/* core/config.h - the configuration grammar and the backend registry.
 *
 * Grammar: a comma-separated list of key=value items, e.g.
 *   backend=mem,devices=500,lamps=64,workers=2,queue=1024
 * Keys and values are case-sensitive; blanks around keys and values are
 * ignored; an empty string means all defaults. Numbers are unsigned decimal.
 * An unknown key, a key given twice, an empty item, a missing '=', or a value
 * out of range is an error with a message that names the item.
 *
 * Concurrency: tapiq_config_parse is reentrant. The registry is read and
 * written under the library's configuration lock (runtime.c).
 */
#ifndef TAPIQ_CORE_CONFIG_H
#define TAPIQ_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "tapiq/tapiq.h"

#define TAPIQ_MAX_DEVICES (1u << 20)
#define TAPIQ_MAX_LAMPS 4096u
#define TAPIQ_MAX_WORKERS 64u
#define TAPIQ_MAX_QUEUE (1u << 15) /* < 2^(31 - ring bits): see core/sq.h */
#define TAPIQ_MAX_EVENTS (1u << 24)
#define TAPIQ_MAX_THREADS 256u
#define TAPIQ_MAX_NAP_US 1000u /* the naps' window: a longer nap would outlast it */
/* TAPIQ_MAX_PAYLOADS and TAPIQ_MAX_PAYLOAD_BYTES: core/payload.h */

struct tapiq_config {
    const tapiq_backend_ops *backend;
    void *backend_cfg; /* from backend->config_new(), owned */
    uint32_t devices;  /* default 16 */
    uint32_t lamps;    /* default 16 */
    uint32_t workers;  /* default 2 */
    uint32_t queue;    /* entries per submission ring (thread x worker), default 1024 */
    uint32_t events;   /* per-application room for PHONE_STATE, default 65536 */
    uint32_t threads;  /* issuing threads with rings of their own, default 64 */
    uint32_t payloads; /* payload slots per worker (core/payload.h), default 64 */
    uint32_t payload_bytes; /* bytes per payload slot, default 4096 */
    uint32_t nap_us;        /* an idle worker's nap (core/worker_thread.c), default 100; 0: none */
};

/* Parse @text (NULL = "") into @out. Returns 0, -EINVAL (message in @err),
 * -ENOMEM. On failure nothing needs freeing. */
int tapiq_config_parse(const char *text, struct tapiq_config *out, char *err, size_t errlen);
void tapiq_config_free(struct tapiq_config *cfg);

/* Parse an unsigned decimal in [min, max] (for backends too). 0 or -EINVAL. */
int tapiq_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Backend registry (caller holds the configuration lock). */
const tapiq_backend_ops *tapiq_backend_find(const char *name);
int tapiq_backend_register_unsync(const tapiq_backend_ops *ops);

#endif /* TAPIQ_CORE_CONFIG_H */
