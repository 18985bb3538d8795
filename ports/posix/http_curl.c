/* SPDX-License-Identifier: Apache-2.0 */
/* sc_hal_http_t over libcurl; see sc_posix_http.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "sc_posix.h"
#include "sc_posix_http.h"

/* The one streamed GET (OTA download): curl's multi interface, driven from get_read(), so
 * nothing blocks; a full buffer pauses the transfer until the core takes the bytes. */
#define DL_BUF (64 * 1024)   /* > CURL_MAX_WRITE_SIZE: one callback's data always fits an empty buffer */
typedef struct {
    CURLM *m;
    CURL *e;
    uint8_t *buf;
    size_t len;
    bool paused, done, ranged;
    long status;             /* the response's, once known */
    CURLcode result;
} dl_t;

typedef struct {
    char *buf;
    size_t cap, len;
    bool overflow;
} sink_t;

/* The one non-blocking POST (AT+TCDEVREG): the same multi interface. The body and the
 * response are our own heap copies, wiped before they are freed (signatures, secrets). */
#define AP_RESP_MAX (16 * 1024)
typedef struct {
    CURLM *m;
    CURL *e;
    struct curl_slist *headers;
    char *body;
    size_t body_len;
    sink_t resp;             /* on_data's, as the blocking POST: AP_RESP_MAX bytes */
    bool done;
    CURLcode result;
} apost_t;

typedef struct {
    char *ca_file;
    bool insecure;
    dl_t dl;
    apost_t ap;
} posix_http_t;


static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    sink_t *s = user;
    size_t n = size * nmemb;
    if (n > s->cap - s->len) {
        s->overflow = true;
        return 0;   /* abort the transfer: a cut JSON is worse than an error */
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len += n;
    return n;
}

/* libcurl's OpenSSL context of a transfer, before its handshake: with a wall clock not set
 * yet (before SC_CLOUD_CLOCK_FLOOR) the chain and the name are verified but not the dates, as in
 * the MQTT port (F206): by a 1970 clock every certificate is "not yet valid", and an OTA
 * download over HTTPS failed until the clock was set. A libcurl on another TLS library has no
 * such hook (the option is then refused, and the dates checked). */
static CURLcode unset_clock_ctx(CURL *c, void *ssl_ctx, void *user)
{
    (void)c, (void)user;
    if (!sc_posix_wall_clock_set())
        X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param((SSL_CTX *)ssl_ctx), X509_V_FLAG_NO_CHECK_TIME);
    return CURLE_OK;
}

/* What every request of ours sets: the URL, http(s) only, no redirects, no signals, no
 * verbose output (bodies carry signatures), the TLS trust. */
static void common_opts(const posix_http_t *p, CURL *c, const char *url)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
    /* libcurl's threaded resolver is otherwise joined when a transfer ends mid-lookup: a timeout,
     * post_cancel (AT+RST, a stop) then waited on the core's thread for glibc to give up, 10 s on
     * a DNS server that does not answer (F194; the cloud's management requests: F192) */
    curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L);
#endif
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "smartcfg");
    if (p->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, unset_clock_ctx);
    if (p->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

/* The POST both forms send: content type, no 100-continue round trip, the body (not copied:
 * it must outlive the transfer), the timeout. The header list is the caller's to free. */
static struct curl_slist *post_opts(const posix_http_t *p, CURL *c, const char *url, const char *content_type,
                                    const void *body, size_t len, uint32_t timeout_ms)
{
    char hdr[160] = "Content-Type: ";
    strncat(hdr, content_type != NULL ? content_type : "application/json", sizeof hdr - strlen(hdr) - 1);
    struct curl_slist *headers = curl_slist_append(NULL, hdr);
    headers = curl_slist_append(headers, "Expect:");
    common_opts(p, c, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 10000u));
    return headers;
}

/* Ends a multi transfer (either handle may be NULL). */
static void multi_end(CURLM *m, CURL *e)
{
    if (m && e)
        curl_multi_remove_handle(m, e);
    if (e)
        curl_easy_cleanup(e);
    if (m)
        curl_multi_cleanup(m);
}

static sc_err_t h_post(void *ctx, const char *url, const char *content_type, const void *body, size_t len,
                       uint32_t timeout_ms, int *status, char *resp, size_t cap, size_t *resp_len)
{
    posix_http_t *p = ctx;
    if (url == NULL || status == NULL || resp == NULL || resp_len == NULL || (body == NULL && len > 0))
        return SC_ERR_INVAL;
    *status = 0;
    *resp_len = 0;
    CURL *c = curl_easy_init();
    if (c == NULL)
        return SC_ERR_NOMEM;
    sink_t sink = { resp, cap, 0, false };
    struct curl_slist *headers = post_opts(p, c, url, content_type, body, len, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (sink.overflow)
        return SC_ERR_NOSPACE;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return SC_ERR_TIMEOUT;
    if (rc != CURLE_OK)
        return SC_ERR_IO;
    *status = (int)code;
    *resp_len = sink.len;
    return SC_OK;
}

static void h_post_cancel(void *ctx)
{
    apost_t *a = &((posix_http_t *)ctx)->ap;
    multi_end(a->m, a->e);
    curl_slist_free_all(a->headers);
    if (a->body) {
        sc_wipe(a->body, a->body_len);
        free(a->body);
    }
    if (a->resp.buf) {
        sc_wipe(a->resp.buf, a->resp.cap);
        free(a->resp.buf);
    }
    memset(a, 0, sizeof *a);
}

static sc_err_t h_post_start(void *ctx, const char *url, const char *content_type, const void *body, size_t len,
                             uint32_t timeout_ms)
{
    posix_http_t *p = ctx;
    apost_t *a = &p->ap;
    h_post_cancel(ctx);
    if (url == NULL || (body == NULL && len > 0))
        return SC_ERR_INVAL;
    a->m = curl_multi_init();
    a->e = curl_easy_init();
    a->body = malloc(len + 1);
    a->resp.buf = malloc(AP_RESP_MAX);
    a->resp.cap = a->resp.buf ? AP_RESP_MAX : 0;
    if (!a->m || !a->e || !a->body || !a->resp.buf) {
        h_post_cancel(ctx);
        return SC_ERR_NOMEM;
    }
    if (len > 0)
        memcpy(a->body, body, len);
    a->body[len] = 0;
    a->body_len = len + 1;
    CURL *c = a->e;
    a->headers = post_opts(p, c, url, content_type, a->body, len, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a->resp);
    if (curl_multi_add_handle(a->m, c) != CURLM_OK) {
        h_post_cancel(ctx);
        return SC_ERR_IO;
    }
    int running = 0;
    curl_multi_perform(a->m, &running);   /* starts the connect; never waits */
    return SC_OK;
}

static sc_err_t h_post_poll(void *ctx, int *status, char *resp, size_t cap, size_t *resp_len)
{
    apost_t *a = &((posix_http_t *)ctx)->ap;
    if (status == NULL || resp == NULL || resp_len == NULL)
        return SC_ERR_INVAL;
    *status = 0;
    *resp_len = 0;
    if (!a->m)
        return SC_ERR_STATE;
    int running = 0;
    curl_multi_perform(a->m, &running);
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(a->m, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE) {
            a->done = true;
            a->result = msg->data.result;
        }
    if (!a->done)
        return SC_ERR_AGAIN;
    long code = 0;
    curl_easy_getinfo(a->e, CURLINFO_RESPONSE_CODE, &code);
    sc_err_t e;
    if (a->resp.overflow || a->resp.len > cap) {
        e = SC_ERR_NOSPACE;
    } else if (a->result == CURLE_OPERATION_TIMEDOUT) {
        e = SC_ERR_TIMEOUT;
    } else if (a->result != CURLE_OK) {
        e = SC_ERR_IO;
    } else {
        memcpy(resp, a->resp.buf, a->resp.len);
        *resp_len = a->resp.len;
        *status = (int)code;
        e = SC_OK;
    }
    h_post_cancel(ctx);   /* one result per exchange; the copies are wiped */
    return e;
}

static bool status_ok(const dl_t *d)
{
    return d->ranged ? d->status == 206 : d->status == 200;
}

static size_t on_dl(char *ptr, size_t size, size_t nmemb, void *user)
{
    dl_t *d = user;
    size_t n = size * nmemb;
    curl_easy_getinfo(d->e, CURLINFO_RESPONSE_CODE, &d->status);
    if (!status_ok(d))
        return 0;   /* an error page or a whole file for a ranged request: not image bytes */
    if (n > DL_BUF - d->len) {
        d->paused = true;
        return CURL_WRITEFUNC_PAUSE;   /* curl hands the same bytes again after the unpause */
    }
    memcpy(d->buf + d->len, ptr, n);
    d->len += n;
    return n;
}

static void h_get_close(void *ctx)
{
    dl_t *d = &((posix_http_t *)ctx)->dl;
    multi_end(d->m, d->e);
    free(d->buf);
    memset(d, 0, sizeof *d);
}

static sc_err_t h_get_start(void *ctx, const char *url, uint32_t offset)
{
    posix_http_t *p = ctx;
    dl_t *d = &p->dl;
    h_get_close(ctx);
    if (url == NULL)
        return SC_ERR_INVAL;
    d->buf = malloc(DL_BUF);
    d->m = curl_multi_init();
    d->e = curl_easy_init();
    if (!d->buf || !d->m || !d->e) {
        h_get_close(ctx);
        return SC_ERR_NOMEM;
    }
    CURL *c = d->e;
    common_opts(p, c, url);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_dl);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    if (offset > 0) {
        char range[24];
        snprintf(range, sizeof range, "%lu-", (unsigned long)offset);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
        d->ranged = true;
    }
    if (curl_multi_add_handle(d->m, c) != CURLM_OK) {
        h_get_close(ctx);
        return SC_ERR_IO;
    }
    return SC_OK;
}

static sc_err_t h_get_read(void *ctx, void *buf, size_t cap, size_t *len)
{
    dl_t *d = &((posix_http_t *)ctx)->dl;
    *len = 0;
    if (!d->m)
        return SC_ERR_STATE;
    if (!d->done) {
        int running = 0;
        curl_multi_perform(d->m, &running);
        CURLMsg *msg;
        int left = 0;
        while ((msg = curl_multi_info_read(d->m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE) {
                d->done = true;
                d->result = msg->data.result;
                curl_easy_getinfo(d->e, CURLINFO_RESPONSE_CODE, &d->status);
            }
    }
    if (d->len > 0) {
        size_t n = d->len < cap ? d->len : cap;
        memcpy(buf, d->buf, n);
        memmove(d->buf, d->buf + n, d->len - n);
        d->len -= n;
        *len = n;
        if (d->paused) {
            d->paused = false;
            curl_easy_pause(d->e, CURLPAUSE_CONT);
        }
        return SC_OK;
    }
    if (!d->done)
        return SC_ERR_AGAIN;
    if (d->status == 404)
        return SC_ERR_NOTFOUND;
    if (d->status == 401 || d->status == 403)
        return SC_ERR_AUTH;
    if (d->status == 416)
        return SC_ERR_RANGE;
    if (d->status != 0 && !status_ok(d))
        return SC_ERR_PROTO;
    return d->result == CURLE_OK ? SC_ERR_DONE : SC_ERR_IO;
}

sc_err_t sc_posix_http_init(sc_hal_http_t *out, const sc_posix_http_opts_t *opts)
{
    if (out == NULL)
        return SC_ERR_INVAL;
    memset(out, 0, sizeof *out);
    pthread_once(&curl_once, curl_init_once);
    posix_http_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return SC_ERR_NOMEM;
    if (opts != NULL) {
        p->insecure = opts->insecure;
        if (opts->ca_file != NULL && (p->ca_file = strdup(opts->ca_file)) == NULL) {
            free(p);
            return SC_ERR_NOMEM;
        }
    }
    out->ctx = p;
    out->post = h_post;
    out->post_start = h_post_start;
    out->post_poll = h_post_poll;
    out->post_cancel = h_post_cancel;
    out->get_start = h_get_start;
    out->get_read = h_get_read;
    out->get_close = h_get_close;
    return SC_OK;
}

void sc_posix_http_cleanup(sc_hal_http_t *http)
{
    if (http == NULL || http->ctx == NULL)
        return;
    posix_http_t *p = http->ctx;
    h_get_close(p);
    h_post_cancel(p);
    free(p->ca_file);
    free(p);
    memset(http, 0, sizeof *http);
}
