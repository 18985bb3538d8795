/* SPDX-License-Identifier: Apache-2.0 */
/* OTA on the local cloud (cloud_ota.c, docs/ota.md): firmware uploads kept beside the
 * registry, the update push on $ota/update/P/D, the image served over HTTP(S) with Range,
 * the devices' $ota/report/P/D version and progress reports recorded. Internal to apps/cloud. */
#ifndef SMARTCFG_APPS_CLOUD_OTA_H
#define SMARTCFG_APPS_CLOUD_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

struct cJSON;
typedef struct cloud_ota cloud_ota_t;

/* cloud_http.c's replies, for the endpoints here: a JSON object (freed), and {"error": msg}. */
enum MHD_Result cloud_http_json(struct MHD_Connection *c, unsigned status, struct cJSON *obj);
enum MHD_Result cloud_http_error(struct MHD_Connection *c, unsigned status, const char *msg);

/* fwdir: where images live (created 0700). The MQTT client uses the service identity. */
cloud_ota_t *cloud_ota_new(const char *dbpath, const char *fwdir, const char *mqtt_host, uint16_t mqtt_port,
                           const char *user, const char *pass, char *err, size_t errlen);
/* The main loop, each pass: asks the broker again for a subscription it refused
 * (cloud_mosq_retry). NULL: nothing. */
void cloud_ota_retry(cloud_ota_t *o);
/* Begins its MQTT client's stop without waiting (cloud_mosq_stop); NULL: nothing. */
void cloud_ota_stop(cloud_ota_t *o);
/* false: its MQTT client's thread did not stop in time (cloud_mosq_free), nothing was freed. */
bool cloud_ota_free(cloud_ota_t *o);
/* Its MQTT client (progress reports, the push) is connected to the broker and its subscription
 * granted (GET /readyz). */
bool cloud_ota_connected(const cloud_ota_t *o);

/* HTTP side, called by cloud_http.c. An upload streams to a file as it arrives (an image is
 * far bigger than the API's 16 KiB body limit). */
typedef struct cloud_ota_upload cloud_ota_upload_t;
bool cloud_ota_upload_url(const char *url, const char *method);
cloud_ota_upload_t *cloud_ota_upload_open(cloud_ota_t *o, const char *url);
void cloud_ota_upload_data(cloud_ota_upload_t *u, const char *data, size_t len);
void cloud_ota_upload_free(cloud_ota_upload_t *u);
/* The admin endpoints under /v1/products/<P>/firmware and /v1/products/<P>/devices/<D>/ota;
 * false when url is not one of them. */
bool cloud_ota_owns(const char *url);
enum MHD_Result cloud_ota_admin(cloud_ota_t *o, struct MHD_Connection *c, const char *url, const char *method,
                                const char *body, size_t len, cloud_ota_upload_t *up, bool https);
/* Removes the image files no ota_firmware row names any more (a product deleted in the console
 * took its rows along). HTTP thread, like the uploads (a finished upload's file is renamed into
 * place just before its row is written, in the same request). */
void cloud_ota_sweep(cloud_ota_t *o);
/* GET /ota/<token>: the image, unauthenticated (the token in the URL is the capability). */
enum MHD_Result cloud_ota_serve(cloud_ota_t *o, struct MHD_Connection *c, const char *token, const char *method);

#endif
