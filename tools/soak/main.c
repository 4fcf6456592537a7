/* tapiq-soak - run the call-center mix for a given time with faults injected, and account for
 * every request (see soak.h for the threads and the checks, README "Soak" for the usage).
 *
 * Exit status: 0 when every check held; 1 when one failed (lost, duplicated or mismatched
 * replies, a message after close, a lamp or broker state that differs, an unexpected error,
 * resource growth); 2 on a usage or setup error; 77 when the run was skipped (backend mqtt
 * without mosquitto, or a tapiq built without it).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

#define MIB (1024.0 * 1024.0)

/* Under a sanitizer, RSS holds shadow memory and quarantined blocks: reported, not checked. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SOAK_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SOAK_SANITIZER 1
#endif
#endif
#ifndef SOAK_SANITIZER
#define SOAK_SANITIZER 0
#endif
#define VIOLATIONS_SHOWN 40

/* ------------------------------------------------------------ utilities */

uint64_t soak_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void soak_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
                          .tv_nsec = (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

uint64_t soak_rand(uint64_t *s) /* xorshift64* */
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

unsigned soak_below(uint64_t *s, unsigned n)
{
    return (unsigned)((soak_rand(s) >> 32) * n >> 32);
}

const char *soak_err_name(LONG e)
{
    switch (e) {
    case 0: return "OK";
#define E(n)                                                                                       \
    case PHONEERR_##n:                                                                             \
        return #n;
        E(ALLOCATED) E(BADDEVICEID) E(INCOMPATIBLEAPIVERSION) E(INCOMPATIBLEEXTVERSION)
        E(INIFILECORRUPT) E(INUSE) E(INVALAPPHANDLE) E(INVALAPPNAME) E(INVALBUTTONLAMPID)
        E(INVALBUTTONMODE) E(INVALBUTTONSTATE) E(INVALDATAID) E(INVALDEVICECLASS) E(INVALEXTVERSION)
        E(INVALHOOKSWITCHDEV) E(INVALHOOKSWITCHMODE) E(INVALLAMPMODE) E(INVALPARAM)
        E(INVALPHONEHANDLE) E(INVALPHONESTATE) E(INVALPOINTER) E(INVALPRIVILEGE) E(INVALRINGMODE)
        E(NODEVICE) E(NODRIVER) E(NOMEM) E(NOTOWNER) E(OPERATIONFAILED) E(OPERATIONUNAVAIL)
        E(RESOURCEUNAVAIL) E(REQUESTOVERRUN) E(STRUCTURETOOSMALL) E(UNINITIALIZED) E(REINIT)
        E(DISCONNECTED) E(SERVICE_NOT_RUNNING)
#undef E
    default: return "PHONEERR_?";
    }
}

static struct soak g_s;
static uint64_t g_t0;
volatile sig_atomic_t soak_interrupted;

void soak_violation(struct soak *s, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&s->vlock);
    if (s->nviolations_logged++ < VIOLATIONS_SHOWN) {
        fprintf(stderr, "tapiq-soak: [%6.1fs] VIOLATION: ", (double)(soak_now_ns() - g_t0) / 1e9);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (s->nviolations_logged == VIOLATIONS_SHOWN)
            fprintf(stderr, "tapiq-soak: further violations are counted, not shown\n");
    }
    pthread_mutex_unlock(&s->vlock);
}

static void on_signal(int sig)
{
    (void)sig;
    soak_interrupted = 1;
}

/* ------------------------------------------------------------- options */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: tapiq-soak [--seconds S] [--backend mem|mqtt] [--seed N] [--threads N] [options]\n"
        "  --seconds S      how long to run (default 60)\n"
        "  --backend B      mem (faults: fail_ppm, latency_us, offline per runtime) or mqtt\n"
        "                   (a Mosquitto of its own, killed, paused and restarted)\n"
        "  --seed N         the schedule's random seed (default 1)\n"
        "  --threads N      issuing threads, 1..%d (default 6)\n"
        "  --rate R         requests/s over all threads between bursts (default 20000)\n"
        "  --consoles N     devices (default 128 mem, 48 mqtt)\n"
        "  --lamps N        lamps per console (default 32; at least --threads)\n"
        "  --epoch S        mean runtime lifetime in seconds (default 4 mem, 8 mqtt)\n"
        "  --progress S     seconds between progress lines (default 5)\n"
        "  --tls auto|on|off  mqtt: every other runtime over TLS with a client certificate\n"
        "                   and a password (auto: when openssl is installed)\n"
        "  --mosquitto P, --openssl P, --mosquitto-passwd P   programs (default: from PATH)\n"
        "Prints a progress line every few seconds and ends with one summary line\n"
        "(`... lost 0, duplicated 0, ...`). Exit status 0: every check held; 1: a check\n"
        "failed; 2: usage or setup error; 77: skipped.\n",
        SOAK_MAX_THREADS);
}

static bool parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_options(int argc, char **argv, struct soak_opts *o)
{
    *o = (struct soak_opts){.seconds = 60, .backend = SOAK_MEM, .seed = 1, .threads = 6,
                            .rate = 20000, .lamps = 32, .progress_s = 5, .tls = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long long v = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tapiq-soak: %s needs a value\n", a);
            return -1;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--backend") == 0) {
            if (strcmp(val, "mem") == 0)
                o->backend = SOAK_MEM;
            else if (strcmp(val, "mqtt") == 0)
                o->backend = SOAK_MQTT;
            else
                goto bad;
        } else if (strcmp(a, "--tls") == 0) {
            o->tls = strcmp(val, "on") == 0 ? 1 : strcmp(val, "off") == 0 ? 0 : -1;
            if (o->tls == -1 && strcmp(val, "auto") != 0)
                goto bad;
        } else if (strcmp(a, "--mosquitto") == 0) {
            o->mosquitto = val;
        } else if (strcmp(a, "--openssl") == 0) {
            o->openssl = val;
        } else if (strcmp(a, "--mosquitto-passwd") == 0) {
            o->passwd = val;
        } else if (strcmp(a, "--seed") == 0 && parse_num(val, UINT64_MAX, &v)) {
            o->seed = v;
        } else if (strcmp(a, "--seconds") == 0 && parse_num(val, 30 * 86400, &v) && v >= 1) {
            o->seconds = (unsigned)v;
        } else if (strcmp(a, "--threads") == 0 && parse_num(val, SOAK_MAX_THREADS, &v) && v >= 1) {
            o->threads = (unsigned)v;
        } else if (strcmp(a, "--rate") == 0 && parse_num(val, 100000000, &v)) {
            o->rate = (unsigned long)v;
        } else if (strcmp(a, "--consoles") == 0 && parse_num(val, 65536, &v) && v >= 1) {
            o->consoles = (unsigned)v;
        } else if (strcmp(a, "--lamps") == 0 && parse_num(val, 4096, &v) && v >= 1) {
            o->lamps = (unsigned)v;
        } else if (strcmp(a, "--epoch") == 0 && parse_num(val, 3600, &v) && v >= 1) {
            o->epoch_s = (unsigned)v;
        } else if (strcmp(a, "--progress") == 0 && parse_num(val, 3600, &v) && v >= 1) {
            o->progress_s = (unsigned)v;
        } else {
            goto bad;
        }
        continue;
    bad:
        fprintf(stderr, "tapiq-soak: unknown option or bad value: %s %s\n", a, val);
        return -1;
    }
    if (!o->consoles)
        o->consoles = o->backend == SOAK_MQTT ? 48 : 128;
    if (!o->epoch_s)
        o->epoch_s = o->backend == SOAK_MQTT ? 8 : 4;
    if (o->lamps < o->threads)
        o->lamps = o->threads; /* every thread owns a lamp on every console */
    return 0;
}

/* ------------------------------------------------------------ reporting */

struct totals {
    uint64_t c[C_NCTR];
};

static void totals(struct soak *s, struct totals *t)
{
    for (int i = 0; i < C_NCTR; i++)
        t->c[i] = soak_ctr_sum(s, (enum soak_ctr)i);
}

static uint64_t violations(const struct soak_run *r, const struct totals *t)
{
    struct soak *s = r->s;
    /* relaxed: read after the actors were joined or parked */
    return t->c[C_LOST] + t->c[C_DUPLICATED] + t->c[C_MISMATCHED] + t->c[C_AFTER_CLOSE] +
           t->c[C_UNEXPECTED] + t->c[C_BAD_STATUS] + t->c[C_STUCK] + t->c[C_LAMP_BAD] +
           r->lamp_bad + r->retained_bad + r->stats_bad + r->hangs + r->no_connect +
           atomic_load_explicit(&s->garbled, memory_order_relaxed) +
           atomic_load_explicit(&s->inbox_overflow, memory_order_relaxed);
}

static void progress_line(struct soak_run *r, uint32_t e, uint64_t *last_acc, uint64_t *last_t)
{
    struct soak *s = r->s;
    struct totals t;
    struct soak_res res = {0};
    uint64_t now = soak_now_ns();
    totals(s, &t);
    soak_res_sample(&res);
    double dt = (double)(now - *last_t) / 1e9;
    uint64_t replies = t.c[C_OK] + t.c[C_FAILED] + t.c[C_BAD_STATUS];
    printf("[%5.0fs] epoch %u: requests %" PRIu64 " (%.0f/s), replies %" PRIu64 " (failed %" PRIu64
           "), suppressed %" PRIu64 ", backpressure %" PRIu64 ", apps %" PRIu64 ", handles %" PRIu64
           ", state events %" PRIu64 ", violations %" PRIu64
           " | rss %.1f MiB, fds %u, threads %u\n",
           (double)(now - g_t0) / 1e9, (unsigned)e, t.c[C_ACCEPTED],
           dt > 0 ? (double)(t.c[C_ACCEPTED] - *last_acc) / dt : 0.0, replies, t.c[C_FAILED],
           t.c[C_SUPPRESSED], t.c[C_BACKPRESSURE], t.c[C_INITS], t.c[C_OPENS],
           t.c[C_STATE_LAMP] + t.c[C_STATE_CONN], violations(r, &t), (double)res.rss / MIB,
           res.fds, res.threads);
    fflush(stdout);
    *last_acc = t.c[C_ACCEPTED];
    *last_t = now;
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    struct soak *s = &g_s;
    struct soak_run r = {.s = s};
    if (parse_options(argc, argv, &s->opt) != 0) {
        usage(stderr);
        return 2;
    }
    g_t0 = soak_now_ns();
    /* Large blocks always come from mmap and go back at free: RSS then follows what is
     * allocated rather than the allocator's history (glibc raises the threshold otherwise). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_mutex_init(&s->vlock, NULL);
    atomic_init(&s->clock, 1);
    atomic_init(&s->state, soak_state(0, SOAK_PHASE_IDLE));
    atomic_init(&s->parked, 0);
    atomic_init(&s->garbled, 0);
    atomic_init(&s->inbox_overflow, 0);
    s->nactors = s->opt.threads;
    s->devices = s->opt.consoles;
    s->lamps = s->opt.lamps;
    r.rng = s->opt.seed * 0xA24BAED4963EE407ull + 0x9FB21C651E98DF25ull;
    r.timeout_ms = 1000;
    snprintf(r.prefix, sizeof(r.prefix), "tapiq-soak-%ld", (long)getpid());
    bool mqtt = s->opt.backend == SOAK_MQTT;
    s->stuck_ns = (mqtt ? 60 : 30) * 1000000000ull;
    s->drain_ns = (mqtt ? 60 : 30) * 1000000000ull;

    if (mqtt) {
        if (tapiq_configure("backend=mqtt,url=mqtt://127.0.0.1:1") != 0) {
            printf("tapiq-soak: skipped: this tapiq has no mqtt backend (%s)\n",
                   tapiq_last_error());
            return 77;
        }
        tapiq_configure(NULL);
        int rc = soak_broker_setup(&r.broker, &s->opt, s->opt.tls != 0);
        if (rc == 0 && s->opt.tls == 1 && !soak_broker_has_tls(r.broker)) {
            fprintf(stderr, "tapiq-soak: --tls on, but TLS cannot be set up\n");
            rc = 2;
        }
        if (rc == 0 && soak_broker_start(r.broker) != 0)
            rc = 2;
        if (rc != 0) {
            soak_broker_free(r.broker, rc != 77);
            return rc;
        }
    }

    s->lamp = calloc((size_t)s->devices * s->lamps, sizeof(*s->lamp));
    s->maybe_offline = calloc(s->devices, sizeof(*s->maybe_offline));
    r.mon = calloc(s->devices, sizeof(*r.mon));
    r.modes = calloc((size_t)s->devices * s->lamps, sizeof(*r.modes));
    r.retained = calloc((size_t)s->devices * s->lamps, sizeof(*r.retained));
    r.seen = calloc(s->devices, 1);
    r.flapped = calloc(s->devices, 1);
    if (!s->lamp || !s->maybe_offline || !r.mon || !r.modes || !r.retained || !r.seen ||
        !r.flapped || soak_actors_create(s) != 0) {
        fprintf(stderr, "tapiq-soak: out of memory\n");
        return 2;
    }
    for (unsigned c = 0; c < s->devices; c++)
        atomic_init(&s->maybe_offline[c], 0);

    printf("tapiq-soak: backend %s, %u s, seed %" PRIu64 ", %u threads in %u groups, %u consoles "
           "x %u lamps, %lu requests/s between bursts%s\n",
           mqtt ? "mqtt" : "mem", s->opt.seconds, s->opt.seed, s->nactors, s->ngroups,
           s->devices, s->lamps, s->opt.rate,
           mqtt ? (soak_broker_has_tls(r.broker) ? ", TLS every other runtime" : ", no TLS") : "");

    soak_actors_start(s);

    struct soak_res res_first = {0}, res_base = {0}, res_post = {0}, res_last = {0};
    unsigned nsamples = 0, npost = 0;
    uint64_t t_end = g_t0 + (uint64_t)s->opt.seconds * 1000000000ull;
    uint64_t warmup_end = g_t0 + (uint64_t)s->opt.seconds * 1000000000ull / 4;
    uint64_t next_progress = g_t0 + (uint64_t)s->opt.progress_s * 1000000000ull;
    uint64_t last_acc = 0, last_t = g_t0;
    uint32_t e = 0;
    bool setup_failed = false;

    while (!soak_interrupted && soak_now_ns() < t_end) {
        e++;
        if (soak_epoch_start(&r, e) != 0) {
            setup_failed = true;
            break;
        }
        struct totals t0;
        totals(s, &t0);
        /* relaxed: only main writes parked's reset; the actors add after the state below */
        atomic_store_explicit(&s->parked, 0, memory_order_relaxed);
        /* release: the configuration, offline flags and model reset before the actors' acquire */
        atomic_store_explicit(&s->state, soak_state(e, SOAK_PHASE_RUN), memory_order_release);
        if (s->opt.verbose)
            printf("epoch %u: %s\n", (unsigned)e, s->ecfg.text);

        uint64_t len = (uint64_t)s->opt.epoch_s * 500 + soak_below(&r.rng, s->opt.epoch_s * 1000);
        uint64_t epoch_end = soak_now_ns() + len * 1000000ull;
        if (epoch_end > t_end)
            epoch_end = t_end;
        uint64_t next_fault = soak_now_ns() + (700 + soak_below(&r.rng, 1500)) * 1000000ull;
        while (!soak_interrupted && soak_now_ns() < epoch_end) {
            uint64_t now = soak_now_ns();
            if (now >= next_progress) {
                progress_line(&r, e, &last_acc, &last_t);
                next_progress += (uint64_t)s->opt.progress_s * 1000000000ull;
            }
            if (mqtt && now >= next_fault) {
                soak_mqtt_fault(&r);
                next_fault = soak_now_ns() + (700 + soak_below(&r.rng, 2000)) * 1000000ull;
            }
            soak_sleep_ns(20000000);
        }
        if (mqtt)
            soak_broker_ensure(&r);

        /* release: the actors' acquire loads see the quiescence request */
        atomic_store_explicit(&s->state, soak_state(e, SOAK_PHASE_QUIESCE), memory_order_release);
        uint64_t limit = soak_now_ns() + 2 * s->drain_ns + 60000000000ull;
        /* acquire: pairs with the release fetch_add of each group's leader */
        while (atomic_load_explicit(&s->parked, memory_order_acquire) < s->ngroups) {
            if (soak_now_ns() > limit) {
                r.hangs++;
                soak_violation(s, "hang: %u of %u groups did not reach quiescence in epoch %u",
                               s->ngroups - atomic_load_explicit(&s->parked, memory_order_relaxed),
                               s->ngroups, (unsigned)e);
                fprintf(stderr, "tapiq-soak: giving up (configuration: %s)\n", s->ecfg.text);
                fflush(NULL);
                if (r.broker)
                    soak_broker_kill(r.broker);
                _exit(1);
            }
            soak_sleep_ns(5000000);
        }
        /* release: nothing new starts while main checks and restarts the runtime */
        atomic_store_explicit(&s->state, soak_state(e, SOAK_PHASE_IDLE), memory_order_release);
        struct totals t1;
        totals(s, &t1);
        struct soak_epoch_counts n = {
            .accepted = t1.c[C_ACCEPTED] - t0.c[C_ACCEPTED],
            .replies = t1.c[C_OK] + t1.c[C_FAILED] + t1.c[C_BAD_STATUS] -
                       (t0.c[C_OK] + t0.c[C_FAILED] + t0.c[C_BAD_STATUS]),
            .suppressed = t1.c[C_SUPPRESSED] - t0.c[C_SUPPRESSED],
            .lost = t1.c[C_LOST] - t0.c[C_LOST]};
        soak_epoch_check(&r, &n);
        soak_epoch_stop(&r);

        struct soak_res res;
        malloc_trim(0); /* what the allocator keeps free is not growth */
        if (soak_res_sample(&res) == 0) {
            if (s->opt.verbose)
                printf("epoch %u: rss %.1f MiB, fds %u, threads %u\n", (unsigned)e,
                       (double)res.rss / MIB, res.fds, res.threads);
            if (nsamples++ == 0)
                res_first = res;
            bool warm = soak_now_ns() < warmup_end || nsamples <= 2;
            struct soak_res *dst = warm ? &res_base : &res_post;
            if (!warm)
                npost++;
            if (res.rss > dst->rss)
                dst->rss = res.rss;
            if (res.fds > dst->fds)
                dst->fds = res.fds;
            if (res.threads > dst->threads)
                dst->threads = res.threads;
            res_last = res;
        }
    }
    /* release: the actors leave */
    atomic_store_explicit(&s->state, soak_state(e, SOAK_PHASE_STOP), memory_order_release);
    soak_actors_join(s);
    uint64_t elapsed = soak_now_ns() - g_t0;
    if (r.broker)
        soak_broker_stop(r.broker);

    /* ------------------------------------------------------------ summary */
    struct totals t;
    totals(s, &t);
    struct soak_faults *f = &r.f;
    uint64_t replies = t.c[C_OK] + t.c[C_FAILED] + t.c[C_BAD_STATUS];
    uint64_t resolved = replies + t.c[C_SUPPRESSED] + t.c[C_LOST];
    /* Resources: flat after the warm-up (small slack for allocator caches). */
    uint64_t rss_slack = res_base.rss / 10 > 8 * 1024 * 1024 ? res_base.rss / 10 : 8 * 1024 * 1024;
    bool res_checked = npost > 0;
    bool rss_grew = res_checked && !SOAK_SANITIZER && res_post.rss > res_base.rss + rss_slack;
    bool fds_grew = res_checked && res_post.fds > res_base.fds;
    bool threads_grew = res_checked && res_post.threads > res_base.threads;

    printf("\n");
    if (mqtt)
        printf("  runtimes (epochs)   %" PRIu64 ": queue <= 16 in %" PRIu64
               ", fewer ring slots than threads in %" PRIu64 ", events <= 1024 in %" PRIu64 "\n",
               f->epochs, f->small_queue, f->shared_rings, f->small_events);
    else
        printf("  runtimes (epochs)   %" PRIu64 ": fail_ppm > 0 in %" PRIu64 " (100%% in %" PRIu64
               "), latency_us in %" PRIu64 ", offline consoles in %" PRIu64
               ", queue <= 16 in %" PRIu64 ", fewer ring slots than threads in %" PRIu64
               ", events <= 1024 in %" PRIu64 "\n",
               f->epochs, f->fail_epochs, f->fail100_epochs, f->latency_epochs, f->offline_epochs,
               f->small_queue, f->shared_rings, f->small_events);
    if (mqtt) {
        char err[512] = "";
        tapiq_mqtt_last_error(err, sizeof(err));
        printf("  broker faults       killed %" PRIu64 ", paused past timeout_ms %" PRIu64
               ", restarted %" PRIu64 ", console presence flaps %" PRIu64 ", TLS runtimes %" PRIu64
               "\n",
               f->kills, f->pauses, f->restarts, f->presence, f->tls_epochs);
        printf("  connections         %" PRIu64 " attempts, %" PRIu64 " failed, %" PRIu64
               " connected; %" PRIu64 " publishes; last error: %s\n",
               tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_ATTEMPTS),
               tapiq_mqtt_counter(TAPIQ_MQTT_CONNECT_FAILURES),
               tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS), tapiq_mqtt_counter(TAPIQ_MQTT_PUBLISHES),
               err[0] ? err : "none");
    }
    printf("  applications        %" PRIu64 " initialized (polled %" PRIu64 ", event fd %" PRIu64
           ", callback %" PRIu64 "), %" PRIu64 " shut down\n",
           t.c[C_INITS], t.c[C_SESS_POLLED], t.c[C_SESS_EVENT], t.c[C_SESS_CALLBACK],
           t.c[C_SHUTDOWNS]);
    printf("  handles             %" PRIu64 " opened (%" PRIu64 " monitors), %" PRIu64
           " closed by phoneClose (%" PRIu64 " with requests in flight), filters %" PRIu64
           " set, %" PRIu64 " refused (events full)\n",
           t.c[C_OPENS], t.c[C_MONITORS], t.c[C_CLOSES], t.c[C_CLOSES_BUSY], t.c[C_FILTERS],
           t.c[C_FILTER_FULL]);
    printf("  requests            %" PRIu64 " accepted (%" PRIu64 " at quiescence), %" PRIu64
           " bursts, %" PRIu64 " RESOURCEUNAVAIL retried, %" PRIu64
           " INVALPHONESTATE on offline consoles\n",
           t.c[C_ACCEPTED], t.c[C_CERTIFY], t.c[C_BURSTS], t.c[C_BACKPRESSURE],
           t.c[C_REJECT_OFFLINE]);
    printf("  replies             %" PRIu64 ": ok %" PRIu64 ", OPERATIONFAILED (injected) %" PRIu64
           "; suppressed %" PRIu64 ", lost %" PRIu64 "; state events lamp %" PRIu64
           ", (dis)connected %" PRIu64 "\n",
           replies, t.c[C_OK], t.c[C_FAILED], t.c[C_SUPPRESSED], t.c[C_LOST], t.c[C_STATE_LAMP],
           t.c[C_STATE_CONN]);
    printf("  checks              %" PRIu64 " phoneGetLamp during the run, %" PRIu64
           " lamps at quiescence (%" PRIu64 " exact), %" PRIu64
           " broker state comparisons, %" PRIu64
           " phoneGetStatus\n",
           t.c[C_LAMP_CHECKS], r.lamp_checked, r.lamp_exact, r.retained_checks,
           t.c[C_STATUS_CHECKS]);
    printf("  resources           rss %.1f MiB first, %.1f after warm-up, %.1f max later, %.1f "
           "end; fds %u / %u / %u / %u; threads %u / %u / %u / %u%s\n",
           (double)res_first.rss / MIB, (double)res_base.rss / MIB, (double)res_post.rss / MIB,
           (double)res_last.rss / MIB, res_first.fds, res_base.fds, res_post.fds, res_last.fds,
           res_first.threads, res_base.threads, res_post.threads, res_last.threads,
           !res_checked     ? " (run too short to compare)"
           : SOAK_SANITIZER ? " (rss not checked under a sanitizer)"
                            : "");

    if (r.stats_unread)
        printf("  statistics          in %" PRIu64 " of %" PRIu64
               " runtimes tapiq_get_stats counted %" PRIu64 " replies that were never read "
               "(posted, then their application shut down) as replies; the README counts those "
               "as replies_suppressed\n",
               r.stats_unread_epochs, f->epochs, r.stats_unread);
    uint64_t v = violations(&r, &t);
    bool ok = !setup_failed && v == 0 && !rss_grew && !fds_grew && !threads_grew &&
              resolved == t.c[C_ACCEPTED];
    if (resolved != t.c[C_ACCEPTED])
        fprintf(stderr, "tapiq-soak: accounting: %" PRIu64 " accepted, %" PRIu64 " resolved\n",
                t.c[C_ACCEPTED], resolved);
    if (rss_grew)
        fprintf(stderr, "tapiq-soak: RSS grew after the warm-up: %.1f -> %.1f MiB\n",
                (double)res_base.rss / MIB, (double)res_post.rss / MIB);
    if (fds_grew || threads_grew)
        fprintf(stderr, "tapiq-soak: after the warm-up: fds %u -> %u, threads %u -> %u\n",
                res_base.fds, res_post.fds, res_base.threads, res_post.threads);

    printf("tapiq-soak: %s: backend %s, %.0f s, seed %" PRIu64 ", %u threads: %" PRIu64
           " requests, %" PRIu64 " replies, suppressed %" PRIu64 ", lost %" PRIu64
           ", duplicated %" PRIu64 ", mismatched %" PRIu64 ", after-close %" PRIu64
           ", unexpected %" PRIu64 ", lamp mismatches %" PRIu64 ", broker mismatches %" PRIu64
           ", rss %.1f -> %.1f MiB, fds %u -> %u, threads %u -> %u\n",
           ok ? "PASS" : "FAIL", mqtt ? "mqtt" : "mem", (double)elapsed / 1e9, s->opt.seed,
           s->nactors, t.c[C_ACCEPTED], replies, t.c[C_SUPPRESSED], t.c[C_LOST],
           t.c[C_DUPLICATED], t.c[C_MISMATCHED], t.c[C_AFTER_CLOSE],
           t.c[C_UNEXPECTED] + t.c[C_BAD_STATUS] + t.c[C_STUCK] + r.stats_bad + r.no_connect +
               atomic_load_explicit(&s->garbled, memory_order_relaxed) +
               atomic_load_explicit(&s->inbox_overflow, memory_order_relaxed),
           r.lamp_bad + t.c[C_LAMP_BAD], r.retained_bad, (double)res_base.rss / MIB,
           (double)res_last.rss / MIB, res_base.fds, res_last.fds, res_base.threads,
           res_last.threads);

    soak_broker_free(r.broker, !ok);
    soak_actors_free(s);
    free(s->lamp);
    free((void *)s->maybe_offline);
    free(r.mon);
    free(r.modes);
    free(r.retained);
    free(r.seen);
    free(r.flapped);
    if (setup_failed)
        return 2;
    return ok ? 0 : 1;
}
