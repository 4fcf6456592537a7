/* backends/mqtt/wire.c - encode and parse the MQTT wire format; see wire.h. */
#include "backends/mqtt/wire.h"
#include "backends/mqtt/wire_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
    uint32_t mode;
    const char *name;
} mode_names[] = {
    {0x01, "dummy"}, {0x02, "off"},     {0x04, "steady"},        {0x08, "wink"},
    {0x10, "flash"}, {0x20, "flutter"}, {0x40, "brokenflutter"}, {0x80, "unknown"},
};

const char *tapiq_mqtt_mode_name(uint32_t mode)
{
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
        if (mode_names[i].mode == mode)
            return mode_names[i].name;
    return NULL;
}

uint32_t tapiq_mqtt_mode_parse(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
        if (strlen(mode_names[i].name) == len && memcmp(mode_names[i].name, s, len) == 0)
            return mode_names[i].mode;
    return 0;
}

int tapiq_mqtt_encode_lamps(char *buf, size_t cap, uint32_t console, uint64_t seq,
                            const uint32_t *modes, uint32_t nlamps)
{
    return tapiq_mqtt_encode_state(buf, cap, console, seq, modes, nlamps, NULL, NULL, 0);
}

int tapiq_mqtt_parse_lamps(const void *payload, size_t len, uint32_t *console, uint64_t *seq,
                           uint32_t *modes, uint32_t cap, uint32_t *nlamps)
{
    uint32_t version;
    return tapiq_mqtt_parse_state(payload, len, &version, console, seq, modes, cap, nlamps, NULL,
                                  NULL, NULL, NULL, 0);
}

int tapiq_mqtt_parse_presence(const char *prefix, const char *topic, const void *payload,
                              size_t len, uint32_t ndev, uint32_t *device, int *online)
{
    struct tapiq_mqtt_inbound in;
    int rc = tapiq_mqtt_parse_inbound(prefix, topic, payload, len, ndev, &in);
    if (rc == 0 && in.kind != TAPIQ_MQTT_IN_ONLINE)
        return -EINVAL;
    if (rc == 0) {
        *device = in.device;
        *online = (int)in.a;
    }
    return rc;
}
