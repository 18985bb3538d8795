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
} sc_posix_udp_t;

/* Fills the HAL table; every slot starts free. */
void sc_posix_udp_init(sc_posix_udp_t *u, sc_hal_udp_t *hal);
/* Appends one pollfd (POLLIN) per open socket; returns how many were written (at most max). */
size_t sc_posix_udp_pollfds(const sc_posix_udp_t *u, struct pollfd *pfd, size_t max);
/* Closes every socket still open. */
void sc_posix_udp_close_all(sc_posix_udp_t *u);

#ifdef __cplusplus
}
#endif
#endif
