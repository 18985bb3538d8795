/* SPDX-License-Identifier: Apache-2.0 */
/* POSIX HTTP(S) HAL over libcurl: POST for dynamic registration (blocking post(), and
 * post_start/post_poll on curl's multi interface for a front-end that must keep answering),
 * the streamed GET of the OTA download (multi interface, non-blocking; Range for a resume).
 *
 *   sc_hal_http_t http;
 *   sc_posix_http_init(&http, NULL);            // or with options, see below
 *   hal.http = http;
 *   ...
 *   sc_posix_http_cleanup(&http);
 *
 * post() blocks for at most timeout_ms (connect + transfer); post_poll() gives the same
 * results once the exchange is over (responses up to 16 KiB). Only http:// and https:// URLs
 * are followed, no redirects. Responses longer than cap fail with SC_ERR_NOSPACE (never a
 * silently cut JSON). Transport failures give SC_ERR_IO (SC_ERR_TIMEOUT on timeout); any
 * HTTP status is returned in *status with SC_OK. Nothing is printed: curl's verbose mode is
 * never enabled, so request bodies (which carry signatures) never reach a log. */
#ifndef SC_POSIX_HTTP_H
#define SC_POSIX_HTTP_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *ca_file;   /* PEM bundle for https; NULL: the system default */
    bool insecure;         /* skip TLS verification (local tests only) */
} sc_posix_http_opts_t;

/* opts may be NULL; it is copied. */
sc_err_t sc_posix_http_init(sc_hal_http_t *out, const sc_posix_http_opts_t *opts);
void sc_posix_http_cleanup(sc_hal_http_t *http);

#ifdef __cplusplus
}
#endif
#endif
