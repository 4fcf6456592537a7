/* tools/soak/soak.h - tapiq-soak: a long run of the call-center mix with faults, checking the
 * documented guarantees. Only the public API is used (<tapiq/tapi.h>, <tapiq/tapiq.h>).
 *
 * Threads and who owns what
 * -------------------------
 *   main        runs epochs: configures tapiq, keeps a checker application (polled, one monitor
 *               handle per console) for the epoch so the runtime lives while the other
 *               applications come and go, injects faults (a broker killed, paused, restarted;
 *               console presence), asks for quiescence, checks lamp and broker state, shuts the
 *               checker down (the runtime stops), samples RSS / fds / threads.
 *   actor t     an issuing thread (--threads). Actors form groups (1, 2 or 3 actors); a group
 *               runs application sessions one after another: the group's first actor (the
 *               leader) initializes an application in one delivery mode (polled phoneGetMessage
 *               or tapiq_get_messages, USEEVENT fd with poll(), callback), every actor of the
 *               group opens handles of its own in it, issues, closes and reopens handles, and
 *               at the end the leader shuts the application down.
 *   callback    tapiq's delivery thread of a callback application: soak_callback() stamps each
 *               message, forwards it to the inbox of the actor that owns its handle and, now
 *               and then, takes up to a millisecond (the application's own work), so that
 *               replies pile up behind it while handles are closed.
 *
 * Every request, handle record and lamp model entry has one owner actor and is only written
 * by it; messages reach the owner through its inbox (single producer at a time: the group
 * leader, which reaps polled and event applications for the whole group, or the callback
 * thread) or directly when the leader reads its own. Counters are relaxed atomics read by main
 * for progress. The lamp model is read by main only while every group is parked (the parked
 * count's release/acquire orders it) and reset by main before the phase is set to RUN.
 *
 * After-close detection
 * ---------------------
 * soak->clock is a global counter. A closer takes c = fetch_add(clock) right after phoneClose
 * (or phoneShutdown) returned; a reader stamps each read with a load of the clock taken before
 * it calls phoneGetMessage / tapiq_get_messages (the callback: on entry). A message for a
 * handle with stamp > c was read by a call that began after the close returned: a violation.
 * stamp <= c is a legitimate race (the read began before the close returned). Both accesses
 * are seq_cst, so "stamp > c" means the fetch_add precedes the load in the single total order.
 * A closed handle's outstanding requests are counted suppressed once the group's reader has
 * completed a read stamped > c (then every legitimate reply has been forwarded), or when the
 * application is shut down (the callback thread is joined inside phoneShutdown).
 */
#ifndef TAPIQ_TOOLS_SOAK_SOAK_H
#define TAPIQ_TOOLS_SOAK_SOAK_H

#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

#define SOAK_MAX_THREADS 64
#define SOAK_NMODES 6           /* OFF, STEADY, WINK, FLASH, FLUTTER, BROKENFLUTTER */
#define SOAK_POOL 32768         /* requests one actor tracks at once (in flight, unfinalized) */
#define SOAK_INBOX 65536        /* messages waiting for one actor */
#define SOAK_MAX_RECS 1024      /* handles one actor opens in one application session */

/* A lamp mode index 0..5 and its PHONELAMPMODE_* bit. */
static inline DWORD soak_mode_bit(unsigned i)
{
    return (DWORD)PHONELAMPMODE_OFF << i;
}

/* The index of a PHONELAMPMODE_* bit among the six, or -1. */
static inline int soak_mode_index(DWORD bit)
{
    for (unsigned i = 0; i < SOAK_NMODES; i++)
        if (bit == soak_mode_bit(i))
            return (int)i;
    return -1;
}

enum soak_backend { SOAK_MEM, SOAK_MQTT };

enum soak_delivery { SOAK_POLLED, SOAK_EVENT, SOAK_CALLBACK, SOAK_NDELIVERY };

/* Per-actor counters (relaxed atomics; the owner writes, main reads). */
enum soak_ctr {
    C_ACCEPTED,       /* phoneSetLamp returned a request id */
    C_OK,             /* PHONE_REPLY 0 */
    C_FAILED,         /* PHONE_REPLY OPERATIONFAILED where faults allow it */
    C_BAD_STATUS,     /* PHONE_REPLY with a status no fault explains (also a violation) */
    C_SUPPRESSED,     /* no reply because the handle was closed / the app shut down */
    C_LOST,           /* no reply within the drain limit though the handle stayed open */
    C_DUPLICATED,     /* a reply whose id is not in flight (again, or never issued) */
    C_MISMATCHED,     /* a reply for an id in flight on another handle, or a wrong hDevice */
    C_AFTER_CLOSE,    /* a message read by a call that began after phoneClose/Shutdown returned */
    C_UNEXPECTED,     /* a call or reply status the contract does not allow here */
    C_STUCK,          /* RESOURCEUNAVAIL for longer than the stuck limit: request given up */
    C_LAMP_BAD,       /* phoneGetLamp outside the modes the model allows */
    C_BACKPRESSURE,   /* RESOURCEUNAVAIL (retried after reaping) */
    C_BURSTS,         /* bursts issued without reaping */
    C_REJECT_OFFLINE, /* INVALPHONESTATE on a console that is (or may be) offline */
    C_STATE_LAMP,     /* PHONE_STATE PHONESTATE_LAMP */
    C_STATE_CONN,     /* PHONE_STATE CONNECTED / DISCONNECTED */
    C_OPENS,
    C_MONITORS,       /* of which monitor handles */
    C_CLOSES,
    C_CLOSES_BUSY,    /* closes with requests of the handle still in flight */
    C_FILTERS,        /* phoneSetStatusMessages accepted */
    C_FILTER_FULL,    /* phoneSetStatusMessages RESOURCEUNAVAIL (events key exhausted) */
    C_INITS,          /* phoneInitializeEx (leaders) */
    C_SHUTDOWNS,
    C_SESS_POLLED,
    C_SESS_EVENT,
    C_SESS_CALLBACK,
    C_LAMP_CHECKS,    /* phoneGetLamp checked against the model during the run */
    C_STATUS_CHECKS,  /* phoneGetStatus checked */
    C_CERTIFY,        /* requests issued at quiescence to settle uncertain lamps */
    C_NCTR
};

/* Lamp model of one (console, lamp), written only by its owner actor. The lamp's mode is
 * okmode (the last request replied 0, in issue order) unless a request issued after that one
 * has no known outcome (suppressed, lost): then any mode of uncmask is possible too. */
struct soak_lamp {
    uint64_t okseq;   /* issue sequence of the newest request replied 0 (0: none: OFF) */
    uint64_t uncseq;  /* newest issue sequence among the requests of uncmask */
    uint32_t pending; /* requests of this lamp tracked and not yet resolved */
    uint8_t okmode;   /* mode index */
    uint8_t uncmask;  /* bit i: mode i is possible */
};

/* One message on its way to its owner actor. */
struct soak_msg {
    uint64_t inst;  /* dwCallbackInstance: actor, session, handle record */
    uint64_t stamp; /* soak->clock before the read that returned it */
    uint32_t hv;    /* hDevice */
    uint32_t id;    /* dwMessageID */
    uint32_t p1;
    int32_t p2;
};

/* Single-producer single-consumer queue of messages. The producer changes between sessions
 * (callback thread, leader); a barrier or pthread_join orders each change. */
struct soak_inbox {
    alignas(64) _Atomic uint32_t tail; /* written by the producer */
    alignas(64) _Atomic uint32_t head; /* written by the consumer */
    struct soak_msg *buf;
};

struct soak_req {
    uint32_t id;
    uint32_t console;
    uint32_t prev, next; /* the handle record's list (SOAK_NIL ends it) */
    uint64_t seq;
    uint16_t lamp;
    uint16_t rec;
    uint8_t mode;
};
#define SOAK_NIL UINT32_MAX

/* A handle an actor opened in the current session. */
struct soak_rec {
    HPHONE hv;
    uint32_t console;
    DWORD priv;
    DWORD filter;       /* phoneSetStatusMessages states in force */
    bool open;          /* phoneClose / phoneShutdown has not returned */
    bool zombie;        /* closed with requests unresolved */
    uint64_t closed_at; /* soak->clock taken after the close returned */
    uint32_t outstanding;
    uint32_t head;      /* its requests */
};

struct soak;
struct soak_group;

struct soak_actor {
    struct soak *s;
    struct soak_group *g;
    unsigned index;
    bool leader;
    uint64_t rng;
    pthread_t tid;
    struct soak_inbox in;

    uint32_t session;
    struct soak_rec *rec;
    uint32_t nrec;
    uint32_t *openv; /* indices of open records */
    uint32_t nopen;
    uint32_t open_outstanding; /* requests of open records */
    uint32_t nzombie;

    struct soak_req *pool;
    uint32_t free_head;
    uint32_t nlive;
    uint32_t *hash; /* pool index + 1 by id; 0 empty */
    uint32_t hmask;
    uint64_t seq;

    uint64_t next_due;   /* pacing */
    uint64_t next_burst;
    uint32_t burst_left;
    uint64_t ns_per_req;

    alignas(64) _Atomic uint64_t ctr[C_NCTR];
};

struct soak_group {
    struct soak *s;
    unsigned index, first, n;
    alignas(64) _Atomic uint32_t bar_count;
    _Atomic uint32_t bar_gen;
    /* Written by the leader before a barrier, read by members after it. */
    int cmd;            /* SOAK_CMD_* */
    HPHONEAPP app;
    int delivery;       /* enum soak_delivery */
    bool bulk;          /* polled/event: tapiq_get_messages instead of phoneGetMessage */
    int fd;             /* USEEVENT */
    uint64_t deadline;  /* session end, mono ns */
    int end_kind;       /* SOAK_END_* */
    uint64_t shut_at;   /* soak->clock after phoneShutdown returned */
    uint32_t epoch;        /* the epoch the session runs in */
    uint32_t sessions;
    uint32_t parked_epoch; /* leader only: the last epoch the group parked in */
    bool reaping;          /* leader only: it reads for the group (polled, event) */
    alignas(64) _Atomic uint64_t progress; /* stamp of the reader's last completed read */
};

enum { SOAK_CMD_SESSION, SOAK_CMD_EXIT };
enum { SOAK_END_ABRUPT, SOAK_END_GRACEFUL, SOAK_END_QUIESCE };
enum { SOAK_PHASE_IDLE, SOAK_PHASE_RUN, SOAK_PHASE_QUIESCE, SOAK_PHASE_STOP };

static inline uint64_t soak_state(uint32_t epoch, int phase)
{
    return (uint64_t)epoch << 8 | (uint64_t)phase;
}

static inline int soak_state_phase(uint64_t st)
{
    return (int)(st & 0xFF);
}

static inline uint32_t soak_state_epoch(uint64_t st)
{
    return (uint32_t)(st >> 8);
}

struct soak_opts {
    unsigned seconds;
    enum soak_backend backend;
    uint64_t seed;
    unsigned threads;
    unsigned long rate;   /* requests/s over all actors, outside bursts */
    unsigned consoles;
    unsigned lamps;
    unsigned epoch_s;     /* mean epoch (runtime lifetime) in seconds */
    unsigned progress_s;
    int tls;              /* -1 auto, 0 off, 1 on */
    const char *mosquitto, *openssl, *passwd;
    bool verbose;
};

/* The configuration of one epoch, as the actors need it. */
struct soak_epoch_cfg {
    char text[1024];
    unsigned workers, queue;
    unsigned long fail_ppm, latency_us;
    unsigned offline;       /* mem: the last N consoles */
    unsigned events;
    bool tls;
};

struct soak {
    struct soak_opts opt;
    unsigned devices, lamps;
    unsigned nactors, ngroups;
    struct soak_actor *actors;
    struct soak_group *groups;
    struct soak_lamp *lamp;   /* devices * lamps */
    _Atomic uint8_t *maybe_offline; /* per console: INVALPHONESTATE allowed (set by main) */
    uint64_t stuck_ns;        /* RESOURCEUNAVAIL this long on one request is a violation */
    uint64_t drain_ns;        /* a reply may take this long at quiescence */
    bool failures_allowed;    /* OPERATIONFAILED replies possible (fail_ppm, broker faults) */
    struct soak_epoch_cfg ecfg;

    alignas(64) _Atomic uint64_t clock;
    alignas(64) _Atomic uint64_t state; /* epoch << 8 | SOAK_PHASE_*: one word, read at once */
    _Atomic uint32_t parked;            /* groups done with the current epoch's quiescence */
    _Atomic uint64_t garbled; /* messages whose dwCallbackInstance is not ours */
    _Atomic uint64_t inbox_overflow;

    pthread_mutex_t vlock; /* the violation log */
    unsigned nviolations_logged;
};

/* track.c: an actor's inbox, requests and lamp model; the actors' memory */
static inline void soak_ctr_add(struct soak_actor *a, enum soak_ctr c, uint64_t n)
{
    /* relaxed: a statistic; main reads it after joins or parking for the totals */
    atomic_fetch_add_explicit(&a->ctr[c], n, memory_order_relaxed);
}
uint64_t soak_ctr_sum(struct soak *s, enum soak_ctr c);
void soak_inbox_push(struct soak *s, struct soak_inbox *q, const struct soak_msg *m);
void soak_inbox_drain(struct soak_actor *a);
uint32_t soak_track_find(const struct soak_actor *a, uint32_t id);
void soak_track_add(struct soak_actor *a, uint32_t id, uint32_t ri, uint32_t lamp, uint8_t mode);
void soak_track_remove(struct soak_actor *a, uint32_t pi);
struct soak_lamp *soak_lamp_of(struct soak *s, uint32_t console, uint32_t lamp);
void soak_model_ok(struct soak *s, const struct soak_req *q);
void soak_model_unknown(struct soak *s, const struct soak_req *q);
/* The modes (bit i = mode index i) the model allows for (console, lamp). */
uint8_t soak_lamp_allowed(const struct soak *s, uint32_t console, uint32_t lamp);
void soak_lamp_reset(struct soak *s);
void soak_resolve_unreplied(struct soak_actor *a, uint32_t ri, enum soak_ctr why);
void soak_finalize_zombies(struct soak_actor *a, uint64_t progress);
int soak_actors_create(struct soak *s);
void soak_actors_start(struct soak *s);
void soak_actors_join(struct soak *s);
void soak_actors_free(struct soak *s);

/* deliver.c: reading, routing and checking messages; the group barrier */
void soak_deliver_init(struct soak *s);
uint64_t soak_inst_make(unsigned actor, uint32_t session, uint32_t rec);
const char *soak_delivery_name(int delivery);
void soak_process(struct soak_actor *a, const struct soak_msg *m);
void soak_callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance, DWORD_PTR dwParam1,
                   DWORD_PTR dwParam2, DWORD_PTR dwParam3);
/* Reap (the leader of a polled or event application), process the inbox, resolve closed
 * handles' requests; wait up to @wait_ms for something to come. */
void soak_do_work(struct soak_actor *a, int wait_ms);
/* Wait for every actor of the group, working meanwhile. */
void soak_barrier(struct soak_actor *a);

/* actor.c */
void *soak_actor_main(void *arg);

/* main.c */
void soak_violation(struct soak *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t soak_now_ns(void);
void soak_sleep_ns(uint64_t ns);
uint64_t soak_rand(uint64_t *state);
unsigned soak_below(uint64_t *state, unsigned n);
const char *soak_err_name(LONG e);

/* epoch.c: one runtime lifetime (main thread) */
struct soak_faults {
    uint64_t epochs, fail_epochs, fail100_epochs, latency_epochs, offline_epochs, small_queue,
        shared_rings, small_events;
    uint64_t kills, pauses, restarts, presence, tls_epochs;
};

struct soak_run {
    struct soak *s;
    struct soak_broker *broker;
    char prefix[64];
    struct soak_faults f;
    uint64_t rng;
    HPHONEAPP app;   /* the checker application of the epoch */
    HPHONE *mon;     /* its monitor handle per console */
    DWORD *modes;    /* phoneGetLamp per (console, lamp) at the end of an epoch */
    uint32_t *retained;
    uint8_t *seen;
    uint8_t *flapped; /* consoles whose presence the epoch changed */
    uint64_t lamp_checked, lamp_exact, lamp_bad, retained_checks, retained_bad, stats_bad;
    uint64_t stats_unread, stats_unread_epochs; /* tapiq counted replies never read as replies */
    uint64_t hangs;
    uint64_t timeout_ms;
    uint64_t connects0;  /* tapiq_mqtt_counter(TAPIQ_MQTT_CONNECTS) when the epoch started */
    uint64_t no_connect; /* mqtt epochs in which tapiq never connected */
};

extern volatile sig_atomic_t soak_interrupted; /* SIGINT / SIGTERM: finish early */
int soak_epoch_start(struct soak_run *r, uint32_t e);
/* What the actors counted in one epoch, for the comparison with tapiq_get_stats. */
struct soak_epoch_counts {
    uint64_t accepted, replies, suppressed, lost;
};
void soak_epoch_check(struct soak_run *r, const struct soak_epoch_counts *n);
void soak_epoch_stop(struct soak_run *r);
void soak_broker_ensure(struct soak_run *r);
void soak_mqtt_fault(struct soak_run *r);

/* sysres.c: the process's own resources */
struct soak_res {
    uint64_t rss;   /* bytes */
    unsigned fds;
    unsigned threads;
};
int soak_res_sample(struct soak_res *out);

/* broker.c: a Mosquitto of our own (backend mqtt) */
struct soak_broker;
/* Returns 0, 77 (a program is missing: skip), or 2 (setup failed); a message on stderr. */
int soak_broker_setup(struct soak_broker **out, const struct soak_opts *o, bool want_tls);
bool soak_broker_has_tls(const struct soak_broker *b);
int soak_broker_port(const struct soak_broker *b); /* the plain listener */
/* The url and keys for tapiq (plain or TLS with client certificate and password). */
void soak_broker_config(const struct soak_broker *b, bool tls, char *buf, size_t len);
int soak_broker_start(struct soak_broker *b);
void soak_broker_kill(struct soak_broker *b);   /* SIGKILL, reaped */
void soak_broker_pause(struct soak_broker *b);  /* SIGSTOP */
void soak_broker_resume(struct soak_broker *b); /* SIGCONT */
void soak_broker_stop(struct soak_broker *b);   /* SIGTERM, reaped */
bool soak_broker_running(const struct soak_broker *b);
/* mqttio.c */
void soak_mqtt_client_init(void);
void soak_mqtt_client_cleanup(void);
/* Read the newest lamp message of every console under @prefix (plain listener): @modes is
 * devices * lamps PHONELAMPMODE_* bits; @seen[c] set when console c was read. Returns the
 * number of consoles read, or -1 when the broker could not be reached. */
int soak_broker_read_lamps(struct soak_broker *b, const char *prefix, unsigned devices,
                           unsigned lamps, uint32_t *modes, uint8_t *seen);
/* Publish @console's presence (retained "1" / "0"), or clear it (@online < 0). 0 or -1. */
int soak_broker_presence(struct soak_broker *b, const char *prefix, unsigned console, int online);
/* Stop the broker; remove its directory unless @keep (its log tells what happened). */
void soak_broker_free(struct soak_broker *b, bool keep);

#endif /* TAPIQ_TOOLS_SOAK_SOAK_H */
