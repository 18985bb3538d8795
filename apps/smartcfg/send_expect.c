/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg send --expect FILE (send_expect.h): the file, and which device of the run is which
 * line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sc_posix.h"
#include "sc_posix_netif.h"
#include "send_expect.h"

#define SEND_EXPECT_FILE_MAX (1 << 20) /* /dev/zero or a wrong file: not read to its end */

/* A name as the 8266 answer carries it: letters, digits and _ - . : @ (what IoT Explorer
 * takes), so a line cannot hide a space, a '#' or a control character in one. */
static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:@") == n;
}

/* One field that is not a MAC: DEVICE_NAME or PRODUCT_ID/DEVICE_NAME. NULL, or what is wrong. */
static const char *set_name(send_expect_entry_t *e, const char *f)
{
    const char *slash = strchr(f, '/');
    const char *name = slash ? slash + 1 : f;
    if (slash) {
        size_t pl = (size_t)(slash - f);
        if (!pl || pl > SC_PRODUCT_ID_MAX)
            return "a product ID before '/' is 1..10 characters";
        memcpy(e->product_id, f, pl);
        e->product_id[pl] = '\0';
        if (!name_ok(e->product_id, SC_PRODUCT_ID_MAX))
            return "a product ID is letters, digits and _ - . : @";
    }
    if (!name_ok(name, SC_DEVICE_NAME_MAX))
        return strlen(name) > SC_DEVICE_NAME_MAX ? "a device name is at most 48 characters"
               : strchr(name, '/')              ? "one '/' at most: PRODUCT_ID/DEVICE_NAME"
                                                : "neither a MAC (aa:bb:cc:dd:ee:ff) nor a device name (letters, digits and _ - . : @)";
    snprintf(e->device_name, sizeof e->device_name, "%s", name);
    return NULL;
}

/* The fields of one line (comment and spacing gone) into e. NULL, or what is wrong. */
static const char *parse_fields(send_expect_entry_t *e, char *text, char *bad, size_t badcap)
{
    char *f[3];
    int nf = 0;
    bad[0] = '\0';
    for (char *p = strtok(text, " \t"); p; p = strtok(NULL, " \t")) {
        if (nf == 2)
            return "more than two fields: MAC, NAME, or MAC NAME";
        f[nf++] = p;
    }
    for (int k = 0; k < nf; k++) {
        uint8_t mac[SC_MAC_LEN];
        snprintf(bad, badcap, "field %d", k + 1);
        if (sc_posix_parse_mac(f[k], mac) == SC_OK) {
            if (e->has_mac)
                return "two MACs";
            e->has_mac = true;
            memcpy(e->mac, mac, SC_MAC_LEN);
        } else if (e->device_name[0]) {
            snprintf(bad, badcap, "fields 1 and 2");
            return "two names: a line names one device (and a MAC is written aa:bb:cc:dd:ee:ff)";
        } else {
            const char *why = set_name(e, f[k]);
            if (why)
                return why;
        }
    }
    bad[0] = '\0';
    return NULL;
}

static bool same_name(const send_expect_entry_t *a, const send_expect_entry_t *b)
{
    return a->device_name[0] && !strcmp(a->device_name, b->device_name) &&
           (!a->product_id[0] || !b->product_id[0] || !strcmp(a->product_id, b->product_id));
}

/* An earlier line names the same device: its number, else 0. A name is one device whether or
 * not a line gives its MAC too: `MAC rack1` and `rack1` on two lines let the device named rack1
 * fill the first, and the second waited for a second rack1 until --timeout (exit 3, "never
 * acked", while that device was done); `MAC1 rack1` and `MAC2 rack1` cannot both be right. */
static unsigned duplicate(const send_expect_t *x, const send_expect_entry_t *e)
{
    for (uint32_t k = 0; k < x->n; k++) {
        const send_expect_entry_t *o = &x->e[k];
        if ((e->has_mac && o->has_mac && !memcmp(e->mac, o->mac, SC_MAC_LEN)) || same_name(e, o))
            return o->line;
    }
    return 0;
}

static void tidy(send_expect_entry_t *e)
{
    char mac[18] = "";
    if (e->has_mac)
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1], e->mac[2], e->mac[3],
                 e->mac[4], e->mac[5]);
    snprintf(e->entry, sizeof e->entry, "%s%s%s%s%s", mac, e->has_mac && e->device_name[0] ? " " : "",
             e->product_id, e->product_id[0] ? "/" : "", e->device_name);
}

/* Up to three bad lines in why; the count of the others after them. */
typedef struct {
    char *why;
    size_t cap, len;
    unsigned bad;
} problems_t;

/* A bad line is told by its number, and which field, never by its text: a password file given
 * as --expect by mistake put the Wi-Fi password in the message (a terminal, a CI log). */
static void problem(problems_t *p, unsigned line, const char *field, const char *what)
{
    if (p->bad++ < 3 && p->len < p->cap) {
        int n = snprintf(p->why + p->len, p->cap - p->len, "%sline %u: %s%s%s", p->len ? "; " : "", line,
                         field && field[0] ? field : "", field && field[0] ? ": " : "", what);
        if (n > 0)
            p->len += (size_t)n;
    }
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* s (n characters) is the secret, or, for one given as --password-hex can be, its hex form in
 * either case: a file of the hex text (the one kept for --password-hex) read as a device name
 * (F120 compared the bytes only). */
static bool is_secret(const send_expect_secret_t *sec, const char *s, size_t n)
{
    if (!sec->bytes || !sec->len)
        return false;
    if (n == sec->len && !memcmp(s, sec->bytes, n))
        return true;
    if (!sec->hex_too || n != 2 * sec->len)
        return false;
    for (size_t i = 0; i < sec->len; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0 || (unsigned)(hi << 4 | lo) != sec->bytes[i])
            return false;
    }
    return true;
}

/* The secret a line that names something is, or holds as a field (a name, PRODUCT_ID/NAME, a
 * MAC): compared with the line as read (a password file's one line is the password whatever
 * it holds: spaces, a '#') and with each field. NULL: none. text: the line without its end. */
static const char *line_secret(const char *text, const send_expect_secret_t *secrets, size_t nsecrets)
{
    size_t tl = strlen(text), cl = strcspn(text, "#");
    for (size_t k = 0; k < nsecrets; k++) {
        if (is_secret(&secrets[k], text, tl))
            return secrets[k].what;
        for (size_t i = 0; i < cl;) {
            i += strspn(text + i, " \t");
            size_t f = strcspn(text + i, " \t#");
            const char *slash = f ? memchr(text + i, '/', f) : NULL; /* PRODUCT_ID/NAME: the NAME too */
            if (f && (is_secret(&secrets[k], text + i, f) ||
                      (slash && is_secret(&secrets[k], slash + 1, f - (size_t)(slash + 1 - (text + i))))))
                return secrets[k].what;
            i += f ? f : 1;
        }
    }
    return NULL;
}

/* One line of the file: nothing, a device, or a problem. */
static void one_line(send_expect_t *x, problems_t *p, unsigned line, char *text, const send_expect_secret_t *secrets,
                     size_t nsecrets)
{
    char *hash = strchr(text, '#');
    if (hash)
        *hash = '\0';
    if (!text[strspn(text, " \t")])
        return; /* blank or a comment */
    if (hash)
        *hash = '#';
    const char *secret = line_secret(text, secrets, nsecrets);
    if (hash)
        *hash = '\0';
    if (secret) {
        /* it would name a device the summary lists ("never acked"): the secret in a terminal,
         * a CI log; refused by its line and the secret's name, never its text */
        char what[128];
        snprintf(what, sizeof what, "%s, not a device (the wrong file given as --expect?)", secret);
        problem(p, line, NULL, what);
        return;
    }
    send_expect_entry_t e;
    memset(&e, 0, sizeof e);
    e.line = line;
    char bad[32];
    const char *why = parse_fields(&e, text, bad, sizeof bad);
    if (why) {
        problem(p, line, bad, why);
        return;
    }
    unsigned dup = duplicate(x, &e);
    if (dup) {
        char what[64];
        snprintf(what, sizeof what, "the same device as line %u", dup);
        problem(p, line, NULL, what);
        return;
    }
    if (x->n >= SC_SEND_MAX_DEVICES) {
        problem(p, line, NULL, "a 33rd device: one run takes 32 (a file per 32 devices)");
        return;
    }
    tidy(&e);
    x->e[x->n++] = e;
}

int send_expect_load(send_expect_t *x, const char *path, unsigned wait_s, const send_expect_secret_t *secrets,
                     size_t nsecrets, char *why, size_t cap)
{
    memset(x, 0, sizeof *x);
    x->path = path;
    /* Read whole first, bounded (a FIFO nothing writes to hung the run for ever) */
    char *data = malloc(SEND_EXPECT_FILE_MAX);
    int fd = data ? sc_cli_input_open(path, true) : -1; /* "-": stdin, a pipe (the caller refuses a terminal) */
    long len = fd >= 0 ? sc_cli_input_read(fd, data, SEND_EXPECT_FILE_MAX, wait_s) : -1;
    int err = data ? errno : ENOMEM;
    if (fd >= 0)
        close(fd);
    if (len < 0) {
        char reason[256];
        free(data);
        if (err == EFBIG)
            snprintf(why, cap, "larger than %d bytes: no list of at most 32 devices", SEND_EXPECT_FILE_MAX);
        else
            snprintf(why, cap, "cannot read it: %s", sc_cli_input_why(err, SEND_EXPECT_FILE_MAX, wait_s, reason, sizeof reason));
        return -1;
    }
    problems_t p = { why, cap, 0, 0 };
    why[0] = '\0';
    char buf[SEND_EXPECT_LINE_MAX + 1];
    size_t n = 0;
    unsigned line = 1;
    bool too_long = false, nul = false;
    for (long i = 0;; i++) {
        int c = i < len ? (unsigned char)data[i] : EOF;
        if (c != '\n' && c != EOF) {
            if (c == '\0')
                nul = true;
            if (n < SEND_EXPECT_LINE_MAX)
                buf[n++] = (char)c;
            else
                too_long = true;
            continue;
        }
        if (c == EOF && !n && !too_long && !nul)
            break;
        while (n && buf[n - 1] == '\r')
            n--;
        buf[n] = '\0';
        char *text = buf;
        if (line == 1)
            text += sc_cli_bom(text, n); /* a byte order mark, as some editors write it */
        if (too_long)
            problem(&p, line, NULL, "longer than 255 characters");
        else if (nul)
            problem(&p, line, NULL, "a NUL byte (not a text file)");
        else
            one_line(x, &p, line, text, secrets, nsecrets);
        if (c == EOF)
            break;
        line++;
        n = 0;
        too_long = nul = false;
    }
    explicit_bzero(buf, sizeof buf);   /* a password file given here by mistake */
    explicit_bzero(data, (size_t)len);
    free(data);
    if (p.bad > 3 && p.len < cap)
        snprintf(why + p.len, cap - p.len, " (%u bad lines)", p.bad);
    if (p.bad)
        return -1;
    if (!x->n) {
        snprintf(why, cap, "no device in it (one a line: MAC, NAME or MAC NAME; '#' starts a comment)");
        return -1;
    }
    return 0;
}

static bool names_match(const send_expect_entry_t *e, const sc_posix_sender_device_t *d)
{
    return d->device_name[0] && !strcmp(e->device_name, d->device_name) &&
           (!e->product_id[0] || !strcmp(e->product_id, d->product_id));
}

void send_expect_match(send_expect_t *x, const sc_posix_sender_t *s)
{
    sc_posix_sender_device_t d;
    sc_posix_sender_extra_t xd;
    for (uint32_t k = 0; k < SC_SEND_MAX_DEVICES; k++)
        x->dev_of[k] = x->extra_of[k] = x->entry_of_dev[k] = -1;
    x->unidentified = false;
    for (uint32_t k = 0; k < x->n; k++) {
        if (!x->e[k].has_mac)
            continue;
        for (uint32_t i = 0; x->dev_of[k] < 0 && sc_posix_sender_device(s, i, &d); i++)
            if (!memcmp(d.mac, x->e[k].mac, SC_MAC_LEN)) {
                x->dev_of[k] = (int)i;
                x->entry_of_dev[i] = (int)k;
            }
        for (uint32_t i = 0; x->dev_of[k] < 0 && x->extra_of[k] < 0 && sc_posix_sender_extra(s, i, &xd); i++)
            if (!memcmp(xd.mac, x->e[k].mac, SC_MAC_LEN))
                x->extra_of[k] = (int)i;
    }
    for (uint32_t i = 0; sc_posix_sender_device(s, i, &d); i++) {
        if (x->entry_of_dev[i] >= 0)
            continue;
        if (!d.device_name[0]) {
            x->unidentified = true;
            continue;
        }
        for (uint32_t k = 0; k < x->n; k++)
            if (!x->e[k].has_mac && x->dev_of[k] < 0 && names_match(&x->e[k], &d)) {
                x->dev_of[k] = (int)i;
                x->entry_of_dev[i] = (int)k;
                break;
            }
    }
}

bool send_expect_all_found(const send_expect_t *x)
{
    for (uint32_t k = 0; k < x->n; k++)
        if (x->dev_of[k] < 0)
            return false;
    return true;
}

send_expect_state_t send_expect_state(const send_expect_t *x, const sc_posix_sender_t *s, uint32_t k)
{
    sc_posix_sender_device_t d;
    if (x->dev_of[k] < 0)
        return x->extra_of[k] >= 0 ? SEND_EXPECT_NOT_TAKEN : SEND_EXPECT_MISSING;
    uint32_t i = (uint32_t)x->dev_of[k];
    sc_posix_sender_device(s, i, &d);
    const send_expect_entry_t *e = &x->e[k];
    if (e->device_name[0] && d.device_name[0] && !names_match(e, &d))
        return SEND_EXPECT_OTHER_NAME;
    if (sc_posix_sender_device_ok(s, i))
        return SEND_EXPECT_DONE;
    return d.step == SC_POSIX_SDEV_FAILED ? SEND_EXPECT_FAILED : SEND_EXPECT_UNFINISHED;
}

const char *send_expect_state_name(send_expect_state_t st)
{
    static const char *const names[] = { "missing", "not_taken", "unfinished", "failed", "other_name", "done" };
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

bool send_expect_unexpected(const send_expect_t *x, const sc_posix_sender_t *s, uint32_t i)
{
    sc_posix_sender_device_t d;
    if (i >= SC_SEND_MAX_DEVICES || x->entry_of_dev[i] >= 0 || !sc_posix_sender_device(s, i, &d))
        return false;
    if (d.device_name[0])
        return true;
    for (uint32_t k = 0; k < x->n; k++)
        if (!x->e[k].has_mac && x->dev_of[k] < 0)
            return false; /* it may be this line's: it never told its name */
    return true;
}

int send_expect_extra_line(const send_expect_t *x, const uint8_t mac[SC_MAC_LEN])
{
    for (uint32_t k = 0; k < x->n; k++)
        if (x->e[k].has_mac && !memcmp(x->e[k].mac, mac, SC_MAC_LEN))
            return (int)x->e[k].line;
    return -1;
}
