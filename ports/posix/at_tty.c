/* SPDX-License-Identifier: Apache-2.0 */
/* The AT front-end on a tty, a pty or stdin/stdout (see sc_posix_at.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sc_posix_at.h"

/* Replies never wait for the line. A write puts out what the line takes at once; the rest waits
 * in this queue, in order, and goes out from the caller's poll loop when the line is writable
 * (sc_posix_at_events asks for POLLOUT then, sc_posix_at_on_writable writes). Only a reply that
 * finds the queue full is dropped (counted). So a host that reads a trickle costs the device
 * loop no waiting at all, and a slow but live reader still gets every reply, in order, as long
 * as it is at most SC_POSIX_AT_OUTQ bytes behind (F34: a write used to wait up to 200 ms for
 * room, per reply). */
static struct {
    bool open;
    int in_fd, out_fd;
    bool is_tty;
    bool own_fd;
    struct termios saved;
    sc_at_t at;
    unsigned long dropped, dropped_replies;
    size_t q_head, q_len, q_peak;   /* the ring below: oldest byte, bytes queued, most queued */
    bool mid_line;                  /* the last byte accepted did not end a line */
    bool dropping;                  /* dropping the rest of a line */
    char q[SC_POSIX_AT_OUTQ];
} g = { .in_fd = -1, .out_fd = -1 };

static speed_t baud_const(uint32_t baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
#ifdef B460800
    case 460800: return B460800;
#endif
#ifdef B921600
    case 921600: return B921600;
#endif
    default: return 0;
    }
}

/* Writes what the line takes now: >= 0 bytes, or -1 when the line is gone (not EAGAIN). */
static ssize_t put_now(const char *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(g.out_fd, data + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return -1;
    }
    return (ssize_t)done;
}

/* The queue's oldest bytes to the line, as far as it takes them. */
static void flush_queue(void)
{
    while (g.q_len > 0 && g.out_fd >= 0) {
        size_t chunk = sizeof g.q - g.q_head;
        if (chunk > g.q_len)
            chunk = g.q_len;
        ssize_t n = put_now(g.q + g.q_head, chunk);
        if (n < 0) {   /* the line is gone: nothing queued can reach it */
            g.dropped += g.q_len;
            g.q_len = g.q_head = 0;
            return;
        }
        g.q_head = (g.q_head + (size_t)n) % sizeof g.q;
        g.q_len -= (size_t)n;
        if ((size_t)n < chunk)
            return;   /* the line is full: the rest when it is writable */
    }
}

static void enqueue(const char *data, size_t len)
{
    size_t tail = (g.q_head + g.q_len) % sizeof g.q;
    for (size_t i = 0; i < len; i++)
        g.q[(tail + i) % sizeof g.q] = data[i];
    g.q_len += len;
    if (g.q_len > g.q_peak)
        g.q_peak = g.q_len;
}

/* The AT core writes a line in pieces (an echo, then its CR LF; a format's parts), so what is
 * kept or dropped is whole lines: a new line is queued only while LINE_ROOM bytes stay free for
 * the rest of it (longer than any reply line but a payload's), and once a piece is dropped the
 * rest of its line is dropped too. Only a line longer than that room can still be cut. */
#define LINE_ROOM 1024u
/* Input is read while the queue is at most half full, in pieces this long while anything is
 * queued: 64 bytes hold at most 16 commands, whose replies fit the other half. */
#define INPUT_WHILE_QUEUED 64u

static void drop(size_t len, bool ends_line)
{
    if (!g.dropping)
        g.dropped_replies++;
    g.dropped += len;
    g.dropping = !ends_line;
}

static void line_write(void *user, const char *data, size_t len)
{
    (void)user;
    if (g.out_fd < 0 || len == 0)
        return;
    bool ends_line = data[len - 1] == '\n';
    if (g.dropping) {   /* the rest of a line whose start was dropped */
        drop(len, ends_line);
        return;
    }
    flush_queue();   /* older replies first */
    size_t limit = g.mid_line ? sizeof g.q : sizeof g.q - LINE_ROOM;
    if (g.q_len == 0) {
        ssize_t n = put_now(data, len);
        if (n < 0) {
            drop(len, ends_line);
            return;
        }
        data += n;
        len -= (size_t)n;
        limit = sizeof g.q;   /* the line has taken part of it: the rest must follow */
    }
    if (len > limit - g.q_len) {
        drop(len, ends_line);
        g.mid_line = false;
        return;
    }
    enqueue(data, len);
    g.mid_line = !ends_line;
}

static void set_err(char *err, size_t cap, const char *fmt, const char *a, const char *b)
{
    if (err && cap)
        snprintf(err, cap, fmt, a, b);
}

sc_err_t sc_posix_at_open(const char *path, uint32_t baud, const sc_at_config_t *cfg, const sc_at_ops_t *ops,
                          char *err, size_t errcap)
{
    if (g.open)
        return SC_ERR_BUSY;
    if (!path || !cfg)
        return SC_ERR_INVAL;
    if (baud == 0)
        baud = SC_POSIX_AT_DEFAULT_BAUD;
    speed_t sp = baud_const(baud);
    if (!sp) {
        set_err(err, errcap, "unsupported baud rate%s%s", "", "");
        return SC_ERR_RANGE;
    }
    g.is_tty = false;
    g.own_fd = false;
    if (!strcmp(path, "-")) {
        g.in_fd = STDIN_FILENO;
        g.out_fd = STDOUT_FILENO;
    } else {
        /* O_NOCTTY: a serial line must never become our controlling terminal (a hang-up
         * would then signal us). */
        int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            set_err(err, errcap, "%s: %s", path, strerror(errno));
            return SC_ERR_IO;
        }
        if (isatty(fd)) {
            struct termios t;
            if (tcgetattr(fd, &t) < 0) {
                set_err(err, errcap, "%s: tcgetattr: %s", path, strerror(errno));
                close(fd);
                return SC_ERR_IO;
            }
            g.saved = t;
            cfmakeraw(&t);                 /* 8N1, no echo, no CR/LF translation */
            t.c_cflag |= CLOCAL | CREAD;   /* ignore modem lines: a 3-wire UART has none */
            t.c_cflag &= ~(tcflag_t)CRTSCTS;
            /* VMIN 1: with O_NONBLOCK an empty line then reads as EAGAIN; VMIN 0 would read
             * as 0, which cannot be told from a hang-up. */
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
            cfsetispeed(&t, sp);
            cfsetospeed(&t, sp);
            if (tcsetattr(fd, TCSANOW, &t) < 0) {
                set_err(err, errcap, "%s: tcsetattr: %s", path, strerror(errno));
                close(fd);
                return SC_ERR_IO;
            }
            g.is_tty = true;
        }
        g.in_fd = g.out_fd = fd;
        g.own_fd = true;
    }
    sc_at_config_t c = *cfg;
    c.output = line_write;
    c.output_user = NULL;
    g.dropped = g.dropped_replies = 0;
    g.q_head = g.q_len = g.q_peak = 0;
    g.mid_line = g.dropping = false;
    g.open = true;
    sc_err_t e = sc_at_init(&g.at, &c, ops);
    if (e != SC_OK) {
        sc_posix_at_close();
        set_err(err, errcap, "AT init: %s%s", sc_strerror(e), "");
        return e;
    }
    /* As an ESP-AT module does after boot: the host waits for "ready" before its first
     * command, so nothing it sends can meet a line that is not yet in raw mode. */
    sc_at_urc(&g.at, "ready");
    return SC_OK;
}

int sc_posix_at_fd(void)
{
    return g.open ? g.in_fd : -1;
}

sc_err_t sc_posix_at_on_readable(uint32_t now_ms)
{
    if (!g.open)
        return SC_ERR_CLOSED;
    /* Bounded per call so a flood on the line cannot starve the radio and the timers. stdin
     * is left blocking (its flags are shared with whoever started us): one read per call,
     * which poll() said will not block. */
    int rounds = g.own_fd ? 16 : 1;
    for (int round = 0; round < rounds; round++) {
        /* Replies waiting for a slow reader: the next commands wait in the line's own buffer
         * (as on a UART module that is busy), read in small pieces, so that their replies
         * find room in the queue instead of being dropped. */
        if (!sc_posix_at_wants_input()) {
            /* nothing read, but a hang-up still ends the line (the poll loop was told of it) */
            struct pollfd p = { .fd = g.in_fd, .events = 0 };
            return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) ? SC_ERR_CLOSED : SC_OK;
        }
        char buf[512];
        ssize_t n = read(g.in_fd, buf, g.q_len ? INPUT_WHILE_QUEUED : sizeof buf);
        if (n > 0) {
            sc_at_feed(&g.at, buf, (size_t)n, now_ms);
            continue;
        }
        if (n == 0)
            return SC_ERR_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SC_OK;
        return SC_ERR_CLOSED;   /* EIO: the pty master or the USB adapter went away */
    }
    return SC_OK;
}

uint32_t sc_posix_at_tick(uint32_t now_ms)
{
    if (g.open)
        flush_queue();
    return g.open ? sc_at_tick(&g.at, now_ms) : now_ms + 1000;
}

sc_at_t *sc_posix_at_core(void)
{
    return g.open ? &g.at : NULL;
}

unsigned long sc_posix_at_dropped(void)
{
    return g.dropped;
}

unsigned long sc_posix_at_dropped_replies(void)
{
    return g.dropped_replies;
}

bool sc_posix_at_wants_input(void)
{
    return g.open && g.q_len <= sizeof g.q / 2;
}

int sc_posix_at_out_fd(void)
{
    return g.open ? g.out_fd : -1;
}

bool sc_posix_at_pending(void)
{
    return g.open && g.q_len > 0;
}

size_t sc_posix_at_queued(size_t *peak)
{
    if (peak)
        *peak = g.q_peak;
    return g.q_len;
}

void sc_posix_at_on_writable(void)
{
    if (g.open)
        flush_queue();
}

void sc_posix_at_close(void)
{
    if (!g.open)
        return;
    /* The last replies (a result URC, the answer to the command that ended the run) still go
     * out to a host that reads: at most 500 ms, once. */
    for (int i = 0; i < 50 && g.q_len > 0 && g.out_fd >= 0; i++) {
        struct pollfd p = { .fd = g.out_fd, .events = POLLOUT };
        if (poll(&p, 1, 10) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
            break;
        flush_queue();
    }
    if (g.is_tty)
        (void)tcsetattr(g.in_fd, TCSANOW, &g.saved);
    if (g.own_fd)
        close(g.in_fd);
    /* The context caches the device secret. */
    memset(&g.at, 0, sizeof g.at);
    g.in_fd = g.out_fd = -1;
    g.open = false;
}
