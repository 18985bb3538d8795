/* SPDX-License-Identifier: Apache-2.0 */
/* Readiness of this worker (GET /readyz, docs/cloud.md "Health and metrics"): whether it can do
 * its work now. Three parts, each refreshed away from the HTTP threads, so an answer never waits
 * on the database or the broker:
 *   - the store: a thread of its own asks every second, on its own connection, whether a write
 *     would get through (cloud_store_writable: SQLite's write lock free within
 *     CLOUD_HEALTH_WRITE_MS; PostgreSQL not a standby, not read-only); the store is up while
 *     the last yes is at most CLOUD_HEALTH_STORE_MS old, so a question hanging on an
 *     unreachable server turns it down within that bound;
 *   - the broker side: the main loop says after each pass whether the supervised mosquitto runs
 *     and the binding service is connected (or, --rabbitmq, the AMQP consumer is connected);
 *   - that main loop itself: a pass more than CLOUD_HEALTH_LOOP_MS ago means it is stuck.
 * Any thread may read. */
#ifndef SMARTCFG_APPS_CLOUD_HEALTH_H
#define SMARTCFG_APPS_CLOUD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#define CLOUD_HEALTH_PROBE_MS 1000
#define CLOUD_HEALTH_STORE_MS 3000
#define CLOUD_HEALTH_WRITE_MS 1000
#define CLOUD_HEALTH_LOOP_MS 10000

/* Starts the store's probe on its own lazily opened connection (never waits for the server).
 * 0, or -1 with err. */
int cloud_health_start(const char *dbspec, char *err, size_t errlen);
/* Asks the probe to end without waiting (a stop begins every part's at once). */
void cloud_health_stop_begin(void);
/* cloud_health_stop_begin if not done yet, then waits for the probe at most 2 s from that. */
void cloud_health_stop(void);
/* The main loop, after each pass: the broker side is up or not. */
void cloud_health_broker(bool up);
/* NULL when ready; else the first reason, one word: "starting" (the main loop has not passed
 * yet), "store", "broker", "stalled" (the main loop). */
const char *cloud_health_not_ready(void);
bool cloud_health_store_up(void);
/* -1 not reported yet, else 0 / 1. */
int cloud_health_broker_up(void);

#endif
