/* core/batch_attrs.h - a device batch's attribute updates, on the worker's
 * side: coalescing the pending attribute requests of one device into the
 * batch (tapiq_batch_attrs), and, when the batch is back, the device's
 * state, the PHONE_STATE notifications and each request's result.
 *
 * Coalescing: a request whose setting covers an earlier one of the batch
 * (same kind and target; a display or data write that spans the earlier
 * one's bytes; a hookswitch setting of a superset of its devices) removes
 * it, and takes the position of the later request: applying the list in
 * order gives the state of applying every request in order. DEVSPECIFIC
 * never coalesces. The superseded request's payload record points at the
 * one that answers it (`final`), so each request gets its own reply with
 * the status of the update that represents it.
 *
 * Concurrency: the device's worker only (a stepper of a manual runtime
 * runs as the worker); no atomics of its own. Progress: wait-free.
 */
#ifndef TAPIQ_CORE_BATCH_ATTRS_H
#define TAPIQ_CORE_BATCH_ATTRS_H

#include <stdint.h>

#include "core/device.h"
#include "core/worker.h"

/* Add the request of payload slot @slot to @b (the batch being built for
 * @dev). Returns 0, or -ENOSPC when the batch holds TAPIQ_BATCH_ATTRS_MAX
 * updates and this one covers none of them (it waits for the next batch). */
int tapiq_battr_add(struct tapiq_worker *wk, struct tapiq_dev *dev, struct tapiq_batch *b,
                    uint32_t slot);

/* After the last add: index the updates (before apply()). */
void tapiq_battr_seal(struct tapiq_worker *wk, struct tapiq_batch *b);

/* The batch is back: the device's state from the successful updates, then
 * PHONE_STATE to the subscribed handles (when @subs). In a read-side
 * section. */
void tapiq_battr_apply(struct tapiq_worker *wk, struct tapiq_dev *dev, struct tapiq_batch *b,
                       int subs);

/* The PHONE_REPLY result of the request of payload slot @slot (0 or a
 * negative PHONEERR_*); the slot goes back to the pool. Call once per
 * request, in request order (a later request's slot may answer this one). */
int32_t tapiq_battr_reply(struct tapiq_worker *wk, struct tapiq_batch *b, uint32_t slot);

#endif /* TAPIQ_CORE_BATCH_ATTRS_H */
