/* fuzz/fuzz_api_setters.c - the asynchronous setters besides phoneSetLamp
 * in fuzz_api's model.
 *
 * The fuzzer's consoles have lamps only, so phoneSetDisplay, phoneSetRing,
 * phoneSetHookSwitch, phoneSetVolume, phoneSetGain, phoneSetData and
 * phoneSetButtonInfo(A/W) must fail with the documented error of their
 * precedence (UNINITIALIZED, INVALPHONEHANDLE, NOTOWNER, INVALPOINTER,
 * OPERATIONUNAVAIL). Consoles configured with buttons (fuzz_api_events.c)
 * take button info: there the info passed (dwButtonMode 0) gives
 * INVALBUTTONLAMPID or INVALBUTTONMODE, so the buttons the events model
 * presses keep their modes. They also have a handset: phoneSetHookSwitch,
 * phoneSetVolume and phoneSetGain give INVALHOOKSWITCHDEV for any other
 * device and go through for the handset (hookswitch to ONHOOK, level 1),
 * replied like a device-specific request; PHONE_STATE HANDSETVOLUME /
 * HANDSETGAIN (dwParam2 0) only after such a request; the handset's mode,
 * which the operator also changes (op_hook), may be either the operator's
 * or ONHOOK (hook_alt) from the request's acceptance until the operator
 * changes it with no such request left to apply, or a quiescent point reads
 * it. phoneDevSpecific goes through: INVALPOINTER,
 * INVALPARAM (more than a payload slot, 4096 bytes), INVALPHONESTATE, else
 * a request id and exactly one PHONE_REPLY, checked as a lamp request's
 * (one more request of its ring and device, ordered among them), and
 * PHONE_STATE DEVSPECIFIC (dwParam2 0) only to a handle that asked for it on
 * a device that got such a request. The runtime has FUZZ_PAYLOADS payload
 * slots per worker: RESOURCEUNAVAIL is allowed only when that many of the
 * worker's device-specific requests may still hold one (a slot goes back
 * when its batch completes, before the reply), or when the ring may be
 * full. */
#include <stdio.h>
#include <string.h>

#include "fuzz/fuzz_api.h"

#define FUZZ_PAYLOADS 2
#define ATTR_LAMP 0xFFFFFFFFu /* m_req.lamp of a request that is not a lamp's */

static struct {
    uint32_t devspec[M_DEVS]; /* device-specific requests accepted, per device */
    uint32_t volume[M_DEVS];  /* handset volume requests accepted, per device */
    uint32_t gain[M_DEVS];    /* handset gain requests accepted, per device */
} MA;

#define KIND_HOOKSWITCH 2 /* attr_call's kinds that go through on a handset */
#define KIND_VOLUME 3
#define KIND_GAIN 4

/* The configuration text's addition (pick_config). */
void attr_config(char *text, size_t len)
{
    size_t n = strlen(text);
    snprintf(text + n, len - n, ",payloads=%u", FUZZ_PAYLOADS);
}

void attr_model_reset(void)
{
    memset(&MA, 0, sizeof(MA));
}

/* A PHONE_STATE other than LAMP: 1 when the model allows it. */
int attr_state_ok(const struct m_handle *hm, const PHONEMESSAGE *m)
{
    const uint32_t *accepted = m->dwParam1 == PHONESTATE_DEVSPECIFIC    ? MA.devspec
                               : m->dwParam1 == PHONESTATE_HANDSETVOLUME ? MA.volume
                               : m->dwParam1 == PHONESTATE_HANDSETGAIN   ? MA.gain
                                                                         : NULL;
    return accepted && m->dwParam2 == 0 && hm->dev < M_DEVS && accepted[hm->dev] > 0;
}

/* A phoneSetHookSwitch of console @dev accepted and not known to be
 * applied (its batch complete). */
int attr_hook_in_flight(uint32_t dev)
{
    for (int i = 0; i < M.nreqs; i++)
        if (M.reqs[i].lamp == ATTR_LAMP && M.reqs[i].mode == KIND_HOOKSWITCH &&
            M.reqs[i].dev == dev && !M.reqs[i].complete)
            return 1;
    return 0;
}

/* At a quiescent point (every request applied): the handset's mode, where
 * a phoneSetHookSwitch left it uncertain, is read back (one of the two). */
void attr_settle(void)
{
    for (uint32_t d = 0; d < M.rc.devices && d < M_DEVS; d++) {
        DWORD offhook = 0xFF;
        if (!M.hook_alt[d])
            continue;
        for (int i = 0; i < M.nhs; i++) {
            if (!M.hs[i].open || M.hs[i].dev != d)
                continue;
            FUZZ_CHECK(phoneGetHookSwitch(M.hs[i].h, &offhook) == 0 &&
                           (offhook == hook_offhook(M.hook[d]) ||
                            offhook == hook_offhook(M.hook_alt[d])),
                       "phoneGetHookSwitch %#x, the handset in %#x or %#x", offhook, M.hook[d],
                       M.hook_alt[d]);
            if (offhook != hook_offhook(M.hook[d]))
                M.hook[d] = M.hook_alt[d];
            if (hook_offhook(M.hook[d]) != hook_offhook(M.hook_alt[d]) ||
                M.hook[d] == M.hook_alt[d])
                M.hook_alt[d] = 0;
            break;
        }
    }
}

/* Payload slots of worker @w that may still be held. */
static uint32_t attr_slots_held(uint32_t w)
{
    uint32_t n = 0;
    for (int i = 0; i < M.nreqs; i++)
        if (M.reqs[i].lamp == ATTR_LAMP && (uint32_t)(M.reqs[i].ring % M_WORKERS) == w &&
            !M.reqs[i].fin && !M.reqs[i].complete)
            n++;
    return n;
}

static const char *const attr_names[] = {
    "phoneSetDisplay", "phoneSetRing", "phoneSetHookSwitch", "phoneSetVolume",
    "phoneSetGain", "phoneSetData", "phoneSetButtonInfoA", "phoneSetButtonInfoW",
    "phoneDevSpecific"};

/* Call setter @kind with the pointer @p (or NULL) and @size. */
static LONG attr_call(int kind, uint32_t h, void *p, DWORD size, DWORD a)
{
    switch (kind) {
    case 0: return phoneSetDisplay(h, a, a, (LPCSTR)p, size);
    case 1: return phoneSetRing(h, a, a);
    case 2: return phoneSetHookSwitch(h, a, a);
    case 3: return phoneSetVolume(h, a, a);
    case 4: return phoneSetGain(h, a, a);
    case 5: return phoneSetData(h, a, p, size);
    case 6: return phoneSetButtonInfoA(h, a, (LPPHONEBUTTONINFO)p);
    case 7: return phoneSetButtonInfoW(h, a, (LPPHONEBUTTONINFO)p);
    default: return phoneDevSpecific(h, p, size);
    }
}

/* Account for an accepted device-specific request (as set_lamp_check does
 * for a lamp's). */
static void attr_accepted(struct m_handle *hm, LONG rc, int ring, int kind, DWORD a)
{
    struct m_req *r = &M.reqs[M.nreqs];
    fa_accepted(rc, ring, "an attribute setter");
    if (kind == KIND_HOOKSWITCH)
        M.hook_alt[hm->dev] = a; /* the mode it sets, whenever it is applied */
    else if (kind == KIND_VOLUME)
        MA.volume[hm->dev]++;
    else if (kind == KIND_GAIN)
        MA.gain[hm->dev]++;
    else
        MA.devspec[hm->dev]++;
    memset(r, 0, sizeof(*r));
    r->id = (uint32_t)rc;
    r->handle = (int)(hm - M.hs);
    r->app = hm->app;
    r->dev = hm->dev;
    r->lamp = ATTR_LAMP;
    r->mode = (uint32_t)kind;
    r->ring = ring;
    r->settle_at = M.nsettle;
    r->st = R_PENDING;
    r->next_lamp = -1;
    M.nreqs++;
}

void op_set_attr(struct fuzz_in *in)
{
    static const DWORD sizes[] = {0, 1, 7, 4096, 4097, 16, 3, 2};
    static unsigned char buf[4100];
    uint32_t h = pick_handle(in);
    uint8_t kb = fuzz_u8(in), ab = fuzz_u8(in);
    int kind = kb % 12 < 8 ? kb % 12 : 8;
    int null = (ab & 7) == 0;
    DWORD size = sizes[ab >> 3 & 7], a = ab >> 6;
    struct m_handle *hm = open_handle(h);
    struct errs e = {{0}, 0};
    int ring = -1, ptr_kind = kind == 0 || kind == 5 || kind >= 6;
    int button_kind = kind == 6 || kind == 7;
    int handset_kind = kind == KIND_HOOKSWITCH || kind == KIND_VOLUME || kind == KIND_GAIN;
    LONG rc;
    if (M.nreqs >= M_REQS)
        return;
    memset(buf, 0, sizeof(buf));
    if (kind == 6 || kind == 7) /* a button info: a plausible fixed part */
        ((PHONEBUTTONINFO *)buf)->dwTotalSize = sizeof(PHONEBUTTONINFO);
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    if (hm) {
        errs_add(&e, hm->priv != PHONEPRIVILEGE_OWNER, PHONEERR_NOTOWNER);
        errs_add(&e, ptr_kind && null && (size || kind == 6 || kind == 7), PHONEERR_INVALPOINTER);
        /* no console has attributes, but those with buttons have button info
         * and a handset */
        errs_add(&e, kind < 8 && !(M.rc.buttons && (button_kind || handset_kind)),
                 PHONEERR_OPERATIONUNAVAIL);
        errs_add(&e, M.rc.buttons && button_kind && a >= M.rc.lamps,
                 PHONEERR_INVALBUTTONLAMPID);
        errs_add(&e, M.rc.buttons && button_kind, PHONEERR_INVALBUTTONMODE);
        errs_add(&e, M.rc.buttons && handset_kind && a != PHONEHOOKSWITCHDEV_HANDSET,
                 PHONEERR_INVALHOOKSWITCHDEV);
        errs_add(&e, !handset_kind && size > 4096, PHONEERR_INVALPARAM);
        errs_add(&e, !fa_online(hm->dev), PHONEERR_INVALPHONESTATE);
    }
    rc = attr_call(kind, h, null ? NULL : buf, size, a);
    TRACE("  %s(%#x, size %u%s) = %s\n", attr_names[kind], h, size, null ? ", NULL" : "",
          rc > 0 ? "a request id" : fa_err_name(rc));
    if (e.n == 0) {
        if (M.main_row < 0)
            M.main_row = attach_row(0);
        ring = M.main_row * M_WORKERS + (int)(hm->dev % M.rc.workers);
    }
    if (e.n == 0 && rc == (LONG)PHONEERR_RESOURCEUNAVAIL) {
        uint32_t w = hm->dev % M.rc.workers;
        FUZZ_CHECK(ring_held(ring) >= M.ring_size || attr_slots_held(w) >= FUZZ_PAYLOADS,
                   "phoneDevSpecific: RESOURCEUNAVAIL with %u of %u ring positions and %u of "
                   "%u payload slots possibly held",
                   ring_held(ring), M.ring_size, attr_slots_held(w), FUZZ_PAYLOADS);
        return;
    }
    if (e.n) {
        check_errs(attr_names[kind], rc, &e, 1, 0);
        return;
    }
    FUZZ_CHECK(rc > 0, "%s returned %s, expected a request id", attr_names[kind],
               fa_err_name(rc));
    attr_accepted(hm, rc, ring, kind, a);
}
