/* backends/mqtt/wire_state.h - the console state message, version 2: lamps
 * and every other attribute of a console (display, ring, hookswitch, volume,
 * gain, buttons, data areas) plus the batch's device-specific requests, and
 * the messages consoles publish (button presses, hookswitch changes).
 *
 * State, on <prefix>/console/<id>/lamps (retained, QoS 1, one per batch):
 *   {"v":2,"console":<id>,"seq":<n>,"lamps":[<mode>,...]
 *    [,"display":[<row>,...]]                     rows x columns bytes
 *    [,"ring":{"mode":<n>,"volume":<n>}]
 *    [,"hookswitch":{<dev>:<hsmode>,...}]          dev: handset, speaker, headset
 *    [,"volume":{<dev>:<n>,...}] [,"gain":{<dev>:<n>,...}]   0..65535
 *    [,"buttons":[{"id":<n>,"mode":<bmode>,"function":<n>,"text":<text>},...]]
 *    [,"data":[<hex>,...]] [,"devspecific":[<hex>,...]]}
 *   Members in this order when encoded, in any order when parsed, each at
 *   most once; an attribute member is present exactly when the console has
 *   that attribute (devspecific: when the batch carried phoneDevSpecific
 *   requests, in their order). Without "v" the message is version 1 (lamps
 *   only, no attribute member). hsmode: onhook, mic, speaker, micspeaker;
 *   bmode: call, feature, keypad, local, display (dummy positions are not
 *   listed); hex: lower-case, two digits per byte.
 *   Strings: a display row is bytes, each printable ASCII byte (0x20-0x7e)
 *   other than '"' and '\' as itself, every other byte as \u00XX (so a row
 *   reads back byte-exact; a JSON reader sees code points U+0000-U+00FF);
 *   a button text is UTF-8, '"', '\' and bytes below 0x20 or 0x7f escaped
 *   (\" \\ \u00XX). Parsers accept \", \\, \/ and \u0000-\u00ff (display)
 *   or \u0000-\u007f (text); nothing else.
 *
 * Inbound, published by consoles (not retained; QoS 0 or 1):
 *   <prefix>/console/<id>/button      {"button":<n>,"state":"down"|"up"}
 *   <prefix>/console/<id>/hookswitch  {"device":<dev>,"mode":<hsmode>}
 *   members in any order, each exactly once.
 *
 * Pure functions: reentrant, any thread, no allocation; parsers read no
 * byte past @len and reject anything else with -EINVAL.
 */
#ifndef TAPIQ_BACKENDS_MQTT_WIRE_STATE_H
#define TAPIQ_BACKENDS_MQTT_WIRE_STATE_H

#include <stddef.h>
#include <stdint.h>

#define TAPIQ_MQTT_DISPLAY_MAX 4096u /* rows x columns */
#define TAPIQ_MQTT_TEXT_MAX 255u     /* bytes of a button text */
#define TAPIQ_MQTT_DATA_AREAS 64u
#define TAPIQ_MQTT_DEVSPEC_MAX 8u    /* device-specific entries per message */

enum {
    TAPIQ_MQTT_HAS_DISPLAY = 1u << 0,
    TAPIQ_MQTT_HAS_RING = 1u << 1,
    TAPIQ_MQTT_HAS_HOOKSWITCH = 1u << 2, /* hs_devs: the devices */
    TAPIQ_MQTT_HAS_BUTTONS = 1u << 3,
    TAPIQ_MQTT_HAS_DATA = 1u << 4,
};

struct tapiq_mqtt_button {
    /* PHONEBUTTONMODE_* (one bit; DUMMY entries are not encoded, never
     * parsed), PHONEBUTTONFUNCTION_* */
    uint32_t id, mode, function;
    uint32_t text_len;
    char text[TAPIQ_MQTT_TEXT_MAX];
};

/* A console's attributes besides its lamps. Pointers are storage the owner
 * provides: display (display_cap bytes), buttons (buttons_cap), data
 * (data_cap bytes, areas one after another). */
struct tapiq_mqtt_attrs {
    uint32_t has; /* TAPIQ_MQTT_HAS_* */
    uint32_t rows, cols;
    uint8_t *display;
    size_t display_cap;
    uint32_t ring_mode, ring_volume;
    uint32_t hs_devs, volume_devs, gain_devs; /* PHONEHOOKSWITCHDEV_* bits */
    uint32_t hs_mode[3], volume[3], gain[3];  /* index: handset 0, speaker 1, headset 2 */
    uint32_t nbuttons;
    struct tapiq_mqtt_button *buttons;
    size_t buttons_cap;
    uint32_t ndata;
    uint32_t data_size[TAPIQ_MQTT_DATA_AREAS];
    uint8_t *data;
    size_t data_cap;
};

/* One device-specific request's bytes (encode), or where they were parsed to. */
struct tapiq_mqtt_devspec {
    const uint8_t *data;
    uint32_t size;
};

/* Bytes the attribute members of @a (and @nds device-specific entries of
 * @ds_bytes bytes in all) take at most when encoded. */
size_t tapiq_mqtt_attrs_max(const struct tapiq_mqtt_attrs *a, uint32_t nds, size_t ds_bytes);

/* tapiq_mqtt_encode_state - the version 2 state message into @buf (capacity
 * @cap, NUL-terminated when room remains); @a NULL: lamps only.
 * Returns: the length, -ENOSPC when @cap is too small (room for
 * TAPIQ_MQTT_LAMPS_MAX(nlamps) + tapiq_mqtt_attrs_max() + 1 always
 * suffices), -EINVAL for a mode without a name or an attribute out of range. */
int tapiq_mqtt_encode_state(char *buf, size_t cap, uint32_t console, uint64_t seq,
                            const uint32_t *modes, uint32_t nlamps,
                            const struct tapiq_mqtt_attrs *a, const struct tapiq_mqtt_devspec *ds,
                            uint32_t nds);

/* tapiq_mqtt_parse_state - parse a state message (version 1 or 2).
 * @modes: up to @cap lamps (-ENOSPC beyond); @a (may be NULL: attributes
 * are then only checked) receives the attributes into its storage, -ENOSPC
 * when it is too small; @ds/@nds (may be NULL) up to TAPIQ_MQTT_DEVSPEC_MAX
 * device-specific entries, their bytes in @dsbuf (@dscap bytes).
 * *@version is 1 or 2. Returns 0, -EINVAL, -ENOSPC. */
int tapiq_mqtt_parse_state(const void *payload, size_t len, uint32_t *version, uint32_t *console,
                           uint64_t *seq, uint32_t *modes, uint32_t cap, uint32_t *nlamps,
                           struct tapiq_mqtt_attrs *a, struct tapiq_mqtt_devspec *ds,
                           uint32_t *nds, uint8_t *dsbuf, size_t dscap);

/* What a console published (tapiq_mqtt_parse_inbound). */
enum tapiq_mqtt_in_kind {
    TAPIQ_MQTT_IN_ONLINE = 1, /* a: 1 online, 0 offline */
    TAPIQ_MQTT_IN_BUTTON,     /* a: button id, b: PHONEBUTTONSTATE_DOWN or _UP */
    TAPIQ_MQTT_IN_HOOKSWITCH, /* a: one PHONEHOOKSWITCHDEV_* bit, b: one PHONEHOOKSWITCHMODE_* bit */
};

struct tapiq_mqtt_inbound {
    uint32_t kind, device, a, b;
};

/* tapiq_mqtt_parse_inbound - a message on <prefix>/console/<id>/online,
 * /button or /hookswitch (@topic NUL-terminated, <id> decimal without
 * leading zeros, below @ndev). Returns 0; -EINVAL when malformed (another
 * topic, a bad payload); -ERANGE when the id is not below @ndev. */
int tapiq_mqtt_parse_inbound(const char *prefix, const char *topic, const void *payload,
                             size_t len, uint32_t ndev, struct tapiq_mqtt_inbound *out);

/* The wire names: hookswitch devices and modes, button modes (one bit each;
 * NULL / 0 when there is none). */
const char *tapiq_mqtt_hsdev_name(uint32_t dev);
const char *tapiq_mqtt_hsmode_name(uint32_t mode);
const char *tapiq_mqtt_bmode_name(uint32_t mode);
uint32_t tapiq_mqtt_hsmode_parse(const char *s, size_t len);

#endif /* TAPIQ_BACKENDS_MQTT_WIRE_STATE_H */
