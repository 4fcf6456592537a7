/* backends/mqtt/mqtt_internal.h - diagnostics of the mqtt backend, and its
 * test hooks.
 *
 * Not installed and not exported from the shared library: tests reach it
 * through the internal static library. The connection diagnostics (the
 * counters of attempts and failures, tapiq_mqtt_last_error()) are meant to
 * become public native calls in <tapiq/tapiq.h>.
 */
#ifndef TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H
#define TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>

enum tapiq_mqtt_ctr {
    TAPIQ_MQTT_MALFORMED,        /* inbound messages ignored as malformed */
    TAPIQ_MQTT_CONNECTS,         /* CONNACKs accepted (first connection and reconnects) */
    TAPIQ_MQTT_PUBLISHES,        /* lamp messages handed to the client */
    TAPIQ_MQTT_CONNECT_ATTEMPTS, /* connection attempts begun (lookup, connect, CONNACK) */
    TAPIQ_MQTT_CONNECT_FAILURES, /* attempts that ended without an accepted CONNACK; each
                                    one set the last error. attempts = connects + failures
                                    (+ 1 while one is under way or was cut short by stop) */
    TAPIQ_MQTT_CONNECTORS_RUNNING, /* a gauge: connection attempts whose thread still runs
                                      (looking up a host), abandoned ones included */
};

/* tapiq_mqtt_counter - a process-wide counter (since the process started),
 * or the gauge.
 * Concurrency: any thread; wait-free; a relaxed read (exact once quiescent). */
uint64_t tapiq_mqtt_counter(enum tapiq_mqtt_ctr which);

/* Room for the longest last error, NUL included. */
#define TAPIQ_MQTT_ERROR_MAX 512

/* tapiq_mqtt_last_error - the last connection error of the process, as text:
 * why the last failed attempt failed, or why the last connection was lost,
 * whichever came last; it stays after a later success (compare the counters
 * to tell). Prefixed with the url, e.g.
 *   "mqtt://10.0.0.5:1883: refused by the broker: not authorized
 *    (MQTT 3.1.1 CONNACK return code 5)"
 *   "mqtts://broker:8883: connection lost: A TLS error occurred.
 *    (OpenSSL Error[0]: ...: certificate verify failed)"
 * Concurrency: any thread; blocking (a mutex held only for the copy).
 * Ownership:   copies at most @len - 1 bytes and a NUL into @buf (nothing
 *              when @len is 0; @buf may then be NULL).
 * Returns:     the length of the whole message (0: no error yet; >= @len:
 *              truncated), or -EINVAL for a NULL @buf with a @len. */
int tapiq_mqtt_last_error(char *buf, size_t len);

/* ------------------------------------------------------------- test hooks */

/* A stand-in for getaddrinfo(), with its contract: on 0 *@res is a list that
 * the caller frees with freeaddrinfo(). */
typedef int tapiq_mqtt_resolve_fn(const char *host, const char *service,
                                  const struct addrinfo *hints, struct addrinfo **res);

/* tapiq_mqtt_set_resolver - look mqtt:// hosts up with @fn instead of
 * getaddrinfo() (NULL: getaddrinfo() again). Tests use it for a resolver
 * that hangs. @fn runs on the backend's connector threads, which may outlive
 * phoneShutdown().
 * Concurrency: any thread; connection attempts started after the call use
 * @fn (release; writes before the call happen-before @fn runs). */
void tapiq_mqtt_set_resolver(tapiq_mqtt_resolve_fn *fn);

#endif /* TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H */
