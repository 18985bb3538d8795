/* SPDX-License-Identifier: Apache-2.0 */
/* What `smartcfg cloud` prepares before it serves (docs/cloud.md, "Files and keys"): the admin
 * key, the TLS material, the rights of every file that holds a secret, and the leftovers of a
 * run that was killed. Runs once, on the main thread, before any other thread exists. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "cloud.h"
#include "sc_posix.h"

extern char **environ;

/* The admin key file opened for reading only once it is known to be a regular file (F89):
 * opening a device node does things of its own (a serial line's DTR drops and resets what hangs
 * on it, a watchdog starts), and opening a FIFO lets its writer go. O_PATH opens nothing; the
 * file it names is then opened through it (/proc/self/fd), the same file, not the path again.
 * The descriptor; -1 with errno (ENOENT: there is none); -2 when it is not a regular file. */
static int open_key_file(const char *path)
{
#ifdef O_PATH
    int pfd = open(path, O_PATH | O_CLOEXEC);
    if (pfd < 0)
        return -1;
    struct stat st;
    if (fstat(pfd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(pfd);
        return -2;
    }
    char via[40];
    snprintf(via, sizeof via, "/proc/self/fd/%d", pfd);
    int fd = open(via, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    int e = errno;
    close(pfd);
    errno = e;
    if (fd >= 0 || e != ENOENT)
        return fd;
    /* no /proc: by the path, the checks on the open file below still hold */
#endif
    return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

int cloud_admin_key(const char *path, char *key, size_t keylen, bool *generated)
{
    *generated = false;
    /* A key file another user owns (made there before the first start, or the target of a
     * symlink planted there) is a key that user knows: refused, never adopted. Root's is not
     * another user's: root could read ours anyway. The checks are made on the open file, the
     * one then read: checked by path and read by path again, a symlink whose target another
     * user could swap between the two was judged on one file and read from another. A FIFO
     * must not hang the start: opened non-blocking, refused as not a regular file. */
    int rfd = open_key_file(path);
    if (rfd == -2) {
        cloud_log("admin key file %s is not a regular file: refused", path);
        return -1;
    }
    if (rfd >= 0) {
        struct stat st;
        bool ok = fstat(rfd, &st) == 0;
        if (ok && (!S_ISREG(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0))) {
            if (S_ISREG(st.st_mode))
                cloud_log("admin key file %s is owned by uid %lu, not by this user (uid %lu): refused", path,
                          (unsigned long)st.st_uid, (unsigned long)geteuid());
            else
                cloud_log("admin key file %s is not a regular file: refused", path);
            ok = false;
        }
        /* Readable by others: tightened when it is our own file, named as such. Through a
         * symbolic link, or a file of root's that we cannot tighten, it is refused (F86): a link
         * (or a link in a directory it leads to) may name a file every user reads, such as
         * /etc/machine-id (32 hex characters, root's, 0444): a cloud not run as root adopted
         * it as its key and one run as root made that file 0600. */
        if (ok && (st.st_mode & 077)) {
            struct stat lst;
            bool link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
            bool ours = st.st_uid == geteuid();
            /* Root's file that only root and a group of ours read (root:GROUP 0640, not group
             * writable) is how an operator hands a service user root's key, as PostgreSQL
             * takes its server key and the device its config (device_opts.c): the group's
             * members are the operator's choice. Named by its own path only (F86's links). */
            bool root_group = !link && !ours && st.st_uid == 0 && !(st.st_mode & 027) &&
                              sc_cli_group_ours((unsigned)st.st_gid);
            /* An access ACL (setfacl -m u:eve:r) names readers the mode does not show: the
             * group bits are then the ACL's mask, so 0640 passed while eve read the key (F110).
             * Our own file is tightened by fchmod (the mask goes to ---); root's is refused. */
            bool acl = root_group && sc_cli_has_acl(rfd);
            if (acl) {
                cloud_log("admin key file %s has an access ACL (getfacl shows who reads it; mode %04o): refused "
                          "(root's key for this user: root:GROUP 0640 and no ACL, setfacl -b)",
                          path, (unsigned)(st.st_mode & 07777));
                ok = false;
            } else if (!root_group && (link || !ours || fchmod(rfd, 0600) != 0)) {
                cloud_log("admin key file %s is readable by others (mode %04o)%s: refused (%s)", path,
                          (unsigned)(st.st_mode & 07777),
                          link ? " through a symbolic link" : !ours ? " and not ours" : "",
                          link    ? "name the file itself, mode 0600"
                          : !ours ? "make it this user's with mode 0600, or root's with mode 0640 and a group of "
                                    "this user"
                                  : "chmod 600 it");
                ok = false;
            }
        }
        char txt[257];
        const char *k = txt;
        ssize_t n = ok ? read(rfd, txt, sizeof txt) : -1;
        ok = ok && n >= 0 && (size_t)n < sizeof txt;   /* more than 256 bytes is no key file */
        if (ok) {
            txt[n] = 0;
            txt[strcspn(txt, "\r\n")] = 0;
            /* a key file an operator wrote with Windows' Notepad starts with a byte order mark:
             * not part of the key (clients send the key without it) */
            k = txt + sc_cli_bom(txt, strlen(txt));
            ok = strlen(k) >= 16 && strlen(k) < keylen;
        }
        if (ok)
            snprintf(key, keylen, "%s", k);
        explicit_bzero(txt, sizeof txt);
        close(rfd);
        return ok ? 0 : -1;
    }
    if (errno != ENOENT) {
        cloud_log("admin key file %s cannot be opened: %s", path, strerror(errno));
        return -1;
    }
    if (keylen < 65)
        return -1;
    cloud_random_hex(key, 64);
    int fd = cloud_create_private(path, true);
    if (fd < 0)
        return -1;
    bool ok = write(fd, key, 64) == 64 && write(fd, "\n", 1) == 1;
    ok = (close(fd) == 0) && ok;
    *generated = ok;
    return ok ? 0 : -1;
}

static int run(const char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A certificate with less time left than this is made again at start (the server's, when our CA
 * issued it) or warned of (the CA, which devices hold: a new one is theirs to take). */
#define CERT_RENEW_S (30LL * 86400)

/* On stderr and as a `warning` event, for the operator's alerting. */
static void warn(const char *msg)
{
    cloud_log("WARNING: %s", msg);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "message", msg);
    cloud_event("warning", ev);
}

/* The wall clock's day (YYYY-MM-DD) into day[32]. */
static void clock_day(char day[32])
{
    time_t now = (time_t)cloud_now();
    struct tm tm;
    snprintf(day, 32, "?");
    if (gmtime_r(&now, &tm))
        strftime(day, 32, "%Y-%m-%d", &tm);
}

void cloud_clock_check(void)
{
    if (sc_posix_wall_clock_set())
        return;
    char day[32], msg[400];
    clock_day(day);
    snprintf(msg, sizeof msg,
             "the wall clock reads %s, not set yet: token expiries and the timestamp windows of dynamic "
             "registration and gateway binds go by it (a device's registration is refused as out of the window) "
             "until it is set (NTP)",
             day);
    warn(msg);
}

/* The certificate in path (PEM), or NULL. */
static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

/* The Unix time the certificate in path ends; 0 when it cannot be read. */
static double cert_end(const char *path)
{
    X509 *x = read_cert(path);
    struct tm tm;
    double t = x && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 ? (double)timegm(&tm) : 0;
    X509_free(x);
    return t;
}

/* Seconds from now to the end of x (negative: past it); LLONG_MIN when its date is unreadable. */
static long long cert_left(const X509 *x)
{
    int days, secs;
    return x && ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) ? (long long)days * 86400 + secs : LLONG_MIN;
}

/* The server key and certificate, signed by the CA in `dir` (ca.crt, ca.key): names localhost,
 * 127.0.0.1, ::1 and `host` when that is a specific address or name, so a device given the CA
 * file verifies the server with an ordinary hostname check. Made beside the files they replace
 * and renamed over them once both are whole: a renewal that fails midway leaves the old pair. */
static int make_server_cert(const char *dir, const char *host, const cloud_tls_files_t *out)
{
    char cakey[PATH_MAX + 16], csr[PATH_MAX + 16], ext[PATH_MAX + 16], serial[PATH_MAX + 16];
    char key[PATH_MAX + 32], cert[PATH_MAX + 32];
    snprintf(key, sizeof key, "%s.new", out->key);
    snprintf(cert, sizeof cert, "%s.new", out->cert);
    snprintf(cakey, sizeof cakey, "%s/ca.key", dir);
    snprintf(csr, sizeof csr, "%s/server.csr", dir);
    snprintf(ext, sizeof ext, "%s/server.ext", dir);
    snprintf(serial, sizeof serial, "%s/ca.srl", dir);
    int fd = cloud_create_private(ext, false);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return -1;
    fprintf(f, "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1");
    bool wildcard = !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "localhost") ||
                    !strcmp(host, "127.0.0.1") || !strcmp(host, "::1");
    if (!wildcard)
        fprintf(f, ",%s:%s", strspn(host, "0123456789.:abcdefABCDEF") == strlen(host) && strpbrk(host, ".:") ? "IP" : "DNS",
                host);
    fprintf(f, "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    fclose(f);
    const char *req[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-subj", "/CN=smartcfg local cloud", "-keyout", key, "-out", csr, NULL };
    const char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA", out->ca, "-CAkey", cakey, "-CAserial",
                           serial, "-CAcreateserial", "-days", "825", "-extfile", ext, "-out", cert, NULL };
    mode_t old = umask(077);   /* openssl writes keys with the umask's rights */
    int rc = run(req) == 0 && run(sign) == 0 && rename(key, out->key) == 0 && rename(cert, out->cert) == 0 ? 0 : -1;
    umask(old);
    unlink(key);
    unlink(cert);
    unlink(csr);
    unlink(ext);
    return rc;
}

/* At a start with the files there: a server certificate of ours (signed by ca.crt, whose key is
 * beside it) with less than CERT_RENEW_S left is made again, as its CA still holds; one of
 * another PKI, and the CA, are only warned of. Before, the 825 days passed unnoticed: every
 * device and app refused the cloud's certificate from that day on (F208). */
static void renew_if_due(const char *dir, const char *host, const cloud_tls_files_t *out)
{
    X509 *ca = read_cert(out->ca), *srv = read_cert(out->cert);
    long long ca_left = cert_left(ca), srv_left = cert_left(srv);
    char cakey[PATH_MAX + 16];
    snprintf(cakey, sizeof cakey, "%s/ca.key", dir);
    bool ours = ca && srv && access(cakey, R_OK) == 0 && X509_check_issued(ca, srv) == X509_V_OK &&
                X509_verify(srv, X509_get0_pubkey(ca)) == 1;
    if (ca_left < CERT_RENEW_S) {
        char msg[PATH_MAX + 300];
        snprintf(msg, sizeof msg,
                 "the TLS CA %s %s: devices and apps will refuse the cloud; make a new one (move %s away and "
                 "start again) and give devices and apps its ca.crt",
                 out->ca, ca_left == LLONG_MIN ? "cannot be read" : ca_left < 0 ? "has expired" : "expires within 30 days",
                 dir);
        warn(msg);
    } else if (srv_left < CERT_RENEW_S && ours) {
        if (make_server_cert(dir, host, out) == 0)
            cloud_log("TLS: the server certificate %s %s: made again from the CA (825 days)", out->cert,
                      srv_left < 0 ? "had expired" : "expired within 30 days");
        else
            cloud_log("TLS: the server certificate %s expires within 30 days, and openssl could not make a new one",
                      out->cert);
    } else if (srv_left < CERT_RENEW_S) {
        char msg[PATH_MAX + 200];
        snprintf(msg, sizeof msg, "the TLS server certificate %s %s and is not of this cloud's CA: renew it", out->cert,
                 srv_left == LLONG_MIN ? "cannot be read" : srv_left < 0 ? "has expired" : "expires within 30 days");
        warn(msg);
    }
    X509_free(ca);
    X509_free(srv);
}

/* A private CA and a server certificate signed by it, made with the openssl command line
 * (EC P-256, the CA 10 years, the server 825 days). Kept across runs, the server's made again
 * when it nears its end (renew_if_due). Not made while the wall clock is not set yet (before
 * SC_CLOUD_CLOCK_FLOOR: a board without an RTC before its NTP sync): they would be dated from
 * 1970 and long past their end once the clock is set, refused by every client from then on
 * (F207); the start fails (exit 1: systemd starts it again later). */
int cloud_tls_material(const char *dir, const char *host, cloud_tls_files_t *out, char *err, size_t errlen)
{
    snprintf(out->ca, sizeof out->ca, "%s/ca.crt", dir);
    snprintf(out->cert, sizeof out->cert, "%s/server.crt", dir);
    snprintf(out->key, sizeof out->key, "%s/server.key", dir);
    bool clock_set = sc_posix_wall_clock_set();
#define HAVE_ALL() (access(out->ca, R_OK) == 0 && access(out->cert, R_OK) == 0 && access(out->key, R_OK) == 0)
    if (!HAVE_ALL()) {
        if (!clock_set) {
            char day[32];
            clock_day(day);
            snprintf(err, errlen,
                     "the wall clock reads %s, not set yet: TLS certificates made now would be past their end once "
                     "it is; start the cloud once it is set (NTP; systemd: After=time-sync.target), or put your own "
                     "in %s",
                     day, dir);
            return -1;
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
    }
    /* Workers on one host may share the directory: one makes or renews the files at a time, and
     * the others then find them whole. */
    int lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (lock >= 0 && flock(lock, LOCK_EX) != 0 && errno == EINTR)
        continue;
    int rc = 0;
    if (HAVE_ALL()) {
        if (clock_set)
            renew_if_due(dir, host, out);
    } else {
        char cakey[PATH_MAX + 16];
        snprintf(cakey, sizeof cakey, "%s/ca.key", dir);
        const char *ca[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                             "-nodes", "-days", "3650", "-subj", "/CN=smartcfg local cloud CA", "-keyout", cakey,
                             "-out", out->ca, NULL };
        mode_t old = umask(077);   /* openssl writes keys with the umask's rights */
        rc = run(ca) == 0 ? 0 : -1;
        umask(old);
        if (rc == 0)
            rc = make_server_cert(dir, host, out);
        if (rc != 0)
            snprintf(err, errlen, "openssl could not make the TLS certificates in %s (is openssl installed?)", dir);
    }
#undef HAVE_ALL
    if (lock >= 0)
        close(lock);
    out->ca_not_after = cert_end(out->ca);
    out->cert_not_after = cert_end(out->cert);
    return rc;
}

/* The registry and its WAL files hold product secrets and PSKs: 0600 even when they were
 * created by an older version (or by hand) with looser rights. */
void cloud_private_files(const char *db)
{
    const char *sfx[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < 4; i++) {
        char p[PATH_MAX + 16];
        struct stat st;
        snprintf(p, sizeof p, "%s%s", db, sfx[i]);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
            chmod(p, 0600);
    }
}

/* A run killed with SIGKILL leaves its private temp dir (with the service password in the
 * broker config) behind. Each dir records its owner's pid; dirs of ours whose process is
 * gone are removed at the next start. */
void cloud_clean_stale_tmpdirs(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "smartcfg-cloud-", 15))
            continue;
        char dir[PATH_MAX], p[PATH_MAX + 300];
        struct stat st;
        snprintf(dir, sizeof dir, "%s/%s", tmp, e->d_name);
        if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        snprintf(p, sizeof p, "%s/owner.pid", dir);
        char *txt = cloud_read_file(p, 32);
        long pid = txt ? strtol(txt, NULL, 10) : 0;
        free(txt);
        if (pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        DIR *sub = opendir(dir);
        struct dirent *f;
        while (sub && (f = readdir(sub))) {
            if (strcmp(f->d_name, ".") && strcmp(f->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, f->d_name);
                unlink(p);
            }
        }
        if (sub)
            closedir(sub);
        if (rmdir(dir) == 0)
            cloud_log("removed %s, left behind by a run that was killed (pid %ld)", dir, pid);
    }
    closedir(d);
}
