/* core/handle.c - phone handles; see handle.h. */
#include "core/handle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/app.h"
#include "core/device.h"
#include "core/guard.h"

/* Generations outlive runtimes, so a handle value is never reused; a slot
 * whose generation is used up is retired (under g_lock). */
static uint16_t g_handle_gen[TAPIQ_MAX_HANDLES];

/* The slot table and its free lists, used by one runtime at a time (the next
 * one starts after the last one was freed, both under g_lock). Static, so
 * that starting a runtime allocates none of its ~6 MiB and touches only the
 * slots it uses: a slot is taken from free_handles, else the never-used one
 * at fresh_handles; release zeroes the used ones. Pages never touched cost
 * no memory. */
static struct tapiq_handle g_handle_slots[TAPIQ_MAX_HANDLES];
static uint32_t g_free_handles[TAPIQ_MAX_HANDLES];
static uint32_t g_limbo_handles[TAPIQ_MAX_HANDLES];

void tapiq_handles_attach(struct tapiq_rt *rt)
{
    rt->handles = g_handle_slots;
    rt->free_handles = g_free_handles;
    rt->limbo_handles = g_limbo_handles;
    rt->fresh_handles = 1; /* slot 0 is never used */
    /* relaxed: the runtime is not published yet. */
    atomic_store_explicit(&rt->handles[0].hval, TAPIQ_HANDLE_SLOT0, memory_order_relaxed);
    rt->nfree_handles = 0;
    rt->nlimbo_handles = 0;
}

void tapiq_handles_release(struct tapiq_rt *rt)
{
    uint32_t end;
    if (!rt->handles)
        return;
    /* Back to all zeros for the next runtime: the slots below fresh_handles,
     * and fresh_handles itself (open may have given it lamp bits before
     * failing). */
    end = rt->fresh_handles < TAPIQ_MAX_HANDLES ? rt->fresh_handles + 1 : TAPIQ_MAX_HANDLES;
    for (uint32_t i = 0; i < end; i++)
        free(rt->handles[i].lampbits);
    memset(rt->handles, 0, end * sizeof(*rt->handles));
}

void tapiq_subs_free(struct tapiq_subs *list)
{
    while (list) {
        struct tapiq_subs *next = list->garbage_next;
        free(list);
        list = next;
    }
}

/* Replace @dev's subscriber list with one without (or with) slot @idx;
 * under g_lock. The caller waits for a grace period before freeing what is
 * returned. */
static struct tapiq_subs *subs_change_locked(struct tapiq_dev *dev, uint32_t idx, int add,
                                             int *nomem)
{
    struct tapiq_subs *old = atomic_load_explicit(&dev->subs, memory_order_relaxed);
    uint32_t n = old ? old->n : 0, k = 0;
    struct tapiq_subs *s = tapiq_malloc(sizeof(*s) + sizeof(uint32_t) * (n + 1));
    *nomem = 0;
    if (!s) {
        *nomem = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        if (old->slot[i] != idx)
            s->slot[k++] = old->slot[i];
    if (add)
        s->slot[k++] = idx;
    s->n = k;
    s->garbage_next = NULL;
    /* release: publishes the new list's contents; pairs with the acquire
     * load in tapiq_notify_*(). */
    atomic_store_explicit(&dev->subs, s, memory_order_release);
    if (old)
        old->garbage_next = NULL;
    return old;
}

/* Make closed slots reusable: one grace period, then every limbo slot whose
 * tokens have all left the ring. Under g_lock. */
static void recycle_limbo_locked(struct tapiq_rt *rt)
{
    uint32_t keep = 0;
    tapiq_guard_synchronize_blocking();
    for (uint32_t i = 0; i < rt->nlimbo_handles; i++) {
        uint32_t idx = rt->limbo_handles[i];
        struct tapiq_handle *hs = &rt->handles[idx];
        /* acquire: pairs with the seq_cst fetch_sub of the last token in
         * tapiq_handle_token_taken(). */
        uint32_t t = atomic_load_explicit(&hs->tokens, memory_order_acquire);
        if ((t & ~TAPIQ_TOKENS_CLOSED) == 0 && g_handle_gen[idx] != UINT16_MAX)
            rt->free_handles[rt->nfree_handles++] = idx;
        else if ((t & ~TAPIQ_TOKENS_CLOSED) != 0)
            rt->limbo_handles[keep++] = idx;
        /* else: its generation is used up; retired so a value never repeats */
    }
    rt->nlimbo_handles = keep;
}

int tapiq_handle_open_locked(struct tapiq_rt *rt, struct tapiq_app *app, uint32_t devid,
                             uint32_t api, uint32_t priv, DWORD_PTR cbinst, uint32_t *out)
{
    struct tapiq_dev *dev = &rt->devs[devid];
    struct tapiq_handle *hs;
    uint32_t idx, words;
    /* A reusable slot, else one never used (retired ones skipped), else the
     * closed ones once a grace period has passed. */
    while (rt->nfree_handles == 0 && rt->fresh_handles < TAPIQ_MAX_HANDLES &&
           g_handle_gen[rt->fresh_handles] == UINT16_MAX)
        rt->fresh_handles++;
    if (rt->nfree_handles == 0 && rt->fresh_handles == TAPIQ_MAX_HANDLES)
        recycle_limbo_locked(rt);
    if (rt->nfree_handles == 0 && rt->fresh_handles == TAPIQ_MAX_HANDLES)
        return -ENOSPC;
    idx = rt->nfree_handles ? rt->free_handles[rt->nfree_handles - 1] : rt->fresh_handles;
    hs = &rt->handles[idx];
    words = (dev->nlamps + 63) / 64;
    if (2 * words > hs->lampbits_words) {
        /* the lamp token bits, then the button DOWN bits */
        _Atomic uint64_t *nb = tapiq_calloc(2 * words, sizeof(*nb));
        if (!nb)
            return -ENOMEM;
        free(hs->lampbits);
        hs->lampbits = nb;
        hs->lampbits_words = 2 * words;
    }
    if (hs->in_subs) {
        /* left listed on an earlier device after an allocation failure */
        int nomem;
        struct tapiq_subs *old = subs_change_locked(&rt->devs[hs->dev], idx, 0, &nomem);
        if (nomem)
            return -ENOMEM;
        tapiq_guard_synchronize_blocking();
        free(old);
        hs->in_subs = 0;
    }
    if (rt->nfree_handles)
        rt->nfree_handles--;
    else
        rt->fresh_handles++;
    /* relaxed (the resets below): the slot is unpublished and no reader
     * touched it since a grace period; the release store of hval publishes
     * them. */
    for (uint32_t w = 0; w < hs->lampbits_words; w++)
        atomic_store_explicit(&hs->lampbits[w], 0, memory_order_relaxed);
    /* A device without lamps has neither set (and no block: NULL + 0 is
     * undefined). */
    hs->bdown = hs->lampbits ? hs->lampbits + words : NULL;
    hs->happ = tapiq_app_handle(app);
    hs->app = app;
    hs->dev = devid;
    hs->priv = priv;
    hs->api_version = api;
    hs->cbinst = cbinst;
    hs->button_modes = 0;
    hs->button_states = 0;
    hs->reserved = 0;
    hs->broom = 0;
    atomic_store_explicit(&hs->bfilter, 0, memory_order_relaxed);
    atomic_store_explicit(&hs->bused, 0, memory_order_relaxed);
    atomic_store_explicit(&hs->states, 0, memory_order_relaxed);
    atomic_store_explicit(&hs->tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&hs->statebits, 0, memory_order_relaxed);
    g_handle_gen[idx]++; /* never wraps: a used-up slot is retired */
    tapiq_dev_count_handle(dev, priv, +1);
    *out = (uint32_t)g_handle_gen[idx] << TAPIQ_HANDLE_BITS | idx;
    /* release: publishes the slot's fields; pairs with the acquire load in
     * tapiq_handle_lookup(). */
    atomic_store_explicit(&hs->hval, *out, memory_order_release);
    /* The other handles of the device: one more owner or monitor. */
    tapiq_notify_states(rt, dev, priv == PHONEPRIVILEGE_OWNER ? PHONESTATE_OWNER
                                                              : PHONESTATE_MONITORS);
    return 0;
}

struct tapiq_subs *tapiq_handle_close_locked(struct tapiq_rt *rt, struct tapiq_handle *hs)
{
    uint32_t idx = (uint32_t)(hs - rt->handles), t;
    struct tapiq_dev *dev = &rt->devs[hs->dev];
    struct tapiq_subs *old = NULL;
    /* seq_cst: readers that still see the old value finish inside their
     * sections; new readers see 0. */
    atomic_store_explicit(&hs->hval, 0, memory_order_seq_cst);
    /* seq_cst: pairs with the fetch_add in post_token() and post_button();
     * see there. */
    t = atomic_fetch_or_explicit(&hs->tokens, TAPIQ_TOKENS_CLOSED, memory_order_seq_cst);
    if (hs->reserved)
        tapiq_cring_release_events(tapiq_app_ring(hs->app),
                                   hs->reserved - (t & ~TAPIQ_TOKENS_CLOSED));
    hs->reserved = 0;
    tapiq_dev_count_handle(dev, hs->priv, -1);
    if (hs->in_subs) {
        int nomem;
        old = subs_change_locked(dev, idx, 0, &nomem);
        if (nomem) {
            /* Keep the slot listed; readers skip closed handles. It leaves
             * the list when the slot is reused. */
            old = NULL;
        } else {
            hs->in_subs = 0;
        }
    }
    rt->limbo_handles[rt->nlimbo_handles++] = idx;
    /* release: pairs with the acquire load in tapiq_handles_closes(): who
     * sees the new count sees hval 0 (stored above). Under g_lock, the one
     * writer: relaxed load. */
    atomic_store_explicit(&rt->closes, atomic_load_explicit(&rt->closes, memory_order_relaxed) + 1,
                          memory_order_release);
    /* The other handles of the device (this one reads as closed): one owner
     * or monitor less. */
    tapiq_notify_states(rt, dev, hs->priv == PHONEPRIVILEGE_OWNER ? PHONESTATE_OWNER
                                                                  : PHONESTATE_MONITORS);
    return old;
}

uint32_t tapiq_handles_closes(struct tapiq_rt *rt)
{
    /* acquire: pairs with the release store in tapiq_handle_close_locked(). */
    return atomic_load_explicit(&rt->closes, memory_order_acquire);
}

void tapiq_handles_close_app_locked(struct tapiq_rt *rt, struct tapiq_app *app,
                                    struct tapiq_subs **garbage)
{
    for (uint32_t i = 1; i < rt->fresh_handles; i++) {
        struct tapiq_handle *hs = &rt->handles[i];
        /* relaxed: under g_lock, which every writer of hval holds. */
        if (atomic_load_explicit(&hs->hval, memory_order_relaxed) && hs->app == app) {
            struct tapiq_subs *old = tapiq_handle_close_locked(rt, hs);
            if (old) {
                old->garbage_next = *garbage;
                *garbage = old;
            }
        }
    }
}

void tapiq_handles_forget_app_locked(struct tapiq_rt *rt, struct tapiq_app *app)
{
    for (uint32_t i = 0; i < rt->nlimbo_handles; i++) {
        struct tapiq_handle *hs = &rt->handles[rt->limbo_handles[i]];
        if (hs->app == app) /* relaxed: no reader left (ring gone, grace period passed) */
            atomic_store_explicit(&hs->tokens, TAPIQ_TOKENS_CLOSED, memory_order_relaxed);
    }
}

int tapiq_handle_set_filter_locked(struct tapiq_rt *rt, struct tapiq_handle *hs, uint32_t states,
                                   uint32_t button_modes, uint32_t button_states,
                                   struct tapiq_subs **old)
{
    struct tapiq_dev *dev = &rt->devs[hs->dev];
    int buttons = button_modes && button_states && dev->nlamps;
    /* Room is reserved once and kept until close: for PHONE_STATE tokens
     * when the handle first asks for states, for PHONE_BUTTON when it first
     * asks for buttons. */
    uint32_t sneed = states && hs->reserved == hs->broom
                         ? dev->nlamps + TAPIQ_EVENTS_PER_HANDLE_EXTRA
                         : 0;
    uint32_t bneed = buttons && !hs->broom ? TAPIQ_BUTTON_ROOM : 0;
    *old = NULL;
    if (sneed + bneed && tapiq_cring_reserve_events(tapiq_app_ring(hs->app), sneed + bneed))
        return -EAGAIN;
    if ((states || buttons) && !hs->in_subs) {
        int nomem;
        *old = subs_change_locked(dev, (uint32_t)(hs - rt->handles), 1, &nomem);
        if (nomem) {
            if (sneed + bneed)
                tapiq_cring_release_events(tapiq_app_ring(hs->app), sneed + bneed);
            return -ENOMEM;
        }
        hs->in_subs = 1;
    }
    hs->reserved += sneed + bneed;
    hs->broom += bneed;
    hs->button_modes = button_modes;
    hs->button_states = button_states;
    /* release (both): the reservation and the subscriber list come first;
     * pair with the acquire loads of bfilter / states in tapiq_notify_*(). */
    atomic_store_explicit(&hs->bfilter, buttons ? button_modes | button_states << 8 : 0,
                          memory_order_release);
    atomic_store_explicit(&hs->states, states, memory_order_release);
    return 0;
}

void tapiq_handle_get_filter(struct tapiq_handle *hs, uint32_t *states, uint32_t *button_modes,
                             uint32_t *button_states)
{
    /* relaxed: under g_lock, which every writer holds. */
    *states = atomic_load_explicit(&hs->states, memory_order_relaxed);
    *button_modes = hs->button_modes;
    *button_states = hs->button_states;
}

/* ------------------------------------------------------------------ tokens */

/* Post one PHONE_STATE token for handle slot @hs, unless one is pending for
 * the same (handle, bit). In a read-side section. */
static void post_token(struct tapiq_rt *rt, struct tapiq_handle *hs, uint32_t hv,
                       _Atomic uint64_t *word, uint64_t bit, _Atomic uint32_t *word32,
                       uint32_t bit32, uint32_t p1, uint32_t p2)
{
    uint32_t t;
    struct tapiq_cmsg m = {hv, PHONE_STATE, p1, p2};
    if (word) {
        /* acq_rel: pairs with the fetch_and in tapiq_handle_token_taken()
         * that clears the bit before delivering. */
        if (atomic_fetch_or_explicit(word, bit, memory_order_acq_rel) & bit) {
            tapiq_stat_add(rt->stats, TAPIQ_C_STATE_COALESCED, 1);
            return;
        }
    } else {
        /* acq_rel: as for the lamp bits above. */
        if (atomic_fetch_or_explicit(word32, bit32, memory_order_acq_rel) & bit32) {
            tapiq_stat_add(rt->stats, TAPIQ_C_STATE_COALESCED, 1);
            return;
        }
    }
    /* seq_cst: against the fetch_or of TAPIQ_TOKENS_CLOSED in close: a token
     * counted before the close keeps its room reserved until it is consumed;
     * one counted after is not posted. */
    t = atomic_fetch_add_explicit(&hs->tokens, 1, memory_order_seq_cst);
    if (t & TAPIQ_TOKENS_CLOSED) {
        atomic_fetch_sub_explicit(&hs->tokens, 1, memory_order_seq_cst);
        return;
    }
    tapiq_cring_post_blocking(tapiq_app_ring(hs->app), &m, 1);
    tapiq_stat_add(rt->stats, TAPIQ_C_STATE_EVENTS, 1);
}

void tapiq_notify_lamp(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t lamp)
{
    /* acquire: pairs with the release store that publishes a new list. */
    struct tapiq_subs *s = atomic_load_explicit(&dev->subs, memory_order_acquire);
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n; i++) {
        struct tapiq_handle *hs = &rt->handles[s->slot[i]];
        /* acquire: pairs with the release store of hval in open. */
        uint32_t hv = atomic_load_explicit(&hs->hval, memory_order_acquire);
        if (!hv)
            continue;
        /* acquire: pairs with the release store of states in set_filter,
         * which makes the handle's event reservation visible first. */
        if (!(atomic_load_explicit(&hs->states, memory_order_acquire) & PHONESTATE_LAMP))
            continue;
        post_token(rt, hs, hv, &hs->lampbits[lamp / 64], (uint64_t)1 << (lamp % 64), NULL, 0,
                   PHONESTATE_LAMP, lamp);
    }
}

/* CONNECTED and DISCONNECTED share one token, and its message says the
 * device's state when the application reads it: a connect and a disconnect
 * that meet while a token waits cannot leave the application with the
 * opposite of phoneGetStatus. */
#define PRESENCE (PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED)

void tapiq_notify_states(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t state)
{
    /* acquire (all three): as in tapiq_notify_lamp(). */
    struct tapiq_subs *s = atomic_load_explicit(&dev->subs, memory_order_acquire);
    uint32_t bit;
    /* Only the states the reservation counts (TAPIQ_TOKEN_STATES) have a
     * token: another bit would post beyond the handle's room. */
    state &= TAPIQ_TOKEN_STATES;
    bit = state & PRESENCE ? PRESENCE : state;
    if (!s || !state)
        return;
    for (uint32_t i = 0; i < s->n; i++) {
        struct tapiq_handle *hs = &rt->handles[s->slot[i]];
        uint32_t hv = atomic_load_explicit(&hs->hval, memory_order_acquire);
        if (!hv || !(atomic_load_explicit(&hs->states, memory_order_acquire) & bit))
            continue;
        post_token(rt, hs, hv, NULL, 0, &hs->statebits, bit, bit, 0);
    }
}

/* ------------------------------------------------------------ button events */

/* Take @n button units of @hs if it has them. acq_rel: pairs with the
 * release fetch_sub in give_unit() (called by tapiq_notify_button() and
 * tapiq_handle_token_taken()). */
static int take_units(struct tapiq_handle *hs, uint32_t n)
{
    /* relaxed: the CAS below re-reads. */
    uint32_t cur = atomic_load_explicit(&hs->bused, memory_order_relaxed);
    do {
        if (cur + n > hs->broom)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&hs->bused, &cur, cur + n,
                                                    memory_order_acq_rel, memory_order_relaxed));
    return 1;
}

static void give_unit(struct tapiq_handle *hs)
{
    /* release: pairs with the acq_rel CAS in take_units(). */
    atomic_fetch_sub_explicit(&hs->bused, 1, memory_order_release);
}

/* Post one PHONE_BUTTON to @hs, whose unit is held. In a read-side section. */
static void post_button(struct tapiq_rt *rt, struct tapiq_handle *hs, uint32_t hv,
                        uint32_t button, uint32_t mode, uint32_t state)
{
    struct tapiq_cmsg m = {hv, PHONE_BUTTON, button, mode | state << 16};
    /* seq_cst: against close's fetch_or, as in post_token(). A closed
     * handle's room went back with its reservation; its units do not
     * matter any more (reset when the slot is opened again). */
    uint32_t t = atomic_fetch_add_explicit(&hs->tokens, 1, memory_order_seq_cst);
    if (t & TAPIQ_TOKENS_CLOSED) {
        atomic_fetch_sub_explicit(&hs->tokens, 1, memory_order_seq_cst);
        return;
    }
    tapiq_cring_post_blocking(tapiq_app_ring(hs->app), &m, 1);
    tapiq_stat_add(rt->stats, TAPIQ_C_BUTTON_EVENTS, 1);
}

uint32_t tapiq_notify_button(struct tapiq_rt *rt, struct tapiq_dev *dev, uint32_t button,
                             uint32_t mode, uint32_t state)
{
    /* acquire: pairs with the release store that publishes a new list. */
    struct tapiq_subs *s = atomic_load_explicit(&dev->subs, memory_order_acquire);
    uint64_t bit = (uint64_t)1 << (button % 64);
    uint32_t missed = 0;
    if (!s)
        return 0;
    for (uint32_t i = 0; i < s->n; i++) {
        struct tapiq_handle *hs = &rt->handles[s->slot[i]];
        /* acquire: pairs with the release store of hval in open. */
        uint32_t hv = atomic_load_explicit(&hs->hval, memory_order_acquire);
        _Atomic uint64_t *word;
        uint32_t f;
        int sel, held;
        if (!hv)
            continue;
        /* acquire: pairs with the release store of bfilter in set_filter,
         * which makes broom visible first. */
        f = atomic_load_explicit(&hs->bfilter, memory_order_acquire);
        sel = (f & mode) && ((f >> 8) & state);
        word = &hs->bdown[button / 64];
        if (state == PHONEBUTTONSTATE_DOWN) {
            if (!sel)
                continue;
            /* Its own unit and one for its UP, taken before the DOWN bit
             * is set: a set bit always stands for a held unit. */
            if (!take_units(hs, 2)) {
                missed++;
                continue;
            }
            /* acq_rel: pairs with the fetch_and of an UP below. */
            if (atomic_fetch_or_explicit(word, bit, memory_order_acq_rel) & bit)
                give_unit(hs); /* a DOWN again: its UP's unit is held already */
            post_button(rt, hs, hv, button, mode, state);
        } else {
            /* acq_rel: as above; one UP takes the unit its DOWN left (even
             * when the filter no longer selects it: then it is given back).
             * relaxed: a hint that spares the locked instruction. */
            held = (atomic_load_explicit(word, memory_order_relaxed) & bit) &&
                   (atomic_fetch_and_explicit(word, ~bit, memory_order_acq_rel) & bit);
            if (!sel) {
                if (held)
                    give_unit(hs);
                continue;
            }
            if (!held && !take_units(hs, 1)) {
                missed++;
                continue;
            }
            post_button(rt, hs, hv, button, mode, state);
        }
    }
    if (missed)
        tapiq_stat_add(rt->stats, TAPIQ_C_BUTTON_OVERRUNS, missed);
    return missed;
}

/* PHONE_STATE's dwParam2, read when the application takes the token (a
 * token that folded several changes says the last one): the number of
 * owners or monitors now, the ring mode now (RINGMODE), that device's
 * hookswitch mode now (a HOOKSWITCH state); 0 for the others. */
static uint32_t state_param(struct tapiq_rt *rt, struct tapiq_handle *hs, uint32_t state,
                            uint32_t p2)
{
    struct tapiq_dev *dev = &rt->devs[hs->dev];
    uint32_t owners, monitors, mode, volume;
    switch (state) {
    case PHONESTATE_OWNER:
        tapiq_dev_counts(dev, &owners, &monitors);
        return owners;
    case PHONESTATE_MONITORS:
        tapiq_dev_counts(dev, &owners, &monitors);
        return monitors;
    case PHONESTATE_RINGMODE:
        if (!dev->ext)
            return p2;
        tapiq_dev_ring(dev, &mode, &volume);
        return mode;
    case PHONESTATE_HANDSETHOOKSWITCH:
        return dev->ext ? tapiq_dev_hookswitch_mode(dev, 0) : p2;
    case PHONESTATE_SPEAKERHOOKSWITCH:
        return dev->ext ? tapiq_dev_hookswitch_mode(dev, 1) : p2;
    case PHONESTATE_HEADSETHOOKSWITCH:
        return dev->ext ? tapiq_dev_hookswitch_mode(dev, 2) : p2;
    default:
        return p2;
    }
}

int tapiq_handle_token_taken(struct tapiq_rt *rt, struct tapiq_app *app, struct tapiq_cmsg *m)
{
    uint32_t idx = m->handle & (TAPIQ_MAX_HANDLES - 1);
    struct tapiq_handle *hs = &rt->handles[idx];
    /* acquire: pairs with the release store of hval in open. */
    int open = atomic_load_explicit(&hs->hval, memory_order_acquire) == m->handle;
    /* Count the token out first, then clear its bit: tokens in the ring <=
     * bits set <= the handle's reservation at every moment (a change between
     * the two is covered by the token being delivered now).
     * seq_cst: against the close's fetch_or (see post_token()). */
    uint32_t t = atomic_fetch_sub_explicit(&hs->tokens, 1, memory_order_seq_cst);
    if (t & TAPIQ_TOKENS_CLOSED)
        tapiq_cring_release_events(tapiq_app_ring(app), 1);
    if (!open)
        return 0;
    if (m->msg == PHONE_BUTTON) {
        give_unit(hs);
        return 1;
    }
    /* acq_rel: clear before delivering, so a change after this point posts a
     * new token; pairs with the acq_rel fetch_or in post_token(). */
    if (m->p1 == PHONESTATE_LAMP)
        atomic_fetch_and_explicit(&hs->lampbits[m->p2 / 64], ~((uint64_t)1 << (m->p2 % 64)),
                                  memory_order_acq_rel);
    else
        atomic_fetch_and_explicit(&hs->statebits, ~m->p1, memory_order_acq_rel);
    if (m->p1 == PRESENCE) {
        /* Cleared first: a change from here on posts a new token. The state
         * now, if the handle's filter asks for it. acquire: pairs with the
         * acq_rel exchange in tapiq_host_set_connected(). */
        m->p1 = tapiq_dev_connected_acquire(&rt->devs[hs->dev]) ? PHONESTATE_CONNECTED
                                                                 : PHONESTATE_DISCONNECTED;
        /* relaxed: a filter read; a stale one only delays a change. */
        if (!(atomic_load_explicit(&hs->states, memory_order_relaxed) & m->p1))
            return 0;
    } else if (m->p1 != PHONESTATE_LAMP) {
        m->p2 = state_param(rt, hs, m->p1, m->p2);
    }
    return 1;
}
