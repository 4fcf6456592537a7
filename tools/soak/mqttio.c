/* tools/soak/mqttio.c - a short-lived libmosquitto client on the broker's plain listener:
 * the newest lamps message of every console (the wire format of the README, parsed here
 * on its own), and console presence. Main thread only. */
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "soak.h"

void soak_mqtt_client_init(void)
{
    mosquitto_lib_init();
}

void soak_mqtt_client_cleanup(void)
{
    mosquitto_lib_cleanup();
}

/* ---------------------------------------------------- the wire format */

struct cursor {
    const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static bool eat(struct cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A string without escapes (the wire format has none): [*s, *s + *n). */
static bool get_string(struct cursor *c, const char **s, size_t *n)
{
    if (!eat(c, '"'))
        return false;
    *s = c->p;
    while (c->p < c->end && *c->p != '"' && *c->p != '\\')
        c->p++;
    if (c->p == c->end || *c->p != '"')
        return false;
    *n = (size_t)(c->p - *s);
    c->p++;
    return true;
}

static bool get_uint(struct cursor *c, uint64_t *v)
{
    skip_ws(c);
    if (c->p == c->end || *c->p < '0' || *c->p > '9')
        return false;
    *v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (*v > (UINT64_MAX - 9) / 10)
            return false;
        *v = *v * 10 + (uint64_t)(*c->p++ - '0');
    }
    return true;
}

static uint32_t mode_of(const char *s, size_t n)
{
    static const char *names[] = {"dummy", "off", "steady", "wink", "flash", "flutter",
                                  "brokenflutter", "unknown"};
    for (unsigned i = 0; i < 8; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
            return (uint32_t)PHONELAMPMODE_DUMMY << i;
    return 0;
}

/* {"v":2,"console":<id>,"seq":<n>,"lamps":["off",...]} in any key order ("v"
 * 1 or 2, or absent; the soak's consoles have lamps only, so a version 2
 * message has no attribute member here). */
static bool parse_lamps(const char *p, size_t len, uint32_t *console, uint64_t *seq,
                        uint32_t *modes, unsigned max, unsigned *nlamps)
{
    struct cursor c = {p, p + len};
    bool have_c = false, have_s = false, have_l = false;
    if (!eat(&c, '{'))
        return false;
    do {
        const char *k;
        size_t kn;
        uint64_t v;
        if (!get_string(&c, &k, &kn) || !eat(&c, ':'))
            return false;
        if (kn == 7 && memcmp(k, "console", 7) == 0) {
            if (!get_uint(&c, &v) || v > UINT32_MAX)
                return false;
            *console = (uint32_t)v;
            have_c = true;
        } else if (kn == 3 && memcmp(k, "seq", 3) == 0) {
            if (!get_uint(&c, seq))
                return false;
            have_s = true;
        } else if (kn == 1 && k[0] == 'v') {
            if (!get_uint(&c, &v) || v < 1 || v > 2)
                return false;
        } else if (kn == 5 && memcmp(k, "lamps", 5) == 0) {
            *nlamps = 0;
            if (!eat(&c, '['))
                return false;
            if (!eat(&c, ']')) {
                do {
                    const char *s;
                    size_t n;
                    if (!get_string(&c, &s, &n) || *nlamps >= max)
                        return false;
                    modes[(*nlamps)++] = mode_of(s, n);
                } while (eat(&c, ','));
                if (!eat(&c, ']'))
                    return false;
            }
            have_l = true;
        } else {
            return false;
        }
    } while (eat(&c, ','));
    if (!eat(&c, '}'))
        return false;
    skip_ws(&c);
    return c.p == c.end && have_c && have_s && have_l;
}

/* ---------------------------------------------------------- reading state */

struct reader {
    const char *prefix;
    unsigned devices, lamps;
    uint32_t *modes;
    uint8_t *seen;
    uint64_t *seq;
    uint32_t *tmp;
    int got;
    int connected;  /* 1 CONNACK accepted, -1 refused */
    bool subscribed;
    uint64_t last_msg;
    int published;
};

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    ((struct reader *)ud)->connected = rc == 0 ? 1 : -1;
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *qos)
{
    (void)m;
    (void)mid;
    (void)n;
    (void)qos;
    ((struct reader *)ud)->subscribed = true;
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m;
    (void)mid;
    ((struct reader *)ud)->published = 1;
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    struct reader *r = ud;
    uint32_t console = 0;
    uint64_t seq = 0;
    unsigned n = 0;
    (void)m;
    r->last_msg = soak_now_ns();
    if (!parse_lamps(msg->payload, (size_t)msg->payloadlen, &console, &seq, r->tmp, 4096, &n))
        return;
    if (console >= r->devices || n != r->lamps)
        return;
    if (r->seen[console] && seq < r->seq[console])
        return; /* an older message delivered late */
    if (!r->seen[console])
        r->got++;
    r->seen[console] = 1;
    r->seq[console] = seq;
    memcpy(r->modes + (size_t)console * r->lamps, r->tmp, sizeof(uint32_t) * r->lamps);
}

static struct mosquitto *client(struct soak_broker *b, struct reader *r)
{
    struct mosquitto *m = mosquitto_new(NULL, true, r);
    if (!m)
        return NULL;
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_publish_callback_set(m, on_publish);
    if (mosquitto_connect(m, "127.0.0.1", soak_broker_port(b), 10) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(m);
        return NULL;
    }
    uint64_t until = soak_now_ns() + 3000000000ull;
    while (r->connected == 0 && soak_now_ns() < until)
        if (mosquitto_loop(m, 50, 1) != MOSQ_ERR_SUCCESS)
            break;
    if (r->connected != 1) {
        mosquitto_destroy(m);
        return NULL;
    }
    return m;
}

int soak_broker_read_lamps(struct soak_broker *b, const char *prefix, unsigned devices,
                           unsigned lamps, uint32_t *modes, uint8_t *seen)
{
    struct reader r = {.prefix = prefix, .devices = devices, .lamps = lamps, .modes = modes,
                       .seen = seen};
    char topic[256];
    int rc = -1;
    r.seq = calloc(devices, sizeof(*r.seq));
    r.tmp = malloc(sizeof(uint32_t) * 4096);
    memset(seen, 0, devices);
    struct mosquitto *m = r.seq && r.tmp ? client(b, &r) : NULL;
    if (m) {
        snprintf(topic, sizeof(topic), "%s/console/+/lamps", prefix);
        if (mosquitto_subscribe(m, NULL, topic, 1) == MOSQ_ERR_SUCCESS) {
            uint64_t start = soak_now_ns();
            r.last_msg = start;
            /* Retained messages follow the SUBACK at once; stop when every console came or
             * nothing came for half a second. */
            for (;;) {
                uint64_t now = soak_now_ns();
                if ((unsigned)r.got == devices || now - start > 10000000000ull ||
                    (r.subscribed && now - r.last_msg > 500000000ull))
                    break;
                if (mosquitto_loop(m, 50, 1) != MOSQ_ERR_SUCCESS)
                    break;
            }
            rc = r.subscribed ? r.got : -1;
        }
        mosquitto_disconnect(m);
        mosquitto_destroy(m);
    }
    free(r.seq);
    free(r.tmp);
    return rc;
}

int soak_broker_presence(struct soak_broker *b, const char *prefix, unsigned console, int online)
{
    struct reader r = {0};
    char topic[256];
    int rc = -1;
    struct mosquitto *m = client(b, &r);
    if (!m)
        return -1;
    snprintf(topic, sizeof(topic), "%s/console/%u/online", prefix, console);
    const char *payload = online > 0 ? "1" : "0";
    if (mosquitto_publish(m, NULL, topic, online < 0 ? 0 : 1, online < 0 ? NULL : payload, 1,
                          true) == MOSQ_ERR_SUCCESS) {
        uint64_t until = soak_now_ns() + 3000000000ull;
        while (!r.published && soak_now_ns() < until)
            if (mosquitto_loop(m, 50, 1) != MOSQ_ERR_SUCCESS)
                break;
        rc = r.published ? 0 : -1;
    }
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    return rc;
}
