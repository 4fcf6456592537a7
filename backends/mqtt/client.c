/* backends/mqtt/client.c - the I/O thread's MQTT client: connection attempts
 * (through a connector, connect.h), the connection's callbacks, dropping the
 * client and the backoff, and the notes of why an attempt or connection
 * failed (diag.h). I/O thread only; see io.c and io.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "backends/mqtt/connect.h"
#include "backends/mqtt/diag.h"
#include "backends/mqtt/io.h"
#include "backends/mqtt/mqtt_internal.h"

/* Note why the current attempt failed, or why the connection was lost: the
 * first reason of each is the cause (later ones are its consequences). An
 * attempt's failure is counted; either becomes the last error. */
void mqtt_note_failure(struct mqtt_state *st, const char *fmt, ...)
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
const char *mqtt_status_text(int rc, int e)
{
    if (rc == MOSQ_ERR_ERRNO)
        return strerror(e);
    if (rc >= 0x80)
        return mosquitto_reason_string(rc);
    return mosquitto_strerror(rc);
}

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
            mqtt_note_failure(st, "refused by the broker: %s (MQTT 5 CONNACK reason code 0x%02x)",
                         mosquitto_reason_string(rc), (unsigned)rc);
        else
            mqtt_note_failure(st, "refused by the broker: %s (MQTT 3.1.1 CONNACK return code %d)",
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
            mqtt_note_failure(st, "subscribing: %s", mqtt_status_text(rc, errno));
            st->lost = 1;
            break;
        }
    }
    /* Resync: republish every console on the new connection. */
    for (uint32_t d = 0; d < st->ndev; d++)
        mqtt_want_sync(st, d);
    st->next_resync_ms = st->cfg.resync_s ? mqtt_now_ms() + st->cfg.resync_s * 1000ull : 0;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
    struct mqtt_state *st = obj;
    int e = errno;
    (void)m;
    (void)props;
    if (rc != 0) /* 0: the disconnect we asked for (stop) */
        mqtt_note_failure(st, "%s", mqtt_status_text(rc, e));
    st->lost = 1;
}

/* The next attempt: after the backoff, on the next url. */
static void retry_later(struct mqtt_state *st)
{
    st->next_try_ms = mqtt_now_ms() + st->backoff_ms;
    st->backoff_ms = st->backoff_ms * 2 > MQTT_BACKOFF_MAX_MS ? MQTT_BACKOFF_MAX_MS
                                                              : st->backoff_ms * 2;
    st->url = (st->url + 1) % st->cfg.nurls;
}

/* Drop the current client; messages not acknowledged go out again on the
 * next connection. */
void mqtt_drop_client(struct mqtt_state *st)
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
                mqtt_want_batch(st, d);
            }
        }
    }
    st->nflight = 0;
    retry_later(st);
}

/* Start an attempt on the current url: a new client, configured here, then
 * looked up and connected by a connector thread (see mqtt_poll_connector()). */
void mqtt_try_connect(struct mqtt_state *st)
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
        mqtt_note_failure(st, "cannot create a client: %s", strerror(errno));
        retry_later(st);
        return;
    }
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, st->cfg.protocol);
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, (int)st->cfg.inflight);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    if ((st->cfg.username || st->password) &&
        (rc = mosquitto_username_pw_set(m, st->cfg.username, st->password)) != MOSQ_ERR_SUCCESS) {
        /* Checked at start; only memory can run out here. */
        mqtt_note_failure(st, "credentials refused by libmosquitto: %s", mosquitto_strerror(rc));
        mosquitto_destroy(m);
        retry_later(st);
        return;
    }
    if (u->tls) {
        rc = mosquitto_tls_set(m, st->cfg.cafile, st->cfg.cafile ? NULL : "/etc/ssl/certs",
                               st->cfg.certfile, st->cfg.keyfile, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            /* Checked at start; a file may have gone since. */
            mqtt_note_failure(st, "TLS setup failed (cafile, certfile, keyfile): %s",
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
        mqtt_note_failure(st, "cannot start connecting: %s",
                     rc == -EAGAIN ? "earlier host lookups still pending" : strerror(-rc));
        mosquitto_destroy(m);
        retry_later(st);
        return;
    }
    st->conn_deadline_ms = mqtt_now_ms() + MQTT_LOOKUP_TIMEOUT_MS;
}

/* The attempt in progress: take its client once it is connecting, or give
 * up on it at its deadline (the connector finishes on its own). */
void mqtt_poll_connector(struct mqtt_state *st, uint64_t now)
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
        mqtt_note_failure(st, "no address for host '%s' within %u ms (lookup still pending)", u->host,
                     MQTT_LOOKUP_TIMEOUT_MS);
        retry_later(st);
        return;
    }
    st->conn = NULL;
    if (rc) {
        mqtt_note_failure(st, "%s", why);
        retry_later(st);
        return;
    }
    st->mosq = m;
    mosquitto_user_data_set(m, st);
    mosquitto_connect_v5_callback_set(m, on_connect);
    mosquitto_disconnect_v5_callback_set(m, on_disconnect);
    mosquitto_publish_v5_callback_set(m, mqtt_on_publish);
    mosquitto_message_v5_callback_set(m, mqtt_on_message);
    mosquitto_log_callback_set(m, on_log);
    st->conn_deadline_ms = now + MQTT_CONNECT_TIMEOUT_MS;
}
