/* SPDX-License-Identifier: Apache-2.0 */
/* Virtual radio for machines without a Wi-Fi card: a UDP socket on the ESP-TOUCH port stands in
 * for the air. Each datagram becomes the frame a sniffer would capture when the AP relays it
 * (FromDS, addr1 = group destination, addr2 = BSSID, addr3 = sender), with the length the
 * chosen cipher gives it, so the real decoder runs unchanged on a plain LAN or on loopback. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_posix_radio.h"
#include "sc_posix_udp.h"

sc_err_t sc_posix_radio_udp_open(sc_posix_radio_t *r, uint16_t port, char *errbuf, size_t errlen);
void sc_posix_radio_udp_close(sc_posix_radio_t *r);
int sc_posix_radio_udp_read(sc_posix_radio_t *r, uint32_t now_ms, sc_frame_t *f, char *errbuf, size_t errlen);

#define MAX_MSDU 2304 /* 802.11 MSDU limit: a bigger datagram is never one frame */

uint16_t sc_posix_vradio_overhead(sc_cipher_t cipher, bool qos, bool fcs)
{
    unsigned o = qos ? 26 : 24;  /* MAC header, 3 addresses */
    switch (cipher) {
    case SC_CIPHER_WEP: o += 8; break;   /* IV + ICV */
    case SC_CIPHER_TKIP: o += 20; break; /* IV/ExtIV + MIC + ICV */
    case SC_CIPHER_CCMP: o += 16; break; /* header + MIC */
    case SC_CIPHER_GCMP: o += 24; break; /* header + 16-byte MIC */
    default: break;
    }
    o += 8 + 20 + 8; /* LLC/SNAP, IPv4, UDP */
    if (fcs)
        o += 4;
    return (uint16_t)o;
}

void sc_posix_vradio_frame(sc_posix_radio_t *r, const uint8_t src[4], const uint8_t dst[4], size_t payload_len,
                           sc_frame_t *f)
{
    memset(f, 0, sizeof *f);
    f->kind = SC_FRAME_80211;
    f->len = (uint16_t)(payload_len + sc_posix_vradio_overhead(r->v.cipher, r->v.qos, r->v.fcs));
    f->fcs = r->v.fcs ? 1 : 0;
    f->fc = 0x0008u | SC_FC_FROMDS; /* type 2 = data */
    if (r->v.qos)
        f->fc |= 0x0080u;           /* subtype 8 = QoS data */
    if (r->v.cipher != SC_CIPHER_OPEN)
        f->fc |= SC_FC_PROTECTED;
    f->seq_ctrl = (uint16_t)((r->seq++ & 0x0fffu) << 4);
    f->rssi = -50;
    f->channel = r->channel;
    if (dst[0] >= 224 && dst[0] <= 239) {
        /* RFC 1112: 01:00:5e + the low 23 bits of the group address */
        f->addr1[0] = 0x01;
        f->addr1[1] = 0x00;
        f->addr1[2] = 0x5e;
        f->addr1[3] = dst[1] & 0x7f;
        f->addr1[4] = dst[2];
        f->addr1[5] = dst[3];
    } else {
        /* Broadcast, and unicast too: on this virtual medium every datagram to the port is
         * "on the air" for the sniffer. */
        memset(f->addr1, 0xff, SC_MAC_LEN);
    }
    memcpy(f->addr2, r->v.bssid, SC_MAC_LEN);
    /* A stable station MAC per sender address: one phone, one stream. */
    f->addr3[0] = 0x02;
    f->addr3[1] = 0x53;
    memcpy(f->addr3 + 2, src, 4);
}

static void join_groups(sc_posix_radio_t *r)
{
    /* The reference sender's multicast mode rotates over 234.n.n.n, n = 1..100. A socket may
     * hold 20 memberships by default (igmp_max_memberships), so helper sockets bound to
     * other ports hold them; the port socket receives for every group joined on the host
     * (IP_MULTICAST_ALL, on by default). No multicast route (loopback-only hosts): broadcast
     * mode still works. */
    unsigned ifindex = r->v.mcast_iface[0] ? if_nametoindex(r->v.mcast_iface) : 0;
    int n = 1, helper = 0;
    while (n <= 100 && helper < (int)(sizeof r->mcast_fds / sizeof r->mcast_fds[0])) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return;
        r->mcast_fds[helper++] = fd;
        for (int k = 0; k < 20 && n <= 100; k++, n++) {
            struct ip_mreqn m;
            memset(&m, 0, sizeof m);
            uint8_t g[4] = { 234, (uint8_t)n, (uint8_t)n, (uint8_t)n };
            memcpy(&m.imr_multiaddr.s_addr, g, 4);
            m.imr_ifindex = (int)ifindex;
            if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0)
                return;
            r->mcast_joined++;
        }
    }
}

sc_err_t sc_posix_radio_udp_open(sc_posix_radio_t *r, uint16_t port, char *errbuf, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(errbuf, errlen, "udp: socket: %s", strerror(errno));
        return SC_ERR_IO;
    }
    int one = 1;
    /* Several virtual-radio devices on one host each get a copy of every broadcast and
     * multicast datagram when they all set SO_REUSEPORT. Not SO_REUSEADDR: that let any
     * other user bind the port beside them and take the unicast datagrams (`send --dest`);
     * Linux shares a SO_REUSEPORT port only between sockets of the same effective uid. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        char who[64] = "";
        if (e == EADDRINUSE)
            sc_posix_udp_holder_text(who, sizeof who, NULL, port);
        snprintf(errbuf, errlen, "udp: cannot bind port %u: %s%s", port, strerror(e), who);
        close(fd);
        return SC_ERR_IO;
    }
    r->fd = fd;
    r->port = port;
    join_groups(r);
    if (r->sys && r->sys->log) {
        char line[128];
        snprintf(line, sizeof line, "radio: virtual radio on UDP %u (%d multicast groups joined)", port,
                 r->mcast_joined);
        r->sys->log(r->sys->ctx, SC_LOG_DEBUG, line);
    }
    return SC_OK;
}

void sc_posix_radio_udp_close(sc_posix_radio_t *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    for (size_t i = 0; i < sizeof r->mcast_fds / sizeof r->mcast_fds[0]; i++) {
        if (r->mcast_fds[i] >= 0)
            close(r->mcast_fds[i]);
        r->mcast_fds[i] = -1;
    }
}

static bool chance(sc_posix_radio_t *r, double p)
{
    if (p <= 0)
        return false;
    uint32_t x = 0;
    if (r->sys && r->sys->random)
        r->sys->random(r->sys->ctx, &x, sizeof x);
    return (double)x / 4294967296.0 < p;
}

static uint32_t random_below(sc_posix_radio_t *r, uint32_t n)
{
    uint32_t x = 0;
    if (r->sys && r->sys->random)
        r->sys->random(r->sys->ctx, &x, sizeof x);
    return n ? x % n : 0;
}

/* Takes the earliest due frame from the jitter queue. */
static bool dequeue_due(sc_posix_radio_t *r, uint32_t now_ms, sc_frame_t *f)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < r->qn; i++)
        if (sc_ms_reached(now_ms, r->q[i].due_ms) &&
            (best == SIZE_MAX || sc_ms_diff(r->q[i].due_ms, r->q[best].due_ms) < 0))
            best = i;
    if (best == SIZE_MAX)
        return false;
    *f = r->q[best].f;
    r->q[best] = r->q[--r->qn];
    return true;
}

bool sc_posix_radio_next_due(const sc_posix_radio_t *r, uint32_t *due_ms)
{
    if (r->kind != SC_POSIX_RADIO_UDP || r->qn == 0)
        return false;
    uint32_t best = r->q[0].due_ms;
    for (size_t i = 1; i < r->qn; i++)
        if (sc_ms_diff(r->q[i].due_ms, best) < 0)
            best = r->q[i].due_ms;
    *due_ms = best;
    return true;
}

static bool deliverable(sc_posix_radio_t *r, sc_frame_t *f)
{
    if (r->v.only_channel && r->channel != r->v.only_channel) {
        r->dropped_channel++;
        return false;
    }
    f->channel = r->channel; /* the frame is "on" the channel it is heard on */
    r->delivered++;
    return true;
}

int sc_posix_radio_udp_read(sc_posix_radio_t *r, uint32_t now_ms, sc_frame_t *f, char *errbuf, size_t errlen)
{
    for (;;) {
        if (dequeue_due(r, now_ms, f)) {
            if (deliverable(r, f))
                return 1;
            continue;
        }
        uint8_t buf[8];
        struct sockaddr_in from;
        union {
            char raw[CMSG_SPACE(sizeof(struct in_pktinfo))];
            struct cmsghdr align;
        } cbuf;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cbuf.raw, .msg_controllen = sizeof cbuf.raw };
        /* Only the length matters; MSG_TRUNC reports it whole from an 8-byte buffer. */
        ssize_t n = recvmsg(r->fd, &mh, MSG_TRUNC | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            snprintf(errbuf, errlen, "virtual radio: recv: %s", strerror(errno));
            return -1;
        }
        uint8_t dst[4] = { 255, 255, 255, 255 };
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                memcpy(dst, &pi.ipi_addr.s_addr, 4);
            }
        if ((size_t)n > MAX_MSDU) {
            r->dropped_oversize++;
            continue;
        }
        if (!r->promisc && r->promisc_called)
            continue; /* radio off: the air is not listened to */
        if (chance(r, r->v.loss)) {
            r->dropped_loss++;
            continue;
        }
        uint8_t src[4];
        memcpy(src, &from.sin_addr.s_addr, 4);
        sc_posix_vradio_frame(r, src, dst, (size_t)n, f);
        f->ts_us = (uint64_t)now_ms * 1000u;
        if (r->v.jitter_ms) {
            if (r->qn >= SC_POSIX_VRADIO_QUEUE) {
                r->dropped_queue++;
                continue;
            }
            r->q[r->qn].f = *f;
            r->q[r->qn].due_ms = now_ms + random_below(r, r->v.jitter_ms + 1);
            r->qn++;
            continue;
        }
        if (deliverable(r, f))
            return 1;
    }
}
