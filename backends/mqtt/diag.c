/* backends/mqtt/diag.c - process-wide diagnostics of the mqtt backend:
 * counters and the last broker error (see diag.h and mqtt_internal.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "backends/mqtt/connect.h"
#include "backends/mqtt/diag.h"

static _Atomic uint64_t counters[TAPIQ_MQTT_CONNECTORS_RUNNING];

static pthread_mutex_t last_error_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_error[TAPIQ_MQTT_ERROR_MAX]; /* "" until the first error */

void tapiq_mqtt_count(enum tapiq_mqtt_ctr which)
{
    if ((unsigned)which < TAPIQ_MQTT_CONNECTORS_RUNNING)
        /* relaxed: a statistic; no data is published through it. */
        atomic_fetch_add_explicit(&counters[which], 1, memory_order_relaxed);
}

TAPIQ_API uint64_t tapiq_mqtt_counter(enum tapiq_mqtt_ctr which)
{
    if (which == TAPIQ_MQTT_CONNECTORS_RUNNING)
        return tapiq_mqtt_connectors_running();
    if ((unsigned)which < TAPIQ_MQTT_CONNECTORS_RUNNING)
        /* relaxed: pairs with nothing; see tapiq_mqtt_count(). */
        return atomic_load_explicit(&counters[which], memory_order_relaxed);
    return 0;
}

void tapiq_mqtt_set_last_error(const char *text)
{
    pthread_mutex_lock(&last_error_mu);
    snprintf(last_error, sizeof(last_error), "%s", text);
    pthread_mutex_unlock(&last_error_mu);
}

TAPIQ_API int tapiq_mqtt_last_error(char *buf, size_t len)
{
    size_t n;
    if (!buf && len)
        return -EINVAL;
    pthread_mutex_lock(&last_error_mu);
    n = strlen(last_error);
    if (len)
        snprintf(buf, len, "%s", last_error);
    pthread_mutex_unlock(&last_error_mu);
    return (int)n;
}
