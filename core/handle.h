/* core/handle.h - phone handles (HPHONE): slots, generations, limbo, status
 * subscriptions and the PHONE_STATE token protocol.
 *
 * A handle value is (generation << 16 | slot). Slots live in static storage
 * shared by successive runtimes; a closed slot is reused only after a grace
 * period (core/guard.h) and after every PHONE_STATE token naming it has left
 * its application's event ring, so a reader that validated a handle value
 * inside a read-side section may read the slot's fields. A slot whose 16-bit
 * generation is used up is retired: a closed handle value never comes back.
 *
 * Tokens: at most one PHONE_STATE message per (handle, lamp) and per
 * (handle, non-lamp state) waits in the event ring; a change while one waits
 * folds into it. A handle with a status filter reserves lamps +
 * TAPIQ_EVENTS_PER_HANDLE_EXTRA events of its application's ring, so a post
 * never fails.
 * Button events (PHONE_BUTTON) are not folded: a handle with a button filter
 * reserves TAPIQ_BUTTON_ROOM more events, and bused counts the units it
 * holds (events in the ring, plus one per button whose DOWN it got and whose
 * UP has not come yet: bdown). A post that finds no unit is not made
 * (tapiq_notify_button counts it as an overrun).
 *
 * Synchronization table:
 *   lookup, notify_lamp/notify_states/notify_button, token_taken: any
 *     thread, in a read-side section (or under g_lock), concurrently with
 *     everything.
 *   open, close, set_filter, the app-wide calls: under g_lock (serialised
 *     among themselves); close/set_filter hand back a list to free after a
 *     grace period.
 * Progress: lookups wait-free; token_taken lock-free. Notifications are not
 * lock-free: a message they post goes through tapiq_cring_post_blocking(),
 * which may wait for a consumer of the application's ring that was
 * preempted while it read a cell (see core/cring.h); otherwise they take a
 * bounded number of steps per subscribed handle.
 */
#ifndef TAPIQ_CORE_HANDLE_H
#define TAPIQ_CORE_HANDLE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cring.h"
#include "core/device.h"
#include "core/runtime.h"

#define TAPIQ_HANDLE_BITS 16
#define TAPIQ_MAX_HANDLES (1u << TAPIQ_HANDLE_BITS) /* slot 0 unused */
/* The hval of the unused slot 0: names slot 1, so no lookup matches it. */
#define TAPIQ_HANDLE_SLOT0 1u
#define TAPIQ_TOKENS_CLOSED 0x80000000u
#define TAPIQ_ALL_PHONESTATES 0x00FFFFFFu
/* The non-lamp states a notification is posted for, one token each: the
 * connection (CONNECTED and DISCONNECTED share one token), OWNER and
 * MONITORS (phoneOpen and phoneClose of the device's other handles),
 * DISPLAY, RINGMODE, RINGVOLUME, DEVSPECIFIC (the phoneSet* calls), and
 * HOOKSWITCH (phoneSetHookSwitch or the console), VOLUME, GAIN of each of
 * the three hookswitch devices. tapiq_notify_states() is called with these
 * bits only (it ignores any other). */
#define TAPIQ_TOKEN_STATES                                                                   \
    (PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED | PHONESTATE_OWNER | PHONESTATE_MONITORS |  \
     PHONESTATE_DISPLAY | PHONESTATE_RINGMODE | PHONESTATE_RINGVOLUME | PHONESTATE_DEVSPECIFIC | \
     PHONESTATE_HANDSETHOOKSWITCH | PHONESTATE_HANDSETVOLUME | PHONESTATE_HANDSETGAIN |         \
     PHONESTATE_SPEAKERHOOKSWITCH | PHONESTATE_SPEAKERVOLUME | PHONESTATE_SPEAKERGAIN |         \
     PHONESTATE_HEADSETHOOKSWITCH | PHONESTATE_HEADSETVOLUME | PHONESTATE_HEADSETGAIN)
/* Bits set in a 32-bit constant, as a constant expression. */
#define TAPIQ_POPCOUNT8_(x) (((x) & 1u) + ((x) >> 1 & 1u) + ((x) >> 2 & 1u) + ((x) >> 3 & 1u) + \
                             ((x) >> 4 & 1u) + ((x) >> 5 & 1u) + ((x) >> 6 & 1u) + ((x) >> 7 & 1u))
#define TAPIQ_POPCOUNT32_(x)                                                                 \
    (TAPIQ_POPCOUNT8_((x) & 0xFFu) + TAPIQ_POPCOUNT8_((x) >> 8 & 0xFFu) +                     \
     TAPIQ_POPCOUNT8_((x) >> 16 & 0xFFu) + TAPIQ_POPCOUNT8_((x) >> 24 & 0xFFu))
/* Events a handle with a status filter reserves beyond one per lamp: one
 * per non-lamp token, derived from the set above (16). */
#define TAPIQ_EVENTS_PER_HANDLE_EXTRA                                                        \
    ((uint32_t)TAPIQ_POPCOUNT32_((uint32_t)TAPIQ_TOKEN_STATES & ~(uint32_t)PHONESTATE_DISCONNECTED))
_Static_assert(TAPIQ_EVENTS_PER_HANDLE_EXTRA == 16u,
               "the non-lamp state tokens changed: update the counts in the comments and docs");
_Static_assert(((uint32_t)TAPIQ_TOKEN_STATES & (uint32_t)PHONESTATE_LAMP) == 0,
               "lamp tokens are reserved per lamp, not in the extra room");

struct tapiq_app;
struct tapiq_dev;

/* Published list of handle slots on a device with a status filter. */
struct tapiq_subs {
    struct tapiq_subs *garbage_next; /* chains replaced lists until freed */
    uint32_t n;
    uint32_t slot[];
};

struct tapiq_handle {
    /* What a request reads (hval, happ, dev, priv, cbinst): the first line
     * of the slot, which is two lines long and aligned to them. */
    alignas(TAPIQ_CACHELINE) _Atomic uint32_t hval; /* the HPHONE while open, 0 when closed */
    uint32_t happ;
    struct tapiq_app *app;
    uint32_t dev;
    uint32_t priv;
    uint32_t api_version;
    DWORD_PTR cbinst;
    _Atomic uint32_t states; /* phoneSetStatusMessages filter */
    uint32_t button_modes, button_states; /* the filter as set (read under g_lock) */
    _Atomic uint32_t bfilter;     /* the same for readers: modes | states << 8 */
    uint32_t reserved;            /* events reserved in the app's ring (state + button) */
    uint32_t broom;               /* of which for PHONE_BUTTON (0 or TAPIQ_BUTTON_ROOM) */
    _Atomic uint32_t bused;       /* button units held (see the file comment) */
    _Atomic uint64_t *bdown;      /* buttons whose DOWN this handle got, nlamps bits
                                     (after the lamp bits, in the same block) */
    _Atomic uint32_t tokens;      /* tokens in the ring | TAPIQ_TOKENS_CLOSED */
    _Atomic uint32_t statebits;   /* pending non-lamp state tokens */
    _Atomic uint64_t *lampbits;   /* pending lamp tokens, nlamps bits; then bdown */
    uint32_t lampbits_words;      /* words allocated (both sets) */
    uint32_t in_subs;             /* listed in the device's subs */
};
_Static_assert(offsetof(struct tapiq_handle, cbinst) + sizeof(DWORD_PTR) <= TAPIQ_CACHELINE,
               "a request reads one line of its handle's slot");

/* tapiq_handle_lookup() in two steps, for fast paths that test the result
 * once: the slot @h names, then whether @h is open in it. */
static inline struct tapiq_handle *tapiq_handle_slot(struct tapiq_rt *rt, uint32_t h)
{
    return &rt->handles[h & (TAPIQ_MAX_HANDLES - 1)];
}

/* No test of 0: the unused slot 0 holds TAPIQ_HANDLE_SLOT0, which no value
 * that names slot 0 (0 included) equals. acquire: pairs with the release
 * store of hval in open, so the slot's fields written before it are
 * visible. */
static inline int tapiq_handle_is(const struct tapiq_handle *hs, uint32_t h)
{
    return atomic_load_explicit(&hs->hval, memory_order_acquire) == h;
}

/* The open handle @h, or NULL. In a read-side section (or under g_lock).
 * acquire: pairs with the release store of hval in open, so the slot's
 * fields written before it are visible. */
static inline struct tapiq_handle *tapiq_handle_lookup(struct tapiq_rt *rt, uint32_t h)
{
    struct tapiq_handle *hs = tapiq_handle_slot(rt, h);
    return tapiq_handle_is(hs, h) ? hs : NULL;
}

/* Is @h open? A seq_cst load, for a Dekker pair with close's seq_cst store
 * of hval (the callback delivery check in core/app.c). */
static inline int tapiq_handle_is_open_sc(struct tapiq_rt *rt, uint32_t h)
{
    uint32_t idx = h & (TAPIQ_MAX_HANDLES - 1);
    return idx && h && atomic_load_explicit(&rt->handles[idx].hval, memory_order_seq_cst) == h;
}

/* Does any handle subscribe to @dev's state? (a hint: notify_* re-read)
 * acquire: pairs with the release store that publishes a new list. */
static inline int tapiq_dev_has_subs(struct tapiq_dev *dev)
{
    return atomic_load_explicit(&dev->subs, memory_order_acquire) != NULL;
}

/* The runtime's slot table (static storage); rt_free gives it back zeroed. */
void tapiq_handles_attach(struct tapiq_rt *rt);
void tapiq_handles_release(struct tapiq_rt *rt);

/* Open a handle of @app on device @dev. Under g_lock.
 * Returns 0 with *out, -ENOSPC (no slot left), -ENOMEM. */
int tapiq_handle_open_locked(struct tapiq_rt *rt, struct tapiq_app *app, uint32_t dev,
                             uint32_t api, uint32_t priv, DWORD_PTR cbinst, uint32_t *out);
/* Close; under g_lock. Returns a list to free after a grace period, or NULL. */
struct tapiq_subs *tapiq_handle_close_locked(struct tapiq_rt *rt, struct tapiq_handle *hs);
/* Handles closed so far in this runtime (any thread): a worker that has
 * replies held looks at all of them again when it changed (worker.c). */
uint32_t tapiq_handles_closes(struct tapiq_rt *rt);
/* Close every handle of @app, chaining lists to free into *garbage. */
void tapiq_handles_close_app_locked(struct tapiq_rt *rt, struct tapiq_app *app,
                                    struct tapiq_subs **garbage);
/* @app's event ring is gone: its closed handles have no tokens left. */
void tapiq_handles_forget_app_locked(struct tapiq_rt *rt, struct tapiq_app *app);
/* Free a chain of lists (after a grace period). */
void tapiq_subs_free(struct tapiq_subs *list);

/* Status filter; under g_lock. Returns 0, -EAGAIN (no event room), -ENOMEM;
 * *old: a list to free after a grace period (or NULL). */
int tapiq_handle_set_filter_locked(struct tapiq_rt *rt, struct tapiq_handle *hs, uint32_t states,
                                   uint32_t button_modes, uint32_t button_states,
                                   struct tapiq_subs **old);
void tapiq_handle_get_filter(struct tapiq_handle *hs, uint32_t *states, uint32_t *button_modes,
                             uint32_t *button_states);

/* Post PHONE_STATE tokens for a lamp change / a state change of @dev to the
 * subscribed handles. In a read-side section. */
void tapiq_notify_lamp(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t lamp);
void tapiq_notify_states(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t state);

/* Post a PHONE_BUTTON for button @button (mode @mode, state @state) of @dev
 * to every subscribed handle whose filter selects it. In a read-side
 * section. Returns the number of handles that had no room (overruns, also
 * counted in the statistics). */
uint32_t tapiq_notify_button(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t button,
                             uint32_t mode, uint32_t state);

/* A message @m was taken from @app's event ring: count it out and clear its
 * pending bit (PHONE_STATE) or give its button unit back (PHONE_BUTTON).
 * Returns 1 when it is to be delivered (its handle is open).
 * A connection token (CONNECTED and DISCONNECTED share one) becomes the
 * device's state now: m->p1 is rewritten; the dwParam2 of OWNER, MONITORS,
 * RINGMODE and the hookswitch states is the value now (m->p2). In a
 * read-side section. */
int tapiq_handle_token_taken(struct tapiq_rt *rt, struct tapiq_app *app, struct tapiq_cmsg *m);

#endif /* TAPIQ_CORE_HANDLE_H */
