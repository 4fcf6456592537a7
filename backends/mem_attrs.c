/* backends/mem_attrs.c - the mem backend's console attributes; see
 * mem_attrs.h. */
#include "backends/mem_attrs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"

enum kind { K_DISPLAY, K_RING, K_HOOK, K_BUTTONS, K_TEXT, K_DATA, K_N };

static const char *const key_names[K_N] = {"display", "ring_modes", "hookswitch",
                                           "buttons", "button_text", "data"};

struct buttons {
    uint32_t n;
    uint32_t longest; /* bytes of the longest text */
    uint32_t *mode, *function;
    char **text; /* NULL entries: no text */
};

struct sizes {
    uint32_t n;
    uint32_t size[];
};

/* One key's value. Owns buttons / data. */
struct value {
    uint32_t a, b; /* display rows x columns; ring modes; hookswitch devices; text */
    struct buttons *buttons;
    struct sizes *data;
};

/* A ranged key: consoles first..last. */
struct item {
    enum kind kind;
    uint32_t first, last;
    struct value v;
};

struct mem_attrs {
    struct value plain[K_N];
    struct item *items;
    size_t n, cap;
};

#define DEFAULT_BUTTON_TEXT 16u

static const char *const function_names[] = {
    "unknown",      "conference", "transfer",   "drop",         "hold",        "recall",
    "disconnect",   "connect",    "msgwaiton",  "msgwaitoff",   "selectring",  "abbrevdial",
    "forward",      "pickup",     "ringagain",  "park",         "reject",      "redirect",
    "mute",         "volumeup",   "volumedown", "speakeron",    "speakeroff",  "flash",
    "dataon",       "dataoff",    "donotdisturb", "intercom",   "bridgedapp",  "busy",
    "callapp",      "datetime",   "directory",  "cover",        "callid",      "lastnum",
    "nightsrv",     "sendcalls",  "msgindicator", "repdial",    "setrepdial",  "systemspeed",
    "stationspeed", "campon",     "saverepeat", "queuecall",    "none",        "send",
};
_Static_assert(sizeof(function_names) / sizeof(function_names[0]) == PHONEBUTTONFUNCTION_SEND + 1,
               "one name per PHONEBUTTONFUNCTION_*");

static const char *const mode_names[] = {"dummy", "call", "feature", "keypad", "local", "display"};
static const char *const hook_names[] = {"handset", "speaker", "headset"};

static void buttons_free(struct buttons *b)
{
    if (!b)
        return;
    for (uint32_t i = 0; i < b->n; i++)
        free(b->text[i]);
    free(b->text);
    free(b->mode);
    free(b->function);
    free(b);
}

static void value_free(struct value *v)
{
    buttons_free(v->buttons);
    free(v->data);
    memset(v, 0, sizeof(*v));
}

struct mem_attrs *mem_attrs_new(void)
{
    struct mem_attrs *a = tapiq_calloc(1, sizeof(*a));
    if (a)
        a->plain[K_TEXT].a = DEFAULT_BUTTON_TEXT;
    return a;
}

void mem_attrs_free(struct mem_attrs *a)
{
    if (!a)
        return;
    for (int k = 0; k < K_N; k++)
        value_free(&a->plain[k]);
    for (size_t i = 0; i < a->n; i++)
        value_free(&a->items[i].v);
    free(a->items);
    free(a);
}

/* Split @s at the first @sep: returns the rest (NULL if none) and cuts @s. */
static char *cut(char *s, char sep)
{
    char *p = strchr(s, sep);
    if (!p)
        return NULL;
    *p = '\0';
    return p + 1;
}

static int count_parts(const char *s)
{
    int n = 1;
    for (; *s; s++)
        n += *s == '+';
    return n;
}

static int parse_display(const char *v, struct value *out)
{
    char buf[32];
    char *c;
    if (strcmp(v, "none") == 0) {
        out->a = out->b = 0;
        return 0;
    }
    if (strlen(v) >= sizeof(buf))
        return -EINVAL;
    strcpy(buf, v);
    c = cut(buf, 'x');
    if (!c || tapiq_parse_u32(buf, 1, 4096, &out->a) || tapiq_parse_u32(c, 1, 4096, &out->b) ||
        (uint64_t)out->a * out->b > 4096)
        return -EINVAL;
    return 0;
}

static int parse_hook(const char *v, struct value *out)
{
    char *buf, *p, *next;
    out->a = 0;
    if (strcmp(v, "none") == 0)
        return 0;
    buf = tapiq_strdup(v);
    if (!buf)
        return -ENOMEM;
    for (p = buf; p; p = next) {
        uint32_t bit = 0;
        next = cut(p, '+');
        for (uint32_t i = 0; i < 3; i++)
            if (strcmp(p, hook_names[i]) == 0)
                bit = 1u << i;
        if (!bit || (out->a & bit)) {
            free(buf);
            return -EINVAL;
        }
        out->a |= bit;
    }
    free(buf);
    return 0;
}

static int parse_data(const char *v, struct value *out)
{
    char *buf, *p, *next;
    int n = count_parts(v), rc = 0;
    uint32_t i = 0;
    if (strcmp(v, "none") == 0)
        return 0;
    if (n > 64)
        return -EINVAL;
    out->data = tapiq_calloc(1, sizeof(struct sizes) + (size_t)n * sizeof(uint32_t));
    buf = tapiq_strdup(v);
    if (!out->data || !buf) {
        free(buf);
        return -ENOMEM;
    }
    for (p = buf; p && !rc; p = next) {
        next = cut(p, '+');
        rc = tapiq_parse_u32(p, 1, 65536, &out->data->size[i++]);
    }
    out->data->n = i;
    free(buf);
    return rc;
}

static int parse_button(char *spec, struct buttons *b, uint32_t i)
{
    char *fn = cut(spec, ':'), *text = fn ? cut(fn, ':') : NULL;
    uint32_t m = 0;
    for (uint32_t k = 0; k < sizeof(mode_names) / sizeof(mode_names[0]); k++)
        if (strcmp(spec, mode_names[k]) == 0)
            m = 1u << k;
    if (!m)
        return -EINVAL;
    b->mode[i] = m;
    b->function[i] = m == PHONEBUTTONMODE_DUMMY ? PHONEBUTTONFUNCTION_NONE
                                                : PHONEBUTTONFUNCTION_UNKNOWN;
    if (fn && *fn) {
        uint32_t f = UINT32_MAX;
        for (uint32_t k = 0; k <= PHONEBUTTONFUNCTION_SEND; k++)
            if (strcmp(fn, function_names[k]) == 0)
                f = k;
        if (f == UINT32_MAX && tapiq_parse_u32(fn, 0, PHONEBUTTONFUNCTION_SEND, &f))
            return -EINVAL;
        b->function[i] = f;
    }
    if (text && *text) {
        size_t len = strlen(text);
        if (len > 255)
            return -EINVAL;
        b->text[i] = tapiq_strdup(text);
        if (!b->text[i])
            return -ENOMEM;
        if (len > b->longest)
            b->longest = (uint32_t)len;
    }
    return 0;
}

static int parse_buttons(const char *v, struct value *out)
{
    char *buf, *p, *next;
    uint32_t n = (uint32_t)count_parts(v), i = 0;
    struct buttons *b;
    int rc = 0;
    if (strcmp(v, "none") == 0)
        return 0;
    if (n > TAPIQ_MAX_LAMPS)
        return -EINVAL;
    b = out->buttons = tapiq_calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->mode = tapiq_calloc(n, sizeof(uint32_t));
    b->function = tapiq_calloc(n, sizeof(uint32_t));
    b->text = tapiq_calloc(n, sizeof(char *));
    buf = tapiq_strdup(v);
    if (!b->mode || !b->function || !b->text || !buf) {
        free(buf);
        return -ENOMEM;
    }
    b->n = n;
    for (p = buf; p && !rc; p = next) {
        next = cut(p, '+');
        rc = parse_button(p, b, i++);
    }
    free(buf);
    return rc;
}

static int parse_value(enum kind k, const char *v, struct value *out)
{
    switch (k) {
    case K_DISPLAY:
        return parse_display(v, out);
    case K_RING:
        return tapiq_parse_u32(v, 0, 255, &out->a);
    case K_HOOK:
        return parse_hook(v, out);
    case K_BUTTONS:
        return parse_buttons(v, out);
    case K_TEXT:
        return tapiq_parse_u32(v, 0, 255, &out->a);
    default:
        return parse_data(v, out);
    }
}

static const char *const expected[K_N] = {
    "RxC (rows x columns <= 4096) or none",
    "an integer from 0 to 255",
    "devices joined by '+' (handset, speaker, headset) or none",
    "MODE[:FUNCTION[:TEXT]] joined by '+' (MODE: dummy, call, feature, keypad, local, "
    "display) or none",
    "an integer from 0 to 255",
    "sizes from 1 to 65536 joined by '+' (at most 64) or none",
};

int mem_attrs_key(struct mem_attrs *a, const char *key, const char *value, char *err,
                  size_t errlen)
{
    const char *at = strchr(key, '@');
    size_t base = at ? (size_t)(at - key) : strlen(key);
    struct value v;
    uint32_t first = 0, last = 0;
    int k, rc;

    for (k = 0; k < K_N; k++)
        if (strlen(key_names[k]) == base && strncmp(key, key_names[k], base) == 0)
            break;
    if (k == K_N)
        return -ENOENT;
    if (at) {
        char range[32], *dash;
        if (strlen(at + 1) >= sizeof(range)) {
            snprintf(err, errlen, "bad console range in '%s'", key);
            return -EINVAL;
        }
        strcpy(range, at + 1);
        dash = cut(range, '-');
        if (tapiq_parse_u32(range, 0, TAPIQ_MAX_DEVICES - 1, &first) ||
            tapiq_parse_u32(dash ? dash : range, first, TAPIQ_MAX_DEVICES - 1, &last)) {
            snprintf(err, errlen, "bad console range in '%s': expected KEY@N or KEY@A-B", key);
            return -EINVAL;
        }
    }
    memset(&v, 0, sizeof(v));
    rc = parse_value((enum kind)k, value, &v);
    if (rc) {
        value_free(&v);
        if (rc == -ENOMEM)
            return rc;
        snprintf(err, errlen, "bad value '%s' for '%s': expected %s", value, key, expected[k]);
        return -EINVAL;
    }
    if (!at) {
        value_free(&a->plain[k]);
        a->plain[k] = v;
        return 0;
    }
    if (a->n == a->cap) {
        size_t ncap = a->cap ? 2 * a->cap : 8;
        struct item *n = tapiq_realloc(a->items, ncap * sizeof(*n));
        if (!n) {
            value_free(&v);
            return -ENOMEM;
        }
        a->items = n;
        a->cap = ncap;
    }
    a->items[a->n].kind = (enum kind)k;
    a->items[a->n].first = first;
    a->items[a->n].last = last;
    a->items[a->n].v = v;
    a->n++;
    return 0;
}

int mem_attrs_check(const struct mem_attrs *a, uint32_t devices, uint32_t lamps, char *err,
                    size_t errlen)
{
    const struct buttons *b = a->plain[K_BUTTONS].buttons;
    if (b && b->n > lamps) {
        snprintf(err, errlen, "buttons lists %u positions, more than lamps=%u", b->n, lamps);
        return -EINVAL;
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct item *it = &a->items[i];
        if (it->last >= devices) {
            snprintf(err, errlen, "%s@%u-%u: consoles beyond devices=%u", key_names[it->kind],
                     it->first, it->last, devices);
            return -EINVAL;
        }
        if (it->kind == K_BUTTONS && it->v.buttons && it->v.buttons->n > lamps) {
            snprintf(err, errlen, "buttons@%u-%u lists %u positions, more than lamps=%u",
                     it->first, it->last, it->v.buttons->n, lamps);
            return -EINVAL;
        }
    }
    return 0;
}

static int set_on_host(void *host, uint32_t device, const tapiq_device_attrs *t)
{
    return tapiq_host_set_device_attrs(host, device, t, sizeof(*t));
}

int mem_attrs_apply(const struct mem_attrs *a, tapiq_host *host, uint32_t device, uint32_t lamps,
                    char *err, size_t errlen)
{
    return mem_attrs_resolve(a, device, lamps, set_on_host, host, err, errlen);
}

int mem_attrs_resolve(const struct mem_attrs *a, uint32_t device, uint32_t lamps,
                      int (*give)(void *ctx, uint32_t device, const tapiq_device_attrs *t),
                      void *ctx, char *err, size_t errlen)
{
    const struct value *v[K_N];
    const struct buttons *b;
    tapiq_device_attrs t;
    uint32_t *modes = NULL, *functions = NULL;
    const char **texts = NULL;
    int rc;

    for (int k = 0; k < K_N; k++)
        v[k] = &a->plain[k];
    for (size_t i = 0; i < a->n; i++)
        if (device >= a->items[i].first && device <= a->items[i].last)
            v[a->items[i].kind] = &a->items[i].v;
    b = v[K_BUTTONS]->buttons;
    if (!v[K_DISPLAY]->a && !v[K_RING]->a && !v[K_HOOK]->a && !b && !v[K_DATA]->data)
        return 0; /* lamps only */
    memset(&t, 0, sizeof(t));
    t.display_rows = v[K_DISPLAY]->a;
    t.display_columns = v[K_DISPLAY]->b;
    t.ring_modes = v[K_RING]->a;
    t.hookswitch_devs = t.volume_devs = t.gain_devs = v[K_HOOK]->a;
    t.button_text_max = v[K_TEXT]->a;
    if (v[K_DATA]->data) {
        t.data_areas = v[K_DATA]->data->n;
        t.data_sizes = v[K_DATA]->data->size;
    }
    if (b) {
        if (b->longest > t.button_text_max) {
            snprintf(err, errlen, "console %u: a button text of %u bytes, more than "
                     "button_text=%u", device, b->longest, t.button_text_max);
            return -EINVAL;
        }
        modes = tapiq_calloc(lamps, sizeof(uint32_t));
        functions = tapiq_calloc(lamps, sizeof(uint32_t));
        texts = tapiq_calloc(lamps, sizeof(char *));
        if (!modes || !functions || !texts) {
            free(modes);
            free(functions);
            free((void *)texts);
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < lamps; i++) {
            modes[i] = i < b->n ? b->mode[i] : PHONEBUTTONMODE_DUMMY;
            functions[i] = i < b->n ? b->function[i] : PHONEBUTTONFUNCTION_NONE;
            texts[i] = i < b->n ? b->text[i] : NULL;
        }
        t.button_modes = modes;
        t.button_functions = functions;
        t.button_texts = texts;
    }
    rc = give(ctx, device, &t);
    free(modes);
    free(functions);
    free((void *)texts);
    if (rc == -EINVAL)
        snprintf(err, errlen, "console %u: attributes refused", device);
    return rc;
}
