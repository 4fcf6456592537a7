/* test_wire - the wire format: encode/parse round trips, and the replay of
 * the fuzz corpus (backends/mqtt/tests/corpus). A corpus file named ok-*
 * must parse, bad-* must be rejected, any other name must only not crash.
 * argv: corpus directory */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapiq/tapi.h>

#include "backends/mqtt/wire.h"
#include "tests/check.h"

int tapiq_fuzz_wire_one(const uint8_t *data, size_t size);
void tapiq_test_wire_state(void);

static void unit(void)
{
    uint32_t modes[8], out[8], console, n, dev;
    uint64_t seq;
    char buf[256];
    int len, online;
    const char *want = "{\"v\":2,\"console\":7,\"seq\":1700000000000001,\"lamps\":[\"dummy\",\"off\","
                       "\"steady\",\"wink\",\"flash\",\"flutter\",\"brokenflutter\",\"unknown\"]}";

    for (int i = 0; i < 8; i++)
        modes[i] = 1u << i;
    len = tapiq_mqtt_encode_lamps(buf, sizeof(buf), 7, 1700000000000001ull, modes, 8);
    TQ_CHECKF(len == (int)strlen(want) && strcmp(buf, want) == 0, "encoded %s", buf);
    TQ_CHECKF(tapiq_mqtt_parse_lamps(buf, (size_t)len, &console, &seq, out, 8, &n) == 0, "parse");
    TQ_CHECKF(console == 7 && seq == 1700000000000001ull && n == 8 &&
                  memcmp(out, modes, sizeof(out)) == 0,
              "round trip");
    TQ_CHECKF(tapiq_mqtt_parse_lamps(buf, (size_t)len, &console, &seq, out, 7, &n) == -ENOSPC,
              "too many lamps");
    TQ_CHECKF(tapiq_mqtt_parse_lamps(buf, (size_t)len - 1, &console, &seq, out, 8, &n) == -EINVAL,
              "truncated");
    TQ_CHECKF(tapiq_mqtt_encode_lamps(buf, 20, 7, 1, modes, 8) == -ENOSPC, "small buffer");
    modes[0] = 3;
    TQ_CHECKF(tapiq_mqtt_encode_lamps(buf, sizeof(buf), 7, 1, modes, 8) == -EINVAL, "two bits");
    TQ_CHECKF(tapiq_mqtt_encode_lamps(buf, sizeof(buf), 0, 0, modes, 0) > 0 &&
                  strcmp(buf, "{\"v\":2,\"console\":0,\"seq\":0,\"lamps\":[]}") == 0,
              "no lamps: %s", buf);

    TQ_CHECKF(tapiq_mqtt_parse_presence("p/q", "p/q/console/3/online", "0", 1, 4, &dev,
                                        &online) == 0 &&
                  dev == 3 && online == 0,
              "presence 0");
    TQ_CHECKF(tapiq_mqtt_parse_presence("p/q", "p/q/console/3/online", "", 0, 4, &dev,
                                        &online) == 0 &&
                  online == 1,
              "cleared presence counts as online");
    TQ_CHECKF(tapiq_mqtt_parse_presence("p/q", "p/q/console/4/online", "1", 1, 4, &dev, &online) ==
                  -ERANGE,
              "id out of range");
    TQ_CHECKF(tapiq_mqtt_parse_presence("p/q", "p/q/console/3/onlinex", "1", 1, 4, &dev, &online) ==
                  -EINVAL,
              "trailing topic");
    TQ_CHECKF(tapiq_mqtt_parse_presence("p/q", "p/q/console//online", "1", 1, 4, &dev, &online) ==
                  -EINVAL,
              "empty id");
}

static int replay(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    TQ_CHECKF(d != NULL, "cannot open %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        FILE *f;
        uint8_t *data;
        long size;
        int rc;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        TQ_CHECKF(f != NULL, "open %s", path);
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fseek(f, 0, SEEK_SET);
        data = malloc(size > 0 ? (size_t)size : 1);
        TQ_CHECKF(data && fread(data, 1, (size_t)size, f) == (size_t)size, "read %s", path);
        fclose(f);
        rc = tapiq_fuzz_wire_one(data, (size_t)size);
        if (strncmp(e->d_name, "ok-", 3) == 0)
            TQ_CHECKF(rc == 0, "%s: expected to parse, got %d", e->d_name, rc);
        else if (strncmp(e->d_name, "bad-", 4) == 0)
            TQ_CHECKF(rc != 0, "%s: expected to be rejected", e->d_name);
        free(data);
        files++;
    }
    closedir(d);
    return files;
}

int main(int argc, char **argv)
{
    int n;
    unit();
    tapiq_test_wire_state();
    if (argc < 2)
        return 0;
    n = replay(argv[1]);
    TQ_CHECKF(n > 0, "empty corpus");
    printf("wire: unit checks and %d corpus files ok\n", n);
    return 0;
}
