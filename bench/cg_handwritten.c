/* bench/cg_handwritten.c - cg_driver.c's workload on the hand-written
 * baseline dispatcher (bench/handwritten.h), for callgrind.
 *
 *   tapiq-cg-handwritten CONSOLES REQUESTS [single|bulk]
 *
 * The same as tapiq-cg-driver: one issuing thread, one worker, 64 lamps,
 * rounds of 256 hw_set_lamp calls (console i*7919 mod CONSOLES, lamp i mod
 * 64, the mode changing every round), each round's replies reaped before the
 * next (single: hw_get_reply per reply; bulk: hw_get_replies, up to 64 per
 * call). bench/callgrind.py runs it at two request counts and divides the
 * difference; the functions named hw_* are the dispatcher, main is the
 * driver's own loop.
 * Exits non-zero unless every request got exactly one successful reply (one
 * worker: in issue order) and the last round's lamps hold its mode.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench/handwritten.h"

#define ROUND 256u

int main(int argc, char **argv)
{
    uint32_t consoles, requests, last_round = 0;
    const uint32_t modes[2] = {0x4, 0x2}; /* PHONELAMPMODE_STEADY, PHONELAMPMODE_OFF */
    uint64_t expect = 1;
    int bulk, rc;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s CONSOLES REQUESTS [single|bulk]\n", argv[0]);
        return 2;
    }
    bulk = argc == 4 && argv[3][0] == 'b';
    consoles = (uint32_t)strtoul(argv[1], NULL, 10);
    requests = (uint32_t)strtoul(argv[2], NULL, 10);
    rc = hw_init(consoles, 64, 1, 65536);
    if (rc != 0) {
        fprintf(stderr, "hw_init: %d\n", rc);
        return 1;
    }
    for (uint32_t done = 0, round = 0; done < requests; round++) {
        uint32_t n = requests - done < ROUND ? requests - done : ROUND;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = done + i;
            if (hw_set_lamp((uint32_t)((uint64_t)k * 7919u % consoles), k % 64u,
                            modes[round & 1]) == 0) {
                fprintf(stderr, "hw_set_lamp refused\n");
                return 1;
            }
        }
        for (uint32_t i = 0; i < n;) {
            struct hw_reply m[64];
            int got = 1;
            if (bulk)
                got = rc = hw_get_replies(m, 64, -1);
            else
                rc = hw_get_reply(&m[0].id, &m[0].status, -1);
            if (rc < 0) {
                fprintf(stderr, "reap: %d\n", rc);
                return 1;
            }
            for (int j = 0; j < got; j++) {
                if (m[j].id != expect++ || m[j].status != 0) {
                    fprintf(stderr, "reply %llu (status %d), expected id %llu\n",
                            (unsigned long long)m[j].id, m[j].status,
                            (unsigned long long)expect - 1);
                    return 1;
                }
            }
            i += (uint32_t)got;
        }
        done += n;
        last_round = round;
    }
    /* The last round's lamps: the same checks at any multiple of 256
     * requests, so they cancel out of the difference. */
    for (uint32_t k = requests ? (requests - 1) / ROUND * ROUND : 0; k < requests; k++) {
        uint32_t c = (uint32_t)((uint64_t)k * 7919u % consoles);
        if (hw_get_lamp(c, k % 64u) != modes[last_round & 1]) {
            fprintf(stderr, "console %u lamp %u: not at the last mode\n", c, k % 64u);
            return 1;
        }
    }
    printf("accepted %u replies %llu\n", requests, (unsigned long long)expect - 1);
    hw_shutdown();
    return expect - 1 == requests ? 0 : 1;
}
