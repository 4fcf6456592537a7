/* backends/mqtt/mqtt.c - console lamp state through an MQTT broker (libmosquitto):
 * the backend's interface (start, apply, stop, config_check) and the setup
 * and teardown of its state.
 *
 * Wire format: backends/mqtt/wire.h and the README ("MQTT backend").
 * Threads, ownership and synchronization: io.h; the I/O thread: io.c; its
 * MQTT client: client.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "backends/backend.h"
#include "backends/mem_attrs.h"
#include "backends/mqtt/cattrs.h"
#include "backends/mqtt/config.h"
#include "backends/mqtt/io.h"
#include "backends/mqtt/wire.h"
#include "core/alloc.h"

static void state_free(struct mqtt_state *st)
{
    if (!st)
        return;
    if (st->efd >= 0)
        close(st->efd);
    if (st->hand.cells)
        mqtt_handoff_destroy(&st->hand);
    for (uint32_t d = 0; st->dev && d < st->ndev; d++)
        free(st->dev[d].attrs);
    free(st->dev);
    free(st->shown_all);
    free(st->mid_dev);
    free(st->qb.v);
    free(st->qs.v);
    free(st->topic);
    free(st->buf);
    free(st->scratch);
    free(st->scratch_attrs);
    free(st->cfg.client_id);
    free(st->cfg.prefix);
    if (st->password) {
        explicit_bzero(st->password, strlen(st->password));
        free(st->password);
    }
    free(st);
}

/* mem_attrs_resolve's hand-over at start: the core's copy and ours. */
static int give_attrs(void *vst, uint32_t device, const tapiq_device_attrs *t)
{
    struct mqtt_state *st = vst;
    int rc = tapiq_host_set_device_attrs(st->host, device, t, sizeof(*t));
    if (rc)
        return rc;
    st->dev[device].attrs = mqtt_cattrs_new(t, st->nlamps);
    return st->dev[device].attrs ? 0 : -ENOMEM;
}

static int attrs_any(const struct mqtt_state *st)
{
    for (uint32_t d = 0; d < st->ndev; d++)
        if (st->dev[d].attrs)
            return 1;
    return 0;
}

static pthread_once_t mqtt_lib_once = PTHREAD_ONCE_INIT;
static void mqtt_lib_init(void)
{
    mosquitto_lib_init();
}

static int mqtt_start(tapiq_host *host, void *vcfg, uint32_t devices, uint32_t lamps, void **state,
                      char *err, size_t errlen)
{
    struct tapiq_mqtt_cfg *cfg = vcfg;
    struct mqtt_state *st;
    struct mqtt_cattrs_cap cap = {0, 0, 0};
    struct timespec rt;
    uint64_t seed;
    int rc;

    if (!cfg) {
        snprintf(err, errlen, "mqtt: the 'url' key is required (e.g. url=mqtt://127.0.0.1:1883)");
        return -EINVAL;
    }
    /* What can be checked now fails start (INIFILECORRUPT), not a later
     * connection. */
    rc = tapiq_mqtt_config_check(cfg, err, errlen);
    if (rc)
        return rc;
    pthread_once(&mqtt_lib_once, mqtt_lib_init);

    st = tapiq_calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->efd = -1;
    st->host = host;
    st->cfg = *cfg; /* urls and files stay owned by cfg, which outlives us */
    st->cfg.prefix = NULL;
    st->cfg.client_id = NULL;
    st->ndev = devices;
    st->nlamps = lamps;
    st->debug = getenv("TAPIQ_MQTT_DEBUG") != NULL;
    if (tapiq_mqtt_set_str(&st->cfg.prefix, cfg->prefix ? cfg->prefix : "tapiq")) {
        state_free(st);
        return -ENOMEM;
    }
    if (cfg->client_id) {
        if (tapiq_mqtt_set_str(&st->cfg.client_id, cfg->client_id)) {
            state_free(st);
            return -ENOMEM;
        }
    } else {
        char id[32];
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(id, sizeof(id), "tapiq-%ld-%06lx", (long)getpid(),
                 (unsigned long)(ts.tv_nsec ^ ts.tv_sec) & 0xFFFFFFul);
        if (tapiq_mqtt_set_str(&st->cfg.client_id, id)) {
            state_free(st);
            return -ENOMEM;
        }
    }
    if (cfg->password_file &&
        (rc = tapiq_mqtt_read_password(cfg->password_file, &st->password, err, errlen))) {
        state_free(st);
        return rc;
    }
    st->dev = tapiq_calloc(devices, sizeof(*st->dev));
    st->shown_all = tapiq_malloc((size_t)devices * (lamps ? lamps : 1) * sizeof(uint32_t));
    st->mid_dev = tapiq_malloc(65536 * sizeof(int32_t));
    st->topic_cap = strlen(st->cfg.prefix) + 40;
    st->topic = tapiq_malloc(st->topic_cap);
    st->buf_cap = TAPIQ_MQTT_LAMPS_MAX(lamps) + 1;
    st->buf = tapiq_malloc(st->buf_cap);
    st->scratch = tapiq_malloc((lamps ? lamps : 1) * sizeof(uint32_t));
    if (!st->dev || !st->shown_all || !st->mid_dev || !st->topic || !st->buf || !st->scratch ||
        mqtt_fifo_init(&st->qb, devices) || mqtt_fifo_init(&st->qs, devices) ||
        mqtt_handoff_init(&st->hand, devices)) {
        state_free(st);
        return -ENOMEM;
    }
    st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->efd < 0) {
        rc = -errno;
        snprintf(err, errlen, "mqtt: eventfd: %s", strerror(errno));
        state_free(st);
        return rc;
    }
    for (int i = 0; i < 65536; i++)
        st->mid_dev[i] = -1;
    clock_gettime(CLOCK_REALTIME, &rt);
    seed = ((uint64_t)rt.tv_sec * 1000u + (uint64_t)rt.tv_nsec / 1000000u) * 1000u;
    for (uint32_t d = 0; d < devices; d++) {
        st->dev[d].shown = st->shown_all + (size_t)d * lamps;
        st->dev[d].mid = -1;
        st->dev[d].seq = seed;
        for (uint32_t l = 0; l < lamps; l++)
            st->dev[d].shown[l] = PHONELAMPMODE_OFF;
        /* A console that has published nothing counts as connected. */
        rc = tapiq_host_add_device(host, lamps, NULL, 1);
        if (rc < 0) {
            snprintf(err, errlen, "mqtt: cannot add console %u", d);
            state_free(st);
            return rc;
        }
        rc = mem_attrs_resolve(cfg->attrs, d, lamps, give_attrs, st, err, errlen);
        if (rc) {
            state_free(st);
            return rc;
        }
        if (st->dev[d].attrs)
            mqtt_cattrs_cap_add(&cap, st->dev[d].attrs);
    }
    if ((cap.display || cap.buttons || cap.data || attrs_any(st)) &&
        !(st->scratch_attrs = mqtt_cattrs_scratch(&cap))) {
        state_free(st);
        return -ENOMEM;
    }
    st->backoff_ms = MQTT_BACKOFF_MIN_MS;
    atomic_init(&st->sleeping, 0);
    atomic_init(&st->stop, 0);
    rc = pthread_create(&st->io, NULL, mqtt_io_main, st);
    if (rc) {
        snprintf(err, errlen, "mqtt: cannot start the I/O thread: %s", strerror(rc));
        state_free(st);
        return -rc;
    }
    *state = st;
    return 0;
}

static void mqtt_apply(void *vstate, uint32_t device, tapiq_batch *batch)
{
    struct mqtt_state *st = vstate;
    struct mqtt_dev *dv = &st->dev[device];
    dv->hand_batch = batch;
    dv->hand_ms = mqtt_now_ms();
    /* release (inside push): the hand_* fields above happen-before the
     * I/O thread's pop of this id. Cannot fail: one batch per console is
     * outstanding and the ring holds every console. */
    mqtt_handoff_push_try(&st->hand, &device, 1);
    /* seq_cst: see mqtt_io_main() (io.c). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&st->sleeping, memory_order_seq_cst) &&
        atomic_exchange_explicit(&st->sleeping, 0, memory_order_seq_cst)) {
        uint64_t one = 1;
        if (write(st->efd, &one, sizeof(one)) < 0) {
            /* EAGAIN: the counter is already non-zero, the thread wakes. */
        }
    }
}

static void mqtt_stop(void *vstate)
{
    struct mqtt_state *st = vstate;
    uint64_t one = 1;
    if (!st)
        return;
    /* release: pairs with the acquire load in mqtt_io_main() (io.c). */
    atomic_store_explicit(&st->stop, 1, memory_order_release);
    if (write(st->efd, &one, sizeof(one)) < 0) {
        /* The counter is already non-zero. */
    }
    pthread_join(st->io, NULL);
    state_free(st);
}

static int mqtt_config_check(void *cfg, uint32_t devices, uint32_t lamps, char *err,
                             size_t errlen)
{
    struct tapiq_mqtt_cfg *c = cfg;
    int rc = tapiq_mqtt_config_check(c, err, errlen);
    return rc ? rc : mem_attrs_check(c->attrs, devices, lamps, err, errlen);
}

const tapiq_backend_ops tapiq_mqtt_backend = {
    .name = "mqtt",
    .config_new = tapiq_mqtt_config_new,
    .config_key = tapiq_mqtt_config_key,
    .config_free = tapiq_mqtt_config_free,
    .start = mqtt_start,
    .apply = mqtt_apply,
    .stop = mqtt_stop,
    .config_check = mqtt_config_check,
};
