/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sc_send_posix.h"

#define SC_HTTP_BODY_MAX (64u * 1024u) /* token API answers are tiny; refuse floods */

struct sc_posix_http {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *headers;
    char *req;
    char *resp;
    size_t len;
    bool overflow;
    bool busy;
    char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
    sc_posix_http_t *h = user;
    size_t n = size * nmemb;
    if (h->len + n > SC_HTTP_BODY_MAX) {
        h->overflow = true;
        return 0; /* aborts the transfer */
    }
    char *r = realloc(h->resp, h->len + n + 1);
    if (!r)
        return 0;
    h->resp = r;
    memcpy(h->resp + h->len, p, n);
    h->len += n;
    h->resp[h->len] = '\0';
    return n;
}

sc_posix_http_t *sc_posix_http_new(void)
{
    static bool global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
    }
    sc_posix_http_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->multi = curl_multi_init();
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!h->multi || !h->headers) {
        sc_posix_http_free(h);
        return NULL;
    }
    return h;
}

static void finish(sc_posix_http_t *h)
{
    if (h->easy) {
        curl_multi_remove_handle(h->multi, h->easy);
        curl_easy_cleanup(h->easy);
        h->easy = NULL;
    }
    h->busy = false;
}

void sc_posix_http_free(sc_posix_http_t *h)
{
    if (!h)
        return;
    finish(h);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    curl_slist_free_all(h->headers);
    free(h->req);
    free(h->resp);
    free(h);
}

sc_err_t sc_posix_http_start(sc_posix_http_t *h, const char *url, const char *body, uint32_t timeout_ms)
{
    if (h->busy)
        return SC_ERR_BUSY;
    free(h->req);
    h->req = strdup(body);
    free(h->resp);
    h->resp = NULL;
    h->len = 0;
    h->overflow = false;
    h->errbuf[0] = '\0';
    h->easy = curl_easy_init();
    if (!h->req || !h->easy)
        return SC_ERR_NOMEM;
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->req);
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
    /* a transfer ended mid-lookup (its timeout, Ctrl-C) does not wait for libcurl's resolver
     * thread, 10 s on a DNS server that does not answer (F194) */
    curl_easy_setopt(h->easy, CURLOPT_QUICK_EXIT, 1L);
#endif
    curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "smartcfg-send");
    if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK) {
        finish(h);
        return SC_ERR_IO;
    }
    h->busy = true;
    return SC_OK;
}

bool sc_posix_http_busy(const sc_posix_http_t *h)
{
    return h->busy;
}

sc_err_t sc_posix_http_poll(sc_posix_http_t *h, long *status, const char **body, size_t *len,
                            char *why, size_t cap)
{
    if (!h->busy)
        return SC_ERR_STATE;
    int running = 0;
    curl_multi_perform(h->multi, &running);
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE || m->easy_handle != h->easy)
            continue;
        CURLcode rc = m->data.result;
        *status = 0;
        curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, status);
        finish(h);
        if (rc != CURLE_OK) {
            snprintf(why, cap, "%s", h->overflow ? "response too large" : h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
            return SC_ERR_IO;
        }
        *body = h->resp ? h->resp : "";
        *len = h->len;
        return SC_OK;
    }
    return SC_ERR_AGAIN;
}

sc_err_t sc_posix_http_post(sc_posix_http_t *h, const char *url, const char *body, uint32_t timeout_ms,
                            long *status, const char **resp, size_t *len, char *why, size_t cap)
{
    sc_err_t err = sc_posix_http_start(h, url, body, timeout_ms);
    if (err) {
        snprintf(why, cap, "cannot start the request: %s", sc_strerror(err));
        return err;
    }
    for (;;) {
        err = sc_posix_http_poll(h, status, resp, len, why, cap);
        if (err != SC_ERR_AGAIN)
            return err;
        curl_multi_poll(h->multi, NULL, 0, 100, NULL);
    }
}
