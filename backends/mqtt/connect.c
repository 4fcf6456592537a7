/* backends/mqtt/connect.c - MQTT connection attempts off the I/O thread
 * (see connect.h for the contract).
 *
 * Ownership of a connector is decided by one compare-and-swap on its state:
 * the connector thread moves RUNNING -> DONE when it has finished; the owner
 * moves RUNNING -> ABANDONED when it gives up. Whoever loses the race knows
 * the other side is gone: a thread that finds ABANDONED frees the connector
 * itself; an owner that finds DONE frees it (abandon) or takes the result
 * (take_try). After its CAS to DONE succeeds the connector thread touches
 * nothing of the connector again.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mosquitto.h>

#include "backends/mqtt/connect.h"
#include "backends/mqtt/mqtt_internal.h"
#include "core/alloc.h"

enum { CONN_RUNNING, CONN_DONE, CONN_ABANDONED };

struct tapiq_mqtt_connector {
    _Atomic int state;
    tapiq_mqtt_resolve_fn *resolve;
    struct mosquitto *m;
    char *host;
    int port, tls, keepalive;
    unsigned turn;
    /* Written by the connector thread before its CAS to DONE. */
    int rc;
    char err[300];
    char log[200]; /* libmosquitto's first error log line */
};

static _Atomic unsigned connectors_running;
#ifdef TAPIQ_INTERNAL
/* The test hook (internal library only); see mqtt_internal.h. */
static _Atomic(tapiq_mqtt_resolve_fn *) resolver;

void tapiq_mqtt_set_resolver(tapiq_mqtt_resolve_fn *fn)
{
    /* release: pairs with the acquire load in resolver_get(), for whatever
     * @fn reads. */
    atomic_store_explicit(&resolver, fn, memory_order_release);
}

static tapiq_mqtt_resolve_fn *resolver_get(void)
{
    /* acquire: pairs with the release store in tapiq_mqtt_set_resolver(). */
    return atomic_load_explicit(&resolver, memory_order_acquire);
}
#else
static tapiq_mqtt_resolve_fn *resolver_get(void)
{
    return NULL;
}
#endif

unsigned tapiq_mqtt_connectors_running(void)
{
    /* relaxed: a statistic; tests poll it. */
    return atomic_load_explicit(&connectors_running, memory_order_relaxed);
}

static void connector_free(struct tapiq_mqtt_connector *c)
{
    if (c->m)
        mosquitto_destroy(c->m);
    free(c->host);
    free(c);
}

/* libmosquitto logs why a TLS set-up failed (unreadable file, bad key). */
static void connector_log(struct mosquitto *m, void *obj, int level, const char *str)
{
    struct tapiq_mqtt_connector *c = obj;
    (void)m;
    if ((level & MOSQ_LOG_ERR) && !c->log[0])
        snprintf(c->log, sizeof(c->log), "%s", str);
}

/* Why libmosquitto could not start connecting; @e is errno after the call. */
static void describe(struct tapiq_mqtt_connector *c, const char *addr, int rc, int e)
{
    const char *why = rc == MOSQ_ERR_ERRNO ? strerror(e) : mosquitto_strerror(rc);
    if (c->log[0])
        snprintf(c->err, sizeof(c->err), "connecting to %s port %d: %s (%s)", addr, c->port, why,
                 c->log);
    else
        snprintf(c->err, sizeof(c->err), "connecting to %s port %d: %s", addr, c->port, why);
}

static int connect_by_name(struct tapiq_mqtt_connector *c)
{
    int rc = mosquitto_connect_async(c->m, c->host, c->port, c->keepalive);
    int e = errno;
    if (rc == MOSQ_ERR_SUCCESS)
        return 0;
    if (rc == MOSQ_ERR_EAI) {
        snprintf(c->err, sizeof(c->err), "cannot resolve host '%s'", c->host);
        return -EHOSTUNREACH;
    }
    describe(c, c->host, rc, e);
    return -ECONNREFUSED;
}

static int connect_by_address(struct tapiq_mqtt_connector *c)
{
    struct addrinfo hints, *res = NULL, *ai;
    char service[16], addr[NI_MAXHOST];
    unsigned n = 0, start;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%d", c->port);
    rc = c->resolve(c->host, service, &hints, &res);
    if (rc != 0 || !res) {
        int e = errno;
        snprintf(c->err, sizeof(c->err), "cannot resolve host '%s': %s", c->host,
                 rc == EAI_SYSTEM ? strerror(e) : rc ? gai_strerror(rc) : "no address");
        if (res)
            freeaddrinfo(res);
        return -EHOSTUNREACH;
    }
    for (ai = res; ai; ai = ai->ai_next)
        n++;
    start = c->turn % n;
    rc = -ECONNREFUSED;
    for (unsigned k = 0; k < n; k++) {
        int r, e;
        ai = res;
        for (unsigned i = (start + k) % n; i; i--)
            ai = ai->ai_next;
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
                        NI_NUMERICHOST) != 0)
            continue;
        r = mosquitto_connect_async(c->m, addr, c->port, c->keepalive);
        e = errno;
        if (r == MOSQ_ERR_SUCCESS) {
            rc = 0;
            break;
        }
        describe(c, addr, r, e);
    }
    if (rc && !c->err[0])
        snprintf(c->err, sizeof(c->err), "no usable address for host '%s'", c->host);
    freeaddrinfo(res);
    return rc;
}

static void *connector_main(void *arg)
{
    struct tapiq_mqtt_connector *c = arg;
    int expected = CONN_RUNNING;

    c->rc = c->tls ? connect_by_name(c) : connect_by_address(c);
    /* acq_rel: the release half publishes rc, err, log and the client to the
     * acquire load in take_try() / the CAS in abandon(); the acquire half
     * (on failure) pairs with abandon()'s release, so the free below comes
     * after everything the owner did. */
    if (!atomic_compare_exchange_strong_explicit(&c->state, &expected, CONN_DONE,
                                                 memory_order_acq_rel, memory_order_acquire))
        connector_free(c); /* abandoned: nobody else will */
    /* release: a reader that sees the count drop sees the free above. */
    atomic_fetch_sub_explicit(&connectors_running, 1, memory_order_release);
    return NULL;
}

int tapiq_mqtt_connector_start(struct mosquitto *m, const char *host, int port, int tls,
                               unsigned turn, int keepalive, struct tapiq_mqtt_connector **out)
{
    struct tapiq_mqtt_connector *c;
    pthread_attr_t attr;
    pthread_t t;
    unsigned n;
    int rc;

    /* relaxed: only a bound on the number of threads; the increment itself
     * is atomic, so the bound holds exactly. */
    n = atomic_load_explicit(&connectors_running, memory_order_relaxed);
    do {
        if (n >= TAPIQ_MQTT_MAX_CONNECTORS)
            return -EAGAIN;
    } while (!atomic_compare_exchange_weak_explicit(&connectors_running, &n, n + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    c = tapiq_calloc(1, sizeof(*c));
    if (c)
        c->host = tapiq_strdup(host);
    if (!c || !c->host) {
        free(c);
        atomic_fetch_sub_explicit(&connectors_running, 1, memory_order_relaxed);
        return -ENOMEM;
    }
    atomic_init(&c->state, CONN_RUNNING);
    c->resolve = resolver_get();
    if (!c->resolve)
        c->resolve = getaddrinfo;
    c->m = m;
    c->port = port;
    c->tls = tls;
    c->turn = turn;
    c->keepalive = keepalive;
    mosquitto_user_data_set(m, c);
    mosquitto_log_callback_set(m, connector_log);

    rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* pthread_create: everything above happens-before the thread. */
        rc = pthread_create(&t, &attr, connector_main, c);
        pthread_attr_destroy(&attr);
    }
    if (rc) {
        mosquitto_log_callback_set(m, NULL);
        mosquitto_user_data_set(m, NULL);
        c->m = NULL; /* the caller keeps it */
        connector_free(c);
        atomic_fetch_sub_explicit(&connectors_running, 1, memory_order_relaxed);
        return -EAGAIN;
    }
    *out = c;
    return 0;
}

int tapiq_mqtt_connector_take_try(struct tapiq_mqtt_connector *c, struct mosquitto **m,
                                  char *err, size_t errlen)
{
    int rc;
    /* acquire: pairs with the release half of the CAS in connector_main(). */
    if (atomic_load_explicit(&c->state, memory_order_acquire) == CONN_RUNNING)
        return -EINPROGRESS;
    rc = c->rc;
    if (rc == 0) {
        mosquitto_log_callback_set(c->m, NULL);
        *m = c->m;
        c->m = NULL;
    } else {
        snprintf(err, errlen, "%s", c->err);
    }
    connector_free(c);
    return rc;
}

void tapiq_mqtt_connector_abandon(struct tapiq_mqtt_connector *c)
{
    int expected = CONN_RUNNING;
    /* acq_rel: the release half pairs with the failing CAS (acquire) in
     * connector_main(), which then frees; the acquire half (on failure)
     * pairs with its successful CAS, after which we free. */
    if (!atomic_compare_exchange_strong_explicit(&c->state, &expected, CONN_ABANDONED,
                                                 memory_order_acq_rel, memory_order_acquire))
        connector_free(c);
}
