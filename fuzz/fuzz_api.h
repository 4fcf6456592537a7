/* fuzz/fuzz_api.h - the fuzz_api target's model and what its files share.
 *
 * The target is one program over these files (the contract it checks:
 * fuzz/fuzz_api.c):
 *   fuzz_api.c          the entry point and program interpreter, the
 *                       allocation hook, return-value checks
 *   fuzz_api_model.c    lookups in the model, handle and application picks,
 *                       runtime start / stop, close, lamp outcomes, ring
 *                       positions
 *   fuzz_api_reap.c     messages (each one checked), callbacks, worker
 *                       rounds, draining, quiescent points
 *   fuzz_api_setup.c    configuration, phoneInitializeEx, phoneShutdown,
 *                       phoneOpen, phoneClose
 *   fuzz_api_lamp.c     phoneSetLamp (one, bursts, a helper thread),
 *                       phoneGetLamp
 *   fuzz_api_status.c   status filters, message retrieval, phoneGetStatus,
 *                       phoneGetDevCaps, phoneNegotiateAPIVersion
 *   fuzz_api_events.c   console events: PHONE_BUTTON, the handset,
 *                       OWNER / MONITORS
 *   fuzz_api_setters.c  the asynchronous setters besides phoneSetLamp
 */
#ifndef TAPIQ_FUZZ_FUZZ_API_H
#define TAPIQ_FUZZ_FUZZ_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/handle.h"
#include "core/runtime.h"
#include "fuzz/fuzz.h"
#include "tapiq/tapi.h"
#include "tapiq/tapiq.h"

#define M_APPS 4      /* live at once */
#define M_APPS_ALL 12 /* ever, per input */
#define M_HANDLES 48
#define M_REQS 1024
#define M_DEVS 4
#define M_LAMPS 65
#define M_OPS 400
#define M_WORKERS 2 /* workers= is 1 or 2 */
/* Submission rings the model tells apart: row * M_WORKERS + worker, row 0
 * and 1 pool slots 0 and 1, row 2 the shared multi-producer row. */
#define M_ROW_SHARED 2
#define M_RINGS (3 * M_WORKERS)
#define M_BURST 16
#define WAIT_MS 10000 /* a reply that takes longer is lost */

#define ALL_MODES 0x7Eu /* OFF STEADY WINK FLASH FLUTTER BROKENFLUTTER */
/* What a mem console with lamps and nothing else can do (PHONECAPS). */
#define LAMP_FEATURES (PHONEFEATURE_GETLAMP | PHONEFEATURE_SETLAMP | PHONEFEATURE_GETBUTTONINFO)
#define OK 0

enum kind { K_POLL, K_EVENT, K_CB };
enum rst { R_PENDING, R_OK, R_FAIL, R_SUPP };

struct m_app {
    uint32_t h;
    int live;
    int kind;
    int fd;
    uint32_t reserved; /* events reserved by open handles */
    int dirty;         /* a subscribed handle closed since the last quiescent point */
};

/* A handle's PHONE_BUTTON model (fuzz_api_events.c). */
struct m_buttons {
    uint32_t units;                 /* room held: queued + DOWNs awaiting their UP */
    uint32_t down;                  /* buttons whose DOWN it got */
    uint16_t q[TAPIQ_BUTTON_ROOM];  /* expected, in order: button << 8 | state */
    int head, n;
    uint32_t ever_modes, ever_states;
};

struct m_handle {
    uint32_t h;
    int open;
    int app;
    uint32_t dev, priv, api;
    DWORD_PTR inst;
    uint32_t states, bmodes, bstates;
    uint32_t reserved;
    uint32_t breserved; /* of which for PHONE_BUTTON */
    int sub_since; /* quiescent-point count when LAMP was switched on; -1 off */
    int ever_lamp;
    uint32_t ever_states; /* every PHONESTATE_* its filter ever had */
    struct m_buttons bt;
    int hook_owed; /* a handset change it must still be told (polled) */
    uint8_t notified[M_LAMPS];
};

struct m_req {
    uint32_t id;
    int handle, app;
    uint32_t dev, lamp, mode;
    int ring;        /* the submission ring it took a position of (M_RINGS) */
    int settle_at;   /* quiescent points before it was issued */
    int st;
    int read;        /* its reply was taken */
    int complete;    /* its batch is known to be done (a later reply on its device, quiescence) */
    int fin;         /* known: its reply was posted or suppressed (position given back once
                        every earlier position of its ring is) */
    int gone;        /* known: neither in its application's completion queue nor held for it */
    int next_lamp;   /* next request to the same lamp, -1 */
};

struct m_lamp {
    uint32_t base;   /* known mode before the requests listed; 0 unknown */
    int head, tail;  /* requests since base */
    int req_since;   /* a request was issued since the last quiescent point */
    int mixed;       /* requests of two rings listed: their order is not defined */
    uint32_t settled; /* exact mode at the last quiescent point; 0 unknown */
};

struct m_cfg {
    uint32_t devices, lamps, workers, queue, threads, events, fail_ppm, offline, latency;
    int buttons; /* the consoles have buttons (fuzz_api_events.c) */
};

struct fa_model {
    struct m_cfg cfg; /* given to tapiq_configure, taken by the next runtime */
    struct m_cfg rc;  /* of the running runtime */
    int rt_live;
    uint32_t ring_size;  /* queue rounded up to a power of two, at least 2 */
    uint32_t cq_size;    /* a completion queue: max(64, 4 x ring_size) */
    int main_row;        /* the fuzz thread's pool slot, -1 before its first request */
    uint32_t since_step[M_RINGS]; /* thread-free: accepted since the last round */
    uint32_t round_max;  /* thread-free: most device batches a round could start */
    uint64_t replies_read;
    struct m_app apps[M_APPS_ALL];
    int napps;
    struct m_handle hs[M_HANDLES];
    int nhs;
    struct m_req reqs[M_REQS];
    int nreqs;
    struct m_lamp lamps[M_DEVS][M_LAMPS];
    int nsettle;
    uint64_t accepted, rejected[TAPIQ_REJECT_MAX];
    int stats_exact; /* counters since the runtime started are all modelled */
    uint64_t overruns; /* PHONE_BUTTON polled handles had no room for */
    int cb_buttons;    /* a callback application's handle asked for buttons */
    uint32_t hook[M_DEVS]; /* each console's handset mode (fuzz_api_events.c) */
    uint32_t hook_alt[M_DEVS]; /* 0, or the mode a phoneSetHookSwitch may have left
                                  instead of hook[] (fuzz_api_setters.c) */
};

/* The model (fuzz_api.c), one per process; M for short. */
extern struct fa_model fa_model;
#define M fa_model

/* TAPIQ_FUZZ_TRACE=1 in the environment prints every call (for reading a
 * reproducer). */
extern int fa_trace_on;
extern int fa_manual; /* thread-free: the fuzzer runs the worker rounds */
#define TRACE(...)                                                                             \
    do {                                                                                       \
        if (fa_trace_on)                                                                       \
            fprintf(stderr, __VA_ARGS__);                                                      \
    } while (0)

/* A set of acceptable errors, in documented order where one is documented. */
struct errs {
    LONG e[12];
    int n;
};

/* fuzz_api.c: the allocation hook, helpers */
int fa_arm(struct fuzz_in *in);
void fa_disarm(void);
int64_t fa_now_ms(void);
int fd_readable(int fd, int ms);
void fa_nap(void);
const char *fa_err_name(LONG e);
void errs_add(struct errs *s, int cond, LONG e);
void check_errs(const char *call, LONG rc, const struct errs *s, int ordered, LONG extra);

/* fuzz_api_model.c */
int fa_online(uint32_t dev);
struct m_handle *find_handle(uint32_t h);
struct m_app *find_app(uint32_t h);
uint32_t pick_handle(struct fuzz_in *in);
uint32_t pick_app(struct fuzz_in *in);
int app_valid(uint32_t h);
struct m_handle *open_handle(uint32_t h);
void check_lamp_value(uint32_t dev, uint32_t lamp, uint32_t v, const char *what);
void model_runtime_start(void);
void model_runtime_stop(void);
int napps_live(void);
void model_close(struct m_handle *hm);
void lamp_advance(uint32_t dev, uint32_t lamp);
void device_progress(int ri);
uint32_t ring_held(int ring);
void fa_accepted(LONG rc, int ring, const char *what);
int attach_row(int helper);

/* fuzz_api_reap.c */
void on_callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance, DWORD_PTR p1,
                 DWORD_PTR p2, DWORD_PTR p3);
void on_message(struct m_app *a, const PHONEMESSAGE *m, int from_cb);
void pump_callbacks(void);
void rounds_ran(uint32_t max);
void drain_replies(void);
void fa_settle(void);

/* fuzz_api_setup.c */
extern const DWORD fa_api_tab[8];
void pick_config(struct fuzz_in *in, struct m_cfg *c, char *text, size_t len);
void op_configure(struct fuzz_in *in);
void op_bad_env(struct fuzz_in *in);
void op_init(struct fuzz_in *in);
void op_shutdown(struct fuzz_in *in);
void op_open(struct fuzz_in *in);
void op_close(struct fuzz_in *in);

/* fuzz_api_lamp.c */
void op_set_lamp(struct fuzz_in *in);
void op_burst(struct fuzz_in *in);
void op_get_lamp(struct fuzz_in *in);

/* fuzz_api_status.c */
void op_set_status_messages(struct fuzz_in *in);
void op_get_status_messages(struct fuzz_in *in);
void op_get_message(struct fuzz_in *in);
void op_get_status(struct fuzz_in *in);
void op_get_dev_caps(struct fuzz_in *in);
void op_negotiate(struct fuzz_in *in);

/* fuzz_api_events.c */
int buttons_text(const struct m_cfg *c, char *text, size_t len);
int buttons_config(uint8_t b1, struct m_cfg *c, char *text, size_t len);
uint32_t model_features(void);
void buttons_on_close(struct m_handle *hm);
void on_button(struct m_handle *hm, const PHONEMESSAGE *m, int from_cb);
void buttons_on_filter(struct m_handle *hm, uint32_t bm, uint32_t bs);
void op_press(struct fuzz_in *in);
DWORD hook_offhook(uint32_t mode);
void op_hook(struct fuzz_in *in);
void buttons_settle(const tapiq_stats *s);
void on_other_state(struct m_handle *hm, const PHONEMESSAGE *m, int from_cb);

/* fuzz_api_setters.c */
void attr_config(char *text, size_t len);
void attr_model_reset(void);
int attr_state_ok(const struct m_handle *hm, const PHONEMESSAGE *m);
int attr_hook_in_flight(uint32_t dev);
void attr_settle(void);
void op_set_attr(struct fuzz_in *in);

#endif /* TAPIQ_FUZZ_FUZZ_API_H */
