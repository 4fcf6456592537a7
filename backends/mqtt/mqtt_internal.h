/* backends/mqtt/mqtt_internal.h - diagnostics of the mqtt backend for tests.
 *
 * Not installed and not exported from the shared library: tests reach it
 * through the internal static library.
 */
#ifndef TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H
#define TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H

#include <netdb.h>
#include <stdint.h>

enum tapiq_mqtt_ctr {
    TAPIQ_MQTT_MALFORMED, /* inbound messages ignored as malformed */
    TAPIQ_MQTT_CONNECTS,  /* CONNACKs accepted (first connection and reconnects) */
    TAPIQ_MQTT_PUBLISHES, /* lamp messages handed to the client */
    TAPIQ_MQTT_CONNECTORS_RUNNING, /* a gauge: connection attempts whose thread still runs
                                      (looking up a host), abandoned ones included */
};

/* tapiq_mqtt_counter - a process-wide counter (since the process started).
 * Concurrency: any thread; a relaxed read (exact once quiescent). */
uint64_t tapiq_mqtt_counter(enum tapiq_mqtt_ctr which);

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
