/* backends/backend.h - the built-in backends.
 *
 * The provider interface itself is public (tapiq_backend_ops in
 * <tapiq/tapiq.h>) so that an application can bring its own backend; this
 * header only names the backends compiled into the library.
 */
#ifndef TAPIQ_BACKENDS_BACKEND_H
#define TAPIQ_BACKENDS_BACKEND_H

#include "tapiq/tapiq.h"

/* Simulated consoles in memory, with fault injection. Keys: fail_ppm,
 * latency_us, offline (see the README). */
extern const tapiq_backend_ops tapiq_mem_backend;

#ifdef TAPIQ_HAVE_MQTT
/* Publishes console lamp state to an MQTT broker (backends/mqtt). */
extern const tapiq_backend_ops tapiq_mqtt_backend;
#endif

#endif /* TAPIQ_BACKENDS_BACKEND_H */
