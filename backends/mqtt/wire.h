/* backends/mqtt/wire.h - the MQTT wire format of tapiq (encode and parse).
 *
 * Topics (prefix default "tapiq"):
 *   <prefix>/console/<id>/lamps   retained, QoS 1, published by tapiq:
 *       {"v":2,"console":<id>,"seq":<n>,"lamps":["off","steady",...],...}
 *       one entry per lamp, lower-case PHONELAMPMODE_* names; seq grows with
 *       every publish for that console, also across restarts of tapiq; the
 *       console's other attributes follow (wire_state.h).
 *   <prefix>/console/<id>/button, /hookswitch  published by consoles:
 *       button presses and hookswitch changes (wire_state.h).
 *   <prefix>/console/<id>/online  retained, published by consoles: "1", and
 *       "0" as their MQTT last will. An empty retained message (a cleared
 *       retained topic) counts as "1": a console that has published nothing
 *       counts as connected.
 *
 * Every function here is pure (no global state): reentrant, any thread,
 * never allocates. Parsers accept exactly the grammar documented at each
 * function and reject everything else with -EINVAL, reading no byte past
 * @len (payloads are not NUL-terminated).
 */
#ifndef TAPIQ_BACKENDS_MQTT_WIRE_H
#define TAPIQ_BACKENDS_MQTT_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Longest encoded lamps message for @nlamps lamps (bytes, without a NUL). */
#define TAPIQ_MQTT_LAMPS_MAX(nlamps) (72u + 16u * (size_t)(nlamps))

/* The highest console id a topic may carry (decimal, at most 7 digits). */
#define TAPIQ_MQTT_MAX_ID 9999999u

/* tapiq_mqtt_mode_name - the lower-case name of one PHONELAMPMODE_* bit
 * ("dummy", "off", "steady", "wink", "flash", "flutter", "brokenflutter",
 * "unknown"), or NULL when @mode is not exactly one of them. */
const char *tapiq_mqtt_mode_name(uint32_t mode);

/* tapiq_mqtt_mode_parse - the PHONELAMPMODE_* bit named by @s[0..len), or 0. */
uint32_t tapiq_mqtt_mode_parse(const char *s, size_t len);

/* tapiq_mqtt_encode_lamps - write the state message (version 2) of a
 * console without other attributes, console @console, into
 * @buf (capacity @cap, NUL-terminated when room remains).
 * Returns: the length (without the NUL), or -ENOSPC when @cap is too small,
 * -EINVAL when a mode has no name. */
int tapiq_mqtt_encode_lamps(char *buf, size_t cap, uint32_t console, uint64_t seq,
                            const uint32_t *modes, uint32_t nlamps);

/* tapiq_mqtt_parse_lamps - parse a lamps message.
 * Grammar: a JSON object with the members "console" (unsigned integer),
 * "seq" (unsigned integer below 2^63) and "lamps" (array of mode names), in
 * any order, each exactly once; optionally "v" (1 or 2) and, in version 2,
 * the attribute members of wire_state.h (checked, not returned); other
 * members are rejected. Blanks (space, tab, CR, LF) are allowed between
 * tokens. Mode names have no escapes.
 * @modes receives up to @cap entries; *@nlamps the number of entries.
 * Returns: 0; -EINVAL when malformed; -ENOSPC when more than @cap lamps. */
int tapiq_mqtt_parse_lamps(const void *payload, size_t len, uint32_t *console, uint64_t *seq,
                           uint32_t *modes, uint32_t cap, uint32_t *nlamps);

/* tapiq_mqtt_parse_presence - parse one presence message.
 * (tapiq_mqtt_parse_inbound restricted to the online topic.)
 * @topic (NUL-terminated) must be exactly "<prefix>/console/<id>/online"
 * with <id> decimal without leading zeros, < @ndev. @payload is "1"
 * (online), "0" (offline) or empty (online: a cleared retained message).
 * Returns: 0 with *@device and *@online set; -EINVAL when malformed; -ERANGE
 * when the id is not below @ndev. */
int tapiq_mqtt_parse_presence(const char *prefix, const char *topic, const void *payload,
                              size_t len, uint32_t ndev, uint32_t *device, int *online);

#endif /* TAPIQ_BACKENDS_MQTT_WIRE_H */
