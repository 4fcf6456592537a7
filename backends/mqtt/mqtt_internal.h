/* backends/mqtt/mqtt_internal.h - diagnostics of the mqtt backend, and its
 * test hooks.
 *
 * Not installed and not exported from the shared library: tests reach it
 * through the internal static library. The connection diagnostics (the
 * counters of attempts and failures, tapiq_mqtt_last_error()) are public
 * native calls in <tapiq/tapiq.h>.
 */
#ifndef TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H
#define TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>

#include "tapiq/tapiq.h"

/* The diagnostics (tapiq_mqtt_counter, tapiq_mqtt_last_error, enum
 * tapiq_mqtt_ctr) are public: <tapiq/tapiq.h>. */
#define TAPIQ_MQTT_ERROR_MAX 512 /* room for the longest last error, NUL included */

/* ------------------------------------------------------------- test hooks */
/* In the internal library only (TAPIQ_INTERNAL): the installed one has none. */

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
#ifdef TAPIQ_INTERNAL
void tapiq_mqtt_set_resolver(tapiq_mqtt_resolve_fn *fn);
#endif

#endif /* TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H */
