/* The console side of the mqtt wire against a real Mosquitto: the state
 * message carries the configured attributes (display, ring, hookswitch,
 * volume, gain, buttons, data); a console's button presses arrive as
 * PHONE_BUTTON (DOWN then UP, right id, mode and state), a press on a lamp
 * without a button is counted as malformed and posts nothing; a hookswitch
 * change arrives as PHONE_STATE, phoneGetHookSwitch reports it and the
 * retained state shows it.
 * argv: mosquitto mosquitto_sub mosquitto_pub */
#include "backends/mqtt/tests/mq_fixture.h"
#include "backends/mqtt/wire_state.h"

#define NDEV 2
#define NLAMPS 4

/* The retained state of console @dev, parsed (waits until @ok says so). */
struct got {
    uint32_t modes[NLAMPS], n, version, console;
    uint64_t seq;
    struct tapiq_mqtt_attrs a;
    uint8_t display[64], data[64];
    struct tapiq_mqtt_button b[NLAMPS];
};

static void retained(const char *sub, int port, const char *prefix, uint32_t dev, struct got *g)
{
    char cmd[1024], line[1 << 14], topic[128];
    FILE *p;
    int rc = -1;
    snprintf(topic, sizeof(topic), "%s/console/%u/lamps", prefix, (unsigned)dev);
    snprintf(cmd, sizeof(cmd), "'%s' -h 127.0.0.1 -p %d -t '%s' --retained-only -C 1 -W 5 -q 1",
             sub, port, topic);
    p = popen(cmd, "r");
    TQ_CHECKF(p != NULL, "popen");
    if (fgets(line, sizeof(line), p)) {
        memset(&g->a, 0, sizeof(g->a));
        g->a.display = g->display, g->a.display_cap = sizeof(g->display);
        g->a.data = g->data, g->a.data_cap = sizeof(g->data);
        g->a.buttons = g->b, g->a.buttons_cap = NLAMPS;
        rc = tapiq_mqtt_parse_state(line, strcspn(line, "\n"), &g->version, &g->console, &g->seq,
                                    g->modes, NLAMPS, &g->n, &g->a, NULL, NULL, NULL, 0);
        TQ_CHECKF(rc == 0, "retained state of console %u does not parse (%d): %s", (unsigned)dev,
                  rc, line);
    }
    pclose(p);
    TQ_CHECKF(rc == 0, "no retained state for console %u", (unsigned)dev);
}

static void pub(const char *mpub, int port, const char *topic, const char *msg)
{
    char p[16];
    char *argv[] = {(char *)mpub, "-h", "127.0.0.1", "-p", p, "-q", "1", "-t", (char *)topic, "-m",
                    (char *)msg, NULL};
    snprintf(p, sizeof(p), "%d", port);
    TQ_CHECKF(mq_run_prog(argv, NULL) == 0, "mosquitto_pub %s", topic);
}

/* The next message other than PHONE_REPLY, within 10 s. */
static PHONEMESSAGE next_event(HPHONEAPP app)
{
    PHONEMESSAGE m;
    uint64_t until = mq_now_ms() + 10000;
    for (;;) {
        TQ_CHECKF(mq_now_ms() < until, "no event within 10 s");
        if (phoneGetMessage(app, &m, 100) == 0 && m.dwMessageID != PHONE_REPLY)
            return m;
    }
}

int main(int argc, char **argv)
{
    char cfg[1024], topic[128];
    DWORD ndevs, hs = 0;
    HPHONEAPP app;
    HPHONE h;
    PHONEMESSAGE m;
    struct got g;
    uint64_t bad0;
    LONG id;

    struct mq_env env = mq_setup(argc, argv, 3);
    int port = env.port;
    const char *prefix = env.prefix;
    pid_t broker = mq_mosquitto_start(argv[1], port, "broker");
    snprintf(cfg, sizeof(cfg),
             "backend=mqtt,url=mqtt://127.0.0.1:%d,prefix=%s,devices=%d,lamps=%d,"
             "display=2x8,ring_modes=3,hookswitch=handset+headset,data=3,"
             "buttons=feature:none:Ready+call+dummy+keypad:0:5",
             port, prefix, NDEV, NLAMPS);
    app = mq_init(cfg, &ndevs);
    h = mq_open(app, 0, PHONEPRIVILEGE_OWNER);
    TQ_CHECK(phoneSetStatusMessages(h, PHONESTATE_HANDSETHOOKSWITCH,
                                    PHONEBUTTONMODE_FEATURE | PHONEBUTTONMODE_CALL |
                                        PHONEBUTTONMODE_KEYPAD,
                                    PHONEBUTTONSTATE_DOWN | PHONEBUTTONSTATE_UP) == 0);

    /* 1. The state message carries every configured attribute. */
    id = phoneSetLamp(h, 1, PHONELAMPMODE_WINK);
    TQ_CHECKF(id > 0, "phoneSetLamp");
    do
        TQ_CHECK(phoneGetMessage(app, &m, 10000) == 0);
    while (m.dwMessageID != PHONE_REPLY);
    TQ_CHECKF(m.dwParam1 == (DWORD_PTR)id && m.dwParam2 == 0, "reply 0x%lx",
              (unsigned long)m.dwParam2);
    retained(argv[2], port, prefix, 0, &g);
    TQ_CHECK(g.version == 2 && g.console == 0 && g.n == NLAMPS &&
             g.modes[1] == PHONELAMPMODE_WINK && g.modes[0] == PHONELAMPMODE_OFF);
    TQ_CHECKF(g.a.has == (TAPIQ_MQTT_HAS_DISPLAY | TAPIQ_MQTT_HAS_RING | TAPIQ_MQTT_HAS_HOOKSWITCH |
                          TAPIQ_MQTT_HAS_BUTTONS | TAPIQ_MQTT_HAS_DATA),
              "attributes 0x%x", g.a.has);
    TQ_CHECK(g.a.rows == 2 && g.a.cols == 8 && memcmp(g.display, "                ", 16) == 0);
    TQ_CHECK(g.a.ring_mode == 0 && g.a.ring_volume == 0x8000);
    TQ_CHECK(g.a.hs_devs == (PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET) &&
             g.a.hs_mode[0] == PHONEHOOKSWITCHMODE_ONHOOK &&
             g.a.hs_mode[2] == PHONEHOOKSWITCHMODE_ONHOOK && g.a.volume_devs == g.a.hs_devs &&
             g.a.gain_devs == g.a.hs_devs && g.a.volume[0] == 0x8000 && g.a.gain[2] == 0x8000);
    TQ_CHECKF(g.a.nbuttons == 3 && g.b[0].id == 0 && g.b[0].mode == PHONEBUTTONMODE_FEATURE &&
                  g.b[0].function == PHONEBUTTONFUNCTION_NONE && g.b[0].text_len == 5 &&
                  memcmp(g.b[0].text, "Ready", 5) == 0 && g.b[1].id == 1 &&
                  g.b[1].mode == PHONEBUTTONMODE_CALL && g.b[2].id == 3 &&
                  g.b[2].mode == PHONEBUTTONMODE_KEYPAD && g.b[2].text_len == 1 &&
                  g.b[2].text[0] == '5',
              "buttons: %u listed", (unsigned)g.a.nbuttons);
    TQ_CHECK(g.a.ndata == 1 && g.a.data_size[0] == 3 && !g.data[0] && !g.data[1] && !g.data[2]);
    printf("state message: display 2x8, ring, hookswitch, volume, gain, 3 buttons, data\n");

    /* 2. A press: DOWN then UP, in order, with the button's mode. */
    snprintf(topic, sizeof(topic), "%s/console/0/button", prefix);
    pub(argv[3], port, topic, "{\"button\":0,\"state\":\"down\"}");
    pub(argv[3], port, topic, "{\"button\":0,\"state\":\"up\"}");
    m = next_event(app);
    TQ_CHECKF(m.dwMessageID == PHONE_BUTTON && m.hDevice == (DWORD)h && m.dwParam1 == 0 &&
                  m.dwParam2 == PHONEBUTTONMODE_FEATURE && m.dwParam3 == PHONEBUTTONSTATE_DOWN,
              "first event %lu (%lu, 0x%lx, 0x%lx)", (unsigned long)m.dwMessageID,
              (unsigned long)m.dwParam1, (unsigned long)m.dwParam2, (unsigned long)m.dwParam3);
    m = next_event(app);
    TQ_CHECKF(m.dwMessageID == PHONE_BUTTON && m.dwParam1 == 0 &&
                  m.dwParam3 == PHONEBUTTONSTATE_UP,
              "second event %lu state 0x%lx", (unsigned long)m.dwMessageID,
              (unsigned long)m.dwParam3);
    /* A lamp without a button, and console 1 (no handle here): nothing
     * arrives; the first is counted as malformed. Then a keypad press, which
     * must be the next event. */
    bad0 = tapiq_mqtt_counter(TAPIQ_MQTT_MALFORMED);
    pub(argv[3], port, topic, "{\"button\":2,\"state\":\"down\"}");
    snprintf(topic, sizeof(topic), "%s/console/1/button", prefix);
    pub(argv[3], port, topic, "{\"button\":0,\"state\":\"down\"}");
    snprintf(topic, sizeof(topic), "%s/console/0/button", prefix);
    pub(argv[3], port, topic, "{\"button\":3,\"state\":\"down\"}");
    m = next_event(app);
    TQ_CHECKF(m.dwMessageID == PHONE_BUTTON && m.dwParam1 == 3 &&
                  m.dwParam2 == PHONEBUTTONMODE_KEYPAD && m.dwParam3 == PHONEBUTTONSTATE_DOWN,
              "keypad press: event %lu button %lu", (unsigned long)m.dwMessageID,
              (unsigned long)m.dwParam1);
    TQ_CHECKF(tapiq_mqtt_counter(TAPIQ_MQTT_MALFORMED) == bad0 + 1, "malformed %" PRIu64 " -> %" PRIu64,
              bad0, tapiq_mqtt_counter(TAPIQ_MQTT_MALFORMED));
    printf("button presses: DOWN, UP in order; a dummy position ignored and counted\n");

    /* 3. The handset goes off hook. */
    snprintf(topic, sizeof(topic), "%s/console/0/hookswitch", prefix);
    pub(argv[3], port, topic, "{\"device\":\"handset\",\"mode\":\"mic\"}");
    m = next_event(app);
    TQ_CHECKF(m.dwMessageID == PHONE_STATE && m.dwParam1 == PHONESTATE_HANDSETHOOKSWITCH &&
                  m.dwParam2 == PHONEHOOKSWITCHMODE_MIC,
              "hookswitch event %lu (0x%lx, 0x%lx)", (unsigned long)m.dwMessageID,
              (unsigned long)m.dwParam1, (unsigned long)m.dwParam2);
    TQ_CHECK(phoneGetHookSwitch(h, &hs) == 0 && hs == PHONEHOOKSWITCHDEV_HANDSET);
    {
        uint64_t until = mq_now_ms() + 10000;
        for (;;) {
            retained(argv[2], port, prefix, 0, &g);
            if (g.a.hs_mode[0] == PHONEHOOKSWITCHMODE_MIC)
                break;
            TQ_CHECKF(mq_now_ms() < until, "retained hookswitch still %u", (unsigned)g.a.hs_mode[0]);
            mq_sleep_ms(50);
        }
    }
    TQ_CHECK(g.modes[1] == PHONELAMPMODE_WINK);
    printf("hookswitch: PHONE_STATE, phoneGetHookSwitch and the retained state agree\n");

    phoneShutdown(app);
    mq_stop(broker, SIGTERM);
    return 0;
}
