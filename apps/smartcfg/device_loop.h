/* SPDX-License-Identifier: Apache-2.0 */
/* Hook for front-ends that share `smartcfg device`'s main loop (the AT front-end, `--at TTY`):
 * register a descriptor and it is poll()ed together with the radio and the UDP sockets; the
 * callback runs with the device when the descriptor is ready. Register before the loop runs
 * (from option parsing) or from a callback. */
#ifndef SMARTCFG_DEVICE_LOOP_H
#define SMARTCFG_DEVICE_LOOP_H

#include "smartcfg/device.h"

#define DEVICE_LOOP_MAX_FDS 8

typedef void (*device_loop_fd_cb)(void *user, int fd, short revents, sc_device_t *dev, uint32_t now_ms);

/* 0 = registered, -1 = table full or bad fd. */
int device_loop_add_fd(int fd, short events, device_loop_fd_cb cb, void *user);
void device_loop_remove_fd(int fd);

#endif
