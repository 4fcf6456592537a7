/* Configuration grammar: defaults, every key, ranges, blanks, and every kind
 * of error with a message that names the culprit. */
#include <errno.h>
#include <string.h>

#include "core/config.h"
#include "check.h"

static void ok(const char *text, struct tapiq_config *c)
{
    char err[256];
    int r = tapiq_config_parse(text, c, err, sizeof(err));
    if (r)
        fprintf(stderr, "'%s': %s\n", text, err);
    TQ_CHECK(r == 0);
    TQ_CHECK(err[0] == '\0');
}

static void bad(const char *text, const char *needle)
{
    struct tapiq_config c;
    char err[256];
    TQ_CHECK(tapiq_config_parse(text, &c, err, sizeof(err)) == -EINVAL);
    if (!strstr(err, needle))
        fprintf(stderr, "'%s': message '%s' lacks '%s'\n", text, err, needle);
    TQ_CHECK(strstr(err, needle) != NULL);
}

int main(void)
{
    struct tapiq_config c;
    ok(NULL, &c);
    TQ_CHECK(c.devices == 16 && c.lamps == 16 && c.workers == 2 && c.queue == 1024 &&
             c.threads == 64 && c.events == 65536 && c.nap_us == 100);
    TQ_CHECK(strcmp(c.backend->name, "mem") == 0);
    tapiq_config_free(&c);
    ok("", &c);
    tapiq_config_free(&c);
    ok("backend=mem,devices=500,lamps=64,workers=3,queue=512,events=77,threads=9", &c);
    TQ_CHECK(c.devices == 500 && c.lamps == 64 && c.workers == 3 && c.queue == 512 &&
             c.events == 77 && c.threads == 9);
    tapiq_config_free(&c);
    ok(" devices = 3 , lamps=0 ,fail_ppm=1000000,latency_us=0,offline=2", &c);
    TQ_CHECK(c.devices == 3 && c.lamps == 0);
    tapiq_config_free(&c);
    ok("queue=32768,devices=1048576,lamps=4096,workers=64,threads=256", &c);
    TQ_CHECK(c.queue == 32768 && c.threads == 256);
    tapiq_config_free(&c);
    ok("nap_us=0", &c);
    TQ_CHECK(c.nap_us == 0);
    tapiq_config_free(&c);
    ok("nap_us=1000", &c);
    TQ_CHECK(c.nap_us == 1000);
    tapiq_config_free(&c);

    bad("devices=abc", "devices");
    bad("devices=", "devices");
    bad("devices=0", "devices");
    bad("devices=-1", "devices");
    bad("devices=4294967296", "devices");
    bad("devices=1048577", "devices");
    bad("lamps=4097", "lamps");
    bad("workers=0", "workers");
    bad("queue=32769", "queue");
    bad("queue=0", "queue");
    bad("threads=0", "threads");
    bad("threads=257", "threads");
    bad("nap_us=1001", "nap_us");
    bad("nap_us=-1", "nap_us");
    bad("nap_us=", "nap_us");
    bad("fail_ppm=1000001", "fail_ppm");
    bad("colour=blue", "colour");
    bad("devices=1,devices=2", "twice");
    bad("devices=1,,lamps=2", "key=value");
    bad("devices", "devices");
    bad("=5", "empty key");
    bad("backend=carrier-pigeon", "carrier-pigeon");
    bad("ring=mutex", "ring");       /* removed in v2 */
    bad("mailbox=128", "mailbox");   /* removed in v2 */
    bad("devices=1,", "key=value");
    /* A long list is refused as fast as a short one (the duplicate check is
     * linear): 100,000 distinct keys, then the same with a repeat at the end. */
    {
        size_t n = 100000, len = n * 12 + 16, off = 0;
        char *big = malloc(len);
        TQ_CHECK(big != NULL);
        for (size_t i = 0; i < n; i++)
            off += (size_t)snprintf(big + off, len - off, "%sk%zu=1", i ? "," : "", i);
        bad(big, "'k0'");
        snprintf(big + off, len - off, ",k77=2");
        bad(big, "'k77' given twice"); /* syntax and repeats are found first */
        free(big);
    }
    bad("devices=1,lamps=2,devices=3", "given twice");
    bad("devices=4,offline=5", "offline=5 is more than devices=4"); /* at configure time */
    printf("config: ok\n");
    return 0;
}
