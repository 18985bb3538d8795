/* SPDX-License-Identifier: Apache-2.0 */
/* The device rules shared by both broker front-ends (cloud_acl.h). The password check is the
 * core's (sc_cloud_mqtt_password, the very function a device signs with), not a copy. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud_acl.h"
#include "smartcfg/cloud.h"

bool cloud_consttime_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static bool all_digits(const char *s)
{
    if (!*s || strlen(s) > 19)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

const char *cloud_acl_login(const cloud_acl_registry_t *r, const char *client_id, const char *user,
                            const char *pass, char *product_id, const char **alg)
{
    if (!client_id || !*client_id || strlen(client_id) >= CLOUD_ACL_ID_MAX)
        return "bad_client_id";
    if (!user || !pass)
        return "no_credentials";

    /* username: <ProductId><DeviceName>;<sdkappid>;<connid>;<expiry> */
    char ubuf[256], *f[5] = { 0 };
    if (strlen(user) >= sizeof ubuf)
        return "bad_username";
    strcpy(ubuf, user);
    int nf = 0;
    for (char *p = ubuf, *s; nf < 5 && p; nf++) {
        f[nf] = p;
        s = strchr(p, ';');
        if (s)
            *s++ = 0;
        p = s;
    }
    if (nf != 4 || strcmp(f[0], client_id) || !all_digits(f[1]) || !*f[2] || strlen(f[2]) > 32 || !all_digits(f[3]))
        return "bad_username";
    long long expiry = strtoll(f[3], NULL, 10);
    if (expiry < (long long)time(NULL))
        return "expired";

    /* password: <lower-case hex HMAC>;hmacsha256 | ;hmacsha1 */
    const char *semi = strchr(pass, ';');
    if (!semi)
        return "bad_password_format";
    bool sha256;
    if (!strcmp(semi + 1, "hmacsha256"))
        sha256 = true;
    else if (!strcmp(semi + 1, "hmacsha1"))
        sha256 = false;
    else
        return "unsupported_algorithm";

    char pid[CLOUD_ACL_ID_MAX], psk[128];
    int n = r->find_device(r->ctx, client_id, pid, psk, sizeof psk);
    if (n < 0)
        return "registry_error";
    if (n == 0)
        return "unknown_device";
    if (n > 1)
        return "ambiguous_client_id";

    /* Expected password from the same function the device signs with; compare the whole
     * "<hex>;<alg>" text (hex case-insensitively) in constant time. */
    char expect[SC_CLOUD_PASSWORD_SIZE], given[SC_CLOUD_PASSWORD_SIZE];
    sc_err_t rc = sc_cloud_mqtt_password(psk, user, !sha256, expect, sizeof expect);
    memset(psk, 0, sizeof psk);
    if (rc == SC_ERR_FORMAT || rc == SC_ERR_RANGE || rc == SC_ERR_INVAL)
        return "registry_bad_psk";
    if (rc != SC_OK)
        return "crypto_error";
    size_t gl = strlen(pass);
    if (gl >= sizeof given)
        return "bad_signature";
    for (size_t i = 0; i <= gl; i++)
        given[i] = (char)tolower((unsigned char)pass[i]);
    bool match = cloud_consttime_eq(given, expect);
    memset(expect, 0, sizeof expect);
    if (!match)
        return "bad_signature";
    strcpy(product_id, pid);
    *alg = sha256 ? "hmacsha256" : "hmacsha1";
    return NULL;
}

/* OTA (docs/ota.md): a device publishes its reports on $ota/report/<P>/<D> and takes updates
 * from $ota/update/<P>/<D> — its own pair only, no wildcards. */
static bool device_may_ota(const cloud_acl_registry_t *r, const char *client_id, const char *topic,
                           cloud_acl_access_t access)
{
    const char *rest;
    if (access == CLOUD_ACL_PUBLISH)
        rest = !strncmp(topic, "$ota/report/", 12) ? topic + 12 : NULL;
    else
        rest = !strncmp(topic, "$ota/update/", 12) ? topic + 12 : NULL;
    const char *slash = rest ? strchr(rest, '/') : NULL;
    if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/') || strpbrk(rest, "+#"))
        return false;
    size_t pl = (size_t)(slash - rest);
    char pid[CLOUD_ACL_ID_MAX];
    if (pl >= sizeof pid || strncmp(client_id, rest, pl) || strcmp(client_id + pl, slash + 1))
        return false;
    memcpy(pid, rest, pl);
    pid[pl] = 0;
    return r->device_exists(r->ctx, pid, slash + 1) == 1;
}

static bool proxies(const cloud_acl_registry_t *r, const char *client_id, const char *pid, const char *dn)
{
    return r->gateway_proxies && r->gateway_proxies(r->ctx, client_id, pid, dn) == 1;
}

/* The other IoT Explorer / IoT Hub topics (docs/cloud.md "Topic rights"). Up (publish):
 * $sys/operation/<P>/<D>, $shadow/operation/<P>/<D>, $gateway/operation/<P>/<D>, <P>/<D>/data,
 * <P>/<D>/event. Down (subscribe, receive): the same $…/operation/result/<P>/<D>, <P>/<D>/data,
 * <P>/<D>/control. Always the caller's own <P>/<D>, no wildcards — except that a gateway also
 * speaks for its bound, online sub-devices on their custom and data-template topics. */
static bool device_may_more(const cloud_acl_registry_t *r, const char *client_id, const char *topic,
                            cloud_acl_access_t access)
{
    if (strpbrk(topic, "+#"))
        return false;
    bool up = access == CLOUD_ACL_PUBLISH, custom = false;
    static const char *const pre_up[] = { "$sys/operation/", "$shadow/operation/", "$gateway/operation/" };
    static const char *const pre_down[] = { "$sys/operation/result/", "$shadow/operation/result/",
                                            "$gateway/operation/result/" };
    const char *rest = NULL;
    for (int i = 0; i < 3 && !rest; i++) {
        const char *pre = up ? pre_up[i] : pre_down[i];
        size_t n = strlen(pre);
        if (!strncmp(topic, pre, n) && (!up || strncmp(topic + n, "result/", 7) != 0))
            rest = topic + n;
    }
    char pid[CLOUD_ACL_ID_MAX], dn[CLOUD_ACL_ID_MAX];
    if (rest) {
        const char *slash = strchr(rest, '/');
        if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/') || (size_t)(slash - rest) >= sizeof pid ||
            strlen(slash + 1) >= sizeof dn)
            return false;
        memcpy(pid, rest, (size_t)(slash - rest));
        pid[slash - rest] = 0;
        strcpy(dn, slash + 1);
    } else if (topic[0] != '$') {
        /* <P>/<D>/<name>: data both ways, event up only, control down only */
        const char *s1 = strchr(topic, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s1 || !s2 || s1 == topic || s2 == s1 + 1 || strchr(s2 + 1, '/') || (size_t)(s1 - topic) >= sizeof pid ||
            (size_t)(s2 - s1 - 1) >= sizeof dn)
            return false;
        const char *name = s2 + 1;
        if (!(!strcmp(name, "data") || (up && !strcmp(name, "event")) || (!up && !strcmp(name, "control"))))
            return false;
        memcpy(pid, topic, (size_t)(s1 - topic));
        pid[s1 - topic] = 0;
        memcpy(dn, s1 + 1, (size_t)(s2 - s1 - 1));
        dn[s2 - s1 - 1] = 0;
        custom = true;
    } else {
        /* $thing/<dir>/<kind>/<P>/<D> of a sub-device, data-template kinds only: binding
         * ($thing/.../service) stays the sub-device's own */
        const char *dir = up ? "$thing/up/" : "$thing/down/";
        size_t dl = strlen(dir);
        const char *k = !strncmp(topic, dir, dl) ? topic + dl : NULL, *s1 = k ? strchr(k, '/') : NULL;
        const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s2 || s1 == k || s2 == s1 + 1 || !s2[1] || strchr(s2 + 1, '/') || (size_t)(s2 - s1 - 1) >= sizeof pid ||
            strlen(s2 + 1) >= sizeof dn)
            return false;
        size_t kl = (size_t)(s1 - k);
        if (!((kl == 8 && !strncmp(k, "property", 8)) || (kl == 5 && !strncmp(k, "event", 5)) ||
              (kl == 6 && !strncmp(k, "action", 6))))
            return false;
        memcpy(pid, s1 + 1, (size_t)(s2 - s1 - 1));
        pid[s2 - s1 - 1] = 0;
        strcpy(dn, s2 + 1);
        return proxies(r, client_id, pid, dn);
    }
    size_t pl = strlen(pid);
    if (!strncmp(client_id, pid, pl) && !strcmp(client_id + pl, dn) && r->device_exists(r->ctx, pid, dn) == 1)
        return true;
    return custom && proxies(r, client_id, pid, dn);
}

bool cloud_acl_service_may(const char *topic, cloud_acl_access_t access)
{
    if (!strncmp(topic, "$thing/", 7) || !strncmp(topic, "$ota/", 5) || !strncmp(topic, "$sys/", 5) ||
        !strncmp(topic, "$gateway/", 9))
        return true;
    size_t n = strlen(topic);
    const char *s1 = strchr(topic, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    return (access == CLOUD_ACL_SUBSCRIBE || access == CLOUD_ACL_READ) && topic[0] != '$' && s2 &&
           !strchr(s2 + 1, '/') && n > 6 && !strcmp(topic + n - 6, "/event");
}

/* Device rights: publish $thing/up/<kind>/<P>/<D>, subscribe and receive $thing/down/<kind>/<P>/<D>
 * (<kind> may be '+' in a subscription), and the OTA pair above. <P>/<D> must be the caller's
 * own registered identity. */
static bool device_may_thing(const cloud_acl_registry_t *r, const char *client_id, const char *topic,
                             cloud_acl_access_t access)
{
    char buf[256], *lv[6];
    strcpy(buf, topic);
    int n = 0;
    for (char *p = buf, *s; p; n++) {
        if (n == 5)
            return false;
        lv[n] = p;
        s = strchr(p, '/');
        if (s)
            *s++ = 0;
        p = s;
    }
    if (n != 5 || strcmp(lv[0], "$thing"))
        return false;
    const char *dir = access == CLOUD_ACL_PUBLISH ? "up" : "down";
    if (strcmp(lv[1], dir) || !*lv[2] || !strcmp(lv[2], "#"))
        return false;
    if (!strcmp(lv[2], "+") && access != CLOUD_ACL_SUBSCRIBE)
        return false;
    for (int i = 2; i < 5; i++)
        if ((i > 2 || strcmp(lv[i], "+")) && strpbrk(lv[i], "+#"))
            return false;
    size_t pl = strlen(lv[3]);
    if (!pl || !*lv[4] || strncmp(client_id, lv[3], pl) || strcmp(client_id + pl, lv[4]))
        return false;
    /* Concatenation alone could be split elsewhere (AB/C vs A/BC); the registered split wins. */
    return r->device_exists(r->ctx, lv[3], lv[4]) == 1;
}

bool cloud_acl_device_may(const cloud_acl_registry_t *r, const char *client_id, const char *topic,
                          cloud_acl_access_t access)
{
    if (access == CLOUD_ACL_UNSUBSCRIBE)
        return true;
    if (!client_id || !topic || strlen(topic) >= 256)
        return false;
    if (!strncmp(topic, "$ota/", 5))
        return device_may_ota(r, client_id, topic, access);
    return device_may_thing(r, client_id, topic, access) || device_may_more(r, client_id, topic, access);
}
