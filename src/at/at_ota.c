/* SPDX-License-Identifier: Apache-2.0 */
/* The OTA AT commands: AT+TCOTASET, AT+TCFWINFO, AT+TCREADFWDATA and the +TCOTASTATUS URCs
 * (docs/ota.md, docs/at.md). Replies and codes as the reference firmware prints them; the
 * update itself is the OTA core's (smartcfg/ota.h). */
#include <stdio.h>
#include <string.h>

#include "at_ota.h"

/* AT+TCOTASET=<ctlstate>,"<fw_ver>": 1 subscribes $ota/update and reports the version (again
 * when already on), 0 stops the background task. */
static void otaset(const sc_at_ota_env_t *e, int form, const sc_at_arg_t *a, size_t n)
{
    if (form == SC_AT_OTA_FORM_TEST) {
        sc_at_line(&e->out, "+TCOTASET:1(ENABLE)/0(DISABLE),\"FW_version\"");
        sc_at_line(&e->out, "OK");
        return;
    }
    if (form == SC_AT_OTA_FORM_QUERY) {
        if (!e->ota) {
            sc_at_cme(&e->out, SC_AT_CME_EXEC);
            return;
        }
        char b[24 + SC_OTA_VERSION_MAX];
        snprintf(b, sizeof b, "+TCOTASET:%d,\"%s\"", sc_ota_enabled(e->ota) ? 1 : 0, sc_ota_version(e->ota));
        sc_at_line(&e->out, "OK");   /* the reference prints its OK before the answer (the PDF, its test report) */
        sc_at_line(&e->out, b);
        return;
    }
    /* The reference: "ctrl invalid" / "version name oversize" -> parameter error. */
    if (n != 2 || !a[0].is_int || (a[0].v != 0 && a[0].v != 1) || !a[1].is_str || a[1].slen < 1 ||
        a[1].slen > SC_OTA_VERSION_MAX || memchr(a[1].s, '"', a[1].slen) || memchr(a[1].s, '\\', a[1].slen)) {
        sc_at_cme(&e->out, SC_AT_CME_PARAM);
        return;
    }
    if (!e->ota) {
        sc_at_cme(&e->out, SC_AT_CME_EXEC);
        return;
    }
    if (a[0].v == 1 && (sc_ota_downloading(e->ota) || !e->mqtt_up || !e->dev)) {
        sc_at_cme(&e->out, SC_AT_CME_STATE);   /* downloading, or "mqtt ota not ready" */
        return;
    }
    sc_at_line(&e->out, "OK");
    if (a[0].v == 0) {
        sc_ota_disable(e->ota);
        sc_at_line(&e->out, "+TCOTASET:OK");
        return;
    }
    sc_err_t r = sc_ota_enable(e->ota, e->dev->product_id, e->dev->device_name, a[1].s, e->now_ms);
    if (r == SC_OK) {
        sc_at_line(&e->out, "+TCOTASET:OK");
        return;
    }
    if (r == SC_ERR_AGAIN)
        return;   /* +TCOTASET:OK once the broker granted the subscription (sc_at_ota_urc) */
    char b[32];
    snprintf(b, sizeof b, "+TCOTASET:FAIL,%d", r == SC_ERR_RANGE ? SC_AT_CME_PARAM : SC_AT_CME_EXEC);
    sc_at_line(&e->out, b);
}

/* AT+TCFWINFO?: the stored image; rewinds AT+TCREADFWDATA. */
static void fwinfo(const sc_at_ota_env_t *e, int form)
{
    if (form == SC_AT_OTA_FORM_TEST) {
        sc_at_line(&e->out, "+TCFWINFO:\"FW_VERSION\",\"FW_SIZE\",\"FW_MD5\",\"FW_MAX_SIZE_OF_MODULE\"");
        sc_at_line(&e->out, "OK");
        return;
    }
    if (e->ota && sc_ota_downloading(e->ota)) {
        sc_at_cme(&e->out, SC_AT_CME_STATE);   /* "firmware is downloading" */
        return;
    }
    sc_ota_fwinfo_t fi;
    if (!e->ota || sc_ota_fw_info(e->ota, &fi) != SC_OK) {
        sc_at_cme(&e->out, SC_AT_CME_FIRMWARE);   /* no valid firmware */
        return;
    }
    char b[48 + SC_OTA_VERSION_MAX + SC_OTA_MD5_HEX];
    snprintf(b, sizeof b, "+TCFWINFO:\"%s\",%lu,\"%s\",%lu", fi.version, (unsigned long)fi.size, fi.md5,
             (unsigned long)sc_ota_max_size(e->ota));
    sc_at_line(&e->out, "OK");
    sc_at_line(&e->out, b);
}

/* AT+TCREADFWDATA=<len>: the next <len> bytes (fewer at the end) as
 * "+TCREADFWDATA:<n>,<n raw bytes>\r\n" — raw, as the reference and its test tool do. */
static void readfw(const sc_at_ota_env_t *e, int form, const sc_at_arg_t *a, size_t n)
{
    if (form == SC_AT_OTA_FORM_TEST) {
        sc_at_line(&e->out, "+TCREADFWDATA:\"LEN_FOR_READ\"");
        sc_at_line(&e->out, "OK");
        return;
    }
    if (n != 1 || !a[0].is_int || a[0].v < 1 || a[0].v > SC_AT_FWREAD_MAX) {
        sc_at_cme(&e->out, SC_AT_CME_PARAM);   /* "read_size_bytes oversize" */
        return;
    }
    if (e->ota && sc_ota_downloading(e->ota)) {
        sc_at_cme(&e->out, SC_AT_CME_STATE);
        return;
    }
    uint8_t *buf = e->scratch;   /* not on a small stack, not static: at.c's idle PUBL buffer */
    size_t got = 0;
    sc_err_t r = e->ota && e->scratch_len >= (size_t)a[0].v ? sc_ota_fw_read(e->ota, buf, (size_t)a[0].v, &got)
                                                              : SC_ERR_NOTFOUND;
    if (r != SC_OK) {
        /* none stored: 205; read to the end already ("firmware is read completely", rewind
         * with AT+TCFWINFO?): 208; the store failed: 207. */
        sc_at_cme(&e->out, r == SC_ERR_NOTFOUND ? SC_AT_CME_FIRMWARE : r == SC_ERR_DONE ? SC_AT_CME_STATE : SC_AT_CME_FLASH);
        return;
    }
    char h[32];
    snprintf(h, sizeof h, "+TCREADFWDATA:%lu,", (unsigned long)got);
    sc_at_line(&e->out, "OK");
    e->out.emit(e->out.user, h, strlen(h));
    e->out.emit(e->out.user, (const char *)buf, got);
    e->out.emit(e->out.user, "\r\n", 2);
}

void sc_at_ota_cmd(const sc_at_ota_env_t *e, const char *name, int form, const sc_at_arg_t *a, size_t n)
{
    if (!strcmp(name, "+TCOTASET"))
        otaset(e, form, a, n);
    else if (!strcmp(name, "+TCFWINFO"))
        fwinfo(e, form);
    else
        readfw(e, form, a, n);
}

void sc_at_ota_urc(const sc_at_sink_t *out, sc_ota_event_t ev, int code)
{
    char b[40];
    if (ev == SC_OTA_EV_ENABLED && code == 0)
        snprintf(b, sizeof b, "+TCOTASET:OK");
    else if (ev == SC_OTA_EV_ENABLED)   /* no SUBACK in time: 202; refused: 209 */
        snprintf(b, sizeof b, "+TCOTASET:FAIL,%d", code == SC_ERR_TIMEOUT ? SC_AT_CME_TIMEOUT : SC_AT_CME_EXEC);
    else if (ev == SC_OTA_EV_ENTER_UPDATE)
        snprintf(b, sizeof b, "+TCOTASTATUS:ENTERUPDATE");
    else if (ev == SC_OTA_EV_SUCCESS)
        snprintf(b, sizeof b, "+TCOTASTATUS:UPDATESUCCESS");
    else
        snprintf(b, sizeof b, "+TCOTASTATUS:UPDATEFAIL,%d", code);
    sc_at_line(out, b);
}
