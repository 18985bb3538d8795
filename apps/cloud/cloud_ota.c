/* SPDX-License-Identifier: Apache-2.0 */
/* OTA on the local cloud; see cloud_ota.h and docs/ota.md. Threads: the HTTP daemon's (uploads,
 * the admin endpoints, the download) and libmosquitto's loop thread (the devices' reports).
 * Both use one SQLite connection opened FULLMUTEX; libmosquitto's publish is thread-safe. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/md.h>
#include <mosquitto.h>

#include "cloud.h"
#include "cloud_mosq.h"
#include "cloud_ota.h"

#define FW_MAX (64u * 1024u * 1024u)   /* largest image accepted */
#define VERSION_MAX 32                 /* the SDK's version strings */
#define TOKEN_HEX 32

struct cloud_ota {
    cloud_store_t store;
    char fwdir[512];
    cloud_mosq_t *mq;                  /* progress reports in, the push out */
    long cut_after;                    /* test knob: cut a download from byte 0 after this many bytes */
};

struct cloud_ota_upload {
    int fd;
    char tmp[600];
    uint64_t size;
    bool too_big, failed;
    mbedtls_md_context_t md5;
};

/* Tables ota_firmware and ota_status: schema migration 3 in cloud_store.c. */

/* ---- helpers ----------------------------------------------------------------------------- */

/* Versions: 1..32 of [A-Za-z0-9._-] (safe in JSON, logs and URLs alike). */
static bool valid_version(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > VERSION_MAX)
        return false;
    for (; *v; v++)
        if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || *v == '.' ||
              *v == '_' || *v == '-'))
            return false;
    return true;
}

static void image_path(const cloud_ota_t *o, const char *token, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.bin", o->fwdir, token);
}

/* "/v1/products/<P>/<rest>" -> P (valid id) and rest. */
static bool product_path(const char *url, char pid[65], const char **rest)
{
    if (strncmp(url, "/v1/products/", 13))
        return false;
    const char *p = url + 13, *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= 65)
        return false;
    memcpy(pid, p, (size_t)(slash - p));
    pid[slash - p] = 0;
    *rest = slash;
    return true;
}

bool cloud_ota_owns(const char *url)
{
    char pid[65];
    const char *rest;
    if (!product_path(url, pid, &rest))
        return false;
    if (!strcmp(rest, "/firmware"))
        return true;
    size_t n = strlen(rest);
    return !strncmp(rest, "/devices/", 9) && n > 13 && !strcmp(rest + n - 4, "/ota");
}

bool cloud_ota_upload_url(const char *url, const char *method)
{
    char pid[65];
    const char *rest;
    return !strcmp(method, "POST") && product_path(url, pid, &rest) && !strcmp(rest, "/firmware");
}

/* ---- uploads ---------------------------------------------------------------------------- */

cloud_ota_upload_t *cloud_ota_upload_open(cloud_ota_t *o, const char *url)
{
    (void)url;
    cloud_ota_upload_t *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    snprintf(u->tmp, sizeof u->tmp, "%s/.upload-XXXXXX", o->fwdir);
    u->fd = mkstemp(u->tmp);
    if (u->fd < 0) {
        free(u);
        return NULL;
    }
    mbedtls_md_init(&u->md5);
    u->failed = mbedtls_md_setup(&u->md5, mbedtls_md_info_from_type(MBEDTLS_MD_MD5), 0) != 0 ||
                mbedtls_md_starts(&u->md5) != 0;
    return u;
}

void cloud_ota_upload_data(cloud_ota_upload_t *u, const char *data, size_t len)
{
    if (!u || u->too_big || u->failed)
        return;
    if (u->size + len > FW_MAX) {
        u->too_big = true;   /* the rest is read and dropped; the answer is 413 */
        return;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = write(u->fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            u->failed = true;
            return;
        }
        off += (size_t)n;
    }
    u->failed = mbedtls_md_update(&u->md5, (const unsigned char *)data, len) != 0;
    u->size += len;
}

void cloud_ota_upload_free(cloud_ota_upload_t *u)
{
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    if (u->tmp[0])
        unlink(u->tmp);   /* still there unless it was kept under its final name */
    mbedtls_md_free(&u->md5);
    free(u);
}

static enum MHD_Result upload_finish(cloud_ota_t *o, struct MHD_Connection *c, const char *pid, cloud_ota_upload_t *u)
{
    const char *ver = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "version");
    if (!valid_version(ver))
        return cloud_http_error(c, 400, "version: ?version= with 1-32 characters of [A-Za-z0-9._-]");
    if (!u)
        return cloud_http_error(c, 500, "cannot store the upload");
    if (u->too_big)
        return cloud_http_error(c, 413, "firmware larger than 64 MiB");
    if (u->size == 0)
        return cloud_http_error(c, 400, "empty firmware: send the image as the request body");
    int prc = cloud_store_get_product_secret(&o->store, pid, NULL, 0);
    if (prc == 1)
        return cloud_http_error(c, 404, "unknown product");
    unsigned char d[16];
    char md5[33], token[TOKEN_HEX + 1], path[600];
    if (u->failed || prc < 0 || mbedtls_md_finish(&u->md5, d) != 0 || fsync(u->fd) != 0)
        return cloud_http_error(c, 500, "cannot store the upload");
    for (int i = 0; i < 16; i++)
        snprintf(md5 + 2 * i, 3, "%02x", d[i]);
    cloud_random_hex(token, TOKEN_HEX);
    image_path(o, token, path, sizeof path);
    /* File in place (and on disk) before the row that points at it exists. */
    int rc = -1;
    if (fchmod(u->fd, 0600) == 0 && rename(u->tmp, path) == 0)
        rc = cloud_store_run(&o->store, "INSERT INTO ota_firmware (product_id, version, size, md5, token, created)"
                                        " VALUES (?,?,?,?,?,?)", "ttitti", pid, ver, (int64_t)u->size, md5, token,
                             cloud_now());
    if (rc == CLOUD_STORE_CONFLICT) {
        unlink(path);
        return cloud_http_error(c, 409, "this product already has that version (upload it under a new version)");
    }
    if (rc != 1) {
        unlink(path);
        return cloud_http_error(c, o->store.unavailable ? 503 : 500, "cannot store the upload");
    }
    u->tmp[0] = 0;   /* kept */
    int dfd = open(o->fwdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "product_id", pid);
    cJSON_AddStringToObject(r, "version", ver);
    cJSON_AddNumberToObject(r, "size", (double)u->size);
    cJSON_AddStringToObject(r, "md5", md5);
    cloud_event("ota_firmware_uploaded", cJSON_Duplicate(r, true));
    cloud_log("firmware %s of %s uploaded (%llu bytes)", ver, pid, (unsigned long long)u->size);
    return cloud_http_json(c, MHD_HTTP_CREATED, r);
}

/* ---- status records --------------------------------------------------------------------- */

static void status_put(cloud_ota_t *o, const char *pid, const char *dn, const char *col_sql, int n,
                       const char *const *v)
{
    /* col_sql: "SET a=?3, b=?4" style assignments over ?3.. (pid, dn are ?1, ?2). */
    char sql[512];
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)cloud_now());
    const char *const a[3] = { pid, dn, now };
    cloud_store_exec(&o->store,
                     "INSERT INTO ota_status (product_id, device_name, updated) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                     3, a);
    const char *args[9];
    args[0] = pid;
    args[1] = dn;
    int k = 2;
    for (int i = 0; i < n && i < 6; i++)
        args[k++] = v[i];
    args[k] = now;
    snprintf(sql, sizeof sql, "UPDATE ota_status %s, updated=?%d WHERE product_id=?1 AND device_name=?2", col_sql, k + 1);
    cloud_store_exec(&o->store, sql, k + 1, args);
}

/* ---- the admin endpoints -------------------------------------------------------------------- */

static enum MHD_Result start_update(cloud_ota_t *o, struct MHD_Connection *c, const char *pid, const char *dn,
                                    const char *body, size_t len, bool https)
{
    cJSON *b = cJSON_ParseWithLength(body ? body : "", len);
    const cJSON *vj = cJSON_GetObjectItemCaseSensitive(b, "version");
    char ver[VERSION_MAX + 1] = "";
    if (cJSON_IsString(vj) && valid_version(vj->valuestring))
        snprintf(ver, sizeof ver, "%s", vj->valuestring);
    bool obj = cJSON_IsObject(b);
    cJSON_Delete(b);
    if (!obj)
        return cloud_http_error(c, 400, "body must be a JSON object {\"version\":\"V\"}");
    if (!ver[0])
        return cloud_http_error(c, 400, "version: 1-32 characters of [A-Za-z0-9._-]");
    int ex = cloud_store_device_exists(&o->store, pid, dn);
    if (ex < 0)
        return cloud_http_error(c, 500, "database error");
    if (ex == 0)
        return cloud_http_error(c, 404, "no such device");
    char md5[33] = "", token[TOKEN_HEX + 1] = "";
    int64_t size = 0;
    cloud_rows_t *st = cloud_store_select(&o->store, "SELECT size, md5, token FROM ota_firmware WHERE product_id=? AND version=?",
                                          "tt", pid, ver);
    if (!st)
        return cloud_http_error(c, o->store.unavailable ? 503 : 500, "database error");
    if (cloud_rows_next(st) == 1) {
        size = cloud_rows_int(st, 0);
        snprintf(md5, sizeof md5, "%s", cloud_rows_text(st, 1));
        snprintf(token, sizeof token, "%s", cloud_rows_text(st, 2));
    }
    cloud_rows_free(st);
    if (!token[0])
        return cloud_http_error(c, 404, "no firmware with that version for this product (upload it first)");
    /* Not connected: no publish at all. libmosquitto keeps a QoS 1 publish made while
     * disconnected in its queue (returning "not connected") and sends it at the next reconnect,
     * so the device got, any time later, an update this request answered 503 for. (A loss in
     * the microseconds between this check and the publish can still queue one.) */
    if (!cloud_mosq_connected(o->mq))
        return cloud_http_error(c, 503, "cannot publish the update (broker connection down?)");
    /* The download URL names the host the admin reached us on: the address a device on the
     * same network reaches too. */
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!host || !*host || strlen(host) > 255 || strpbrk(host, "/\\ \"@"))
        return cloud_http_error(c, 400, "a Host header is needed to build the download URL");
    char url[400];
    snprintf(url, sizeof url, "%s://%s/ota/%s", https ? "https" : "http", host, token);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "update_firmware");
    cJSON_AddStringToObject(m, "version", ver);
    cJSON_AddStringToObject(m, "url", url);
    cJSON_AddStringToObject(m, "md5sum", md5);
    cJSON_AddNumberToObject(m, "file_size", (double)size);
    char *payload = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    char topic[200];
    snprintf(topic, sizeof topic, "$ota/update/%s/%s", pid, dn);
    int rc = payload ? cloud_mosq_publish(o->mq, topic, payload, strlen(payload), 1)
                     : MOSQ_ERR_NOMEM;
    free(payload);
    if (rc != MOSQ_ERR_SUCCESS)
        return cloud_http_error(c, 503, "cannot publish the update (broker connection down?)");
    const char *v[3] = { ver, "update_sent", NULL };
    status_put(o, pid, dn, "SET target_version=?3, state=?4, percent=NULL, result_code=NULL, result_msg=NULL", 2, v);
    cJSON *ev = cloud_device_event(pid, dn);
    cJSON_AddStringToObject(ev, "version", ver);
    cloud_event("ota_update_sent", ev);
    cloud_log("OTA %s pushed to %s/%s", ver, pid, dn);
    cJSON *r = cloud_device_event(pid, dn);
    cJSON_AddStringToObject(r, "version", ver);
    cJSON_AddStringToObject(r, "state", "update_sent");
    return cloud_http_json(c, MHD_HTTP_ACCEPTED, r);
}

static enum MHD_Result get_status(cloud_ota_t *o, struct MHD_Connection *c, const char *pid, const char *dn)
{
    cloud_rows_t *st = cloud_store_select(&o->store,
                                          "SELECT reported_version, target_version, state, percent, result_code, result_msg,"
                                          " updated FROM ota_status WHERE product_id=? AND device_name=?", "tt", pid, dn);
    if (!st)
        return cloud_http_error(c, o->store.unavailable ? 503 : 500, "database error");
    if (cloud_rows_next(st) != 1) {
        cloud_rows_free(st);
        return cloud_http_error(c, 404, "no OTA record for this device");
    }
    cJSON *r = cloud_device_event(pid, dn);
    static const char *const names[] = { "reported_version", "version", "state", "percent", "result_code", "result_msg",
                                         "updated" };
    for (int i = 0; i < 7; i++) {
        if (cloud_rows_type(st, i) == CLOUD_COL_NULL)
            continue;
        if (cloud_rows_type(st, i) == CLOUD_COL_INT)
            cJSON_AddNumberToObject(r, names[i], (double)cloud_rows_int(st, i));
        else
            cJSON_AddStringToObject(r, names[i], cloud_rows_text(st, i));
    }
    cloud_rows_free(st);
    return cloud_http_json(c, MHD_HTTP_OK, r);
}

enum MHD_Result cloud_ota_admin(cloud_ota_t *o, struct MHD_Connection *c, const char *url, const char *method,
                                const char *body, size_t len, cloud_ota_upload_t *up, bool https)
{
    char pid[65], dn[65];
    const char *rest;
    if (!o)
        return cloud_http_error(c, 503, "OTA is not running");
    if (!product_path(url, pid, &rest) || !cloud_valid_id(pid, 64))
        return cloud_http_error(c, 400, "bad product id");
    bool post = !strcmp(method, "POST");
    if (!strcmp(rest, "/firmware"))
        return post ? upload_finish(o, c, pid, up) : cloud_http_error(c, 405, "use POST");
    size_t n = strlen(rest) - 9 - 4;   /* "/devices/" D "/ota" */
    if (n >= sizeof dn)
        return cloud_http_error(c, 400, "bad device name");
    memcpy(dn, rest + 9, n);
    dn[n] = 0;
    if (!cloud_valid_id(dn, 48))
        return cloud_http_error(c, 400, "bad device name");
    if (post)
        return start_update(o, c, pid, dn, body, len, https);
    if (!strcmp(method, "GET"))
        return get_status(o, c, pid, dn);
    return cloud_http_error(c, 405, "use GET or POST");
}

/* ---- files nothing names -------------------------------------------------------------------- */

void cloud_ota_sweep(cloud_ota_t *o)
{
    DIR *d = o ? opendir(o->fwdir) : NULL;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char token[TOKEN_HEX + 1];
        size_t n = strlen(e->d_name);
        if (n != TOKEN_HEX + 4 || strcmp(e->d_name + TOKEN_HEX, ".bin") ||
            strspn(e->d_name, "0123456789abcdef") != TOKEN_HEX)
            continue;
        memcpy(token, e->d_name, TOKEN_HEX);
        token[TOKEN_HEX] = 0;
        cloud_rows_t *st = cloud_store_select(&o->store, "SELECT 1 FROM ota_firmware WHERE token=?", "t", token);
        int rc = st ? cloud_rows_next(st) : -1;
        cloud_rows_free(st);
        if (rc == 0) {   /* no row (a database error keeps the file) */
            char path[600];
            image_path(o, token, path, sizeof path);
            if (unlink(path) == 0)
                cloud_log("firmware image %.4s… removed: its product was deleted", token);
        }
    }
    closedir(d);
}

/* ---- the download ------------------------------------------------------------------------ */

typedef struct {
    int fd;
    uint64_t start, cut;   /* cut: bytes after which the connection is dropped (0: never) */
} serve_t;

static ssize_t serve_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    serve_t *s = cls;
    if (s->cut && pos >= s->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;   /* the test knob: a dropped connection */
    if (s->cut && max > s->cut - pos)
        max = (size_t)(s->cut - pos);
    ssize_t n = pread(s->fd, buf, max, (off_t)(s->start + pos));
    return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void serve_free(void *cls)
{
    serve_t *s = cls;
    close(s->fd);
    free(s);
}

/* "bytes=N-" or "bytes=N-M": 1 parsed, 0 malformed. */
static int parse_range(const char *r, uint64_t *first, uint64_t *last, bool *open_end)
{
    if (strncmp(r, "bytes=", 6))
        return 0;
    char *end;
    errno = 0;
    const char *p = r + 6;
    if (*p < '0' || *p > '9')
        return 0;
    unsigned long long a = strtoull(p, &end, 10);
    if (errno || *end != '-')
        return 0;
    p = end + 1;
    *first = a;
    *open_end = *p == 0;
    if (*open_end)
        return 1;
    if (*p < '0' || *p > '9')
        return 0;
    unsigned long long b = strtoull(p, &end, 10);
    if (errno || *end || b < a)
        return 0;
    *last = b;
    return 1;
}

enum MHD_Result cloud_ota_serve(cloud_ota_t *o, struct MHD_Connection *c, const char *token, const char *method)
{
    if (!o)
        return cloud_http_error(c, 404, "no such firmware");
    if (strcmp(method, "GET"))
        return cloud_http_error(c, 405, "use GET");
    bool ok = strlen(token) == TOKEN_HEX;
    for (const char *p = token; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    int64_t size = -1;
    if (ok) {
        cloud_rows_t *st = cloud_store_select(&o->store, "SELECT size FROM ota_firmware WHERE token=?", "t", token);
        if (cloud_rows_next(st) == 1)
            size = cloud_rows_int(st, 0);
        cloud_rows_free(st);
    }
    if (size < 0)
        return cloud_http_error(c, 404, "no such firmware");
    char path[600];
    image_path(o, token, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return cloud_http_error(c, 404, "no such firmware");
    uint64_t first = 0, last = (uint64_t)size - 1;
    bool open_end = true, ranged = false;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    if (range) {
        if (!parse_range(range, &first, &last, &open_end)) {
            close(fd);
            return cloud_http_error(c, 400, "Range: only one range, bytes=N- or bytes=N-M");
        }
        if (first >= (uint64_t)size) {
            close(fd);
            char cr[48];
            snprintf(cr, sizeof cr, "bytes */%lld", (long long)size);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "error", "Range starts at or beyond the end of the firmware");
            cJSON_AddNumberToObject(e, "size", (double)size);
            char *s = cJSON_PrintUnformatted(e);
            cJSON_Delete(e);
            struct MHD_Response *r = s ? MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE) : NULL;
            if (!r) {
                free(s);
                return MHD_NO;
            }
            MHD_add_response_header(r, "Content-Range", cr);
            MHD_add_response_header(r, "Content-Type", "application/json");
            enum MHD_Result ret = MHD_queue_response(c, 416, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (open_end || last >= (uint64_t)size)
            last = (uint64_t)size - 1;
        ranged = true;
    }
    serve_t *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return MHD_NO;
    }
    s->fd = fd;
    s->start = first;
    s->cut = first == 0 && o->cut_after > 0 ? (uint64_t)o->cut_after : 0;
    uint64_t n = last - first + 1;
    struct MHD_Response *r = MHD_create_response_from_callback(n, 32 * 1024, serve_read, s, serve_free);
    if (!r) {
        serve_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    if (ranged) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%lld", (unsigned long long)first, (unsigned long long)last,
                 (long long)size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result ret = MHD_queue_response(c, ranged ? 206 : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddNumberToObject(ev, "from", (double)first);
    cJSON_AddNumberToObject(ev, "bytes", (double)n);
    cloud_event("ota_download", ev);
    return ret;
}

/* ---- the devices' reports ($ota/report/P/D) ---------------------------------------------- */

static void text_of(const cJSON *v, char *out, size_t len)
{
    out[0] = 0;
    if (cJSON_IsString(v))
        snprintf(out, len, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, len, "%.0f", v->valuedouble);
}

/* A decimal integer in [lo, hi], the whole text. The device's percent and result code go into
 * integer columns: text the column cannot hold was a silent database error on PostgreSQL (the
 * record not updated while the event said it was) and a 0 or a huge number on SQLite. */
static bool int_text(const char *t, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    return *t && t[strspn(t, "-0123456789")] == 0 && *end == 0 && errno == 0 && v >= lo && v <= hi;
}

static void on_message(void *user, const struct mosquitto_message *msg)
{
    cloud_ota_t *o = user;
    char pid[65], dn[65];
    const char *t = msg->topic;
    if (strncmp(t, "$ota/report/", 12))
        return;
    const char *p = t + 12, *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= sizeof pid || strlen(slash + 1) >= sizeof dn)
        return;
    memcpy(pid, p, (size_t)(slash - p));
    pid[slash - p] = 0;
    snprintf(dn, sizeof dn, "%s", slash + 1);
    cJSON *b = cJSON_ParseWithLength(msg->payload ? msg->payload : "", (size_t)msg->payloadlen);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(b, "type");
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(b, "report");
    const cJSON *pg = cJSON_GetObjectItemCaseSensitive(rep, "progress");
    char ver[VERSION_MAX + 1];
    text_of(cJSON_GetObjectItemCaseSensitive(rep, "version"), ver, sizeof ver);
    if (!cJSON_IsString(type) || !cJSON_IsObject(rep) || !valid_version(ver)) {
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddStringToObject(ev, "topic", "$ota/report");
        cJSON_AddNumberToObject(ev, "code", 400);   /* docs/json.md: malformed_request has a code */
        cJSON_AddStringToObject(ev, "reason", "not an OTA report (type, report.version)");
        cloud_event("malformed_request", ev);
    } else if (!strcmp(type->valuestring, "report_version")) {
        const char *v[1] = { ver };
        status_put(o, pid, dn, "SET reported_version=?3", 1, v);
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddStringToObject(ev, "version", ver);
        cloud_event("ota_version", ev);
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "type", "report_version_rsp");
        cJSON_AddStringToObject(r, "version", ver);
        cJSON_AddNumberToObject(r, "result_code", 0);
        cJSON_AddStringToObject(r, "result_msg", "success");
        char *s = cJSON_PrintUnformatted(r);
        cJSON_Delete(r);
        char topic[200];
        snprintf(topic, sizeof topic, "$ota/update/%s/%s", pid, dn);
        if (s)
            cloud_mosq_publish(o->mq, topic, s, strlen(s), 1);
        free(s);
    } else if (!strcmp(type->valuestring, "report_progress") && cJSON_IsObject(pg)) {
        char state[24], pct[12], code[12], rmsg[64];
        text_of(cJSON_GetObjectItemCaseSensitive(pg, "state"), state, sizeof state);
        text_of(cJSON_GetObjectItemCaseSensitive(pg, "percent"), pct, sizeof pct);
        text_of(cJSON_GetObjectItemCaseSensitive(pg, "result_code"), code, sizeof code);
        text_of(cJSON_GetObjectItemCaseSensitive(pg, "result_msg"), rmsg, sizeof rmsg);
        cloud_utf8_fix(rmsg);   /* cut to 63 bytes, perhaps inside a character: PostgreSQL refused it */
        bool known = !strcmp(state, "downloading") || !strcmp(state, "burning") || !strcmp(state, "done") ||
                     !strcmp(state, "fail");
        bool nums = (!pct[0] || int_text(pct, 0, 100)) && (!code[0] || int_text(code, INT32_MIN, INT32_MAX));
        if (!known || !nums) {
            cJSON *ev = cloud_device_event(pid, dn);
            cJSON_AddStringToObject(ev, "topic", "$ota/report");
            cJSON_AddNumberToObject(ev, "code", 400);   /* docs/json.md: malformed_request has a code */
            cJSON_AddStringToObject(ev, "reason", known ? "report_progress with a percent (0-100) or result_code out of range"
                                                        : "report_progress with an unknown state");
            cloud_event("malformed_request", ev);
        } else {
            const char *v[5] = { ver, state, pct[0] ? pct : NULL, code[0] ? code : "0", rmsg };
            status_put(o, pid, dn,
                       "SET target_version=?3, state=?4, percent=CAST(?5 AS INTEGER), result_code=CAST(?6 AS INTEGER),"
                       " result_msg=?7", 5, v);
            if (!strcmp(state, "done")) {
                const char *dv[1] = { ver };
                status_put(o, pid, dn, "SET reported_version=?3", 1, dv);
            }
            cJSON *ev = cloud_device_event(pid, dn);
            cJSON_AddStringToObject(ev, "version", ver);
            cJSON_AddStringToObject(ev, "state", state);
            if (pct[0])
                cJSON_AddNumberToObject(ev, "percent", atof(pct));
            cJSON_AddNumberToObject(ev, "result_code", atof(code[0] ? code : "0"));
            cJSON_AddStringToObject(ev, "result_msg", rmsg);
            cloud_event("ota_progress", ev);
        }
    }
    cJSON_Delete(b);
}

static void on_connect(void *user, struct mosquitto *m, int rc)
{
    cloud_ota_t *o = user;
    if (rc == 0)
        cloud_mosq_subscribe(o->mq, m, "$ota/report/+/+", 1);
}

static const cloud_mosq_hooks_t hooks = { .connect = on_connect, .message = on_message };

bool cloud_ota_connected(const cloud_ota_t *o)
{
    return cloud_mosq_ready(o->mq);
}

void cloud_ota_retry(cloud_ota_t *o)
{
    if (o)
        cloud_mosq_retry(o->mq);
}

void cloud_ota_stop(cloud_ota_t *o)
{
    if (o)
        cloud_mosq_stop(o->mq);
}

cloud_ota_t *cloud_ota_new(const char *dbpath, const char *fwdir, const char *host, uint16_t port, const char *user,
                           const char *pass, char *err, size_t errlen)
{
    cloud_ota_t *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(o->fwdir, sizeof o->fwdir, "%s", fwdir);
    const char *cut = getenv("SMARTCFG_CLOUD_OTA_CUT_AFTER");
    o->cut_after = cut ? atol(cut) : 0;
    if (mkdir(fwdir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the firmware directory %s: %s", fwdir, strerror(errno));
        free(o);
        return NULL;
    }
    if (cloud_store_open(&o->store, dbpath, err, errlen) != 0) {
        free(o);
        return NULL;
    }
    cloud_ota_sweep(o);   /* images a product delete or a crash mid-upload left without a row */
    o->mq = cloud_mosq_new("smartcfg-ota-", user, pass, &hooks, o, err, errlen);
    if (!o->mq) {
        cloud_ota_free(o);
        return NULL;
    }
    if (cloud_mosq_start(o->mq, host, port) != 0) {
        snprintf(err, errlen, "cannot start the OTA MQTT thread");
        cloud_ota_free(o);
        return NULL;
    }
    return o;
}

bool cloud_ota_free(cloud_ota_t *o)
{
    if (!o)
        return true;
    if (!cloud_mosq_free(o->mq))
        return false;   /* its loop may still record a report: the store stays */
    cloud_store_close(&o->store);
    free(o);
    return true;
}
