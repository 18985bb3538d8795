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
#include "sc_posix.h"
#include "sc_posix_event.h"
#include "smartcfg/sender.h"
#include "console.h"

static bool events_json;

/* The --json lines and the human log never make a thread wait for their reader
 * (sc_posix_output_start, ports/posix/output.c): they were written under the caller's feet,
 * and a reader that stops reading (a stalled log shipper, `| less` left open, a journal that
 * blocks) filled the 64 KiB pipe; every thread that made an event or a log line blocked there,
 * the HTTP API and the broker's log and event pipes with them (mosquitto blocks when its log
 * pipe is full), and the cloud froze until someone read. Up to OUTQ_MAX bytes wait per stream;
 * a line that does not fit is dropped and counted, and the log says so. */
#define OUTQ_MAX (4u << 20)

void cloud_events_init(bool json)
{
    events_json = json;
    sc_posix_output_start("smartcfg cloud", OUTQ_MAX);
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

int cloud_private_dir(const char *dir, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1);
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", dir);
        return -1;
    }
    char why[96];
    int foreign = sc_posix_stat_foreign(&st, why, sizeof why);
    if (foreign) {
        snprintf(err, errlen, "directory %s of %s is %s: %s; use a directory of your own", dir, what, why,
                 foreign == 1 ? "its owner could put files of their own there (an admin key they know)"
                              : "another user could create its files first (an admin key they know, a registry they own)");
        return -1;
    }
    return 0;
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
    sc_posix_output_printf(stderr, "smartcfg cloud: %s\n", line);   /* queued once started */
}

static struct {
    pthread_mutex_t lock;
    double tokens[3];
    int64_t last_ms[3], told_ms;
    unsigned long dropped[3];
} refusals = { .lock = PTHREAD_MUTEX_INITIALIZER, .tokens = { REFUSALS_BURST, REFUSALS_BURST, REFUSALS_BURST } };

static void refusal_summary_locked(int64_t now, bool force)
{
    if (!refusals.dropped[0] && !refusals.dropped[1] && !refusals.dropped[2])
        return;
    if (!force && now - refusals.told_ms < 10000)
        return;
    unsigned long ev = refusals.dropped[CLOUD_REFUSAL_LOGIN] + refusals.dropped[CLOUD_REFUSAL_TOPIC];
    unsigned long lines = refusals.dropped[CLOUD_REFUSAL_LOG];
    refusals.dropped[0] = refusals.dropped[1] = refusals.dropped[2] = 0;
    refusals.told_ms = now;
    pthread_mutex_unlock(&refusals.lock);   /* cloud_event may take other locks */
    cloud_log("refusals flood: %lu refusal events and %lu log lines not shown (more than %d a second)", ev, lines,
              REFUSALS_PER_S);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "events", (double)ev);
    cJSON_AddNumberToObject(o, "log_lines", (double)lines);
    cloud_event("refusals_suppressed", o);
    pthread_mutex_lock(&refusals.lock);
}

bool cloud_refusal_allow(cloud_refusal_kind_t kind)
{
    int k = (int)kind;
    int64_t now = cloud_now_ms();
    pthread_mutex_lock(&refusals.lock);
    if (!refusals.told_ms)
        refusals.told_ms = now;
    double t = refusals.tokens[k] + (double)(now - refusals.last_ms[k]) * REFUSALS_PER_S / 1000.0;
    refusals.tokens[k] = t > REFUSALS_BURST ? REFUSALS_BURST : t;
    refusals.last_ms[k] = now;
    bool ok = refusals.tokens[k] >= 1.0;
    if (ok)
        refusals.tokens[k] -= 1.0;
    else
        refusals.dropped[k]++;
    refusal_summary_locked(now, false);
    pthread_mutex_unlock(&refusals.lock);
    return ok;
}

void cloud_refusal_tick(bool force)
{
    pthread_mutex_lock(&refusals.lock);
    refusal_summary_locked(cloud_now_ms(), force);
    pthread_mutex_unlock(&refusals.lock);
}

cJSON *cloud_device_event(const char *pid, const char *dn)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "product_id", pid);
    cJSON_AddStringToObject(ev, "device_name", dn);
    return ev;
}

/* Every string of an event, keys too, as valid UTF-8: a byte that does not belong to a valid
 * sequence becomes '?', in place. Events carry what devices sent (data-template params, OTA
 * messages, gateway entries), and cJSON takes any bytes in a JSON string; a --json line or a
 * console event must stay UTF-8 (docs/json.md) whatever a device puts there. */
void cloud_utf8_fix(char *s)
{
    size_t len = s ? strlen(s) : 0;
    for (size_t i = 0; i < len;) {
        size_t n = sc_posix_utf8_seq((const uint8_t *)s + i, len - i);
        if (n)
            i += n;
        else
            s[i++] = '?';
    }
}

static void utf8_fix_tree(cJSON *o)
{
    for (cJSON *it = o; it; it = it->next) {
        if (it->string && !(it->type & cJSON_StringIsConst))
            cloud_utf8_fix(it->string);
        if (cJSON_IsString(it))
            cloud_utf8_fix(it->valuestring);
        utf8_fix_tree(it->child);
    }
}

void cloud_event(const char *event, cJSON *obj)
{
    /* the tools' one printer and convention (docs/json.md): v, event, t_ms ... ts */
    cJSON *o = sc_posix_event_line(event, sc_posix_event_ms(), obj);
    if (!o)
        return;
    utf8_fix_tree(o->child);
    cloud_console_publish(o);   /* the console's live stream (it drops secrets itself) */
    if (events_json)
        sc_posix_event_print(stdout, o);   /* through the queue once started; it frees o */
    else
        cJSON_Delete(o);
}

/* The same abbreviation as everywhere else (send, device, console): a few characters then "…".
 * The token may be a device's, whatever it sent: anything but printable ASCII becomes '?' first,
 * so its bytes can neither drive the terminal of whoever reads the log ("\e[8m" hid all that
 * followed) nor cut a UTF-8 character in half in an event line (docs/json.md: UTF-8). */
void cloud_abbrev_token(const char *token, char out[16])
{
    if (!token) {
        sc_send_abbrev(NULL, out, 16);
        return;
    }
    /* Its first 15 bytes decide as the whole would: 4 characters shown from a length of 12 on. */
    char clean[16];
    size_t n = 0;
    for (; token[n] && n < sizeof clean - 1; n++)
        clean[n] = token[n] > 0x20 && token[n] < 0x7f ? token[n] : '?';
    clean[n] = 0;
    sc_send_abbrev(clean, out, 16);
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
