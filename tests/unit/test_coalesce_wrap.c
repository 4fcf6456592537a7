/* Coalescing in a batch over the life of a device: lamp_pos entries carry
 * the stamp of the batch that wrote them (core/worker.c), and the stamps of
 * one device wrap after 65,535 batches. One device, one worker stepped by
 * hand (tapiq_rt_manual), 100,000 rounds of one batch each: a batch of 12
 * requests on 4..7 distinct lamps (the lamp_pos path, > 8 requests) or of 5
 * requests (the scan path), chosen by the round. The first batch on the
 * lamp_pos path and those from the 65,536th on (the first stamp again) use
 * lamps 8..15, the others only 0..7, so the entries of the first batch are
 * still there when its stamp comes round (a wrap that did not clear them
 * would take them for current). Checks per round: every
 * request replied once, with success, in issue order; the lamp modes equal
 * the last request of each lamp; and in total, updates applied == distinct
 * lamps per batch summed, coalesced == the rest, exactly. A stale entry of
 * an earlier batch taken for one of this batch would apply a lamp twice or
 * lose one, and break these counts or a lamp's mode. */
#include <inttypes.h>
#include <stdio.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#include "check.h"
#include "core/runtime.h"

#define NLAMP 16
#define ROUNDS 100000u
#define WRAP 65536u /* the batch on the lamp_pos path whose stamp is the first's again */

int main(void)
{
    HPHONEAPP app;
    HPHONE h;
    DWORD ndev, ver = TAPI_CURRENT_VERSION;
    static const DWORD modes[4] = {PHONELAMPMODE_OFF, PHONELAMPMODE_STEADY, PHONELAMPMODE_WINK,
                                   PHONELAMPMODE_FLASH};
    DWORD want[NLAMP];
    uint64_t applied = 0, issued = 0;
    uint32_t x = 12345, bp = 0; /* batches on the lamp_pos path so far */

    TQ_CHECK(tapiq_configure("backend=mem,devices=1,lamps=16,workers=1,queue=64") == 0);
    tapiq_rt_manual = 1;
    TQ_CHECK(phoneInitializeEx(&app, NULL, NULL, "wrap", &ndev, &ver, NULL) == 0);
    TQ_CHECK(phoneOpen(app, 0, &h, TAPI_CURRENT_VERSION, 0, 0, PHONEPRIVILEGE_OWNER) == 0);
    for (int l = 0; l < NLAMP; l++)
        want[l] = PHONELAMPMODE_OFF;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        uint32_t n = r % 3 == 1 ? 5 : 12, nl = 4 + r % 4, seen = 0;
        uint32_t base;
        bp += n > 8;
        base = (r * 7) % 8 + (bp == 1 || bp >= WRAP ? 8 : 0);
        LONG ids[12];
        for (uint32_t k = 0; k < n; k++) {
            DWORD lamp = (base & 8) | ((base + k % nl) & 7);
            x = x * 1103515245u + 12345u;
            want[lamp] = modes[(x >> 16) & 3];
            ids[k] = phoneSetLamp(h, lamp, want[lamp]);
            TQ_CHECKF(ids[k] > 0, "round %u: phoneSetLamp = %ld", r, (long)ids[k]);
            seen |= 1u << lamp;
        }
        applied += (uint64_t)__builtin_popcount(seen);
        issued += n;
        TQ_CHECK(tapiq_rt_step(0) > 0);
        for (uint32_t k = 0; k < n; k++) {
            PHONEMESSAGE m;
            TQ_CHECKF(phoneGetMessage(app, &m, 0) == 0, "round %u: reply %u missing", r, k);
            TQ_CHECK(m.dwMessageID == PHONE_REPLY);
            TQ_CHECKF((LONG)m.dwParam1 == ids[k], "round %u: reply %u is for id %ld, not %ld", r,
                      k, (long)m.dwParam1, (long)ids[k]);
            TQ_CHECK(m.dwParam2 == 0);
        }
        if (r % 97 == 0 || r + 1 == ROUNDS)
            for (DWORD l = 0; l < NLAMP; l++) {
                DWORD mode;
                TQ_CHECK(phoneGetLamp(h, l, &mode) == 0);
                TQ_CHECKF(mode == want[l], "round %u: lamp %u is %#x, last set %#x", r,
                          (unsigned)l, (unsigned)mode, (unsigned)want[l]);
            }
    }
    {
        tapiq_stats st;
        TQ_CHECK(tapiq_get_stats(&st, sizeof(st)) == 0);
        TQ_CHECKF(st.accepted == issued && st.replies == issued, "accepted %" PRIu64
                  " replies %" PRIu64 " issued %" PRIu64, st.accepted, st.replies, issued);
        TQ_CHECKF(st.updates_applied == applied && st.updates_coalesced == issued - applied,
                  "applied %" PRIu64 " (want %" PRIu64 "), coalesced %" PRIu64 " (want %" PRIu64
                  ")", st.updates_applied, applied, st.updates_coalesced, issued - applied);
        TQ_CHECK(st.batches == ROUNDS);
    }
    TQ_CHECK(phoneShutdown(app) == 0);
    printf("ok: %u batches of one device (stamps wrapped), %" PRIu64 " requests, %" PRIu64
           " applied\n", ROUNDS, issued, applied);
    return 0;
}
