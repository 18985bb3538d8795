/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_posix_udp.h"
#include "sc_send_posix.h"

static void fmt_ip(char *out, size_t cap, const uint8_t ip[4])
{
    snprintf(out, cap, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static struct sockaddr_in sin_of(const uint8_t ip[4], uint16_t port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (ip)
        memcpy(&sa.sin_addr, ip, 4);
    return sa;
}

static int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd;
}

sc_err_t sc_posix_send_open(sc_posix_send_net_t *n, const sc_posix_send_cfg_t *cfg, char *why, size_t cap)
{
    char ipbuf[16];
    int one = 1;
    memset(n, 0, sizeof *n);
    n->tx_fd = n->ack_fd = n->token_fd = -1;
    n->cfg = *cfg;
    fmt_ip(ipbuf, sizeof ipbuf, cfg->phone_ip);

    n->tx_fd = udp_socket();
    if (n->tx_fd < 0)
        goto sys_fail;
    setsockopt(n->tx_fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    if (cfg->iface && setsockopt(n->tx_fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->iface, (socklen_t)strlen(cfg->iface))) {
        snprintf(why, cap, "cannot bind to interface %s: %s", cfg->iface, strerror(errno));
        goto fail;
    }
    /* Source address = the phone IP carried in the datum, so the AP relays the frames of the
     * station the device will answer. Port stays ephemeral, as in the reference apps. */
    struct sockaddr_in src = sin_of(cfg->phone_ip, 0);
    if (bind(n->tx_fd, (struct sockaddr *)&src, sizeof src)) {
        snprintf(why, cap, "cannot send from %s: %s (is it an address of this host? see --ip/--iface)",
                 ipbuf, strerror(errno));
        goto fail;
    }
    if (cfg->mode == SC_POSIX_DEST_MULTICAST) {
        struct in_addr ifa;
        memcpy(&ifa, cfg->phone_ip, 4);
        unsigned char ttl = 1; /* only the local BSS matters: the device sniffs the air */
        if (setsockopt(n->tx_fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa) ||
            setsockopt(n->tx_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl)) {
            snprintf(why, cap, "cannot enable multicast from %s: %s", ipbuf, strerror(errno));
            goto fail;
        }
    }

    /* Devices ack to the phone IP and to 255.255.255.255: listen on any address. */
    n->ack_fd = udp_socket();
    if (n->ack_fd < 0)
        goto sys_fail;
    /* SO_REUSEPORT, not SO_REUSEADDR: with SO_REUSEADDR any other user's socket that set it too
     * could bind the same port (or the phone's own address on it, more specific, so every
     * unicast ack went to it) beside this one; Linux shares a SO_REUSEPORT port only between
     * sockets of the same effective uid, so two runs of one user still can. */
    setsockopt(n->ack_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    const uint16_t ack_port = cfg->ack_port ? cfg->ack_port : SC_ET_ACK_PORT;
    struct sockaddr_in any = sin_of(NULL, ack_port);
    if (bind(n->ack_fd, (struct sockaddr *)&any, sizeof any)) {
        int e = errno;
        char who[64] = "";
        if (e == EADDRINUSE)
            sc_posix_udp_holder_text(who, sizeof who, NULL, ack_port);
        snprintf(why, cap, "cannot listen for acks on UDP %u: %s%s", (unsigned)ack_port, strerror(e), who);
        goto fail;
    }

    if (cfg->token_socket) {
        n->token_fd = udp_socket();
        if (n->token_fd < 0)
            goto sys_fail;
        setsockopt(n->token_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one); /* as the ack socket */
        /* The real app sends from port 8266; firmware replies to the request's source. */
        struct sockaddr_in tok = sin_of(cfg->phone_ip, SC_TC8266_PORT);
        if (bind(n->token_fd, (struct sockaddr *)&tok, sizeof tok)) {
            int e = errno;
            char who[64] = "";
            if (e == EADDRINUSE)
                sc_posix_udp_holder_text(who, sizeof who, cfg->phone_ip, SC_TC8266_PORT);
            snprintf(why, cap, "cannot bind the token socket to %s:%d: %s%s", ipbuf, SC_TC8266_PORT, strerror(e),
                     who);
            goto fail;
        }
    }
    return SC_OK;

sys_fail:
    snprintf(why, cap, "socket: %s", strerror(errno));
fail:
    sc_posix_send_close(n);
    return SC_ERR_IO;
}

void sc_posix_send_close(sc_posix_send_net_t *n)
{
    if (n->tx_fd >= 0)
        close(n->tx_fd);
    if (n->ack_fd >= 0)
        close(n->ack_fd);
    if (n->token_fd >= 0)
        close(n->token_fd);
    n->tx_fd = n->ack_fd = n->token_fd = -1;
}

void sc_posix_send_dest(const sc_posix_send_net_t *n, uint32_t group, uint8_t ip[4])
{
    switch (n->cfg.mode) {
    case SC_POSIX_DEST_MULTICAST:
        sc_et_mcast_addr(group, ip);
        break;
    case SC_POSIX_DEST_UNICAST:
        memcpy(ip, n->cfg.dest, 4);
        break;
    default:
        memset(ip, 255, 4);
        break;
    }
}

sc_err_t sc_posix_send_datagram(sc_posix_send_net_t *n, uint32_t group, uint16_t len)
{
    static uint8_t ones[1200]; /* the longest datagram of any protocol (v2 COUNT: 1112) */
    if (!ones[0])
        memset(ones, '1', sizeof ones);
    if (len > sizeof ones)
        return SC_ERR_RANGE;
    uint8_t ip[4];
    sc_posix_send_dest(n, group, ip);
    struct sockaddr_in to = sin_of(ip, n->cfg.dest_port ? n->cfg.dest_port : SC_ET_PORT);
    for (;;) {
        ssize_t r = sendto(n->tx_fd, ones, len, 0, (struct sockaddr *)&to, sizeof to);
        if (r == (ssize_t)len)
            return SC_OK;
        if (r < 0 && errno == EINTR)
            continue;
        /* A full queue or a lost route drops this datagram only; the schedule repeats it. */
        return r < 0 && (errno == EAGAIN || errno == ENOBUFS) ? SC_ERR_AGAIN : SC_ERR_IO;
    }
}

sc_err_t sc_posix_send_recv(int fd, uint8_t src_ip[4], uint16_t *src_port, uint8_t *buf, size_t cap, size_t *len)
{
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    for (;;) {
        ssize_t r = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&from, &fl);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? SC_ERR_AGAIN : SC_ERR_IO;
        memcpy(src_ip, &from.sin_addr, 4);
        *src_port = ntohs(from.sin_port);
        /* MSG_TRUNC reports the real length: an oversized datagram must not look like a
         * valid 11-byte ack or a complete JSON reply. */
        *len = (size_t)r;
        return SC_OK;
    }
}

sc_err_t sc_posix_send_token(sc_posix_send_net_t *n, const uint8_t ip[4], const void *buf, size_t len)
{
    if (n->token_fd < 0)
        return SC_ERR_STATE;
    struct sockaddr_in to = sin_of(ip, SC_TC8266_PORT);
    ssize_t r = sendto(n->token_fd, buf, len, 0, (struct sockaddr *)&to, sizeof to);
    return r == (ssize_t)len ? SC_OK : SC_ERR_IO;
}
