/* fuzz_wire - libFuzzer target for the mqtt backend's inbound parsers.
 *
 * Input: byte 0 selects the parser. Even: a presence message, the rest is
 * "<topic>\n<payload>" (the topic ends at the first '\n' or NUL), checked
 * against prefix "tapiq" and 100 consoles. Odd: the rest is a lamps message.
 * Properties checked beyond "no crash": a parsed presence names a console
 * below 100 and online is 0 or 1; a parsed lamps message re-encodes and
 * parses back to the same console, seq and lamps.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/mqtt/wire.h"

int tapiq_fuzz_wire_one(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int tapiq_fuzz_wire_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return -1;
    if ((data[0] & 1) == 0) {
        char topic[256];
        size_t tl = 0;
        const uint8_t *p = data + 1, *end = data + size;
        uint32_t dev = 12345;
        int online = -1, rc;
        while (p + tl < end && p[tl] != '\n' && p[tl] != '\0' && tl < sizeof(topic) - 1)
            tl++;
        memcpy(topic, p, tl);
        topic[tl] = '\0';
        p += tl;
        if (p < end)
            p++; /* the separator */
        rc = tapiq_mqtt_parse_presence("tapiq", topic, p, (size_t)(end - p), 100, &dev, &online);
        if (rc == 0 && (dev >= 100 || (online != 0 && online != 1)))
            abort();
        return rc;
    } else {
        static uint32_t modes[4096], again[4096];
        static char buf[TAPIQ_MQTT_LAMPS_MAX(4096) + 1];
        uint32_t console, n, c2, n2;
        uint64_t seq, s2;
        int rc = tapiq_mqtt_parse_lamps(data + 1, size - 1, &console, &seq, modes, 4096, &n);
        if (rc == 0) {
            int len = tapiq_mqtt_encode_lamps(buf, sizeof(buf), console, seq, modes, n);
            if (len < 0 ||
                tapiq_mqtt_parse_lamps(buf, (size_t)len, &c2, &s2, again, 4096, &n2) != 0 ||
                c2 != console || s2 != seq || n2 != n ||
                memcmp(modes, again, n * sizeof(uint32_t)) != 0)
                abort();
        }
        return rc;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tapiq_fuzz_wire_one(data, size);
    return 0;
}
