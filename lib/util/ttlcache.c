/*
 * ttlcache - fixed-capacity TTL cache with LRU eviction: a chained hash
 * table over the entries and one doubly linked list in order of use
 * (most recent first). Each entry is one allocation: header, value,
 * key.
 */
#include "util/ttlcache.h"
#include "util/hash.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdalign.h>
#include <string.h>
#include <strings.h>

struct entry {
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* use order: prev is more recent */
    uint32_t hash;
    int64_t expires; /* monotonic ms */
    char *key;       /* inside this allocation, after the value */
    alignas(max_align_t) unsigned char value[];
};

struct ttlcache {
    const struct ttlcache_type *type;
    size_t capacity, count, nbuckets;
    int flags;
    struct entry **buckets;
    struct entry *first, *last; /* most and least recently used */
    pthread_mutex_t lock;
};

static void lock(struct ttlcache *c)
{
    if (c->flags & TTLCACHE_LOCKED)
        pthread_mutex_lock(&c->lock);
}

static void unlock(struct ttlcache *c)
{
    if (c->flags & TTLCACHE_LOCKED)
        pthread_mutex_unlock(&c->lock);
}

struct ttlcache *ttlcache_create(const struct ttlcache_type *type, size_t capacity, int flags)
{
    struct ttlcache *c = xcalloc(1, sizeof(*c));

    c->type = type;
    c->capacity = capacity;
    c->flags = flags;
    for (c->nbuckets = 1; c->nbuckets < capacity; c->nbuckets <<= 1)
        ;
    c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
    if (flags & TTLCACHE_LOCKED)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

static uint32_t key_hash(const struct ttlcache *c, const char *key)
{
    return c->flags & TTLCACHE_NOCASE ? hash_fnv1a_strcase(key) : hash_fnv1a_str(key);
}

static struct entry *find(struct ttlcache *c, const char *key, uint32_t h)
{
    for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h &&
            (c->flags & TTLCACHE_NOCASE ? strcasecmp(e->key, key) : strcmp(e->key, key)) == 0)
            return e;
    return NULL;
}

static void use_unlink(struct ttlcache *c, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->first = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->last = e->prev;
}

static void use_front(struct ttlcache *c, struct entry *e)
{
    e->prev = NULL;
    e->next = c->first;
    if (c->first)
        c->first->prev = e;
    else
        c->last = e;
    c->first = e;
}

/* drop - unlink e from both lists, release its value, free it */
static void drop(struct ttlcache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    use_unlink(c, e);
    if (c->type->clear)
        c->type->clear(e->value);
    xfree(e);
    c->count--;
}

static void copy_value(const struct ttlcache *c, void *dst, const void *src)
{
    if (c->type->copy)
        c->type->copy(dst, src);
    else if (c->type->size)
        memcpy(dst, src, c->type->size);
}

/* lookup - 1 fresh, 2 expired (only when stale is set), 0 absent; a hit is moved to the front */
static int lookup(struct ttlcache *c, const char *key, void *out, int stale)
{
    uint32_t h = key_hash(c, key);
    struct entry *e;
    int hit = 0;

    lock(c);
    e = find(c, key, h);
    if (e)
        hit = e->expires > timeutil_mono_ms() ? 1 : 2;
    if (hit == 2 && !stale)
        hit = 0;
    if (hit) {
        use_unlink(c, e);
        use_front(c, e);
        if (out)
            copy_value(c, out, e->value);
    }
    unlock(c);
    return hit;
}

int ttlcache_get(struct ttlcache *c, const char *key, void *out)
{
    return lookup(c, key, out, 0);
}

int ttlcache_get_stale(struct ttlcache *c, const char *key, void *out)
{
    return lookup(c, key, out, 1);
}

void ttlcache_put(struct ttlcache *c, const char *key, const void *value, int64_t ttl_ms)
{
    uint32_t h = key_hash(c, key);
    size_t klen = strlen(key) + 1;
    struct entry *e;
    int64_t now;

    lock(c);
    e = find(c, key, h);
    if (e && (ttl_ms <= 0 || c->capacity == 0)) {
        drop(c, e);
        e = NULL;
    }
    if (ttl_ms <= 0 || c->capacity == 0)
        goto out;
    if (e) {
        if (c->type->clear)
            c->type->clear(e->value);
        use_unlink(c, e);
    } else {
        if (c->count == c->capacity)
            drop(c, c->last);
        e = xmalloc(sizeof(*e) + c->type->size + klen);
        e->key = (char *)e->value + c->type->size;
        memcpy(e->key, key, klen);
        e->hash = h;
        e->hnext = c->buckets[h & (c->nbuckets - 1)];
        c->buckets[h & (c->nbuckets - 1)] = e;
        c->count++;
    }
    copy_value(c, e->value, value);
    now = timeutil_mono_ms();
    e->expires = ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms;
    use_front(c, e);
out:
    unlock(c);
}

int ttlcache_remove(struct ttlcache *c, const char *key)
{
    struct entry *e;

    lock(c);
    e = find(c, key, key_hash(c, key));
    if (e)
        drop(c, e);
    unlock(c);
    return e != NULL;
}

void ttlcache_clear(struct ttlcache *c)
{
    lock(c);
    while (c->first)
        drop(c, c->first);
    unlock(c);
}

size_t ttlcache_count(struct ttlcache *c)
{
    size_t n;

    lock(c);
    n = c->count;
    unlock(c);
    return n;
}

void ttlcache_free(struct ttlcache *c)
{
    if (c == NULL)
        return;
    ttlcache_clear(c);
    if (c->flags & TTLCACHE_LOCKED)
        pthread_mutex_destroy(&c->lock);
    xfree(c->buckets);
    xfree(c);
}
