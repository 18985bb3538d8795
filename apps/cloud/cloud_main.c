/* SPDX-License-Identifier: Apache-2.0 */
/* `smartcfg cloud`: runs the local IoT Explorer stand-in in the foreground — a supervised
 * mosquitto with the smartcfg_auth plugin, the MQTT binding service and the HTTP API — until
 * SIGINT/SIGTERM, then stops everything it started. See docs/cloud.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "cli.h"
#include "cloud.h"
#include "cloud_health.h"
#include "cloud_metrics.h"
#include "cloud_ota.h"
#include "console.h"
#include "sc_posix.h"

/* A stop's whole wait (the out: label in main): the clients' 6 s, then mosquitto's share. */
#define STOP_BUDGET_MS 7000
#define RESTARTS_MAX 5        /* broker restarts within RESTART_WINDOW before giving up loudly */
#define RESTART_WINDOW 60

static volatile sig_atomic_t stop_signal;
/* Posted by the signal handler (sem_post is async-signal-safe) and at the main loop's end:
 * stop_watch sleeps on it rather than reading stop_signal, a handler's flag, from its thread. */
static sem_t watch_sem;

/* Readable from the first signal on (write is async-signal-safe): the main loop's binder polls
 * it beside the database's socket, so a signal ends its wait on a database gone without a
 * reset (a frozen host: TCP waits for good), which kept the loop from seeing the flag. */
static int stop_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    stop_signal = sig;
    int saved = errno;
    sem_post(&watch_sem);
    if (stop_pipe[1] >= 0)
        (void)!write(stop_pipe[1], "x", 1);
    errno = saved;
}

/* With --rabbitmq the main loop may sit in a wait of rabbitmq-c's on a node that does not
 * answer (a cut network: the worker count for --thing-rate once a second, a reconnect's login
 * and setup), which a signal does not end (it polls again) and only the heartbeat does, 20 s
 * after the node's last frame: the stop would start that late, past Docker's 10 s grace. This
 * thread cuts the connection's socket when the loop has not ended 1 s after the signal. */
static atomic_bool loop_done;

static void *stop_watch(void *arg)
{
    /* asleep until a signal or the loop's end (it polled every 50 ms for the worker's life) */
    while (sem_wait(&watch_sem) != 0 && errno == EINTR)
        continue;
    /* on the monotonic clock: sem_timedwait's, the wall clock, held the cut as long as a step
     * back in that second */
    struct timespec until = sc_posix_time_in(CLOCK_MONOTONIC, 1000);
    /* a second signal posts again: wait on, the loop still has its second */
    while (!atomic_load(&loop_done) && (sem_clockwait(&watch_sem, CLOCK_MONOTONIC, &until) == 0 || errno == EINTR))
        continue;
    if (!atomic_load(&loop_done)) {
        cloud_log("stopping: the worker still waits 1 s after the signal (on a RabbitMQ node that does not answer, or "
                  "the database); cutting its RabbitMQ connection (the node hands what it had not acknowledged to "
                  "the others)");
        cloud_amqp_cut(arg);
    }
    return NULL;
}

typedef struct {
    char host[256];
    uint16_t port;
} hostport_t;

/* A URL option's value that carries a password: kept (a copy), and the password blanked in argv
 * so /proc/<pid>/cmdline stops showing it (visible until then: the caller warns). *had: whether
 * there was one. NULL when out of memory. */
static const char *url_keep(char *arg, bool *had, int slot)
{
    static char *kept[2];   /* slot 0 --rabbitmq, 1 --rabbitmq-management: alive for the whole run */
    size_t len = 0;
    char *pw = sc_cli_url_password(arg, &len);
    *had = *had || pw;
    if (!pw)
        return arg;
    int i = slot;
    free(kept[i]);
    kept[i] = strdup(arg);
    memset(pw, 'x', len);
    return kept[i];
}

/* $SMARTCFG_RABBITMQ_PASSWORD into a --rabbitmq URL that has a user but no password
 * (amqp://USER@HOST...): the URL with it (NULL: out of memory); the URL itself when there is
 * nothing to add. */
static const char *amqp_with_env_password(const char *spec)
{
    static char *with;
    const char *env = getenv("SMARTCFG_RABBITMQ_PASSWORD");
    if (!env || !*env || strncmp(spec, "amqp://", 7))
        return spec;
    size_t n = strlen(spec) + 3 * strlen(env) + 2;
    free(with);
    if (!(with = malloc(n)))
        return NULL;
    return sc_cli_url_add_password(spec, env, with, n) == 0 ? with : spec;   /* n: it fits */
}

static int parse_hostport(const char *s, hostport_t *hp)
{
    const char *colon = strrchr(s, ':');
    const char *h = s, *hend = colon;
    if (!colon || colon == s)
        return -1;
    if (*s == '[') {   /* [v6]:port */
        h = s + 1;
        hend = colon - 1;
        if (hend < h || *hend != ']')
            return -1;
    }
    size_t hl = (size_t)(hend - h);
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (hl == 0 || hl >= sizeof hp->host || *end || errno || p < 1 || p > 65535 || colon[1] == 0)
        return -1;
    memcpy(hp->host, h, hl);
    hp->host[hl] = 0;
    hp->port = (uint16_t)p;
    return 0;
}

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return (mkdir(buf, 0700) == 0 || errno == EEXIST) ? 0 : -1;
}

static void store_log(const char *msg)
{
    cloud_log("database: %s", msg);
}

static int default_db(char *out, size_t len)
{
    const char *x = getenv("XDG_DATA_HOME");
    char dir[PATH_MAX];
    if (x && *x == '/') {
        snprintf(dir, sizeof dir, "%s/smartcfg", x);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home)
            return -1;
        snprintf(dir, sizeof dir, "%s/.local/share/smartcfg", home);
    }
    if (mkdirs(dir) != 0)
        return -1;
    return snprintf(out, len, "%s/cloud.db", dir) < (int)len ? 0 : -1;
}

/* The plugin is built next to the smartcfg binary (build/smartcfg_auth.so); installed layouts
 * keep it in ../lib/smartcfg/. SMARTCFG_AUTH_PLUGIN / --plugin override both. */
static int find_plugin(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    const char *cand[] = { "/smartcfg_auth.so", "/../lib/smartcfg/smartcfg_auth.so" };
    for (size_t i = 0; i < 2; i++) {
        if (snprintf(out, len, "%s%s", exe, cand[i]) >= (int)len)
            continue;
        if (access(out, R_OK) == 0) {
            char *r = realpath(out, NULL);
            if (r) {
                snprintf(out, len, "%s", r);
                free(r);
            }
            return 0;
        }
    }
    return -1;
}

typedef struct {
    hostport_t mqtt;          /* mosquitto's private plain listener (127.0.0.1:<free>) */
    uint16_t tls_port, psk_port;   /* its private TLS / TLS-PSK listeners; 0 = none */
    const cloud_tls_files_t *tls;
    char tmpdir[PATH_MAX], conf[PATH_MAX + 32];
    char mosquitto_bin[PATH_MAX];
    pid_t pid;
    int logfd;
    pthread_t logthread;
    bool logthread_running;
    char logbuf[4096];
    size_t loglen;
    int64_t restarts[RESTARTS_MAX];   /* cloud_now_ms(): a wall clock set back made old deaths recent */
    int nrestarts;
    int evfd;                 /* write end of the plugin's event pipe, kept across restarts */
} broker_t;

static int write_conf(broker_t *br, const char *plugin, const char *db, const char *user, const char *pass)
{
    snprintf(br->conf, sizeof br->conf, "%s/mosquitto.conf", br->tmpdir);
    int fd = cloud_create_private(br->conf, false);   /* holds the service password */
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return -1;
    struct passwd *pw = getpwuid(geteuid());
    fprintf(f, "# generated by smartcfg cloud; removed when it stops\n");
    /* As root mosquitto would switch to user "mosquitto", which cannot read the registry. */
    if (pw)
        fprintf(f, "user %s\n", pw->pw_name);
    /* max_connections stays unlimited here: the gate (cloud_gate.c) caps connections in
     * front of the broker. max_packet_size: IoT Explorer's 256 KiB; a bigger packet is
     * refused before mosquitto buffers it (F6). */
    fprintf(f, "per_listener_settings false\nallow_anonymous false\npersistence false\n"
               "max_connections -1\nmax_queued_messages 10000\nset_tcp_nodelay true\n"
               "max_packet_size %u\n", CLOUD_MQTT_PACKET_MAX);
    fprintf(f, "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
               "log_timestamp false\nconnection_messages false\n");
    fprintf(f, "listener %u %s\n", br->mqtt.port, br->mqtt.host);
    if (br->tls_port)
        fprintf(f, "listener %u 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\ntls_version tlsv1.2\n",
                br->tls_port, br->tls->ca, br->tls->cert, br->tls->key);
    if (br->psk_port)   /* keys come from the plugin (MOSQ_EVT_PSK_KEY), not from a psk_file */
        fprintf(f, "listener %u 127.0.0.1\npsk_hint smartcfg\ntls_version tlsv1.2\n", br->psk_port);
    fprintf(f, "plugin %s\nplugin_opt_registry %s\nplugin_opt_service_user %s\nplugin_opt_service_password %s\n"
               "plugin_opt_event_fd 3\n",
            plugin, db, user, pass);
    return fclose(f) == 0 ? 0 : -1;
}

/* A port the kernel says is free on 127.0.0.1 now (mosquitto binds it a moment later), and
 * none of the public ports we were asked for: those are bound only later, so the kernel may
 * well offer one of them. */
static uint16_t free_port(const uint16_t *avoid, int navoid)
{
    for (int tries = 0; tries < 16; tries++) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof sin;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        uint16_t p = 0;
        if (s >= 0 && bind(s, (struct sockaddr *)&sin, sizeof sin) == 0 &&
            getsockname(s, (struct sockaddr *)&sin, &sl) == 0)
            p = ntohs(sin.sin_port);
        if (s >= 0)
            close(s);
        bool clash = false;
        for (int i = 0; i < navoid; i++)
            clash = clash || p == avoid[i];
        if (!clash)
            return p;
    }
    return 0;
}

static int port_open(const hostport_t *hp)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", hp->port);
    if (getaddrinfo(hp->host, ps, &hints, &ai) != 0)
        return 0;
    int ok = 0;
    int s = socket(ai->ai_family, SOCK_STREAM, 0);
    if (s >= 0) {
        ok = connect(s, ai->ai_addr, ai->ai_addrlen) == 0;
        close(s);
    }
    freeaddrinfo(ai);
    return ok;
}

/* mosquitto's log comes through a pipe and goes to stderr as it is: it is for humans. The
 * plugin's events come as JSON records on a pipe of their own (plugin_event_reader). */
static void broker_log_line(char *line)
{
    /* the plugin's refusal lines, one per bad login or topic: a flood's volume (cloud.h) */
    if ((strstr(line, "smartcfg_auth: connect_refused") || strstr(line, "smartcfg_auth: acl_refused")) &&
        !cloud_refusal_allow(CLOUD_REFUSAL_LOG))
        return;
    cloud_log("mosquitto: %s", line);
}

/* The plugin's event records: one JSON object per line, {"event": name, ...string fields}
 * (docs/cloud.md, "Plugin events"). Only the names the plugin is known to send are passed on,
 * so a record can never impersonate another part of the cloud. Runs in its own thread for the
 * same reason as the log reader (a full pipe would stall the broker); ends at EOF, when the
 * cloud closes the write end at shutdown. */
static void plugin_event(char *line)
{
    static const char *const known[] = { "device_connected", "device_refused", "topic_refused" };
    cJSON *o = cJSON_Parse(line);
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
    char name[32] = "";
    if (cJSON_IsString(ev))
        snprintf(name, sizeof name, "%s", ev->valuestring);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (cJSON_IsObject(o) && !strcmp(name, known[i])) {
            if (i < 2)   /* every login, also those past the events' budget */
                cloud_metrics_inc(i == 0 ? CLOUD_M_MQTT_LOGIN_OK : CLOUD_M_MQTT_LOGIN_REFUSED);
            if (i > 0 && !cloud_refusal_allow(i == 1 ? CLOUD_REFUSAL_LOGIN : CLOUD_REFUSAL_TOPIC)) {   /* cloud.h */
                cJSON_Delete(o);
                return;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(o, "event");
            cloud_event(known[i], o);
            return;
        }
    }
    cJSON_Delete(o);
    cloud_log("smartcfg_auth sent an event record we do not know; ignored");
}

static void *plugin_event_reader(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        len += (size_t)n;
        buf[len] = 0;
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = 0;
            plugin_event(start);
            start = nl + 1;
        }
        len -= (size_t)(start - buf);
        memmove(buf, start, len);
        if (len == sizeof buf - 1)   /* the plugin never writes a line this long */
            len = 0;
    }
}

/* Runs in its own thread: mosquitto blocks when its log pipe is full, so the pipe must be
 * drained at once, not whenever the binding service's loop gets round to it (one log line
 * per CONNECT made 1 000 connects take seconds). Ends at EOF, i.e. when mosquitto exits. */
static void *broker_log_reader(void *arg)
{
    broker_t *br = arg;
    for (;;) {
        ssize_t n = read(br->logfd, br->logbuf + br->loglen, sizeof br->logbuf - 1 - br->loglen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (br->loglen) {
                br->logbuf[br->loglen] = 0;
                broker_log_line(br->logbuf);
                br->loglen = 0;
            }
            return NULL;
        }
        br->loglen += (size_t)n;
        br->logbuf[br->loglen] = 0;
        char *start = br->logbuf, *nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = 0;
            broker_log_line(start);
            start = nl + 1;
        }
        br->loglen -= (size_t)(start - br->logbuf);
        memmove(br->logbuf, start, br->loglen);
        if (br->loglen == sizeof br->logbuf - 1) {   /* overlong line: flush it as is */
            broker_log_line(br->logbuf);
            br->loglen = 0;
        }
    }
}

/* After mosquitto exited: the reader sees EOF, flushes the last lines, and ends. */
static void broker_join_log(broker_t *br)
{
    if (br->logthread_running)
        pthread_join(br->logthread, NULL);
    br->logthread_running = false;
    if (br->logfd >= 0)
        close(br->logfd);
    br->logfd = -1;
}

static int broker_spawn(broker_t *br, char *err, size_t errlen)
{
    int fds[2];
    /* mosquitto (and its restarts) inherit our environment: not the variables of the cloud's
     * own secrets, which no mosquitto of ours uses (only --rabbitmq and --broker read them, and
     * neither starts one); $PGPASSWORD stays: the plugin's libpq reads it (F181) */
    sc_cli_env_drop("SMARTCFG_RABBITMQ_PASSWORD");
    sc_cli_env_drop("SMARTCFG_SERVICE_PASSWORD");
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive us, even after kill -9 */
#endif
        setpgid(0, 0);                      /* Ctrl-C reaches us; we stop the broker in order */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        /* The plugin's event pipe is descriptor 3 in the broker (plugin_opt_event_fd 3). */
        if (br->evfd == 3)
            fcntl(3, F_SETFD, 0);
        else
            dup2(br->evfd, 3);
        /* The broker must not hold our HTTP listener, database or service socket open
         * (a restarted broker would otherwise inherit the old service connection). */
        long maxfd = sysconf(_SC_OPEN_MAX);
        for (long fd = 4; fd < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); fd++)
            close((int)fd);
        execl(br->mosquitto_bin, br->mosquitto_bin, "-c", br->conf, (char *)NULL);
        /* not stdio: the child of a threaded process, and the output writer thread
         * (ports/posix/output.c) may have held stderr's lock when we forked */
        dprintf(2, "cannot run %s: %s\n", br->mosquitto_bin, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    br->logfd = fds[0];
    br->loglen = 0;
    br->pid = pid;
    br->logthread_running = pthread_create(&br->logthread, NULL, broker_log_reader, br) == 0;
    /* Ready when the listener accepts; a config or plugin error makes it exit instead. */
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            br->pid = 0;
            broker_join_log(br);
            snprintf(err, errlen, "mosquitto exited at start (status %d); its log is above", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            return -1;
        }
        if (port_open(&br->mqtt))
            return 0;
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    snprintf(err, errlen, "mosquitto did not open %s:%u within 5 s", br->mqtt.host, br->mqtt.port);
    return -1;
}

/* SIGTERM, and SIGKILL when it has not ended within wait_ms (its configuration has no
 * persistence: nothing of it is lost that way). */
static void broker_stop(broker_t *br, int wait_ms)
{
    if (br->pid > 0) {
        kill(br->pid, SIGTERM);
        for (int i = 0; i < wait_ms / 100; i++) {
            if (waitpid(br->pid, NULL, WNOHANG) == br->pid) {
                br->pid = 0;
                break;
            }
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);
        }
        if (br->pid > 0) {
            kill(br->pid, SIGKILL);
            waitpid(br->pid, NULL, 0);
            br->pid = 0;
        }
    }
    broker_join_log(br);
}

/* The whole of s as a decimal number within lo..hi: the test every numeric option here makes. */
static bool num_in(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static void usage(const sc_cli_t *cli, FILE *f)
{
    (void)cli;
    fprintf(f,
            "usage: smartcfg cloud [--http HOST:PORT] [--mqtt HOST:PORT] [--broker HOST:PORT] [--db DB]\n"
            "                      [--token-ttl SECONDS] [--plugin FILE] [--mosquitto FILE] [--json]\n"
            "                      [--admin-key-file FILE] [--tls] [--mqtts HOST:PORT] [--mqtt-psk HOST:PORT]\n"
            "                      [--tls-dir DIR] [--mqtt-per-address N] [--connect-timeout SECONDS]\n"
            "                      [--http-per-address N] [--token-rate N] [--thing-rate N] [--token-gc SECONDS]\n"
            "                      [--db-wait SECONDS] [--rabbitmq URL] [--queue NAME] [--thing-queue NAME]\n"
            "                      [--prefetch N] [--http-threads N] [--rabbitmq-auth-from LIST]\n"
            "                      [--rabbitmq-management URL] [--rabbitmq-cache-ttl MS] [--console-link]\n"
            "Runs a local IoT Explorer stand-in until SIGINT/SIGTERM (docs/cloud.md).\n"
            "  --http HOST:PORT    app token API, /register/dev and admin API (default 127.0.0.1:8080)\n"
            "  --mqtt HOST:PORT    listener of the mosquitto we start (default 127.0.0.1:1883)\n"
            "  --broker HOST:PORT  use a running mosquitto with smartcfg_auth loaded instead; the service\n"
            "                      identity comes from SMARTCFG_SERVICE_USER / SMARTCFG_SERVICE_PASSWORD\n"
            "  --rabbitmq URL      amqp://USER:PASSWORD@HOST:PORT[,HOST:PORT...][/VHOST] (amqp://USER@...:\n"
            "                      the password from $SMARTCFG_RABBITMQ_PASSWORD, out of argv): be a stateless\n"
            "                      worker of a RabbitMQ cluster instead of running mosquitto: consume bind\n"
            "                      requests and the data template, system time and gateway topics from quorum\n"
            "                      queues, answer RabbitMQ's HTTP auth backend on --http (/rabbitmq/...), fail\n"
            "                      over along the node list (docs/scale.md)\n"
            "  --rabbitmq-auth-from LIST\n"
            "                      HOST[,HOST...]: the only sources whose auth questions are answered,\n"
            "                      addresses or host names (default: the --rabbitmq nodes' hosts, 127.0.0.1\n"
            "                      and ::1; others get 403)\n"
            "  --rabbitmq-management URL\n"
            "                      http://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...], the nodes' management API:\n"
            "                      a device whose rights shrink (deleted; a gateway whose sub-device is deleted,\n"
            "                      unbound, offline) has its connections closed there, so it subscribes again\n"
            "                      under fresh checks (default user: the --rabbitmq one)\n"
            "  --rabbitmq-cache-ttl MS  the nodes' auth_cache.cache_ttl; closes wait that + 500 ms (default 2000)\n"
            "  --queue NAME        the workers' shared quorum queue of bind requests (default smartcfg.bind)\n"
            "  --thing-queue NAME  the one of the data template, system time and gateway topics (default smartcfg.thing)\n"
            "  --prefetch N        requests a worker holds unacked, also its commit batch (default 256)\n"
            "  --http-threads N    HTTP threads, at least 2 (default 8 with --rabbitmq, else 4): RabbitMQ's auth\n"
            "                      questions run in parallel, each thread with its own database connection; the\n"
            "                      rest of the API one at a time, the health probes beside it\n"
            "  --db DB             registry: a SQLite FILE (not a directory) or sqlite:FILE\n"
            "                      (default $XDG_DATA_HOME/smartcfg/cloud.db),\n"
            "                      or postgresql://USER[:PASSWORD]@HOST:PORT/NAME (several workers on one database;\n"
            "                      a password in argv is visible to other users: ~/.pgpass or $PGPASSWORD)\n"
            "  --db-wait SECONDS   keep retrying an unreachable database server that long at start (default 30)\n"
            "  --token-ttl SECONDS bind token lifetime (default 600)\n"
            "  --plugin FILE       smartcfg_auth.so (default: next to this binary, else its ../lib/smartcfg/)\n"
            "  --mosquitto FILE    broker binary (default: mosquitto from PATH, then /usr/sbin/mosquitto)\n"
            "  --json              one JSON event per line on stdout; the human log stays on stderr\n"
            "  --admin-key-file FILE  admin API key (made, 0600, at first start; default: admin.key beside --db)\n"
            "  --tls               HTTPS for the HTTP API (certificates from --tls-dir, made at first start)\n"
            "  --mqtts HOST:PORT   also an MQTT-over-TLS listener (IoT Explorer's 8883)\n"
            "  --mqtt-psk HOST:PORT also a TLS-PSK listener (identity = client id, key = the device PSK)\n"
            "  --tls-dir DIR       CA, server certificate and key (default: tls/ beside --db); ours are made by\n"
            "                      a set clock only, the server's again at a start within 30 days of its end\n"
            "  --mqtt-per-address N  MQTT connections per source address (default 32)\n"
            "  --connect-timeout SECONDS  how long a new MQTT connection has to send CONNECT (default 10)\n"
            "  --http-per-address N  HTTP connections per source address (default 16)\n"
            "  --token-rate N      bind tokens per account per minute (default 60, bursts of 20)\n"
            "  --thing-rate N      data template, system time and gateway messages per device per second\n"
            "                      (default 30, IoT Explorer's; bursts of 2 x N; over it: code 429 or dropped;\n"
            "                      with --rabbitmq, for the cluster: each worker its part)\n"
            "  --token-gc SECONDS  an expired token is deleted that long after expiry (default 10 x ttl, <= 3600)\n"
            "  --console-link      print a one-time console login link at start (stderr, or console_url in the\n"
            "                      ready event): an admin credential for an hour, so not by default; any time:\n"
            "                      POST /v1/console/login with the admin key\n"
            "  -h, --help          this text;  --version  the version\n"
            "operators (docs/cloud.md \"Health and metrics\"): GET /healthz (the process serves) and /readyz\n"
            "  (200 when the registry and the broker side are up, else 503 {\"ready\":false,\"reason\":...}), no key;\n"
            "  GET /metrics (Prometheus text, this process's counters) with Authorization: Bearer <admin key>\n"
            "exit: 0 stopped by SIGINT/SIGTERM/SIGHUP, 1 setup failure, 2 usage error, 5 mosquitto kept dying\n"
            "      (5 times within 60 s) or could not be restarted\n\n"
            "examples:\n"
            "  # a cloud on free loopback ports, events as JSON\n"
            "  smartcfg cloud --http 127.0.0.1:8080 --mqtt 127.0.0.1:1883 --db ./cloud.db --json\n"
            "  # what a load balancer or systemd asks of it: is this worker ready?\n"
            "  curl -fsS http://127.0.0.1:8080/readyz\n"
            "  # HTTPS API and an MQTT-over-TLS listener\n"
            "  smartcfg cloud --tls --mqtts 127.0.0.1:8883\n");
}

static int find_mosquitto(char *out, size_t len)
{
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s:/usr/sbin:/usr/local/sbin", path ? path : "/usr/bin");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/mosquitto", d);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

int cmd_cloud(int argc, char **argv)
{
    struct timespec started;   /* /metrics: smartcfg_cloud_start_time_seconds */
    clock_gettime(CLOCK_REALTIME, &started);
    hostport_t http = { "127.0.0.1", 8080 }, ext = { "", 0 };
    broker_t br = { .mqtt = { "127.0.0.1", 1883 }, .logfd = -1, .evfd = -1 };
    int evpipe[2] = { -1, -1 };
    pthread_t evthread;
    bool evthread_running = false;
    char db[PATH_MAX] = "", plugin[PATH_MAX] = "", keyfile[PATH_MAX] = "", tlsdir[PATH_MAX] = "";
    hostport_t mqtts = { "", 0 }, mpsk = { "", 0 };
    bool https = false;
    long grace = -1, db_wait = 30;
    long mqtt_per_addr = 32, connect_timeout = 10, http_per_addr = 16, token_rate = 60, prefetch = 256;
    long thing_rate = 30;   /* IoT Explorer's documented per-device limit on uplink messages a second */
    bool queue_set = false, thing_queue_set = false, prefetch_set = false;
    long http_threads = 0;   /* 0: the default, 8 with --rabbitmq, else 4 */
    const char *rabbitmq = NULL, *queue = "smartcfg.bind", *thing_queue = "smartcfg.thing", *auth_from = NULL, *rmq_mgmt = NULL;
    long rmq_cache_ttl = -1;
    bool http_per_addr_set = false;
    bool db_pw_argv = false, rmq_pw_argv = false, mgmt_pw_argv = false;   /* a password in a URL on argv */
    /* Every file we create holds or sits next to a secret: private whatever the caller's umask
     * (SQLite creates the registry and its -wal/-shm with 0644 & ~umask). */
    umask(077);
    /* nor may a core dump hold one: the admin key, the service identity, the database's and
     * RabbitMQ's passwords, every device secret it reads (mosquitto, exec'd, is its own) */
    sc_cli_no_core();
    bool json = false, external = false, console_link = false;
    long ttl = 600;
    static const struct option opts[] = {
        { "http", required_argument, NULL, 'H' }, { "mqtt", required_argument, NULL, 'M' },
        { "broker", required_argument, NULL, 'B' }, { "db", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' }, { "token-ttl", required_argument, NULL, 't' },
        { "plugin", required_argument, NULL, 'p' }, { "mosquitto", required_argument, NULL, 'm' },
        { "admin-key-file", required_argument, NULL, 'K' }, { "tls", no_argument, NULL, 'T' },
        { "mqtts", required_argument, NULL, 'S' }, { "mqtt-psk", required_argument, NULL, 'P' },
        { "tls-dir", required_argument, NULL, 'D' }, { "mqtt-per-address", required_argument, NULL, 'a' },
        { "connect-timeout", required_argument, NULL, 'c' }, { "http-per-address", required_argument, NULL, 'A' },
        { "token-rate", required_argument, NULL, 'r' }, { "token-gc", required_argument, NULL, 'g' },
        { "db-wait", required_argument, NULL, 'W' },
        { "rabbitmq", required_argument, NULL, 'R' }, { "queue", required_argument, NULL, 'Q' },
        { "prefetch", required_argument, NULL, 'F' }, { "http-threads", required_argument, NULL, 'N' },
        { "rabbitmq-auth-from", required_argument, NULL, 'U' }, { "console-link", no_argument, NULL, 'L' },
        { "rabbitmq-management", required_argument, NULL, 'G' }, { "rabbitmq-cache-ttl", required_argument, NULL, 'C' },
        { "thing-queue", required_argument, NULL, 'J' }, { "thing-rate", required_argument, NULL, 'E' },
        SC_CLI_STD_OPTIONS, { NULL, 0, NULL, 0 }
    };
    sc_cli_t cli;
    sc_cli_init(&cli, "smartcfg cloud", usage, NULL, argc, argv);
    cli.longopts = opts;
    int c;
    const char *addr_opt = "";   /* the HOST:PORT option bad_addr names */
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, SC_CLI_SHORTOPTS, opts, NULL)) != -1) {
        int std = sc_cli_std_option(&cli, c, argv);
        if (std >= 0)
            return std;
        switch (c) {
        case 'H':
            if (parse_hostport(optarg, &http)) { addr_opt = "--http"; goto bad_addr; }
            break;
        case 'M':
            if (parse_hostport(optarg, &br.mqtt)) { addr_opt = "--mqtt"; goto bad_addr; }
            break;
        case 'B':
            if (parse_hostport(optarg, &ext)) { addr_opt = "--broker"; goto bad_addr; }
            external = true;
            break;
        case 'd':
            /* It ends up on a line of the broker's configuration: no line breaks or controls. */
            for (const char *q = optarg; *q; q++)
                if ((unsigned char)*q < ' ' || *q == 0x7f)
                    return sc_cli_bad_value(&cli, "--db", NULL, "a file name or URL without control characters");
            if (!*optarg || strlen(optarg) >= sizeof db)
                return sc_cli_bad_value(&cli, "--db", NULL, "a file name or a postgresql:// URL of 1..%zu bytes", sizeof db - 1);
            snprintf(db, sizeof db, "%s", optarg);
            {
                size_t len;
                char *pw = sc_cli_url_password(optarg, &len);
                if (pw)   /* copied: blanked in argv (a file name has none) */
                    memset(pw, 'x', len);
                db_pw_argv = db_pw_argv || (pw && !strncmp(optarg, "postgres", 8));
            }
            break;
        case 'W':
            if (!num_in(optarg, 0, 86400, &db_wait))
                return sc_cli_bad_value(&cli, "--db-wait", optarg, "a whole number of seconds in 0..86400");
            break;
        case 'j':
            json = true;
            break;
        case 'L':
            console_link = true;
            break;
        case 'G':
            if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
                return sc_cli_bad_value(&cli, "--rabbitmq-management", NULL, "http[s]://[USER:PASS@]HOST:PORT[,HOST:PORT...]");
            if (!(rmq_mgmt = url_keep(optarg, &mgmt_pw_argv, 1)))
                return sc_cli_fail(&cli, SC_EXIT_FAIL, "out of memory");
            break;
        case 'C':
            if (!num_in(optarg, 0, 3600000, &rmq_cache_ttl))
                return sc_cli_bad_value(&cli, "--rabbitmq-cache-ttl", optarg, "a whole number of milliseconds in 0..3600000");
            break;
        case 't':
            if (!num_in(optarg, 1, 30L * 86400, &ttl))
                return sc_cli_bad_value(&cli, "--token-ttl", optarg, "a whole number of seconds in 1..2592000");
            break;
        case 'p':
            snprintf(plugin, sizeof plugin, "%s", optarg);
            break;
        case 'm':
            snprintf(br.mosquitto_bin, sizeof br.mosquitto_bin, "%s", optarg);
            break;
        case 'K':
            snprintf(keyfile, sizeof keyfile, "%s", optarg);
            break;
        case 'T':
            https = true;
            break;
        case 'S':
            if (parse_hostport(optarg, &mqtts)) { addr_opt = "--mqtts"; goto bad_addr; }
            break;
        case 'P':
            if (parse_hostport(optarg, &mpsk)) { addr_opt = "--mqtt-psk"; goto bad_addr; }
            break;
        case 'D':
            snprintf(tlsdir, sizeof tlsdir, "%s", optarg);
            break;
        case 'g':
            if (!num_in(optarg, 0, 30L * 86400, &grace))
                return sc_cli_bad_value(&cli, "--token-gc", optarg, "a whole number of seconds in 0..2592000");
            break;
        case 'U':
            if (!*optarg || strlen(optarg) > 1000)
                return sc_cli_bad_value(&cli, "--rabbitmq-auth-from", optarg, "ADDRESS[,ADDRESS...] of 1..1000 bytes (host names too)");
            auth_from = optarg;
            break;
        case 'R':
            if (!(rabbitmq = url_keep(optarg, &rmq_pw_argv, 0)))
                return sc_cli_fail(&cli, SC_EXIT_FAIL, "out of memory");
            external = true;   /* no mosquitto of ours */
            break;
        case 'Q':
            if (!cloud_valid_id(optarg, 120))
                return sc_cli_bad_value(&cli, "--queue", optarg, "a name of 1..120 letters, digits and _-.:@");
            queue = optarg;
            queue_set = true;
            break;
        case 'J':
            if (!cloud_valid_id(optarg, 120))
                return sc_cli_bad_value(&cli, "--thing-queue", optarg, "a name of 1..120 letters, digits and _-.:@");
            thing_queue = optarg;
            thing_queue_set = true;
            break;
        case 'F':
            if (!num_in(optarg, 1, 65535, &prefetch))
                return sc_cli_bad_value(&cli, "--prefetch", optarg, "a whole number of messages in 1..65535");
            prefetch_set = true;
            break;
        case 'N':
            if (!num_in(optarg, 1, 64, &http_threads))
                return sc_cli_bad_value(&cli, "--http-threads", optarg, "a whole number of threads in 1..64");
            break;
        case 'E':
            if (!num_in(optarg, 1, 1000000, &thing_rate))
                return sc_cli_bad_value(&cli, "--thing-rate", optarg, "a whole number of messages a second in 1..1000000");
            break;
        case 'a': case 'c': case 'A': case 'r': {
            long v;
            if (!num_in(optarg, 1, 1000000, &v)) {
                return sc_cli_bad_value(&cli, c == 'a' ? "--mqtt-per-address" : c == 'c' ? "--connect-timeout"
                                              : c == 'A' ? "--http-per-address" : "--token-rate", optarg,
                                        "a whole number of %s in 1..1000000",
                                        c == 'c' ? "seconds" : c == 'r' ? "tokens a minute" : "connections");
            }
            *(c == 'a' ? &mqtt_per_addr : c == 'c' ? &connect_timeout : c == 'A' ? &http_per_addr : &token_rate) = v;
            http_per_addr_set = http_per_addr_set || c == 'A';
            break;
        }
        default:
            return sc_cli_usage_error(&cli, "unknown option '%s'", argv[optind - 1]);
        }
        continue;
bad_addr:
        return sc_cli_bad_value(&cli, addr_opt, optarg, "HOST:PORT (port 1..65535)");
    }
    /* A password in a URL on the command line: blanked above once read, but visible to other
     * users until then (ps, /proc/<pid>/cmdline), and it was without a word, unlike the tools'
     * other secrets. Each said once, with the way that keeps it out of argv. */
    if (db_pw_argv)
        sc_cli_warn(&cli, "a password in the --db URL on the command line is visible to other users (use "
                          "~/.pgpass or $PGPASSWORD, which libpq reads)");
    if (rmq_pw_argv)
        sc_cli_warn(&cli, "a password in the --rabbitmq URL on the command line is visible to other users (use "
                          "amqp://USER@... and $SMARTCFG_RABBITMQ_PASSWORD)");
    if (mgmt_pw_argv)
        sc_cli_warn(&cli, "a password in the --rabbitmq-management URL on the command line is visible to other "
                          "users (leave USER:PASSWORD@ out: the --rabbitmq ones are used)");
    if (rabbitmq && !(rabbitmq = amqp_with_env_password(rabbitmq)))
        return sc_cli_fail(&cli, SC_EXIT_FAIL, "out of memory");
    /* read once (copied above): no child inherits it (F181), and wiped where exec put it, so
     * that /proc/PID/environ no longer shows it for the cloud's whole run (F185) */
    sc_cli_env_drop("SMARTCFG_RABBITMQ_PASSWORD");
    if (optind < argc)
        return sc_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
    if (rabbitmq && ext.port)
        return sc_cli_usage_error(&cli, "--rabbitmq and --broker exclude each other");
    {
        /* Two of our listeners on one port: the second failed at bind time, after mosquitto had
         * started, with MHD's bare "Failed to bind" line first. */
        const struct { const char *opt; const hostport_t *hp; } ls[] = {
            { "--http", &http }, { "--mqtt", external ? NULL : &br.mqtt }, { "--mqtts", &mqtts }, { "--mqtt-psk", &mpsk } };
        for (size_t i = 0; i < 4; i++)
            for (size_t j = i + 1; j < 4; j++) {
                const hostport_t *a = ls[i].hp, *b = ls[j].hp;
                if (!a || !b || !a->port || a->port != b->port)
                    continue;
                bool any = !strcmp(a->host, "0.0.0.0") || !strcmp(a->host, "::") || !strcmp(b->host, "0.0.0.0") ||
                           !strcmp(b->host, "::");
                if (any || !strcmp(a->host, b->host))
                    return sc_cli_usage_error(&cli, "%s and %s both want port %u", ls[i].opt, ls[j].opt, a->port);
            }
    }
    if (rabbitmq) {
        /* A malformed URL is a usage error like any bad value (it was exit 1, found at start). */
        char why[256];
        if (cloud_amqp_check_spec(rabbitmq, why, sizeof why) != 0)
            return sc_cli_usage_error(&cli, "%s", why);
    }
    if (auth_from && !rabbitmq)
        return sc_cli_usage_error(&cli, "--rabbitmq-auth-from goes with --rabbitmq");
    /* The worker's options, said to go with --rabbitmq, were ignored without it. */
    if ((queue_set || thing_queue_set || prefetch_set) && !rabbitmq)
        return sc_cli_usage_error(&cli, "--%s goes with --rabbitmq",
                                  queue_set ? "queue" : thing_queue_set ? "thing-queue" : "prefetch");
    if (rabbitmq && !strcmp(queue, thing_queue))
        return sc_cli_usage_error(&cli, "--queue and --thing-queue must name two queues");
    if ((rmq_mgmt || rmq_cache_ttl >= 0) && !rabbitmq)
        return sc_cli_usage_error(&cli, "--%s goes with --rabbitmq", rmq_mgmt ? "rabbitmq-management" : "rabbitmq-cache-ttl");
    if (!*db && default_db(db, sizeof db) != 0)
        return sc_cli_fail(&cli, SC_EXIT_FAIL, "cannot create the data directory; give --db FILE");
    cloud_events_init(json);
    cloud_store_configure(&(cloud_store_cfg_t){ .connect_wait_s = (unsigned)db_wait, .log = store_log });
    char dbshown[PATH_MAX];   /* the password of a postgresql:// URL never reaches a log */
    cloud_store_redact(db, dbshown, sizeof dbshown);

    char err[512];
    {
        /* The registry's directory (and so its WAL files, and the admin key and TLS material
         * beside it by default): another user must not be able to create files there first. */
        const char *f = cloud_store_file(db);
        char d[PATH_MAX];
        if (f) {
            sc_posix_parent_dir(f, d, sizeof d);
            /* Said in the option's words, not SQLite's "unable to open database file". A
             * directory is a usage error (no restart mends it, docs/cli.md); a directory not
             * there yet may be (a mount, a deployment step): a setup failure. */
            struct stat sb;
            if (stat(f, &sb) == 0 && S_ISDIR(sb.st_mode))
                return sc_cli_bad_value(&cli, "--db", f, "a database file but a directory (name a file in it, e.g. %s%scloud.db)",
                                        f, f[strlen(f) - 1] == '/' ? "" : "/");
            if (stat(d, &sb) != 0 && errno == ENOENT)
                return sc_cli_fail(&cli, SC_EXIT_FAIL, "--db %s: its directory %s does not exist (create it first)", f, d);
            if (stat(d, &sb) == 0 && !S_ISDIR(sb.st_mode))
                return sc_cli_fail(&cli, SC_EXIT_FAIL, "--db %s: %s is not a directory", f, d);
            if (cloud_private_dir(d, "the registry", err, sizeof err) != 0) {
                cloud_log("%s", err);
                return SC_EXIT_FAIL;
            }
        }
    }
    cloud_store_t st;
    if (cloud_store_open(&st, db, err, sizeof err) != 0) {   /* schema before the plugin opens it read-only */
        cloud_log("%s", err);
        return SC_EXIT_FAIL;
    }
    cloud_store_close(&st);
    const char *dbfile = cloud_store_file(db);
    if (dbfile)
        cloud_private_files(dbfile);

    /* Files beside the registry: the admin key and the TLS material. A database server has no
     * "beside": they go to the default data directory. */
    char dbdir[PATH_MAX];
    if (dbfile)
        snprintf(dbdir, sizeof dbdir, "%s", dbfile);
    else if (default_db(dbdir, sizeof dbdir) != 0)
        return sc_cli_fail(&cli, SC_EXIT_FAIL, "cannot create the data directory; give --admin-key-file and --tls-dir");
    char *slash = strrchr(dbdir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dbdir, sizeof dbdir, ".");
    if (!*keyfile)
        snprintf(keyfile, sizeof keyfile, "%.*s/admin.key", PATH_MAX - 16, dbdir);
    char admin_key[80];
    bool key_new = false;
    {
        char kd[PATH_MAX];
        sc_posix_parent_dir(keyfile, kd, sizeof kd);
        if (cloud_private_dir(kd, "the admin key", err, sizeof err) != 0) {
            cloud_log("%s", err);
            return SC_EXIT_FAIL;
        }
    }
    if (cloud_admin_key(keyfile, admin_key, sizeof admin_key, &key_new) != 0) {
        cloud_log("cannot read or create the admin key file %s (at least 16 characters)", keyfile);
        return SC_EXIT_FAIL;
    }
    cloud_tls_files_t tls;
    bool want_tls = https || mqtts.port || mpsk.port;
    if (!*tlsdir)
        snprintf(tlsdir, sizeof tlsdir, "%.*s/tls", PATH_MAX - 16, dbdir);
    if (want_tls) {   /* the TLS keys: the same rule for their directory and the one it is made in */
        char td[PATH_MAX];
        sc_posix_parent_dir(tlsdir, td, sizeof td);
        if (cloud_private_dir(td, "the TLS material", err, sizeof err) != 0 ||
            cloud_private_dir(tlsdir, "the TLS material", err, sizeof err) != 0) {
            cloud_log("%s", err);
            return SC_EXIT_FAIL;
        }
    }
    if (want_tls && cloud_tls_material(tlsdir, mqtts.port ? mqtts.host : http.host, &tls, err, sizeof err) != 0) {
        cloud_log("%s", err);
        return SC_EXIT_FAIL;
    }
    cloud_clock_check();
    bool loopback = !strcmp(http.host, "127.0.0.1") || !strcmp(http.host, "::1") || !strcmp(http.host, "localhost");
    if (!loopback && !https) {
        cloud_log("WARNING: the HTTP API on %s is reachable from the network WITHOUT TLS:", http.host);
        cloud_log("WARNING: the admin key, passwords and access tokens cross it in clear. Use --tls.");
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "message", "HTTP API reachable from the network without TLS; use --tls");
        cloud_event("warning", ev);
    }
    if (!*plugin) {
        const char *env = getenv("SMARTCFG_AUTH_PLUGIN");
        if (env && *env)
            snprintf(plugin, sizeof plugin, "%s", env);
        else if (!external && find_plugin(plugin, sizeof plugin) != 0) {
            cloud_log("the broker plugin smartcfg_auth.so is neither next to this program nor in "
                      "its ../lib/smartcfg/; give --plugin FILE");
            return SC_EXIT_FAIL;
        }
    }
    if (!external && !*br.mosquitto_bin && find_mosquitto(br.mosquitto_bin, sizeof br.mosquitto_bin) != 0) {
        cloud_log("mosquitto not found (install it or give --mosquitto FILE)");
        return SC_EXIT_FAIL;
    }

    sem_init(&watch_sem, 0, 0);   /* before the handler that posts it */
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        stop_pipe[0] = stop_pipe[1] = -1;   /* the binder then waits on the database as before */
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed terminal or a habitual `kill -HUP` killed the cloud by default (exit 129), its
     * broker config with the service password left in /tmp and no stopped event. There is
     * nothing to reload (the configuration is the command line): a clean stop. */
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ret = SC_EXIT_FAIL;
    cloud_http_t *h = NULL;
    cloud_bindsvc_t *svc = NULL;
    cloud_amqp_t *amqp = NULL;
    cloud_gate_t *gate = NULL;
    cloud_ota_t *ota = NULL;
    cloud_thing_t *thing = NULL;
    hostport_t pub_mqtt = br.mqtt;
    char svc_user[40] = "smartcfg-service-", svc_pass[65];
    const hostport_t *mq = external ? &ext : &br.mqtt;
    mosquitto_lib_init();

    if (rabbitmq) {
        amqp = cloud_amqp_new(rabbitmq, queue, thing_queue, (unsigned)prefetch, db, err, sizeof err);
        /* The data template, system time and gateway topics: the handler the mosquitto mode
         * uses (cloud_thing.c), fed from its own quorum queue, answering through this worker. */
        if (amqp && !(thing = cloud_thing_open(db, cloud_amqp_send, amqp, (unsigned)thing_rate, err, sizeof err))) {
            cloud_log("%s", err);
            goto out;
        }
        if (amqp)
            cloud_amqp_serve_thing(amqp, thing);
        if (!amqp || cloud_amqp_connect(amqp, stop_pipe[0], err, sizeof err) != 0) {
            cloud_log("%s", err);
            if (stop_signal)   /* a stop during the first connect: a stop, not a failure */
                ret = SC_EXIT_OK;
            goto out;
        }
        if (rmq_mgmt && cloud_revoke_start(rmq_mgmt, cloud_amqp_user(amqp), cloud_amqp_password(amqp),
                                           cloud_amqp_vhost(amqp), (unsigned)(rmq_cache_ttl >= 0 ? rmq_cache_ttl : 2000) + 500,
                                           db, err, sizeof err) != 0) {
            cloud_log("%s", err);
            goto out;
        }
        if (!rmq_mgmt)
            cloud_log("without --rabbitmq-management, a device whose rights shrink (deleted, a gateway's sub-device "
                      "gone or offline) keeps its subscriptions until it reconnects (docs/scale.md)");
    } else if (external) {
        const char *u = getenv("SMARTCFG_SERVICE_USER"), *p = getenv("SMARTCFG_SERVICE_PASSWORD");
        if (!u || !p) {
            cloud_log("--broker needs SMARTCFG_SERVICE_USER and SMARTCFG_SERVICE_PASSWORD "
                      "(the plugin_opt_service_* values of that broker)");
            goto out;
        }
        snprintf(svc_user, sizeof svc_user, "%s", u);
        snprintf(svc_pass, sizeof svc_pass, "%s", p);
        sc_cli_env_drop("SMARTCFG_SERVICE_PASSWORD");   /* copied: wiped from the environment (F185) */
    } else {
        /* Fresh service identity every run: nothing to leak between runs, nothing to configure. */
        cloud_random_hex(svc_user + strlen(svc_user), 8);
        cloud_random_hex(svc_pass, 48);
        const char *tmp = getenv("TMPDIR");
        cloud_clean_stale_tmpdirs(tmp && *tmp ? tmp : "/tmp");
        snprintf(br.tmpdir, sizeof br.tmpdir, "%s/smartcfg-cloud-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(br.tmpdir)) {
            cloud_log("mkdtemp: %s", strerror(errno));
            br.tmpdir[0] = 0;
            goto out;
        }
        {
            /* Our pid, so a later run can tell this dir is stale once we are gone. */
            char pf[PATH_MAX + 16], pidtxt[24];
            snprintf(pf, sizeof pf, "%s/owner.pid", br.tmpdir);
            int n = snprintf(pidtxt, sizeof pidtxt, "%ld\n", (long)getpid());
            int fd = cloud_create_private(pf, true);
            if (fd < 0 || write(fd, pidtxt, (size_t)n) != n) {
                cloud_log("cannot write %s", pf);
                if (fd >= 0)
                    close(fd);
                goto out;
            }
            close(fd);
        }
        /* mosquitto listens on private loopback ports; the gate owns the public ones. */
        pub_mqtt = br.mqtt;
        snprintf(br.mqtt.host, sizeof br.mqtt.host, "127.0.0.1");
        const uint16_t pub[] = { http.port, pub_mqtt.port, mqtts.port, mpsk.port };
        br.mqtt.port = free_port(pub, 4);
        br.tls_port = mqtts.port ? free_port(pub, 4) : 0;
        br.psk_port = mpsk.port ? free_port(pub, 4) : 0;
        br.tls = &tls;
        if (!br.mqtt.port || (mqtts.port && !br.tls_port) || (mpsk.port && !br.psk_port)) {
            cloud_log("no free loopback port for the broker");
            goto out;
        }
        char absdb[PATH_MAX];
        if ((dbfile ? !realpath(dbfile, absdb) : snprintf(absdb, sizeof absdb, "%s", db) < 0) ||
            write_conf(&br, plugin, absdb, svc_user, svc_pass) != 0) {
            cloud_log("cannot write the broker configuration");
            goto out;
        }
        if (pipe2(evpipe, O_CLOEXEC) != 0) {
            cloud_log("pipe: %s", strerror(errno));
            goto out;
        }
        br.evfd = evpipe[1];
        evthread_running = pthread_create(&evthread, NULL, plugin_event_reader, &evpipe[0]) == 0;
        if (port_open(&pub_mqtt)) {
            cloud_log("something already listens on %s:%u (use --broker to reuse it)",
                    pub_mqtt.host, pub_mqtt.port);
            goto out;
        }
        if (broker_spawn(&br, err, sizeof err) != 0) {
            cloud_log("%s", err);
            goto out;
        }
        cloud_gate_listener_t gl[3] = { { pub_mqtt.host, pub_mqtt.port, br.mqtt.port, true } };
        int ngl = 1;
        if (mqtts.port)
            gl[ngl++] = (cloud_gate_listener_t){ mqtts.host, mqtts.port, br.tls_port, false };
        if (mpsk.port)
            gl[ngl++] = (cloud_gate_listener_t){ mpsk.host, mpsk.port, br.psk_port, false };
        /* Two descriptors per relayed connection; keep some for the HTTP side and the DB. */
        struct rlimit rl;
        unsigned max_total = 4096;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
            rl.rlim_cur = rl.rlim_max;   /* raise the soft limit as far as we may */
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
            max_total = rl.rlim_cur > 1024 ? (unsigned)((rl.rlim_cur - 512) / 2) : 256;
        }
        gate = cloud_gate_start(gl, ngl, (unsigned)mqtt_per_addr, (unsigned)connect_timeout, max_total, err, sizeof err);
        if (!gate) {
            cloud_log("%s", err);
            goto out;
        }
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "host", br.mqtt.host);
        cJSON_AddNumberToObject(ev, "port", br.mqtt.port);
        cJSON_AddNumberToObject(ev, "pid", br.pid);
        cloud_event("broker_started", ev);
        cloud_log("mosquitto (pid %d) listening on %s:%u", (int)br.pid, br.mqtt.host, br.mqtt.port);
    }

    if (!amqp) {
        /* Firmware images beside the registry (docs/ota.md). Not with --rabbitmq yet: the OTA
         * push speaks MQTT to the cloud's own broker (docs/scale.md, "What does not"). */
        char fwdir[PATH_MAX];
        snprintf(fwdir, sizeof fwdir, "%.*s/firmware", PATH_MAX - 16, dbdir);
        ota = cloud_ota_new(db, fwdir, mq->host, mq->port, svc_user, svc_pass, err, sizeof err);
        if (!ota) {
            cloud_log("%s", err);
            goto out;
        }
    }
    /* The data template, system time and gateway topics (docs/cloud.md); with --rabbitmq made
     * above, consumed from RabbitMQ. */
    if (!amqp)
        thing = cloud_thing_new(db, mq->host, mq->port, svc_user, svc_pass, (unsigned)thing_rate, err, sizeof err);
    if (!thing) {
        cloud_log("%s", err);
        goto out;
    }
    /* Who may ask the RabbitMQ auth questions: the nodes --rabbitmq names, and this host
     * (a node beside the worker may connect from either loopback address), unless said. */
    char auth_from_nodes[16 * 260 + 32] = "127.0.0.1,::1";
    for (unsigned i = 0; amqp && !auth_from && i < cloud_amqp_nodes(amqp); i++) {
        size_t n = strlen(auth_from_nodes);
        snprintf(auth_from_nodes + n, sizeof auth_from_nodes - n, ",%s", cloud_amqp_node_host(amqp, i));
    }
    cloud_http_cfg_t hc = {
        .host = http.host, .port = http.port, .dbpath = db, .token_ttl = (int)ttl,
        /* default: an expired token reads "expired" for ten lifetimes (at most an hour) */
        .token_grace = (int)(grace >= 0 ? grace : ttl * 10 < 3600 ? ttl * 10 : 3600), .admin_key = admin_key,
        .tls_cert = https ? tls.cert : NULL, .tls_key = https ? tls.key : NULL,
        .conn_limit = 1024, .per_ip_limit = (unsigned)http_per_addr, .conn_timeout = 5,
        .token_rate = (double)token_rate / 60.0, .token_burst = token_rate < 20 ? (double)token_rate : 20.0,
        .anon_rate = 5.0, .anon_burst = 30.0, .ota = ota, .thing = thing,
        /* RabbitMQ's auth requests all come from its nodes' few addresses */
        .rabbitmq_vhost = amqp ? cloud_amqp_vhost(amqp) : NULL, .reuse_port = amqp != NULL,
        .rabbitmq_auth_from = auth_from ? auth_from : auth_from_nodes, .rabbitmq_auth_from_default = !auth_from,
        /* Every device login through RabbitMQ is about seven HTTP questions, each a database
         * round trip: answered one at a time they were the cluster's limit (docs/scale.md). */
        .threads = (unsigned)(http_threads ? http_threads : amqp ? 8 : 4),
        .start_time = (double)started.tv_sec, .mqtt_gauge = gate != NULL,
        .tls_ca_not_after = want_tls ? tls.ca_not_after : 0, .tls_cert_not_after = want_tls ? tls.cert_not_after : 0,
    };
    if (amqp && !http_per_addr_set)
        hc.per_ip_limit = 1024;
    /* GET /readyz's view of the registry, refreshed by a thread of its own (cloud_health.h) */
    if (cloud_health_start(db, err, sizeof err) != 0) {
        cloud_log("%s", err);
        goto out;
    }
    h = cloud_http_start(&hc, err, sizeof err);
    if (!h) {
        cloud_log("%s", err);
        goto out;
    }
    if (!amqp)
        svc = cloud_bindsvc_new(mq->host, mq->port, svc_user, svc_pass, db, stop_pipe[0], err, sizeof err);
    cloud_binder_abort_on(amqp ? cloud_amqp_binder(amqp) : cloud_bindsvc_binder(svc), stop_pipe[0]);
    if (amqp)   /* its IoT Explorer topics are handled on the main loop too */
        cloud_thing_abort_on(thing, stop_pipe[0]);
    if (!amqp && !svc) {
        cloud_log("%s", err);
        if (stop_signal)   /* a stop during startup (the first connect): a stop, not a failure */
            ret = SC_EXIT_OK;
        goto out;
    }
    {
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "http", http.host);
        cJSON_AddNumberToObject(ev, "http_port", http.port);
        const hostport_t *pm = external ? &ext : &pub_mqtt;
        if (amqp) {
            cJSON_AddStringToObject(ev, "rabbitmq_queue", queue);
        } else {
            cJSON_AddStringToObject(ev, "mqtt", pm->host);
            cJSON_AddNumberToObject(ev, "mqtt_port", pm->port);
        }
        if (mqtts.port)
            cJSON_AddNumberToObject(ev, "mqtts_port", mqtts.port);
        if (mpsk.port)
            cJSON_AddNumberToObject(ev, "mqtt_psk_port", mpsk.port);
        cJSON_AddBoolToObject(ev, "https", https);
        if (want_tls)
            cJSON_AddStringToObject(ev, "ca_file", tls.ca);
        cJSON_AddStringToObject(ev, "db", dbshown);
        cJSON_AddStringToObject(ev, "admin_key_file", keyfile);
        /* Shown once, when it is made, and only to a terminal: afterwards it is only in the
         * 0600 file. Output that is no terminal ends up in a journal or a CI log that others
         * read and that keeps it: there, as for the console link (docs/security.md F23), only
         * where the key is. */
        if (key_new && json) {
            cJSON_AddBoolToObject(ev, "admin_key_new", true);
            if (isatty(STDOUT_FILENO))
                cJSON_AddStringToObject(ev, "admin_key", admin_key);
        } else if (key_new && isatty(STDERR_FILENO)) {
            cloud_log("new admin key (shown once; kept in %s): %s", keyfile, admin_key);
        } else if (key_new) {
            cloud_log("new admin key made, kept in %s (mode 0600; not shown: this output is not a terminal, "
                      "and a journal or log keeps it for others to read)", keyfile);
        }
        /* The one-time console login link opens an administrator's session for an hour: not
         * in every log that captures our output (journal, CI), only when asked for
         * (docs/security.md F23); otherwise the way to mint one is said. */
        char curl[256] = "";
        if (console_link) {
            cloud_console_login_url(https, http.host, http.port, curl, sizeof curl);
            cJSON_AddStringToObject(ev, "console_url", curl);
        }
        cloud_event("ready", ev);
        if (amqp)
            cloud_log("ready: HTTP http://%s:%u/  RabbitMQ queue %s  db %s", http.host, http.port, queue, dbshown);
        else
            cloud_log("ready: HTTP http://%s:%u/  MQTT %s:%u  db %s", http.host, http.port, mq->host, mq->port, dbshown);
        if (!json && console_link)
            cloud_log("console (one-time login link): %s", curl);
        else if (!json)
            cloud_log("console: a one-time login link from POST /v1/console/login with the "
                      "admin key, or start with --console-link");
    }

    ret = SC_EXIT_OK;
    pthread_t watch;
    bool watching = amqp && pthread_create(&watch, NULL, stop_watch, amqp) == 0;
    while (!stop_signal) {
        cloud_refusal_tick(false);
        if (amqp)
            cloud_amqp_step(amqp, 100);
        else
            cloud_bindsvc_step(svc, 100);
        if (!amqp) {   /* a subscription the broker refused (its ACL): asked again, every 5 s */
            cloud_ota_retry(ota);
            cloud_thing_retry(thing);
        }
        /* GET /readyz: the broker side (ours running, the binding service or consumer connected;
         * mosquitto: also the clients of the IoT Explorer topics and of OTA) */
        cloud_health_broker(amqp ? cloud_amqp_connected(amqp)
                                 : cloud_bindsvc_connected(svc) && (external || br.pid > 0) &&
                                       (!thing || cloud_thing_connected(thing)) && (!ota || cloud_ota_connected(ota)));
        if (external)
            continue;
        int status;
        if (br.pid > 0 && waitpid(br.pid, &status, WNOHANG) == br.pid) {
            br.pid = 0;
            cloud_health_broker(false);   /* not ready while it restarts */
            broker_join_log(&br);
            int64_t now = cloud_now_ms();
            int recent = 0;
            for (int i = 0; i < br.nrestarts; i++)
                recent += now - br.restarts[i] < RESTART_WINDOW * 1000;
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddNumberToObject(ev, "status", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
            cloud_event("broker_died", ev);
            cloud_log("mosquitto DIED (%s %d)%s", WIFEXITED(status) ? "exit" : "signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                      recent >= RESTARTS_MAX ? "" : "; restarting it");
            if (recent >= RESTARTS_MAX) {
                cloud_log("mosquitto died %d times within %d s; giving up", recent, RESTART_WINDOW);
                ret = SC_EXIT_CLOUD;
                break;
            }
            br.restarts[br.nrestarts++ % RESTARTS_MAX] = now;
            if (br.nrestarts > RESTARTS_MAX)
                br.nrestarts = RESTARTS_MAX;
            if (broker_spawn(&br, err, sizeof err) != 0) {
                cloud_log("cannot restart mosquitto: %s", err);
                ret = SC_EXIT_CLOUD;
                break;
            }
            cloud_event("broker_restarted", NULL);
            cloud_log("mosquitto restarted (pid %d)", (int)br.pid);
        }
    }
    atomic_store(&loop_done, true);
    sem_post(&watch_sem);   /* wakes the watch if no signal did */
    if (watching)
        pthread_join(watch, NULL);
    if (stop_signal)
        cloud_log("stopping on signal %d", (int)stop_signal);
out:;
    /* The stop's bound (docs/cloud.md): every part that may wait is told to stop first, so the
     * waits run side by side: the MQTT clients of OTA and the data template (each 6 s at most,
     * from here), the readiness probe (2 s), the HTTP requests in flight (5 s; then the
     * RabbitMQ revocations, whose request under way is abandoned); then mosquitto
     * gets what is left of STOP_BUDGET_MS (at least 1 s) before SIGKILL. One after the other,
     * a broker that had died under clients inside a reconnect made it 12 s and more: past
     * Docker's 10 s grace. */
    int64_t stop_t0 = cloud_now_ms();
    cloud_ota_stop(ota);
    cloud_thing_stop(thing);
    cloud_health_stop_begin();
    /* the revocation thread: its request and database wait end now, its release within 5 s */
    cloud_revoke_stop_begin(stop_t0 + 5000);
    /* HTTP before anything is freed: its control API sends through the worker's connection. A
     * request it had to leave waiting on the database goes on when its answer comes, into the
     * data template, OTA or the AMQP worker: those are then left to the process's exit, not
     * freed under it. (Sent meanwhile, into a client already stopping: 503, try again.) */
    bool http_stopped = cloud_http_stop(h);
    cloud_revoke_stop(http_stopped);   /* a request left running still records its closes */
    cloud_health_stop();
    cloud_bindsvc_free(svc);
    /* OTA's and the data template's MQTT threads end before what they use is freed; one that
     * does not end in time is left running, with its state, to the exit (cloud_mosq_free) */
    bool clients_left = !http_stopped;
    if (http_stopped) {
        cloud_amqp_free(amqp);
        clients_left |= !cloud_ota_free(ota);
        clients_left |= !cloud_thing_free(thing);
    }
    cloud_gate_stop(gate);
    int64_t left_ms = STOP_BUDGET_MS - (cloud_now_ms() - stop_t0);
    broker_stop(&br, left_ms > 1000 ? (int)left_ms : 1000);
    if (evpipe[1] >= 0)
        close(evpipe[1]);   /* the broker is gone: the reader sees EOF after the last record */
    if (evthread_running)
        pthread_join(evthread, NULL);
    if (evpipe[0] >= 0)
        close(evpipe[0]);
    if (br.tmpdir[0]) {
        if (br.conf[0])
            unlink(br.conf);
        char pf[PATH_MAX + 16];
        snprintf(pf, sizeof pf, "%s/owner.pid", br.tmpdir);
        unlink(pf);
        rmdir(br.tmpdir);
    }
    if (!clients_left)
        mosquitto_lib_cleanup();   /* not under a client's thread still running */
    cloud_refusal_tick(true);
    cJSON *stopped = cJSON_CreateObject();
    cJSON_AddNumberToObject(stopped, "status", ret); /* the exit status (docs/cloud.md) */
    cloud_event("stopped", stopped);
    return ret;
}
