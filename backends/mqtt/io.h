/* backends/mqtt/io.h - the mqtt backend's state, shared by its interface
 * (mqtt.c), its I/O thread (io.c) and that thread's MQTT client (client.c).
 *
 * Threads and ownership
 *   tapiq's workers call apply(); one I/O thread of this backend owns the
 *   MQTT connection and every per-console field below. apply() only stores
 *   the batch in the console's hand-off slot and pushes the console id on a
 *   bounded MPMC ring (capacity >= consoles: at most one batch per console is
 *   outstanding, so the push cannot fail), then wakes the I/O thread through
 *   an eventfd if it sleeps. apply() takes no lock and never blocks.
 *
 * Synchronization table
 *                 apply      I/O thread   start/stop
 *   apply         yes        yes          no (the core excludes)
 *   I/O thread    yes        (one)        stop joins it
 *
 * Bounded memory: per console the acknowledged lamp state, a sequence number
 * and a few flags; two FIFOs of console ids (capacity = consoles); at most
 * `inflight` messages in libmosquitto. Backpressure: a console whose batch
 * waits keeps its later requests in tapiq's mailbox, which is bounded by the
 * `queue` key (phoneSetLamp gives RESOURCEUNAVAIL when it is full).
 *
 * seq: seeded at start with the wall clock in milliseconds times 1000, then
 * +1 per publish of that console. A console is published at most once per
 * PUBACK round trip (far fewer than 1000 times per millisecond), so a later
 * run of tapiq starts above every seq an earlier run used, as long as the
 * wall clock does not step back.
 */
#ifndef TAPIQ_BACKENDS_MQTT_IO_H
#define TAPIQ_BACKENDS_MQTT_IO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <mosquitto.h>

#include "backends/backend.h"
#include "backends/mqtt/config.h"
#include "core/mpmc.h"

struct tapiq_mqtt_attrs;
struct tapiq_mqtt_connector;

#define MQTT_BACKOFF_MIN_MS 100u
#define MQTT_BACKOFF_MAX_MS 5000u
#define MQTT_CONNECT_TIMEOUT_MS 3000u /* from the client's hand-over to CONNACK */
#define MQTT_LOOKUP_TIMEOUT_MS 10000u /* a connector's lookup (glibc: 5 s per try) */
#define MQTT_KEEPALIVE_S 10
#define MQTT_TICK_MS 20
#define MQTT_IDLE_TICK_MS 1000 /* idle: the keep-alive is all there is to do */

TAPIQ_MPMC_DEFINE(mqtt_handoff, uint32_t)

/* Per console. hand_* are written by apply() and read by the I/O thread
 * after it pops the id; everything else belongs to the I/O thread. */
struct mqtt_dev {
    tapiq_batch *hand_batch;
    uint64_t hand_ms;

    tapiq_batch *batch; /* taken, not yet completed */
    uint64_t deadline_ms;
    uint64_t seq;
    uint32_t *shown;  /* acknowledged state: what the broker retains */
    struct tapiq_mqtt_attrs *attrs; /* the same for the other attributes; NULL: lamps only */
    uint32_t upd_acked; /* publish=update: updates of the batch acknowledged */
    uint32_t upd_sent;  /* publish=update: updates carried by the message in flight */
    int mid;          /* the unacknowledged message, or -1 */
    uint8_t sent;     /* the message in flight carries the batch */
    uint8_t q_batch;  /* listed in st->qb */
    uint8_t q_sync;   /* listed in st->qs */
    uint8_t need_sync;
};

/* A FIFO of console ids, I/O thread only; capacity = consoles. */
struct mqtt_fifo {
    uint32_t *v;
    uint32_t cap, head, n;
};

struct mqtt_state {
    tapiq_host *host;
    struct tapiq_mqtt_cfg cfg;
    char *password; /* the first line of password_file, or NULL */
    uint32_t ndev, nlamps;
    struct mqtt_dev *dev;
    uint32_t *shown_all;
    struct mqtt_handoff hand;
    int efd;
    _Atomic int sleeping; /* the I/O thread is (about to be) in poll() */
    _Atomic int stop;
    pthread_t io;

    /* I/O thread only. */
    struct mosquitto *mosq;
    struct tapiq_mqtt_connector *conn; /* an attempt before its client is handed over */
    unsigned turn[TAPIQ_MQTT_MAX_URLS]; /* per url: rotates the first address tried */
    int connected;  /* CONNACK received on the current client */
    int noted;      /* the current attempt or connection has its error noted */
    char mlog[200]; /* libmosquitto's first error log line on the current client */
    int lost;       /* the current client failed: drop it */
    uint64_t conn_deadline_ms;
    uint64_t next_try_ms;
    uint32_t backoff_ms;
    unsigned url;
    uint32_t nflight;
    uint32_t nbatches; /* consoles with a batch here (the I/O thread's) */
    int32_t *mid_dev; /* 65536 entries: console of an unacknowledged mid, or -1 */
    struct mqtt_fifo qb, qs;
    uint64_t next_resync_ms;
    char *topic;
    size_t topic_cap;
    char *buf;
    size_t buf_cap;
    uint32_t *scratch; /* nlamps: a console's state with a batch applied */
    struct tapiq_mqtt_attrs *scratch_attrs; /* the same for the attributes (NULL: none) */
    int debug;
};

static inline uint64_t mqtt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define DBG(st, ...)                                                                           \
    do {                                                                                       \
        if ((st)->debug)                                                                       \
            fprintf(stderr, "tapiq-mqtt: " __VA_ARGS__);                                       \
    } while (0)

/* ------------------------------------------------------ I/O thread (io.c) */
/* Every function below runs on the I/O thread only (mqtt_fifo_init: at start,
 * before the thread exists), on the fields that thread owns. */

/* mqtt_fifo_init - @f empty, room for @cap ids. Returns 0 or -ENOMEM. */
int mqtt_fifo_init(struct mqtt_fifo *f, uint32_t cap);

/* mqtt_want_batch, mqtt_want_sync - list console @d for its batch / for a
 * resync (at most once in each FIFO); mqtt_want_sync also marks it need_sync. */
void mqtt_want_batch(struct mqtt_state *st, uint32_t d);
void mqtt_want_sync(struct mqtt_state *st, uint32_t d);

/* mqtt_on_publish, mqtt_on_message - the client's callbacks for a PUBACK and
 * for an inbound message (set by mqtt_poll_connector()). */
void mqtt_on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                     const mosquitto_property *props);
void mqtt_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                     const mosquitto_property *props);

/* mqtt_io_main - the I/O thread (@arg: the struct mqtt_state); returns at
 * stop, with every batch completed and the client gone. */
void *mqtt_io_main(void *arg);

/* ------------------------------------------------- MQTT client (client.c) */

/* mqtt_note_failure - note why the current attempt failed or the connection
 * was lost (printf format); the first reason of each only. */
void mqtt_note_failure(struct mqtt_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* mqtt_status_text - a libmosquitto status or an MQTT 5 reason code as text. */
const char *mqtt_status_text(int rc, int e);

/* mqtt_try_connect - start an attempt on the current url (a connector). */
void mqtt_try_connect(struct mqtt_state *st);

/* mqtt_poll_connector - take the attempt's client, or give it up at @now past
 * its deadline. */
void mqtt_poll_connector(struct mqtt_state *st, uint64_t now);

/* mqtt_drop_client - drop the current client; unacknowledged batches go out
 * again on the next connection. */
void mqtt_drop_client(struct mqtt_state *st);

#endif /* TAPIQ_BACKENDS_MQTT_IO_H */
