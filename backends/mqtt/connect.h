/* backends/mqtt/connect.h - MQTT connection attempts off the I/O thread.
 *
 * mosquitto_connect_async() looks the host name up with a blocking
 * getaddrinfo(): with a slow or dead resolver the calling thread stalls for
 * as long as the resolver likes (seconds to minutes). The mqtt backend's I/O
 * thread must never stall (it fails batches at their deadline and serves
 * shutdown), so each connection attempt runs the lookup and the
 * non-blocking connect on a short-lived detached thread of its own, a
 * connector. The thread that started a connector (the I/O thread) polls it
 * and either takes the client, once it is connecting, or abandons the
 * attempt (deadline, shutdown). An abandoned connector finishes its lookup
 * in the background, destroys its client and frees itself: nothing of the
 * backend is reachable from a connector, so it may outlive the backend.
 *
 * mqtt:// hosts are looked up here (through the resolver the tests may
 * replace); the numeric addresses are tried in turn, starting at a rotating
 * index so that one black-holed address does not starve the others, and
 * libmosquitto gets the numeric address, so it looks nothing up again.
 * mqtts:// hosts go to libmosquitto by name (on the connector thread): the
 * certificate check and SNI need the name.
 *
 * Synchronization table (one connector)
 *                      take_try   abandon   connector thread
 *   take_try           no         no        yes
 *   abandon            no         no        yes
 * take_try and abandon are called by the thread that started the connector,
 * and after either has disposed of the connector, by no one.
 *
 * Progress: start is blocking (it creates a thread); take_try and abandon are
 * wait-free; the connector thread blocks in the lookup.
 */
#ifndef TAPIQ_BACKENDS_MQTT_CONNECT_H
#define TAPIQ_BACKENDS_MQTT_CONNECT_H

#include <stddef.h>

struct mosquitto;
struct tapiq_mqtt_connector;

/* At most this many connectors run at once in the process (abandoned ones
 * included): a resolver that never answers costs a bounded number of threads. */
#define TAPIQ_MQTT_MAX_CONNECTORS 4

/* tapiq_mqtt_connector_start - connect @m to @host:@port (by name when @tls)
 * with @keepalive seconds, on a new thread.
 * Concurrency: any thread; the result is then owned by that thread.
 * Ordering:    the caller's writes to @m happen-before the connector's use.
 * Ownership:   on 0 the connector owns @m until take_try hands it back or
 *              the connector is abandoned; @host is copied. On failure the
 *              caller keeps @m.
 * Returns:     0 with *@out; -EAGAIN when TAPIQ_MQTT_MAX_CONNECTORS are
 *              running or no thread can be created; -ENOMEM. */
int tapiq_mqtt_connector_start(struct mosquitto *m, const char *host, int port, int tls,
                               unsigned turn, int keepalive,
                               struct tapiq_mqtt_connector **out);

/* tapiq_mqtt_connector_take_try - the outcome of @c, if there is one yet.
 * Concurrency: the thread that started @c; wait-free.
 * Ordering:    acquire: everything the connector did (to the client, to the
 *              message) happens-before a return other than -EINPROGRESS.
 * Ownership:   on -EINPROGRESS @c stays valid and nothing changes. Otherwise
 *              @c is freed: on 0 the caller owns *@m, a client whose
 *              connection is under way (its callbacks and user data are the
 *              caller's to set; the connector set only a log callback of its
 *              own, which the caller must replace); on failure the client was
 *              destroyed and @err holds why.
 * Returns:     0; -EINPROGRESS; -EHOSTUNREACH (lookup failed); -ECONNREFUSED
 *              (libmosquitto could not start connecting to any address). */
int tapiq_mqtt_connector_take_try(struct tapiq_mqtt_connector *c, struct mosquitto **m,
                                  char *err, size_t errlen);

/* tapiq_mqtt_connector_abandon - give up @c without waiting for it.
 * Concurrency: the thread that started @c; wait-free.
 * Ownership:   @c and its client are no longer the caller's: freed now if the
 *              connector has finished, else by the connector thread when it
 *              does. */
void tapiq_mqtt_connector_abandon(struct tapiq_mqtt_connector *c);

/* tapiq_mqtt_connectors_running - connector threads still running, pending
 * or abandoned. Concurrency: any thread; a relaxed read. */
unsigned tapiq_mqtt_connectors_running(void);

#endif /* TAPIQ_BACKENDS_MQTT_CONNECT_H */
