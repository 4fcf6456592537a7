/* core/worker_reply.h - the worker module's replies, shared by its files
 * (worker.c: batches; worker_one.c: the apply_one() path): a request's
 * finish mark, its reply written in place in the application's completion
 * queue (or held), the lamp state of an update. Internal to the worker
 * module; every function runs on the worker's thread (or a stepper's) in a
 * read-side section, and touches the worker's own fields only. */
#ifndef TAPIQ_CORE_WORKER_REPLY_H
#define TAPIQ_CORE_WORKER_REPLY_H

#include "core/device.h"
#include "core/handle.h"
#include "core/result.h"
#include "core/worker.h"

#define RUN_FEW_MAX 4u /* devices with more requests go as batches (apply_one) */

/* worker.c: the replies written since the last publish become visible
 * (ring positions released, queues' tails published); the post[] entry of
 * application @happ (NULL: gone); a reply held until there is room. */
void tapiq_worker_publish(struct tapiq_worker *wk);
struct tapiq_wpost *tapiq_worker_post_find(struct tapiq_worker *wk, uint32_t happ);
void tapiq_worker_hold(struct tapiq_worker *wk, uint32_t happ, uint32_t cell, int32_t st);
/* worker_one.c: the listed devices of a round whose backend has
 * apply_one() (see there). */
uint32_t tapiq_worker_run_listed(struct tapiq_worker *wk, uint32_t ndev,
                                 int (*one)(void *, uint32_t, uint32_t, uint32_t),
                                 uint32_t *keepp);

/* How many replies post[] entry @p takes in place with nothing looked at
 * again: none once its application's queue was found full or a publish is
 * due, else its known room, at most what is left before the next publish. */
static inline uint32_t reply_room(const struct tapiq_worker *wk, const struct tapiq_wpost *p)
{
    uint32_t lim;
    if (p->full || wk->unpub >= TAPIQ_WORKER_PUBLISH)
        return 0;
    lim = TAPIQ_WORKER_PUBLISH - wk->unpub;
    return p->room < lim ? p->room : lim;
}

/* The devices touched[@from .. @n) of a round, over a stepper's limit: each
 * listed for the next round (moved to touched[@keep] on, in order) unless
 * busy (then listed again when its batch is back). Runs after every device
 * before @from was read (it overwrites the front). Returns the new keep. */
static inline uint32_t keep_over_limit(struct tapiq_dev **touched, uint32_t from, uint32_t n,
                                       uint32_t keep)
{
    for (uint32_t i = from; i < n; i++) {
        if (!touched[i]->busy)
            touched[keep++] = touched[i];
        else
            touched[i]->queued = 0;
    }
    return keep;
}

/* fin[] marks: a finished position's lap, whose parity (the low bit of the
 * mark, bit sbits of the position; a request id has the same bit, since
 * its idmask is wider than the ring's mask: sq.h) is all that is compared
 * (fin_is()). A cell keeps the mark of its last finished position, so the
 * mark a lap left never passes for the next one and no mark is ever
 * cleared; every cell starts odd (worker_setup.c), as if finished in the
 * lap before the first. */
static inline uint8_t fin_mark_at(uint32_t sbits, uint32_t pos_or_id)
{
    return (uint8_t)(pos_or_id >> sbits);
}

static inline uint8_t fin_mark(const struct tapiq_worker *wk, uint32_t pos_or_id)
{
    return fin_mark_at(wk->sbits, pos_or_id);
}

/* Is the request at position @pos (in @cell) finished? */
static inline int fin_is(const uint8_t *fin, uint32_t sbits, uint32_t cell, uint32_t pos)
{
    return ((fin[cell] ^ (pos >> sbits)) & 1u) == 0;
}

/* The request in @cell (id @id) is finished: its reply is out (written,
 * published by tapiq_worker_publish()) or suppressed. */
static inline void finish(struct tapiq_worker *wk, uint32_t cell, uint32_t id)
{
    wk->fin[cell] = fin_mark(wk, id);
    wk->unfin--;
}

/* finish() without a reply: its handle (or application) closed meanwhile. */
static inline void suppress(struct tapiq_worker *wk, uint32_t cell, uint32_t id)
{
    finish(wk, cell, id);
    wk->c[TAPIQ_W_SUPPRESSED]++;
}

/* Reply to the request in @cell (id @id, handle @hv of application @happ)
 * with status @st: written in place in the application's completion queue
 * where it has room, else held (keeping its ring position); once an
 * application's queue had no room, its later replies are held too, in
 * order, until the held ones are retried (worker.h: held_app). With a
 * constant @hold 0 (retry_held()), a reply that finds no room is neither
 * written nor held: returns 0, the caller keeps it. Returns 1 otherwise.
 * In a read-side section. */
static inline __attribute__((always_inline)) int reply_or_keep(struct tapiq_worker *wk,
                                                               uint32_t happ, uint32_t cell,
                                                               uint32_t hv, uint32_t id,
                                                               int32_t st, int hold)
{
    struct tapiq_wpost *p;
    /* Every TAPIQ_WORKER_PUBLISH replies (held ones too): the positions go
     * back, the room is looked at again. */
    if (__builtin_expect(wk->unpub == TAPIQ_WORKER_PUBLISH, 0))
        tapiq_worker_publish(wk);
    p = wk->cur;
    if (__builtin_expect(p->happ != happ, 0) && !(p = tapiq_worker_post_find(wk, happ))) {
        wk->unpub++;
        suppress(wk, cell, id); /* shut down meanwhile */
        return 1;
    }
    if (__builtin_expect(p->room == 0, 0) &&
        (p->full || (p->room = tapiq_cq_room_at(p->cq, p->t, UINT32_MAX)) == 0)) {
        p->full = 1;
        if (!hold)
            return 0;
        wk->unpub++;
        tapiq_worker_hold(wk, happ, cell, st);
        return 1;
    }
    wk->unpub++;
    tapiq_cq_put(p->cq, p->t++, hv, PHONE_REPLY, id, (uint32_t)st);
    p->room--;
    finish(wk, cell, id);
    return 1;
}

static inline __attribute__((always_inline)) void reply(struct tapiq_worker *wk, uint32_t happ,
                                                        uint32_t cell, uint32_t hv, uint32_t id,
                                                        int32_t st)
{
    (void)reply_or_keep(wk, happ, cell, hv, id, st, 1);
}

/* The backend's status @st (0 or -errno) of one lamp update of @dev: on
 * success the lamp state and PHONE_STATE tokens. Returns the reply's
 * status. In a read-side section. */
static inline __attribute__((always_inline)) int32_t lamp_state(struct tapiq_worker *wk,
                                                                struct tapiq_dev *dev,
                                                                uint32_t lamp, uint32_t mode,
                                                                int32_t st)
{
    if (__builtin_expect(st != 0, 0)) {
        wk->c[TAPIQ_W_FAILED]++;
        return (int32_t)tapiq_provider_result(st);
    }
    if (tapiq_dev_set_lamp_worker(dev, lamp, mode) && tapiq_dev_has_subs(dev))
        tapiq_notify_lamp(wk->rt, dev, lamp);
    return 0;
}

/* One lamp request (in @cell, entry @e) of @dev is applied with backend
 * status @st (0 or -errno): lamp state and PHONE_STATE tokens on success,
 * then its reply (or suppression). In a read-side section. */
static inline __attribute__((always_inline)) void lamp_done(struct tapiq_worker *wk,
                                                            struct tapiq_dev *dev, uint32_t cell,
                                                            const struct tapiq_sqe *e,
                                                            uint32_t lamp, uint32_t mode, int32_t st)
{
    struct tapiq_handle *hs;
    st = lamp_state(wk, dev, lamp, mode, st);
    hs = tapiq_handle_lookup(wk->rt, e->handle);
    if (__builtin_expect(hs != NULL, 1))
        reply(wk, hs->happ, cell, e->handle, e->id, st);
    else
        suppress(wk, cell, e->id);
}

#endif /* TAPIQ_CORE_WORKER_REPLY_H */
