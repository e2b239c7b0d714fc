/*
 * ttlcache - a small fixed-capacity cache of string-keyed values, each with
 * its own time to live; when full, the least recently used entry makes
 * room. For lookups that are cheap to repeat but not free (DNS answers,
 * database rows, credentials): a cache, never a store, so a miss is
 * always allowed.
 *
 * Values are fixed-size structs copied in and out: ttlcache_put() keeps a
 * copy of the caller's value, ttlcache_get() writes a copy into the
 * caller's struct. type->copy makes deep copies (strings, json_t, arrays
 * the struct points to) and type->clear releases them; both NULL for flat
 * structs. A presence-only cache (a negative cache) has size 0.
 *
 * An expired entry is not answered by ttlcache_get() but stays (the
 * capacity bounds it) until it is replaced, removed or evicted, so
 * ttlcache_get_stale() can serve it while the source is away.
 *
 * With TTLCACHE_LOCKED every call takes the cache's mutex (copies run
 * under it, so they must not call back into the cache); without it the
 * cache belongs to one thread. Expiry uses the monotonic clock.
 */
#ifndef TX_TTLCACHE_H
#define TX_TTLCACHE_H

#include <stddef.h>
#include <stdint.h>

struct ttlcache;

struct ttlcache_type {
    size_t size;                              /* bytes of one value; 0: presence only */
    void (*copy)(void *dst, const void *src); /* deep copy; NULL: memcpy of size bytes */
    void (*clear)(void *value);               /* release a copy; NULL: nothing to release */
};

#define TTLCACHE_LOCKED 1 /* one mutex around every call */
#define TTLCACHE_NOCASE 2 /* keys compare ASCII-case-insensitively */

/*
 * ttlcache_create - a cache of at most capacity entries (0: a cache that
 * keeps nothing, every get misses). Ownership: new (ttlcache_free);
 * type is borrowed and must outlive the cache.
 */
struct ttlcache *ttlcache_create(const struct ttlcache_type *type, size_t capacity, int flags);
/* ttlcache_free - clear every value and free the cache; accepts NULL */
void ttlcache_free(struct ttlcache *c);
/*
 * ttlcache_get - 1 and a copy of key's value in *out (when out is not
 * NULL) if key is cached and unexpired, else 0. A hit makes key the most
 * recently used. Ownership: *out is what type->copy makes: new for a deep
 * copy (release with type->clear); for a flat copy of a pointer, borrowed
 * until the entry goes (a later put, remove, clear or free).
 */
int ttlcache_get(struct ttlcache *c, const char *key, void *out);
/*
 * ttlcache_get_stale - ttlcache_get(), but expired entries answer too:
 * 1 for a fresh entry, 2 for an expired one, 0 when key is not held.
 */
int ttlcache_get_stale(struct ttlcache *c, const char *key, void *out);
/*
 * ttlcache_put - cache a copy of *value (NULL for size 0) under key for
 * ttl_ms (INT64_MAX: without end), replacing an entry of the same key; a new key in a full cache
 * evicts the least recently used entry. ttl_ms <= 0 stores nothing and
 * drops an entry of key. Ownership: value stays the caller's.
 */
void ttlcache_put(struct ttlcache *c, const char *key, const void *value, int64_t ttl_ms);
/* ttlcache_remove - drop key's entry; 1 if there was one (expired or not) */
int ttlcache_remove(struct ttlcache *c, const char *key);
/* ttlcache_clear - drop every entry */
void ttlcache_clear(struct ttlcache *c);
/* ttlcache_count - entries held, expired ones included */
size_t ttlcache_count(struct ttlcache *c);

#endif
