/* backends/mqtt/mqtt_internal.h - diagnostics of the mqtt backend for tests.
 *
 * Not installed and not exported from the shared library: tests reach it
 * through the internal static library.
 */
#ifndef TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H
#define TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H

#include <stdint.h>

enum tapiq_mqtt_ctr {
    TAPIQ_MQTT_MALFORMED, /* inbound messages ignored as malformed */
    TAPIQ_MQTT_CONNECTS,  /* CONNACKs accepted (first connection and reconnects) */
    TAPIQ_MQTT_PUBLISHES, /* lamp messages handed to the client */
};

/* tapiq_mqtt_counter - a process-wide counter (since the process started).
 * Concurrency: any thread; a relaxed read (exact once quiescent). */
uint64_t tapiq_mqtt_counter(enum tapiq_mqtt_ctr which);

#endif /* TAPIQ_BACKENDS_MQTT_MQTT_INTERNAL_H */
