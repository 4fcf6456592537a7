/* fuzz/fuzz_api_status.c - fuzz_api's synchronous queries and filters:
 * phoneSetStatusMessages, phoneGetStatusMessages, message retrieval,
 * phoneGetStatus, phoneGetDevCaps, phoneNegotiateAPIVersion. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_api.h"

/* Events a filter change reserves: once for state tokens (one per lamp and
 * per non-lamp state) when the handle first asks for states, once for
 * PHONE_BUTTON (TAPIQ_BUTTON_ROOM) when it first asks for buttons. */
static uint32_t filter_room(const struct m_handle *hm, uint32_t states, uint32_t bm,
                            uint32_t bs)
{
    uint32_t need = 0;
    if (states && hm->reserved == hm->breserved)
        need += M.rc.lamps + TAPIQ_EVENTS_PER_HANDLE_EXTRA;
    if (bm && bs && M.rc.lamps && !hm->breserved)
        need += TAPIQ_BUTTON_ROOM;
    return need;
}

void op_set_status_messages(struct fuzz_in *in)
{
    static const DWORD states_tab[] = {PHONESTATE_LAMP, 0, 0x00FFFFFFu,
                                       PHONESTATE_LAMP | PHONESTATE_CONNECTED,
                                       PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED,
                                       0x01000000u, PHONESTATE_LAMP, PHONESTATE_OTHER};
    uint32_t h = pick_handle(in);
    uint8_t b = fuzz_u8(in);
    DWORD states = states_tab[b & 7];
    DWORD bm = (b & 0x08) ? (b & 0x10 ? 0x40u : 0x3Fu) : 0;
    DWORD bs = (b & 0x20) ? (b & 0x40 ? 0x10u : 0x0Fu) : 0;
    struct m_handle *hm = open_handle(h);
    struct errs e = {{0}, 0};
    int may_fail, room = 1, short_for_sure = 0, invalid = 0;
    uint32_t need = 0;
    LONG rc;
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    if (hm) {
        struct m_app *a = &M.apps[hm->app];
        errs_add(&e, states & ~0x00FFFFFFu, PHONEERR_INVALPHONESTATE);
        errs_add(&e, bm & ~0x3Fu, PHONEERR_INVALBUTTONMODE);
        errs_add(&e, (bs & ~0x0Fu) || (bm && !bs), PHONEERR_INVALBUTTONSTATE);
        invalid = e.n;
        /* Each subscribing handle reserves room for one pending event per lamp
         * plus the non-lamp kinds (runtime.h). */
        need = filter_room(hm, states, bm, bs);
        if (need) {
            short_for_sure = a->reserved + need > M.rc.events;
            room = !short_for_sure && !a->dirty;
        }
        if (e.n == 0 && short_for_sure)
            errs_add(&e, 1, PHONEERR_RESOURCEUNAVAIL);
    }
    may_fail = e.n == 0 ? fa_arm(in) : 0;
    rc = phoneSetStatusMessages(h, states, bm, bs);
    fa_disarm();
    TRACE("  phoneSetStatusMessages(%#x, %#x, %#x, %#x) = %s\n", h, states, bm, bs,
          fa_err_name(rc));
    /* Room held by events of closed handles still queued: may be short. */
    if (!(hm && !invalid && !room && rc == (LONG)PHONEERR_RESOURCEUNAVAIL))
        check_errs("phoneSetStatusMessages", rc, &e, !hm, may_fail ? PHONEERR_NOMEM : 0);
    if (rc == OK) {
        if (need) {
            hm->breserved += bm && bs && M.rc.lamps && !hm->breserved ? TAPIQ_BUTTON_ROOM : 0;
            hm->reserved += need;
            M.apps[hm->app].reserved += need;
        }
        hm->ever_states |= states;
        buttons_on_filter(hm, bm, bs);
        hm->states = states;
        hm->bmodes = bm;
        hm->bstates = bs;
        hm->sub_since = (states & PHONESTATE_LAMP) ? M.nsettle : -1;
        if (states & PHONESTATE_LAMP)
            hm->ever_lamp = 1;
    }
}

void op_get_status_messages(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t b = fuzz_u8(in);
    DWORD s = 0xDEAD, m = 0xDEAD, st = 0xDEAD;
    struct m_handle *hm = open_handle(h);
    int null_ptr = (b & 3) == 3;
    struct errs e = {{0}, 0};
    LONG rc = phoneGetStatusMessages(h, (b & 4) && null_ptr ? NULL : &s,
                                     (b & 8) && null_ptr ? NULL : &m,
                                     !(b & 12) && null_ptr ? NULL : &st);
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    errs_add(&e, hm && null_ptr, PHONEERR_INVALPOINTER);
    check_errs("phoneGetStatusMessages", rc, &e, 1, 0);
    if (rc == OK)
        FUZZ_CHECK(s == hm->states && m == hm->bmodes && st == hm->bstates,
                   "status messages %#x/%#x/%#x, set %#x/%#x/%#x", s, m, st, hm->states,
                   hm->bmodes, hm->bstates);
}

void op_get_message(struct fuzz_in *in)
{
    uint32_t h = pick_app(in);
    uint8_t b = fuzz_u8(in);
    struct m_app *a = find_app(h);
    int valid = app_valid(h);
    struct errs e = {{0}, 0};
    PHONEMESSAGE msgs[8];
    LONG rc;
    if (b & 1) {
        DWORD max = (b >> 1) % 9; /* 0 is INVALPARAM */
        rc = tapiq_get_messages(h, (b & 0xF0) == 0xF0 ? NULL : msgs, max, 0);
        errs_add(&e, max == 0, PHONEERR_INVALPARAM);
        errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
        errs_add(&e, (b & 0xF0) == 0xF0, PHONEERR_INVALPOINTER);
        errs_add(&e, valid && a->kind == K_CB, PHONEERR_OPERATIONUNAVAIL);
        if (e.n == 0 && rc == (LONG)PHONEERR_OPERATIONFAILED)
            return;
        if (e.n == 0) {
            FUZZ_CHECK(rc >= 1 && (DWORD)rc <= max, "tapiq_get_messages(max %u) returned %s",
                       max, fa_err_name(rc));
            for (LONG i = 0; i < rc; i++)
                on_message(a, &msgs[i], 0);
            return;
        }
        check_errs("tapiq_get_messages", rc, &e, 0, 0);
        return;
    }
    rc = phoneGetMessage(h, (b & 0x0E) == 0x0E ? NULL : &msgs[0], 0);
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    errs_add(&e, (b & 0x0E) == 0x0E, PHONEERR_INVALPOINTER);
    errs_add(&e, valid && a->kind == K_CB, PHONEERR_OPERATIONUNAVAIL);
    if (e.n == 0 && rc == (LONG)PHONEERR_OPERATIONFAILED)
        return;
    check_errs("phoneGetMessage", rc, &e, 0, 0);
    if (rc == OK)
        on_message(a, &msgs[0], 0);
}

/* Exact-size caller buffer with a canary after what the call may write. */
static unsigned char *buf_new(size_t total)
{
    unsigned char *p = malloc(total);
    if (p)
        memset(p, 0xA5, total);
    return p;
}

static void buf_check_tail(const unsigned char *p, size_t from, size_t total, const char *what)
{
    for (size_t i = from; i < total; i++)
        FUZZ_CHECK(p[i] == 0xA5, "%s wrote byte %zu beyond dwUsedSize %zu", what, i, from);
}

void op_get_status(struct fuzz_in *in)
{
    uint32_t h = pick_handle(in);
    uint8_t b = fuzz_u8(in);
    struct m_handle *hm = open_handle(h);
    DWORD fixed, need = 0, total;
    unsigned char *p;
    PHONESTATUS st;
    struct errs e = {{0}, 0};
    LONG rc;
    memset(&st, 0, sizeof(st));
    fixed = hm && hm->api < TAPI_VERSION2_0 ? offsetof(PHONESTATUS, dwPhoneFeatures)
                                            : sizeof(PHONESTATUS);
    if (hm)
        need = fixed + 4 * M.rc.lamps;
    switch (b & 7) {
    case 0: total = 4; break;
    case 1: total = 12; break;
    case 2: total = fixed - 1; break;
    case 3: total = fixed; break;
    case 4: total = need ? need - 1 : fixed; break;
    case 5: total = need ? need : fixed; break;
    case 6: total = (need ? need : fixed) + 16; break;
    default: total = 8; break;
    }
    p = buf_new(total);
    if (!p)
        return;
    memcpy(p, &total, 4);
    rc = phoneGetStatus(h, (b & 0xF8) == 0xF8 ? NULL : (LPPHONESTATUS)p);
    errs_add(&e, !M.rt_live, PHONEERR_UNINITIALIZED);
    errs_add(&e, M.rt_live && !hm, PHONEERR_INVALPHONEHANDLE);
    errs_add(&e, hm && (b & 0xF8) == 0xF8, PHONEERR_INVALPOINTER);
    errs_add(&e, hm && total < fixed, PHONEERR_STRUCTURETOOSMALL);
    check_errs("phoneGetStatus", rc, &e, !hm, 0);
    if (rc != OK && rc != (LONG)PHONEERR_STRUCTURETOOSMALL)
        buf_check_tail(p, 4, total, "phoneGetStatus (failed)");
    if (rc == (LONG)PHONEERR_STRUCTURETOOSMALL) {
        buf_check_tail(p, total >= 12 ? 12 : 4, total, "phoneGetStatus (too small)");
        if (total >= 12) {
            memcpy(&st, p, 12);
            FUZZ_CHECK(st.dwNeededSize == need, "dwNeededSize %u, need %u", st.dwNeededSize,
                       need);
        }
    }
    if (rc == OK) {
        uint32_t owners = 0, monitors = 0;
        memcpy(&st, p, fixed);
        FUZZ_CHECK(st.dwTotalSize == total, "dwTotalSize changed");
        FUZZ_CHECK(st.dwNeededSize == need, "dwNeededSize %u, need %u", st.dwNeededSize, need);
        FUZZ_CHECK(st.dwUsedSize == (total >= need ? need : fixed), "dwUsedSize %u",
                   st.dwUsedSize);
        buf_check_tail(p, st.dwUsedSize, total, "phoneGetStatus");
        FUZZ_CHECK(!!(st.dwStatusFlags & PHONESTATUSFLAGS_CONNECTED) == fa_online(hm->dev),
                   "status flags %#x, device %u online %d", st.dwStatusFlags, hm->dev,
                   fa_online(hm->dev));
        for (int i = 0; i < M.nhs; i++)
            if (M.hs[i].open && M.hs[i].dev == hm->dev) {
                owners += M.hs[i].priv == PHONEPRIVILEGE_OWNER;
                monitors += M.hs[i].priv == PHONEPRIVILEGE_MONITOR;
            }
        FUZZ_CHECK(st.dwNumOwners == owners && st.dwNumMonitors == monitors,
                   "owners/monitors %u/%u, open handles say %u/%u", st.dwNumOwners,
                   st.dwNumMonitors, owners, monitors);
        if (hm->api >= TAPI_VERSION2_0)
            FUZZ_CHECK(st.dwPhoneFeatures ==
                           model_features(),
                       "features %#x", st.dwPhoneFeatures);
        if (total >= need) {
            FUZZ_CHECK(st.dwLampModesSize == 4 * M.rc.lamps &&
                           st.dwLampModesOffset + st.dwLampModesSize <= st.dwUsedSize,
                       "lamp modes at %u+%u", st.dwLampModesOffset, st.dwLampModesSize);
            for (uint32_t l = 0; l < M.rc.lamps; l++) {
                DWORD v;
                memcpy(&v, p + st.dwLampModesOffset + 4 * l, 4);
                check_lamp_value(hm->dev, l, v, "phoneGetStatus");
            }
        } else {
            FUZZ_CHECK(st.dwLampModesSize == 0, "lamp modes without room");
        }
    }
    free(p);
}

void op_get_dev_caps(struct fuzz_in *in)
{
    uint32_t happ = pick_app(in);
    uint8_t b = fuzz_u8(in), c = fuzz_u8(in);
    DWORD dev = (b & 0x80) ? fuzz_u32(in) : (DWORD)(b & 7);
    DWORD api = fa_api_tab[c & 7], ext = (c & 0x08) ? 1 : 0, fixed, total;
    int valid = app_valid(happ), null_ptr = (c & 0x30) == 0x30;
    struct errs e = {{0}, 0};
    unsigned char *p;
    PHONECAPS caps;
    LONG rc;
    fixed = api >= TAPI_VERSION2_2   ? sizeof(PHONECAPS)
            : api >= TAPI_VERSION2_0 ? offsetof(PHONECAPS, PermanentPhoneGuid)
                                     : offsetof(PHONECAPS, dwDeviceClassesSize);
    switch (c >> 6) {
    case 0: total = fixed; break;
    case 1: total = 4096; break;
    case 2: total = 12 + (b & 15); break;
    default: total = fixed + (b & 63); break;
    }
    p = buf_new(total);
    if (!p)
        return;
    memcpy(p, &total, 4);
    rc = phoneGetDevCaps(happ, dev, api, ext, null_ptr ? NULL : (LPPHONECAPS)p);
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    if (valid) {
        errs_add(&e, dev >= M.rc.devices, PHONEERR_BADDEVICEID);
        errs_add(&e, api < TAPI_VERSION1_0 || api > TAPI_VERSION2_2,
                 PHONEERR_INCOMPATIBLEAPIVERSION);
        errs_add(&e, ext != 0, PHONEERR_INCOMPATIBLEEXTVERSION);
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, !null_ptr && total < fixed, PHONEERR_STRUCTURETOOSMALL);
    }
    check_errs("phoneGetDevCaps", rc, &e, !valid, 0);
    if (rc == OK) {
        memcpy(&caps, p, fixed);
        FUZZ_CHECK(caps.dwTotalSize == total && caps.dwUsedSize <= total &&
                       caps.dwUsedSize >= fixed && caps.dwNeededSize >= fixed,
                   "sizes total %u used %u needed %u", caps.dwTotalSize, caps.dwUsedSize,
                   caps.dwNeededSize);
        buf_check_tail(p, caps.dwUsedSize, total, "phoneGetDevCaps");
        FUZZ_CHECK(caps.dwNumButtonLamps == M.rc.lamps, "%u lamps, configured %u",
                   caps.dwNumButtonLamps, M.rc.lamps);
        if (api >= TAPI_VERSION2_0)
            FUZZ_CHECK(caps.dwPhoneFeatures ==
                           model_features(),
                       "features %#x", caps.dwPhoneFeatures);
        if (total >= caps.dwNeededSize) {
            FUZZ_CHECK(caps.dwUsedSize == caps.dwNeededSize, "used %u needed %u",
                       caps.dwUsedSize, caps.dwNeededSize);
            FUZZ_CHECK(caps.dwLampModesSize == 4 * M.rc.lamps &&
                           caps.dwLampModesOffset >= fixed &&
                           caps.dwLampModesOffset + caps.dwLampModesSize <= caps.dwUsedSize,
                       "lamp modes at %u+%u", caps.dwLampModesOffset, caps.dwLampModesSize);
            for (uint32_t l = 0; l < M.rc.lamps; l++) {
                DWORD v;
                memcpy(&v, p + caps.dwLampModesOffset + 4 * l, 4);
                FUZZ_CHECK(v == ALL_MODES, "lamp %u supports %#x", l, v);
            }
        }
    }
    free(p);
}

void op_negotiate(struct fuzz_in *in)
{
    uint32_t happ = pick_app(in);
    uint8_t b = fuzz_u8(in);
    DWORD dev = b & 7, lo = fa_api_tab[(b >> 3) & 7], hi = fa_api_tab[fuzz_u8(in) & 7], v = 0;
    PHONEEXTENSIONID ext;
    int valid = app_valid(happ), null_ptr = (b >> 6) == 3;
    struct errs e = {{0}, 0};
    LONG rc = phoneNegotiateAPIVersion(happ, dev, lo, hi, null_ptr ? NULL : &v, &ext);
    errs_add(&e, !valid, PHONEERR_INVALAPPHANDLE);
    if (valid) {
        errs_add(&e, dev >= M.rc.devices, PHONEERR_BADDEVICEID);
        errs_add(&e, null_ptr, PHONEERR_INVALPOINTER);
        errs_add(&e, lo > hi || hi < TAPI_VERSION1_0 || lo > TAPI_VERSION2_2,
                 PHONEERR_INCOMPATIBLEAPIVERSION);
    }
    check_errs("phoneNegotiateAPIVersion", rc, &e, !valid, 0);
    if (rc == OK)
        FUZZ_CHECK(v >= lo && v <= hi && v >= TAPI_VERSION1_0 && v <= TAPI_VERSION2_2,
                   "negotiated %#x in [%#x, %#x]", v, lo, hi);
}
