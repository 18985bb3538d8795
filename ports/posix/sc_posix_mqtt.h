/* POSIX MQTT client HAL over libmosquitto (MQTT 3.1.1, plain or TLS).
 *
 *   sc_hal_mqtt_t mqtt;
 *   if (sc_posix_mqtt_init(&mqtt) != SC_OK) ...;   // allocates mqtt.ctx
 *   hal.mqtt = mqtt;                               // then use it through the HAL table
 *   ...
 *   sc_posix_mqtt_cleanup(&mqtt);                  // disconnects, joins the thread, frees
 *
 * connect() resolves and opens the TCP connection synchronously (bounded by the kernel's
 * connect timeout), then runs libmosquitto's network loop in its own thread; every other
 * call returns at once. Callbacks of that thread only fill a mutex-protected inbound queue
 * (SC_POSIX_MQTT_QUEUE messages; the oldest are kept, new ones dropped and counted when it is
 * full) and a ring of acknowledged message ids, which poll() and puback_received() read.
 * state() reason on SC_MQTT_FAILED: the CONNACK return code (1..5, e.g. 4 bad user name or
 * password, 5 not authorised) or, when the TCP/TLS connection itself failed, the errno
 * (e.g. 111 ECONNREFUSED) — connect() then returns SC_ERR_IO.
 * TLS: params->tls uses params->ca_file (a PEM bundle; NULL: /etc/ssl/certs/ca-certificates.crt)
 * and verifies the broker's host name. No automatic reconnect: the core decides.
 * The password is copied into libmosquitto and never logged. */
#ifndef SC_POSIX_MQTT_H
#define SC_POSIX_MQTT_H

#include "smartcfg/hal.h"

#define SC_POSIX_MQTT_QUEUE 16

sc_err_t sc_posix_mqtt_init(sc_hal_mqtt_t *out);
void sc_posix_mqtt_cleanup(sc_hal_mqtt_t *mqtt);
/* Messages dropped because the inbound queue was full. */
unsigned sc_posix_mqtt_dropped(const sc_hal_mqtt_t *mqtt);

#endif
