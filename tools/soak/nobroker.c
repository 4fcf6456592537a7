/* tools/soak/nobroker.c - stands in for broker.c when libmosquitto is not installed: backend
 * mqtt is then skipped (tapiq itself has no mqtt backend either). */
#include "soak.h"

int soak_broker_setup(struct soak_broker **out, const struct soak_opts *o, bool want_tls)
{
    (void)o;
    (void)want_tls;
    *out = NULL;
    printf("tapiq-soak: skipped: built without libmosquitto\n");
    return 77;
}

bool soak_broker_has_tls(const struct soak_broker *b)
{
    (void)b;
    return false;
}

int soak_broker_port(const struct soak_broker *b)
{
    (void)b;
    return -1;
}

void soak_broker_config(const struct soak_broker *b, bool tls, char *buf, size_t len)
{
    (void)b;
    (void)tls;
    if (len)
        buf[0] = 0;
}

int soak_broker_start(struct soak_broker *b)
{
    (void)b;
    return -1;
}

void soak_broker_kill(struct soak_broker *b)
{
    (void)b;
}

void soak_broker_pause(struct soak_broker *b)
{
    (void)b;
}

void soak_broker_resume(struct soak_broker *b)
{
    (void)b;
}

void soak_broker_stop(struct soak_broker *b)
{
    (void)b;
}

bool soak_broker_running(const struct soak_broker *b)
{
    (void)b;
    return false;
}

int soak_broker_read_lamps(struct soak_broker *b, const char *prefix, unsigned devices,
                           unsigned lamps, uint32_t *modes, uint8_t *seen)
{
    (void)b;
    (void)prefix;
    (void)devices;
    (void)lamps;
    (void)modes;
    (void)seen;
    return -1;
}

int soak_broker_presence(struct soak_broker *b, const char *prefix, unsigned console, int online)
{
    (void)b;
    (void)prefix;
    (void)console;
    (void)online;
    return -1;
}

void soak_broker_free(struct soak_broker *b, bool keep)
{
    (void)b;
    (void)keep;
}
