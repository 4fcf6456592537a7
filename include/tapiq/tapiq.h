/* tapiq - native API: configuration, statistics and the provider interface.
 *
 * Everything here is optional: an application that only uses <tapiq/tapi.h>
 * gets the defaults, or the configuration in the TAPIQ_CONFIG environment
 * variable.
 */
#ifndef TAPIQ_TAPIQ_H
#define TAPIQ_TAPIQ_H

#include <stddef.h>
#include <stdint.h>

#include <tapiq/tapi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- config */

/* tapiq_configure - set the configuration taken by the next first
 * phoneInitializeEx (a comma-separated key=value list, grammar in the README).
 * It overrides TAPIQ_CONFIG. NULL clears it (TAPIQ_CONFIG applies again).
 * Concurrency: any thread; serialised with phoneInitializeEx / phoneShutdown.
 * Returns: 0; -EINVAL for an unknown key or a bad value (tapiq_last_error()
 * says which); -EBUSY while any application is initialized; -ENOMEM. */
TAPIQ_API int tapiq_configure(const char *config);

/* tapiq_last_error - the message of the last configuration failure of the
 * calling thread (tapiq_configure, or a phoneInitializeEx that returned
 * PHONEERR_INIFILECORRUPT / PHONEERR_NOMEM / PHONEERR_NODRIVER); "" if none.
 * The string stays valid until the thread's next tapiq call. */
TAPIQ_API const char *tapiq_last_error(void);

/* --------------------------------------------------------------- messages */

/* tapiq_get_messages - phoneGetMessage for many messages at once: waits like
 * phoneGetMessage for the first one (0 polls, INFINITE blocks), then takes up
 * to @dwMax messages that are already queued, in order, with one pass over
 * the application's queue (cheaper per message than phoneGetMessage).
 * The array's entries past the count returned may be overwritten too.
 * Returns: the number of messages written (1..dwMax), or a negative
 * PHONEERR_*: OPERATIONFAILED (nothing within the timeout), INVALAPPHANDLE,
 * INVALPOINTER, INVALPARAM (dwMax 0), OPERATIONUNAVAIL (the application
 * gets its messages through a callback). */
TAPIQ_API LONG tapiq_get_messages(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessages, DWORD dwMax,
                                  DWORD dwTimeout);

/* ------------------------------------------------------------ statistics */

/* Reasons a phoneSetLamp was refused (index into tapiq_stats.rejected). */
enum tapiq_reject {
    TAPIQ_REJECT_UNINITIALIZED = 0,
    TAPIQ_REJECT_INVALPHONEHANDLE,
    TAPIQ_REJECT_NOTOWNER,
    TAPIQ_REJECT_OPERATIONUNAVAIL,
    TAPIQ_REJECT_INVALBUTTONLAMPID,
    TAPIQ_REJECT_INVALLAMPMODE,
    TAPIQ_REJECT_INVALPHONESTATE,
    TAPIQ_REJECT_RESOURCEUNAVAIL,
    TAPIQ_REJECT_MAX
};

typedef struct tapiq_stats {
    uint64_t accepted;            /* asynchronous calls (phoneSetLamp, the other phoneSet*,
                                     phoneDevSpecific) that returned a request id */
    uint64_t rejected[TAPIQ_REJECT_MAX]; /* refused synchronously, per reason (UNINITIALIZED
                                            stays 0: no instance exists to count it) */
    uint64_t batches;             /* device batches handed to the backend */
    uint64_t updates_applied;     /* lamp updates the backend saw */
    uint64_t updates_coalesced;   /* requests folded into a later update of the same lamp */
    uint64_t updates_failed;      /* requests (lamp or attribute) replied with an error
                                     (OPERATIONFAILED ...) */
    uint64_t replies;             /* PHONE_REPLY posted and not suppressed since */
    uint64_t replies_suppressed;  /* replies of closed handles / shut down applications,
                                     before or after they were posted */
    uint64_t in_flight;           /* accepted, not yet replied or suppressed:
                                     replies + replies_suppressed + in_flight == accepted */
    uint64_t state_events;        /* PHONE_STATE messages posted */
    uint64_t state_coalesced;     /* lamp notifications folded into a pending one */
    uint64_t requests_hwm;        /* high-water mark of ring entries in use (sum over workers) */
    uint64_t requests_capacity;   /* ring entries in all: (threads + 1) x workers x queue */
    uint64_t round_hwm;           /* most device batches one worker started in one round */
    uint64_t worker_sleeps;       /* times a worker went to sleep */
    uint64_t worker_wakeups;      /* wake-ups sent to sleeping workers */
    /* Appended: the other asynchronous setters (tapiq_batch_attrs). */
    uint64_t attrs_applied;       /* attribute updates the backend saw (tapiq_batch_attrs) */
    uint64_t attrs_coalesced;     /* attribute requests folded into a later one */
    /* Appended: inbound console events (tapiq_host_button). */
    uint64_t button_events;       /* PHONE_BUTTON messages posted (one per subscribed handle) */
    uint64_t button_overruns;     /* PHONE_BUTTON messages a subscribed handle did not get
                                     because its button room was full (each one also made
                                     tapiq_host_button return -ENOBUFS) */
} tapiq_stats;

/* tapiq_get_stats - a snapshot of the counters of the running instance
 * (counters start at 0 when the first application initializes).
 * @size is sizeof(tapiq_stats) as the caller knows it (fields added later are
 * appended). Counters are summed from per-thread shards: each is exact once
 * the system is quiescent, approximate while requests are moving.
 * Returns: 0; -EINVAL for NULL; -ENODEV when no application is initialized. */
TAPIQ_API int tapiq_get_stats(tapiq_stats *out, size_t size);

/* ------------------------------------------------- mqtt backend diagnostics
 * What only shows when connecting (TLS verification, refused credentials,
 * an unreachable broker) is visible here without a debug variable. Without
 * the mqtt backend built in, the counters read 0 and the last error is "". */
enum tapiq_mqtt_ctr {
    TAPIQ_MQTT_MALFORMED,        /* inbound messages ignored as malformed */
    TAPIQ_MQTT_CONNECTS,         /* CONNACKs accepted (first connection and reconnects) */
    TAPIQ_MQTT_PUBLISHES,        /* lamp messages handed to the client */
    TAPIQ_MQTT_CONNECT_ATTEMPTS, /* connection attempts begun (lookup, connect, CONNACK) */
    TAPIQ_MQTT_CONNECT_FAILURES, /* attempts that ended without an accepted CONNACK; each
                                    one set the last error. attempts = connects + failures
                                    (+ 1 while one is under way or was cut short by stop) */
    TAPIQ_MQTT_CONNECTORS_RUNNING, /* a gauge: connection attempts whose thread still runs
                                      (looking up a host), abandoned ones included */
};

/* tapiq_mqtt_counter - a process-wide counter (since the process started),
 * or the gauge.
 * Concurrency: any thread; wait-free; a relaxed read (exact once quiescent). */
TAPIQ_API uint64_t tapiq_mqtt_counter(enum tapiq_mqtt_ctr which);

/* tapiq_mqtt_last_error - the last connection error of the process, as text:
 * why the last failed attempt failed, or why the last connection was lost,
 * whichever came last; it stays after a later success (compare the counters
 * to tell). Prefixed with the url, e.g.
 *   "mqtt://10.0.0.5:1883: refused by the broker: not authorized
 *    (MQTT 3.1.1 CONNACK return code 5)"
 *   "mqtts://broker:8883: connection lost: A TLS error occurred.
 *    (OpenSSL Error[0]: ...: certificate verify failed)"
 * Concurrency: any thread; blocking (a mutex held only for the copy).
 * Ownership:   copies at most @len - 1 bytes and a NUL into @buf (nothing
 *              when @len is 0; @buf may then be NULL).
 * Returns:     the length of the whole message (0: no error yet; >= @len:
 *              truncated), or -EINVAL for a NULL @buf with a @len. */
TAPIQ_API int tapiq_mqtt_last_error(char *buf, size_t len);

/* ------------------------------------------------ mem backend: the operator
 * Tests and demos play the operator of a `mem` console: the same as the
 * backend calling tapiq_host_button / tapiq_host_hookswitch on the running
 * instance (PHONE_BUTTON / PHONE_STATE to the subscribed handles).
 * Concurrency: any thread, any time; concurrent with phoneShutdown (a call
 * that loses the race returns -ENODEV). Not lock-free: like
 * tapiq_host_button, a post may wait for a reader of the application's
 * queue that was preempted mid-read (see tapiq_host_set_connected).
 * Returns: what tapiq_host_button / tapiq_host_hookswitch return (0,
 * -EINVAL, -ENOBUFS); -ENODEV when no application is initialized;
 * -EOPNOTSUPP when the running backend is not `mem`. */
TAPIQ_API int tapiq_mem_button(uint32_t device, uint32_t button, uint32_t state);
TAPIQ_API int tapiq_mem_hookswitch(uint32_t device, uint32_t hookswitch_dev, uint32_t mode);

/* ---------------------------------------------------- provider interface
 *
 * A backend owns devices (consoles). tapiq hands it one device's pending lamp
 * updates at a time as a batch: at most one batch per device is outstanding,
 * each lamp appears at most once in a batch, in the order of its last request.
 * A batch also carries the device's other attribute updates
 * (tapiq_batch_attrs(): display, ring, hookswitch, volume, gain, button
 * info, data areas, device-specific requests).
 * The backend sets each update's status (0, or -errno) and calls
 * tapiq_batch_complete() exactly once, from any thread, either inside apply()
 * or later. The status is -errno like every other provider result; tapiq
 * turns it into the PHONE_REPLY result: -EOPNOTSUPP PHONEERR_OPERATIONUNAVAIL,
 * -EINVAL PHONEERR_INVALPARAM, -ENOMEM PHONEERR_NOMEM, anything else (-EIO for
 * a failed update, -ETIMEDOUT when the console did not answer in time,
 * -ENOTCONN while it is offline, ...) PHONEERR_OPERATIONFAILED. An update the
 * backend leaves alone fails with -EIO.
 */
typedef struct tapiq_host tapiq_host;
typedef struct tapiq_batch tapiq_batch;

typedef struct tapiq_update {
    uint32_t lamp;  /* 0 .. nlamps-1 */
    uint32_t mode;  /* one PHONELAMPMODE_* bit, supported by that lamp */
    int32_t status; /* set by the backend: 0 or -errno */
} tapiq_update;

typedef struct tapiq_backend_ops {
    const char *name; /* the value of the `backend` key */
    /* Create an empty backend configuration. Returns NULL on ENOMEM. */
    void *(*config_new)(void);
    /* Take one key that the core does not know. Returns 0; -ENOENT when the
     * key is unknown to this backend; -EINVAL for a bad value (write a
     * message into err). */
    int (*config_key)(void *cfg, const char *key, const char *value, char *err, size_t errlen);
    void (*config_free)(void *cfg);
    /* Start: register devices with tapiq_host_add_device() (the core's
     * `devices` and `lamps` keys are passed for convenience), start threads.
     * Returns 0 or -errno with a message in err; nothing may stay running on
     * failure. */
    int (*start)(tapiq_host *host, void *cfg, uint32_t devices, uint32_t lamps, void **state,
                 char *err, size_t errlen);
    /* Apply one batch of @device (or NULL with apply_sync below). Called
     * from tapiq's worker threads; must not block for long unless the
     * backend means to (a simulated latency): the worker's other devices
     * wait meanwhile. */
    void (*apply)(void *state, uint32_t device, tapiq_batch *batch);
    /* Stop: complete (or fail) every outstanding batch, stop threads, free. */
    void (*stop)(void *state);
    /* Optional (NULL: none): check the whole backend configuration once all
     * keys are in, against the core's `devices` and `lamps` (a key that
     * needs another, a value that exceeds a count, files that must exist).
     * Called by tapiq_configure() and at the first phoneInitializeEx.
     * Returns 0, or -EINVAL with a message that names the key in @err. */
    int (*config_check)(void *cfg, uint32_t devices, uint32_t lamps, char *err, size_t errlen);
    /* Optional (NULL: none): apply() for a backend that finishes every batch
     * before returning (a simulation, a device written in place). The
     * backend sets the statuses as in apply() and does NOT call
     * tapiq_batch_complete(): the batch is complete when this returns. When
     * set, the core calls it instead of apply(), which may then be NULL (one
     * of the two is required). Same threads and rules as apply(); it saves
     * the completion's hand-over (about 20 instructions per batch). */
    void (*apply_sync)(void *state, uint32_t device, tapiq_batch *batch);
    /* Optional (NULL: none): one lamp update applied before returning,
     * without a batch: for a console whose requests in a worker's round are
     * lamp updates on distinct lamps, at most 4 of them (nothing to
     * coalesce; one request per console and round is the usual case with
     * many consoles), called once per update, in issue order. Returns the
     * update's status (0 or -errno, as in a batch; any other positive
     * value counts as -EIO), or TAPIQ_APPLY_DECLINE: the
     * backend cannot do it now (nothing applied), and the core hands the
     * same update, with the console's updates after it, over as a batch
     * through apply_sync() or apply() (in the same round).
     * Called from tapiq's worker threads inside the core's read-side
     * section (a phoneClose waits for it to return): it must not block,
     * wait or sleep (decline instead), nor call back into tapiq. It saves
     * the batch (about 60 instructions per request with many consoles). */
    int (*apply_one)(void *state, uint32_t device, uint32_t lamp, uint32_t mode);
} tapiq_backend_ops;

/* apply_one() declines: the update goes over as a batch. */
#define TAPIQ_APPLY_DECLINE 1

/* tapiq_register_backend - make a backend selectable by `backend=<name>`.
 * @ops must stay valid for the life of the process.
 * Returns: 0; -EEXIST when the name is taken; -EINVAL; -ENOSPC (16 at most). */
TAPIQ_API int tapiq_register_backend(const tapiq_backend_ops *ops);

/* During start() only: add a device with @nlamps lamps; @lamp_modes gives, per
 * lamp, the PHONELAMPMODE_* bits it supports (NULL: OFF, STEADY, WINK, FLASH,
 * FLUTTER and BROKENFLUTTER on every lamp; a lamp whose entry is
 * PHONELAMPMODE_DUMMY is a dummy position). Returns the device id (0, 1, ...)
 * or -ENOSPC when more devices than the `devices` key allows, -EINVAL. */
TAPIQ_API int tapiq_host_add_device(tapiq_host *host, uint32_t nlamps, const uint32_t *lamp_modes,
                                    int connected);

/* A device's attributes besides its lamps: display, ringer, hookswitch
 * devices (handset, speaker, headset), buttons and data areas. A device
 * without them has only its lamps, and every button/lamp position is
 * PHONEBUTTONMODE_DUMMY (a lamp without a button). */
typedef struct tapiq_device_attrs {
    uint32_t display_rows, display_columns; /* 0 x 0: no display; rows x columns <= 4096 */
    uint32_t ring_modes;      /* 0: no ringer; else modes 1..ring_modes (<= 255) */
    uint32_t hookswitch_devs; /* PHONEHOOKSWITCHDEV_* bits */
    /* Per hookswitch device (handset, speaker, headset): the
     * PHONEHOOKSWITCHMODE_* bits it supports; ONHOOK among them, UNKNOWN not.
     * 0: ONHOOK | MIC | SPEAKER | MICSPEAKER. */
    uint32_t hookswitch_modes[3];
    uint32_t volume_devs, gain_devs; /* hookswitch devices with volume / gain control */
    uint32_t data_areas;             /* <= 64 */
    const uint32_t *data_sizes;      /* data_areas sizes in bytes, each 1..65536 */
    uint32_t button_text_max;        /* longest button text in bytes (<= 255) */
    /* Per button/lamp position (nlamps entries each); NULL: every position
     * DUMMY, function UNKNOWN (NONE for DUMMY positions), no text. */
    const uint32_t *button_modes;     /* one PHONEBUTTONMODE_* bit each */
    const uint32_t *button_functions; /* PHONEBUTTONFUNCTION_* */
    const char *const *button_texts;  /* UTF-8, NUL-terminated, NULL entries: no text */
} tapiq_device_attrs;

/* During start() only, after tapiq_host_add_device(@device): give the
 * device its other attributes (copied; @attrs may go after the call). @size
 * is sizeof(tapiq_device_attrs) as the caller knows it (fields added later
 * are appended; those beyond @size count as 0). Once per device.
 * Returns 0; -EINVAL for a value out of range (or a second call); -ENOMEM. */
TAPIQ_API int tapiq_host_set_device_attrs(tapiq_host *host, uint32_t device,
                                          const tapiq_device_attrs *attrs, size_t size);

/* Any time after start, any thread: report that a device (dis)connected.
 * Handles whose status filter has PHONESTATE_CONNECTED /
 * PHONESTATE_DISCONNECTED get a PHONE_STATE; phoneSetLamp then gives
 * PHONEERR_INVALPHONESTATE while it is disconnected.
 * Waits: posting the PHONE_STATE may wait (yielding the CPU) for a thread
 * that was preempted while it read a message of the same application's
 * queue (phoneGetMessage, a delivery thread); it never sleeps on a timer or
 * takes a lock. The same holds for tapiq_host_button,
 * tapiq_host_hookswitch and the mem backend's tapiq_mem_button /
 * tapiq_mem_hookswitch.
 * Returns 0 or -EINVAL. */
TAPIQ_API int tapiq_host_set_connected(tapiq_host *host, uint32_t device, int connected);

/* Inbound events: what the operator did at the console.
 *
 * Any time after start, any thread: an operator pressed (PHONEBUTTONSTATE_DOWN)
 * or released (PHONEBUTTONSTATE_UP) button @button (0 .. nlamps-1) of
 * @device. Every open handle of the device whose phoneSetStatusMessages
 * button modes include the button's PHONEBUTTONMODE_* and whose button
 * states include @state gets one PHONE_BUTTON (dwParam1 @button, dwParam2
 * the button's mode, dwParam3 @state), in call order. Events, not state:
 * never folded, and phoneGetButtonInfo's dwButtonState is not changed.
 * Room: a handle with a button filter reserves TAPIQ_BUTTON_ROOM events of
 * its application's queue when it subscribes. A DOWN takes two units (its
 * own and one held for its UP), so an UP whose DOWN reached a handle always
 * reaches it too (unless the handle's filter no longer selects it). A DOWN
 * (or an UP whose DOWN that handle did not get) that finds no room is not
 * posted to that handle: it is counted in tapiq_stats.button_overruns and
 * the call returns -ENOBUFS. The other handles still got it: do not retry
 * (that would repeat it for them); report the overrun instead.
 * Calls for one device from several threads at once are safe, but their
 * order is then the order in which they happen to run. A post may wait for
 * a reader that was preempted mid-read (see tapiq_host_set_connected).
 * Returns: 0; -EINVAL for a NULL @host, a @device that does not exist, a
 * @button >= nlamps or whose position is PHONEBUTTONMODE_DUMMY (a lamp
 * without a button), a @state other than UP or DOWN; -ENOBUFS as above. */
TAPIQ_API int tapiq_host_button(tapiq_host *host, uint32_t device, uint32_t button, uint32_t state);

/* Events per handle reserved for PHONE_BUTTON messages (see above). */
#define TAPIQ_BUTTON_ROOM 32u

/* Any time after start, any thread: hookswitch device @hookswitch_dev (one
 * PHONEHOOKSWITCHDEV_* bit) of @device is now in @mode (one
 * PHONEHOOKSWITCHMODE_* bit it supports). phoneGetHookSwitch and
 * phoneGetStatus report it from then on; when it is a change, handles whose
 * filter has PHONESTATE_HANDSETHOOKSWITCH / SPEAKERHOOKSWITCH /
 * HEADSETHOOKSWITCH get a PHONE_STATE whose dwParam2 is the device's mode
 * when the message is read (notifications coalesce like lamp ones; the last
 * one read agrees with phoneGetHookSwitch). Reporting the mode it already
 * has is not a change (no message). Never fails for room; a post may wait
 * for a reader that was preempted mid-read (see tapiq_host_set_connected).
 * Returns: 0; -EINVAL for a NULL @host, a @device that does not exist, a
 * @hookswitch_dev that is not exactly one bit or that the device does not
 * have, a @mode that is not exactly one bit or that this hookswitch device
 * does not support (PHONEHOOKSWITCHMODE_UNKNOWN never is). */
TAPIQ_API int tapiq_host_hookswitch(tapiq_host *host, uint32_t device, uint32_t hookswitch_dev,
                                    uint32_t mode);

/* The updates of a batch; the backend writes their status. */
TAPIQ_API tapiq_update *tapiq_batch_updates(tapiq_batch *batch, size_t *count);

/* The other attributes a batch sets (the asynchronous phoneSet* functions
 * besides phoneSetLamp, and phoneDevSpecific), in the order they take
 * effect: apply them in that order (two display writes may overlap). Later
 * settings of the same attribute in one batch reach the backend as one (the
 * last wins, at the position of the last); DEVSPECIFIC entries never
 * coalesce. The core checked every value against the device's attributes
 * (tapiq_host_set_device_attrs) before it accepted the request. */
enum tapiq_attr_kind {
    TAPIQ_ATTR_DISPLAY = 1, /* a = row, b = column; data/size: the bytes written there
                               (size <= what is left of the display from there) */
    TAPIQ_ATTR_RING,        /* a = ring mode (0: off, else 1..ring_modes), b = volume */
    TAPIQ_ATTR_HOOKSWITCH,  /* id = PHONEHOOKSWITCHDEV_* bits, a = one PHONEHOOKSWITCHMODE_* */
    TAPIQ_ATTR_VOLUME,      /* id = one PHONEHOOKSWITCHDEV_* bit, a = 0..0xFFFF */
    TAPIQ_ATTR_GAIN,        /* id = one PHONEHOOKSWITCHDEV_* bit, a = 0..0xFFFF */
    TAPIQ_ATTR_BUTTONINFO,  /* id = button/lamp id, a = one PHONEBUTTONMODE_* bit,
                               b = PHONEBUTTONFUNCTION_*; data/size: the text, UTF-8,
                               no NUL (size <= button_text_max) */
    TAPIQ_ATTR_DATA,        /* id = data area; data/size: its first size bytes */
    TAPIQ_ATTR_DEVSPECIFIC  /* data/size: phoneDevSpecific's bytes (size may be 0) */
};

typedef struct tapiq_attr {
    uint32_t kind;    /* enum tapiq_attr_kind */
    uint32_t id;
    uint32_t a, b;
    const void *data; /* valid until tapiq_batch_complete() */
    uint32_t size;
    /* Set by the backend: 0 (applied), or -errno, turned into the replies'
     * result as a lamp update's is (-EOPNOTSUPP: the backend cannot apply
     * this kind, PHONEERR_OPERATIONUNAVAIL; -EIO, -ETIMEDOUT, -ENOTCONN ...:
     * PHONEERR_OPERATIONFAILED). Preset to -EIO. */
    int32_t status;
} tapiq_attr;

/* tapiq_batch_attrs - the attribute updates of @batch (beside its lamp
 * updates), at most TAPIQ_BATCH_ATTRS_MAX; *count may be 0.
 * Concurrency: the backend that holds the batch (between apply() and
 * tapiq_batch_complete()). Ownership: the batch's; the backend writes only
 * the status fields. Returns the array (never NULL for a valid batch). */
#define TAPIQ_BATCH_ATTRS_MAX 8
TAPIQ_API tapiq_attr *tapiq_batch_attrs(tapiq_batch *batch, size_t *count);

/* Exactly once per batch, from any thread. After it returns the batch is
 * gone. */
TAPIQ_API void tapiq_batch_complete(tapiq_batch *batch);

#ifdef __cplusplus
}
#endif

#endif /* TAPIQ_TAPIQ_H */
