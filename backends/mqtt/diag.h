/* backends/mqtt/diag.h - the writing side of the mqtt backend's diagnostics.
 *
 * The process-wide counters and the last broker error (read through
 * mqtt_internal.h) live in diag.c, the one place of the backend's
 * process-wide state besides the connectors' own count (connect.c).
 *
 * Synchronization: counting is a relaxed atomic add, any thread, wait-free;
 * the last error is a short string copied under a mutex (blocking, but held
 * only for the copy), written by the I/O thread, read by any thread.
 */
#ifndef TAPIQ_BACKENDS_MQTT_DIAG_H
#define TAPIQ_BACKENDS_MQTT_DIAG_H

#include "backends/mqtt/mqtt_internal.h"

/* tapiq_mqtt_count - add 1 to counter @which (not the gauge).
 * Concurrency: any thread; wait-free; relaxed (a statistic). */
void tapiq_mqtt_count(enum tapiq_mqtt_ctr which);

/* tapiq_mqtt_set_last_error - make @text the last broker error (copied,
 * truncated to TAPIQ_MQTT_ERROR_MAX - 1 bytes).
 * Concurrency: any thread; blocking (a mutex held for the copy). */
void tapiq_mqtt_set_last_error(const char *text);

#endif /* TAPIQ_BACKENDS_MQTT_DIAG_H */
