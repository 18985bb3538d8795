/* SPDX-License-Identifier: Apache-2.0 */
/* The part of mbedTLS' API the smartcfg core calls (src/cloud/creds.c, src/cloud/dynreg.c),
 * for the Cortex-M4 self-test only: SHA-1, SHA-256, HMAC over them, base64 and AES-CBC.
 *
 * Why this exists: Debian ships mbedTLS for the host only (libmbedtls-dev: headers and x86-64
 * archives), no arm-none-eabi build and no package with its sources, and the project takes
 * nothing from outside Debian. So the bare-metal self-test links this small stand-in, written
 * from the public specifications (FIPS 180-4, RFC 2104, RFC 4648, FIPS 197) against
 * mbedTLS 2.28's public headers and documented return codes. It is checked against known
 * answers (tests/m4/selftest.c) and it is NOT part of the product: a firmware links the real
 * mbedTLS its SDK ships (ESP-IDF, Zephyr, ... all do). Not constant-time; test use only. */
#include <stdint.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/md5.h>

/* ---- SHA-1 / SHA-256 (FIPS 180-4) ---------------------------------------------------- */
typedef struct {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    size_t fill;
    int sha1;
} hash_t;

static uint32_t rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }
static uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = be32(p + 4 * i);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = be32(p + 4 * i);
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20)
            f = (b & c) | (~b & d), k = 0x5a827999;
        else if (i < 40)
            f = b ^ c ^ d, k = 0x6ed9eba1;
        else if (i < 60)
            f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
        else
            f = b ^ c ^ d, k = 0xca62c1d6;
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void hash_init(hash_t *s, int sha1)
{
    static const uint32_t iv1[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
    static const uint32_t iv256[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memset(s, 0, sizeof *s);
    s->sha1 = sha1;
    memcpy(s->h, sha1 ? iv1 : iv256, sha1 ? sizeof iv1 : sizeof iv256);
}

static void hash_update(hash_t *s, const uint8_t *p, size_t n)
{
    s->total += n;
    while (n) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill == 64) {
            if (s->sha1)
                sha1_block(s->h, s->block);
            else
                sha256_block(s->h, s->block);
            s->fill = 0;
        }
    }
}

static void hash_final(hash_t *s, uint8_t *out)
{
    uint64_t bits = s->total * 8;
    uint8_t pad[72] = { 0x80 };
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    for (int i = 0; i < 8; i++)
        pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    hash_update(s, pad, padlen + 8);
    for (int i = 0; i < (s->sha1 ? 5 : 8); i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

/* ---- md: the two digests the core names, and HMAC (RFC 2104) ------------------------- */
struct mbedtls_md_info_t {
    mbedtls_md_type_t type;
    unsigned char size;
};
static const mbedtls_md_info_t md_sha1 = { MBEDTLS_MD_SHA1, 20 };
static const mbedtls_md_info_t md_sha256 = { MBEDTLS_MD_SHA256, 32 };

const mbedtls_md_info_t *mbedtls_md_info_from_type(mbedtls_md_type_t md_type)
{
    return md_type == MBEDTLS_MD_SHA1 ? &md_sha1 : md_type == MBEDTLS_MD_SHA256 ? &md_sha256 : NULL;
}

unsigned char mbedtls_md_get_size(const mbedtls_md_info_t *md_info)
{
    return md_info ? md_info->size : 0;
}

int mbedtls_md_hmac(const mbedtls_md_info_t *md_info, const unsigned char *key, size_t keylen,
                    const unsigned char *input, size_t ilen, unsigned char *output)
{
    if (md_info == NULL)
        return MBEDTLS_ERR_MD_BAD_INPUT_DATA;
    int sha1 = md_info->type == MBEDTLS_MD_SHA1;
    uint8_t k[64] = { 0 }, pad[64], inner[32];
    hash_t s;
    if (keylen > 64) {   /* long keys are hashed first */
        hash_init(&s, sha1);
        hash_update(&s, key, keylen);
        hash_final(&s, k);
    } else if (keylen) {
        memcpy(k, key, keylen);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    hash_init(&s, sha1);
    hash_update(&s, pad, 64);
    hash_update(&s, input, ilen);
    hash_final(&s, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    hash_init(&s, sha1);
    hash_update(&s, pad, 64);
    hash_update(&s, inner, md_info->size);
    hash_final(&s, output);
    memset(k, 0, sizeof k);
    memset(pad, 0, sizeof pad);
    return 0;
}

/* ---- base64 (RFC 4648), with mbedTLS' documented buffer-size and error contract ------- */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int mbedtls_base64_encode(unsigned char *dst, size_t dlen, size_t *olen, const unsigned char *src, size_t slen)
{
    if (slen == 0) {
        *olen = 0;
        return 0;
    }
    size_t need = (slen + 2) / 3 * 4;
    if (dst == NULL || dlen < need + 1) {
        *olen = need + 1;
        return MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL;
    }
    unsigned char *p = dst;
    for (size_t i = 0; i < slen; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16;
        if (i + 1 < slen)
            v |= (uint32_t)src[i + 1] << 8;
        if (i + 2 < slen)
            v |= src[i + 2];
        *p++ = (unsigned char)b64[v >> 18];
        *p++ = (unsigned char)b64[(v >> 12) & 63];
        *p++ = i + 1 < slen ? (unsigned char)b64[(v >> 6) & 63] : '=';
        *p++ = i + 2 < slen ? (unsigned char)b64[v & 63] : '=';
    }
    *p = '\0';
    *olen = (size_t)(p - dst);
    return 0;
}

static int b64_value(unsigned char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Accepts what mbedTLS accepts: line breaks ("\n", "\r\n") anywhere, spaces only at a line's
 * start or the end, at most two '=' and nothing but '=' after the first one. */
int mbedtls_base64_decode(unsigned char *dst, size_t dlen, size_t *olen, const unsigned char *src, size_t slen)
{
    size_t n = 0, eq = 0;
    for (size_t i = 0; i < slen; i++) {
        size_t spaces = 0;
        while (i < slen && src[i] == ' ')
            i++, spaces++;
        if (i == slen)
            break;
        if (src[i] == '\n' || (src[i] == '\r' && i + 1 < slen && src[i + 1] == '\n'))
            continue;
        if (spaces)
            return MBEDTLS_ERR_BASE64_INVALID_CHARACTER;
        if (src[i] == '=') {
            if (++eq > 2)
                return MBEDTLS_ERR_BASE64_INVALID_CHARACTER;
        } else if (b64_value(src[i]) < 0 || eq) {
            return MBEDTLS_ERR_BASE64_INVALID_CHARACTER;
        }
        n++;
    }
    if (n == 0) {
        *olen = 0;
        return 0;
    }
    size_t out = (n * 6 + 7) / 8 - eq;
    if (dst == NULL || dlen < out) {
        *olen = out;
        return MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL;
    }
    uint32_t acc = 0;
    size_t k = 0, w = 0, pad = 0;
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = src[i];
        if (c == ' ' || c == '\r' || c == '\n')
            continue;
        if (c == '=')
            pad++;
        acc = acc << 6 | (uint32_t)(c == '=' ? 0 : b64_value(c));
        if (++k == 4) {
            dst[w++] = (unsigned char)(acc >> 16);
            if (pad < 2)
                dst[w++] = (unsigned char)(acc >> 8);
            if (pad < 1)
                dst[w++] = (unsigned char)acc;
            k = 0;
            acc = 0;
        }
    }
    *olen = w;
    return 0;
}

/* ---- AES (FIPS 197), byte-oriented, and CBC ------------------------------------------ */
static uint8_t sbox[256], inv_sbox[256];

static uint8_t xtime(uint8_t x) { return (uint8_t)((x << 1) ^ ((x >> 7) * 0x1b)); }
static uint8_t gmul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    while (b) {
        if (b & 1)
            r ^= a;
        a = xtime(a);
        b >>= 1;
    }
    return r;
}

/* The S-box is the multiplicative inverse in GF(2^8) followed by the affine map; computed
 * once instead of tabled. */
static void aes_tables(void)
{
    if (sbox[0] == 0x63)
        return;
    for (int x = 0; x < 256; x++) {
        uint8_t inv = 0;
        for (int y = 1; y < 256 && x; y++)
            if (gmul((uint8_t)x, (uint8_t)y) == 1) {
                inv = (uint8_t)y;
                break;
            }
        uint8_t s = inv;
        for (int r = 1; r < 5; r++)
            s ^= (uint8_t)((inv << r) | (inv >> (8 - r)));
        s ^= 0x63;
        sbox[x] = s;
        inv_sbox[s] = (uint8_t)x;
    }
}

void mbedtls_aes_init(mbedtls_aes_context *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

void mbedtls_aes_free(mbedtls_aes_context *ctx)
{
    if (ctx)
        memset(ctx, 0, sizeof *ctx);
}

/* Round keys as bytes in ctx->buf (room for AES-256's 15 x 16 bytes). */
static int expand(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits)
{
    if (keybits != 128 && keybits != 192 && keybits != 256)
        return MBEDTLS_ERR_AES_INVALID_KEY_LENGTH;
    aes_tables();
    unsigned nk = keybits / 32, nr = nk + 6, words = 4 * (nr + 1);
    uint8_t *w = (uint8_t *)ctx->buf;
    memcpy(w, key, 4 * nk);
    uint8_t rcon = 1;
    for (unsigned i = nk; i < words; i++) {
        uint8_t t[4];
        memcpy(t, w + 4 * (i - 1), 4);
        if (i % nk == 0) {
            uint8_t t0 = t[0];
            t[0] = (uint8_t)(sbox[t[1]] ^ rcon);
            t[1] = sbox[t[2]];
            t[2] = sbox[t[3]];
            t[3] = sbox[t0];
            rcon = xtime(rcon);
        } else if (nk > 6 && i % nk == 4) {
            for (int j = 0; j < 4; j++)
                t[j] = sbox[t[j]];
        }
        for (int j = 0; j < 4; j++)
            w[4 * i + (unsigned)j] = w[4 * (i - nk) + (unsigned)j] ^ t[j];
    }
    ctx->nr = (int)nr;
    ctx->rk = ctx->buf;
    return 0;
}

int mbedtls_aes_setkey_enc(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits)
{
    return expand(ctx, key, keybits);
}

/* The same schedule serves decryption: the inverse cipher walks it backwards. */
int mbedtls_aes_setkey_dec(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits)
{
    return expand(ctx, key, keybits);
}

static void add_key(uint8_t s[16], const uint8_t *k)
{
    for (int i = 0; i < 16; i++)
        s[i] ^= k[i];
}

static void mix(uint8_t s[16], const uint8_t m[4])
{
    for (int c = 0; c < 4; c++) {
        uint8_t *col = s + 4 * c, a[4];
        memcpy(a, col, 4);
        for (int r = 0; r < 4; r++)
            col[r] = gmul(a[0], m[(4 - r) % 4]) ^ gmul(a[1], m[(5 - r) % 4]) ^ gmul(a[2], m[(6 - r) % 4]) ^
                     gmul(a[3], m[(7 - r) % 4]);
    }
}

/* state byte (row r, column c) is s[4c + r]; ShiftRows moves row r left by r */
static void shift_rows(uint8_t s[16], int inverse)
{
    uint8_t t[16];
    for (int c = 0; c < 4; c++)
        for (int r = 0; r < 4; r++) {
            int from = inverse ? (c - r + 4) % 4 : (c + r) % 4;
            t[4 * c + r] = s[4 * from + r];
        }
    memcpy(s, t, 16);
}

static void encrypt_block(const mbedtls_aes_context *ctx, uint8_t s[16])
{
    static const uint8_t m[4] = { 2, 3, 1, 1 };
    const uint8_t *k = (const uint8_t *)ctx->buf;
    add_key(s, k);
    for (int r = 1; r <= ctx->nr; r++) {
        for (int i = 0; i < 16; i++)
            s[i] = sbox[s[i]];
        shift_rows(s, 0);
        if (r != ctx->nr)
            mix(s, m);
        add_key(s, k + 16 * r);
    }
}

static void decrypt_block(const mbedtls_aes_context *ctx, uint8_t s[16])
{
    static const uint8_t m[4] = { 14, 11, 13, 9 };
    const uint8_t *k = (const uint8_t *)ctx->buf;
    add_key(s, k + 16 * ctx->nr);
    for (int r = ctx->nr - 1; r >= 0; r--) {
        shift_rows(s, 1);
        for (int i = 0; i < 16; i++)
            s[i] = inv_sbox[s[i]];
        add_key(s, k + 16 * r);
        if (r)
            mix(s, m);
    }
}

int mbedtls_aes_crypt_cbc(mbedtls_aes_context *ctx, int mode, size_t length, unsigned char iv[16],
                          const unsigned char *input, unsigned char *output)
{
    if (length % 16)
        return MBEDTLS_ERR_AES_INVALID_INPUT_LENGTH;
    uint8_t b[16], next_iv[16];
    for (size_t off = 0; off < length; off += 16) {
        memcpy(b, input + off, 16);
        if (mode == MBEDTLS_AES_DECRYPT) {
            memcpy(next_iv, b, 16);
            decrypt_block(ctx, b);
            for (int i = 0; i < 16; i++)
                b[i] ^= iv[i];
            memcpy(iv, next_iv, 16);
        } else {
            for (int i = 0; i < 16; i++)
                b[i] ^= iv[i];
            encrypt_block(ctx, b);
            memcpy(iv, b, 16);
        }
        memcpy(output + off, b, 16);
    }
    return 0;
}

/* MD5 (the OTA image check): not in this stand-in. Every call fails, so an OTA download on the
 * emulated target ends in UPDATEFAIL, never in an unchecked image; the self-test runs no OTA
 * flow (the host tests and fuzz_ota cover it against the real mbedTLS). */
#define SC_SHIM_MD5_UNAVAILABLE (-0x002F) /* MBEDTLS_ERR_MD5_HW_ACCEL_FAILED */
void mbedtls_md5_init(mbedtls_md5_context *ctx) { memset(ctx, 0, sizeof *ctx); }
void mbedtls_md5_free(mbedtls_md5_context *ctx) { if (ctx) memset(ctx, 0, sizeof *ctx); }
int mbedtls_md5_starts_ret(mbedtls_md5_context *ctx) { (void)ctx; return SC_SHIM_MD5_UNAVAILABLE; }
int mbedtls_md5_update_ret(mbedtls_md5_context *ctx, const unsigned char *input, size_t ilen)
{
    (void)ctx; (void)input; (void)ilen;
    return SC_SHIM_MD5_UNAVAILABLE;
}
int mbedtls_md5_finish_ret(mbedtls_md5_context *ctx, unsigned char output[16])
{
    (void)ctx;
    memset(output, 0, 16);
    return SC_SHIM_MD5_UNAVAILABLE;
}
