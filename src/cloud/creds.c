/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT credentials and topics of IoT Explorer (docs/protocol/tencent.md#mqtt). */
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "cloud_int.h"
#include "smartcfg/cloud.h"

/* A decoded PSK is 16 bytes in practice; allow longer keys a private cloud may hand out. */
#define PSK_RAW_MAX SC_MQTT_PSK_MAX

/* Names end up in topics, in the ';'-separated username and in the '&'-joined dynreg
 * signature string: wildcards, separators, spaces or control bytes there would subscribe to
 * the wrong thing or forge fields. */
static bool name_ok(const char *s, size_t max)
{
    size_t n = sc_cloud_strnlen(s, max);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '+' || c == '#' || c == '/' || c == ';' || c == '"' || c == '\\' ||
            c == '&' || c == '=')
            return false;
    }
    return true;
}

bool sc_cloud_names_ok(const sc_identity_t *id)
{
    return name_ok(id->product_id, SC_PRODUCT_ID_MAX) && name_ok(id->device_name, SC_DEVICE_NAME_MAX);
}

sc_err_t sc_cloud_hmac_hex(bool sha1, const void *key, size_t key_len, const void *msg, size_t msg_len, char *out,
                           size_t cap)
{
    if (key == NULL || msg == NULL || out == NULL)
        return SC_ERR_INVAL;
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(sha1 ? MBEDTLS_MD_SHA1 : MBEDTLS_MD_SHA256);
    uint8_t mac[32];
    if (md == NULL || mbedtls_md_hmac(md, key, key_len, msg, msg_len, mac) != 0)
        return SC_ERR_UNSUPPORTED;
    sc_sb_t sb;
    sc_sb_init(&sb, out, cap);
    sc_sb_hex(&sb, mac, mbedtls_md_get_size(md));
    sc_wipe(mac, sizeof mac);
    return sc_sb_finish(&sb, NULL);
}

/* The PSK as key bytes. */
sc_err_t sc_cloud_psk_decode(const char *psk_b64, uint8_t key[PSK_RAW_MAX], size_t *klen)
{
    size_t plen = sc_cloud_strnlen(psk_b64, 2 * PSK_RAW_MAX);
    if (plen == 0)
        return SC_ERR_INVAL;
    if (plen > 2 * PSK_RAW_MAX)
        return SC_ERR_RANGE;
    if (mbedtls_base64_decode(key, PSK_RAW_MAX, klen, (const unsigned char *)psk_b64, plen) != 0 || *klen == 0) {
        sc_wipe(key, PSK_RAW_MAX);
        return SC_ERR_FORMAT;
    }
    return SC_OK;
}

sc_err_t sc_cloud_mqtt_password(const char *psk_b64, const char *username, bool sha1, char *out, size_t cap)
{
    if (psk_b64 == NULL || username == NULL || out == NULL)
        return SC_ERR_INVAL;
    uint8_t key[PSK_RAW_MAX];
    size_t klen = 0;
    sc_err_t rc = sc_cloud_psk_decode(psk_b64, key, &klen);
    if (rc != SC_OK)
        return rc;
    char hex[65];
    rc = sc_cloud_hmac_hex(sha1, key, klen, username, strlen(username), hex, sizeof hex);
    sc_wipe(key, sizeof key);
    if (rc != SC_OK)
        return rc;
    sc_sb_t sb;
    sc_sb_init(&sb, out, cap);
    sc_sb_str(&sb, hex);
    sc_sb_str(&sb, sha1 ? ";hmacsha1" : ";hmacsha256");
    sc_wipe(hex, sizeof hex);
    return sc_sb_finish(&sb, NULL);
}

/* Gateway bind (docs/at.md "Gateway"): proof that the gateway holds the sub-device's PSK. */
sc_err_t sc_cloud_gw_bind_sign(const char *psk_b64, const char *sub_pid, const char *sub_dn, uint32_t random,
                               uint64_t expiry, char *out, size_t cap)
{
    if (psk_b64 == NULL || sub_pid == NULL || sub_dn == NULL || out == NULL)
        return SC_ERR_INVAL;
    char text[SC_PRODUCT_ID_MAX + SC_DEVICE_NAME_MAX + 40];
    sc_sb_t sb;
    sc_sb_init(&sb, text, sizeof text);
    sc_sb_str(&sb, sub_pid);
    sc_sb_str(&sb, sub_dn);
    sc_sb_str(&sb, ";");
    sc_sb_u64(&sb, random);
    sc_sb_str(&sb, ";");
    sc_sb_u64(&sb, expiry);
    size_t tlen = 0;
    if (sc_sb_finish(&sb, &tlen) != SC_OK)
        return SC_ERR_RANGE;
    uint8_t key[PSK_RAW_MAX], mac[32];
    size_t klen = 0, olen = 0;
    sc_err_t rc = sc_cloud_psk_decode(psk_b64, key, &klen);
    if (rc != SC_OK)
        return rc;
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (md == NULL || mbedtls_md_hmac(md, key, klen, (const uint8_t *)text, tlen, mac) != 0)
        rc = SC_ERR_UNSUPPORTED;
    else if (mbedtls_base64_encode((unsigned char *)out, cap, &olen, mac, sizeof mac) != 0)
        rc = SC_ERR_RANGE;
    sc_wipe(key, sizeof key);
    sc_wipe(mac, sizeof mac);
    return rc;
}

sc_err_t sc_cloud_mqtt_password_check(const char *psk_b64, const char *username, const char *password, bool *sha1)
{
    if (psk_b64 == NULL || username == NULL || password == NULL)
        return SC_ERR_INVAL;
    const char *semi = strchr(password, ';');
    if (semi == NULL)
        return SC_ERR_FORMAT;
    bool use_sha1;
    if (strcmp(semi + 1, "hmacsha256") == 0)
        use_sha1 = false;
    else if (strcmp(semi + 1, "hmacsha1") == 0)
        use_sha1 = true;
    else
        return SC_ERR_UNSUPPORTED;
    if (sha1 != NULL)
        *sha1 = use_sha1;
    char expect[SC_CLOUD_PASSWORD_SIZE];
    sc_err_t rc = sc_cloud_mqtt_password(psk_b64, username, use_sha1, expect, sizeof expect);
    if (rc != SC_OK)
        return rc == SC_ERR_INVAL || rc == SC_ERR_RANGE ? SC_ERR_FORMAT : rc;
    /* Compare the hex part without an early exit; case-insensitive (a-f / A-F). */
    size_t want = (size_t)(strchr(expect, ';') - expect), given = (size_t)(semi - password);
    unsigned diff = want != given;
    for (size_t i = 0; i < want; i++) {
        unsigned char c = i < given ? (unsigned char)password[i] : 0;
        if (c >= 'A' && c <= 'F')
            c = (unsigned char)(c - 'A' + 'a');
        diff |= (unsigned)(c ^ (unsigned char)expect[i]);
    }
    sc_wipe(expect, sizeof expect);
    return diff == 0 ? SC_OK : SC_ERR_AUTH;
}

sc_err_t sc_cloud_mqtt_credentials(const sc_identity_t *id, const sc_cloud_config_t *cfg, uint64_t unix_now,
                                   const uint8_t random[SC_CLOUD_CONNID_LEN], sc_cloud_mqtt_creds_t *out)
{
    if (id == NULL || random == NULL || out == NULL)
        return SC_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (!sc_cloud_names_ok(id))
        return SC_ERR_INVAL;
    if (sc_cloud_strnlen(id->device_secret, SC_DEVICE_SECRET_MAX) == 0)
        return SC_ERR_INVAL;

    sc_sb_t sb;
    sc_sb_init(&sb, out->host, sizeof out->host);
    if (cfg != NULL && cfg->host[0] != '\0') {
        sc_sb_mem(&sb, cfg->host, sc_cloud_strnlen(cfg->host, sizeof cfg->host - 1));
    } else {
        sc_sb_str(&sb, id->product_id);
        sc_sb_str(&sb, SC_CLOUD_HOST_SUFFIX);
    }
    if (sc_sb_finish(&sb, NULL) != SC_OK)
        return SC_ERR_RANGE;
    out->tls = cfg != NULL && cfg->tls;
    out->tls_psk = out->tls && cfg->tls_psk;   /* a TLS flavour: without tls, plain MQTT */
    out->port = (cfg != NULL && cfg->port != 0) ? cfg->port : (out->tls ? SC_CLOUD_PORT_TLS : SC_CLOUD_PORT_PLAIN);

    sc_sb_init(&sb, out->client_id, sizeof out->client_id);
    sc_sb_str(&sb, id->product_id);
    sc_sb_str(&sb, id->device_name);
    if (sc_sb_finish(&sb, NULL) != SC_OK)
        return SC_ERR_RANGE;

    char connid[SC_CLOUD_CONNID_LEN];
    /* A-Z, a-z, 0-9 by the byte modulo 62 (slight bias is harmless: not a secret), worked out
     * instead of read from a 63-byte table */
    for (size_t i = 0; i < SC_CLOUD_CONNID_LEN; i++) {
        unsigned r = random[i] % 62u;
        connid[i] = (char)(r < 26 ? 'A' + r : r < 52 ? 'a' + r - 26 : '0' + r - 52);
    }
    uint64_t expiry = unix_now < SC_CLOUD_CLOCK_FLOOR ? SC_CLOUD_EXPIRY_UNKNOWN_CLOCK : unix_now + SC_CLOUD_CRED_VALIDITY_S;
    sc_sb_init(&sb, out->username, sizeof out->username);
    sc_sb_str(&sb, out->client_id);
    sc_sb_str(&sb, ";" SC_CLOUD_SDKAPPID ";");
    sc_sb_mem(&sb, connid, sizeof connid);
    sc_sb_str(&sb, ";");
    sc_sb_u64(&sb, expiry);
    if (sc_sb_finish(&sb, NULL) != SC_OK)
        return SC_ERR_RANGE;

    bool sha1 = cfg != NULL && cfg->hmac_sha1;
    sc_err_t rc = sc_cloud_mqtt_password(id->device_secret, out->username, sha1, out->password, sizeof out->password);
    if (rc != SC_OK)
        sc_wipe(out->password, sizeof out->password);
    return rc;
}

static sc_err_t topic(const sc_identity_t *id, const char *prefix, char *out, size_t cap)
{
    if (id == NULL || out == NULL)
        return SC_ERR_INVAL;
    if (!sc_cloud_names_ok(id))
        return SC_ERR_INVAL;
    sc_sb_t sb;
    sc_sb_init(&sb, out, cap);
    sc_sb_str(&sb, prefix);
    sc_sb_str(&sb, id->product_id);
    sc_sb_str(&sb, "/");
    sc_sb_str(&sb, id->device_name);
    return sc_sb_finish(&sb, NULL);
}

sc_err_t sc_cloud_topic_up(const sc_identity_t *id, char *out, size_t cap)
{
    return topic(id, "$thing/up/service/", out, cap);
}

sc_err_t sc_cloud_topic_down(const sc_identity_t *id, char *out, size_t cap)
{
    return topic(id, "$thing/down/service/", out, cap);
}
