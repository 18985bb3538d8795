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
#include <stdint.h>

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

/* A name looked up again and again (a client's reconnects), its addresses kept from the last
 * lookup that gave any while a new one runs, fails, or has no answer yet: a DNS server gone
 * silent leaves a reconnect the addresses it had. Zero it to start; sc_posix_name_free at the end. */
typedef struct {
    sc_posix_lookup_t *lk;                     /* under way, or NULL */
    uint32_t t0;                               /* when it began (sc_posix_now_ms) */
    sc_posix_addr_t addrs[SC_POSIX_ADDRS_MAX]; /* of the last lookup that gave any */
    int naddrs;
} sc_posix_name_t;

/* Starts looking host up again, unless a lookup is under way. */
void sc_posix_name_begin(sc_posix_name_t *nm, const char *host);
/* Never waits: begins a lookup if none is under way; -1 while it is and began less than
 * wait_ms ago. Else 1 when it answered (addrs, naddrs: its answer), or 0 when it failed or has
 * had no answer for wait_ms (addrs stay the last good ones, naddrs maybe 0; *why says why, in
 * the resolver's words or "no answer from the resolver"; a lookup without an answer
 * goes on, nm->lk stays set, and its answer serves a later call). why may be NULL. */
int sc_posix_name_refresh(sc_posix_name_t *nm, const char *host, int wait_ms, const char **why);
/* Drops a lookup under way (it ends on its own thread). */
void sc_posix_name_free(sc_posix_name_t *nm);

#ifdef __cplusplus
}
#endif

#endif
