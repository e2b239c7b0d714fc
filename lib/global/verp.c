/* verp - recipient ids in the envelope sender; see verp.h. */
#include "global/verp.h"
#include "global/crypto.h"
#include "global/ids.h"
#include "util/codec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define VERP_PREFIX "b1"
#define VERP_ID_LEN 24
#define VERP_RAW_LEN (VERP_ID_LEN + VERP_TAG_LEN) /* 34 bytes */
#define VERP_B32_LEN ((VERP_RAW_LEN * 8 + 4) / 5) /* 55 characters */

static const char b32_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";

static unsigned char verp_key[VERP_KEY_LEN];
static int have_key;

void verp_set_key(const unsigned char key[VERP_KEY_LEN])
{
    memcpy(verp_key, key, VERP_KEY_LEN);
    have_key = 1;
}

int verp_set_key_from_master(const char *master_hex)
{
    unsigned char master[32], key[32];
    static const char label[] = "txmail-verp-v1";

    if (master_hex == NULL || strlen(master_hex) != 64 ||
        codec_hex_decode(master, master_hex, 32) < 0)
        return -1;
    crypto_hmac_sha256(key, master, sizeof(master), label, sizeof(label) - 1);
    verp_set_key(key);
    explicit_bzero(master, sizeof(master));
    explicit_bzero(key, sizeof(key));
    return 0;
}

int verp_have_key(void)
{
    return have_key;
}

/* b32_value - value of a base32 character in any case, -1 otherwise */
static int b32_value(int c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

static void tag_of(unsigned char tag[VERP_TAG_LEN], const unsigned char id[VERP_ID_LEN])
{
    unsigned char mac[32];

    crypto_hmac_sha256(mac, verp_key, sizeof(verp_key), id, VERP_ID_LEN);
    memcpy(tag, mac, VERP_TAG_LEN);
}

int verp_encode(const char *rid, char *out, size_t outsz)
{
    struct uuid u;
    uint32_t block, addr;
    unsigned char raw[VERP_RAW_LEN];
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    if (!have_key || outsz < VERP_LOCAL_LEN + 1 || ids_rid_parse(rid, &u, &block, &addr) < 0)
        return -1;
    memcpy(raw, u.b, 16);
    for (int i = 0; i < 4; i++) {
        raw[16 + i] = (unsigned char)(block >> (24 - 8 * i));
        raw[20 + i] = (unsigned char)(addr >> (24 - 8 * i));
    }
    tag_of(raw + VERP_ID_LEN, raw);
    memcpy(out, VERP_PREFIX, 2);
    o = 2;
    for (size_t i = 0; i < sizeof(raw); i++) {
        acc = acc << 8 | raw[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alpha[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alpha[(acc << (5 - bits)) & 31];
    out[o] = 0;
    return 0;
}

int verp_address(const char *rid, const char *bounce_domain, char *out, size_t outsz)
{
    char local[VERP_LOCAL_LEN + 1];
    int n;

    if (verp_encode(rid, local, sizeof(local)) < 0 || bounce_domain == NULL || !*bounce_domain)
        return -1;
    n = snprintf(out, outsz, "%s@%s", local, bounce_domain);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int verp_decode(const char *local, size_t len, char *rid_out, size_t outsz)
{
    unsigned char raw[VERP_RAW_LEN], want[VERP_TAG_LEN];
    uint32_t acc = 0, block, addr;
    int bits = 0;
    size_t o = 0;
    struct uuid u;
    char jid[UUID_STR_LEN + 1];

    if (!have_key || len != VERP_LOCAL_LEN || outsz < RID_STR_LEN + 1 ||
        (local[0] != 'b' && local[0] != 'B') || local[1] != '1')
        return -1;
    for (size_t i = 2; i < len; i++) {
        int v = b32_value((unsigned char)local[i]);
        if (v < 0)
            return -1;
        acc = (acc << 5 | (uint32_t)v) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            raw[o++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* canonical: exactly 34 bytes and the unused low bits are zero */
    if (o != VERP_RAW_LEN || (acc & ((1u << bits) - 1)) != 0)
        return -1;
    tag_of(want, raw);
    if (!crypto_ct_equal(want, raw + VERP_ID_LEN, VERP_TAG_LEN))
        return -1;
    memcpy(u.b, raw, 16);
    block = (uint32_t)raw[16] << 24 | (uint32_t)raw[17] << 16 | (uint32_t)raw[18] << 8 | raw[19];
    addr = (uint32_t)raw[20] << 24 | (uint32_t)raw[21] << 16 | (uint32_t)raw[22] << 8 | raw[23];
    ids_uuid_format(jid, &u);
    ids_rid_format(rid_out, jid, block, addr);
    return 0;
}
