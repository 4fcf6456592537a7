/* bench/cg_driver.c - a fixed single-threaded workload for callgrind.
 *
 *   tapiq-cg-driver CONSOLES REQUESTS [single|bulk]
 *
 * One application thread opens every console, then issues REQUESTS
 * phoneSetLamp calls in rounds of 256 (console i*7919 mod CONSOLES, lamp
 * i mod 64, the mode changing every round so every update is a real change)
 * and reaps the 256 PHONE_REPLY messages of each round with phoneGetMessage
 * before the next round (single: one phoneGetMessage per reply; bulk: the
 * native tapiq_get_messages, up to 64 per call). One worker (workers=1),
 * the mem backend.
 *
 * Run it twice under `valgrind --tool=callgrind` with two request counts: the
 * difference of the instruction counts divided by the difference of the
 * counts is the cost of one request end to end (issue, dispatch, backend
 * apply, reply, reap), with the setup (configuration, opens, shutdown)
 * cancelled out. bench/callgrind.sh does that, per function as well.
 * Exits non-zero unless every request got exactly one successful reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#define ROUND 256u

int main(int argc, char **argv)
{
    uint32_t consoles, requests;
    char cfg[200];
    HPHONEAPP app;
    HPHONE *h;
    DWORD ndev = 0, api = TAPI_VERSION2_2;
    const DWORD modes[2] = {PHONELAMPMODE_STEADY, PHONELAMPMODE_OFF};
    LONG rc;

    int bulk;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s CONSOLES REQUESTS [single|bulk]\n", argv[0]);
        return 2;
    }
    bulk = argc == 4 && argv[3][0] == 'b';
    consoles = (uint32_t)strtoul(argv[1], NULL, 10);
    requests = (uint32_t)strtoul(argv[2], NULL, 10);
    snprintf(cfg, sizeof(cfg), "backend=mem,devices=%u,lamps=64,workers=1,queue=1024", consoles);
    if (tapiq_configure(cfg) != 0) {
        fprintf(stderr, "configure: %s\n", tapiq_last_error());
        return 1;
    }
    rc = phoneInitializeEx(&app, NULL, NULL, "cg", &ndev, &api, NULL);
    if (rc != 0) {
        fprintf(stderr, "phoneInitializeEx: %08x\n", (unsigned)rc);
        return 1;
    }
    h = calloc(consoles, sizeof(*h));
    if (!h)
        return 1;
    for (uint32_t d = 0; d < consoles; d++) {
        if (phoneOpen(app, d, &h[d], TAPI_VERSION2_2, 0, 0, PHONEPRIVILEGE_OWNER) != 0) {
            fprintf(stderr, "phoneOpen %u failed\n", d);
            return 1;
        }
    }
    for (uint32_t done = 0, round = 0; done < requests; round++) {
        uint32_t n = requests - done < ROUND ? requests - done : ROUND;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = done + i;
            rc = phoneSetLamp(h[(uint64_t)k * 7919u % consoles], k % 64u, modes[round & 1]);
            if (rc <= 0) {
                fprintf(stderr, "phoneSetLamp: %08x\n", (unsigned)rc);
                return 1;
            }
        }
        for (uint32_t i = 0; i < n;) {
            PHONEMESSAGE m[64];
            LONG got = 1;
            if (bulk)
                got = rc = tapiq_get_messages(app, m, 64, INFINITE);
            else
                rc = phoneGetMessage(app, &m[0], INFINITE);
            if (rc < 0) {
                fprintf(stderr, "reap: %08x\n", (unsigned)rc);
                return 1;
            }
            for (LONG j = 0; j < got; j++) {
                if (m[j].dwMessageID != PHONE_REPLY || m[j].dwParam2 != 0) {
                    fprintf(stderr, "unexpected message %u\n", (unsigned)m[j].dwMessageID);
                    return 1;
                }
            }
            i += (uint32_t)got;
        }
        done += n;
    }
    {
        /* The counters are exact only once quiescent: the worker may still be
         * adding the replies already reaped (seen at 200 consoles). */
        tapiq_stats st;
        for (int i = 0; i < 1000; i++) {
            const struct timespec ms = {0, 1000000};
            tapiq_get_stats(&st, sizeof(st));
            if (st.accepted == requests && st.replies == requests)
                break;
            nanosleep(&ms, NULL);
        }
        printf("accepted %llu replies %llu batches %llu applied %llu worker_sleeps %llu\n",
               (unsigned long long)st.accepted, (unsigned long long)st.replies,
               (unsigned long long)st.batches, (unsigned long long)st.updates_applied,
               (unsigned long long)st.worker_sleeps);
        if (st.accepted != requests || st.replies != requests)
            return 1;
    }
    phoneShutdown(app);
    free(h);
    return 0;
}
