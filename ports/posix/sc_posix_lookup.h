/* SPDX-License-Identifier: Apache-2.0 */
/* A host name lookup that never holds its caller: getaddrinfo on a detached thread of its own,
 * which the caller polls and may give up on at any time (a stop, a bound of its own). A DNS
 * server that does not answer makes glibc's getaddrinfo wait its timeout for each attempt (5 s x
 * 2 with resolv.conf's defaults): on a loop that serves other work, or before a stop could begin,
 * that held everything else for that long. Used by the MQTT port (mqtt_mosquitto.c: the broker's
 * name, libmosquitto then handed the address) and by the local cloud (its broker, RabbitMQ
 * nodes, auth sources). The thread holds the name and its answer only, nothing secret, and
 * takes no signal. */
#ifndef SC_POSIX_LOOKUP_H
#define SC_POSIX_LOOKUP_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* At most this many of a name's addresses are kept. */
#define SC_POSIX_ADDRS_MAX 16
typedef char sc_posix_addr_t[80];   /* a numeric address, with an IPv6 scope's interface name */

typedef struct sc_posix_lookup sc_posix_lookup_t;

/* Begins looking host up: its distinct addresses for a TCP connect, numeric, in the resolver's
 * order (AF_UNSPEC, no AI_ADDRCONFIG: libmosquitto's own lookup's hints). A numeric host is
 * done at once, without a thread. NULL: out of memory, or no thread could start. */
sc_posix_lookup_t *sc_posix_lookup_start(const char *host);
/* -1 while the lookup runs. Then the count of the name's addresses (0: it failed, *why says
 * why, in the resolver's words), the first max of them copied to out. */
int sc_posix_lookup_poll(const sc_posix_lookup_t *l, sc_posix_addr_t *out, int max, const char **why);
/* true when the host was an address (done at once, no resolver asked). */
bool sc_posix_lookup_numeric(const sc_posix_lookup_t *l);
/* The caller is done with l, finished or not: a lookup still waiting on the resolver ends on
 * its own thread, which frees it. NULL: nothing. */
void sc_posix_lookup_drop(sc_posix_lookup_t *l);

#ifdef __cplusplus
}
#endif

#endif
