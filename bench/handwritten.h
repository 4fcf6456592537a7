/* bench/handwritten.h - the baseline every end-to-end figure is divided by: a
 * lamp dispatcher written the way a call-center team writes one by hand, with
 * one mutex and condition variables, no lock-free code.
 *
 *   issuers --[request FIFO, mutex mu]--> N workers --[reply FIFO, mutex rmu]--> reaper
 *
 * - A bounded FIFO of requests (console, lamp, mode, id) under `mu`; request
 *   ids come from a counter under the same mutex (1, 2, 3 ...).
 * - N worker threads; each takes up to 64 requests per acquisition of `mu`,
 *   then, under `rmu`, applies them to the lamp table (last wins) and appends
 *   one reply (id, status 0) per request to the reply FIFO.
 * - The in-flight window is the one tapiq's `queue` key sets: at most
 *   @capacity requests accepted and not yet taken by the reaper. An issuer
 *   that finds the window full sleeps on a condvar (what a user writes: the
 *   textbook bounded buffer; no "busy" answer to retry, so no issuer spins);
 *   the reaper wakes the sleepers once half the window is free (a low-water
 *   mark: waking one issuer per freed slot cost a futex hand-off per request
 *   and collapsed the rate with many threads). Both FIFOs hold @capacity
 *   entries and never overflow.
 * - The usual economies of such code, nothing more: a worker is signalled
 *   only when the request FIFO turns non-empty (workers sleep only on an
 *   empty one), the reaper once per batch of replies.
 * - Two workers may take consecutive batches and finish in either order, so
 *   every lamp remembers the id of the request that set it and an older
 *   request does not overwrite a newer one: the order of effect is the order
 *   of the ids, which is the order of issue (per thread and across threads).
 *
 * One instance per process (the state is static, like tapiq's runtime).
 *
 * Synchronization table (yes: may run concurrently):
 *                 set_lamp  get_reply(s)  get_lamp  init  shutdown
 *   set_lamp      yes       yes           yes       no    yes (returns 0)
 *   get_reply(s)  yes       yes           yes       no    yes (-ESHUTDOWN)
 *   get_lamp      yes       yes           yes       no    yes (returns 0)
 * hw_init: nothing else may run; hw_shutdown: one call per hw_init.
 * Progress: every operation is blocking (it takes a mutex); hw_set_lamp also
 * sleeps while the window is full, hw_get_reply(s) while no reply is waiting.
 * Invariants: requests queued + being applied + replies queued <= in flight
 * <= capacity (a reaper gives a taken reply's room back just after taking
 * it); every accepted id gets exactly one reply, which a reaper takes unless
 * hw_shutdown comes first.
 */
#ifndef TAPIQ_BENCH_HANDWRITTEN_H
#define TAPIQ_BENCH_HANDWRITTEN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hw_reply {
    uint64_t id;
    int32_t status; /* 0: applied */
};

/* hw_init - allocate the FIFOs (@capacity entries each) and the lamp table
 * (@consoles x @lamps, every lamp 0 until set), start @workers threads.
 * Returns 0, -EINVAL (a zero argument) or -ENOMEM / -EAGAIN (nothing
 * started). */
int hw_init(uint32_t consoles, uint32_t lamps, uint32_t workers, uint32_t capacity);

/* hw_set_lamp - queue one update; when @capacity requests are in flight,
 * sleeps until half of them have been reaped. Ordering: a later call by the
 * same thread takes effect after this one. Returns the request id (>= 1),
 * or 0 for a bad console or lamp or once hw_shutdown has begun (nothing
 * queued). */
uint64_t hw_set_lamp(uint32_t console, uint32_t lamp, uint32_t mode);

/* hw_get_replies - take up to @max replies, oldest first, waiting up to
 * @timeout_ms (< 0: no limit, 0: do not wait) for the first. Taking a reply
 * frees its room in the window. The lamp state of a taken reply is visible
 * to hw_get_lamp. Returns the count (>= 1), -ETIMEDOUT, or -ESHUTDOWN. */
int hw_get_replies(struct hw_reply *out, int max, int timeout_ms);

/* hw_get_reply - hw_get_replies for one reply. Returns 0, -ETIMEDOUT or
 * -ESHUTDOWN. */
int hw_get_reply(uint64_t *id, int32_t *status, int timeout_ms);

/* hw_get_lamp - the mode of the newest applied request for the lamp (0 when
 * none, or for a bad console or lamp, or after hw_shutdown). */
uint32_t hw_get_lamp(uint32_t console, uint32_t lamp);

/* hw_shutdown - wake every sleeper (they return 0 or -ESHUTDOWN), let the
 * workers apply what is queued, join them and free the tables. A call made
 * after it returns nothing and touches no freed memory. */
void hw_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* TAPIQ_BENCH_HANDWRITTEN_H */
