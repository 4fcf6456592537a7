/* tests/unit/tq_pairq.h - an MPMC ring of a small struct, for test_mpmc (defined in a
 * header so that the generated operations a test does not call are not
 * "unused functions" of the test's own file). */
#ifndef TAPIQ_TESTS_TQ_PAIRQ_H
#define TAPIQ_TESTS_TQ_PAIRQ_H

#include <stdint.h>

#include "core/mpmc.h"

struct tq_pair {
    uint32_t a;
    uint16_t b;
};
TAPIQ_MPMC_DEFINE(tq_pairq, struct tq_pair)

#endif /* TAPIQ_TESTS_TQ_PAIRQ_H */
