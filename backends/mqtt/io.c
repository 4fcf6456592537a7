/* backends/mqtt/io.c - the mqtt backend's I/O thread: hand-off, publishing,
 * acknowledgements, inbound messages, expiry and its poll loop (the state it
 * owns: io.h; connecting: client.c).
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
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>

#include "backends/mqtt/cattrs.h"
#include "backends/mqtt/connect.h"
#include "backends/mqtt/diag.h"
#include "backends/mqtt/io.h"
#include "backends/mqtt/wire.h"
#include "backends/mqtt/wire_state.h"
#include "core/alloc.h"

/* ------------------------------------------------------------------ FIFOs */

int mqtt_fifo_init(struct mqtt_fifo *f, uint32_t cap)
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

void mqtt_want_batch(struct mqtt_state *st, uint32_t d)
{
    if (!st->dev[d].q_batch) {
        st->dev[d].q_batch = 1;
        fifo_push(&st->qb, d);
    }
}

void mqtt_want_sync(struct mqtt_state *st, uint32_t d)
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

/* ------------------------------------------------------- client callbacks */

void mqtt_on_publish(struct mosquitto *m, void *obj, int mid, int reason,
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
        mqtt_want_sync(st, (uint32_t)d);
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
                mqtt_want_batch(st, (uint32_t)d);
                return;
            }
            finish_batch(st, (uint32_t)d, 0); /* every update acknowledged */
        } else {
            finish_batch(st, (uint32_t)d, 0);
        }
    }
    if (dv->batch)
        mqtt_want_batch(st, (uint32_t)d);
    if (dv->need_sync)
        mqtt_want_sync(st, (uint32_t)d);
}

void mqtt_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
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
                    mqtt_want_sync(st, in.device);
                }
        }
        break;
    }
    if (rc == -EINVAL) {
        tapiq_mqtt_count(TAPIQ_MQTT_MALFORMED);
        DBG(st, "ignored '%s': not a button or hookswitch of that console\n", msg->topic);
    }
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
        mqtt_note_failure(st, "publishing: %s", mqtt_status_text(rc, errno));
        if (dv->batch)
            mqtt_want_batch(st, d);
        if (dv->need_sync)
            mqtt_want_sync(st, d);
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
            mqtt_want_batch(st, ids[i]);
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
                mqtt_want_sync(st, d);
        } else if (dv->deadline_ms < next) {
            next = dv->deadline_ms;
        }
    }
    return next;
}

void *mqtt_io_main(void *arg)
{
    struct mqtt_state *st = arg;
    uint64_t next_deadline = UINT64_MAX;

    for (;;) {
        uint64_t now = mqtt_now_ms();
        struct pollfd pfd[2];
        int nfd = 1, timeout, sock = -1;

        take_handoff(st);
        /* acquire: pairs with the release store in mqtt_stop() (mqtt.c). */
        if (atomic_load_explicit(&st->stop, memory_order_acquire))
            break;
        if (st->lost)
            mqtt_drop_client(st);
        if (st->conn)
            mqtt_poll_connector(st, now);
        if (!st->mosq && !st->conn && now >= st->next_try_ms)
            mqtt_try_connect(st);
        if (st->mosq && !st->connected && now >= st->conn_deadline_ms) {
            mqtt_note_failure(st, "no CONNACK within %u ms", MQTT_CONNECT_TIMEOUT_MS);
            mqtt_drop_client(st);
        }
        if (st->mosq && st->connected && st->next_resync_ms && now >= st->next_resync_ms) {
            for (uint32_t d = 0; d < st->ndev; d++)
                mqtt_want_sync(st, d);
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
                mqtt_note_failure(st, "%s", mqtt_status_text(rc, errno)); /* unless a callback did */
                st->lost = 1;
            }
        }
        if (st->mosq && !st->lost) {
            int rc = mosquitto_loop_misc(st->mosq);
            if (rc != MOSQ_ERR_SUCCESS) {
                mqtt_note_failure(st, "%s", mqtt_status_text(rc, errno));
                st->lost = 1;
            }
        }
    }

    /* Stop: wait briefly for the messages already sent, then fail the rest. */
    if (st->mosq && st->connected && !st->lost && st->nflight) {
        uint64_t until = mqtt_now_ms() + (st->cfg.timeout_ms < 2000 ? st->cfg.timeout_ms : 2000);
        while (st->nflight && !st->lost && mqtt_now_ms() < until) {
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
