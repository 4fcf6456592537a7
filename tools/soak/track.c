/* tools/soak/track.c - the bookkeeping of one actor: its inbox, its requests in flight by id
 * (per handle record too), the lamp model, and the actors' memory. Everything here is owned
 * by one actor (the inbox: one producer, one consumer), see soak.h. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "soak.h"

/* ------------------------------------------------------------ counters */

uint64_t soak_ctr_sum(struct soak *s, enum soak_ctr c)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < s->nactors; i++)
        /* relaxed: progress figures; exact once the actors are parked or joined */
        sum += atomic_load_explicit(&s->actors[i].ctr[c], memory_order_relaxed);
    return sum;
}

/* --------------------------------------------------------------- inbox */

static bool inbox_push_try(struct soak_inbox *q, const struct soak_msg *m)
{
    /* relaxed: the producer's own index (a change of producer is ordered by a barrier or a
     * join) */
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    /* acquire: pairs with the release store of head in soak_inbox_drain(): the slot was read */
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    if (t - h >= SOAK_INBOX)
        return false;
    q->buf[t & (SOAK_INBOX - 1)] = *m;
    /* release: the slot's contents before the consumer's acquire load of tail */
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
    return true;
}

void soak_inbox_push(struct soak *s, struct soak_inbox *q, const struct soak_msg *m)
{
    uint64_t t0 = 0;
    while (!inbox_push_try(q, m)) {
        uint64_t now = soak_now_ns();
        if (t0 == 0) {
            t0 = now;
        } else if (now - t0 > 10000000000ull) {
            /* relaxed: a counter read at the end */
            atomic_fetch_add_explicit(&s->inbox_overflow, 1, memory_order_relaxed);
            return;
        }
        sched_yield();
    }
}

void soak_inbox_drain(struct soak_actor *a)
{
    struct soak_inbox *q = &a->in;
    /* relaxed: the consumer's own index */
    uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (;;) {
        /* acquire: pairs with the release store of tail in inbox_push_try() */
        uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (h == t)
            return;
        while (h != t) {
            struct soak_msg m = q->buf[h & (SOAK_INBOX - 1)];
            h++;
            /* release: the slot is read before the producer reuses it */
            atomic_store_explicit(&q->head, h, memory_order_release);
            soak_process(a, &m);
        }
    }
}

/* ------------------------------------------------------- request table */

static uint32_t hash_slot(uint32_t id, uint32_t mask)
{
    /* ids of different rings share their low bits: take the product's high half */
    return (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

uint32_t soak_track_find(const struct soak_actor *a, uint32_t id)
{
    for (uint32_t k = hash_slot(id, a->hmask);; k = (k + 1) & a->hmask) {
        uint32_t v = a->hash[k];
        if (v == SOAK_NIL)
            return SOAK_NIL;
        if (a->pool[v].id == id)
            return v;
    }
}

static void hash_remove(struct soak_actor *a, uint32_t pi)
{
    uint32_t k = hash_slot(a->pool[pi].id, a->hmask);
    while (a->hash[k] != pi)
        k = (k + 1) & a->hmask;
    /* Backward-shift deletion keeps every probe chain intact. */
    a->hash[k] = SOAK_NIL;
    for (uint32_t j = k;;) {
        j = (j + 1) & a->hmask;
        uint32_t v = a->hash[j];
        if (v == SOAK_NIL)
            break;
        uint32_t home = hash_slot(a->pool[v].id, a->hmask);
        if (((j - home) & a->hmask) >= ((j - k) & a->hmask)) {
            a->hash[k] = v;
            a->hash[j] = SOAK_NIL;
            k = j;
        }
    }
}

struct soak_lamp *soak_lamp_of(struct soak *s, uint32_t console, uint32_t lamp)
{
    return &s->lamp[(size_t)console * s->lamps + lamp];
}

/* The lamp took request @seq's mode for sure. */
void soak_model_ok(struct soak *s, const struct soak_req *q)
{
    struct soak_lamp *l = soak_lamp_of(s, q->console, q->lamp);
    if (q->seq > l->okseq) {
        l->okseq = q->seq;
        l->okmode = q->mode;
    }
    if (q->seq > l->uncseq)
        l->uncmask = 0; /* every request before it has taken effect or not, in order */
}

/* Request @q's outcome is unknown (suppressed, lost): its mode is possible. */
void soak_model_unknown(struct soak *s, const struct soak_req *q)
{
    struct soak_lamp *l = soak_lamp_of(s, q->console, q->lamp);
    if (q->seq > l->okseq) {
        l->uncmask |= (uint8_t)(1u << q->mode);
        if (q->seq > l->uncseq)
            l->uncseq = q->seq;
    }
}

uint8_t soak_lamp_allowed(const struct soak *s, uint32_t console, uint32_t lamp)
{
    const struct soak_lamp *l = &s->lamp[(size_t)console * s->lamps + lamp];
    return (uint8_t)(1u << l->okmode | l->uncmask);
}

void soak_lamp_reset(struct soak *s)
{
    for (size_t i = 0; i < (size_t)s->devices * s->lamps; i++) {
        if (s->lamp[i].pending)
            soak_violation(s, "internal: lamp %zu has %u requests unresolved at a new epoch", i,
                           (unsigned)s->lamp[i].pending);
        memset(&s->lamp[i], 0, sizeof(s->lamp[i])); /* mode index 0: OFF, as a new runtime */
    }
}

void soak_track_add(struct soak_actor *a, uint32_t id, uint32_t ri, uint32_t lamp,
                      uint8_t mode)
{
    struct soak *s = a->s;
    struct soak_rec *r = &a->rec[ri];
    uint32_t old = soak_track_find(a, id);
    if (old != SOAK_NIL) {
        soak_ctr_add(a, C_UNEXPECTED, 1);
        soak_violation(s, "phoneSetLamp returned request id %" PRIu32 ", already in flight "
                       "(handle %#x)", id, (unsigned)a->rec[a->pool[old].rec].hv);
    }
    uint32_t pi = a->free_head;
    struct soak_req *q = &a->pool[pi];
    a->free_head = q->next;
    q->id = id;
    q->console = r->console;
    q->lamp = (uint16_t)lamp;
    q->rec = (uint16_t)ri;
    q->mode = mode;
    q->seq = ++a->seq;
    q->prev = SOAK_NIL;
    q->next = r->head;
    if (r->head != SOAK_NIL)
        a->pool[r->head].prev = pi;
    r->head = pi;
    r->outstanding++;
    if (r->open)
        a->open_outstanding++;
    soak_lamp_of(s, r->console, lamp)->pending++;
    a->nlive++;
    uint32_t k = hash_slot(id, a->hmask);
    while (a->hash[k] != SOAK_NIL)
        k = (k + 1) & a->hmask;
    a->hash[k] = pi;
    soak_ctr_add(a, C_ACCEPTED, 1);
}

void soak_track_remove(struct soak_actor *a, uint32_t pi)
{
    struct soak_req *q = &a->pool[pi];
    struct soak_rec *r = &a->rec[q->rec];
    hash_remove(a, pi);
    if (q->prev != SOAK_NIL)
        a->pool[q->prev].next = q->next;
    else
        r->head = q->next;
    if (q->next != SOAK_NIL)
        a->pool[q->next].prev = q->prev;
    r->outstanding--;
    if (r->open)
        a->open_outstanding--;
    else if (r->zombie && r->outstanding == 0) {
        r->zombie = false;
        a->nzombie--;
    }
    soak_lamp_of(a->s, q->console, q->lamp)->pending--;
    a->nlive--;
    q->next = a->free_head;
    a->free_head = pi;
}

/* Every request of record @ri is resolved without a reply: suppressed or lost. */
void soak_resolve_unreplied(struct soak_actor *a, uint32_t ri, enum soak_ctr why)
{
    struct soak_rec *r = &a->rec[ri];
    unsigned shown = 0;
    while (r->head != SOAK_NIL) {
        uint32_t pi = r->head;
        struct soak_req *q = &a->pool[pi];
        soak_model_unknown(a->s, q);
        if (why == C_LOST && shown++ < 3)
            soak_violation(a->s, "lost: request %" PRIu32 " (handle %#x, console %" PRIu32
                           " lamp %u) got no reply within the drain limit",
                           q->id, (unsigned)r->hv, q->console, (unsigned)q->lamp);
        soak_ctr_add(a, why, 1);
        soak_track_remove(a, pi);
    }
}

/* Zombie records closed before the group's reader completed a read stamped @progress: every
 * legitimate reply of theirs has been processed, the rest are suppressed. */
void soak_finalize_zombies(struct soak_actor *a, uint64_t progress)
{
    for (uint32_t ri = 0; ri < a->nrec && a->nzombie; ri++) {
        struct soak_rec *r = &a->rec[ri];
        if (r->zombie && r->closed_at < progress)
            soak_resolve_unreplied(a, ri, C_SUPPRESSED);
    }
}

/* ------------------------------------------------------------ lifecycle */

int soak_actors_create(struct soak *s)
{
    soak_deliver_init(s);
    s->actors = calloc(s->nactors, sizeof(*s->actors));
    s->groups = calloc(s->nactors, sizeof(*s->groups));
    if (!s->actors || !s->groups)
        return -1;
    /* Groups of 1, 2, 3, 1, 2, 3 ... actors: private applications and shared ones. */
    s->ngroups = 0;
    for (unsigned first = 0; first < s->nactors; s->ngroups++) {
        struct soak_group *g = &s->groups[s->ngroups];
        unsigned want = 1 + s->ngroups % 3;
        g->s = s;
        g->index = s->ngroups;
        g->first = first;
        g->n = want < s->nactors - first ? want : s->nactors - first;
        g->parked_epoch = UINT32_MAX;
        atomic_init(&g->bar_count, 0);
        atomic_init(&g->bar_gen, 0);
        atomic_init(&g->progress, 0);
        for (unsigned i = 0; i < g->n; i++) {
            struct soak_actor *a = &s->actors[first + i];
            a->g = g;
            a->leader = i == 0;
        }
        first += g->n;
    }
    for (unsigned i = 0; i < s->nactors; i++) {
        struct soak_actor *a = &s->actors[i];
        a->s = s;
        a->index = i;
        a->rng = (s->opt.seed + 1) * 0x9E3779B97F4A7C15ull ^
                 (uint64_t)(i + 1) * 0xD1B54A32D192ED03ull;
        if (a->rng == 0)
            a->rng = 1;
        atomic_init(&a->in.head, 0);
        atomic_init(&a->in.tail, 0);
        for (int c = 0; c < C_NCTR; c++)
            atomic_init(&a->ctr[c], 0);
        a->in.buf = malloc(sizeof(*a->in.buf) * SOAK_INBOX);
        a->pool = malloc(sizeof(*a->pool) * SOAK_POOL);
        a->hmask = 2 * SOAK_POOL - 1;
        a->hash = malloc(sizeof(*a->hash) * (a->hmask + 1));
        a->rec = malloc(sizeof(*a->rec) * SOAK_MAX_RECS);
        a->openv = malloc(sizeof(*a->openv) * SOAK_MAX_RECS);
        if (!a->in.buf || !a->pool || !a->hash || !a->rec || !a->openv)
            return -1;
        /* Touch everything now: memory first used later would look like growth. */
        memset(a->in.buf, 0xA5, sizeof(*a->in.buf) * SOAK_INBOX);
        memset(a->hash, 0xFF, sizeof(*a->hash) * (a->hmask + 1)); /* SOAK_NIL: empty */
        memset(a->rec, 0xA5, sizeof(*a->rec) * SOAK_MAX_RECS);
        memset(a->openv, 0xA5, sizeof(*a->openv) * SOAK_MAX_RECS);
        for (uint32_t k = 0; k < SOAK_POOL; k++) {
            memset(&a->pool[k], 0, sizeof(a->pool[k]));
            a->pool[k].next = k + 1 < SOAK_POOL ? k + 1 : SOAK_NIL;
        }
        a->free_head = 0;
    }
    return 0;
}

void soak_actors_start(struct soak *s)
{
    for (unsigned i = 0; i < s->nactors; i++)
        if (pthread_create(&s->actors[i].tid, NULL, soak_actor_main, &s->actors[i]) != 0) {
            fprintf(stderr, "tapiq-soak: cannot start thread %u\n", i);
            exit(2);
        }
}

void soak_actors_join(struct soak *s)
{
    for (unsigned i = 0; i < s->nactors; i++)
        pthread_join(s->actors[i].tid, NULL);
}

void soak_actors_free(struct soak *s)
{
    for (unsigned i = 0; s->actors && i < s->nactors; i++) {
        struct soak_actor *a = &s->actors[i];
        free(a->in.buf);
        free(a->pool);
        free(a->hash);
        free(a->rec);
        free(a->openv);
    }
    free(s->actors);
    free(s->groups);
    s->actors = NULL;
    s->groups = NULL;
}
