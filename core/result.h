/* core/result.h - what a provider's update status becomes in PHONE_REPLY.
 *
 * Backends speak -errno like the rest of tapiq's insides; the TAPI boundary
 * (core/tapi.c) is the one place that turns it into a PHONEERR_* value. The
 * worker calls this once per failed update when the batch completes, so the
 * reply carries the TAPI result. */
#ifndef TAPIQ_CORE_RESULT_H
#define TAPIQ_CORE_RESULT_H

#include <stdint.h>

/* @status: a provider's non-zero update status (-errno). Returns the
 * PHONEERR_* value for PHONE_REPLY's dwParam2:
 *   -EOPNOTSUPP  PHONEERR_OPERATIONUNAVAIL (the console cannot do that)
 *   -EINVAL      PHONEERR_INVALPARAM       (the console refused the value)
 *   -ENOMEM      PHONEERR_NOMEM
 *   anything else (-EIO, -ETIMEDOUT, -ENOTCONN, -ESHUTDOWN, ..., and values
 *   that are not -errno)  PHONEERR_OPERATIONFAILED. */
uint32_t tapiq_provider_result(int32_t status);

#endif /* TAPIQ_CORE_RESULT_H */
