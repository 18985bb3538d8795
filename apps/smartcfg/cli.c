/* SPDX-License-Identifier: Apache-2.0 */
/* The command-line convention shared by the subcommands (cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/xattr.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "sc_posix.h"
#include "sc_posix_event.h"
#include "smartcfg/esptouch_v2.h"
#include "smartcfg/receiver.h"
#include "smartcfg/version.h"

void sc_cli_init(sc_cli_t *cli, const char *name, sc_cli_usage_fn usage, const void *ctx, int argc, char **argv)
{
    memset(cli, 0, sizeof *cli);
    cli->name = name;
    cli->usage = usage;
    cli->ctx = ctx;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--json"))
            cli->json = true;
        else if (!strcmp(argv[i], "--no-json"))   /* device: turns off a config file's json = true */
            cli->json = false;
}

void sc_cli_no_core(void)
{
#ifdef __linux__
    /* Not dumpable: no core file (nor a core piped to systemd-coredump or apport) on SIGQUIT
     * (Ctrl-\ at a FIFO's wait), SIGSEGV or SIGABRT, and no ptrace attach by another process of
     * the same user. A tracer the process was started under keeps tracing it. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

extern char **environ;

void sc_cli_env_drop(const char *name)
{
    size_t n = strlen(name);
    /* every entry of that name: a duplicate one (an execve() may pass two) is unset too */
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            explicit_bzero(*e + n + 1, strlen(*e + n + 1));
    unsetenv(name);
}

void sc_cli_free_wiped(char **p)
{
    if (*p) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

int sc_cli_env_take(const char *name, char **out)
{
    const char *v = getenv(name);
    *out = NULL;
    if (v == NULL)
        return 0;
    if ((*out = strdup(v)) == NULL)
        return -1;
    sc_cli_env_drop(name);
    return 1;
}

/* The '@' that ends a URL's user part: the last one before the first of ends (after "://"), or
 * NULL. An '@' after the authority belongs to the path or the query (http://HOST/api@v2), not to
 * a user part: taking the last '@' before a '?' read the port and the path as a password. */
static const char *userinfo_at(const char *auth, const char *ends)
{
    const char *at = NULL;
    for (const char *c = auth; *c && !strchr(ends, *c); c++)
        if (*c == '@')
            at = c;
    return at;
}

char *sc_cli_url_password(char *url, size_t *len)
{
    char *auth = strstr(url, "://");
    if (!auth)
        return NULL;
    auth += 3;
    /* the authority ends at the first '/': libpq takes a '?' or '#' in a password as they are
     * (curl and rabbitmq-c do not, but then the URL fails: its password is blanked all the same) */
    char *at = (char *)userinfo_at(auth, "/");
    char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon && at > colon + 1) {
        *len = (size_t)(at - colon - 1);
        return colon + 1;
    }
    char *q = strchr(at ? at : auth, '?');
    for (char *p = q; p && (p = strstr(p, "password=")) != NULL; p++)
        if (p[-1] == '?' || p[-1] == '&') {
            *len = strcspn(p + 9, "&");
            return *len ? p + 9 : NULL;
        }
    return NULL;
}

int sc_cli_url_add_password(const char *url, const char *password, char *out, size_t cap)
{
    const char *auth = strstr(url, "://"), *at;
    if (!auth)
        return -1;
    auth += 3;
    /* libcurl and rabbitmq-c, the two it serves, end the authority at '/', '?' or '#' */
    at = userinfo_at(auth, "/?#");
    if (!at || at == auth || memchr(auth, ':', (size_t)(at - auth)))
        return -1;   /* no USER@, or a password already (USER:@ is an empty one said as such) */
    if (cap == 0)
        return -2;
    size_t o = (size_t)snprintf(out, cap, "%.*s:", (int)(at - url), url);
    /* librabbitmq (0.11) refuses a %XX above %7F (a UTF-8 password was "cannot parse node"),
     * and takes such a byte as it is: raw there (F183) */
    bool amqp = !strncmp(url, "amqp", 4);
    for (const unsigned char *c = (const unsigned char *)password; *c && o < cap; c++) {
        bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                     strchr("-._~", *c) || (amqp && *c >= 0x80);
        o += (size_t)snprintf(out + o, cap - o, plain ? "%c" : "%%%02X", *c);
    }
    if (o >= cap || (size_t)snprintf(out + o, cap - o, "%s", at) >= cap - o) {
        explicit_bzero(out, cap);
        return -2;
    }
    return 0;
}

void sc_cli_version(const sc_cli_t *cli)
{
    printf("%s %s\n", cli->name, SMARTCFG_VERSION_STRING);
}

/* The JSON twin of an error message: one line on stdout (docs/json.md; no times: nothing ran). */
static void json_error(const sc_cli_t *cli, const char *event, const char *message, int code)
{
    if (!cli->json)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "command", cli->name);
    cJSON_AddStringToObject(o, "message", message);
    cJSON_AddNumberToObject(o, "exit", code);
    sc_posix_event(event, SC_EVENT_NO_TIME, o);
}

/* A message can quote what the user or a script gave (an unexpected argument, an unknown
 * option or command, a file name): a control character in it (ESC ] retitles the terminal,
 * U+009B is CSI, U+202E reverses the rest of the line) is shown as '?', and so is a byte that
 * is not UTF-8. In place; the message only shrinks. */
static void shown_text(char *msg)
{
    size_t n = strlen(msg), o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = sc_posix_utf8_seq((const uint8_t *)msg + i, n - i);
        if (!k || sc_posix_utf8_control((const uint8_t *)msg + i, k)) {
            msg[o++] = '?';
            i += k ? k : 1;
        } else {
            memmove(msg + o, msg + i, k);
            o += k;
            i += k;
        }
    }
    msg[o] = 0;
}

const char *sc_cli_shown(const char *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s", s);
    shown_text(buf);
    return buf;
}

static int report(const sc_cli_t *cli, const char *event, int code, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    shown_text(msg);
    sc_posix_output_printf(stderr, "%s: %s\n", cli->name, msg);
    if (code == SC_EXIT_USAGE && cli->usage)
        sc_posix_output_printf(stderr, "(%s --help shows the options and examples)\n", cli->name);
    json_error(cli, event, msg, code);
    return code;
}

int sc_cli_usage_error(const sc_cli_t *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = report(cli, "usage_error", SC_EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int sc_cli_bad_value(const sc_cli_t *cli, const char *opt, const char *value, const char *want_fmt, ...)
{
    char want[256], shown[48];
    va_list ap;
    va_start(ap, want_fmt);
    vsnprintf(want, sizeof want, want_fmt, ap);
    va_end(ap);
    if (!value)
        return sc_cli_usage_error(cli, "%s: the value (not shown) is not %s", opt, want);
    size_t n = 0;
    for (const char *p = value; *p && n < 40; p++)
        shown[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    shown[n] = 0;
    return sc_cli_usage_error(cli, "%s: '%s%s' is not %s", opt, shown, strlen(value) > 40 ? "..." : "", want);
}

int sc_cli_v2_options(const sc_cli_t *cli, bool v2, bool key, bool random_iv, bool other, const uint8_t *password,
                      unsigned password_len)
{
    if ((key || random_iv || other) && !v2)
        return sc_cli_usage_error(cli, "--aes-key, --random-iv, --reserved and --port-mark are ESP-TOUCH v2 options");
    if (random_iv && !key)
        return sc_cli_usage_error(cli, "--random-iv needs --aes-key");
    if (key && !sc_et2_can_encrypt(password, password_len))
        return sc_cli_usage_error(cli, "--aes-key: the password has bytes >= 0x80 and is not UTF-8: a receiver "
                                       "cannot tell such a plaintext from a wrong key's, so it is not encrypted "
                                       "(send it as UTF-8, or without --aes-key)");
    return 0;
}

int sc_cli_protocols(const sc_cli_t *cli, const char *opt, const char *list, unsigned *mask)
{
    unsigned acc = 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        char item[24];
        unsigned m = 0;
        sc_err_t e = SC_ERR_INVAL;
        if (n > 0 && n < sizeof item) {
            memcpy(item, p, n);
            item[n] = 0;
            e = sc_proto_parse(item, &m);
        } else {
            snprintf(item, sizeof item, "%.*s%s", n ? 16 : 0, p, n ? "..." : "");
        }
        if (!n)
            return sc_cli_usage_error(cli, "%s '%s': an empty item (want a list of v1, v2, airkiss)", opt, list);
        if (e == SC_ERR_UNSUPPORTED)
            return sc_cli_usage_error(cli, "%s '%s': %s is not in this build", opt, list, item);
        if (e != SC_OK)
            return sc_cli_usage_error(cli, "%s '%s': unknown protocol '%s' (want a list of v1, v2, airkiss)", opt,
                                      list, item);
        if (m & acc)
            return sc_cli_usage_error(cli, "%s '%s': '%s' repeats a protocol already in the list (name each once)",
                                      opt, list, item);
        acc |= m;
        if (!p[n])
            break;
        p += n + 1;
    }
    *mask = acc;
    return 0;
}

/* A channel number of up to 3 digits (digits only: " 6", "+6", "0x6" are not numbers), or -1. */
static int channel_number(const char *s, size_t n)
{
    if (n == 0 || n > 3)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int sc_cli_channel(const sc_cli_t *cli, const char *opt, const char *value, bool zero_ok, uint8_t *ch)
{
    int v = channel_number(value, strlen(value));
    if (v < 0 || (v == 0 && !zero_ok) || (v != 0 && !sc_chansearch_channel_valid((unsigned)v)))
        return sc_cli_bad_value(cli, opt, value, "%s%s", zero_ok ? "0 (every channel) or " : "", SC_CLI_CHANNEL_WANT);
    *ch = (uint8_t)v;
    return 0;
}

int sc_cli_channels(const sc_cli_t *cli, const char *opt, const char *list, uint8_t *out, size_t cap, size_t *n)
{
    *n = sc_chansearch_parse(list, out, cap);
    if (*n)
        return 0;
    /* The core says only "no"; find the item to name. */
    static const char *const like = "a list like 1,6,11 or 1-11,36-165";
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        char item[16], num[16];
        snprintf(item, sizeof item, "%.*s", (int)(len < 15 ? len : 15), p);
        const char *dash = memchr(p, '-', len);
        size_t l1 = dash ? (size_t)(dash - p) : len;
        int lo = channel_number(p, l1), hi = dash ? channel_number(dash + 1, len - l1 - 1) : lo;
        if (lo < 0 || hi < 0)
            return sc_cli_bad_value(cli, opt, list, "%s", like);
        if (!sc_chansearch_channel_valid((unsigned)lo) || !sc_chansearch_channel_valid((unsigned)hi)) {
            snprintf(num, sizeof num, "%d", sc_chansearch_channel_valid((unsigned)lo) ? hi : lo);
            return sc_cli_bad_value(cli, opt, num, SC_CLI_CHANNEL_WANT);
        }
        if (hi < lo)
            return sc_cli_bad_value(cli, opt, item, "a range from low to high");
        if (!p[len])
            break;
        p += len + 1;
    }
    return sc_cli_bad_value(cli, opt, list, "a list of at most %zu channels", cap);
}

int sc_cli_fail(const sc_cli_t *cli, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = report(cli, "setup_error", code, fmt, ap);
    va_end(ap);
    return rc;
}

void sc_cli_warn(const sc_cli_t *cli, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    shown_text(msg);
    sc_posix_output_printf(stderr, "%s: warning: %s\n", cli->name, msg);
}

/* The option as the user typed it, without a "=value". */
static void option_text(char **argv, char *out, size_t cap)
{
    const char *a = optind > 0 ? argv[optind - 1] : "";
    size_t n = strcspn(a, "=");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), a);
}

/* Edit distance (insertions, deletions, substitutions, swaps of neighbours) of two option
 * names, or 99 once past the cap: how far a typo is from what was meant. */
static unsigned name_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    unsigned d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *sc_cli_nearest(const char *typed, const char *const *names, size_t n)
{
    const char *best = NULL;
    unsigned bestd = strlen(typed) >= 6 ? 3 : 2;
    for (size_t i = 0; i < n; i++) {
        unsigned dist = name_distance(typed, names[i]);
        if (dist < bestd) {
            bestd = dist;
            best = names[i];
        }
    }
    return best;
}

/* An option the user typed that is none: what it could have meant. o: "--name". */
static int unknown_long(const sc_cli_t *cli, const char *o)
{
    const char *name = o + 2;
    size_t n = strlen(name);
    char list[256] = "";
    unsigned matches = 0;
    /* getopt_long takes an abbreviation; one that several options start with is ambiguous */
    for (const struct option *lo = cli->longopts; n && lo && lo->name; lo++)
        if (!strncmp(lo->name, name, n) && strlen(list) + strlen(lo->name) + 5 < sizeof list) {
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s--%s", matches ? ", " : "", lo->name);
            matches++;
        }
    if (matches > 1)
        return sc_cli_usage_error(cli, "option '%s' is ambiguous: %s", o, list);
    /* --no-X of a flag --X: only the commands with a config file (device, smartcfg-lwip) have
     * opposites, since only there can a flag be on without being given (docs/cli.md, Flags) */
    if (!strncmp(name, "no-", 3) && name[3])
        for (const struct option *lo = cli->longopts; lo && lo->name; lo++)
            if (lo->has_arg == no_argument && !strcmp(lo->name, name + 3))
                return sc_cli_usage_error(cli,
                                          "unknown option '%s': a flag of this command is off unless given "
                                          "(it reads no config file), so leave --%s out",
                                          o, lo->name);
    /* a typo: the nearest name, if near enough */
    const char *names[128];
    size_t k = 0;
    for (const struct option *lo = cli->longopts; lo && lo->name && k < 128; lo++)
        names[k++] = lo->name;
    const char *best = sc_cli_nearest(name, names, k);
    if (best)
        return sc_cli_usage_error(cli, "unknown option '%s' (did you mean --%s?)", o, best);
    return sc_cli_usage_error(cli, "unknown option '%s'", o);
}

int sc_cli_std_option(const sc_cli_t *cli, int opt, char **argv)
{
    char o[64];
    switch (opt) {
    case 'h':
        if (cli->usage)
            cli->usage(cli, stdout);
        return SC_EXIT_OK;
    case SC_CLI_OPT_VERSION:
        sc_cli_version(cli);
        return SC_EXIT_OK;
    case ':':
        option_text(argv, o, sizeof o);
        return sc_cli_usage_error(cli, "%s needs a value", o);
    case '?':
        option_text(argv, o, sizeof o);
        if (optopt && !strncmp(o, "--", 2))
            return sc_cli_usage_error(cli, "%s takes no value", o); /* a known flag given "=value" */
        if (optopt && optopt < 256)
            return sc_cli_usage_error(cli, "unknown option '-%c'", optopt);
        if (!strncmp(o, "--", 2))
            return unknown_long(cli, o);
        return sc_cli_usage_error(cli, "unknown option '%s'", o);
    default:
        return -1;
    }
}

int sc_cli_input_open(const char *path, bool dash)
{
    if (dash && !strcmp(path, "-"))
        return fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    /* O_NONBLOCK: open() of a FIFO without a writer would wait for one for ever */
    return open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sc_cli_input_wait(const sc_cli_t *cli, const char *value, unsigned *secs)
{
    /* digits only, as the other whole numbers ("+5", " 5", "0x10" are not) */
    size_t n = strspn(value, "0123456789");
    unsigned long v = n && !value[n] && n <= 5 ? strtoul(value, NULL, 10) : 0;
    if (v < 1 || v > SC_CLI_INPUT_WAIT_MAX_S)
        return sc_cli_bad_value(cli, "--input-wait", value, SC_CLI_INPUT_WAIT_WANT);
    *secs = (unsigned)v;
    return 0;
}

long sc_cli_input_read(int fd, char *buf, size_t cap, unsigned wait_s)
{
    const long long end = now_ms() + wait_s * 1000LL;
    size_t n = 0;
    for (;;) {
        /* poll first: a FIFO opened O_NONBLOCK reads 0 (an end) while no writer has come yet;
         * poll waits for one (and for its data or its close) */
        long long left = end - now_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        char extra;
        ssize_t got = n < cap ? read(fd, buf + n, cap - n) : read(fd, &extra, 1);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            return (long)n;
        if (n == cap) {
            errno = EFBIG;
            return -1;
        }
        n += (size_t)got;
    }
}

const char *sc_cli_input_why(int e, size_t cap, unsigned wait_s, char *buf, size_t n)
{
    if (e == ETIMEDOUT)
        snprintf(buf, n, "nothing wrote it to its end within %u s (a FIFO without a writer, or a command "
                         "still running: give a file, a command that ends, or a longer --input-wait SECONDS)",
                 wait_s);
    else if (e == EFBIG)
        snprintf(buf, n, "larger than %zu bytes", cap);
    else
        snprintf(buf, n, "%s", strerror(e));
    return buf;
}

bool sc_cli_group_ours(unsigned gid)
{
    if (gid == (unsigned)getegid())
        return true;
    /* As many as the process has (NGROUPS_MAX is 65536): a fixed 64 made getgroups fail with
     * EINVAL for a user in more groups, and the file of a group it is in was refused (F111). */
    int n = getgroups(0, NULL);
    gid_t *g = n > 0 ? malloc((size_t)n * sizeof *g) : NULL;
    n = g != NULL ? getgroups(n, g) : 0;
    bool in = false;
    for (int i = 0; i < n && !in; i++)
        in = (unsigned)g[i] == gid;
    free(g);
    return in;
}

bool sc_cli_has_acl(int fd)
{
    /* Linux keeps an ACL beyond the mode bits as this attribute; a file with none (or on a
     * file system without ACLs: ENODATA, ENOTSUP) has only its mode. */
    return fgetxattr(fd, "system.posix_acl_access", NULL, 0) > 0;
}

size_t sc_cli_bom(const char *s, size_t n)
{
    return n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3) ? 3 : 0;
}
