/* SPDX-License-Identifier: Apache-2.0 */
/* UDP HAL over BSD sockets. Sockets are non-blocking because the core polls them from
 * sc_device_step() and must never wait. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_posix_udp.h"

static sc_err_t errno_to_sc(int e)
{
    switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return SC_ERR_AGAIN;
    case EADDRINUSE:
        return SC_ERR_BUSY;
    case EACCES:
    case EPERM:
        return SC_ERR_REFUSED;
    case EADDRNOTAVAIL:
    case EINVAL:
        return SC_ERR_INVAL;
    case ENOMEM:
    case ENOBUFS:
        return SC_ERR_NOMEM;
    default:
        return SC_ERR_IO;
    }
}

/* One table's sockets on `port` that an IPv4 bind to want (0: the wildcard) conflicts with: into
 * *found, another user's before ours. IPv6 (F76): the wildcard [::], dual-stack as a rule, holds
 * the IPv4 port too, and so does an IPv4-mapped ::ffff:a.b.c.d. */
static void holder_scan(const char *table, bool v6, uint32_t want, uint16_t port, long *found)
{
    FILE *f = fopen(table, "re");
    if (!f)
        return;
    static const uint8_t mapped_bytes[4] = { 0, 0, 0xff, 0xff };
    uint32_t mapped;
    memcpy(&mapped, mapped_bytes, 4);   /* /proc prints each 32-bit word of the address natively */
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned w[4] = { 0, 0, 0, 0 }, lport;
        unsigned long uid;
        /* sl: local rem st tx:rx tr:when retr uid */
        if (v6 ? sscanf(line, " %*u: %8x%8x%8x%8x:%4x %*32x:%*4x %*2x %*8x:%*8x %*2x:%*8x %*8x %lu", &w[0], &w[1], &w[2],
                        &w[3], &lport, &uid) != 6
               : sscanf(line, " %*u: %8x:%4x %*8x:%*4x %*2x %*8x:%*8x %*2x:%*8x %*8x %lu", &w[3], &lport, &uid) != 3)
            continue;
        if (lport != port)
            continue;
        uint32_t addr;
        if (!v6 || (!w[0] && !w[1] && !w[2] && !w[3]))
            addr = w[3];   /* IPv4, or [::]: the wildcard */
        else if (!w[0] && !w[1] && w[2] == mapped)
            addr = w[3];   /* ::ffff:a.b.c.d */
        else
            continue;      /* an IPv6 address: no IPv4 bind conflicts with it */
        if (addr && want && addr != want)
            continue;
        if ((uid_t)uid != geteuid())
            *found = (long)uid;
        else if (*found < 0)
            *found = (long)uid;
    }
    fclose(f);
}

long sc_posix_udp_port_holder(const uint8_t *ip, uint16_t port)
{
    uint32_t want = 0;
    if (ip)
        memcpy(&want, ip, 4);   /* /proc prints the address as the native word of its bytes */
    long found = -1;
    holder_scan("/proc/net/udp", false, want, port, &found);
    if (found < 0)   /* an IPv4 holder is the one; else an IPv6 socket holding the IPv4 port */
        holder_scan("/proc/net/udp6", true, want, port, &found);
    return found;
}

void sc_posix_udp_holder_text(char *out, size_t cap, const uint8_t *ip, uint16_t port)
{
    long uid = sc_posix_udp_port_holder(ip, port);
    if (uid < 0)
        snprintf(out, cap, "%s", "");
    else if ((uid_t)uid == geteuid())
        snprintf(out, cap, " (held by another socket of this user)");
    else
        snprintf(out, cap, " (held by uid %ld, another user)", uid);
}

static int slot_fd(const sc_posix_udp_t *u, int handle)
{
    if (handle < 0 || handle >= SC_POSIX_UDP_MAX)
        return -1;
    return u->fd[handle];
}

static sc_err_t udp_open(void *ctx, const uint8_t *local_ip, uint16_t local_port, bool broadcast, int *handle)
{
    sc_posix_udp_t *u = ctx;
    if (!handle)
        return SC_ERR_INVAL;
    int slot = -1;
    for (int i = 0; i < SC_POSIX_UDP_MAX; i++)
        if (u->fd[i] < 0) {
            slot = i;
            break;
        }
    if (slot < 0)
        return SC_ERR_NOSPACE;

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno_to_sc(errno);
    int one = 1;
    /* No SO_REUSEADDR: UDP has no TIME_WAIT to wait out, and with it two devices bound to the
     * same address and port would both succeed while only one receives. Distinct local
     * addresses (127.0.0.2, 127.0.0.3, ...) bind side by side without it. */
    /* A service may be flooded (junk on 8266 from anyone on the LAN): a deeper receive queue
     * lets a real request survive a burst until the next drain. The kernel caps the value at
     * net.core.rmem_max; failure is harmless. */
    int rcvbuf = 1 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
        sc_err_t err = errno_to_sc(errno);
        close(fd);
        return err;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(local_port);
    if (local_ip)
        memcpy(&sa.sin_addr.s_addr, local_ip, 4);
    else
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        sc_err_t err = errno_to_sc(e);
        close(fd);
        if (e == EADDRINUSE && u->sys && u->sys->log) {
            char who[64], line[160];
            sc_posix_udp_holder_text(who, sizeof who, local_ip, local_port);
            snprintf(line, sizeof line, "udp: port %u is taken%s: %s", (unsigned)local_port, who, strerror(e));
            u->sys->log(u->sys->ctx, SC_LOG_ERROR, line);
        }
        return err;
    }
    u->fd[slot] = fd;
    *handle = slot;
    return SC_OK;
}

static sc_err_t udp_send_to(void *ctx, int handle, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    sc_posix_udp_t *u = ctx;
    int fd = slot_fd(u, handle);
    if (fd < 0 || !to || (!buf && len))
        return SC_ERR_INVAL;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(to->port);
    memcpy(&sa.sin_addr.s_addr, to->addr, 4);
    ssize_t n;
    do
        n = sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        u->send_errors++;
        return errno_to_sc(errno);
    }
    u->sent++;
    return SC_OK;
}

static sc_err_t udp_recv_from(void *ctx, int handle, sc_ipv4_ep_t *from, void *buf, size_t cap, size_t *len,
                              bool *truncated)
{
    sc_posix_udp_t *u = ctx;
    int fd = slot_fd(u, handle);
    if (fd < 0 || !len || (!buf && cap))
        return SC_ERR_INVAL;
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    memset(&sa, 0, sizeof sa);
    ssize_t n;
    /* MSG_TRUNC makes Linux return the datagram's real length, so truncation is reported
     * instead of silently handing the core a cut request. */
    do
        n = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&sa, &salen);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno_to_sc(errno);
    bool cut = (size_t)n > cap;
    *len = cut ? cap : (size_t)n;
    if (truncated)
        *truncated = cut;
    if (cut)
        u->truncated++;
    u->received++;
    if (from) {
        memset(from, 0, sizeof *from);
        if (sa.sin_family == AF_INET) {
            memcpy(from->addr, &sa.sin_addr.s_addr, 4);
            from->port = ntohs(sa.sin_port);
        }
    }
    return SC_OK;
}

static void udp_close(void *ctx, int handle)
{
    sc_posix_udp_t *u = ctx;
    int fd = slot_fd(u, handle);
    if (fd < 0)
        return;
    close(fd);
    u->fd[handle] = -1;
}

void sc_posix_udp_init(sc_posix_udp_t *u, sc_hal_udp_t *hal)
{
    memset(u, 0, sizeof *u);
    for (int i = 0; i < SC_POSIX_UDP_MAX; i++)
        u->fd[i] = -1;
    if (hal) {
        hal->ctx = u;
        hal->open = udp_open;
        hal->send_to = udp_send_to;
        hal->recv_from = udp_recv_from;
        hal->close = udp_close;
    }
}

size_t sc_posix_udp_pollfds(const sc_posix_udp_t *u, struct pollfd *pfd, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < SC_POSIX_UDP_MAX && n < max; i++)
        if (u->fd[i] >= 0) {
            pfd[n].fd = u->fd[i];
            pfd[n].events = POLLIN;
            pfd[n].revents = 0;
            n++;
        }
    return n;
}

void sc_posix_udp_close_all(sc_posix_udp_t *u)
{
    for (int i = 0; i < SC_POSIX_UDP_MAX; i++)
        udp_close(u, i);
}
