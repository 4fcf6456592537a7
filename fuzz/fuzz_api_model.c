/* fuzz/fuzz_api_model.c - fuzz_api's model: lookups, handle and application
 * picks, runtime start / stop, close, lamp outcomes, ring positions. */
#include <string.h>

#include "fuzz/fuzz_api.h"

/* --------------------------------------------------------------- lookups */

int fa_online(uint32_t dev)
{
    return dev < M.rc.devices - M.rc.offline;
}

struct m_handle *find_handle(uint32_t h)
{
    for (int i = 0; i < M.nhs; i++)
        if (M.hs[i].h == h)
            return &M.hs[i];
    return NULL;
}

struct m_app *find_app(uint32_t h)
{
    for (int i = 0; i < M.napps; i++)
        if (M.apps[i].h == h)
            return &M.apps[i];
    return NULL;
}

/* A handle value: mostly a known one, sometimes forged. */
uint32_t pick_handle(struct fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t base = M.nhs ? M.hs[b % M.nhs].h : 0x10001;
    if (b < 0xE0 && M.nhs)
        return base;
    switch (b & 7) {
    case 0: return 0;
    case 1: return 0xFFFFFFFFu;
    case 2: return fuzz_u32(in);
    case 3: return base ^ 0x10000u; /* same slot, other generation */
    case 4: return base & 0xFFFFu;  /* generation 0 */
    case 5: return base + 1;        /* neighbouring slot */
    case 6: return base | 0xFFFF0000u;
    default: return base & 0xFFFF0000u; /* slot 0 */
    }
}

uint32_t pick_app(struct fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t base = M.napps ? M.apps[b % M.napps].h : 0x10001;
    if (b < 0xE0 && M.napps)
        return base;
    switch (b & 7) {
    case 0: return 0;
    case 1: return 0xFFFFFFFFu;
    case 2: return fuzz_u32(in);
    case 3: return base ^ 0x10000u;
    case 4: return base & 0xFFFFu;
    case 5: return base + 1;
    case 6: return base + 1024; /* beyond the slot table */
    default: return base & 0xFFFF0000u;
    }
}

int app_valid(uint32_t h)
{
    struct m_app *a = find_app(h);
    return M.rt_live && a && a->live;
}

struct m_handle *open_handle(uint32_t h)
{
    struct m_handle *hm = find_handle(h);
    return M.rt_live && hm && hm->open ? hm : NULL;
}

/* Modes that lamp (dev, lamp) may show now; 0 when anything goes. */
static int lamp_candidate(uint32_t dev, uint32_t lamp, uint32_t v)
{
    struct m_lamp *l = &M.lamps[dev][lamp];
    if (!l->base)
        return 1;
    if (v == l->base)
        return 1;
    for (int i = l->head; i >= 0; i = M.reqs[i].next_lamp)
        if (M.reqs[i].st != R_FAIL && M.reqs[i].mode == v)
            return 1;
    return 0;
}

void check_lamp_value(uint32_t dev, uint32_t lamp, uint32_t v, const char *what)
{
    FUZZ_CHECK(v && (v & (v - 1)) == 0 && (v & ALL_MODES), "%s: lamp %u/%u shows mode %#x",
               what, dev, lamp, v);
    FUZZ_CHECK(lamp_candidate(dev, lamp, v),
               "%s: lamp %u/%u shows %#x, which no request left (known %#x before them)", what,
               dev, lamp, v, M.lamps[dev][lamp].base);
}

/* ------------------------------------------------------------- runtime */

void model_runtime_start(void)
{
    M.rt_live = 1;
    M.rc = M.cfg;
    for (M.ring_size = 2; M.ring_size < M.rc.queue; M.ring_size <<= 1)
        ;
    M.cq_size = M.ring_size * 4 < 64 ? 64 : M.ring_size * 4;
    M.main_row = -1;
    memset(M.since_step, 0, sizeof(M.since_step));
    M.round_max = 0;
    M.replies_read = 0;
    M.nreqs = 0;
    M.nsettle = 0;
    M.accepted = 0;
    memset(M.rejected, 0, sizeof(M.rejected));
    M.stats_exact = 1;
    attr_model_reset();
    M.overruns = 0;
    M.cb_buttons = 0;
    for (uint32_t d = 0; d < M_DEVS; d++) {
        M.hook[d] = PHONEHOOKSWITCHMODE_ONHOOK;
        M.hook_alt[d] = 0;
    }
    for (uint32_t d = 0; d < M_DEVS; d++)
        for (uint32_t l = 0; l < M_LAMPS; l++) {
            M.lamps[d][l].base = PHONELAMPMODE_OFF;
            M.lamps[d][l].settled = PHONELAMPMODE_OFF;
            M.lamps[d][l].head = M.lamps[d][l].tail = -1;
            M.lamps[d][l].req_since = 0;
            M.lamps[d][l].mixed = 0;
        }
}

void model_runtime_stop(void)
{
    M.rt_live = 0;
    for (int i = 0; i < M.nhs; i++)
        M.hs[i].open = 0;
}

int napps_live(void)
{
    int n = 0;
    for (int i = 0; i < M.napps; i++)
        n += M.apps[i].live;
    return n;
}

/* Close in the model: its pending requests will never be replied. */
void model_close(struct m_handle *hm)
{
    struct m_app *a = &M.apps[hm->app];
    hm->open = 0;
    hm->sub_since = -1;
    if (hm->reserved) {
        a->reserved -= hm->reserved;
        a->dirty = 1;
    }
    hm->reserved = 0;
    hm->breserved = 0;
    buttons_on_close(hm);
    for (int i = 0; i < M.nreqs; i++)
        if (&M.hs[M.reqs[i].handle] == hm && M.reqs[i].st == R_PENDING)
            M.reqs[i].st = R_SUPP;
}

/* ---------------------------------------------------------- lamp model */

/* Status of a finished request whose reply we will never see. */
static int supp_known_ok(void)
{
    return M.rc.fail_ppm == 0;
}

/* Fold the resolved front of each lamp's request list into its base. */
void lamp_advance(uint32_t dev, uint32_t lamp)
{
    struct m_lamp *l = &M.lamps[dev][lamp];
    /* Requests of two rings meet in a batch in ring order, not issue order:
     * which one came last is known only at the next quiescent point. */
    while (l->head >= 0 && !l->mixed) {
        struct m_req *r = &M.reqs[l->head];
        if (r->st == R_PENDING)
            break;
        if (r->st == R_SUPP) {
            if (!r->complete)
                break;
            if (supp_known_ok())
                l->base = r->mode;
            else if (l->base && l->base != r->mode)
                break; /* unknown outcome: keep it listed until quiescence */
        } else if (r->st == R_OK) {
            l->base = r->mode;
        }
        l->head = r->next_lamp;
        if (l->head < 0)
            l->tail = -1;
    }
}

/* A reply for request @ri arrived: every earlier request of its ring on its
 * device has finished (one batch per device at a time, a ring read in
 * order). Thread-free, requests of the other rings too: every round drains
 * every ring (up to 1024 entries, more than a thread-free ring holds) before
 * it starts batches, so an earlier request of any ring is in the same batch
 * or an earlier one. */
void device_progress(int ri)
{
    uint32_t dev = M.reqs[ri].dev;
    for (int i = 0; i < ri; i++)
        if (M.reqs[i].dev == dev && (fa_manual || M.reqs[i].ring == M.reqs[ri].ring))
            M.reqs[i].complete = 1;
    for (uint32_t l = 0; l < M.rc.lamps && l < M_LAMPS; l++)
        lamp_advance(dev, l);
}

/* -------------------------------------------------------- ring positions */

/* Positions of @ring that may not be given back yet. A worker gives a ring's
 * positions back in order, each once its reply is posted or suppressed, so
 * every request from the oldest one not known to be finished on may still
 * hold one (requests forgotten at a quiescent point are finished). */
uint32_t ring_held(int ring)
{
    uint32_t n = 0;
    for (int i = 0; i < M.nreqs; i++)
        if (M.reqs[i].ring == ring && (n || !M.reqs[i].fin))
            n++;
    return n;
}

/* The ring row a thread takes at its first request that passes the checks:
 * the lowest free pool slot. The fuzz thread holds its slot until the
 * runtime ends; a helper thread gives its back when it exits, before the
 * next call. So the fuzz thread always gets slot 0, a helper slot 0 before
 * it, slot 1 after it, or the shared row with threads=1. */
int attach_row(int helper)
{
    if (!helper || M.main_row < 0)
        return 0;
    return M.rc.threads >= 2 ? 1 : M_ROW_SHARED;
}

/* A request accepted with id @rc through @ring (@what: the call): the
 * ring had room and the id is valid and not in flight; counted. */
void fa_accepted(LONG rc, int ring, const char *what)
{
    /* Thread-free: nothing issued since the last round was taken or given
     * back, so a ring that got that many is full (capacity exactly queue,
     * rounded up). */
    FUZZ_CHECK(!fa_manual || M.since_step[ring] < M.ring_size,
               "%s accepted a request with %u requests since the last round in a ring of %u",
               what, M.since_step[ring], M.ring_size);
    FUZZ_CHECK((uint32_t)rc <= 0x7FFFFFFFu, "request id %#x", (unsigned)rc);
    /* Ids come back no sooner than 2^21 positions on (the ring bits of at
     * most 514 rings): beyond an input, so any not known to be finished
     * counts as in flight. */
    for (int i = 0; i < M.nreqs; i++)
        FUZZ_CHECK(!(M.reqs[i].id == (uint32_t)rc && !M.reqs[i].fin),
                   "request id %#x equals one still in flight", (unsigned)rc);
    M.accepted++;
    if (fa_manual)
        M.since_step[ring]++;
}
