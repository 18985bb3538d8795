/* SPDX-License-Identifier: Apache-2.0 */
/* AT-internal: the OTA commands (at_ota.c) as at.c's dispatcher calls them. at.c keeps the
 * line handling and the parser; this is the narrow view the OTA commands need of them. */
#ifndef SC_AT_OTA_H
#define SC_AT_OTA_H

#include "smartcfg/at.h"

#include "at_sink.h"

/* One parsed parameter. */
typedef struct {
    bool is_str, is_int;
    const char *s;   /* decoded string ("" for integers) */
    size_t slen;
    long v;
} sc_at_arg_t;

typedef struct {
    sc_ota_t *ota;                 /* NULL: no OTA in this build/port */
    const sc_identity_t *dev;      /* stored device info (NULL: none) */
    bool mqtt_up;                  /* the AT MQTT session is connected */
    sc_at_sink_t out;              /* the answers' way to the host */
    uint32_t now_ms;
    uint8_t *scratch;              /* AT+TCREADFWDATA's buffer (at.c lends its idle PUBL one) */
    size_t scratch_len;            /* >= SC_AT_FWREAD_MAX */
} sc_at_ota_env_t;

/* form: 0 exec, 1 query ("?"), 3 set ("="); the test form ("=?", 2) never comes here: at.c's
 * dispatcher answers it from its table. n: parameters seen (may exceed the entries in args,
 * then the count alone tells "too many"). */
#define SC_AT_OTA_FORM_QUERY 1
#define SC_AT_OTA_FORM_TEST 2
#define SC_AT_OTA_FORM_SET 3
/* cmd: which command, in at.c's table order (it passes its index less AT+TCFWINFO's). */
enum { SC_AT_OTA_FWINFO, SC_AT_OTA_OTASET, SC_AT_OTA_READFWDATA };
void sc_at_ota_cmd(const sc_at_ota_env_t *env, int cmd, int form, const sc_at_arg_t *args, size_t n);
void sc_at_ota_urc(const sc_at_sink_t *out, sc_ota_event_t ev, int code);

#endif
