/* SPDX-License-Identifier: Apache-2.0 */
/* sc_hal_http_t over libcurl; see sc_posix_http.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sc_posix_http.h"

typedef struct {
    char *ca_file;
    bool insecure;
} posix_http_t;

typedef struct {
    char *buf;
    size_t cap, len;
    bool overflow;
} sink_t;

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
    char hdr[160] = "Content-Type: ";
    strncat(hdr, content_type != NULL ? content_type : "application/json", sizeof hdr - strlen(hdr) - 1);
    struct curl_slist *headers = curl_slist_append(NULL, hdr);
    headers = curl_slist_append(headers, "Expect:");   /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 10000u));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "smartcfg");
    if (p->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file);
    if (p->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
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
    return SC_OK;
}

void sc_posix_http_cleanup(sc_hal_http_t *http)
{
    if (http == NULL || http->ctx == NULL)
        return;
    posix_http_t *p = http->ctx;
    free(p->ca_file);
    free(p);
    memset(http, 0, sizeof *http);
}
