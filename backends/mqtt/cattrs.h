/* backends/mqtt/cattrs.h - the mqtt backend's per-console attributes besides
 * lamps: what the state message carries (wire_state.h), kept as the broker
 * acknowledged it, and the batch's attribute updates applied to a copy.
 *
 * Concurrency: the backend's I/O thread only (start and stop exclude it);
 * nothing here is shared. Allocation only in mqtt_cattrs_new.
 */
#ifndef TAPIQ_BACKENDS_MQTT_CATTRS_H
#define TAPIQ_BACKENDS_MQTT_CATTRS_H

#include <stddef.h>
#include <stdint.h>

#include "backends/mqtt/wire_state.h"
#include "tapiq/tapiq.h"

/* A console's attributes in one allocation (free()), with the initial
 * values the core gives them: a blank display (spaces), ring mode 0 at
 * volume 0x8000, every hookswitch device on hook, volumes and gains 0x8000,
 * data areas zero, the configured buttons (every one of @nlamps positions
 * listed; DUMMY ones are not encoded). Returns NULL on ENOMEM. */
struct tapiq_mqtt_attrs *mqtt_cattrs_new(const tapiq_device_attrs *t, uint32_t nlamps);

/* The storage a copy of any of the consoles needs: the largest of each. */
struct mqtt_cattrs_cap {
    size_t display, buttons, data;
};
void mqtt_cattrs_cap_add(struct mqtt_cattrs_cap *cap, const struct tapiq_mqtt_attrs *a);
struct tapiq_mqtt_attrs *mqtt_cattrs_scratch(const struct mqtt_cattrs_cap *cap);

/* Copy @src's values into @dst (storage at least as large). */
void mqtt_cattrs_copy(struct tapiq_mqtt_attrs *dst, const struct tapiq_mqtt_attrs *src);

/* Apply @n attribute updates in order to @a (NULL: a console with lamps
 * only; then nothing but DEVSPECIFIC is applied). DEVSPECIFIC entries are
 * not state: they go to @ds (up to TAPIQ_MQTT_DEVSPEC_MAX), *@nds counts
 * them. The core checked every value against the console's attributes;
 * what still does not fit (cannot happen) is skipped. */
void mqtt_cattrs_apply(struct tapiq_mqtt_attrs *a, const tapiq_attr *x, size_t n,
                       struct tapiq_mqtt_devspec *ds, uint32_t *nds);

#endif /* TAPIQ_BACKENDS_MQTT_CATTRS_H */
