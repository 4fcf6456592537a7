/* backends/mqtt/config.h - the mqtt backend's configuration keys.
 *
 * Parsed by tapiq_configure() through the backend's config_* operations
 * (tapiq_backend_ops); the backend copies what it needs at start. Keys and
 * defaults: the README ("MQTT backend", "Keys").
 *
 * Concurrency: a configuration object is used by one thread at a time (the
 * core serialises configure and start); nothing here is shared.
 */
#ifndef TAPIQ_BACKENDS_MQTT_CONFIG_H
#define TAPIQ_BACKENDS_MQTT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define TAPIQ_MQTT_MAX_URLS 8
#define TAPIQ_MQTT_STRING_MAX 65535u /* MQTT's longest user name or password */

struct mem_attrs;

struct tapiq_mqtt_url {
    char *host;
    int port;
    int tls;
};

struct tapiq_mqtt_cfg {
    struct tapiq_mqtt_url urls[TAPIQ_MQTT_MAX_URLS];
    unsigned nurls;
    char *prefix;
    char *client_id;
    char *username;
    char *password_file;
    char *cafile, *certfile, *keyfile;
    int protocol; /* MQTT_PROTOCOL_V311 or MQTT_PROTOCOL_V5 */
    uint32_t inflight;
    uint32_t timeout_ms;
    uint32_t resync_s;
    int per_update; /* publish=update: one message per lamp update (bench baseline) */
    struct mem_attrs *attrs; /* console attributes besides lamps (backends/mem_attrs.h keys) */
};

/* tapiq_mqtt_config_new - a configuration with the defaults.
 * Returns: the configuration (freed with tapiq_mqtt_config_free), or NULL
 * when out of memory. */
void *tapiq_mqtt_config_new(void);

/* tapiq_mqtt_config_key - set @key to @value in @cfg.
 * Ownership: @value is copied.
 * Returns:   0; -ENOENT for a key that is not the backend's; -EINVAL for a
 *            bad value (@err names the key); -ENOMEM. */
int tapiq_mqtt_config_key(void *cfg, const char *key, const char *value, char *err, size_t errlen);

/* tapiq_mqtt_config_free - free @cfg and everything it owns (NULL: no-op). */
void tapiq_mqtt_config_free(void *cfg);

/* tapiq_mqtt_config_check - what can be checked before connecting: a url is
 * given; certfile and keyfile come together; username comes with
 * password_file (and, under MQTT 3.1.1, password_file with username);
 * cafile, certfile and keyfile can be opened for reading and are no
 * directories. Their contents are checked by TLS when connecting.
 * Returns: 0, or -EINVAL with @err naming the key. */
int tapiq_mqtt_config_check(const struct tapiq_mqtt_cfg *c, char *err, size_t errlen);

/* Replace *@dst by a copy of @value. 0 or -ENOMEM (then *@dst is kept). */
int tapiq_mqtt_set_str(char **dst, const char *value);

/* tapiq_mqtt_read_password - the first line of @path without its line end
 * (LF, or CR LF), of any length MQTT allows (65535 bytes).
 * Blocking: reads a file (a FIFO waits for its writer).
 * Ownership: on 0 *@out is the caller's, to wipe (explicit_bzero) and free.
 * Returns:   0; -EINVAL with @err naming 'password_file' when the file cannot
 *            be read, is a directory, or the password is too long or holds
 *            a NUL byte; -ENOMEM. */
int tapiq_mqtt_read_password(const char *path, char **out, char *err, size_t errlen);

#endif /* TAPIQ_BACKENDS_MQTT_CONFIG_H */
