/* SPDX-License-Identifier: Apache-2.0 */
/* The OTA AT commands: AT+TCOTASET, AT+TCFWINFO, AT+TCREADFWDATA and the +TCOTASTATUS URCs
 * (docs/ota.md, docs/at.md). Replies and codes as the reference firmware prints them; the
 * update itself is the OTA core's (smartcfg/ota.h). */
#include <string.h>

#include "at_ota.h"

/* AT+TCOTASET=<ctlstate>,"<fw_ver>": 1 subscribes $ota/update and reports the version (again
 * when already on), 0 stops the background task. */
static void otaset(const sc_at_ota_env_t *e, int form, const sc_at_arg_t *a, size_t n)
{
    if (form == SC_AT_OTA_FORM_QUERY) {
        if (!e->ota) {
            sc_at_cme(&e->out, SC_AT_CME_EXEC);
            return;
        }
        /* the reference prints its OK before the answer (the PDF, its test report) */
        sc_at_say(&e->out, "OK\n+TCOTASET:%d,\"%s\"", sc_ota_enabled(e->ota) ? 1 : 0, sc_ota_version(e->ota));
        return;
    }
    /* The reference: "ctrl invalid" / "version name oversize" -> parameter error. */
    if (n != 2 || !a[0].is_int || (a[0].v != 0 && a[0].v != 1) || !a[1].is_str || a[1].slen < 1 ||
        a[1].slen > SC_OTA_VERSION_MAX || strpbrk(a[1].s, "\"\\,")) {
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
    sc_at_say(&e->out, "+TCOTASET:FAIL,%d", r == SC_ERR_RANGE ? SC_AT_CME_PARAM : SC_AT_CME_EXEC);
}

/* AT+TCFWINFO?: the stored image; rewinds AT+TCREADFWDATA. */
static void fwinfo(const sc_at_ota_env_t *e)
{
    if (e->ota && sc_ota_downloading(e->ota)) {
        sc_at_cme(&e->out, SC_AT_CME_STATE);   /* "firmware is downloading" */
        return;
    }
    sc_ota_fwinfo_t fi;
    if (!e->ota || sc_ota_fw_info(e->ota, &fi) != SC_OK) {
        sc_at_cme(&e->out, SC_AT_CME_FIRMWARE);   /* no valid firmware */
        return;
    }
    sc_at_say(&e->out, "OK\n+TCFWINFO:\"%s\",%u,\"%s\",%u", fi.version, (unsigned)fi.size, fi.md5,
              (unsigned)sc_ota_max_size(e->ota));
}

/* AT+TCREADFWDATA=<len>: the next <len> bytes (fewer at the end) as
 * "+TCREADFWDATA:<n>,<n raw bytes>\r\n" — raw, as the reference and its test tool do. */
static void readfw(const sc_at_ota_env_t *e, const sc_at_arg_t *a, size_t n)
{
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
    sc_at_say(&e->out, "OK\n+TCREADFWDATA:%u,%b", (unsigned)got, (const char *)buf, got);
}

void sc_at_ota_cmd(const sc_at_ota_env_t *e, int cmd, int form, const sc_at_arg_t *a, size_t n)
{
    if (cmd == SC_AT_OTA_OTASET)
        otaset(e, form, a, n);
    else if (cmd == SC_AT_OTA_FWINFO)
        fwinfo(e);
    else
        readfw(e, a, n);
}

void sc_at_ota_urc(const sc_at_sink_t *out, sc_ota_event_t ev, int code)
{
    const char *f;
    if (ev == SC_OTA_EV_ENABLED && code == 0)
        f = "+TCOTASET:OK";
    else if (ev == SC_OTA_EV_ENABLED) {   /* no SUBACK in time: 202; refused: 209 */
        f = "+TCOTASET:FAIL,%d";
        code = code == SC_ERR_TIMEOUT ? SC_AT_CME_TIMEOUT : SC_AT_CME_EXEC;
    } else if (ev == SC_OTA_EV_ENTER_UPDATE)
        f = "+TCOTASTATUS:ENTERUPDATE";
    else if (ev == SC_OTA_EV_SUCCESS)
        f = "+TCOTASTATUS:UPDATESUCCESS";
    else
        f = "+TCOTASTATUS:UPDATEFAIL,%d";
    sc_at_say(out, f, code);
}
