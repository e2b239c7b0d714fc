/*
 * hash - FNV-1a (32 bit): h = (h ^ byte) * 16777619 from 2166136261.
 */
#include "util/hash.h"

#define FNV1A_PRIME 16777619u

uint32_t hash_fnv1a_add(uint32_t h, const void *p, size_t len)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * FNV1A_PRIME;
    return h;
}

uint32_t hash_fnv1a(const void *p, size_t len)
{
    return hash_fnv1a_add(HASH_FNV1A_INIT, p, len);
}

uint32_t hash_fnv1a_str(const char *s)
{
    uint32_t h = HASH_FNV1A_INIT;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * FNV1A_PRIME;
    return h;
}

uint32_t hash_fnv1a_strcase(const char *s)
{
    uint32_t h = HASH_FNV1A_INIT;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ (unsigned)(*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p)) * FNV1A_PRIME;
    return h;
}
