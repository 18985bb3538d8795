/* SPDX-License-Identifier: Apache-2.0 */
/* How closely `smartcfg send` keeps the reference timing (docs/protocol/esptouch-v1.md#timing) on an unloaded
 * loopback: the 8 ms gap after every datagram (mean, p50, p99, max, jitter = standard
 * deviation) and the 2 s guide / 4 s data phases. Runs the real command with --dest
 * 127.0.0.1 --no-token for 8.5 s and timestamps arrivals in the kernel (SO_TIMESTAMPNS).
 * Prints "BENCH <name> <value> <unit>" lines. Usage: bench_send_jitter [smartcfg-path]. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 4000

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    char exe[PATH_MAX];
    if (argc > 1) {
        snprintf(exe, sizeof exe, "%s", argv[1]);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return 1;
        self[n] = '\0';
        snprintf(exe, sizeof exe, "%s/../smartcfg", dirname(self));
    }
    /* A private network namespace (when allowed) keeps ports 7001/18266 away from anything
     * else on the host; its loopback must be brought up first. */
    if (unshare(CLONE_NEWNET) == 0) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
            ifr.ifr_flags |= IFF_UP;
            ioctl(s, SIOCSIFFLAGS, &ifr);
        }
        close(s);
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1, rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(7001) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa)) {
        perror("bench_send_jitter: bind 127.0.0.1:7001");
        return 1;
    }
    struct timeval tv = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(exe, exe, "send", "--ssid", "TP-LINK_2.4G", "--password", "12345678", "--bssid",
              "00:11:22:33:44:55", "--ip", "127.0.0.1", "--dest", "127.0.0.1", "--no-token", "--timeout", "8.5",
              "--json", (char *)NULL);
        perror("bench_send_jitter: exec smartcfg");
        _exit(127);
    }
    static double t[MAXN];
    static int len[MAXN];
    int n = 0;
    while (n < MAXN) {
        char buf[2048], ctl[256];
        struct iovec iov = { buf, sizeof buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
        ssize_t r = recvmsg(fd, &mh, 0);
        if (r < 0)
            break; /* 1 s of silence: the sender is done */
        struct timespec ts = { 0, 0 };
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
        t[n] = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
        len[n] = (int)r;
        n++;
    }
    int status;
    waitpid(pid, &status, 0);
    if (n < 100) {
        fprintf(stderr, "bench_send_jitter: only %d datagrams received\n", n);
        return 1;
    }
    static double gap[MAXN];
    double sum = 0, sq = 0;
    for (int i = 1; i < n; i++) {
        gap[i - 1] = t[i] - t[i - 1];
        sum += gap[i - 1];
    }
    int ng = n - 1;
    double mean = sum / ng;
    for (int i = 0; i < ng; i++)
        sq += (gap[i] - mean) * (gap[i] - mean);
    qsort(gap, (size_t)ng, sizeof gap[0], cmp_double);
    /* Phases: a guide phase runs from its first 515 to the first data datagram after it. */
    double guide_start[8], data_start[8];
    int ngs = 0, nds = 0;
    bool in_guide = false;
    for (int i = 0; i < n; i++) {
        bool g = len[i] >= 512;
        if (g && !in_guide && ngs < 8)
            guide_start[ngs++] = t[i];
        if (!g && in_guide && nds < 8)
            data_start[nds++] = t[i];
        in_guide = g;
    }
    printf("BENCH send_datagrams %d count\n", n);
    printf("BENCH send_gap_mean %.3f ms\n", mean);
    printf("BENCH send_gap_p50 %.3f ms\n", gap[ng / 2]);
    printf("BENCH send_gap_p99 %.3f ms\n", gap[(int)(ng * 0.99)]);
    printf("BENCH send_gap_max %.3f ms\n", gap[ng - 1]);
    printf("BENCH send_gap_jitter_stddev %.3f ms\n", sqrt(sq / ng));
    if (ngs >= 1 && nds >= 1)
        printf("BENCH send_guide_phase %.1f ms\n", data_start[0] - guide_start[0]);
    if (ngs >= 2 && nds >= 1)
        printf("BENCH send_data_phase %.1f ms\n", guide_start[1] - data_start[0]);
    if (ngs >= 2)
        printf("BENCH send_period %.1f ms\n", guide_start[1] - guide_start[0]);
    return 0;
}
