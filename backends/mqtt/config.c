/* backends/mqtt/config.c - the mqtt backend's configuration keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mosquitto.h>

#include "backends/mem_attrs.h"
#include "backends/mqtt/config.h"
#include "core/alloc.h"
#include "core/config.h"

void *tapiq_mqtt_config_new(void)
{
    struct tapiq_mqtt_cfg *c = tapiq_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->protocol = MQTT_PROTOCOL_V311;
    c->inflight = 64;
    c->timeout_ms = 5000;
    c->resync_s = 300;
    if (!(c->attrs = mem_attrs_new())) {
        free(c);
        return NULL;
    }
    return c;
}

static void urls_free(struct tapiq_mqtt_cfg *c)
{
    for (unsigned i = 0; i < c->nurls; i++)
        free(c->urls[i].host);
    c->nurls = 0;
}

void tapiq_mqtt_config_free(void *vcfg)
{
    struct tapiq_mqtt_cfg *c = vcfg;
    if (!c)
        return;
    urls_free(c);
    free(c->prefix);
    free(c->client_id);
    free(c->username);
    free(c->password_file);
    free(c->cafile);
    free(c->certfile);
    free(c->keyfile);
    mem_attrs_free(c->attrs);
    free(c);
}

/* One url: mqtt://host[:port] or mqtts://host[:port]; host may be [v6]. */
static int parse_url(const char *s, size_t len, struct tapiq_mqtt_url *out)
{
    char tmp[300];
    char *h, *colon;
    uint32_t port;
    if (len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (strncmp(tmp, "mqtt://", 7) == 0) {
        out->tls = 0;
        h = tmp + 7;
    } else if (strncmp(tmp, "mqtts://", 8) == 0) {
        out->tls = 1;
        h = tmp + 8;
    } else {
        return -EINVAL;
    }
    port = out->tls ? 8883 : 1883;
    if (*h == '[') {
        char *rb = strchr(h, ']');
        if (!rb || rb == h + 1)
            return -EINVAL;
        *rb = '\0';
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (!colon && rb[1])
            return -EINVAL;
        h++;
    } else {
        colon = strchr(h, ':');
        if (colon)
            *colon = '\0';
    }
    if (colon && tapiq_parse_u32(colon + 1, 1, 65535, &port))
        return -EINVAL;
    if (!*h || strchr(h, '/'))
        return -EINVAL;
    out->host = tapiq_strdup(h);
    if (!out->host)
        return -ENOMEM;
    out->port = (int)port;
    return 0;
}

int tapiq_mqtt_set_str(char **dst, const char *value)
{
    char *s = tapiq_strdup(value);
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

int tapiq_mqtt_config_key(void *vcfg, const char *key, const char *value, char *err, size_t errlen)
{
    struct tapiq_mqtt_cfg *c = vcfg;
    if (strcmp(key, "url") == 0) {
        const char *p = value;
        urls_free(c);
        for (;;) {
            size_t l = strcspn(p, ";|");
            int r;
            while (l && (*p == ' ' || *p == '\t')) {
                p++;
                l--;
            }
            while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
                l--;
            if (c->nurls == TAPIQ_MQTT_MAX_URLS) {
                snprintf(err, errlen, "bad value for 'url': more than %d urls",
                         TAPIQ_MQTT_MAX_URLS);
                urls_free(c);
                return -EINVAL;
            }
            r = parse_url(p, l, &c->urls[c->nurls]);
            if (r) {
                snprintf(err, errlen,
                         "bad value '%s' for 'url': expected mqtt://host:port or mqtts://host:port, "
                         "several separated by ';' or '|'",
                         value);
                urls_free(c);
                return r;
            }
            c->nurls++;
            p += strcspn(p, ";|");
            if (!*p)
                break;
            p++;
        }
        return 0;
    }
    if (strcmp(key, "prefix") == 0) {
        if (!*value || strpbrk(value, "+#") || value[strlen(value) - 1] == '/' ||
            strlen(value) > 200) {
            snprintf(err, errlen,
                     "bad value '%s' for 'prefix': a topic without '+', '#' or a trailing '/'",
                     value);
            return -EINVAL;
        }
        return tapiq_mqtt_set_str(&c->prefix, value);
    }
    if (strcmp(key, "client_id") == 0) {
        if (!*value || strlen(value) > 128) {
            snprintf(err, errlen, "bad value '%s' for 'client_id': 1 to 128 characters", value);
            return -EINVAL;
        }
        return tapiq_mqtt_set_str(&c->client_id, value);
    }
    if (strcmp(key, "username") == 0) {
        /* libmosquitto refuses such a name at connect time (and would then
         * connect without credentials): refuse it here. */
        size_t l = strlen(value);
        if (l > TAPIQ_MQTT_STRING_MAX || mosquitto_validate_utf8(value, (int)l) != 0) {
            snprintf(err, errlen, "bad value for 'username': valid UTF-8 of at most %u bytes",
                     TAPIQ_MQTT_STRING_MAX);
            return -EINVAL;
        }
        return tapiq_mqtt_set_str(&c->username, value);
    }
    if (strcmp(key, "password_file") == 0)
        return tapiq_mqtt_set_str(&c->password_file, value);
    if (strcmp(key, "cafile") == 0)
        return tapiq_mqtt_set_str(&c->cafile, value);
    if (strcmp(key, "certfile") == 0)
        return tapiq_mqtt_set_str(&c->certfile, value);
    if (strcmp(key, "keyfile") == 0)
        return tapiq_mqtt_set_str(&c->keyfile, value);
    if (strcmp(key, "protocol") == 0) {
        if (strcmp(value, "3.1.1") == 0) {
            c->protocol = MQTT_PROTOCOL_V311;
        } else if (strcmp(value, "5") == 0) {
            c->protocol = MQTT_PROTOCOL_V5;
        } else {
            snprintf(err, errlen, "bad value '%s' for 'protocol': expected 3.1.1 or 5", value);
            return -EINVAL;
        }
        return 0;
    }
    if (strcmp(key, "publish") == 0) {
        if (strcmp(value, "batch") == 0) {
            c->per_update = 0;
        } else if (strcmp(value, "update") == 0) {
            c->per_update = 1;
        } else {
            snprintf(err, errlen, "bad value '%s' for 'publish': expected batch or update", value);
            return -EINVAL;
        }
        return 0;
    }
    {
        uint32_t *dst, min, max;
        if (strcmp(key, "inflight") == 0) {
            dst = &c->inflight;
            min = 1;
            max = 65535;
        } else if (strcmp(key, "timeout_ms") == 0) {
            dst = &c->timeout_ms;
            min = 1;
            max = 3600000;
        } else if (strcmp(key, "resync_s") == 0) {
            dst = &c->resync_s;
            min = 0;
            max = 86400;
        } else {
            /* The console attributes (display, buttons ...): the keys of
             * backends/mem_attrs.h. */
            return mem_attrs_key(c->attrs, key, value, err, errlen);
        }
        if (tapiq_parse_u32(value, min, max, dst)) {
            snprintf(err, errlen, "bad value '%s' for '%s': expected an integer from %u to %u",
                     value, key, min, max);
            return -EINVAL;
        }
    }
    return 0;
}

/* @path, the value of @key, can be opened for reading and is no directory. */
static int check_file(const char *key, const char *path, char *err, size_t errlen)
{
    struct stat sb;
    /* O_NONBLOCK: a FIFO must not hold start up until a writer comes. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), e;
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "mqtt: cannot read '%s' file '%s': %s", key, path, strerror(e));
        return -EINVAL;
    }
    e = fstat(fd, &sb) == 0 ? 0 : errno;
    close(fd);
    if (e || S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "mqtt: cannot read '%s' file '%s': %s", key, path,
                 strerror(e ? e : EISDIR));
        return -EINVAL;
    }
    return 0;
}

int tapiq_mqtt_config_check(const struct tapiq_mqtt_cfg *c, char *err, size_t errlen)
{
    int rc;
    if (c->nurls == 0) {
        snprintf(err, errlen, "mqtt: the 'url' key is required (e.g. url=mqtt://127.0.0.1:1883)");
        return -EINVAL;
    }
    if ((c->certfile == NULL) != (c->keyfile == NULL)) {
        const char *has = c->certfile ? "'certfile'" : "'keyfile'";
        const char *lacks = c->certfile ? "'keyfile'" : "'certfile'";
        snprintf(err, errlen, "mqtt: 'certfile' and 'keyfile' go together (%s without %s)", has,
                 lacks);
        return -EINVAL;
    }
    if (c->username && !c->password_file) {
        snprintf(err, errlen, "mqtt: 'username' needs 'password_file' (the password is read from "
                              "that file)");
        return -EINVAL;
    }
    if (c->password_file && !c->username && c->protocol != MQTT_PROTOCOL_V5) {
        snprintf(err, errlen, "mqtt: 'password_file' needs 'username' (MQTT 3.1.1 sends no "
                              "password without a user name)");
        return -EINVAL;
    }
    if ((c->cafile && (rc = check_file("cafile", c->cafile, err, errlen))) ||
        (c->certfile && (rc = check_file("certfile", c->certfile, err, errlen))) ||
        (c->keyfile && (rc = check_file("keyfile", c->keyfile, err, errlen))))
        return rc;
    return 0;
}

int tapiq_mqtt_read_password(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    struct stat sb;
    char *pw;
    size_t n = 0;
    int ch, e = 0;

    if (!f) {
        e = errno;
        snprintf(err, errlen, "mqtt: cannot read 'password_file' '%s': %s", path, strerror(e));
        return -EINVAL;
    }
    if (fstat(fileno(f), &sb) != 0)
        e = errno;
    else if (S_ISDIR(sb.st_mode))
        e = EISDIR;
    if (e) {
        fclose(f);
        snprintf(err, errlen, "mqtt: cannot read 'password_file' '%s': %s", path, strerror(e));
        return -EINVAL;
    }
    /* One byte more than the longest password, to tell "too long". */
    pw = tapiq_malloc(TAPIQ_MQTT_STRING_MAX + 2);
    if (!pw) {
        fclose(f);
        return -ENOMEM;
    }
    while (n <= TAPIQ_MQTT_STRING_MAX && (ch = getc(f)) != EOF && ch != '\n')
        pw[n++] = (char)ch;
    if (ferror(f))
        e = errno ? errno : EIO;
    fclose(f);
    while (n && pw[n - 1] == '\r')
        n--;
    pw[n] = '\0';
    if (e || n > TAPIQ_MQTT_STRING_MAX || memchr(pw, '\0', n)) {
        if (e)
            snprintf(err, errlen, "mqtt: cannot read 'password_file' '%s': %s", path, strerror(e));
        else if (n > TAPIQ_MQTT_STRING_MAX)
            snprintf(err, errlen, "mqtt: 'password_file' '%s': the password is longer than %u "
                                  "bytes (MQTT's limit)",
                     path, TAPIQ_MQTT_STRING_MAX);
        else
            snprintf(err, errlen, "mqtt: 'password_file' '%s': the password contains a NUL byte",
                     path);
        explicit_bzero(pw, TAPIQ_MQTT_STRING_MAX + 2);
        free(pw);
        return -EINVAL;
    }
    /* Keep only what the password needs; wipe the read buffer. */
    *out = tapiq_malloc(n + 1);
    if (*out)
        memcpy(*out, pw, n + 1);
    explicit_bzero(pw, n);
    free(pw);
    return *out ? 0 : -ENOMEM;
}
