/* fuzz/fuzz_api_lamp.c - fuzz_api's lamp calls: phoneSetLamp (one, bursts,
 * a helper thread) against the documented precedence and ring room,
 * phoneGetLamp. */
#include <pthread.h>

#include "fuzz/fuzz_api.h"

static uint32_t pick_mode(uint8_t b)
{
    switch (b >> 5) {
    case 0: case 1: case 2: case 3:
        return 1u << (b & 7);          /* one bit: DUMMY .. UNKNOWN */
    case 4: return 0;
    case 5: return (1u << (b & 7)) | (1u << ((b >> 3) & 3)); /* often two bits */
    case 6: return 1u << (b & 31);
    default: return 0xFFFFFFFFu;
    }
}

static uint32_t pick_lamp(struct fuzz_in *in, uint8_t b)
{
    uint32_t n = M.rt_live ? M.rc.lamps : 4;
    if (b < 0xC0)
        return n ? b % (n + 1) : b % 2; /* sometimes one past the end */
    if (b < 0xF0)
        return b % 8;
    return fuzz_u32(in);
}

/* Check the return @rc of phoneSetLamp(@h, @lamp, @mode) issued by the fuzz
 * thread or a helper thread whose ring row is *@row (-1 before its first
 * request that reached a ring), and account for it. */
static void set_lamp_check(uint32_t h, uint32_t lamp, uint32_t mode, LONG rc, int *row,
                           int helper)
{
    struct m_handle *hm = open_handle(h);
    LONG want;
    int why = -1, ring = -1;
    if (!M.rt_live)
        want = PHONEERR_UNINITIALIZED;
    else if (!hm)
        want = PHONEERR_INVALPHONEHANDLE, why = TAPIQ_REJECT_INVALPHONEHANDLE;
    else if (hm->priv != PHONEPRIVILEGE_OWNER)
        want = PHONEERR_NOTOWNER, why = TAPIQ_REJECT_NOTOWNER;
    else if (M.rc.lamps == 0)
        want = PHONEERR_OPERATIONUNAVAIL, why = TAPIQ_REJECT_OPERATIONUNAVAIL;
    else if (lamp >= M.rc.lamps)
        want = PHONEERR_INVALBUTTONLAMPID, why = TAPIQ_REJECT_INVALBUTTONLAMPID;
    else if (mode == 0 || (mode & (mode - 1)) || !(mode & ALL_MODES))
        want = PHONEERR_INVALLAMPMODE, why = TAPIQ_REJECT_INVALLAMPMODE;
    else if (!fa_online(hm->dev))
        want = PHONEERR_INVALPHONESTATE, why = TAPIQ_REJECT_INVALPHONESTATE;
    else
        want = OK;
    TRACE("  %sphoneSetLamp(%#x, %u, %#x) = %s%s\n", helper ? "helper: " : "", h, lamp, mode,
          rc > 0 ? "id " : "", rc > 0 ? "" : fa_err_name(rc));
    if (rc > 0)
        TRACE("    id %#x\n", (unsigned)rc);
    if (want == OK) {
        if (*row < 0) {
            *row = attach_row(helper);
            if (!helper)
                M.main_row = *row;
        }
        ring = *row * M_WORKERS + (int)(hm->dev % M.rc.workers);
    }
    if (rc == (LONG)PHONEERR_RESOURCEUNAVAIL && want == OK) {
        FUZZ_CHECK(ring_held(ring) >= M.ring_size,
                   "RESOURCEUNAVAIL with rings of %u (queue=%u) and at most %u positions of "
                   "this thread's ring to worker %u held",
                   M.ring_size, M.rc.queue, ring_held(ring), hm->dev % M.rc.workers);
        M.rejected[TAPIQ_REJECT_RESOURCEUNAVAIL]++;
        return;
    }
    if (want != OK) {
        FUZZ_CHECK(rc == want, "phoneSetLamp(%#x, %u, %#x) returned %s, expected %s", h, lamp,
                   mode, fa_err_name(rc), fa_err_name(want));
        if (why >= 0)
            M.rejected[why]++;
        return;
    }
    FUZZ_CHECK(rc > 0, "phoneSetLamp(%#x, %u, %#x) returned %s, expected a request id", h, lamp,
               mode, fa_err_name(rc));
    fa_accepted(rc, ring, "phoneSetLamp");
    {
        struct m_req *r = &M.reqs[M.nreqs];
        struct m_lamp *l = &M.lamps[hm->dev][lamp];
        r->id = (uint32_t)rc;
        r->handle = (int)(hm - M.hs);
        r->app = hm->app;
        r->dev = hm->dev;
        r->lamp = lamp;
        r->mode = mode;
        r->ring = ring;
        r->settle_at = M.nsettle;
        r->st = R_PENDING;
        r->read = r->complete = r->fin = r->gone = 0;
        r->next_lamp = -1;
        for (int i = l->head; i >= 0 && !l->mixed; i = M.reqs[i].next_lamp)
            l->mixed = M.reqs[i].ring != ring;
        if (l->tail >= 0)
            M.reqs[l->tail].next_lamp = M.nreqs;
        else
            l->head = M.nreqs;
        l->tail = M.nreqs;
        l->req_since = 1;
        M.nreqs++;
    }
}

static void set_lamp(uint32_t h, uint32_t lamp, uint32_t mode)
{
    set_lamp_check(h, lamp, mode, phoneSetLamp(h, lamp, mode), &M.main_row, 0);
}

void op_set_lamp(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t lb = fuzz_u8(in), mb = fuzz_u8(in);
    if (M.nreqs >= M_REQS)
        return;
    set_lamp(h, pick_lamp(in, lb), pick_mode(mb));
}

/* A burst for a helper thread: run there back to back, then joined. */
struct helper_job {
    int n;
    uint32_t h, lamp[M_BURST], mode[M_BURST];
    LONG rc[M_BURST];
};

static void *helper_main(void *arg)
{
    struct helper_job *j = arg;
    for (int i = 0; i < j->n; i++)
        j->rc[i] = phoneSetLamp(j->h, j->lamp[i], j->mode[i]);
    return NULL; /* exiting gives the thread's pool slot back */
}

/* Several requests on one handle, back to back: batching and coalescing;
 * now and then from a helper thread (another ring: the shared one with
 * threads=1), which exits before the next call. */
void op_burst(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t c = fuzz_u8(in);
    struct helper_job job;
    pthread_t t;
    int row = -1;
    job.n = 0;
    job.h = h;
    for (int i = 0; i < 2 + c % 15 && M.nreqs + i < M_REQS; i++) {
        uint8_t b = fuzz_u8(in);
        job.lamp[i] = M.rt_live && M.rc.lamps ? (b & 3) % M.rc.lamps : 0;
        job.mode[i] = PHONELAMPMODE_OFF << (b >> 2) % 6;
        job.n++;
    }
    if (c < 0xF0) {
        for (int i = 0; i < job.n; i++)
            set_lamp(h, job.lamp[i], job.mode[i]);
        return;
    }
    if (pthread_create(&t, NULL, helper_main, &job) != 0)
        return;
    FUZZ_CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    for (int i = 0; i < job.n; i++)
        set_lamp_check(h, job.lamp[i], job.mode[i], job.rc[i], &row, 1);
}

void op_get_lamp(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t lb = fuzz_u8(in);
    uint32_t lamp = pick_lamp(in, lb), v = 0xDEAD;
    struct m_handle *hm = open_handle(h);
    int null_ptr = (lb & 0x3F) == 0x3F;
    struct errs e = {{0}, 0};
    LONG rc = phoneGetLamp(h, lamp, null_ptr ? NULL : &v);
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    if (hm) {
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, M.rc.lamps == 0, PHONEERR_OPERATIONUNAVAIL);
        errs_add(&e, lamp >= M.rc.lamps, PHONEERR_INVALBUTTONLAMPID);
    }
    check_errs("phoneGetLamp", rc, &e, !hm, 0);
    if (rc == OK)
        check_lamp_value(hm->dev, lamp, v, "phoneGetLamp");
    else
        FUZZ_CHECK(v == 0xDEAD, "phoneGetLamp wrote its output on failure");
}
