/* SPDX-License-Identifier: Apache-2.0 */
/* Dynamic registration (docs/protocol/tencent.md#dynamic-registration): the request the device
 * signs with the product secret, and the AES-128-CBC wrapped PSK the cloud answers with. */
#include <limits.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/aes.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "../common/json_depth.h"
#include "../common/json_out.h"
#include "cloud_int.h"
#include "smartcfg/cloud.h"

#define DYNREG_KEY_LEN 16
#define DYNREG_PLAIN_MAX 512   /* {"encryptionType":2,"psk":"..."} is ~50 bytes; certs are refused anyway */

sc_err_t sc_cloud_dynreg_signature(const char *product_secret, const char *product_id, const char *device_name,
                                   uint32_t nonce, uint64_t timestamp, char *out, size_t cap)
{
    if (product_secret == NULL || product_id == NULL || device_name == NULL || out == NULL)
        return SC_ERR_INVAL;
    if (product_secret[0] == '\0' || product_id[0] == '\0' || device_name[0] == '\0')
        return SC_ERR_INVAL;
    char msg[192];
    sc_sb_t sb;
    sc_sb_init(&sb, msg, sizeof msg);
    sc_sb_str(&sb, "deviceName=");
    sc_sb_str(&sb, device_name);
    sc_sb_str(&sb, "&nonce=");
    sc_sb_u64(&sb, nonce);
    sc_sb_str(&sb, "&productId=");
    sc_sb_str(&sb, product_id);
    sc_sb_str(&sb, "&timestamp=");
    sc_sb_u64(&sb, timestamp);
    size_t mlen;
    if (sc_sb_finish(&sb, &mlen) != SC_OK)
        return SC_ERR_RANGE;
    /* The reference base64-encodes the hex text, not the raw digest. */
    char hex[41];
    sc_err_t rc = sc_cloud_hmac_hex(true, product_secret, strlen(product_secret), msg, mlen, hex, sizeof hex);
    if (rc != SC_OK)
        return rc;
    size_t olen = 0;
    if (mbedtls_base64_encode((unsigned char *)out, cap, &olen, (const unsigned char *)hex, 40) != 0) {
        if (cap > 0)
            out[0] = '\0';
        return SC_ERR_NOSPACE;
    }
    return SC_OK;
}

sc_err_t sc_cloud_dynreg_request(const sc_identity_t *id, uint32_t nonce, uint64_t timestamp, char *out,
                                 size_t cap, size_t *len)
{
    if (id == NULL || out == NULL)
        return SC_ERR_INVAL;
    if (!sc_cloud_names_ok(id))
        return SC_ERR_INVAL;
    if (sc_cloud_strnlen(id->product_secret, SC_PRODUCT_SECRET_MAX) > SC_PRODUCT_SECRET_MAX)
        return SC_ERR_RANGE;
    char sig[64];
    sc_err_t rc = sc_cloud_dynreg_signature(id->product_secret, id->product_id, id->device_name, nonce, timestamp,
                                            sig, sizeof sig);
    if (rc != SC_OK)
        return rc;
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "deviceName", id->device_name) &&
              cJSON_AddNumberToObject(o, "nonce", nonce) && cJSON_AddStringToObject(o, "productId", id->product_id) &&
              cJSON_AddNumberToObject(o, "timestamp", (double)timestamp) && cJSON_AddStringToObject(o, "signature", sig);
    return sc_json_emit(o, ok, NULL, out, cap, len);
}

static sc_err_t aes_cbc(const char *product_secret, int mode, uint8_t *buf, size_t n)
{
    if (strlen(product_secret) < DYNREG_KEY_LEN)
        return SC_ERR_INVAL;
    uint8_t iv[16];
    memset(iv, '0', sizeof iv);
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int rc = mode == MBEDTLS_AES_DECRYPT
                 ? mbedtls_aes_setkey_dec(&aes, (const unsigned char *)product_secret, 128)
                 : mbedtls_aes_setkey_enc(&aes, (const unsigned char *)product_secret, 128);
    if (rc == 0)
        rc = mbedtls_aes_crypt_cbc(&aes, mode, n, iv, buf, buf);   /* in place is allowed */
    mbedtls_aes_free(&aes);
    return rc == 0 ? SC_OK : SC_ERR_FORMAT;
}

sc_err_t sc_cloud_dynreg_decode(const char *product_secret, const void *resp, size_t len, char *psk, size_t cap,
                                int32_t *cloud_code)
{
    if (product_secret == NULL || resp == NULL || psk == NULL || cap == 0)
        return SC_ERR_INVAL;
    psk[0] = '\0';
    if (cloud_code != NULL)
        *cloud_code = 0;
    if (strlen(product_secret) < DYNREG_KEY_LEN)
        return SC_ERR_INVAL;
    /* cJSON recurses per level of nesting: a response deeper than any registration answer is
     * refused before it can take the device's stack (as the 8266 and cloud message parsers do) */
    if (!sc_json_depth_ok(resp, len, SC_JSON_MAX_DEPTH))
        return SC_ERR_FORMAT;
    cJSON *root = cJSON_ParseWithLength((const char *)resp, len);
    if (root == NULL)
        return SC_ERR_FORMAT;
    sc_err_t rc = SC_ERR_FORMAT;
    cJSON *plain_root = NULL;
    uint8_t buf[DYNREG_PLAIN_MAX + 16];
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(code))
        goto done;
    if (code->valuedouble != 0) {
        /* cJSON's valueint is the code truncated, saturated beyond int: a saturated one that is
         * not the number itself was out of range */
        int v = code->valueint;
        if (cloud_code != NULL)
            *cloud_code = (v == INT_MAX || v == INT_MIN) && code->valuedouble != (double)v ? -1 : v;
        rc = SC_ERR_REFUSED;
        goto done;
    }
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
    if (!cJSON_IsString(payload) || payload->valuestring == NULL)
        goto done;
    size_t n = 0;
    if (mbedtls_base64_decode(buf, sizeof buf, &n, (const unsigned char *)payload->valuestring,
                              strlen(payload->valuestring)) != 0 ||
        n == 0 || n % 16 != 0 || n > DYNREG_PLAIN_MAX)
        goto done;
    rc = aes_cbc(product_secret, MBEDTLS_AES_DECRYPT, buf, n);
    if (rc != SC_OK)
        goto done;
    /* Zero padding: the plaintext ends at the first NUL; "len" (when given) may cut shorter. */
    size_t plen = 0;
    while (plen < n && buf[plen] != 0)
        plen++;
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(root, "len");
    if (cJSON_IsNumber(jl) && jl->valuedouble >= 1 && jl->valuedouble < (double)plen)
        plen = (size_t)jl->valuedouble;
    /* A wrong product secret gives random bytes: "not JSON" means the key did not fit. */
    rc = SC_ERR_AUTH;
    plain_root = cJSON_ParseWithLength((const char *)buf, plen);
    if (plain_root == NULL || !cJSON_IsObject(plain_root))
        goto done;
    const cJSON *et = cJSON_GetObjectItemCaseSensitive(plain_root, "encryptionType");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(plain_root, "psk");
    if (cJSON_IsNumber(et) && et->valuedouble == 1) {
        rc = SC_ERR_UNSUPPORTED;
        goto done;
    }
    rc = SC_ERR_FORMAT;
    if (!cJSON_IsString(p) || p->valuestring == NULL)
        goto done;
    size_t kl = strlen(p->valuestring);
    uint8_t raw[64];
    size_t rawn = 0;
    if (kl == 0 || kl > SC_DEVICE_SECRET_MAX ||
        mbedtls_base64_decode(raw, sizeof raw, &rawn, (const unsigned char *)p->valuestring, kl) != 0 || rawn == 0) {
        sc_wipe(raw, sizeof raw);
        goto done;
    }
    sc_wipe(raw, sizeof raw);
    if (kl >= cap) {
        rc = SC_ERR_NOSPACE;
        goto done;
    }
    memcpy(psk, p->valuestring, kl + 1);
    rc = SC_OK;
done:
    sc_wipe(buf, sizeof buf);
    if (plain_root != NULL) {
        /* The PSK text lives in cJSON's heap copy too. */
        const cJSON *p2 = cJSON_GetObjectItemCaseSensitive(plain_root, "psk");
        if (cJSON_IsString(p2) && p2->valuestring != NULL)
            sc_wipe(p2->valuestring, strlen(p2->valuestring));
        cJSON_Delete(plain_root);
    }
    cJSON_Delete(root);
    return rc;
}

sc_err_t sc_cloud_dynreg_response(const char *product_secret, const char *psk, char *out, size_t cap, size_t *len)
{
    if (product_secret == NULL || psk == NULL || out == NULL)
        return SC_ERR_INVAL;
    if (strlen(product_secret) < DYNREG_KEY_LEN)
        return SC_ERR_INVAL;
    uint8_t buf[DYNREG_PLAIN_MAX];
    memset(buf, 0, sizeof buf);
    cJSON *plain = cJSON_CreateObject();
    bool ok = plain && cJSON_AddNumberToObject(plain, "encryptionType", 2) && cJSON_AddStringToObject(plain, "psk", psk);
    size_t plen;
    sc_err_t erc = sc_json_emit(plain, ok, NULL, (char *)buf, sizeof buf - 16, &plen);
    if (erc != SC_OK)
        return erc == SC_ERR_NOSPACE ? SC_ERR_RANGE : erc;
    size_t n = (plen + 15u) / 16u * 16u;
    memset(buf + plen, 0, n - plen);   /* zero padding, as the cloud does */
    sc_err_t rc = aes_cbc(product_secret, MBEDTLS_AES_ENCRYPT, buf, n);
    if (rc != SC_OK)
        return rc;
    char b64[(DYNREG_PLAIN_MAX / 3 + 1) * 4 + 1];
    size_t bl = 0;
    if (mbedtls_base64_encode((unsigned char *)b64, sizeof b64, &bl, buf, n) != 0)
        return SC_ERR_NOSPACE;
    b64[bl] = '\0';
    cJSON *o = cJSON_CreateObject();
    ok = o && cJSON_AddNumberToObject(o, "code", 0) && cJSON_AddStringToObject(o, "message", "") &&
         cJSON_AddNumberToObject(o, "len", (double)plen) && cJSON_AddStringToObject(o, "payload", b64);
    return sc_json_emit(o, ok, NULL, out, cap, len);
}
