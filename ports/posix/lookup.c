/* SPDX-License-Identifier: Apache-2.0 */
/* Host name lookups off the caller's thread: see sc_posix_lookup.h. */
#include "sc_posix_lookup.h"

#include "sc_posix.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct sc_posix_lookup {
    atomic_int refs;     /* the caller's and the thread's: the last one out frees */
    atomic_bool done;    /* gai, n and addrs are final (written before, read after) */
    bool numeric;        /* host was an address: done at once */
    int gai;             /* getaddrinfo's result */
    int n;
    sc_posix_addr_t addrs[SC_POSIX_ADDRS_MAX];
    char host[];
};

static void unref(struct sc_posix_lookup *l)
{
    if (atomic_fetch_sub(&l->refs, 1) == 1)
        free(l);
}

/* flags 0, or AI_NUMERICHOST (never asks a resolver: false when host is a name) */
static bool resolve(struct sc_posix_lookup *l, int flags)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags };
    struct addrinfo *ai = NULL;
    l->gai = getaddrinfo(l->host, NULL, &hints, &ai);
    if (l->gai != 0)
        return false;
    l->n = 0;
    for (struct addrinfo *i = ai; i && l->n < SC_POSIX_ADDRS_MAX; i = i->ai_next) {
        char *a = l->addrs[l->n];
        if (getnameinfo(i->ai_addr, i->ai_addrlen, a, sizeof l->addrs[0], NULL, 0, NI_NUMERICHOST) != 0)
            continue;
        bool dup = false;
        for (int k = 0; k < l->n && !dup; k++)
            dup = !strcmp(l->addrs[k], a);
        l->n += !dup;
    }
    freeaddrinfo(ai);
    if (l->n == 0)
        l->gai = EAI_NODATA;
    return l->n > 0;
}

static void *run(void *arg)
{
    struct sc_posix_lookup *l = arg;
    resolve(l, 0);
    atomic_store(&l->done, true);
    unref(l);
    return NULL;
}

sc_posix_lookup_t *sc_posix_lookup_start(const char *host)
{
    size_t hl = strlen(host);
    struct sc_posix_lookup *l = malloc(sizeof *l + hl + 1);
    if (!l)
        return NULL;
    memcpy(l->host, host, hl + 1);
    l->n = 0;
    atomic_init(&l->done, false);
    atomic_init(&l->refs, 1);
    l->numeric = resolve(l, AI_NUMERICHOST);
    if (l->numeric || l->gai != EAI_NONAME) {   /* an address: no resolver asked */
        atomic_store(&l->done, true);
        return l;
    }
    atomic_store(&l->refs, 2);
    pthread_attr_t at;
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    /* The thread takes no signal (it inherits this mask): a stop signal goes to a thread that
     * acts on it. Detached: a lookup given up on ends without anyone's join. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool made = false;
    if (pthread_attr_init(&at) == 0) {
        made = pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) == 0 && pthread_create(&t, &at, run, l) == 0;
        pthread_attr_destroy(&at);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!made) {
        free(l);
        return NULL;
    }
    return l;
}

int sc_posix_lookup_poll(const sc_posix_lookup_t *l, sc_posix_addr_t *out, int max, const char **why)
{
    if (!atomic_load(&((sc_posix_lookup_t *)l)->done))
        return -1;
    for (int i = 0; i < l->n && i < max; i++)
        memcpy(out[i], l->addrs[i], sizeof out[i]);
    if (why)
        *why = l->n ? "" : gai_strerror(l->gai);
    return l->n;
}

bool sc_posix_lookup_numeric(const sc_posix_lookup_t *l)
{
    return l->numeric;
}

void sc_posix_lookup_drop(sc_posix_lookup_t *l)
{
    if (l)
        unref(l);
}

void sc_posix_name_begin(sc_posix_name_t *nm, const char *host)
{
    if (nm->lk == NULL) {
        nm->lk = sc_posix_lookup_start(host);
        nm->t0 = sc_posix_now_ms();
    }
}

int sc_posix_name_refresh(sc_posix_name_t *nm, const char *host, int wait_ms, const char **why)
{
    const char *w = "cannot start its lookup (out of memory or threads)";
    sc_posix_name_begin(nm, host);
    sc_posix_addr_t got[SC_POSIX_ADDRS_MAX];
    int n = nm->lk ? sc_posix_lookup_poll(nm->lk, got, SC_POSIX_ADDRS_MAX, &w) : 0;
    if (n < 0 && (uint32_t)(sc_posix_now_ms() - nm->t0) < (uint32_t)wait_ms)
        return -1;
    if (n >= 0) {
        sc_posix_lookup_drop(nm->lk);
        nm->lk = NULL;
    }
    if (n > 0) {
        nm->naddrs = n < SC_POSIX_ADDRS_MAX ? n : SC_POSIX_ADDRS_MAX;
        memcpy(nm->addrs, got, (size_t)nm->naddrs * sizeof got[0]);
        return 1;
    }
    if (n < 0)
        w = "no answer from the resolver";   /* nm->lk still set: it goes on */
    if (why)
        *why = w;
    return 0;
}

void sc_posix_name_free(sc_posix_name_t *nm)
{
    sc_posix_lookup_drop(nm->lk);
    nm->lk = NULL;
}
