/* SPDX-License-Identifier: Apache-2.0 */
/* POSIX MQTT client HAL over libmosquitto (MQTT 3.1.1, plain or TLS).
 *
 *   sc_hal_mqtt_t mqtt;
 *   if (sc_posix_mqtt_init(&mqtt) != SC_OK) ...;   // allocates mqtt.ctx
 *   hal.mqtt = mqtt;                               // then use it through the HAL table
 *   ...
 *   sc_posix_mqtt_cleanup(&mqtt);                  // disconnects, joins the thread, frees
 *
 * connect() returns at once (state CONNECTING) and starts a thread of its own that, for each
 * address of the list in turn, looks the host name up (a name: on a detached thread, waited for
 * at most SC_POSIX_MQTT_LOOKUP_MS, _LAST_MS for the list's last; an address: at once, no resolver asked), hands libmosquitto
 * the numeric address, starts the TCP connection (and TLS handshake) without waiting for it and
 * runs libmosquitto's network loop (not mosquitto_loop_start: that one reconnects behind the
 * core's back and cannot be stopped while a connect is pending). libmosquitto's own connect
 * would look the name up itself, blocking its caller (10 s on a DNS server that does not answer).
 * Every other call returns at once; disconnect()/cleanup() take at most ~0.5 s and never wait
 * for a lookup (a lookup given up on ends on its own thread, which holds nothing but the name).
 * Callbacks of that thread only fill a mutex-protected inbound queue
 * (SC_POSIX_MQTT_QUEUE messages) and a ring of acknowledged message ids, which poll() and
 * puback_received() read. A message that finds the queue full waits up to
 * SC_POSIX_MQTT_WAIT_MS for poll() to make room (the thread reads nothing more meanwhile: TCP
 * and the broker hold the rest of a burst); only when the core has not polled for that long is
 * it dropped and counted, and so is every later one until the core polls again (no wait then).
 * disconnect()/cleanup() end a wait at once.
 * state() reason on SC_MQTT_FAILED: the CONNACK return code (1..5, e.g. 4 bad user name or
 * password, 5 not authorised) or, when the TCP/TLS connection itself failed, the errno
 * (e.g. 111 ECONNREFUSED; connect() returns SC_ERR_IO when it fails at once, otherwise
 * state() turns to SC_MQTT_FAILED later); EPROTO (71) when the TLS
 * handshake or the broker certificate check failed; EHOSTUNREACH when the name did not resolve
 * within its bound (SC_POSIX_MQTT_LOOKUP_MS, _LAST_MS; the next address of the list is tried first).
 * TLS: params->tls uses params->ca_file (a PEM bundle; NULL: /etc/ssl/certs/ca-certificates.crt;
 * one that cannot be read: connect() returns SC_ERR_INVAL), an OpenSSL context of the port's own
 * (TLS 1.2 or later), and verifies the broker's certificate against the host name as given (not
 * the address it resolved to), which SNI carries too; with params->psk, TLS-PSK instead: an OpenSSL context of
 * the port's own (TLS 1.2, the PSK suites only, a certificate refused), identity
 * params->psk_identity, the key copied into the port's context for the connection's handshakes
 * and wiped at disconnect (libmosquitto never holds it); a wrong key, or a server that knows no
 * PSK, fails the handshake: EPROTO. No automatic reconnect: the core decides.
 * The broker going silent is not detected here; the core's own deadlines cover it.
 * The password is copied into libmosquitto; neither it nor the PSK is ever logged. */
#ifndef SC_POSIX_MQTT_H
#define SC_POSIX_MQTT_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_POSIX_MQTT_QUEUE 64   /* a burst the loop reads after it (F58); ~1.2 KB each */
#define SC_POSIX_MQTT_WAIT_MS 2000   /* the longest a message waits for room in the queue */
/* The longest connect() waits for a broker name to resolve while another address of the list
 * is still untried: then it moves on to it (the first failure reason: EHOSTUNREACH). Within the
 * binder's 10 s connect budget (a silent first name leaves the next address 7 s) and
 * AT+TCMQTTCONN's usual <cmdtimeout>. */
#define SC_POSIX_MQTT_LOOKUP_MS 3000
/* The same for the last (or only) address of the list: glibc's own bound with resolv.conf's
 * defaults (5 s a try, 2 tries). A cut at 3 s there would only fail sooner, and fail a name
 * whose first query was lost (answered at glibc's second try, 5 s in) at every connect. */
#define SC_POSIX_MQTT_LOOKUP_LAST_MS 10000

sc_err_t sc_posix_mqtt_init(sc_hal_mqtt_t *out);
void sc_posix_mqtt_cleanup(sc_hal_mqtt_t *mqtt);
/* Messages dropped because the inbound queue was full; *long_topics (when not NULL): those
 * dropped because their topic was longer than sc_mqtt_msg_t's 159 bytes. */
unsigned sc_posix_mqtt_dropped(const sc_hal_mqtt_t *mqtt, unsigned *long_topics);
/* A descriptor readable (POLLIN) while the inbound queue holds a message: a loop that polls it
 * reads each message as it comes instead of at its next tick (the queue is small). Poll it only
 * while something calls poll() on this HAL, or it stays readable. */
int sc_posix_mqtt_fd(const sc_hal_mqtt_t *mqtt);

#ifdef __cplusplus
}
#endif
#endif
