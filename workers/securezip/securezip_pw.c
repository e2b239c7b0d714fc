/*
 * securezip_pw - the password of one recipient block (contract §16.3):
 * CSPRNG bytes, rejection sampling into the 56 characters, whole-draw
 * rejection until the three classes are there.
 */
#include "workers/securezip/securezip.h"

#include <openssl/rand.h>
#include <string.h>

#define ALPHA_N 56
#define BYTE_LIMIT (256 / ALPHA_N * ALPHA_N) /* 224: bytes at or above it are thrown away */

static int rand_openssl(unsigned char *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int securezip_pw_length(const char *type)
{
    if (type == NULL || strcmp(type, "high") == 0)
        return 10;
    if (strcmp(type, "medium") == 0)
        return 8;
    if (strcmp(type, "very_high") == 0)
        return 15;
    return -1;
}

int securezip_pw_valid(const char *pw)
{
    int up = 0, low = 0, dig = 0;
    size_t n = strlen(pw);

    if (n != 8 && n != 10 && n != 15)
        return 0;
    for (const char *p = pw; *p; p++) {
        if (strchr(SECUREZIP_PW_ALPHABET, *p) == NULL)
            return 0;
        up |= *p >= 'A' && *p <= 'Z';
        low |= *p >= 'a' && *p <= 'z';
        dig |= *p >= '0' && *p <= '9';
    }
    return up && low && dig;
}

int securezip_pw_make(char *out, int len, securezip_rand_fn rnd)
{
    static const char alpha[] = SECUREZIP_PW_ALPHABET;
    unsigned char pool[64];
    size_t have = 0, used = 0;
    int rc = -1;

    _Static_assert(sizeof(alpha) - 1 == ALPHA_N, "56 characters");
    if (len != 8 && len != 10 && len != 15)
        return -1;
    if (rnd == NULL)
        rnd = rand_openssl;
    /* a valid draw has probability > 0.3 even at length 8: the loop ends */
    for (int tries = 0; tries < 10000; tries++) {
        int i = 0;
        while (i < len) {
            if (used == have) {
                if (rnd(pool, sizeof(pool)) < 0)
                    goto out;
                have = sizeof(pool), used = 0;
            }
            unsigned char b = pool[used++];
            if (b < BYTE_LIMIT)
                out[i++] = alpha[b % ALPHA_N];
        }
        out[len] = 0;
        if (securezip_pw_valid(out)) {
            rc = 0;
            goto out;
        }
    }
out:
    explicit_bzero(pool, sizeof(pool));
    if (rc < 0)
        explicit_bzero(out, (size_t)len + 1);
    return rc;
}
