/* backends/mqtt/mqtt.c - console lamp state through an MQTT broker (libmosquitto).
 *
 * Wire format: backends/mqtt/wire.h and the README ("MQTT backend").
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
 * The I/O thread (one poll loop over the eventfd and the MQTT socket):
 *   - takes handed-off batches; each gets deadline = arrival + timeout_ms;
 *   - publishes, while fewer than `inflight` messages are unacknowledged, one
 *     retained QoS 1 message per console batch (the console's full state with
 *     the batch applied), batches before resyncs; at most one message per
 *     console is unacknowledged, so a console's messages reach the broker in
 *     order;
 *   - on PUBACK applies the batch to the console's acknowledged state, sets
 *     each update's status 0 and completes the batch;
 *   - past the deadline completes the batch with -ETIMEDOUT (the replies say
 *     PHONEERR_OPERATIONFAILED)
 *     (sent or not); a message that was sent and may still land marks the
 *     console for a resync, so the broker converges back to tapiq's state;
 *   - reconnects with exponential backoff (100 ms .. 5 s) across the url list;
 *     a new connection starts a fresh client (nothing queued in libmosquitto
 *     survives), sends again the batches whose message was not acknowledged,
 *     and republishes every console (resync); so does the resync_s timer;
 *   - never looks a host name up itself: a connector thread (connect.h) does
 *     the lookup and the non-blocking connect and hands the client over;
 *     the I/O thread polls it every tick and abandons it after
 *     MQTT_LOOKUP_TIMEOUT_MS or at stop, so neither deadlines nor shutdown
 *     wait for a resolver;
 *   - subscribes to <prefix>/console/+/online, /button and /hookswitch and
 *     reports presence (tapiq_host_set_connected()), button presses
 *     (tapiq_host_button()) and hookswitch changes (tapiq_host_hookswitch());
 *   - carries the batch's attribute updates (tapiq_batch_attrs()) in the
 *     same message as its lamps (cattrs.h): acknowledged or failed with it;
 *   - notes the first reason each failed attempt or lost connection gives
 *     (CONNACK refusals by name, libmosquitto's error log line for TLS) as
 *     the process's last error, and counts attempts and failures (diag.h).
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
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "backends/backend.h"
#include "backends/mem_attrs.h"
#include "backends/mqtt/cattrs.h"
#include "backends/mqtt/config.h"
#include "backends/mqtt/connect.h"
#include "backends/mqtt/diag.h"
#include "backends/mqtt/mqtt_internal.h"
#include "backends/mqtt/wire.h"
#include "backends/mqtt/wire_state.h"
#include "core/alloc.h"
#include "core/mpmc.h"

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

static uint64_t now_ms(void)
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

/* Note why the current attempt failed, or why the connection was lost: the
 * first reason of each is the cause (later ones are its consequences). An
 * attempt's failure is counted; either becomes the last error. */
static void note_failure(struct mqtt_state *st, const char *fmt, ...)
{
    const struct tapiq_mqtt_url *u = &st->cfg.urls[st->url];
    char why[TAPIQ_MQTT_ERROR_MAX], msg[TAPIQ_MQTT_ERROR_MAX];
    va_list ap;
    if (st->noted)
        return;
    st->noted = 1;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (snprintf(msg, sizeof(msg), "%s://%s%s%s:%d: %s%s%s%s%s", u->tls ? "mqtts" : "mqtt",
                 strchr(u->host, ':') ? "[" : "", u->host, strchr(u->host, ':') ? "]" : "",
                 u->port, st->connected ? "connection lost: " : "", why,
                 st->mlog[0] ? " (" : "", st->mlog, st->mlog[0] ? ")" : "") >= (int)sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4); /* show that it was cut */
    if (!st->connected)
        tapiq_mqtt_count(TAPIQ_MQTT_CONNECT_FAILURES);
    tapiq_mqtt_set_last_error(msg);
    DBG(st, "%s\n", msg);
}

/* A libmosquitto status (MOSQ_ERR_*, with @e the errno after the call) or an
 * MQTT 5 reason code (>= 0x80, from a broker's DISCONNECT) as text. */
static const char *status_text(int rc, int e)
{
    if (rc == MOSQ_ERR_ERRNO)
        return strerror(e);
    if (rc >= 0x80)
        return mosquitto_reason_string(rc);
    return mosquitto_strerror(rc);
}

/* ------------------------------------------------------------------ FIFOs */

static int fifo_init(struct mqtt_fifo *f, uint32_t cap)
{
    f->v = tapiq_malloc((size_t)(cap ? cap : 1) * sizeof(uint32_t));
    f->cap = cap;
    f->head = f->n = 0;
    return f->v ? 0 : -ENOMEM;
}

static void fifo_push(struct mqtt_fifo *f, uint32_t d)
{
    /* Each console is listed at most once (q_batch / q_sync flags), so the
     * FIFO never holds more than cap entries. */
    f->v[(f->head + f->n) % f->cap] = d;
    f->n++;
}

static uint32_t fifo_pop(struct mqtt_fifo *f)
{
    uint32_t d = f->v[f->head];
    f->head = (f->head + 1) % f->cap;
    f->n--;
    return d;
}

static void want_batch(struct mqtt_state *st, uint32_t d)
{
    if (!st->dev[d].q_batch) {
        st->dev[d].q_batch = 1;
        fifo_push(&st->qb, d);
    }
}

static void want_sync(struct mqtt_state *st, uint32_t d)
{
    st->dev[d].need_sync = 1;
    if (!st->dev[d].q_sync) {
        st->dev[d].q_sync = 1;
        fifo_push(&st->qs, d);
    }
}

/* -------------------------------------------------------------- completion */

/* Complete @d's batch: updates [0, upd_acked) in per-update mode, or all when
 * @err is 0, succeed; the rest fail with @err (-EIO, -ETIMEDOUT, -ESHUTDOWN:
 * the core turns them into the replies' PHONEERR_OPERATIONFAILED). */
static void finish_batch(struct mqtt_state *st, uint32_t d, int err)
{
    int ok = err == 0;
    struct mqtt_dev *dv = &st->dev[d];
    tapiq_batch *b = dv->batch;
    size_t n;
    tapiq_update *u;
    if (!b)
        return;
    u = tapiq_batch_updates(b, &n);
    for (size_t i = 0; i < n; i++) {
        int good = ok || (st->cfg.per_update && i < dv->upd_acked);
        if (ok && !(st->cfg.per_update && i < dv->upd_acked))
            dv->shown[u[i].lamp] = u[i].mode;
        u[i].status = good ? 0 : err;
    }
    {
        /* The attributes travel in the same message: acknowledged with it,
         * failed with it. */
        tapiq_attr *a = tapiq_batch_attrs(b, &n);
        struct tapiq_mqtt_devspec ds[TAPIQ_MQTT_DEVSPEC_MAX];
        uint32_t nds = 0;
        if (ok)
            mqtt_cattrs_apply(dv->attrs, a, n, ds, &nds);
        for (size_t i = 0; i < n; i++)
            a[i].status = ok ? 0 : err;
    }
    dv->batch = NULL;
    st->nbatches--;
    dv->sent = 0;
    dv->upd_acked = dv->upd_sent = 0;
    /* After this call the core may hand us this console's next batch. */
    tapiq_batch_complete(b);
}

/* ------------------------------------------------------------ MQTT client */

/* The names of MQTT 3.1.1's CONNACK return codes (section 3.2.2.3), which
 * mosquitto_reason_string() (MQTT 5 codes) calls "Unknown reason". */
static const char *connack_v311_text(int rc)
{
    static const char *const names[] = {
        "accepted",
        "unacceptable protocol version",
        "identifier rejected",
        "server unavailable",
        "bad user name or password",
        "not authorized",
    };
    return rc >= 0 && rc <= 5 ? names[rc] : "unknown return code";
}

/* libmosquitto's log: the first error line of a client (the OpenSSL reason
 * behind a TLS failure) goes with the failure it explains. */
static void on_log(struct mosquitto *m, void *obj, int level, const char *str)
{
    struct mqtt_state *st = obj;
    (void)m;
    if ((level & MOSQ_LOG_ERR) && !st->mlog[0])
        snprintf(st->mlog, sizeof(st->mlog), "%s", str);
    if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING | MOSQ_LOG_NOTICE))
        DBG(st, "libmosquitto: %s\n", str);
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    struct mqtt_state *st = obj;
    char sub[300];
    (void)flags;
    (void)props;
    if (rc != 0) {
        if (st->cfg.protocol == MQTT_PROTOCOL_V5 || rc >= 0x80)
            note_failure(st, "refused by the broker: %s (MQTT 5 CONNACK reason code 0x%02x)",
                         mosquitto_reason_string(rc), (unsigned)rc);
        else
            note_failure(st, "refused by the broker: %s (MQTT 3.1.1 CONNACK return code %d)",
                         connack_v311_text(rc), rc);
        st->lost = 1;
        return;
    }
    st->connected = 1;
    st->noted = 0;
    st->mlog[0] = '\0';
    st->backoff_ms = MQTT_BACKOFF_MIN_MS;
    tapiq_mqtt_count(TAPIQ_MQTT_CONNECTS);
    DBG(st, "connected to %s:%d\n", st->cfg.urls[st->url].host, st->cfg.urls[st->url].port);
    for (int i = 0; i < 3; i++) {
        static const char *const leaf[3] = {"online", "button", "hookswitch"};
        snprintf(sub, sizeof(sub), "%s/console/+/%s", st->cfg.prefix, leaf[i]);
        if ((rc = mosquitto_subscribe(m, NULL, sub, 1)) != MOSQ_ERR_SUCCESS) {
            note_failure(st, "subscribing: %s", status_text(rc, errno));
            st->lost = 1;
            break;
        }
    }
    /* Resync: republish every console on the new connection. */
    for (uint32_t d = 0; d < st->ndev; d++)
        want_sync(st, d);
    st->next_resync_ms = st->cfg.resync_s ? now_ms() + st->cfg.resync_s * 1000ull : 0;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
    struct mqtt_state *st = obj;
    int e = errno;
    (void)m;
    (void)props;
    if (rc != 0) /* 0: the disconnect we asked for (stop) */
        note_failure(st, "%s", status_text(rc, e));
    st->lost = 1;
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *props)
{
    struct mqtt_state *st = obj;
    int32_t d;
    struct mqtt_dev *dv;
    (void)m;
    (void)props;
    if (mid < 0 || mid > 65535 || (d = st->mid_dev[mid]) < 0)
        return;
    st->mid_dev[mid] = -1;
    st->nflight--;
    dv = &st->dev[d];
    dv->mid = -1;
    if (reason >= 0x80) {
        /* The broker refused the message (MQTT 5): fail and resync. */
        if (dv->sent)
            finish_batch(st, (uint32_t)d, -EIO);
        want_sync(st, (uint32_t)d);
        return;
    }
    if (dv->sent && dv->batch) {
        if (st->cfg.per_update) {
            size_t n;
            tapiq_update *u = tapiq_batch_updates(dv->batch, &n);
            for (uint32_t i = dv->upd_acked; i < dv->upd_sent; i++)
                dv->shown[u[i].lamp] = u[i].mode;
            dv->upd_acked = dv->upd_sent;
            dv->sent = 0;
            if (dv->upd_acked < n) {
                want_batch(st, (uint32_t)d);
                return;
            }
            finish_batch(st, (uint32_t)d, 0); /* every update acknowledged */
        } else {
            finish_batch(st, (uint32_t)d, 0);
        }
    }
    if (dv->batch)
        want_batch(st, (uint32_t)d);
    if (dv->need_sync)
        want_sync(st, (uint32_t)d);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    struct mqtt_state *st = obj;
    struct tapiq_mqtt_inbound in;
    int rc;
    (void)m;
    (void)props;
    if (tapiq_mqtt_parse_inbound(st->cfg.prefix, msg->topic, msg->payload,
                                 msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, st->ndev,
                                 &in) != 0) {
        tapiq_mqtt_count(TAPIQ_MQTT_MALFORMED);
        DBG(st, "ignored malformed message on '%s'\n", msg->topic);
        return;
    }
    switch (in.kind) {
    case TAPIQ_MQTT_IN_ONLINE:
        tapiq_host_set_connected(st->host, in.device, (int)in.a);
        return;
    case TAPIQ_MQTT_IN_BUTTON:
        /* -ENOBUFS: a handle had no room; the core counted it
         * (button_overruns). -EINVAL: no such button (a dummy position). */
        rc = tapiq_host_button(st->host, in.device, in.a, in.b);
        break;
    default: /* TAPIQ_MQTT_IN_HOOKSWITCH */
        rc = tapiq_host_hookswitch(st->host, in.device, in.a, in.b);
        if (rc == 0 && st->dev[in.device].attrs) {
            /* The published state shows the console's hookswitch too. */
            struct tapiq_mqtt_attrs *a = st->dev[in.device].attrs;
            for (int i = 0; i < 3; i++)
                if (in.a == 1u << i && a->hs_mode[i] != in.b) {
                    a->hs_mode[i] = in.b;
                    want_sync(st, in.device);
                }
        }
        break;
    }
    if (rc == -EINVAL) {
        tapiq_mqtt_count(TAPIQ_MQTT_MALFORMED);
        DBG(st, "ignored '%s': not a button or hookswitch of that console\n", msg->topic);
    }
}

/* The next attempt: after the backoff, on the next url. */
static void retry_later(struct mqtt_state *st)
{
    st->next_try_ms = now_ms() + st->backoff_ms;
    st->backoff_ms = st->backoff_ms * 2 > MQTT_BACKOFF_MAX_MS ? MQTT_BACKOFF_MAX_MS
                                                              : st->backoff_ms * 2;
    st->url = (st->url + 1) % st->cfg.nurls;
}

/* Drop the current client; messages not acknowledged go out again on the
 * next connection. */
static void drop_client(struct mqtt_state *st)
{
    if (!st->mosq)
        return;
    mosquitto_destroy(st->mosq);
    st->mosq = NULL;
    if (st->connected)
        st->backoff_ms = MQTT_BACKOFF_MIN_MS;
    st->connected = 0;
    st->lost = 0;
    for (uint32_t d = 0; d < st->ndev; d++) {
        struct mqtt_dev *dv = &st->dev[d];
        if (dv->mid >= 0) {
            st->mid_dev[dv->mid] = -1;
            dv->mid = -1;
            if (dv->sent) {
                dv->sent = 0;
                dv->upd_sent = dv->upd_acked;
                want_batch(st, d);
            }
        }
    }
    st->nflight = 0;
    retry_later(st);
}

/* Start an attempt on the current url: a new client, configured here, then
 * looked up and connected by a connector thread (see poll_connector()). */
static void try_connect(struct mqtt_state *st)
{
    const struct tapiq_mqtt_url *u = &st->cfg.urls[st->url];
    struct mosquitto *m;
    int rc;
    tapiq_mqtt_count(TAPIQ_MQTT_CONNECT_ATTEMPTS);
    st->connected = 0;
    st->lost = 0;
    st->noted = 0;
    st->mlog[0] = '\0';
    m = mosquitto_new(st->cfg.client_id, true, NULL);
    if (!m) {
        note_failure(st, "cannot create a client: %s", strerror(errno));
        retry_later(st);
        return;
    }
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, st->cfg.protocol);
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, (int)st->cfg.inflight);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    if ((st->cfg.username || st->password) &&
        (rc = mosquitto_username_pw_set(m, st->cfg.username, st->password)) != MOSQ_ERR_SUCCESS) {
        /* Checked at start; only memory can run out here. */
        note_failure(st, "credentials refused by libmosquitto: %s", mosquitto_strerror(rc));
        mosquitto_destroy(m);
        retry_later(st);
        return;
    }
    if (u->tls) {
        rc = mosquitto_tls_set(m, st->cfg.cafile, st->cfg.cafile ? NULL : "/etc/ssl/certs",
                               st->cfg.certfile, st->cfg.keyfile, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            /* Checked at start; a file may have gone since. */
            note_failure(st, "TLS setup failed (cafile, certfile, keyfile): %s",
                         mosquitto_strerror(rc));
            mosquitto_destroy(m);
            retry_later(st);
            return;
        }
    }
    DBG(st, "connecting to %s:%d\n", u->host, u->port);
    rc = tapiq_mqtt_connector_start(m, u->host, u->port, u->tls, st->turn[st->url]++,
                                    MQTT_KEEPALIVE_S, &st->conn);
    if (rc) {
        note_failure(st, "cannot start connecting: %s",
                     rc == -EAGAIN ? "earlier host lookups still pending" : strerror(-rc));
        mosquitto_destroy(m);
        retry_later(st);
        return;
    }
    st->conn_deadline_ms = now_ms() + MQTT_LOOKUP_TIMEOUT_MS;
}

/* The attempt in progress: take its client once it is connecting, or give
 * up on it at its deadline (the connector finishes on its own). */
static void poll_connector(struct mqtt_state *st, uint64_t now)
{
    const struct tapiq_mqtt_url *u = &st->cfg.urls[st->url];
    struct mosquitto *m = NULL;
    char why[TAPIQ_MQTT_ERROR_MAX];
    int rc = tapiq_mqtt_connector_take_try(st->conn, &m, why, sizeof(why));
    if (rc == -EINPROGRESS) {
        if (now < st->conn_deadline_ms)
            return;
        tapiq_mqtt_connector_abandon(st->conn);
        st->conn = NULL;
        note_failure(st, "no address for host '%s' within %u ms (lookup still pending)", u->host,
                     MQTT_LOOKUP_TIMEOUT_MS);
        retry_later(st);
        return;
    }
    st->conn = NULL;
    if (rc) {
        note_failure(st, "%s", why);
        retry_later(st);
        return;
    }
    st->mosq = m;
    mosquitto_user_data_set(m, st);
    mosquitto_connect_v5_callback_set(m, on_connect);
    mosquitto_disconnect_v5_callback_set(m, on_disconnect);
    mosquitto_publish_v5_callback_set(m, on_publish);
    mosquitto_message_v5_callback_set(m, on_message);
    mosquitto_log_callback_set(m, on_log);
    st->conn_deadline_ms = now + MQTT_CONNECT_TIMEOUT_MS;
}

/* Publish console @d's message: its acknowledged state with the batch (or,
 * per update, its next update) applied. Returns 0, or -1 when the client
 * failed (the caller drops it). */
static int publish_dev(struct mqtt_state *st, uint32_t d)
{
    struct mqtt_dev *dv = &st->dev[d];
    int len, mid = 0, rc;
    uint32_t upto = 0, nds = 0;
    struct tapiq_mqtt_attrs *pa = NULL;
    struct tapiq_mqtt_devspec ds[TAPIQ_MQTT_DEVSPEC_MAX];
    size_t need, dsbytes = 0;

    memcpy(st->scratch, dv->shown, st->nlamps * sizeof(uint32_t));
    if (dv->attrs) {
        mqtt_cattrs_copy(st->scratch_attrs, dv->attrs);
        pa = st->scratch_attrs;
    }
    if (dv->batch) {
        size_t n, na;
        tapiq_update *u = tapiq_batch_updates(dv->batch, &n);
        tapiq_attr *a = tapiq_batch_attrs(dv->batch, &na);
        upto = st->cfg.per_update ? dv->upd_acked + 1 : (uint32_t)n;
        if (upto > n)
            upto = (uint32_t)n;
        for (uint32_t i = 0; i < upto; i++)
            st->scratch[u[i].lamp] = u[i].mode;
        if (upto == n) /* per update: the attributes go with the last message */
            mqtt_cattrs_apply(pa, a, na, ds, &nds);
        for (uint32_t i = 0; i < nds; i++)
            dsbytes += ds[i].size;
    }
    need = TAPIQ_MQTT_LAMPS_MAX(st->nlamps) + tapiq_mqtt_attrs_max(pa, nds, dsbytes) + 1;
    if (need > st->buf_cap) {
        char *nb = realloc(st->buf, need);
        if (!nb) {
            finish_batch(st, d, -ENOMEM);
            return 0;
        }
        st->buf = nb;
        st->buf_cap = need;
    }
    len = tapiq_mqtt_encode_state(st->buf, st->buf_cap, d, dv->seq + 1, st->scratch, st->nlamps,
                                  pa, ds, nds);
    snprintf(st->topic, st->topic_cap, "%s/console/%" PRIu32 "/lamps", st->cfg.prefix, d);
    if (len < 0) {
        /* A mode without a name cannot happen (the core validates modes). */
        finish_batch(st, d, -EINVAL);
        return 0;
    }
    rc = mosquitto_publish(st->mosq, &mid, st->topic, len, st->buf, 1, true);
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO ||
        rc == MOSQ_ERR_NOMEM || rc == MOSQ_ERR_PROTOCOL) {
        note_failure(st, "publishing: %s", status_text(rc, errno));
        if (dv->batch)
            want_batch(st, d);
        if (dv->need_sync)
            want_sync(st, d);
        return -1;
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        /* The broker cannot take it (size, QoS, retain not supported). */
        DBG(st, "publish refused: %s\n", mosquitto_strerror(rc));
        finish_batch(st, d, -EIO);
        return 0;
    }
    tapiq_mqtt_count(TAPIQ_MQTT_PUBLISHES);
    dv->seq++;
    dv->need_sync = 0;
    dv->mid = mid;
    st->mid_dev[mid & 0xFFFF] = (int32_t)d;
    st->nflight++;
    if (dv->batch) {
        dv->sent = 1;
        dv->upd_sent = upto;
    }
    return 0;
}

/* Send waiting batches, then resyncs, while the inflight window allows. */
static void pump(struct mqtt_state *st)
{
    while (st->mosq && st->connected && !st->lost && st->nflight < st->cfg.inflight) {
        uint32_t d;
        struct mqtt_dev *dv;
        if (st->qb.n) {
            d = fifo_pop(&st->qb);
            st->dev[d].q_batch = 0;
        } else if (st->qs.n) {
            d = fifo_pop(&st->qs);
            st->dev[d].q_sync = 0;
        } else {
            break;
        }
        dv = &st->dev[d];
        if (dv->mid >= 0)
            continue; /* re-listed when its message is acknowledged */
        if ((dv->batch && !dv->sent) || dv->need_sync) {
            if (publish_dev(st, d) != 0) {
                st->lost = 1;
                break;
            }
        }
    }
}

/* Take the batches handed off by apply(). */
static void take_handoff(struct mqtt_state *st)
{
    uint32_t ids[64];
    size_t n;
    while ((n = mqtt_handoff_pop_try(&st->hand, ids, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct mqtt_dev *dv = &st->dev[ids[i]];
            dv->batch = dv->hand_batch;
            st->nbatches++;
            dv->deadline_ms = dv->hand_ms + st->cfg.timeout_ms;
            dv->sent = 0;
            dv->upd_acked = dv->upd_sent = 0;
            want_batch(st, ids[i]);
        }
    }
}

/* Fail the batches past their deadline; returns the next deadline. */
static uint64_t expire(struct mqtt_state *st, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (uint32_t d = 0; d < st->ndev; d++) {
        struct mqtt_dev *dv = &st->dev[d];
        if (!dv->batch)
            continue;
        if (now >= dv->deadline_ms) {
            if (dv->sent)
                dv->need_sync = 1; /* it may still land: put tapiq's state back after it */
            finish_batch(st, d, -ETIMEDOUT);
            if (dv->need_sync && dv->mid < 0)
                want_sync(st, d);
        } else if (dv->deadline_ms < next) {
            next = dv->deadline_ms;
        }
    }
    return next;
}

static void *io_main(void *arg)
{
    struct mqtt_state *st = arg;
    uint64_t next_deadline = UINT64_MAX;

    for (;;) {
        uint64_t now = now_ms();
        struct pollfd pfd[2];
        int nfd = 1, timeout, sock = -1;

        take_handoff(st);
        /* acquire: pairs with the release store in mqtt_stop(). */
        if (atomic_load_explicit(&st->stop, memory_order_acquire))
            break;
        if (st->lost)
            drop_client(st);
        if (st->conn)
            poll_connector(st, now);
        if (!st->mosq && !st->conn && now >= st->next_try_ms)
            try_connect(st);
        if (st->mosq && !st->connected && now >= st->conn_deadline_ms) {
            note_failure(st, "no CONNACK within %u ms", MQTT_CONNECT_TIMEOUT_MS);
            drop_client(st);
        }
        if (st->mosq && st->connected && st->next_resync_ms && now >= st->next_resync_ms) {
            for (uint32_t d = 0; d < st->ndev; d++)
                want_sync(st, d);
            st->next_resync_ms = now + st->cfg.resync_s * 1000ull;
        }
        pump(st);
        /* Only while batches wait: an idle process with many consoles must
         * not scan them every tick. */
        if (st->nbatches == 0)
            next_deadline = UINT64_MAX;
        else if (now >= next_deadline || next_deadline == UINT64_MAX)
            next_deadline = expire(st, now);

        pfd[0].fd = st->efd;
        pfd[0].events = POLLIN;
        if (st->mosq && (sock = mosquitto_socket(st->mosq)) >= 0) {
            pfd[1].fd = sock;
            pfd[1].events = POLLIN | (mosquitto_want_write(st->mosq) ? POLLOUT : 0);
            nfd = 2;
        }
        /* Idle (no batch waiting, nothing to retry soon): wake once a second
         * for the client's keep-alive only. */
        timeout = st->nbatches || st->conn || !st->mosq || !st->connected || st->qb.n || st->qs.n
                      ? MQTT_TICK_MS
                      : MQTT_IDLE_TICK_MS;
        /* seq_cst: a Dekker pair with the push + load of sleeping in
         * mqtt_apply(): either we see its console in the ring, or it sees
         * sleeping == 1 and writes the eventfd. */
        atomic_store_explicit(&st->sleeping, 1, memory_order_seq_cst);
        if (mqtt_handoff_count(&st->hand) != 0)
            timeout = 0;
        if (poll(pfd, (nfds_t)nfd, timeout) > 0 && (pfd[0].revents & POLLIN)) {
            uint64_t v;
            if (read(st->efd, &v, sizeof(v)) < 0) {
                /* EAGAIN: another reader raced; nothing to do. */
            }
        }
        atomic_store_explicit(&st->sleeping, 0, memory_order_relaxed);
        if (nfd == 2 && st->mosq) {
            int rc = MOSQ_ERR_SUCCESS;
            if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
                rc = mosquitto_loop_read(st->mosq, 1000);
            if (rc == MOSQ_ERR_SUCCESS && st->mosq && (pfd[1].revents & POLLOUT))
                rc = mosquitto_loop_write(st->mosq, 1000);
            if (rc != MOSQ_ERR_SUCCESS) {
                note_failure(st, "%s", status_text(rc, errno)); /* unless a callback did */
                st->lost = 1;
            }
        }
        if (st->mosq && !st->lost) {
            int rc = mosquitto_loop_misc(st->mosq);
            if (rc != MOSQ_ERR_SUCCESS) {
                note_failure(st, "%s", status_text(rc, errno));
                st->lost = 1;
            }
        }
    }

    /* Stop: wait briefly for the messages already sent, then fail the rest. */
    if (st->mosq && st->connected && !st->lost && st->nflight) {
        uint64_t until = now_ms() + (st->cfg.timeout_ms < 2000 ? st->cfg.timeout_ms : 2000);
        while (st->nflight && !st->lost && now_ms() < until) {
            struct pollfd p = {mosquitto_socket(st->mosq), POLLIN, 0};
            if (p.fd < 0)
                break;
            if (mosquitto_want_write(st->mosq))
                p.events |= POLLOUT;
            if (poll(&p, 1, MQTT_TICK_MS) > 0) {
                if ((p.revents & (POLLIN | POLLHUP | POLLERR)) &&
                    mosquitto_loop_read(st->mosq, 1000) != MOSQ_ERR_SUCCESS)
                    break;
                if ((p.revents & POLLOUT) && mosquitto_loop_write(st->mosq, 1000) != MOSQ_ERR_SUCCESS)
                    break;
            }
            mosquitto_loop_misc(st->mosq);
        }
    }
    for (uint32_t d = 0; d < st->ndev; d++)
        finish_batch(st, d, -ESHUTDOWN);
    if (st->conn) {
        /* A lookup may hang: leave it to finish on its own. */
        tapiq_mqtt_connector_abandon(st->conn);
        st->conn = NULL;
    }
    if (st->mosq) {
        if (st->connected && !st->lost) {
            mosquitto_disconnect(st->mosq);
            mosquitto_loop_write(st->mosq, 1);
        }
        mosquitto_destroy(st->mosq);
        st->mosq = NULL;
    }
    return NULL;
}

/* --------------------------------------------------------------- interface */

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
        fifo_init(&st->qb, devices) || fifo_init(&st->qs, devices) ||
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
    rc = pthread_create(&st->io, NULL, io_main, st);
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
    dv->hand_ms = now_ms();
    /* release (inside push): the hand_* fields above happen-before the
     * I/O thread's pop of this id. Cannot fail: one batch per console is
     * outstanding and the ring holds every console. */
    mqtt_handoff_push_try(&st->hand, &device, 1);
    /* seq_cst: see io_main(). */
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
    /* release: pairs with the acquire load in io_main(). */
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
