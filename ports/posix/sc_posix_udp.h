/* SPDX-License-Identifier: Apache-2.0 */
/* UDP HAL table over BSD sockets: non-blocking datagram sockets in a small handle table, so the
 * core sees small integers and the main loop can poll() the descriptors. */
#ifndef SC_POSIX_UDP_H
#define SC_POSIX_UDP_H

#include <poll.h>

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_POSIX_UDP_MAX 16

typedef struct {
    int fd[SC_POSIX_UDP_MAX];   /* -1 = free slot */
    unsigned long sent, received, truncated, send_errors;
    const sc_hal_sys_t *sys;    /* optional: says who holds a port a bind found taken */
} sc_posix_udp_t;

/* Fills the HAL table; every slot starts free. */
void sc_posix_udp_init(sc_posix_udp_t *u, sc_hal_udp_t *hal);
/* Appends one pollfd (POLLIN) per open socket; returns how many were written (at most max). */
size_t sc_posix_udp_pollfds(const sc_posix_udp_t *u, struct pollfd *pfd, size_t max);
/* The uid of a socket already bound to UDP `port` on `ip` (NULL or 0.0.0.0: any address) or on
 * the wildcard address, from /proc/net/udp, else an IPv6 one on [::] or ::ffff:ip from
 * /proc/net/udp6; another user's socket is preferred to our own.
 * -1 when none is seen (or /proc is not there). For errors that say who holds a port. */
long sc_posix_udp_port_holder(const uint8_t *ip, uint16_t port);
/* " (held by uid N, another user)" / " (held by another socket of ours)" / "" into out. */
void sc_posix_udp_holder_text(char *out, size_t cap, const uint8_t *ip, uint16_t port);
/* Closes every socket still open. */
void sc_posix_udp_close_all(sc_posix_udp_t *u);

#ifdef __cplusplus
}
#endif
#endif
