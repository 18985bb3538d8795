/* SPDX-License-Identifier: Apache-2.0 */
/* A host name lookup that never holds its caller (cloud_lookup.c): getaddrinfo on a thread of
 * its own, which the caller polls and may give up on at any time (a stop). A DNS server that
 * does not answer makes glibc's getaddrinfo wait its timeout for each attempt (5 s x 2 with the
 * defaults of resolv.conf); on the cloud's main loop, or before a client's stop could begin,
 * that held everything else for that long (docs/cloud.md, "A broker given by name"). Internal
 * to apps/cloud. */
#ifndef SMARTCFG_APPS_CLOUD_LOOKUP_H
#define SMARTCFG_APPS_CLOUD_LOOKUP_H

/* At most this many of a name's addresses are kept. */
#define CLOUD_ADDRS_MAX 16
typedef char cloud_addr_t[80];   /* a numeric address, with an IPv6 scope's interface name */

typedef struct cloud_lookup cloud_lookup_t;

/* Begins looking host up: its distinct addresses for a TCP connect, numeric, in the resolver's
 * order (AF_UNSPEC, no AI_ADDRCONFIG: libmosquitto's own lookup's hints). A numeric host is
 * done at once, without a thread. NULL: out of memory, or no thread could start. */
cloud_lookup_t *cloud_lookup_start(const char *host);
/* -1 while the lookup runs. Then the count of the name's addresses (0: it failed, *why says
 * why, in the resolver's words), the first max of them copied to out. */
int cloud_lookup_poll(const cloud_lookup_t *l, cloud_addr_t *out, int max, const char **why);
/* The caller is done with l, finished or not: a lookup still waiting on the resolver ends on
 * its own thread, which frees it. NULL: nothing. */
void cloud_lookup_drop(cloud_lookup_t *l);

#endif
