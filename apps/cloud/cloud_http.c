/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP side of the local cloud (libmicrohttpd, one internal polling thread, so one SQLite
 * connection used serially): the app's token API in Tencent's envelope
 * (docs/protocol/tencent.md#the-apps-token-api), dynamic registration (#dynamic-registration) and a small admin API
 * for a trusted network (docs/cloud.md). */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "cloud.h"

#define BODY_MAX (16 * 1024)   /* every legitimate request is well under 1 KiB */
#define DYNREG_WINDOW 300      /* seconds of clock skew accepted on /register/dev */

struct cloud_http {
    struct MHD_Daemon *d;
    cloud_store_t store;
    int token_ttl;
};

typedef struct {
    char *buf;
    size_t len;
    bool too_big;
} req_t;

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!s)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result admin_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return send_json(c, status, o);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- token API (docs/protocol/tencent.md#the-apps-token-api) ------------------------------------- */

static enum MHD_Result tok_error(struct MHD_Connection *c, int code, const char *err_code, const char *msg,
                                 const char *reqid)
{
    cJSON *o = cJSON_CreateObject(), *data = cJSON_CreateObject(), *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddStringToObject(o, "msg", msg);
    cJSON_AddStringToObject(e, "Code", err_code);
    cJSON_AddStringToObject(e, "Message", msg);
    cJSON_AddItemToObject(data, "Error", e);
    if (reqid)
        cJSON_AddStringToObject(data, "RequestId", reqid);
    cJSON_AddItemToObject(o, "data", data);
    /* 200 like the real service: the SDK reads the envelope, and wx.request only resolves
     * (rather than rejects) bodies it can read. */
    return send_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result tok_ok(struct MHD_Connection *c, cJSON *data, const char *reqid)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", 0);
    cJSON_AddStringToObject(o, "msg", "");
    if (reqid)
        cJSON_AddStringToObject(data, "RequestId", reqid);
    cJSON_AddItemToObject(o, "data", data);
    return send_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result token_api(cloud_http_t *h, struct MHD_Connection *c, const req_t *rq)
{
    const char *cmd = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cmd");
    cJSON *body = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return tok_error(c, 400, "InvalidParameter", "request body is not a JSON object", NULL);
    }
    const char *action = jstr(body, "Action");
    if (!action)
        action = cmd;
    char reqid[80];
    snprintf(reqid, sizeof reqid, "%s", jstr(body, "RequestId") ? jstr(body, "RequestId") : "");
    enum MHD_Result ret;
    int64_t now = cloud_now();
    if (!action) {
        ret = tok_error(c, 400, "InvalidParameter", "missing Action (?cmd= or body.Action)", reqid);
    } else if (cmd && strcmp(cmd, action)) {
        ret = tok_error(c, 400, "InvalidParameter", "cmd and Action disagree", reqid);
    } else if (!strcmp(action, "AppCreateDeviceBindToken")) {
        char token[33];
        cloud_random_hex(token, 32);
        int64_t exp = now + h->token_ttl;
        if (cloud_store_add_token(&h->store, token, now, exp) != 0) {
            ret = tok_error(c, 500, "InternalError", "database error", reqid);
        } else {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "Token", token);
            cJSON_AddNumberToObject(d, "ExpireTime", (double)exp);
            ret = tok_ok(c, d, reqid);
            char ab[16];
            cloud_abbrev_token(token, ab);
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddStringToObject(ev, "token", ab);
            cJSON_AddNumberToObject(ev, "expire", (double)exp);
            cloud_event("token_created", ev);
            cloud_log("token %s created, expires in %d s", ab, h->token_ttl);
        }
    } else if (!strcmp(action, "AppGetDeviceBindTokenState") || !strcmp(action, "AppGetMultiDeviceBindTokenState")) {
        bool multi = !strcmp(action, "AppGetMultiDeviceBindTokenState");
        const char *token = jstr(body, "Token");
        cloud_token_t t;
        int rc = cloud_valid_token(token) ? cloud_store_get_token(&h->store, token, &t) : 1;
        if (!token) {
            ret = tok_error(c, 400, "InvalidParameter", "missing Token", reqid);
        } else if (rc < 0) {
            ret = tok_error(c, 500, "InternalError", "database error", reqid);
        } else if (rc == 1) {
            ret = tok_error(c, 404, "ResourceNotFound.TokenNotExist", "token does not exist", reqid);
        } else if (!t.bound_at && now > t.expire) {
            ret = tok_error(c, 410, "FailedOperation.TokenExpired", "token expired", reqid);
        } else {
            int state = t.bound_at ? 2 : 1;
            cJSON *d = cJSON_CreateObject();
            if (multi) {
                /* Empty while waiting: the SDK's poller keeps polling until an entry has State 2. */
                cJSON *arr = cJSON_AddArrayToObject(d, "Data");
                if (t.bound_at) {
                    cJSON *e = cJSON_CreateObject();
                    cJSON_AddStringToObject(e, "ProductId", t.product_id);
                    cJSON_AddStringToObject(e, "DeviceName", t.device_name);
                    cJSON_AddNumberToObject(e, "State", state);
                    cJSON_AddItemToArray(arr, e);
                }
            } else {
                cJSON_AddNumberToObject(d, "State", state);
                cJSON_AddStringToObject(d, "ProductId", t.product_id);
                cJSON_AddStringToObject(d, "DeviceName", t.device_name);
            }
            ret = tok_ok(c, d, reqid);
        }
    } else if (!strcmp(action, "AppTokenBindDeviceFamily")) {
        const char *token = jstr(body, "Token"), *pid = jstr(body, "ProductId"), *dn = jstr(body, "DeviceName");
        const cJSON *fam = cJSON_GetObjectItemCaseSensitive(body, "FamilyId");
        const cJSON *room = cJSON_GetObjectItemCaseSensitive(body, "RoomId");
        char fbuf[64] = "", rbuf[64] = "";
        /* The SDK sends FamilyId/RoomId as strings or numbers depending on the app. */
        if (cJSON_IsString(fam)) snprintf(fbuf, sizeof fbuf, "%s", fam->valuestring);
        else if (cJSON_IsNumber(fam)) snprintf(fbuf, sizeof fbuf, "%.0f", fam->valuedouble);
        if (cJSON_IsString(room)) snprintf(rbuf, sizeof rbuf, "%s", room->valuestring);
        else if (cJSON_IsNumber(room)) snprintf(rbuf, sizeof rbuf, "%.0f", room->valuedouble);
        cloud_token_t t;
        int rc = cloud_valid_token(token) ? cloud_store_get_token(&h->store, token, &t) : 1;
        if (!token || !pid || !dn) {
            ret = tok_error(c, 400, "InvalidParameter", "Token, ProductId and DeviceName are required", reqid);
        } else if (rc < 0) {
            ret = tok_error(c, 500, "InternalError", "database error", reqid);
        } else if (rc == 1) {
            ret = tok_error(c, 404, "ResourceNotFound.TokenNotExist", "token does not exist", reqid);
        } else if (!t.bound_at) {
            ret = tok_error(c, 409, "FailedOperation.DeviceNotBound", "no device has bound this token yet", reqid);
        } else if (strcmp(t.product_id, pid) || strcmp(t.device_name, dn)) {
            ret = tok_error(c, 403, "FailedOperation.TokenDeviceMismatch", "token was bound by another device", reqid);
        } else if (cloud_store_bind_family(&h->store, token, pid, dn, fbuf, rbuf, now) != 0) {
            ret = tok_error(c, 500, "InternalError", "database error", reqid);
        } else {
            ret = tok_ok(c, cJSON_CreateObject(), reqid);
            cJSON *ev = cloud_device_event(pid, dn);
            cJSON_AddStringToObject(ev, "family_id", fbuf);
            cloud_event("family_bound", ev);
            cloud_log("device %s/%s bound to family '%s'", pid, dn, fbuf);
        }
    } else if (!strcmp(action, "AppGetUser")) {
        /* The SDK logs in with AppGetUser before any other call; one local user is enough. */
        cJSON *d = cJSON_CreateObject(), *u = cJSON_AddObjectToObject(d, "Data");
        cJSON_AddStringToObject(u, "UserID", "local-user");
        cJSON_AddStringToObject(u, "NickName", "smartcfg local cloud");
        ret = tok_ok(c, d, reqid);
    } else if (!strcmp(action, "AppGetFamilyList")) {
        cJSON *d = cJSON_CreateObject(), *l = cJSON_AddArrayToObject(d, "FamilyList"), *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "FamilyId", "local-family");
        cJSON_AddStringToObject(f, "FamilyName", "home");
        cJSON_AddItemToArray(l, f);
        cJSON_AddNumberToObject(d, "Total", 1);
        ret = tok_ok(c, d, reqid);
    } else {
        ret = tok_error(c, 400, "InvalidAction", "action not supported by the local cloud", reqid);
    }
    cJSON_Delete(body);
    return ret;
}

/* ---- dynamic registration (docs/protocol/tencent.md#dynamic-registration) ------------------------ */

static enum MHD_Result reg_error(struct MHD_Connection *c, int code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddStringToObject(o, "message", msg);
    return send_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result register_dev(cloud_http_t *h, struct MHD_Connection *c, const req_t *rq)
{
    cJSON *b = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    const char *dn = jstr(b, "deviceName"), *pid = jstr(b, "productId"), *sig = jstr(b, "signature");
    const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(b, "nonce");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(b, "timestamp");
    enum MHD_Result ret;
    char secret[128], msg[256], hex[41], expect[64];
    if (!cJSON_IsObject(b) || !cloud_valid_id(dn, 48) || !cloud_valid_id(pid, 64) || !sig ||
        !cJSON_IsNumber(nonce) || !cJSON_IsNumber(ts)) {
        ret = reg_error(c, 1000, "malformed request: need deviceName, productId, nonce, timestamp, signature");
        goto out;
    }
    int64_t now = cloud_now(), t = (int64_t)ts->valuedouble;
    int prc = cloud_store_get_product_secret(&h->store, pid, secret, sizeof secret);
    if (prc < 0) {
        ret = reg_error(c, 1500, "internal error");
        goto out;
    }
    if (prc == 1) {
        ret = reg_error(c, 1001, "unknown product");
        goto out;
    }
    /* Sign the numbers exactly as the device printed them (integers). */
    snprintf(msg, sizeof msg, "deviceName=%s&nonce=%lld&productId=%s&timestamp=%lld", dn,
             (long long)nonce->valuedouble, pid, (long long)t);
    if (cloud_hmac_hex(false, secret, strlen(secret), msg, hex, sizeof hex) != 0 ||
        cloud_b64_encode(hex, 40, expect, sizeof expect) != 0 || !cloud_consttime_eq(sig, expect)) {
        ret = reg_error(c, 1002, "signature mismatch");
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddStringToObject(ev, "reason", "signature");
        cloud_event("register_refused", ev);
        cloud_log("dynamic registration of %s/%s refused: bad signature", pid, dn);
        goto out;
    }
    if (t < now - DYNREG_WINDOW || t > now + DYNREG_WINDOW) {
        ret = reg_error(c, 1003, "timestamp out of the accepted window");
        cloud_log("dynamic registration of %s/%s refused: timestamp %lld s off", pid, dn, (long long)(t - now));
        goto out;
    }
    if (strlen(secret) < 16) {
        ret = reg_error(c, 1004, "product secret shorter than 16 characters cannot encrypt the reply");
        goto out;
    }
    char psk[64], newpsk[64];
    if (cloud_random_b64(newpsk, sizeof newpsk, 16) != 0) {
        ret = reg_error(c, 1500, "internal error");
        goto out;
    }
    int drc = cloud_store_add_device(&h->store, pid, dn, newpsk, now, psk, sizeof psk);
    if (drc < 0) {
        ret = reg_error(c, 1500, "internal error");
        goto out;
    }
    char plain[160];
    int pl = snprintf(plain, sizeof plain, "{\"encryptionType\":2,\"psk\":\"%s\"}", psk);
    unsigned char enc[176];
    size_t enclen;
    char b64[256];
    if (pl < 0 || (size_t)pl >= sizeof plain ||
        cloud_aes128cbc_zero((const unsigned char *)secret, plain, (size_t)pl, enc, sizeof enc, &enclen) != 0 ||
        cloud_b64_encode(enc, enclen, b64, sizeof b64) != 0) {
        ret = reg_error(c, 1500, "internal error");
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", 0);
    cJSON_AddStringToObject(o, "message", "");
    cJSON_AddNumberToObject(o, "len", pl);   /* plaintext length: the device strips the zero padding with it */
    cJSON_AddStringToObject(o, "payload", b64);
    ret = send_json(c, MHD_HTTP_OK, o);
    cJSON *ev = cloud_device_event(pid, dn);
    cJSON_AddBoolToObject(ev, "new", drc == 0);
    cloud_event("device_registered", ev);
    cloud_log("dynamic registration of %s/%s: %s", pid, dn, drc == 0 ? "created" : "existing device");
out:
    cJSON_Delete(b);
    return ret;
}

/* ---- admin API (trusted network only) --------------------------------------------------- */

static enum MHD_Result admin_products(cloud_http_t *h, struct MHD_Connection *c, const req_t *rq)
{
    cJSON *b = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    enum MHD_Result ret;
    const char *pid = jstr(b, "product_id"), *sec = jstr(b, "product_secret");
    char gen[33];
    if (!cJSON_IsObject(b)) {
        ret = admin_error(c, 400, "body must be a JSON object");
    } else if (!cloud_valid_id(pid, 64)) {
        ret = admin_error(c, 400, "product_id: 1-64 characters of [A-Za-z0-9_.:@-]");
    } else if (sec && (strlen(sec) < 16 || strlen(sec) > 64)) {
        ret = admin_error(c, 400, "product_secret must be 16-64 characters (its first 16 bytes are the AES key)");
    } else {
        if (!sec) {
            cloud_random_hex(gen, 32);
            sec = gen;
        }
        int rc = cloud_store_add_product(&h->store, pid, sec, cloud_now());
        if (rc < 0) {
            ret = admin_error(c, 500, "database error");
        } else if (rc == 1) {
            ret = admin_error(c, 409, "product exists");
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "product_id", pid);
            cJSON_AddStringToObject(o, "product_secret", sec);
            ret = send_json(c, MHD_HTTP_CREATED, o);
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddStringToObject(ev, "product_id", pid);
            cloud_event("product_created", ev);
            cloud_log("product %s created", pid);
        }
    }
    cJSON_Delete(b);
    return ret;
}

static enum MHD_Result admin_add_device(cloud_http_t *h, struct MHD_Connection *c, const char *pid, const req_t *rq)
{
    cJSON *b = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    enum MHD_Result ret;
    const char *dn = jstr(b, "device_name"), *sec = jstr(b, "device_secret");
    char gen[64], psk[64];
    unsigned char raw[64];
    size_t rawlen;
    int prc = cloud_store_get_product_secret(&h->store, pid, NULL, 0);
    if (!cJSON_IsObject(b)) {
        ret = admin_error(c, 400, "body must be a JSON object");
    } else if (!cloud_valid_id(dn, 48)) {
        ret = admin_error(c, 400, "device_name: 1-48 characters of [A-Za-z0-9_.:@-]");
    } else if (sec && (strlen(sec) > 44 || cloud_b64_decode(sec, raw, sizeof raw, &rawlen) != 0 || rawlen == 0)) {
        ret = admin_error(c, 400, "device_secret must be base64 (at most 44 characters)");
    } else if (prc < 0) {
        ret = admin_error(c, 500, "database error");
    } else if (prc == 1) {
        ret = admin_error(c, 404, "unknown product");
    } else {
        if (!sec) {
            cloud_random_b64(gen, sizeof gen, 16);
            sec = gen;
        }
        int rc = cloud_store_add_device(&h->store, pid, dn, sec, cloud_now(), psk, sizeof psk);
        if (rc < 0) {
            ret = admin_error(c, 500, "database error");
        } else if (rc == 1) {
            ret = admin_error(c, 409, "device exists");
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "device_name", dn);
            cJSON_AddStringToObject(o, "device_secret", psk);
            ret = send_json(c, MHD_HTTP_CREATED, o);
            cJSON *ev = cloud_device_event(pid, dn);
            cloud_event("device_created", ev);
            cloud_log("device %s/%s created", pid, dn);
        }
    }
    cJSON_Delete(b);
    return ret;
}

static enum MHD_Result admin_list(cloud_http_t *h, struct MHD_Connection *c, const char *pid)
{
    /* Listings leave out secrets: the admin API hands a secret out once, when it is created. */
    sqlite3_stmt *st = NULL;
    const char *sql = pid
        ? "SELECT d.device_name, d.created, (SELECT count(*) FROM tokens t WHERE t.product_id=d.product_id AND"
          " t.device_name=d.device_name AND t.bound_at IS NOT NULL) FROM devices d WHERE d.product_id=?"
          " ORDER BY d.device_name"
        : "SELECT t.product_id, t.device_name, t.bound_at, coalesce(b.family_id,''), coalesce(b.room_id,'')"
          " FROM tokens t LEFT JOIN bindings b ON b.product_id=t.product_id AND b.device_name=t.device_name"
          " WHERE t.bound_at IS NOT NULL ORDER BY t.bound_at";
    if (pid) {
        int prc = cloud_store_get_product_secret(&h->store, pid, NULL, 0);
        if (prc == 1)
            return admin_error(c, 404, "unknown product");
    }
    if (sqlite3_prepare_v2(h->store.db, sql, -1, &st, NULL) != SQLITE_OK)
        return admin_error(c, 500, "database error");
    if (pid)
        sqlite3_bind_text(st, 1, pid, -1, SQLITE_TRANSIENT);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, pid ? "devices" : "bindings");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        if (pid) {
            cJSON_AddStringToObject(e, "device_name", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddNumberToObject(e, "created", (double)sqlite3_column_int64(st, 1));
            cJSON_AddBoolToObject(e, "bound", sqlite3_column_int64(st, 2) > 0);
        } else {
            cJSON_AddStringToObject(e, "product_id", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddStringToObject(e, "device_name", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddNumberToObject(e, "bound_at", (double)sqlite3_column_int64(st, 2));
            cJSON_AddStringToObject(e, "family_id", (const char *)sqlite3_column_text(st, 3));
            cJSON_AddStringToObject(e, "room_id", (const char *)sqlite3_column_text(st, 4));
        }
        cJSON_AddItemToArray(arr, e);
    }
    sqlite3_finalize(st);
    return send_json(c, MHD_HTTP_OK, o);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static enum MHD_Result route(cloud_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                             const req_t *rq)
{
    bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET");
    if (!strcmp(url, "/tokenapi"))
        return post ? token_api(h, c, rq) : admin_error(c, 405, "use POST");
    if (!strcmp(url, "/register/dev"))
        return post ? register_dev(h, c, rq) : admin_error(c, 405, "use POST");
    if (!strcmp(url, "/v1/products"))
        return post ? admin_products(h, c, rq) : admin_error(c, 405, "use POST");
    if (!strcmp(url, "/v1/bindings"))
        return get ? admin_list(h, c, NULL) : admin_error(c, 405, "use GET");
    if (!strncmp(url, "/v1/products/", 13)) {
        const char *p = url + 13, *slash = strchr(p, '/');
        char pid[65];
        if (slash && !strcmp(slash, "/devices") && (size_t)(slash - p) < sizeof pid) {
            memcpy(pid, p, (size_t)(slash - p));
            pid[slash - p] = 0;
            if (!cloud_valid_id(pid, 64))
                return admin_error(c, 400, "bad product id");
            if (post)
                return admin_add_device(h, c, pid, rq);
            if (get)
                return admin_list(h, c, pid);
            return admin_error(c, 405, "use GET or POST");
        }
    }
    return admin_error(c, 404, "no such endpoint");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    cloud_http_t *h = cls;
    req_t *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big) {
            if (rq->len + *upload_size > BODY_MAX) {
                rq->too_big = true;
            } else {
                char *nb = realloc(rq->buf, rq->len + *upload_size + 1);
                if (!nb)
                    return MHD_NO;
                rq->buf = nb;
                memcpy(rq->buf + rq->len, upload, *upload_size);
                rq->len += *upload_size;
                rq->buf[rq->len] = 0;
            }
        }
        *upload_size = 0;   /* consumed (or dropped) */
        return MHD_YES;
    }
    if (rq->too_big)
        return admin_error(c, 413, "request body larger than 16 KiB");
    return route(h, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    req_t *rq = *con_cls;
    if (rq) {
        free(rq->buf);
        free(rq);
    }
    *con_cls = NULL;
}

cloud_http_t *cloud_http_start(const char *host, uint16_t port, const char *dbpath, int token_ttl,
                               char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int gr = getaddrinfo(host, ps, &hints, &ai);
    if (gr != 0) {
        snprintf(err, errlen, "HTTP address %s: %s", host, gai_strerror(gr));
        return NULL;
    }
    cloud_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->token_ttl = token_ttl;
    if (cloud_store_open(&h->store, dbpath, err, errlen) != 0) {
        free(h);
        freeaddrinfo(ai);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, port, NULL, NULL, handler, h,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,   /* a stalled client never pins a slot */
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen for HTTP on %s:%u (in use?)", host, port);
        cloud_store_close(&h->store);
        free(h);
        return NULL;
    }
    return h;
}

void cloud_http_stop(cloud_http_t *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    cloud_store_close(&h->store);
    free(h);
}
