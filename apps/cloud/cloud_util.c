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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>

#include "cloud.h"
#include "console.h"

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

int64_t cloud_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *cloud_read_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = !buf || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

int cloud_create_private(const char *path, bool excl)
{
    /* open()'s mode is masked by the umask; fchmod afterwards is not, and also fixes a file
     * that existed with looser rights. */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (excl ? O_EXCL : O_TRUNC), 0600);
    if (fd >= 0 && fchmod(fd, 0600) != 0) {
        close(fd);
        return -1;
    }
    return fd;
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
    cloud_console_publish(o);   /* the console's live stream (it drops secrets itself) */
    char *s = events_json ? cJSON_PrintUnformatted(o) : NULL;
    if (s) {
        pthread_mutex_lock(&out_lock);
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        pthread_mutex_unlock(&out_lock);
        free(s);
    }
    cJSON_Delete(o);
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
