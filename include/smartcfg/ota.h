/* SPDX-License-Identifier: Apache-2.0 */
/* OTA, the device side of IoT Explorer's firmware update protocol (docs/ota.md): reports the
 * local version on $ota/report/P/D, takes the update message from $ota/update/P/D, downloads
 * the image over the HAL's streamed HTTP GET (resuming with a Range after a dropped
 * connection), checks its MD5, reports progress, and keeps the image in the HAL's firmware
 * store for the host to read (AT+TCFWINFO? / AT+TCREADFWDATA). Sans-I/O: messages in through
 * sc_ota_on_message(), time through sc_ota_step(); MQTT, HTTP, the image and the "fwinfo"
 * record go through the HAL. No heap; the context is caller-owned. */
#ifndef SMARTCFG_OTA_H
#define SMARTCFG_OTA_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_OTA_VERSION_MAX 32     /* the SDK's version strings: 1..32 characters */
#define SC_OTA_URL_MAX 512
#define SC_OTA_MD5_HEX 32
/* How long a download may go without a byte before the try counts as failed, and how many
 * tries (the first plus resumes) one update gets. */
#define SC_OTA_STALL_MS 20000u
#define SC_OTA_TRIES 5u
#define SC_OTA_RETRY_MS 1000u
#define SC_OTA_SUBACK_MS 10000u   /* how long AT+TCOTASET=1 waits for the broker's SUBACK */

/* IoT Explorer's report_progress result codes (the SDK's IOT_OTAR_*): also the code of the
 * +TCOTASTATUS:UPDATEFAIL URC. */
enum {
    SC_OTA_RESULT_TIMEOUT = -1,      /* download failed / timed out */
    SC_OTA_RESULT_NOT_EXIST = -2,    /* 404 */
    SC_OTA_RESULT_AUTH = -3,         /* 401 / 403 */
    SC_OTA_RESULT_MD5 = -4,          /* MD5 mismatch */
    SC_OTA_RESULT_UPGRADE = -5       /* could not store the image (too big, storage failed) */
};

typedef enum {
    SC_OTA_EV_ENABLED,               /* after SC_ERR_AGAIN from sc_ota_enable: code 0 (the SUBACK
                                      * granted, version reported), SC_ERR_REFUSED, SC_ERR_TIMEOUT */
    SC_OTA_EV_ENTER_UPDATE,          /* the update message was accepted: downloading */
    SC_OTA_EV_SUCCESS,               /* stored and checked */
    SC_OTA_EV_FAIL                   /* code: SC_OTA_RESULT_* */
} sc_ota_event_t;

typedef void (*sc_ota_event_cb)(void *user, sc_ota_event_t ev, int code);

/* The complete image the store holds (the "fwinfo" record). */
typedef struct {
    char version[SC_OTA_VERSION_MAX + 1];
    uint32_t size;
    char md5[SC_OTA_MD5_HEX + 1];
} sc_ota_fwinfo_t;

/* Context: caller-owned storage (common.h), ~1.9 KiB (the URL, a 512-byte transfer buffer,
 * the running MD5). */
#define SC_OTA_SIZE (1664u + 8u * sizeof(void *))
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_OTA_SIZE)];
} sc_ota_t;

/* hal: mqtt (publish, subscribe), http.get_*, fw.*, storage (the "fwinfo" record); kept by
 * pointer (it must outlive ota). Without get_start, get_read, fw.write, fw.commit or
 * storage.put an update ends with a failure report; without fw.read or storage.get there is
 * no image to read back.
 * max_size: the largest image accepted (what AT+TCFWINFO? reports as the module's buffer). */
SC_API sc_err_t sc_ota_init(sc_ota_t *ota, const sc_hal_t *hal, uint32_t max_size, sc_ota_event_cb cb, void *user);
/* AT+TCOTASET=1: subscribe $ota/update/P/D and report version (again when already enabled).
 * SC_OK done (a port without SUBACK tracking), SC_ERR_AGAIN the SUBSCRIBE is out and the
 * version is reported once the broker grants it (SC_OTA_EV_ENABLED tells), SC_ERR_BUSY while
 * downloading, SC_ERR_RANGE bad version, SC_ERR_IO MQTT refused, SC_ERR_UNSUPPORTED no
 * mqtt.publish, or neither subscribe nor subscribe_req, in the HAL. As the reference: only a
 * granted subscription makes an update message reach us, so success waits for it. */
SC_API sc_err_t sc_ota_enable(sc_ota_t *ota, const char *product_id, const char *device_name, const char *version,
                              uint32_t now_ms);
/* AT+TCOTASET=0: cancels a download (the partial image is dropped) and stops listening. */
SC_API void sc_ota_disable(sc_ota_t *ota);
SC_API bool sc_ota_enabled(const sc_ota_t *ota);
SC_API bool sc_ota_downloading(const sc_ota_t *ota);
SC_API const char *sc_ota_version(const sc_ota_t *ota);   /* the version last enabled with ("" none) */
/* A message from the MQTT session: SC_ERR_NOTFOUND when it is not ours (pass it on),
 * SC_OK when consumed (a malformed update is consumed and ignored: logged, nothing changes). */
SC_API sc_err_t sc_ota_on_message(sc_ota_t *ota, const char *topic, const void *payload, size_t len, uint32_t now_ms);
/* The MQTT session came back: subscribe again. */
SC_API void sc_ota_reconnected(sc_ota_t *ota);
/* Moves the download on; returns the next deadline. */
SC_API uint32_t sc_ota_step(sc_ota_t *ota, uint32_t now_ms);
/* The stored image's record; rewinds the host's read position (AT+TCFWINFO?).
 * SC_ERR_NOTFOUND: no valid image. */
SC_API sc_err_t sc_ota_fw_info(sc_ota_t *ota, sc_ota_fwinfo_t *out);
/* The next bytes of the image for the host (AT+TCREADFWDATA); *len < cap at the end.
 * SC_ERR_DONE: everything was read already (AT+TCFWINFO? rewinds); SC_ERR_NOTFOUND no
 * image; SC_ERR_IO the store failed. */
SC_API sc_err_t sc_ota_fw_read(sc_ota_t *ota, void *buf, size_t cap, size_t *len);
SC_API uint32_t sc_ota_max_size(const sc_ota_t *ota);
/* AT+TCRESTORE: stops (as sc_ota_disable) and forgets the stored image: its record is
 * erased, so AT+TCFWINFO? answers "no image" (the PDF: restore clears the cached firmware). */
SC_API void sc_ota_forget(sc_ota_t *ota);

#ifdef __cplusplus
}
#endif
#endif
