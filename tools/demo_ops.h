/* tools/demo_ops.h - the operators of tapiq-demo's consoles and the
 * supervisor that answers them (README, "The demo's operators").
 *
 * Protocol: position 0 of every console is a FEATURE button labelled
 * "Ready" (the busy-lamp field starts at position 1). An operator toggles
 * between ready and not ready by pressing it: tapiq_mem_button DOWN, then UP,
 * the mem backend's way of playing the operator. The supervisor, an
 * application of its own that owns every console too and asks only for
 * PHONE_BUTTON of FEATURE buttons going DOWN, answers each press by setting
 * the Ready lamp: STEADY when the operator is now ready, OFF when not.
 * Operators are simulated for the first DEMO_OPS_MAX online consoles.
 *
 * Checked at the end: every press reached the supervisor exactly once (or
 * was refused with -ENOBUFS and counted), every lamp request got exactly one
 * reply, and every Ready lamp shows the operator's state (phoneGetLamp).
 *
 * Threads: demo_ops_start starts the operator thread (presses at a rate) and
 * the supervisor thread (reads its application's messages); demo_ops_stop
 * stops pressing, waits until every press is answered and every reply came,
 * and checks. Only the public headers are used.
 */
#ifndef TAPIQ_TOOLS_DEMO_OPS_H
#define TAPIQ_TOOLS_DEMO_OPS_H

#include <stdint.h>

#include <tapiq/tapiq.h>

#define DEMO_OPS_MAX 1024 /* consoles with a simulated operator */
#define DEMO_OPS_READY 0  /* the Ready button's position */

struct demo_ops;

struct demo_ops_result {
    uint64_t presses;     /* presses made (DOWN accepted by tapiq_mem_button) */
    uint64_t refused;     /* presses refused with -ENOBUFS (no room: counted, not lost) */
    uint64_t answered;    /* presses the supervisor received and answered */
    uint64_t lamp_sets;   /* Ready lamp requests accepted */
    uint64_t lamp_replies;
    uint64_t lamp_errors; /* replies or calls with an unexpected error */
    uint32_t consoles;    /* consoles with an operator */
    uint32_t ready;       /* operators ready at the end */
    uint32_t mismatched;  /* Ready lamps that differ from the operator's state */
    int failed;           /* a check failed (the fields say which) */
};

/* Start the operators on the first min(@online, DEMO_OPS_MAX) consoles, at
 * @rate presses per second over all of them (0: no simulated operators; the
 * consoles press through their backend, e.g. mqtt, and the supervisor
 * answers whatever arrives). Returns NULL (with a message
 * on stderr) when the supervisor cannot be set up. */
struct demo_ops *demo_ops_start(uint32_t online, unsigned rate);
/* Stop, drain, check, shut the supervisor down, free. */
void demo_ops_stop(struct demo_ops *o, struct demo_ops_result *r);

#endif /* TAPIQ_TOOLS_DEMO_OPS_H */
