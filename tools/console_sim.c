/* tools/console_sim.c - operator consoles on an MQTT broker, for tapiq's mqtt backend.
 *
 * Simulates N consoles. Each has its own MQTT connection whose last will is a
 * retained "0" on <prefix>/console/<id>/online; once connected it publishes a
 * retained "1" there and subscribes (QoS 1) to <prefix>/console/<id>/lamps,
 * keeping the newest state it receives (by seq). The wire format is described
 * in backends/mqtt/wire.h and the README.
 *
 *   tapiq-console-sim --url mqtt://127.0.0.1:1883 --consoles 100
 *
 * Signals: SIGUSR1 prints the state (--print) and rewrites --state-file;
 * SIGINT / SIGTERM publish "0" for every console, disconnect, write the state
 * and exit 0. SIGKILL leaves the broker to publish the last wills.
 * --state-file gets one line per console in the wire format (seq 0 and no
 * lamps for a console that has received nothing). --ready-file is created
 * once every console is connected and subscribed.
 *
 * The operator: each console keeps its display and buttons from the state
 * (--print shows them). --press ID:BUTTON and --hookswitch ID:DEV:MODE
 * (repeatable; DEV handset, speaker or headset, MODE onhook, mic, speaker or
 * micspeaker) are played in the order given once every console is
 * subscribed: a press publishes DOWN then UP on <prefix>/console/ID/button.
 * --presses R presses R buttons a second over all consoles (a random
 * console that shows buttons, a random one of its buttons).
 * One thread polls every connection; a lost connection is retried every 0.5 s.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "backends/mqtt/wire.h"
#include "backends/mqtt/wire_state.h"

#define SIM_MAX_LAMPS 4096u
#define SIM_MAX_SCRIPT 256

struct console {
    struct mosquitto *m;
    uint32_t id;
    int connected;
    int subscribed;
    uint64_t next_try_ms;
    uint64_t resub_ms;   /* a refused subscription is tried again then (0: none) */
    uint64_t seq;
    uint32_t nlamps;
    uint32_t *lamps;
    uint64_t received, stale, malformed;
    uint32_t rows, cols, nbuttons;
    uint8_t *display;    /* rows x cols bytes (malloc) */
    uint16_t *buttons;   /* ids of the buttons the state lists (malloc) */
};

/* A scripted action: a press (dev 0) or a hookswitch change. */
struct action {
    uint32_t id, button, dev, mode;
};

static struct {
    const char *host;
    int port;
    const char *prefix;
    uint32_t n, first, lamps;
    const char *state_file, *ready_file;
    int print, verbose;
    double presses;
    struct action script[SIM_MAX_SCRIPT];
    unsigned nscript;
} opt = {"127.0.0.1", 1883, "tapiq", 4, 0, 64, NULL, NULL, 0, 0, 0, {{0, 0, 0, 0}}, 0};
static uint64_t presses_made;

static struct console *cons;
static volatile sig_atomic_t sig_dump, sig_stop;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_signal(int s)
{
    if (s == SIGUSR1)
        sig_dump = 1;
    else
        sig_stop = 1;
}

static void topic_of(char *buf, size_t cap, uint32_t id, const char *leaf)
{
    snprintf(buf, cap, "%s/console/%" PRIu32 "/%s", opt.prefix, id, leaf);
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    struct console *c = obj;
    char t[300];
    if (rc != 0) {
        fprintf(stderr, "console-sim: console %u refused: %s\n", c->id, mosquitto_connack_string(rc));
        return;
    }
    c->connected = 1;
    topic_of(t, sizeof(t), c->id, "lamps");
    mosquitto_subscribe(m, NULL, t, 1);
    topic_of(t, sizeof(t), c->id, "online");
    mosquitto_publish(m, NULL, t, 1, "1", 1, true);
}

/* A broker may refuse a subscription for a while (a clustered broker
 * whose cluster is still forming answers SUBACK with a failure code): it is
 * tried again 250 ms later, for as long as the console stays connected. */
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
    struct console *c = obj;
    (void)m;
    (void)mid;
    if (n >= 1 && granted[0] <= 2) {
        c->subscribed = 1;
        return;
    }
    if (opt.verbose)
        fprintf(stderr, "console-sim: console %u: subscription refused, trying again\n", c->id);
    c->resub_ms = now_ms() + 250;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    struct console *c = obj;
    (void)m;
    (void)rc;
    c->connected = 0;
    c->subscribed = 0;
    c->resub_ms = 0; /* on_connect() subscribes again */
    c->next_try_ms = now_ms() + 500;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    struct console *c = obj;
    static uint32_t modes[SIM_MAX_LAMPS];
    static uint8_t display[TAPIQ_MQTT_DISPLAY_MAX];
    static struct tapiq_mqtt_button buttons[SIM_MAX_LAMPS];
    static uint8_t data[1 << 20];
    struct tapiq_mqtt_attrs a;
    uint32_t console, n, version;
    uint64_t seq;
    (void)m;
    memset(&a, 0, sizeof(a));
    a.display = display, a.display_cap = sizeof(display);
    a.buttons = buttons, a.buttons_cap = SIM_MAX_LAMPS;
    a.data = data, a.data_cap = sizeof(data);
    if (tapiq_mqtt_parse_state(msg->payload, msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0,
                               &version, &console, &seq, modes, SIM_MAX_LAMPS, &n, &a, NULL, NULL,
                               NULL, 0) != 0 ||
        console != c->id) {
        c->malformed++;
        return;
    }
    c->received++;
    if (c->seq && seq <= c->seq) {
        c->stale++; /* an older state delivered late: keep the newer one */
        return;
    }
    c->seq = seq;
    c->nlamps = n < opt.lamps ? n : opt.lamps;
    memcpy(c->lamps, modes, c->nlamps * sizeof(uint32_t));
    if ((size_t)a.rows * a.cols != (size_t)c->rows * c->cols) {
        free(c->display);
        c->display = a.rows ? malloc((size_t)a.rows * a.cols) : NULL;
        if (!c->display)
            a.rows = a.cols = 0;
    }
    c->rows = a.rows, c->cols = a.cols;
    if (c->rows)
        memcpy(c->display, display, (size_t)c->rows * c->cols);
    if (a.nbuttons != c->nbuttons) {
        free(c->buttons);
        c->buttons = a.nbuttons ? malloc(a.nbuttons * sizeof(uint16_t)) : NULL;
        if (!c->buttons)
            a.nbuttons = 0;
    }
    c->nbuttons = a.nbuttons;
    for (uint32_t i = 0; i < c->nbuttons; i++)
        c->buttons[i] = (uint16_t)buttons[i].id;
    if (opt.verbose)
        printf("console %u seq %" PRIu64 "\n", c->id, seq);
}

static int write_state(void)
{
    char tmp[4096], *buf;
    size_t cap = TAPIQ_MQTT_LAMPS_MAX(opt.lamps) + 1;
    FILE *f;
    if (!opt.state_file)
        return 0;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", opt.state_file) >= (int)sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    buf = malloc(cap);
    if (!f || !buf) {
        if (f)
            fclose(f);
        free(buf);
        return -1;
    }
    for (uint32_t i = 0; i < opt.n; i++) {
        struct console *c = &cons[i];
        if (tapiq_mqtt_encode_lamps(buf, cap, c->id, c->seq, c->lamps, c->nlamps) > 0)
            fprintf(f, "%s\n", buf);
    }
    free(buf);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, opt.state_file);
}

static void print_state(void)
{
    for (uint32_t i = 0; i < opt.n; i++) {
        struct console *c = &cons[i];
        printf("console %u %s seq %" PRIu64 " (%" PRIu64 " messages):", c->id,
               c->connected ? "online" : "offline", c->seq, c->received);
        for (uint32_t l = 0; l < c->nlamps; l++)
            printf(" %s", tapiq_mqtt_mode_name(c->lamps[l]));
        printf("\n");
        for (uint32_t r = 0; r < c->rows; r++) {
            printf("  display |");
            for (uint32_t k = 0; k < c->cols; k++) {
                uint8_t b = c->display[(size_t)r * c->cols + k];
                putchar(b >= 0x20 && b < 0x7f ? b : '?');
            }
            printf("|\n");
        }
        if (c->nbuttons) {
            printf("  buttons");
            for (uint32_t k = 0; k < c->nbuttons; k++)
                printf(" %u", (unsigned)c->buttons[k]);
            printf("\n");
        }
    }
    fflush(stdout);
}

static void press(struct console *c, uint32_t button)
{
    char t[300], msg[64];
    topic_of(t, sizeof(t), c->id, "button");
    snprintf(msg, sizeof(msg), "{\"button\":%" PRIu32 ",\"state\":\"down\"}", button);
    mosquitto_publish(c->m, NULL, t, (int)strlen(msg), msg, 1, false);
    snprintf(msg, sizeof(msg), "{\"button\":%" PRIu32 ",\"state\":\"up\"}", button);
    mosquitto_publish(c->m, NULL, t, (int)strlen(msg), msg, 1, false);
    presses_made++;
}

static void play_script(void)
{
    char t[300], msg[96];
    for (unsigned i = 0; i < opt.nscript; i++) {
        const struct action *a = &opt.script[i];
        struct console *c = &cons[a->id - opt.first];
        if (!a->dev) {
            press(c, a->button);
            continue;
        }
        topic_of(t, sizeof(t), c->id, "hookswitch");
        snprintf(msg, sizeof(msg), "{\"device\":\"%s\",\"mode\":\"%s\"}",
                 tapiq_mqtt_hsdev_name(a->dev), tapiq_mqtt_hsmode_name(a->mode));
        mosquitto_publish(c->m, NULL, t, (int)strlen(msg), msg, 1, false);
    }
}

/* --presses: a random button of a random console that shows buttons. */
static void press_random(uint64_t *rng)
{
    for (int tries = 0; tries < 8; tries++) {
        struct console *c;
        *rng ^= *rng >> 12, *rng ^= *rng << 25, *rng ^= *rng >> 27;
        c = &cons[(*rng * 0x2545F4914F6CDD1Dull >> 32) % opt.n];
        if (c->connected && c->nbuttons) {
            press(c, c->buttons[(*rng >> 40) % c->nbuttons]);
            return;
        }
    }
}

static int parse_action(const char *a, const char *v)
{
    struct action *x = &opt.script[opt.nscript];
    char dev[16], mode[16];
    if (opt.nscript == SIM_MAX_SCRIPT)
        return -1;
    memset(x, 0, sizeof(*x));
    if (strcmp(a, "--press") == 0) {
        if (sscanf(v, "%" SCNu32 ":%" SCNu32, &x->id, &x->button) != 2)
            return -1;
    } else if (sscanf(v, "%" SCNu32 ":%15[a-z]:%15[a-z]", &x->id, dev, mode) == 3) {
        for (uint32_t d = 1; d <= 4; d <<= 1)
            if (strcmp(tapiq_mqtt_hsdev_name(d), dev) == 0)
                x->dev = d;
        x->mode = tapiq_mqtt_hsmode_parse(mode, strlen(mode));
        if (!x->dev || !x->mode)
            return -1;
    } else {
        return -1;
    }
    opt.nscript++;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--print") == 0) {
            opt.print = 1;
            continue;
        }
        if (strcmp(a, "--verbose") == 0) {
            opt.verbose = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--url") == 0) {
            static char host[256];
            const char *h = strncmp(v, "mqtt://", 7) == 0 ? v + 7 : NULL;
            const char *colon;
            if (!h)
                return -1;
            colon = strrchr(h, ':');
            if (colon) {
                if ((size_t)(colon - h) >= sizeof(host))
                    return -1;
                memcpy(host, h, (size_t)(colon - h));
                host[colon - h] = '\0';
                opt.port = atoi(colon + 1);
            } else {
                snprintf(host, sizeof(host), "%s", h);
            }
            opt.host = host;
        } else if (strcmp(a, "--prefix") == 0) {
            opt.prefix = v;
        } else if (strcmp(a, "--consoles") == 0) {
            opt.n = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--first") == 0) {
            opt.first = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--lamps") == 0) {
            opt.lamps = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--state-file") == 0) {
            opt.state_file = v;
        } else if (strcmp(a, "--ready-file") == 0) {
            opt.ready_file = v;
        } else if (strcmp(a, "--press") == 0 || strcmp(a, "--hookswitch") == 0) {
            if (parse_action(a, v))
                return -1;
        } else if (strcmp(a, "--presses") == 0) {
            opt.presses = strtod(v, NULL);
            if (!(opt.presses >= 0 && opt.presses <= 100000))
                return -1;
        } else {
            return -1;
        }
    }
    if (opt.n == 0 || opt.n > 100000 || opt.lamps > SIM_MAX_LAMPS || opt.port <= 0 || opt.port > 65535)
        return -1;
    for (unsigned i = 0; i < opt.nscript; i++)
        if (opt.script[i].id < opt.first || opt.script[i].id - opt.first >= opt.n)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct pollfd *pfd;
    uint32_t *pidx;
    int ready = 0;
    char t[300];
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid(), t_ready = 0, pressed = 0;
    struct sigaction sa;

    if (parse_args(argc, argv)) {
        fprintf(stderr,
                "usage: tapiq-console-sim [--url mqtt://HOST:PORT] [--prefix P] [--consoles N]\n"
                "         [--first ID] [--lamps L] [--state-file PATH] [--ready-file PATH]\n"
                "         [--print] [--verbose] [--press ID:BUTTON]... [--hookswitch ID:DEV:MODE]...\n"
                "         [--presses R]\n"
                "  Simulates consoles FIRST .. FIRST+N-1 (default 4 consoles, 64 lamps,\n"
                "  mqtt://127.0.0.1:1883, prefix tapiq). SIGUSR1 prints / writes the state.\n"
                "  --press / --hookswitch play once every console is subscribed, in order;\n"
                "  --presses R presses R buttons a second (of consoles that show buttons).\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    mosquitto_lib_init();
    cons = calloc(opt.n, sizeof(*cons));
    pfd = calloc(opt.n, sizeof(*pfd));
    pidx = calloc(opt.n, sizeof(*pidx));
    if (!cons || !pfd || !pidx)
        return 1;
    for (uint32_t i = 0; i < opt.n; i++) {
        struct console *c = &cons[i];
        char cid[64];
        c->id = opt.first + i;
        c->lamps = calloc(opt.lamps ? opt.lamps : 1, sizeof(uint32_t));
        snprintf(cid, sizeof(cid), "sim-%ld-%u", (long)getpid(), c->id);
        c->m = mosquitto_new(cid, true, c);
        if (!c->lamps || !c->m)
            return 1;
        topic_of(t, sizeof(t), c->id, "online");
        mosquitto_will_set(c->m, t, 1, "0", 1, true);
        mosquitto_connect_callback_set(c->m, on_connect);
        mosquitto_disconnect_callback_set(c->m, on_disconnect);
        mosquitto_subscribe_callback_set(c->m, on_subscribe);
        mosquitto_message_callback_set(c->m, on_message);
        if (mosquitto_connect_async(c->m, opt.host, opt.port, 5) != MOSQ_ERR_SUCCESS)
            c->next_try_ms = now_ms() + 500;
    }

    while (!sig_stop) {
        uint32_t n = 0, nsub = 0;
        uint64_t now = now_ms();
        for (uint32_t i = 0; i < opt.n; i++) {
            struct console *c = &cons[i];
            int s = mosquitto_socket(c->m);
            if (s < 0) {
                if (now >= c->next_try_ms) {
                    c->next_try_ms = now + 500;
                    mosquitto_reconnect_async(c->m);
                }
                continue;
            }
            if (c->resub_ms && now >= c->resub_ms && c->connected && !c->subscribed) {
                char t[300];
                c->resub_ms = 0;
                topic_of(t, sizeof(t), c->id, "lamps");
                mosquitto_subscribe(c->m, NULL, t, 1);
            }
            nsub += c->subscribed;
            pfd[n].fd = s;
            pfd[n].events = POLLIN | (mosquitto_want_write(c->m) ? POLLOUT : 0);
            pidx[n++] = i;
        }
        if (!ready && nsub == opt.n) {
            FILE *f = opt.ready_file ? fopen(opt.ready_file, "w") : NULL;
            if (f) {
                fprintf(f, "%u\n", opt.n);
                fclose(f);
            }
            ready = 1;
            t_ready = now;
            play_script();
        }
        while (ready && opt.presses > 0 && pressed < (uint64_t)((now - t_ready) * opt.presses / 1000.0)) {
            press_random(&rng);
            pressed++;
        }
        if (poll(pfd, n, 50) < 0 && errno != EINTR)
            break;
        for (uint32_t k = 0; k < n; k++) {
            struct console *c = &cons[pidx[k]];
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
                mosquitto_loop_read(c->m, 100);
            if (mosquitto_socket(c->m) >= 0 && (pfd[k].revents & POLLOUT))
                mosquitto_loop_write(c->m, 100);
        }
        for (uint32_t i = 0; i < opt.n; i++)
            mosquitto_loop_misc(cons[i].m);
        if (sig_dump) {
            sig_dump = 0;
            if (opt.print)
                print_state();
            write_state();
        }
    }

    /* Orderly exit: say offline (no will is sent on a clean disconnect). */
    for (uint32_t i = 0; i < opt.n; i++) {
        struct console *c = &cons[i];
        if (c->connected) {
            topic_of(t, sizeof(t), c->id, "online");
            mosquitto_publish(c->m, NULL, t, 1, "0", 1, true);
            mosquitto_disconnect(c->m);
            mosquitto_loop_write(c->m, 10);
        }
    }
    if (opt.print) {
        print_state();
        printf("presses %" PRIu64 "\n", presses_made);
    }
    write_state();
    for (uint32_t i = 0; i < opt.n; i++) {
        mosquitto_destroy(cons[i].m);
        free(cons[i].lamps);
        free(cons[i].display);
        free(cons[i].buttons);
    }
    free(cons);
    free(pfd);
    free(pidx);
    mosquitto_lib_cleanup();
    return 0;
}
