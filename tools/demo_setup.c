/* tools/demo_setup.c - tapiq-demo's command line, its consoles and its state. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

void demo_usage(FILE *f)
{
    fprintf(f,
            "usage: tapiq-demo [--threads N] [--seconds S] [--consoles N] [--rate R] [--config KEYS]\n"
            "  --threads N   issuing threads (default 4)\n"
            "  --seconds S   how long to issue (default 10)\n"
            "  --consoles N  consoles, the `devices` key (default 500)\n"
            "  --rate R      requests/s over all threads (default 0: as fast as possible;\n"
            "                then the request queue stays full and latency is queueing)\n"
            "  --reap N      reap up to N messages per call with tapiq_get_messages\n"
            "                (default 1: one phoneGetMessage per message; at most 256)\n"
            "  --presses P   operators' Ready presses/s over all consoles, answered\n"
            "                with the Ready lamp (default 20; 0: no operators; with another\n"
            "                backend than mem the consoles press, the demo answers)\n"
            "  --config KEYS more configuration keys, e.g. fail_ppm=100,latency_us=50\n"
            "                (a backend key replaces mem: backend=mqtt,url=mqtt://HOST:PORT)\n"
            "                (OPERATIONFAILED replies are expected when fail_ppm > 0,\n"
            "                INVALPHONESTATE when offline > 0)\n");
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* The value of @key in a key=value,... list (for the demo's expectations;
 * tapiq validates the list itself). */
static unsigned long config_value(const char *list, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = list; p && *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            return strtoul(p + klen + 1, NULL, 10);
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return 0;
}

/* Whether @key is given in a key=value,... list. */
bool demo_config_has(const char *list, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = list; p && *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            return true;
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}

int demo_parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){
        .threads = 4, .seconds = 10, .consoles = 500, .reap = 1, .extra = "", .presses = 20};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            demo_usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tapiq-demo: %s needs a value\n", a);
            return -1;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--config") == 0) {
            o->extra = val;
            continue;
        }
        if (!parse_uint(val, 1000000000, &v)) {
            fprintf(stderr, "tapiq-demo: bad value for %s: %s\n", a, val);
            return -1;
        }
        if (strcmp(a, "--threads") == 0 && v >= 1 && v <= 256)
            o->threads = (unsigned)v;
        else if (strcmp(a, "--seconds") == 0 && v >= 1 && v <= 86400)
            o->seconds = (unsigned)v;
        else if (strcmp(a, "--consoles") == 0 && v >= 1 && v <= 1048576)
            o->consoles = (unsigned)v;
        else if (strcmp(a, "--rate") == 0)
            o->rate = v;
        else if (strcmp(a, "--reap") == 0 && v >= 1 && v <= REAP_MAX)
            o->reap = (unsigned)v;
        else if (strcmp(a, "--presses") == 0 && v <= 100000)
            o->presses = (unsigned)v;
        else {
            fprintf(stderr, "tapiq-demo: unknown option or value out of range: %s %s\n", a, val);
            return -1;
        }
    }
    o->fail_ppm = config_value(o->extra, "fail_ppm");
    o->offline = config_value(o->extra, "offline");
    return 0;
}

int demo_open_consoles(struct demo *d, DWORD numdevs)
{
    if (numdevs < d->opt.consoles) {
        fprintf(stderr, "tapiq-demo: %u devices, %u consoles wanted\n", (unsigned)numdevs,
                d->opt.consoles);
        return -1;
    }
    d->consoles = d->opt.consoles;
    d->phones = calloc(d->consoles, sizeof(*d->phones));
    if (!d->phones)
        return -1;
    for (uint32_t c = 0; c < d->consoles; c++) {
        DWORD ver = 0;
        PHONEEXTENSIONID ext;
        LONG rc = phoneNegotiateAPIVersion(d->app, c, TAPI_VERSION1_4, TAPI_VERSION2_2, &ver, &ext);
        if (rc == 0)
            rc = phoneOpen(d->app, c, &d->phones[c], ver, 0, (DWORD_PTR)c, PHONEPRIVILEGE_OWNER);
        if (rc != 0) {
            fprintf(stderr, "tapiq-demo: console %u: %s (0x%08" PRIx32 ")\n", (unsigned)c,
                    demo_phoneerr_name(rc), (uint32_t)rc);
            return -1;
        }
    }
    /* Lamps per console, from the first console's capabilities (the fixed
     * part is enough for dwNumButtonLamps). */
    PHONECAPS caps;
    memset(&caps, 0, sizeof(caps));
    caps.dwTotalSize = sizeof(caps);
    LONG rc = phoneGetDevCaps(d->app, 0, TAPI_VERSION2_2, 0, &caps);
    if (rc != 0) {
        fprintf(stderr, "tapiq-demo: phoneGetDevCaps: %s\n", demo_phoneerr_name(rc));
        return -1;
    }
    d->lamps = caps.dwNumButtonLamps - (caps.dwNumButtonLamps ? d->base : 0);
    if (d->lamps == 0 || d->lamps > 256) {
        fprintf(stderr, "tapiq-demo: consoles have %u lamps; 1..256 wanted\n", (unsigned)d->lamps);
        return -1;
    }
    d->qlamps = d->lamps >= 2 * QUEUE_LAMPS ? QUEUE_LAMPS : 0;
    d->alamps = d->lamps - d->qlamps;
    d->teams = d->consoles >= TEAM_CONSOLES ? d->consoles / TEAM_CONSOLES : 1;
    return 0;
}

int demo_alloc_state(struct demo *d)
{
    uint32_t track_size = 1;
    while (track_size < DEMO_TRACK)
        track_size <<= 1;
    d->track_mask = track_size - 1;
    d->track = calloc(track_size, sizeof(*d->track));
    d->expected = malloc((size_t)d->consoles * d->lamps);
    d->defer_id = malloc(DEFER_MAX * sizeof(*d->defer_id));
    d->defer_t = malloc(DEFER_MAX * sizeof(*d->defer_t));
    d->issuers = calloc(d->opt.threads, sizeof(*d->issuers));
    if (!d->track || !d->expected || !d->defer_id || !d->defer_t || !d->issuers)
        return -1;
    for (uint32_t i = 0; i < track_size; i++)
        atomic_init(&d->track[i], 0);
    memset(d->expected, PHONELAMPMODE_OFF, (size_t)d->consoles * d->lamps); /* mem lamps start OFF */
    for (unsigned i = 0; i < d->opt.threads; i++) {
        struct issuer *is = &d->issuers[i];
        is->d = d;
        is->index = i;
        is->rng = 0x9E3779B97F4A7C15ull * (i + 1) ^ (uint64_t)d->t0;
        if (is->rng == 0)
            is->rng = 1;
        atomic_init(&is->accepted, 0);
        atomic_init(&is->backpressure, 0);
        atomic_init(&is->events, 0);
        is->nteams = i < d->teams ? (d->teams - i + d->opt.threads - 1) / d->opt.threads : 0;
        is->agent = calloc((size_t)is->nteams * d->alamps + 1, 1);      /* AG_IDLE = OFF */
        is->waiting = calloc((size_t)is->nteams * d->qlamps + 1, 1);    /* empty = OFF */
        if (!is->agent || !is->waiting)
            return -1;
    }
    return 0;
}
