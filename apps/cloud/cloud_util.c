/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the local cloud's parts: events/log output, randomness, mbedTLS wrappers. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/aes.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "cloud.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static bool events_json;

void cloud_events_init(bool json)
{
    events_json = json;
}

int64_t cloud_now(void)
{
    return (int64_t)time(NULL);
}

void cloud_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&out_lock);
    fprintf(stderr, "smartcfg cloud: %s\n", line);
    pthread_mutex_unlock(&out_lock);
}

cJSON *cloud_device_event(const char *pid, const char *dn)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "product_id", pid);
    cJSON_AddStringToObject(ev, "device_name", dn);
    return ev;
}

void cloud_event(const char *event, cJSON *obj)
{
    if (!obj)
        obj = cJSON_CreateObject();
    if (!obj)
        return;
    if (events_json) {
        /* "ts" and "event" first so a reader can filter lines cheaply. */
        cJSON *o = cJSON_CreateObject();
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        cJSON_AddNumberToObject(o, "ts", (double)ts.tv_sec + ts.tv_nsec / 1e9);
        cJSON_AddStringToObject(o, "event", event);
        cJSON *it = obj->child;
        while (it) {
            cJSON *next = it->next;
            cJSON_DetachItemViaPointer(obj, it);
            cJSON_AddItemToObject(o, it->string, it);
            it = next;
        }
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (s) {
            pthread_mutex_lock(&out_lock);
            fputs(s, stdout);
            fputc('\n', stdout);
            fflush(stdout);
            pthread_mutex_unlock(&out_lock);
            free(s);
        }
    }
    cJSON_Delete(obj);
}

void cloud_abbrev_token(const char *token, char out[16])
{
    size_t n = token ? strlen(token) : 0;
    if (n > 6)
        n = 6;
    memcpy(out, token ? token : "", n);
    memcpy(out + n, "...", 4);
}

int cloud_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len) {
        ssize_t r = getrandom(p, len, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

void cloud_random_hex(char *out, size_t nhex)
{
    static const char hx[] = "0123456789abcdef";
    unsigned char b[64];
    size_t nb = (nhex + 1) / 2;
    if (nb > sizeof b)
        nb = sizeof b, nhex = 2 * nb;
    if (cloud_random(b, nb) != 0)
        abort();   /* no entropy: handing out guessable secrets would be worse than dying */
    for (size_t i = 0; i < nhex; i++)
        out[i] = hx[(b[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    out[nhex] = 0;
}

int cloud_random_b64(char *out, size_t outlen, size_t nbytes)
{
    unsigned char b[64];
    if (nbytes > sizeof b || cloud_random(b, nbytes) != 0)
        return -1;
    return cloud_b64_encode(b, nbytes, out, outlen);
}

int cloud_hmac_hex(bool sha256, const void *key, size_t keylen, const char *msg, char *hex, size_t hexlen)
{
    unsigned char mac[32];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(sha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA1);
    size_t n = mbedtls_md_get_size(md);
    if (hexlen < 2 * n + 1)
        return -1;
    if (mbedtls_md_hmac(md, key, keylen, (const unsigned char *)msg, strlen(msg), mac) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

int cloud_b64_encode(const void *in, size_t inlen, char *out, size_t outlen)
{
    size_t olen;
    if (mbedtls_base64_encode((unsigned char *)out, outlen, &olen, in, inlen) != 0)
        return -1;
    return 0;
}

int cloud_b64_decode(const char *in, unsigned char *out, size_t outlen, size_t *olen)
{
    return mbedtls_base64_decode(out, outlen, olen, (const unsigned char *)in, strlen(in)) ? -1 : 0;
}

int cloud_aes128cbc_zero(const unsigned char key[16], const void *in, size_t inlen,
                         unsigned char *out, size_t outlen, size_t *olen)
{
    size_t padded = (inlen + 15) / 16 * 16;
    if (padded == 0)
        padded = 16;
    if (outlen < padded)
        return -1;
    unsigned char iv[16];
    memset(iv, '0', sizeof iv);   /* docs/protocol/tencent.md#dynamic-registration: IV is sixteen ASCII '0' */
    memset(out, 0, padded);
    memcpy(out, in, inlen);
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int rc = mbedtls_aes_setkey_enc(&aes, key, 128);
    if (!rc)
        rc = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, padded, iv, out, out);
    mbedtls_aes_free(&aes);
    *olen = padded;
    return rc ? -1 : 0;
}

bool cloud_consttime_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* Product ids and device names end up in MQTT topics and SQL keys: keep them to the
 * characters IoT Explorer allows (letters, digits, '_', '-', ':', '.', '@'), never '/', '+', '#'. */
bool cloud_valid_id(const char *s, size_t maxlen)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > maxlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ':' || c == '.' || c == '@'))
            return false;
    }
    return true;
}

bool cloud_valid_token(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}
