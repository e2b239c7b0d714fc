/*
 * hash - FNV-1a (32 bit) over bytes and strings, for hash tables and
 * cache slots. Not for anything an attacker may choose to collide with
 * when the table has no bound on its chains.
 */
#ifndef TX_HASH_H
#define TX_HASH_H

#include <stddef.h>
#include <stdint.h>

/* HASH_FNV1A_INIT - the FNV-1a offset basis: the seed of hash_fnv1a_add */
#define HASH_FNV1A_INIT 2166136261u

/* hash_fnv1a_add - continue hash h over len bytes at p */
uint32_t hash_fnv1a_add(uint32_t h, const void *p, size_t len);
/* hash_fnv1a - FNV-1a of len bytes at p */
uint32_t hash_fnv1a(const void *p, size_t len);
/* hash_fnv1a_str - FNV-1a of the bytes of s (without its NUL) */
uint32_t hash_fnv1a_str(const char *s);
/*
 * hash_fnv1a_strcase - FNV-1a of s with ASCII letters lowercased: equal
 * for strings that strcasecmp() finds equal (in the C locale).
 */
uint32_t hash_fnv1a_strcase(const char *s);

#endif
