/*
 * tracktoken - tracking tokens of contract §15.5; see tracktoken.h.
 *
 * The tag covers the tracking host the token is issued for (NUL-terminated)
 * before the payload. HMAC-SHA256 is computed from per-key SHA-256 states that have absorbed
 * key^ipad and key^opad once (RFC 2104), so a token costs two short
 * digests and no key schedule: the tracking host verifies one token per
 * request and render makes ~30 per recipient copy.
 */
#include "global/tracking/tracktoken.h"
#include "global/crypto.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACK_KEYS_MAX 32
#define TRACK_KEY_MIN 16
#define TRACK_KEY_MAX 128

struct track_key {
    unsigned id;
    EVP_MD_CTX *inner, *outer;
};

struct track_keys {
    int n;
    struct track_key key[TRACK_KEYS_MAX];
};

static int key_init(struct track_key *k, const unsigned char *key, size_t len)
{
    unsigned char pad[64], hk[32];
    int ok;

    if (len > 64) {
        crypto_sha256(hk, key, len);
        key = hk;
        len = 32;
    }
    k->inner = EVP_MD_CTX_new();
    k->outer = EVP_MD_CTX_new();
    memset(pad, 0x36, sizeof(pad));
    for (size_t i = 0; i < len; i++)
        pad[i] ^= key[i];
    ok = k->inner && k->outer && EVP_DigestInit_ex(k->inner, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(k->inner, pad, 64);
    memset(pad, 0x5c, sizeof(pad));
    for (size_t i = 0; i < len; i++)
        pad[i] ^= key[i];
    ok = ok && EVP_DigestInit_ex(k->outer, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(k->outer, pad, 64);
    explicit_bzero(pad, sizeof(pad));
    explicit_bzero(hk, sizeof(hk));
    return ok ? 0 : -1;
}

/* mac - HMAC-SHA256 of host | 0x00 | data under k */
static int mac(const struct track_key *k, const char *host, const void *data, size_t len,
               unsigned char out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char inner[32];
    unsigned int n = 0;
    int ok;

    if (host == NULL)
        host = "";
    ok = c && EVP_MD_CTX_copy_ex(c, k->inner) && EVP_DigestUpdate(c, host, strlen(host) + 1) &&
         EVP_DigestUpdate(c, data, len) && EVP_DigestFinal_ex(c, inner, &n) &&
         EVP_MD_CTX_copy_ex(c, k->outer) && EVP_DigestUpdate(c, inner, 32) &&
         EVP_DigestFinal_ex(c, out, &n);
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

void tracktoken_keys_free(struct track_keys *k)
{
    if (k == NULL)
        return;
    for (int i = 0; i < k->n; i++) {
        EVP_MD_CTX_free(k->key[i].inner);
        EVP_MD_CTX_free(k->key[i].outer);
    }
    xwipefree(k, sizeof(*k));
}

int tracktoken_keys_count(const struct track_keys *k)
{
    return k ? k->n : 0;
}

struct track_keys *tracktoken_keys_parse(const char *text, char *err, size_t errsz)
{
    struct track_keys *k = xcalloc(1, sizeof(*k));
    const char *p = text ? text : "";
    int lineno = 0;

    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *s = p, *e = p + len;

        lineno++;
        p = eol ? eol + 1 : p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (s == e || *s == '#')
            continue;
        const char *colon = memchr(s, ':', (size_t)(e - s));
        char idbuf[8];
        unsigned char key[TRACK_KEY_MAX];
        size_t hexlen;
        char *end;

        if (colon == NULL || colon == s || colon - s >= (long)sizeof(idbuf)) {
            snprintf(err, errsz, "tracking keys line %d: expected id:hexkey", lineno);
            goto fail;
        }
        memcpy(idbuf, s, (size_t)(colon - s));
        idbuf[colon - s] = 0;
        long id = strtol(idbuf, &end, 10);
        if (*end || id < 0 || id > 255) {
            snprintf(err, errsz, "tracking keys line %d: key id must be 0..255", lineno);
            goto fail;
        }
        hexlen = (size_t)(e - colon - 1);
        if (hexlen % 2 || hexlen / 2 < TRACK_KEY_MIN || hexlen / 2 > TRACK_KEY_MAX ||
            codec_hex_decode(key, colon + 1, hexlen / 2) < 0) {
            snprintf(err, errsz, "tracking keys line %d: key must be %d to %d bytes of hex", lineno,
                     TRACK_KEY_MIN, TRACK_KEY_MAX);
            goto fail;
        }
        for (int i = 0; i < k->n; i++)
            if (k->key[i].id == (unsigned)id) {
                snprintf(err, errsz, "tracking keys line %d: duplicate key id %ld", lineno, id);
                explicit_bzero(key, sizeof(key));
                goto fail;
            }
        if (k->n == TRACK_KEYS_MAX) {
            snprintf(err, errsz, "tracking keys: more than %d keys", TRACK_KEYS_MAX);
            explicit_bzero(key, sizeof(key));
            goto fail;
        }
        k->key[k->n].id = (unsigned)id;
        if (key_init(&k->key[k->n], key, hexlen / 2) < 0) {
            snprintf(err, errsz, "tracking keys: cannot set up HMAC");
            explicit_bzero(key, sizeof(key));
            k->n++;
            goto fail;
        }
        k->n++;
        explicit_bzero(key, sizeof(key));
    }
    if (k->n == 0) {
        snprintf(err, errsz, "no tracking key configured (tracking_keys_file)");
        goto fail;
    }
    return k;
fail:
    tracktoken_keys_free(k);
    return NULL;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int tracktoken_host(const char *s, char *out, size_t outsz)
{
    const char *p = s ? s : "", *e, *at;
    size_t n;

    if (outsz)
        out[0] = 0;
    if ((e = strstr(p, "://")) != NULL && e < p + strcspn(p, "/?#"))
        p = e + 3;
    e = p + strcspn(p, "/?#");
    /* user information ends at the last '@' of the authority */
    for (at = p; at < e; at++)
        if (*at == '@')
            p = at + 1;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(e - p));
        if (rb == NULL)
            return -1;
        n = (size_t)(rb + 1 - p);
    } else {
        n = strcspn(p, ":/?#");
        if (p + n > e)
            n = (size_t)(e - p);
    }
    if (n == 0 || n > TRACK_HOST_MAX || n >= outsz)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if ((unsigned char)ch <= 0x20 || ch == 0x7f)
            return -1;
        out[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
    }
    out[n] = 0;
    return 0;
}

int tracktoken_encode(const struct track_keys *k, const char *host, const struct track_token *t,
                      struct buf *out)
{
    unsigned char fixed[TRACK_FIXED_LEN + TRACK_URL_MAX + TRACK_TAG_LEN];
    size_t n = TRACK_FIXED_LEN;
    const struct track_key *key = &k->key[0];

    if (host == NULL || *host == 0)
        return -1;
    if (t->kind != TRACK_OPEN && t->kind != TRACK_CLICK && t->kind != TRACK_UNSUB)
        return -1;
    if (t->kind == TRACK_CLICK && (t->url == NULL || t->url_len == 0 || t->url_len > TRACK_URL_MAX))
        return -1;
    fixed[0] = TRACK_VERSION;
    fixed[1] = (unsigned char)key->id;
    fixed[2] = (unsigned char)t->kind;
    memcpy(fixed + 3, t->job.b, 16);
    put32(fixed + 19, t->block);
    put32(fixed + 23, t->addr);
    put32(fixed + 27, t->expiry);
    if (t->kind == TRACK_CLICK) {
        memcpy(fixed + n, t->url, t->url_len);
        n += t->url_len;
    }
    if (mac(key, host, fixed, n, fixed + n) < 0)
        return -1;
    return codec_b64url_encode(out, fixed, n + TRACK_TAG_LEN);
}

int tracktoken_decode(const struct track_keys *k, const char *host, const char *s, size_t len,
                      struct track_token *t, struct buf *scratch)
{
    unsigned char want[32];
    const unsigned char *p;
    const struct track_key *key = NULL;
    size_t n;

    memset(t, 0, sizeof(*t));
    buf_reset(scratch);
    if (k == NULL || host == NULL || *host == 0 ||
        len < ((TRACK_FIXED_LEN + TRACK_TAG_LEN) * 4 + 2) / 3 || len > TRACK_TOKEN_MAX ||
        codec_b64url_decode(scratch, s, len) < 0)
        return -1;
    p = (const unsigned char *)scratch->data;
    n = scratch->len;
    if (n < TRACK_FIXED_LEN + TRACK_TAG_LEN || p[0] != TRACK_VERSION)
        return -1;
    for (int i = 0; i < k->n; i++)
        if (k->key[i].id == p[1])
            key = &k->key[i];
    if (key == NULL)
        return -1;
    n -= TRACK_TAG_LEN;
    if (mac(key, host, p, n, want) < 0 || !crypto_ct_equal(want, p + n, TRACK_TAG_LEN))
        return -1;
    /* genuine: now the fields can be trusted */
    t->kind = p[2];
    t->key_id = p[1];
    memcpy(t->job.b, p + 3, 16);
    t->block = get32(p + 19);
    t->addr = get32(p + 23);
    t->expiry = get32(p + 27);
    switch (t->kind) {
    case TRACK_OPEN:
    case TRACK_UNSUB:
        if (n != TRACK_FIXED_LEN)
            return -1;
        break;
    case TRACK_CLICK:
        if (n == TRACK_FIXED_LEN)
            return -1;
        t->url = (const char *)p + TRACK_FIXED_LEN;
        t->url_len = n - TRACK_FIXED_LEN;
        scratch->len = n;
        scratch->data[n] = 0; /* the URL is a string (the tag is no longer needed) */
        break;
    default:
        return -1;
    }
    return 0;
}

char *tracktoken_rid(char *out, const struct track_token *t)
{
    char job[UUID_STR_LEN + 1];

    ids_uuid_format(job, &t->job);
    return ids_rid_format(out, job, t->block, t->addr);
}
