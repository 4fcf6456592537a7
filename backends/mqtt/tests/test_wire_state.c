/* test_wire_state - the state message (version 2) and the inbound console
 * messages: exact encodings, round trips, and each rejection rule of
 * wire_state.h. Run by test_wire's main. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapiq/tapi.h>

#include "backends/mqtt/cattrs.h"
#include "backends/mqtt/wire.h"
#include "backends/mqtt/wire_state.h"
#include "tests/check.h"

void tapiq_test_wire_state(void);

static int parse_in(const char *topic, const char *payload, struct tapiq_mqtt_inbound *in)
{
    return tapiq_mqtt_parse_inbound("tapiq", topic, payload, strlen(payload), 10, in);
}

static int parse_msg(const char *m, struct tapiq_mqtt_attrs *a, struct tapiq_mqtt_devspec *ds,
                     uint32_t *nds, uint8_t *dsbuf)
{
    uint32_t ver, console, modes[8], n;
    uint64_t seq;
    return tapiq_mqtt_parse_state(m, strlen(m), &ver, &console, &seq, modes, 8, &n, a, ds, nds,
                                  dsbuf, 64);
}

static void inbound(void)
{
    struct tapiq_mqtt_inbound in;
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":5,\"state\":\"down\"}", &in) == 0 &&
             in.kind == TAPIQ_MQTT_IN_BUTTON && in.device == 3 && in.a == 5 &&
             in.b == PHONEBUTTONSTATE_DOWN);
    TQ_CHECK(parse_in("tapiq/console/3/button", " { \"state\" : \"up\" , \"button\" : 0 } ", &in) ==
                 0 && in.a == 0 && in.b == PHONEBUTTONSTATE_UP);
    TQ_CHECK(parse_in("tapiq/console/9/hookswitch", "{\"device\":\"headset\",\"mode\":\"micspeaker\"}",
                      &in) == 0 &&
             in.kind == TAPIQ_MQTT_IN_HOOKSWITCH && in.device == 9 &&
             in.a == PHONEHOOKSWITCHDEV_HEADSET && in.b == PHONEHOOKSWITCHMODE_MICSPEAKER);
    TQ_CHECK(parse_in("tapiq/console/0/online", "0", &in) == 0 && in.kind == TAPIQ_MQTT_IN_ONLINE &&
             in.a == 0);
    /* Each rule. */
    TQ_CHECK(parse_in("tapiq/console/10/button", "{\"button\":5,\"state\":\"down\"}", &in) == -ERANGE);
    TQ_CHECK(parse_in("tapiq/console/03/button", "{\"button\":5,\"state\":\"down\"}", &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/buttons", "{\"button\":5,\"state\":\"down\"}", &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":5}", &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":5,\"state\":\"down\",\"button\":5}",
                      &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":5,\"state\":\"unknown\"}", &in) ==
             -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":65536,\"state\":\"up\"}", &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":-1,\"state\":\"up\"}", &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":1,\"state\":\"up\"}x", &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/button", "{\"button\":1,\"mode\":\"up\"}", &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/hookswitch", "{\"device\":\"phone\",\"mode\":\"mic\"}", &in) ==
             -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/hookswitch", "{\"device\":\"handset\",\"mode\":\"unknown\"}",
                      &in) == -EINVAL);
    TQ_CHECK(parse_in("tapiq/console/3/hookswitch", "{\"button\":1,\"state\":\"up\"}", &in) == -EINVAL);
    TQ_CHECK(tapiq_mqtt_parse_inbound("tapiq", "tapiq/console/3/button", "{\"button\":1,\"state\":\"up\"}",
                                      10, 10, &in) == -EINVAL); /* cut short */
}

static void state(void)
{
    uint8_t display[6] = {'H', 'i', '"', 0x01, 0xE9, '\\'};
    struct tapiq_mqtt_button buttons[3] = {
        {0, PHONEBUTTONMODE_FEATURE, 0x11, 5, "Ready"},
        {1, PHONEBUTTONMODE_DUMMY, 0, 0, ""},
        {2, PHONEBUTTONMODE_CALL, 0, 5, "\xc3\xa9t\xc3\xa9"}};
    uint8_t data[3] = {0x00, 0xAB, 0xFF};
    uint8_t spec[2] = {0xDE, 0xAD};
    struct tapiq_mqtt_devspec ds[1] = {{spec, 2}};
    struct tapiq_mqtt_attrs a;
    uint32_t modes[2] = {PHONELAMPMODE_OFF, PHONELAMPMODE_FLASH};
    char buf[8192];
    const char *want =
        "{\"v\":2,\"console\":4,\"seq\":9,\"lamps\":[\"off\",\"flash\"],"
        "\"display\":[\"Hi\\\"\",\"\\u0001\\u00e9\\\\\"],\"ring\":{\"mode\":2,\"volume\":100},"
        "\"hookswitch\":{\"handset\":\"onhook\",\"headset\":\"mic\"},\"volume\":{\"handset\":7},"
        "\"gain\":{\"headset\":65535},\"buttons\":[{\"id\":0,\"mode\":\"feature\",\"function\":17,"
        "\"text\":\"Ready\"},{\"id\":2,\"mode\":\"call\",\"function\":0,\"text\":\"\xc3\xa9t\xc3\xa9\"}],"
        "\"data\":[\"00ab\",\"ff\"],\"devspecific\":[\"dead\"]}";
    int len;

    memset(&a, 0, sizeof(a));
    a.has = TAPIQ_MQTT_HAS_DISPLAY | TAPIQ_MQTT_HAS_RING | TAPIQ_MQTT_HAS_HOOKSWITCH |
            TAPIQ_MQTT_HAS_BUTTONS | TAPIQ_MQTT_HAS_DATA;
    a.rows = 2, a.cols = 3, a.display = display, a.display_cap = 6;
    a.ring_mode = 2, a.ring_volume = 100;
    a.hs_devs = PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_HEADSET;
    a.hs_mode[0] = PHONEHOOKSWITCHMODE_ONHOOK, a.hs_mode[2] = PHONEHOOKSWITCHMODE_MIC;
    a.volume_devs = PHONEHOOKSWITCHDEV_HANDSET, a.volume[0] = 7;
    a.gain_devs = PHONEHOOKSWITCHDEV_HEADSET, a.gain[2] = 65535;
    a.nbuttons = 3, a.buttons = buttons, a.buttons_cap = 3;
    a.ndata = 2, a.data_size[0] = 2, a.data_size[1] = 1, a.data = data, a.data_cap = 3;
    TQ_CHECK(TAPIQ_MQTT_LAMPS_MAX(2) + tapiq_mqtt_attrs_max(&a, 1, 2) < sizeof(buf));
    len = tapiq_mqtt_encode_state(buf, sizeof(buf), 4, 9, modes, 2, &a, ds, 1);
    TQ_CHECKF(len == (int)strlen(want) && strcmp(buf, want) == 0, "encoded %s", buf);
    TQ_CHECK(tapiq_mqtt_encode_state(buf, (size_t)len, 4, 9, modes, 2, &a, ds, 1) == -ENOSPC);

    {
        uint8_t d2[16], dat2[8], dsb[64];
        struct tapiq_mqtt_button b2[4];
        struct tapiq_mqtt_attrs p;
        struct tapiq_mqtt_devspec pds[TAPIQ_MQTT_DEVSPEC_MAX];
        uint32_t nds = 0;
        memset(&p, 0, sizeof(p));
        p.display = d2, p.display_cap = sizeof(d2), p.buttons = b2, p.buttons_cap = 4;
        p.data = dat2, p.data_cap = sizeof(dat2);
        TQ_CHECK(parse_msg(want, &p, pds, &nds, dsb) == 0);
        TQ_CHECK(p.has == a.has && p.rows == 2 && p.cols == 3 && memcmp(d2, display, 6) == 0);
        TQ_CHECK(p.ring_mode == 2 && p.ring_volume == 100 && p.hs_devs == a.hs_devs &&
                 p.hs_mode[2] == PHONEHOOKSWITCHMODE_MIC && p.volume[0] == 7 && p.gain[2] == 65535);
        TQ_CHECK(p.nbuttons == 2 && b2[1].id == 2 && b2[1].text_len == 5 &&
                 memcmp(b2[1].text, "\xc3\xa9t\xc3\xa9", 5) == 0 && b2[0].function == 0x11);
        TQ_CHECK(p.ndata == 2 && p.data_size[0] == 2 && memcmp(dat2, data, 3) == 0);
        TQ_CHECK(nds == 1 && pds[0].size == 2 && memcmp(pds[0].data, spec, 2) == 0);
        /* Storage too small: -ENOSPC. */
        p.display_cap = 5;
        TQ_CHECK(parse_msg(want, &p, pds, &nds, dsb) == -ENOSPC);
        p.display_cap = sizeof(d2), p.buttons_cap = 1;
        TQ_CHECK(parse_msg(want, &p, pds, &nds, dsb) == -ENOSPC);
    }
    /* Each rejection rule (attributes checked even when not returned). */
    {
        static const char *const bad[] = {
            "{\"v\":1,\"console\":1,\"seq\":1,\"lamps\":[],\"ring\":{\"mode\":0,\"volume\":0}}",
            "{\"v\":3,\"console\":1,\"seq\":1,\"lamps\":[]}",
            "{\"v\":2,\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"display\":[\"ab\",\"a\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"display\":[]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"display\":[\"\\u0100\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"display\":[\"\xc3\xa9\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"display\":[\"\\n\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"ring\":{\"mode\":256,\"volume\":0}}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"ring\":{\"mode\":1}}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"volume\":{\"handset\":1}}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"hookswitch\":{}}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"hookswitch\":{\"handset\":\"onhook\","
            "\"handset\":\"mic\"}}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"hookswitch\":{\"handset\":\"onhook\"},"
            "\"gain\":{\"handset\":65536}}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"buttons\":[{\"id\":0,\"mode\":\"dummy\","
            "\"function\":0,\"text\":\"\"}]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"buttons\":[{\"id\":0,\"mode\":\"call\","
            "\"function\":0}]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"buttons\":[{\"id\":0,\"mode\":\"call\","
            "\"function\":0,\"text\":\"\\u0080\"}]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"data\":[\"abc\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"data\":[\"AB\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"data\":[\"\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"devspecific\":[\"00\",\"00\",\"00\","
            "\"00\",\"00\",\"00\",\"00\",\"00\",\"00\"]}",
            "{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"colour\":1}",
            "{\"v\":2,\"console\":1,\"seq\":1}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            TQ_CHECKF(parse_msg(bad[i], NULL, NULL, NULL, NULL) == -EINVAL, "accepted %s", bad[i]);
        TQ_CHECK(parse_msg("{\"v\":2,\"console\":1,\"seq\":1,\"lamps\":[],\"devspecific\":[\"\"],"
                           "\"buttons\":[],\"data\":[]}",
                           NULL, NULL, NULL, NULL) == 0);
    }
}

/* The backend's attribute state: initial values, each kind of update
 * applied in order, the copy, and what the state message then says. */
static void cattrs(void)
{
    static const uint32_t sizes[2] = {4, 2};
    static const uint32_t bmodes[3] = {PHONEBUTTONMODE_FEATURE, PHONEBUTTONMODE_DUMMY,
                                       PHONEBUTTONMODE_DUMMY};
    static const char *const texts[3] = {"Ready", NULL, NULL};
    tapiq_device_attrs t;
    struct tapiq_mqtt_attrs *a, *copy;
    struct mqtt_cattrs_cap cap = {0, 0, 0};
    struct tapiq_mqtt_devspec ds[TAPIQ_MQTT_DEVSPEC_MAX];
    uint32_t nds = 0, modes[3] = {PHONELAMPMODE_OFF, PHONELAMPMODE_OFF, PHONELAMPMODE_OFF};
    char buf[8192];
    int len;
    const char *want =
        "{\"v\":2,\"console\":1,\"seq\":2,\"lamps\":[\"off\",\"off\",\"off\"],"
        "\"display\":[\"Queue\",\"  3! \"],\"ring\":{\"mode\":2,\"volume\":9},"
        "\"hookswitch\":{\"handset\":\"mic\",\"headset\":\"onhook\"},"
        "\"volume\":{\"handset\":32768,\"headset\":100},\"gain\":{\"handset\":5,\"headset\":32768},"
        "\"buttons\":[{\"id\":0,\"mode\":\"feature\",\"function\":0,\"text\":\"Ready\"},"
        "{\"id\":2,\"mode\":\"call\",\"function\":1,\"text\":\"Line\"}],"
        "\"data\":[\"01020000\",\"0000\"],\"devspecific\":[\"aa\",\"\"]}";
    const tapiq_attr ups[] = {
        {TAPIQ_ATTR_DISPLAY, 0, 0, 0, "Queue", 5, 0},
        {TAPIQ_ATTR_DEVSPECIFIC, 0, 0, 0, "\xaa", 1, 0},
        {TAPIQ_ATTR_DISPLAY, 0, 1, 2, "3!", 2, 0},
        {TAPIQ_ATTR_RING, 0, 2, 9, NULL, 0, 0},
        {TAPIQ_ATTR_HOOKSWITCH, PHONEHOOKSWITCHDEV_HANDSET, PHONEHOOKSWITCHMODE_MIC, 0, NULL, 0, 0},
        {TAPIQ_ATTR_VOLUME, PHONEHOOKSWITCHDEV_HEADSET, 100, 0, NULL, 0, 0},
        {TAPIQ_ATTR_GAIN, PHONEHOOKSWITCHDEV_HANDSET, 5, 0, NULL, 0, 0},
        {TAPIQ_ATTR_BUTTONINFO, 2, PHONEBUTTONMODE_CALL, 1, "Line", 4, 0},
        {TAPIQ_ATTR_DATA, 0, 0, 0, "\x01\x02", 2, 0},
        {TAPIQ_ATTR_DEVSPECIFIC, 0, 0, 0, NULL, 0, 0},
    };

    memset(&t, 0, sizeof(t));
    t.display_rows = 2, t.display_columns = 5, t.ring_modes = 3;
    t.hookswitch_devs = t.volume_devs = t.gain_devs = PHONEHOOKSWITCHDEV_HANDSET |
                                                      PHONEHOOKSWITCHDEV_HEADSET;
    t.data_areas = 2, t.data_sizes = sizes, t.button_text_max = 8;
    t.button_modes = bmodes, t.button_texts = texts;
    a = mqtt_cattrs_new(&t, 3);
    TQ_CHECK(a != NULL);
    mqtt_cattrs_cap_add(&cap, a);
    copy = mqtt_cattrs_scratch(&cap);
    TQ_CHECK(copy != NULL);
    mqtt_cattrs_copy(copy, a);
    mqtt_cattrs_apply(copy, ups, sizeof(ups) / sizeof(ups[0]), ds, &nds);
    TQ_CHECK(nds == 2 && ds[0].size == 1 && ds[1].size == 0);
    len = tapiq_mqtt_encode_state(buf, sizeof(buf), 1, 2, modes, 3, copy, ds, nds);
    TQ_CHECKF(len > 0 && strcmp(buf, want) == 0, "encoded %s", buf);
    /* The original is untouched until the message is acknowledged. */
    len = tapiq_mqtt_encode_state(buf, sizeof(buf), 1, 1, modes, 3, a, NULL, 0);
    TQ_CHECKF(len > 0 && strstr(buf, "\"display\":[\"     \",\"     \"]") &&
                  strstr(buf, "\"ring\":{\"mode\":0,\"volume\":32768}") &&
                  strstr(buf, "\"data\":[\"00000000\",\"0000\"]") && !strstr(buf, "devspecific"),
              "initial %s", buf);
    /* A console with lamps only takes only the device-specific requests. */
    nds = 0;
    mqtt_cattrs_apply(NULL, ups, sizeof(ups) / sizeof(ups[0]), ds, &nds);
    TQ_CHECK(nds == 2);
    free(a);
    free(copy);
}

void tapiq_test_wire_state(void)
{
    inbound();
    state();
    cattrs();
    printf("wire: state and inbound unit checks ok\n");
}
