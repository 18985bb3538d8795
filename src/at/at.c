/* SPDX-License-Identifier: Apache-2.0 */
/* AT command front-end: line assembly, parameter parsing, dispatch, replies.
 * Reply strings follow docs/protocol/tencent.md#at-commands (the reference AT firmware); docs/at.md lists them. */
#include <stdarg.h>
#include <string.h>

#include "smartcfg/at.h"

#include "../common/outline.h"
#include "../common/pool.h"
#include "../common/state.h"
#include "at_gw.h"
#include "at_ota.h"
#include "at_sink.h"

/* The AT context behind sc_at_t. */
typedef struct {
    sc_at_config_t cfg;
    sc_at_ops_t ops;
    /* line assembly */
    char line[SC_AT_LINE_MAX + 1];
    size_t len;
    bool overflow;             /* line exceeded SC_AT_LINE_MAX: discard to "\r\n" */
    bool bad_byte;             /* non-printable byte seen in this line */
    bool cr;                   /* previous byte was '\r' */
    bool echo;
    /* state */
    sc_at_info_t dev;          /* cache of "devinfo" */
    sc_at_info_t prd;          /* cache of "prdinfo" */
    bool mqtt_task;            /* after AT+TCMQTTCONN until AT+TCMQTTDISCONN / final disconnect */
    uint8_t log_level;         /* AT+TCLOG */
    bool mqtt_params_valid;
    sc_at_mqtt_params_t mqtt_params;
    sc_at_flow_t flow;         /* provisioning flow running (URC pending) */
    int pending;               /* command whose result line is outstanding (0: none) */
    uint32_t pending_deadline;
    sc_identity_t scratch;     /* dynreg working copy */
    uint8_t scratch_tls;
    uint32_t now_ms;
    /* ESP-AT basics */
    uint8_t cwmode;            /* AT+CWMODE: 0 off, 1 station, 2 soft-AP, 3 both */
    uint8_t sysmsg;            /* AT+SYSMSG bits */
    uint32_t uart[5];          /* AT+UART_CUR: baud, data bits, stop bits, parity, flow control */
    bool lf_in_line;           /* a bare LF inside the line (only AT+TCMQTTPUB's payload takes it) */
    /* MQTT data channel */
    struct {
        char topic[SC_AT_TOPIC_MAX + 1];
        uint8_t qos;
    } subs[SC_AT_SUB_MAX];
    uint8_t nsubs;
    char req_topic[SC_AT_TOPIC_MAX + 1];   /* the SUB/UNSUB being answered */
    uint8_t req_qos;
    uint8_t publ;              /* 0, or the command collecting its payload (PUBL / PUBRAW) */
    uint8_t publ_qos;
    uint16_t publ_len, publ_got;
    uint32_t publ_deadline;
    char publ_topic[SC_AT_TOPIC_MAX + 1];
    uint8_t publ_buf[SC_AT_PUBL_MAX];
    /* AT+TCMODINFOSET (RAM only) */
    char mod_name[31];
    uint8_t mod_flash, mod_gpio, mod_connid;
    uint32_t mod_base, mod_max;
    sc_ota_t *ota;             /* AT+TCOTASET & co. (at_ota.c); NULL: no OTA */
    sc_at_gw_t gw;             /* AT+TCGWBIND / AT+TCGWONLINE (at_gw.c) */
} at_state_t;
SC_STATE_FITS(at_state_t, sc_at_t);

static inline at_state_t *AT(sc_at_t *at) { return (at_state_t *)(void *)at; }
static inline const at_state_t *CAT(const sc_at_t *at) { return (const at_state_t *)(const void *)at; }

#define DEFAULT_REGION "ap-guangzhou"
#define REGION_MAX_LEN 24        /* reference MAX_SIZE_OF_PRODUCT_REGION */
#define CMD_TIMEOUT_MIN 1000u
#define CMD_TIMEOUT_MAX 20000u   /* reference MAX_COMMAND_TIMEOUT */
#define MQTT_MANUALLY_DISCONNECTED 2 /* QCLOUD_RET_MQTT_MANUALLY_DISCONNECTED */
#define LOG_PASSWORD 86013388L    /* AT+TCLOG's first parameter (the reference's 0x052075CC) */
#define LOG_LEVEL_ERROR 1

/* ---------------------------------------------------------------- output */

static void emit(at_state_t *at, const char *data, size_t len)
{
    if (at->cfg.output && len)
        at->cfg.output(at->cfg.output_user, data, len);
}

static void sink_emit(void *user, const char *data, size_t len)
{
    emit(user, data, len);
}

/* Answer lines from a format (at_sink.h: '\n' ends a line, %s %q %d %u %m %a %b). */
static void say(at_state_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc_at_vsay(&(sc_at_sink_t){ sink_emit, at }, fmt, ap);
    va_end(ap);
}

static void reply(at_state_t *at, const char *line)
{
    say(at, "%s", line);
}

static void reply_ok(at_state_t *at)
{
    say(at, "OK");
}

static void reply_error(at_state_t *at)
{
    say(at, "ERROR");
}

static void reply_cme(at_state_t *at, int code)
{
    say(at, "+CME ERROR:%d", code);
}

static const char *cname(unsigned ci);

/* "+TCxxx:OK" or "+TCxxx:FAIL,<code>" for the ci-th command */
static void reply_result(at_state_t *at, unsigned ci, int code)
{
    say(at, code == 0 ? "%s:OK" : "%s:FAIL,%d", cname(ci), code);
}

/* ---------------------------------------------------------------- parameters */

/* The parameters in the shape the OTA and gateway commands take them (at_ota.h), so they
 * get the array itself, no converted copy; each one's span in the line (raw) beside it. */
typedef struct {
    sc_at_arg_t p[SC_AT_MAX_PARAMS];  /* is_str: decoded, NUL-terminated; is_int: v; neither: "" */
    size_t raw[SC_AT_MAX_PARAMS][2];  /* [begin, end) in the line, for echo masking */
    size_t n;           /* parameters seen (may exceed SC_AT_MAX_PARAMS: then only counted) */
    char store[SC_AT_LINE_MAX + SC_AT_MAX_PARAMS + 1];
} params_t;

/* Parses s[0..len) as ESP-AT parameters: "quoted" strings with \" \\ \, escapes, or bare
 * integers. Returns false on a syntax error (the line gets ERROR); type and count errors
 * are left to the command (they get +CME ERROR:204). Out of line in a size build (SC_OUTLINE):
 * inlined into its one caller, handle_line, its loop and the dispatch spilled each other's
 * registers (60 bytes). */
SC_OUTLINE static bool parse_params(const char *s, size_t len, size_t base, params_t *ps)
{
    size_t i = 0, used = 0;
    ps->n = 0;
    for (;;) {
        sc_at_arg_t tmp;
        size_t tmp_raw[2];
        bool kept = ps->n < SC_AT_MAX_PARAMS;
        sc_at_arg_t *p = kept ? &ps->p[ps->n] : &tmp;
        size_t *raw = kept ? ps->raw[ps->n] : tmp_raw;
        char *dst = ps->store + used;
        raw[0] = base + i;
        if (i < len && s[i] == '"') {
            size_t n = 0;
            i++;
            for (;;) {
                if (i >= len)
                    return false;           /* unterminated */
                char c = s[i++];
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (i >= len || (s[i] != '"' && s[i] != '\\' && s[i] != ','))
                        return false;       /* unknown escape */
                    c = s[i++];
                }
                dst[n++] = c;
            }
            dst[n] = 0;
            p->is_str = true;
            p->is_int = false;
            p->s = dst;
            p->slen = n;
            used += n + 1;
        } else {
            size_t b = i;
            while (i < len && s[i] != ',') {
                if (s[i] == '"' || s[i] == '\\')
                    return false;           /* quote inside a bare value */
                i++;
            }
            size_t k = b;
            bool neg = k < i && s[k] == '-';
            if (neg)
                k++;
            long v = 0;
            bool ok = k < i && i - k <= 9;  /* fits any int32 range we check */
            for (; ok && k < i; k++) {
                if (s[k] < '0' || s[k] > '9')
                    ok = false;
                else
                    v = v * 10 + (s[k] - '0');
            }
            p->is_str = false;
            p->is_int = ok;
            p->v = neg ? -v : v;
            p->s = "";
            p->slen = 0;
        }
        raw[1] = base + i;
        ps->n++;
        if (i >= len)
            return true;
        if (s[i] != ',')
            return false;                   /* text after a closing quote */
        i++;
    }
}

/* The parameter checks: inline in a size build too (SC_INLINE), where k, min and max are
 * constants that fold into the command's own tests (216 bytes less with refused_busy). */
static SC_INLINE bool p_str(const params_t *ps, size_t k, size_t min, size_t max)
{
    return k < ps->n && k < SC_AT_MAX_PARAMS && ps->p[k].is_str && ps->p[k].slen >= min &&
           ps->p[k].slen <= max;
}

static SC_INLINE bool p_int(const params_t *ps, size_t k, long min, long max)
{
    return k < ps->n && k < SC_AT_MAX_PARAMS && ps->p[k].is_int && ps->p[k].v >= min &&
           ps->p[k].v <= max;
}

/* ---------------------------------------------------------------- storage */

static sc_err_t info_save(at_state_t *at, const char *key, const sc_at_info_t *info, bool product)
{
    if (!at->cfg.storage || !at->cfg.storage->put)
        return SC_OK;
    uint8_t rec[SC_AT_RECORD_SIZE];
    sc_err_t e = sc_at_record_encode(info, product, rec);
    if (e == SC_OK)
        e = at->cfg.storage->put(at->cfg.storage->ctx, key, rec, sizeof rec);
    sc_wipe(rec, sizeof rec);   /* holds the secret */
    return e;
}

static void info_load(at_state_t *at, const char *key, sc_at_info_t *info, bool product)
{
    memset(info, 0, sizeof *info);
    if (!at->cfg.storage || !at->cfg.storage->get)
        return;
    uint8_t rec[SC_AT_RECORD_SIZE + 1];
    size_t len = 0;
    if (at->cfg.storage->get(at->cfg.storage->ctx, key, rec, sizeof rec, &len) == SC_OK)
        (void)sc_at_record_decode(rec, len, product, info);
    sc_wipe(rec, sizeof rec);
}

/* Every info held here is zero past each string's NUL (cleared, then filled by length: cmd_info,
 * finish_devreg, sc_at_record_decode; AT+TCRESTORE clears) and has no padding, so equal strings
 * are equal bytes: one memcmp instead of five strcmp. */
_Static_assert(sizeof(sc_at_info_t) == 2 + (SC_PRODUCT_ID_MAX + 1) + (SC_DEVICE_NAME_MAX + 1) +
                                           (SC_DEVICE_SECRET_MAX + 1) + (SC_PRODUCT_SECRET_MAX + 1) + (SC_REGION_MAX + 1),
               "sc_at_info_t is bytes only: no padding for memcmp to trip on");
static bool info_equal(const sc_at_info_t *a, const sc_at_info_t *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* The identity the provisioning flows use: device info, else product info (dynamic
 * registration then runs in the flow, as the reference's _load_device_info falls back). */
static const sc_identity_t *flow_identity(at_state_t *at, uint8_t *tls)
{
    if (at->dev.valid) {
        at->scratch = at->dev.id;
        if (at->prd.valid && !strcmp(at->prd.id.product_id, at->dev.id.product_id))
            memcpy(at->scratch.product_secret, at->prd.id.product_secret, sizeof at->scratch.product_secret);
        *tls = at->dev.tls_mode;
        return &at->scratch;
    }
    if (at->prd.valid) {
        at->scratch = at->prd.id;
        *tls = at->prd.tls_mode;
        return &at->scratch;
    }
    return NULL;
}

/* ---------------------------------------------------------------- commands */

enum {
    CMD_NONE = 0,
    CMD_TCDEVREG = 1,
    CMD_TCMQTTCONN,
    CMD_TCSTARTSMART,
    CMD_TCSAP,
    CMD_CWJAP,
    CMD_PUB,
    CMD_PUBL,
    CMD_PUBRAW,
    CMD_SUB,
    CMD_UNSUB,
    CMD_GW
};

typedef enum { F_EXEC, F_QUERY, F_TEST, F_SET } form_t;

/* A command: its name is the ci-th string of command_names (below), not a pointer here: 8
 * bytes an entry instead of 12, and every answer that names a command takes it from that pool. */
typedef struct {
    uint8_t forms;           /* bit per form_t */
    int8_t secret_param;     /* set-form parameter masked in the echo (-1: none) */
    uint8_t test;            /* the test form's description (T_*; T_OK: a bare OK) */
    void (*fn)(at_state_t *at, unsigned ci, form_t f, const params_t *ps);
} cmd_t;

/* The test forms' answers: "<name><description>" and OK, printed by the dispatcher (no command
 * does anything else for "=?"). The descriptions as the reference firmware prints them, in T_*
 * order, one pool walked to the index (cold path). A description that begins with another one
 * (the reference extends them parameter by parameter) starts with that one's index as a
 * control byte (below ' ', never printed itself) and holds only the rest. */
enum {
    T_OK, T_CWMODE, T_TCLOG, T_DEVINFO, T_PRDINFO, T_STARTSMART, T_STOPSMART, T_TCSAP, T_STOPSAP,
    T_MQTTCONN, T_FWINFO, T_OTASET, T_READFW, T_PUB, T_PUBL, T_SUB, T_UNSUB, T_MQTTSRV, T_MODINFO,
    T_GWBIND, T_GWONLINE, T_RESTORE, T_PUBHEAD
};
_Static_assert(T_GWONLINE == 0x14 && T_PUBHEAD == 0x16, "the control bytes in test_texts name T_GWONLINE and T_PUBHEAD");
static const char test_texts[] =
    "\0"                                                                          /* T_OK */
    ":(0-3)\0"                                                                    /* T_CWMODE */
    ": <log_level>\0"                                                             /* T_TCLOG */
    ":\"TLS_MODE(1)\",\"PRODUCT_ID\",\"DEVICE_NAME\",\"DEVICE_SECRET_BCC\",\"PRODUCT_REGION\"\0"
    ":\"TLS_MODE(1)\",\"PRODUCT_ID\",\"PRODUCT_SECRET_BCC\",\"DEVICE_NAME\",\"PRODUCT_REGION\"\0"
    ": CMD FOR START SMARTCONFIG\0"                                               /* T_STARTSMART */
    ":CMD TO STOP SMARTCONFIG\0"
    "=<ssid>[,<pwd>,<ch>]\0"                                                      /* T_TCSAP */
    ":CMD TO STOP SOFTAP\0"
    ":<TLSMODE_SELECTED>,<CMDTIMEOUT_VALUE(1000-20000ms)>,<KEEPALIVE>(60-690s),"
    "<CLEAN_SESSION>(0/1),<RECONNECT>(0/1)\0"                                     /* T_MQTTCONN */
    ":\"FW_VERSION\",\"FW_SIZE\",\"FW_MD5\",\"FW_MAX_SIZE_OF_MODULE\"\0"
    ":1(ENABLE)/0(DISABLE),\"FW_version\"\0"                                      /* T_OTASET */
    ":\"LEN_FOR_READ\"\0"
    "\x16" "\"PAYLOAD\"\0"                                                         /* T_PUB: T_PUBHEAD + */
    "\x16" "\"LEN(1-2048)\"\0"                                                     /* T_PUBL: T_PUBHEAD + */
    ":\"TOPIC_NAME(maxlen 128)\",\"QOS(0/1)\"\0"                                   /* T_SUB */
    ":\"TOPIC_NAME\"\0"
    ":\"MQTT SERVER IP\"\0"                                                       /* T_MQTTSRV */
    ":\"MODULE NAME\",\"FLASH_SIZE (2/4)\",\"WIFI LED GPIO\",\"FW BASE ADDR\",\"FW MAX SIZE\",\"FIXED CONNID\"\0"
    "\x14" ",\"DEVICE_SECRET\"\0"                                                  /* T_GWBIND: T_GWONLINE + */
    ":\"MODE\",\"PRODUCT_ID\",\"DEVICE_NAME\"\0"                                 /* T_GWONLINE */
    ": CLEAR CONFIG AND RESET\0"                                                  /* T_RESTORE */
    /* the publish commands' head has spaces where SUB's has none (firmware and PDF alike) */
    ": \"TOPIC_NAME(maxlen 128)\", \"QOS(0/1)\",";                                    /* T_PUBHEAD */

#define FB(f) (1u << (f))

/* The command table, in one list so that the name pool, the C_* indices and the entries cannot
 * fall out of step: X(id, name, forms, secret_param, test, fn). */
#define AT_COMMANDS(X) \
    X(RST, "+RST", FB(F_EXEC), -1, T_OK, cmd_rst) \
    X(RESTORE, "+RESTORE", FB(F_EXEC), -1, T_OK, cmd_rst) \
    X(CWMODE, "+CWMODE", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_CWMODE, cmd_mode) \
    X(CWJAP, "+CWJAP", FB(F_QUERY) | FB(F_SET), 1, T_OK, cmd_cwjap) \
    X(CWQAP, "+CWQAP", FB(F_EXEC), -1, T_OK, cmd_cwqap) \
    X(CIPSTA, "+CIPSTA", FB(F_QUERY), -1, T_OK, cmd_cipsta) \
    X(CIPSTATUS, "+CIPSTATUS", FB(F_EXEC), -1, T_OK, cmd_cipstatus) \
    X(SYSRAM, "+SYSRAM", FB(F_QUERY), -1, T_OK, cmd_sysram) \
    X(SYSMSG, "+SYSMSG", FB(F_QUERY) | FB(F_SET), -1, T_OK, cmd_mode) \
    X(UART_CUR, "+UART_CUR", FB(F_QUERY) | FB(F_SET), -1, T_OK, cmd_uart_cur) \
    X(TCLOG, "+TCLOG", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_TCLOG, cmd_tclog) \
    X(GMR, "+GMR", FB(F_EXEC), -1, T_OK, cmd_gmr) \
    X(TCVER, "+TCVER", FB(F_EXEC), -1, T_OK, cmd_tcver) \
    X(TCMODULE, "+TCMODULE", FB(F_EXEC), -1, T_OK, cmd_tcmodule) \
    X(TCDEVINFOSET, "+TCDEVINFOSET", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), 3, T_DEVINFO, cmd_info) \
    X(TCPRDINFOSET, "+TCPRDINFOSET", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), 2, T_PRDINFO, cmd_info) \
    X(TCDEVREG, "+TCDEVREG", FB(F_TEST) | FB(F_EXEC), -1, T_OK, cmd_tcdevreg) \
    X(TCSTARTSMART, "+TCSTARTSMART", FB(F_TEST) | FB(F_EXEC), -1, T_STARTSMART, cmd_flow) \
    X(TCSTOPSMART, "+TCSTOPSMART", FB(F_TEST) | FB(F_EXEC), -1, T_STOPSMART, cmd_stop) \
    X(TCSAP, "+TCSAP", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), 1, T_TCSAP, cmd_flow) \
    X(TCSTOPSAP, "+TCSTOPSAP", FB(F_TEST) | FB(F_EXEC), -1, T_STOPSAP, cmd_stop) \
    X(TCMQTTCONN, "+TCMQTTCONN", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_MQTTCONN, cmd_tcmqttconn) \
    X(TCMQTTDISCONN, "+TCMQTTDISCONN", FB(F_TEST) | FB(F_EXEC), -1, T_OK, cmd_tcmqttdisconn) \
    X(TCMQTTSTATE, "+TCMQTTSTATE", FB(F_TEST) | FB(F_QUERY), -1, T_OK, cmd_tcmqttstate) \
    X(TCFWINFO, "+TCFWINFO", FB(F_TEST) | FB(F_QUERY), -1, T_FWINFO, cmd_ota) \
    X(TCOTASET, "+TCOTASET", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_OTASET, cmd_ota) \
    X(TCREADFWDATA, "+TCREADFWDATA", FB(F_TEST) | FB(F_SET), -1, T_READFW, cmd_ota) \
    X(TCMQTTPUB, "+TCMQTTPUB", FB(F_TEST) | FB(F_SET), -1, T_PUB, cmd_pub) \
    X(TCMQTTPUBL, "+TCMQTTPUBL", FB(F_TEST) | FB(F_SET), -1, T_PUBL, cmd_pub) \
    X(TCMQTTPUBRAW, "+TCMQTTPUBRAW", FB(F_TEST) | FB(F_SET), -1, T_PUBL, cmd_pub) \
    X(TCMQTTSUB, "+TCMQTTSUB", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_SUB, cmd_sub) \
    X(TCMQTTUNSUB, "+TCMQTTUNSUB", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_UNSUB, cmd_sub) \
    X(TCMQTTSRV, "+TCMQTTSRV", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_MQTTSRV, cmd_tcmqttsrv) \
    X(TCMODINFOSET, "+TCMODINFOSET", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_MODINFO, cmd_tcmodinfoset) \
    X(TCGWBIND, "+TCGWBIND", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), 3, T_GWBIND, cmd_gw) \
    X(TCGWONLINE, "+TCGWONLINE", FB(F_TEST) | FB(F_QUERY) | FB(F_SET), -1, T_GWONLINE, cmd_gw) \
    X(TCRESTORE, "+TCRESTORE", FB(F_TEST) | FB(F_EXEC), -1, T_RESTORE, cmd_tcrestore)

#define X(id, name, forms, secret, test, fn) C_##id,
enum { AT_COMMANDS(X) C__COUNT };
#undef X
_Static_assert(C_TCOTASET - C_TCFWINFO == SC_AT_OTA_OTASET && C_TCREADFWDATA - C_TCFWINFO == SC_AT_OTA_READFWDATA,
               "at_ota.c tells its commands apart by their distance from AT+TCFWINFO");
_Static_assert(C_TCMQTTPUBL - C_TCMQTTPUB == CMD_PUBL - CMD_PUB && C_TCMQTTPUBRAW - C_TCMQTTPUB == CMD_PUBRAW - CMD_PUB,
               "the three publish commands in the CMD_PUB* order");
#define X(id, name, forms, secret, test, fn) name "\0"
static const char command_names[] = AT_COMMANDS(X);   /* without the "AT" */
#undef X

/* The ci-th command's name (cold paths: a walk of the pool). */
SC_OUTLINE static const char *cname(unsigned ci)
{
    return sc_pool_at(command_names, ci);
}

/* The session's subscriptions end with it (the PDF: a disconnect cancels them all). */
static void subs_clear(at_state_t *at)
{
    memset(at->subs, 0, sizeof at->subs);
    at->nsubs = 0;
}

/* A command that cannot run now (an MQTT task or a provisioning flow in the way) gets
 * +CME ERROR: true when it was refused. Inline (SC_INLINE): each caller branches on its own
 * condition straight to one shared +CME ERROR:208, instead of passing and testing a bool. */
static SC_INLINE bool refused_busy(at_state_t *at, bool busy)
{
    if (busy)
        reply_cme(at, SC_AT_CME_STATE);
    return busy;
}

static void cmd_gmr(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    say(at, "AT version:%s\nSDK version:smartcfg\nBin version:%s(%s)\nOK", at->cfg.fw_version, at->cfg.fw_version,
        at->cfg.module_name);
}

static void cmd_tcver(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    say(at, "Tencent Cloud IoT AT  version: %s\nTencent Cloud IoT SDK version: smartcfg\nOK", at->cfg.fw_version);
}

static void cmd_tcmodule(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    uint8_t mac[SC_MAC_LEN] = { 0 };
    if (!at->ops.get_mac || at->ops.get_mac(at->ops.ctx, mac) != SC_OK)
        memset(mac, 0, sizeof mac);
    say(at, "Module HW name: %s\nModule FW version: %s\nModule Mac addr: %m\nModule Flash size: %dMB\nOK", at->mod_name,
        at->cfg.fw_version, mac, at->mod_flash);
}

static void info_query(at_state_t *at, const char *name, const sc_at_info_t *info, bool product)
{
    if (!info->valid) {
        reply_cme(at, SC_AT_CME_FLASH);   /* the reference's load_*_info failure */
        return;
    }
    if (product)
        say(at, "%s:%d,%q,%d,%q,%q\nOK", name, info->tls_mode, info->id.product_id, sc_at_bcc(info->id.product_secret),
            info->id.device_name, info->id.region);
    else
        say(at, "%s:%d,%q,%q,%d,%q\nOK", name, info->tls_mode, info->id.product_id, info->id.device_name,
            sc_at_bcc(info->id.device_secret), info->id.region);
}

/* AT+TCDEVINFOSET / AT+TCPRDINFOSET: same shape, product info has the secret second. */
static void cmd_info(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    bool product = ci == C_TCPRDINFOSET;
    sc_at_info_t *cache = product ? &at->prd : &at->dev;
    if (f == F_QUERY) {
        info_query(at, cname(ci), cache, product);
        return;
    }
    /* Changing the identity under a running MQTT session or provisioning flow would make the
     * running code and the stored info disagree: refuse (reference: MQTT task only). */
    if (refused_busy(at, at->mqtt_task || at->flow != SC_AT_FLOW_NONE))
        return;
    size_t k_dn = product ? 3 : 2, k_sec = product ? 2 : 3;
    /* Product secret: the reference stops at 32; ours takes what the cloud module and the
     * local cloud accept (64). */
    size_t sec_max = product ? SC_PRODUCT_SECRET_MAX : SC_DEVICE_SECRET_MAX;
    bool ok = (ps->n == 4 || ps->n == 5) && p_int(ps, 0, 0, 1) && p_str(ps, 1, 1, SC_PRODUCT_ID_MAX) &&
              p_str(ps, k_dn, 1, SC_DEVICE_NAME_MAX) && p_str(ps, k_sec, 1, sec_max) &&
              (ps->n == 4 || p_str(ps, 4, 1, REGION_MAX_LEN));
    if (!ok) {
        reply_cme(at, SC_AT_CME_PARAM);
        return;
    }
    sc_at_info_t next;
    memset(&next, 0, sizeof next);
    next.valid = true;
    next.tls_mode = (uint8_t)ps->p[0].v;
    memcpy(next.id.product_id, ps->p[1].s, ps->p[1].slen);
    memcpy(next.id.device_name, ps->p[k_dn].s, ps->p[k_dn].slen);
    memcpy(product ? next.id.product_secret : next.id.device_secret, ps->p[k_sec].s, ps->p[k_sec].slen);
    if (ps->n == 5)
        memcpy(next.id.region, ps->p[4].s, ps->p[4].slen);
    else
        memcpy(next.id.region, DEFAULT_REGION, sizeof DEFAULT_REGION);
    reply_ok(at);
    int code = 0;
    /* Saved only if changed: flash wears, and an unchanged record needs no write. */
    if (!info_equal(&next, cache)) {
        if (info_save(at, product ? "prdinfo" : "devinfo", &next, product) == SC_OK)
            *cache = next;
        else
            code = SC_AT_CME_FLASH;   /* the previous record (and cache) stay as they were */
    }
    sc_wipe(&next, sizeof next);   /* a dying local holding the secret */
    reply_result(at, ci, code);
}

static void finish_devreg(at_state_t *at, int result)
{
    if (result == 0) {
        sc_at_info_t next;
        memset(&next, 0, sizeof next);
        next.valid = true;
        next.tls_mode = at->scratch_tls;
        memcpy(next.id.product_id, at->scratch.product_id, sizeof next.id.product_id);
        memcpy(next.id.device_name, at->scratch.device_name, sizeof next.id.device_name);
        memcpy(next.id.region, at->scratch.region, sizeof next.id.region);
        /* up to its NUL only: the port wrote it and may have left bytes past it (info_equal) */
        for (size_t i = 0; i < SC_DEVICE_SECRET_MAX && at->scratch.device_secret[i]; i++)
            next.id.device_secret[i] = at->scratch.device_secret[i];
        if (next.id.device_secret[0] == 0)
            result = SC_AT_CME_EXEC;  /* the op claimed success without a secret */
        else if (info_save(at, "devinfo", &next, false) == SC_OK)
            at->dev = next;
        else
            result = SC_AT_CME_FLASH;
        sc_wipe(&next, sizeof next);
    }
    sc_wipe(&at->scratch, sizeof at->scratch);
    reply_result(at, C_TCDEVREG, result);
}

static void start_pending(at_state_t *at, int cmd)
{
    at->pending = cmd;
    /* MQTT requests wait as long as AT+TCMQTTCONN's <cmdtimeout> said (the SDK's own bound). */
    uint32_t t = at->cfg.pending_timeout_ms ? at->cfg.pending_timeout_ms : 30000u;
    if (cmd >= CMD_PUB && at->mqtt_params_valid)
        t = at->mqtt_params.cmd_timeout_ms;
    at->pending_deadline = at->now_ms + t;
}

static void cmd_tcdevreg(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)f; (void)ci; (void)ps;
    if (refused_busy(at, at->mqtt_task || at->flow != SC_AT_FLOW_NONE))
        return;
    reply_ok(at);
    if (!at->prd.valid) {
        reply_result(at, C_TCDEVREG, SC_AT_CME_FLASH);
        return;
    }
    if (!at->ops.dynreg) {
        reply_result(at, C_TCDEVREG, SC_AT_CME_EXEC);
        return;
    }
    at->scratch = at->prd.id;
    at->scratch_tls = at->prd.tls_mode;
    memset(at->scratch.device_secret, 0, sizeof at->scratch.device_secret);
    int r = at->ops.dynreg(at->ops.ctx, &at->scratch);
    if (r == SC_AT_PENDING)
        start_pending(at, CMD_TCDEVREG);
    else
        finish_devreg(at, r);
}

/* The end of +TCSTARTSMART / +TCSAP, at once or when the pending op completes: a flow that
 * failed to start is not running. */
SC_OUTLINE static void finish_flow(at_state_t *at, int cmd, int result)
{
    if (result != 0)
        at->flow = SC_AT_FLOW_NONE;
    reply_result(at, cmd == CMD_TCSAP ? C_TCSAP : C_TCSTARTSMART, result);
}

/* AT+TCSTARTSMART and AT+TCSAP: one start-up for the two provisioning flows, which differ
 * in the soft-AP's parameters, the op they call and their failure codes. */
static void cmd_flow(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    bool sap = ci == C_TCSAP;
    if (f == F_QUERY) {   /* AT+TCSAP? (AT+TCSTARTSMART has no query form) */
        reply_ok(at);
        return;
    }
    if (refused_busy(at, at->mqtt_task))
        return;
    /* AT+TCSAP: the SSID is a Wi-Fi SSID; the firmware takes soft-AP passwords of 8..32 only. */
    bool ok = !sap || (ps->n >= 1 && ps->n <= 3 && p_str(ps, 0, 1, SC_SSID_MAX) &&
                       (ps->n < 2 || p_str(ps, 1, 8, SC_AT_SAP_PASSWORD_MAX)) && (ps->n < 3 || p_int(ps, 2, 0, 13)));
    if (!ok) {
        reply_cme(at, SC_AT_CME_PARAM);
        return;
    }
    reply_ok(at);
    uint8_t tls = 1;
    const sc_identity_t *id = flow_identity(at, &tls);
    int r;
    if (!id)
        r = 27;                         /* ERR_DEVICE_INFO: nothing to bind with */
    else if (sap ? !at->ops.start_softap : !at->ops.start_smartconfig)
        r = sap ? 7 : 13;               /* ERR_AP_INIT, ERR_SC_START */
    else if (sap) {
        at->flow = SC_AT_FLOW_SOFTAP;
        r = at->ops.start_softap(at->ops.ctx, id, tls, ps->p[0].s, ps->n >= 2 ? ps->p[1].s : NULL,
                                 ps->n >= 3 ? (uint8_t)ps->p[2].v : 0);
    } else {
        at->flow = SC_AT_FLOW_SMARTCONFIG;
        r = at->ops.start_smartconfig(at->ops.ctx, id, tls);
    }
    sc_wipe(&at->scratch, sizeof at->scratch);   /* the op copied what it keeps */
    int cmd = sap ? CMD_TCSAP : CMD_TCSTARTSMART;
    if (r == SC_AT_PENDING)
        start_pending(at, cmd);
    else
        finish_flow(at, cmd, r);
}

static void cmd_stop(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)f; (void)ps;
    bool sap = ci == C_TCSTOPSAP;
    if (refused_busy(at, at->mqtt_task))
        return;
    void (*stop)(void *) = sap ? at->ops.stop_softap : at->ops.stop_smartconfig;
    /* Cleared before stopping so a failure event the stop raises is not reported: the
     * reference prints no URC after an AT stop either. */
    at->flow = SC_AT_FLOW_NONE;
    if (stop)
        stop(at->ops.ctx);
    reply_ok(at);
    /* ours: Tencent's test tool waits for "+TCSTOPSMART:OK" / "+TCSTOPSAP:OK". */
    reply_result(at, ci, 0);
}

static void finish_mqttconn(at_state_t *at, int result)
{
    if (result != 0)
        at->mqtt_task = false;
    reply_result(at, C_TCMQTTCONN, result);
}

static void cmd_tcmqttconn(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci;
    if (f == F_QUERY) {
        if (!at->mqtt_params_valid) {
            reply_cme(at, SC_AT_CME_STATE);
            return;
        }
        say(at, "+TCMQTTCONN:%d,%u,%d,%d,%d\nOK", at->mqtt_params.tls_mode, (unsigned)at->mqtt_params.cmd_timeout_ms,
            at->mqtt_params.keepalive_s, at->mqtt_params.clean_session, at->mqtt_params.reconnect);
        return;
    }
    /* The provisioning flow drives the same MQTT client for its bind: one user at a time. */
    if (refused_busy(at, at->mqtt_task || at->flow != SC_AT_FLOW_NONE))
        return;
    bool ok = ps->n == 5 && p_int(ps, 0, 0, 1) && p_int(ps, 1, CMD_TIMEOUT_MIN, CMD_TIMEOUT_MAX) &&
              p_int(ps, 2, 60, 690) && p_int(ps, 3, 0, 1) && p_int(ps, 4, 0, 1);
    if (!ok) {
        reply_cme(at, SC_AT_CME_PARAM);
        return;
    }
    reply_ok(at);
    if (!at->dev.valid) {
        reply_result(at, C_TCMQTTCONN, SC_AT_CME_FLASH);
        return;
    }
    at->mqtt_params.tls_mode = (uint8_t)ps->p[0].v;
    at->mqtt_params.cmd_timeout_ms = (uint32_t)ps->p[1].v;
    at->mqtt_params.keepalive_s = (uint16_t)ps->p[2].v;
    at->mqtt_params.clean_session = (uint8_t)ps->p[3].v;
    at->mqtt_params.reconnect = (uint8_t)ps->p[4].v;
    at->mqtt_params_valid = true;
    if (!at->ops.mqtt_connect) {
        reply_result(at, C_TCMQTTCONN, SC_AT_CME_EXEC);
        return;
    }
    at->mqtt_task = true;
    int r = at->ops.mqtt_connect(at->ops.ctx, &at->dev.id, &at->mqtt_params);
    if (r == SC_AT_PENDING)
        start_pending(at, CMD_TCMQTTCONN);
    else
        finish_mqttconn(at, r);
}

static void cmd_tcmqttdisconn(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)f; (void)ci; (void)ps;
    /* The PDF: "not connected -> +CME ERROR:<err>"; 208 is its "state error". */
    if (refused_busy(at, !at->mqtt_task))
        return;
    int r = at->ops.mqtt_disconnect ? at->ops.mqtt_disconnect(at->ops.ctx) : 0;
    if (r != 0) {
        reply_cme(at, r);
        return;
    }
    at->mqtt_task = false;
    subs_clear(at);
    sc_at_gw_session_ended(&at->gw);
    /* The reference's MQTT task prints the URC before the command's OK (its test report). */
    say(at, "+TCMQTTDISCON,%d\nOK", MQTT_MANUALLY_DISCONNECTED);
}

static void cmd_tcmqttstate(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)ps;
    if (f == F_QUERY) {
        int s = at->ops.mqtt_state ? at->ops.mqtt_state(at->ops.ctx) : 0;
        reply(at, s == 1 ? "+TCMQTTSTATE:1" : "+TCMQTTSTATE:0");
    }
    reply_ok(at);
}

static void esp_defaults(at_state_t *at);

static void cmd_tcrestore(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    if (refused_busy(at, at->mqtt_task))
        return;
    reply_ok(at);
    if (at->flow != SC_AT_FLOW_NONE) {
        at->flow = SC_AT_FLOW_NONE;
        if (at->ops.stop_smartconfig)
            at->ops.stop_smartconfig(at->ops.ctx);
        if (at->ops.stop_softap)
            at->ops.stop_softap(at->ops.ctx);
    }
    if (at->cfg.storage && at->cfg.storage->erase) {
        (void)at->cfg.storage->erase(at->cfg.storage->ctx, "devinfo");
        (void)at->cfg.storage->erase(at->cfg.storage->ctx, "prdinfo");
    }
    memset(&at->dev, 0, sizeof at->dev);
    memset(&at->prd, 0, sizeof at->prd);
    at->mqtt_params_valid = false;
    if (at->ops.restore)
        at->ops.restore(at->ops.ctx);
    /* The reference reboots now (the PDF): a host waits for "ready" and finds the volatile
     * ESP-AT settings (echo, UART, ...) at their power-on values, as after AT+RST. */
    esp_defaults(at);
    reply(at, "ready");
}

/* AT+TCLOG=<password>,<level>: a wrong password quietly drops to error-only logging (as the
 * reference does: the level is a debugging aid, not a secret). */
static void cmd_tclog(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    if (f == F_QUERY) {
        say(at, "%s: %d\nOK", cname(ci), at->log_level);
        return;
    }
    if (ps->n != 2 || !p_int(ps, 0, -999999999, 999999999) || !p_int(ps, 1, -999999999, 999999999)) {
        reply_error(at);
        return;
    }
    int level = LOG_LEVEL_ERROR;
    if (ps->p[0].v == LOG_PASSWORD) {
        if (ps->p[1].v < 0 || ps->p[1].v > 4) {
            reply_cme(at, SC_AT_CME_PARAM);
            return;
        }
        level = (int)ps->p[1].v;
    }
    at->log_level = (uint8_t)level;
    if (at->ops.set_log_level)
        at->ops.set_log_level(at->ops.ctx, level);
    reply_ok(at);
}

/* ---------------------------------------------------------------- MQTT data channel */

static bool mqtt_up(at_state_t *at)
{
    return at->mqtt_task && at->ops.mqtt_state && at->ops.mqtt_state(at->ops.ctx) == 1;
}

static int sub_find(const at_state_t *at, const char *topic)
{
    for (int i = 0; i < at->nsubs; i++)
        if (!strcmp(at->subs[i].topic, topic))
            return i;
    return -1;
}

/* A topic the broker could take: no wildcard in a publish, no NUL, no control bytes. */
static bool topic_ok(const params_t *ps, size_t k, bool wildcards)
{
    if (!p_str(ps, k, 1, SC_AT_TOPIC_MAX))
        return false;
    for (size_t i = 0; i < ps->p[k].slen; i++) {
        unsigned char c = (unsigned char)ps->p[k].s[i];
        if (c < 0x20 || (!wildcards && (c == '+' || c == '#')))
            return false;
    }
    return true;
}

static void do_publish(at_state_t *at, int cmd, const char *topic, int qos, const void *payload, size_t len)
{
    int r = at->ops.mqtt_publish ? at->ops.mqtt_publish(at->ops.ctx, topic, qos, payload, len) : SC_AT_CME_EXEC;
    if (r == SC_AT_PENDING)
        start_pending(at, cmd);
    else
        reply_result(at, C_TCMQTTPUB + (unsigned)(cmd - CMD_PUB), r);
}

static void cmd_pub(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)f;
    int cmd = CMD_PUB + (int)(ci - C_TCMQTTPUB);
    if (refused_busy(at, !mqtt_up(at)))
        return;
    bool ok = ps->n == 3 && topic_ok(ps, 0, false) && p_int(ps, 1, 0, 1) &&
              (cmd == CMD_PUB ? p_str(ps, 2, 0, SC_AT_LINE_MAX) : p_int(ps, 2, 1, SC_AT_PUBL_MAX));
    if (!ok) {
        reply_cme(at, SC_AT_CME_PARAM);
        return;
    }
    reply_ok(at);
    if (cmd == CMD_PUB) {
        do_publish(at, cmd, ps->p[0].s, (int)ps->p[1].v, ps->p[2].s, ps->p[2].slen);
        return;
    }
    /* Second phase: exactly <len> raw bytes follow (CR/LF included), not echoed. */
    memcpy(at->publ_topic, ps->p[0].s, ps->p[0].slen + 1);
    at->publ = (uint8_t)cmd;
    at->publ_qos = (uint8_t)ps->p[1].v;
    at->publ_len = (uint16_t)ps->p[2].v;
    at->publ_got = 0;
    at->publ_deadline = at->now_ms + SC_AT_PUBL_TIMEOUT_MS;
    reply(at, ">");
}

/* PUBL takes the ESP-AT escapes (\" \, \\) in its payload, as AT+TCMQTTPUB's string does;
 * PUBRAW passes the bytes through untouched (the PDF). */
static size_t unescape(uint8_t *b, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\\' && i + 1 < n && (b[i + 1] == '"' || b[i + 1] == ',' || b[i + 1] == '\\'))
            i++;
        b[o++] = b[i];
    }
    return o;
}

static void publ_abort(at_state_t *at, int code)
{
    at->publ = 0;
    sc_wipe(at->publ_buf, sizeof at->publ_buf);
    reply_cme(at, code);
}

static void publ_byte(at_state_t *at, uint8_t b)
{
    at->publ_buf[at->publ_got++] = b;
    /* "+++\r\n" as the payload's start cancels (the PDF's escape from the second phase). */
    if (at->publ_got == 5 && !memcmp(at->publ_buf, "+++\r\n", 5)) {
        publ_abort(at, SC_AT_CME_EXEC);
        return;
    }
    if (at->publ_got < at->publ_len)
        return;
    int cmd = at->publ;
    at->publ = 0;
    size_t n = cmd == CMD_PUBL ? unescape(at->publ_buf, at->publ_got) : at->publ_got;
    do_publish(at, cmd, at->publ_topic, at->publ_qos, at->publ_buf, n);
    sc_wipe(at->publ_buf, sizeof at->publ_buf);
}

static void finish_sub(at_state_t *at, int cmd, int result);

/* MQTT 3.1.1 4.7.1: '+' fills a whole level, '#' fills the last one. A filter that breaks it is
 * a protocol violation a broker answers by closing the session (the host's other subscriptions
 * with it; libmosquitto refuses it before sending), and the receive check could not say what
 * it asks for. */
static bool filter_valid(const char *f)
{
    for (const char *lv = f;; lv++) {
        const char *end = lv;
        while (*end && *end != '/')
            end++;
        for (const char *c = lv; c < end; c++)
            if ((*c == '+' || *c == '#') && (end - lv != 1 || (*c == '#' && *end)))
                return false;
        if (!*end)
            return true;
        lv = end;
    }
}

/* AT+TCMQTTSUB and AT+TCMQTTUNSUB: one handler, told apart by index (the unsubscribe has no
 * QoS, a bare OK for its query, and refuses a topic not subscribed instead of a full table). */
static void cmd_sub(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    bool unsub = ci == C_TCMQTTUNSUB;
    if (f == F_QUERY) {
        for (int i = 0; !unsub && i < at->nsubs; i++)   /* the topic as the reference: not escaped */
            say(at, "+TCMQTTSUB:\"%s\",%d", at->subs[i].topic, at->subs[i].qos);
        reply_ok(at);
        return;
    }
    if (refused_busy(at, !mqtt_up(at)))
        return;
    if (!(ps->n == (unsub ? 1u : 2u) && topic_ok(ps, 0, true) && (unsub || p_int(ps, 1, 0, 1))) ||
        (!unsub && !filter_valid(ps->p[0].s))) {
        reply_cme(at, SC_AT_CME_PARAM);
        return;
    }
    reply_ok(at);
    bool known = sub_find(at, ps->p[0].s) >= 0;
    if (unsub ? !known : !known && at->nsubs >= SC_AT_SUB_MAX) {
        /* QCLOUD_ERR_MQTT_UNSUB_FAIL: not subscribed; QCLOUD_ERR_MQTT_MAX_SUBSCRIPTIONS */
        reply_result(at, ci, unsub ? -121 : -107);
        return;
    }
    memcpy(at->req_topic, ps->p[0].s, ps->p[0].slen + 1);
    int r;
    if (unsub) {
        /* Out of the table before the UNSUBSCRIBE goes, whatever its end: the reference's SDK
         * (qcloud_iot_mqtt_unsubscribe) frees the handler first, so nothing of the topic is
         * delivered from here on, an UNSUB that ends FAIL included, and a reconnect does not
         * ask for it again; AT+TCMQTTSUB of it later is a new subscription. */
        int i = sub_find(at, at->req_topic);
        /* keep the order of the rest: AT+TCMQTTSUB? lists in subscription order */
        memmove(&at->subs[i], &at->subs[i + 1], (size_t)(at->nsubs - i - 1) * sizeof at->subs[0]);
        at->nsubs--;
        memset(&at->subs[at->nsubs], 0, sizeof at->subs[0]);
        r = at->ops.mqtt_unsubscribe ? at->ops.mqtt_unsubscribe(at->ops.ctx, at->req_topic) : SC_AT_CME_EXEC;
    } else {
        at->req_qos = (uint8_t)ps->p[1].v;
        r = at->ops.mqtt_subscribe ? at->ops.mqtt_subscribe(at->ops.ctx, at->req_topic, at->req_qos) : SC_AT_CME_EXEC;
    }
    int cmd = unsub ? CMD_UNSUB : CMD_SUB;
    if (r == SC_AT_PENDING)
        start_pending(at, cmd);
    else
        finish_sub(at, cmd, r);
}

static void finish_sub(at_state_t *at, int cmd, int result)
{
    /* A SUB's topic goes into the table (and delivers) only once the broker granted it: the
     * SDK adds the handler at the SUBACK (_handle_suback_packet), and a refused or missing
     * SUBACK frees it. An UNSUB took its topic out when it was sent (cmd_sub). */
    if (result == 0 && cmd == CMD_SUB) {
        int i = sub_find(at, at->req_topic);
        if (i < 0 && at->nsubs < SC_AT_SUB_MAX)
            i = at->nsubs++;
        if (i >= 0) {
            memcpy(at->subs[i].topic, at->req_topic, sizeof at->subs[i].topic);
            at->subs[i].qos = at->req_qos;
        }
    }
    memset(at->req_topic, 0, sizeof at->req_topic);
    reply_result(at, cmd == CMD_SUB ? C_TCMQTTSUB : C_TCMQTTUNSUB, result);
}

static void cmd_tcmqttsrv(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)ps;
    /* The broker comes from the device's cloud configuration (--broker); changing it over AT
     * is not supported by this build. */
    if (f == F_QUERY)
        reply_cme(at, SC_AT_CME_EXEC);
    else if (!refused_busy(at, at->mqtt_task))
        reply_cme(at, SC_AT_CME_EXEC);
}

/* AT+TCMODINFOSET: the module's own description. Kept in RAM (ours: the port's configuration
 * names the module; the reference writes a flash partition); AT+TCMODULE prints it. */
static void cmd_tcmodinfoset(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci;
    if (f == F_QUERY) {
        say(at, "+TCMODINFOSET:%q,%d,%d,%u,%u,%d\nOK", at->mod_name, at->mod_flash, at->mod_gpio, (unsigned)at->mod_base,
            (unsigned)at->mod_max, at->mod_connid);
        return;
    }
    if (refused_busy(at, at->mqtt_task))
        return;
    /* The PDF's ranges: name up to 30, flash 2 or 4 MB, GPIO 0..16, base a 4 KiB multiple
     * from 0x111000, max size up to 700 KiB, connid 0/1. */
    bool ok = ps->n == 6 && p_str(ps, 0, 1, sizeof at->mod_name - 1) &&
              (p_int(ps, 1, 2, 2) || p_int(ps, 1, 4, 4)) && p_int(ps, 2, 0, 16) &&
              p_int(ps, 3, 0x111000, 0x7fffffff) && ps->p[3].v % 0x1000 == 0 && p_int(ps, 4, 1, 716800) &&
              p_int(ps, 5, 0, 1);
    if (!ok) {
        reply_cme(at, SC_AT_CME_PARAM);
        return;
    }
    memset(at->mod_name, 0, sizeof at->mod_name);
    memcpy(at->mod_name, ps->p[0].s, ps->p[0].slen);
    at->mod_flash = (uint8_t)ps->p[1].v;
    at->mod_gpio = (uint8_t)ps->p[2].v;
    at->mod_base = (uint32_t)ps->p[3].v;
    at->mod_max = (uint32_t)ps->p[4].v;
    at->mod_connid = (uint8_t)ps->p[5].v;
    reply_ok(at);
    reply_result(at, ci, 0);
}

static void modinfo_defaults(at_state_t *at)
{
    size_t n = strlen(at->cfg.module_name);
    if (n >= sizeof at->mod_name)
        n = sizeof at->mod_name - 1;
    memset(at->mod_name, 0, sizeof at->mod_name);
    memcpy(at->mod_name, at->cfg.module_name, n);
    at->mod_flash = (uint8_t)at->cfg.flash_size_mb;
    at->mod_gpio = 0;
    at->mod_base = 0x111000;
    at->mod_max = 716800;
    at->mod_connid = 1;
}

/* ---------------------------------------------------------------- ESP-AT basics */

static bool wifi_info(at_state_t *at, sc_at_wifi_info_t *wi)
{
    memset(wi, 0, sizeof *wi);
    if (!at->ops.wifi_info || at->ops.wifi_info(at->ops.ctx, wi) != SC_OK || !wi->joined) {
        memset(wi, 0, sizeof *wi);
        return false;
    }
    wi->ssid[SC_SSID_MAX] = 0;
    return true;
}

/* Volatile ESP-AT settings back to their power-on values (AT+RST, AT+RESTORE). */
SC_OUTLINE static void esp_defaults(at_state_t *at)
{
    at->echo = at->cfg.echo;
    at->cwmode = 1;
    at->sysmsg = 0;
    at->uart[0] = at->cfg.uart_baud ? at->cfg.uart_baud : 115200u;
    at->uart[1] = 8;
    at->uart[2] = 1;
    at->uart[3] = 0;
    at->uart[4] = 0;
}

/* AT+RST / AT+RESTORE: OK, everything stopped, then "ready" as after a boot. */
static void cmd_rst(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)f; (void)ps;
    reply_ok(at);
    at->flow = SC_AT_FLOW_NONE;
    at->mqtt_task = false;
    subs_clear(at);
    if (at->ops.reset)
        at->ops.reset(at->ops.ctx);
    if (ci == C_RESTORE) {
        /* ESP-AT's factory reset forgets the Wi-Fi settings; the Tencent info stays
         * (AT+TCRESTORE erases that, the PDF says). */
        if (at->ops.wifi_quit)
            at->ops.wifi_quit(at->ops.ctx);
    }
    esp_defaults(at);
    reply(at, "ready");
}


static void finish_cwjap(at_state_t *at, int result)
{
    if (result == 0) {
        say(at, "WIFI CONNECTED\nWIFI GOT IP\nOK");
        return;
    }
    if (result < SC_AT_CWJAP_TIMEOUT || result > SC_AT_CWJAP_FAIL)
        result = result == SC_AT_CME_TIMEOUT ? SC_AT_CWJAP_TIMEOUT : SC_AT_CWJAP_FAIL;
    say(at, "+CWJAP:%d\nFAIL", result);
}

static void cmd_cwjap(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci;
    if (f == F_QUERY) {
        sc_at_wifi_info_t wi;
        if (!wifi_info(at, &wi)) {
            say(at, "No AP\nOK");
            return;
        }
        say(at, "+CWJAP:%q,\"%m\",%d,%d", wi.ssid, wi.bssid, wi.channel, wi.rssi);
        sc_wipe(&wi, sizeof wi);
        reply_ok(at);
        return;
    }
    /* The station must be on (CWMODE 1 or 3), and a provisioning flow owns the station. */
    bool ok = ps->n == 2 && p_str(ps, 0, 1, SC_SSID_MAX) && p_str(ps, 1, 0, SC_PASSWORD_MAX) &&
              (at->cwmode & 1) && at->flow == SC_AT_FLOW_NONE && at->ops.wifi_join;
    if (!ok) {
        reply_error(at);
        return;
    }
    int r = at->ops.wifi_join(at->ops.ctx, ps->p[0].s, ps->p[1].s);
    if (r == SC_AT_PENDING)
        start_pending(at, CMD_CWJAP);
    else
        finish_cwjap(at, r);
}

static void cmd_cwqap(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    sc_at_wifi_info_t wi;
    bool was = wifi_info(at, &wi);
    sc_wipe(&wi, sizeof wi);
    if (at->flow != SC_AT_FLOW_NONE) {
        reply_error(at);   /* the station belongs to the provisioning flow */
        return;
    }
    if (at->ops.wifi_quit)
        at->ops.wifi_quit(at->ops.ctx);
    reply_ok(at);
    if (was)
        reply(at, "WIFI DISCONNECT");
}

static void cmd_cipsta(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    sc_at_wifi_info_t wi;
    (void)wifi_info(at, &wi);   /* not joined: all zeros, as the module prints */
    say(at, "+CIPSTA:ip:\"%a\"\n+CIPSTA:gateway:\"%a\"\n+CIPSTA:netmask:\"%a\"\nOK", wi.ip, wi.gateway, wi.netmask);
}

static void cmd_cipstatus(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    sc_at_wifi_info_t wi;
    /* 2: station has an IP; 5: not joined (ESP8266 AT). No TCP links of ESP-AT's own. */
    reply(at, wifi_info(at, &wi) ? "STATUS:2" : "STATUS:5");
    sc_wipe(&wi, sizeof wi);
    reply_ok(at);
}

static void cmd_sysram(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci; (void)f; (void)ps;
    say(at, "+SYSRAM:%u\nOK", at->ops.free_ram ? (unsigned)at->ops.free_ram(at->ops.ctx) : 0u);
}

/* AT+CWMODE and AT+SYSMSG: one byte each, queried as "+<name>:<value>" and set within a
 * range (0..3, 0..7); leaving station mode drops the station's connection, as on the module. */
static void cmd_mode(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    bool cw = ci == C_CWMODE;
    uint8_t *v = cw ? &at->cwmode : &at->sysmsg;
    if (f == F_QUERY) {
        say(at, "%s:%d\nOK", cname(ci), *v);
        return;
    }
    if (ps->n != 1 || !p_int(ps, 0, 0, cw ? 3 : 7)) {
        reply_error(at);
        return;
    }
    uint8_t m = (uint8_t)ps->p[0].v;   /* AT+SYSMSG: kept for the query, we print no extra messages */
    if (cw && !(m & 1) && (at->cwmode & 1) && at->ops.wifi_quit)
        at->ops.wifi_quit(at->ops.ctx);
    *v = m;
    reply_ok(at);
}

static void cmd_uart_cur(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    (void)ci;
    if (f == F_QUERY) {
        say(at, "+UART_CUR:%u,%u,%u,%u,%u\nOK", (unsigned)at->uart[0], (unsigned)at->uart[1], (unsigned)at->uart[2],
            (unsigned)at->uart[3], (unsigned)at->uart[4]);
        return;
    }
    /* ESP8266 AT's ranges: baud 80..5000000, 5..8 data bits, 1..3 stop bits (1, 1.5, 2),
     * parity 0..2, flow control 0..3. */
    bool ok = ps->n == 5 && p_int(ps, 0, 80, 5000000) && p_int(ps, 1, 5, 8) && p_int(ps, 2, 1, 3) &&
              p_int(ps, 3, 0, 2) && p_int(ps, 4, 0, 3);
    if (!ok) {
        reply_error(at);
        return;
    }
    bool same = true;
    for (int i = 0; i < 5; i++)
        same = same && (uint32_t)ps->p[i].v == at->uart[i];
    if (!same && (!at->ops.set_uart ||
                  at->ops.set_uart(at->ops.ctx, (uint32_t)ps->p[0].v, (uint8_t)ps->p[1].v, (uint8_t)ps->p[2].v,
                                   (uint8_t)ps->p[3].v, (uint8_t)ps->p[4].v) != SC_OK)) {
        reply_error(at);   /* the port cannot do it: nothing changed */
        return;
    }
    for (int i = 0; i < 5; i++)
        at->uart[i] = (uint32_t)ps->p[i].v;
    reply_ok(at);
}

static void cmd_ota(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    sc_at_ota_env_t env = { .ota = at->ota, .dev = at->dev.valid ? &at->dev.id : NULL, .mqtt_up = mqtt_up(at),
                            .out = { sink_emit, at }, .now_ms = at->now_ms,
                            /* idle here: a PUBL payload phase takes every byte, no command runs */
                            .scratch = at->publ_buf, .scratch_len = sizeof at->publ_buf };
    _Static_assert(sizeof at->publ_buf >= SC_AT_FWREAD_MAX, "AT+TCREADFWDATA reads into the PUBL buffer");
    sc_at_ota_cmd(&env, (int)(ci - C_TCFWINFO), (int)f, ps->p, ps->n);
}

void sc_at_attach_ota(sc_at_t *pub, sc_ota_t *ota)
{
    AT(pub)->ota = ota;
}

void sc_at_ota_event(sc_at_t *pub, sc_ota_event_t ev, int code)
{
    sc_at_ota_urc(&(sc_at_sink_t){ sink_emit, AT(pub) }, ev, code);
}

/* The gateway commands live in at_gw.c; at.c keeps their pending state and timeout. */
SC_OUTLINE static sc_at_gw_env_t gw_env(at_state_t *at)
{
    return (sc_at_gw_env_t){ .ops = &at->ops, .dev = at->dev.valid ? &at->dev.id : NULL, .mqtt_up = mqtt_up(at),
                             .out = { sink_emit, at } };
}

static void gw_pending(at_state_t *at, int r)
{
    if (r == SC_AT_PENDING)
        start_pending(at, CMD_GW);
}

static void cmd_gw(at_state_t *at, unsigned ci, form_t f, const params_t *ps)
{
    sc_at_gw_env_t env = gw_env(at);
    gw_pending(at, sc_at_gw_cmd(&env, &at->gw, ci == C_TCGWBIND, (int)f, ps->p, ps->n));
}

#define X(id, name, forms, secret, test, fn) { forms, secret, test, fn },
static const cmd_t commands[] = { AT_COMMANDS(X) };
#undef X
_Static_assert(sizeof commands / sizeof commands[0] == C__COUNT, "one entry per command name");

/* ---------------------------------------------------------------- line handling */

/* Echo of a set line with one parameter masked, so a secret never goes back on the wire. */
static void echo_line(at_state_t *at, const char *line, size_t len, const cmd_t *c, form_t f, bool parsed,
                      const params_t *ps, size_t ne)
{
    if (!at->echo)
        return;
    if (!c || f != F_SET || c->secret_param < 0) {
        emit(at, line, len);
        emit(at, "\r\n", 2);
        return;
    }
    size_t k = (size_t)c->secret_param;
    if (!parsed || k >= ps->n || k >= SC_AT_MAX_PARAMS) {
        emit(at, line, ne + 1);   /* "AT" name "=" */
        emit(at, "***\r\n", 5);
        return;
    }
    emit(at, line, ps->raw[k][0]);
    emit(at, "\"***\"", 5);
    emit(at, line + ps->raw[k][1], len - ps->raw[k][1]);
    emit(at, "\r\n", 2);
}

/* ERROR, or ESP-AT's answer while a command is still running. */
static void reply_error_or_busy(at_state_t *at, bool busy)
{
    if (busy)
        reply(at, "busy p...");
    else
        reply_error(at);
}

static void handle_line(at_state_t *at, const char *line, size_t len)
{
    /* While a command runs in the background every line gets "busy p...", after the same
     * (masked) echo as any other line: a secret sent then must not come back (F33). */
    bool busy = at->pending != CMD_NONE;
    if (len < 2 || line[0] != 'A' || line[1] != 'T') {
        echo_line(at, line, len, NULL, F_EXEC, false, NULL, 0);
        reply_error_or_busy(at, busy);
        return;
    }
    if (len == 2 || (len == 4 && line[2] == 'E' && (line[3] == '0' || line[3] == '1'))) {
        echo_line(at, line, len, NULL, F_EXEC, false, NULL, 0);
        if (busy) {
            reply(at, "busy p...");
            return;
        }
        if (len == 4)
            at->echo = line[3] == '1';
        reply_ok(at);
        return;
    }
    /* Command name: up to '=', '?' or the end. */
    size_t ne = 2;
    while (ne < len && line[ne] != '=' && line[ne] != '?')
        ne++;
    const char *name = command_names;
    unsigned ci = 0;
    for (; ci < C__COUNT; ci++) {
        size_t nl = strlen(name);
        if (nl == ne - 2 && !memcmp(line + 2, name, nl))
            break;
        name += nl + 1;
    }
    const cmd_t *c = ci < C__COUNT ? &commands[ci] : NULL;
    form_t f = F_EXEC;   /* set below wherever c stays non-NULL; the initialiser quiets arm-none-eabi-gcc -Og */
    const char *rest = line + ne;
    size_t rlen = len - ne;
    if (rlen == 0)
        f = F_EXEC;
    else if (rlen == 1 && rest[0] == '?')
        f = F_QUERY;
    else if (rlen == 2 && rest[0] == '=' && rest[1] == '?')
        f = F_TEST;
    else if (rest[0] == '=')
        f = F_SET;
    else
        c = NULL;   /* e.g. "AT+TCVER?x": malformed */
    params_t ps;
    ps.n = 0;
    bool parsed = true;
    if (c && f == F_SET)
        parsed = parse_params(rest + 1, rlen - 1, ne + 1, &ps);
    if (at->lf_in_line) {
        /* Only inside AT+TCMQTTPUB's payload (its third parameter). */
        bool ok = c && parsed && f == F_SET && ci == C_TCMQTTPUB && ps.n == 3 &&
                  !memchr(line, '\n', ps.raw[2][0]);
        if (!ok) {
            /* echoed as a line that does not parse: a secret command's parameters as *** (F33) */
            echo_line(at, line, len, c, c ? f : F_EXEC, false, &ps, ne);
            reply_error_or_busy(at, busy);
            sc_wipe(&ps, sizeof ps);
            return;
        }
    }
    echo_line(at, line, len, c, c ? f : F_EXEC, parsed, &ps, ne);
    if (busy) {
        reply(at, "busy p...");
        sc_wipe(&ps, sizeof ps);
        return;
    }
    if (!c || !(c->forms & FB(f)) || !parsed) {
        reply_error(at);
        memset(&ps, 0, sizeof ps);
        return;
    }
    if (f == F_TEST) {
        const char *t = sc_pool_at(test_texts, c->test), *head = "";
        if (*t && (unsigned char)*t < ' ')
            head = sc_pool_at(test_texts, (unsigned char)*t++);
        say(at, *t ? "%s%s%s\nOK" : "OK", name, head, t);
        return;
    }
    c->fn(at, ci, f, &ps);
    sc_wipe(&ps, sizeof ps);   /* decoded secrets do not outlive the command */
}

void sc_at_feed(sc_at_t *pub, const void *data, size_t len, uint32_t now_ms)
{
    at_state_t *at = AT(pub);
    const uint8_t *p = data;
    at->now_ms = now_ms;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = p[i];
        if (at->publ) {
            publ_byte(at, b);   /* PUBL / PUBRAW second phase: raw bytes, no framing */
            continue;
        }
        if (b == '\n' && at->cr) {
            at->cr = false;
            if (at->overflow || at->bad_byte) {
                reply_error(at);
            } else if (at->len > 0) {
                at->line[at->len] = 0;
                handle_line(at, at->line, at->len);
            }
            memset(at->line, 0, sizeof at->line);
            at->len = 0;
            at->overflow = false;
            at->bad_byte = false;
            at->lf_in_line = false;
            continue;
        }
        if (at->cr) {
            at->bad_byte = true;   /* a '\r' not followed by '\n' is a stray control byte */
            at->cr = false;
        }
        if (b == '\r') {
            at->cr = true;
            continue;
        }
        if (b == '\n' && at->len > 0) {
            /* Kept for AT+TCMQTTPUB, whose quoted payload may span lines (the reference takes
             * the test tool's multi-line JSON); any other line with it answers ERROR. */
            at->lf_in_line = true;
        } else if (b < 0x20 || b == 0x7f) {
            at->bad_byte = true;   /* lines end with "\r\n" exactly */
            continue;
        }
        if (at->len >= SC_AT_LINE_MAX) {
            at->overflow = true;
            continue;
        }
        at->line[at->len++] = (char)b;
    }
}

/* ---------------------------------------------------------------- public API */

void sc_at_config_default(sc_at_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->module_name = "smartcfg";
    cfg->fw_version = "smartcfg-AT";
    cfg->flash_size_mb = 4;
    cfg->echo = true;
    cfg->pending_timeout_ms = 30000;
}

sc_err_t sc_at_init(sc_at_t *pub, const sc_at_config_t *cfg, const sc_at_ops_t *ops)
{
    at_state_t *at = AT(pub);
    if (!at || !cfg)
        return SC_ERR_INVAL;
    memset(at, 0, sizeof *at);
    at->cfg = *cfg;
    if (!at->cfg.module_name)
        at->cfg.module_name = "smartcfg";
    if (!at->cfg.fw_version)
        at->cfg.fw_version = "smartcfg-AT";
    if (ops)
        at->ops = *ops;
    at->echo = cfg->echo;
    at->log_level = LOG_LEVEL_ERROR;
    esp_defaults(at);
    modinfo_defaults(at);
    info_load(at, "devinfo", &at->dev, false);
    info_load(at, "prdinfo", &at->prd, true);
    return SC_OK;
}

bool sc_at_mqtt_waiting(const sc_at_t *pub)
{
    switch (CAT(pub)->pending) {
    case CMD_TCMQTTCONN:
    case CMD_PUB:
    case CMD_PUBL:
    case CMD_PUBRAW:
    case CMD_SUB:
    case CMD_UNSUB:
    case CMD_GW:
        return true;
    default:
        return false;
    }
}

void sc_at_complete(sc_at_t *pub, int result)
{
    at_state_t *at = AT(pub);
    int cmd = at->pending;
    at->pending = CMD_NONE;
    switch (cmd) {
    case CMD_TCDEVREG:
        finish_devreg(at, result);
        break;
    case CMD_TCMQTTCONN:
        finish_mqttconn(at, result);
        break;
    case CMD_TCSTARTSMART:
    case CMD_TCSAP:
        finish_flow(at, cmd, result);
        break;
    case CMD_CWJAP:
        finish_cwjap(at, result);
        break;
    case CMD_PUB:
    case CMD_PUBL:
    case CMD_PUBRAW:
        reply_result(at, C_TCMQTTPUB + (unsigned)(cmd - CMD_PUB), result);
        break;
    case CMD_SUB:
    case CMD_UNSUB:
        finish_sub(at, cmd, result);
        break;
    case CMD_GW: {
        sc_at_gw_env_t env = gw_env(at);
        if (at->gw.phase == 2)
            sc_at_gw_timeout(&env, &at->gw, result);   /* only the deadline completes this phase */
        else
            gw_pending(at, sc_at_gw_complete(&env, &at->gw, result));
        break;
    }
    default:
        break;   /* nothing pending: a late or duplicate completion */
    }
}

void sc_at_complete_dynreg(sc_at_t *pub, int result, const char *device_secret)
{
    at_state_t *at = AT(pub);
    if (at->pending != CMD_TCDEVREG)
        return;   /* timed out or reset meanwhile: the result belongs to no command */
    if (result == 0) {
        size_t n = 0;
        /* Bounded: the port's string is not trusted to end. */
        while (device_secret && n <= SC_DEVICE_SECRET_MAX && device_secret[n])
            n++;
        if (!device_secret || n == 0 || n > SC_DEVICE_SECRET_MAX) {
            result = SC_AT_CME_EXEC;
        } else {
            memcpy(at->scratch.device_secret, device_secret, n);
            at->scratch.device_secret[n] = 0;
        }
    }
    sc_at_complete(pub, result);
}

uint32_t sc_at_tick(sc_at_t *pub, uint32_t now_ms)
{
    at_state_t *at = AT(pub);
    at->now_ms = now_ms;
    if (at->publ) {
        /* A payload that never fully arrives: nothing is published, the line recovers. */
        if (!sc_ms_reached(now_ms, at->publ_deadline))
            return at->publ_deadline;
        publ_abort(at, SC_AT_CME_TIMEOUT);
    }
    if (at->pending == CMD_NONE)
        return now_ms + 1000;
    if (sc_ms_reached(now_ms, at->pending_deadline)) {
        sc_at_complete(pub, SC_AT_CME_TIMEOUT);
        return now_ms + 1000;
    }
    return at->pending_deadline;
}

void sc_at_provision_result(sc_at_t *pub, bool success, uint16_t err_id, int32_t sub_id)
{
    at_state_t *at = AT(pub);
    if (at->flow == SC_AT_FLOW_NONE)
        return;
    const char *name = cname(at->flow == SC_AT_FLOW_SOFTAP ? C_TCSAP : C_TCSTARTSMART);
    at->flow = SC_AT_FLOW_NONE;
    say(at, success ? "%s:WIFI_CONNECT_SUCCESS" : "%s:WIFI_CONNECT_FAILED,%d,%d", name, err_id, (int)sub_id);
}

void sc_at_mqtt_disconnected(sc_at_t *pub, int code, bool will_reconnect)
{
    at_state_t *at = AT(pub);
    if (!will_reconnect) {
        at->mqtt_task = false;
        subs_clear(at);
    }
    sc_at_gw_session_ended(&at->gw);
    say(at, "+TCMQTTDISCON,%d", code);
}

void sc_at_mqtt_reconnecting(sc_at_t *pub)
{
    at_state_t *at = AT(pub);
    reply(at, "+TCMQTTRECONNECTING");
}

void sc_at_mqtt_reconnected(sc_at_t *pub)
{
    at_state_t *at = AT(pub);
    reply(at, "+TCMQTTRECONNECTED");
}

void sc_at_urc(sc_at_t *pub, const char *line)
{
    at_state_t *at = AT(pub);
    reply(at, line);
}

/* MQTT's filter match: '+' one level, '#' (last) the rest, the parent level included; a
 * topic starting with '$' is not matched by a filter starting with a wildcard. */
static bool filter_matches(const char *f, const char *t)
{
    if (*t == '$' && (*f == '+' || *f == '#'))
        return false;
    for (;;) {
        if (*f == '#')
            return true;
        if (*f == '+') {
            f++;
            while (*t && *t != '/')
                t++;
        } else {
            while (*f && *f != '/' && *f == *t) {
                f++;
                t++;
            }
            if ((*f && *f != '/') || (*t && *t != '/'))
                return false;   /* the levels differ */
        }
        if (!*f || !*t)
            return !*f ? !*t : f[1] == '#' && !f[2];   /* "a/#" takes "a" */
        f++;
        t++;
    }
}

/* Whether a received message goes to the host as +TCMQTTRCVPUB. Only on a topic one of the
 * host's granted subscriptions matches (the table: a SUB joins it at its SUBACK, an UNSUB
 * leaves it when sent), as the reference's SDK delivers (a broker's message on any other
 * topic is logged there, not printed). And only a topic the
 * host can read back as sent: the reference prints it unescaped, and hosts find its end at the
 * closing quote, or at the first comma (TencentOS tiny's ESP8266 driver, the at-based SDK's
 * "%s,%u,"). A topic with a quote or a comma, which whoever publishes under a wildcard
 * subscription may choose, would let that sender write the rest of the line (another topic,
 * another length); a control byte (CR, LF) whole lines (OK, +TCMQTTDISCON). Such a topic
 * passes only when the host subscribed to exactly it (AT+TCMQTTSUB takes a quote or a comma,
 * never a control byte): it knows that topic. */
static bool rcv_topic_ok(const at_state_t *at, const char *topic)
{
    if (!*topic)
        return false;
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)topic; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        if (*p == '"' || *p == ',')
            plain = false;
    }
    for (int i = 0; i < at->nsubs; i++) {
        const char *f = at->subs[i].topic;
        if (plain ? filter_matches(f, topic) : !strcmp(f, topic))
            return true;
    }
    return false;
}

bool sc_at_mqtt_received(sc_at_t *pub, const char *topic, const void *payload, size_t len)
{
    at_state_t *at = AT(pub);
    sc_at_gw_env_t env = gw_env(at);
    int gw = sc_at_gw_message(&env, &at->gw, topic, payload, len);
    if (gw == 2 && at->pending == CMD_GW)
        at->pending = CMD_NONE;
    if (gw)
        return true;   /* $gateway/operation/result: the module's own, as the reference */
    if (!rcv_topic_ok(at, topic))
        return false;
    say(at, "+TCMQTTRCVPUB:\"%s\",%u,\"%b\"", topic, (unsigned)len, payload, len);
    return true;
}

const char *sc_at_subscription(const sc_at_t *pub, size_t i, int *qos)
{
    const at_state_t *at = CAT(pub);
    if (i >= at->nsubs)
        return NULL;
    if (qos)
        *qos = at->subs[i].qos;
    return at->subs[i].topic;
}

bool sc_at_echo(const sc_at_t *pub)
{
    const at_state_t *at = CAT(pub);
    return at->echo;
}
sc_at_flow_t sc_at_flow(const sc_at_t *pub)
{
    const at_state_t *at = CAT(pub);
    return at->flow;
}
bool sc_at_mqtt_task_running(const sc_at_t *pub)
{
    const at_state_t *at = CAT(pub);
    return at->mqtt_task;
}

const sc_at_info_t *sc_at_devinfo(const sc_at_t *pub)
{
    const at_state_t *at = CAT(pub);
    return at->dev.valid ? &at->dev : NULL;
}
