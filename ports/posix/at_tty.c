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

/* A host that stops reading must not stall the device loop: a write waits at most this long
 * for room, then the rest of the reply is dropped (and counted). After such a drop the line
 * is "congested": writes no longer wait at all until one gets bytes through again, so a host
 * that keeps sending commands but never reads costs 200 ms once, not 200 ms a reply (F34). A
 * slow but live line (a UART at its baud rate) never waits that long and keeps its
 * backpressure. */
#define WRITE_WAIT_MS 200

static struct {
    bool open;
    int in_fd, out_fd;
    bool is_tty;
    bool own_fd;
    struct termios saved;
    sc_at_t at;
    unsigned long dropped;
    bool congested;   /* the last write gave up: do not wait again until bytes get through */
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

static void line_write(void *user, const char *data, size_t len)
{
    (void)user;
    while (len > 0 && g.out_fd >= 0) {
        ssize_t n = write(g.out_fd, data, len);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            g.congested = false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !g.congested) {
            struct pollfd p = { .fd = g.out_fd, .events = POLLOUT };
            if (poll(&p, 1, WRITE_WAIT_MS) > 0 && (p.revents & POLLOUT))
                continue;
        }
        g.congested = true;
        g.dropped += len;   /* nobody reading, or the line is gone */
        return;
    }
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
    g.dropped = 0;
    g.congested = false;
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
        char buf[512];
        ssize_t n = read(g.in_fd, buf, sizeof buf);
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

void sc_posix_at_close(void)
{
    if (!g.open)
        return;
    if (g.is_tty)
        (void)tcsetattr(g.in_fd, TCSANOW, &g.saved);
    if (g.own_fd)
        close(g.in_fd);
    /* The context caches the device secret. */
    memset(&g.at, 0, sizeof g.at);
    g.in_fd = g.out_fd = -1;
    g.open = false;
}
