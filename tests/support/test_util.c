/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

/* A loopback port for a test server, leased exactly as tests/integration/lib/free_port.py
 * leases them (read its header for why): below the kernel's ephemeral range, so no outgoing
 * connection is ever given it between our check and the server's bind; free for TCP and UDP
 * when handed out; one lease file per port (O_EXCL, holding our pid) shared by every test
 * running at the same time; a lease whose owner died is taken over. */
#define TU_PORT_LEASES "/tmp/smartcfg-test-ports"

static int tu_bindable(uint16_t port)
{
    static const int kinds[2] = { SOCK_STREAM, SOCK_DGRAM };
    for (int k = 0; k < 2; k++) {
        int s = socket(AF_INET, kinds[k], 0);
        if (s < 0)
            return 0;
        int one = 1;
        if (kinds[k] == SOCK_STREAM)
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        int ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (!ok)
            return 0;
    }
    return 1;
}

static int tu_lease(uint16_t port)
{
    char path[64];
    snprintf(path, sizeof path, TU_PORT_LEASES "/%u", (unsigned)port);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            char pid[24];
            int n = snprintf(pid, sizeof pid, "%ld", (long)getpid());
            int ok = write(fd, pid, (size_t)n) == n;
            close(fd);
            return ok;
        }
        if (errno != EEXIST)
            return 0;
        char buf[24] = "";
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(buf, sizeof buf, f))
                buf[0] = '\0';
            fclose(f);
        }
        long held = strtol(buf, NULL, 10);
        if (held > 0 && (kill((pid_t)held, 0) == 0 || errno == EPERM))
            return 0;
        unlink(path); /* stale: its owner is gone */
    }
    return 0;
}

static uint16_t tu_kernel_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

uint16_t tu_free_port(void)
{
    unsigned lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2)
            lo = 32768;
        fclose(f);
    }
    if (lo < 16000 + 2000)
        return tu_kernel_port(); /* no room below the ephemeral range: the plain way */
    mkdir(TU_PORT_LEASES, 01777);
    chmod(TU_PORT_LEASES, 01777);
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int i = 0; i < 10000; i++) {
        seed = seed * 1103515245u + 12345u;
        uint16_t p = (uint16_t)(16000 + (seed >> 8) % (lo - 16000));
        if (!tu_lease(p))
            continue;
        if (tu_bindable(p))
            return p;
        char path[64];
        snprintf(path, sizeof path, TU_PORT_LEASES "/%u", (unsigned)p);
        unlink(path);
    }
    fail_msg("tu_free_port: no free port");
    return 0;
}

void tu_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

sc_err_t tu_store_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len)
{
    (void)key;
    const tu_store_t *s = ctx;
    if (!s->has)
        return SC_ERR_NOTFOUND;
    if (s->len > cap)
        return SC_ERR_NOSPACE;
    memcpy(buf, s->val, s->len);
    *len = s->len;
    return SC_OK;
}

sc_err_t tu_store_put(void *ctx, const char *key, const void *buf, size_t len)
{
    (void)key;
    tu_store_t *s = ctx;
    if (len > sizeof s->val)
        return SC_ERR_NOSPACE;
    memcpy(s->val, buf, len);
    s->len = len;
    s->has = true;
    return SC_OK;
}

int tu_fresh_path(char path[64], const char *prefix)
{
    if (snprintf(path, 64, "/tmp/%s-XXXXXX", prefix) >= 64)
        return -1;
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    return 0;
}

void tu_unlink_sqlite(const char *path)
{
    char p[PATH_MAX];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

int tu_rm_rf(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

bool tu_port_open(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return false;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

pid_t tu_mosquitto(const char *bin, const char *dir, uint16_t *port, bool anonymous, const char *extra)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        uint16_t p = *port ? *port : tu_free_port();
        char conf[256];
        snprintf(conf, sizeof conf, "%s/%u.conf", dir, p);
        FILE *f = fopen(conf, "w");
        if (f == NULL)
            return -1;
        fprintf(f, "listener %u 127.0.0.1\nallow_anonymous %s\npersistence false\nlog_dest none\n%s", p,
                anonymous ? "true" : "false", extra);
        fclose(f);
        pid_t pid = fork();
        if (pid == 0) {
            execl(bin, "mosquitto", "-c", conf, (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 100; i++) {
            if (tu_port_open(p)) {
                *port = p;
                return pid;
            }
            if (waitpid(pid, NULL, WNOHANG) == pid)
                break;   /* lost a race for the port (or a restart on it too soon): again */
            tu_sleep_ms(50);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        tu_sleep_ms(200);
    }
    return -1;
}
