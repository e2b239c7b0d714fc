/* ttlcache_test - hits, expiry, LRU eviction order, capacity 0/1, deep copies, threads */
#include "tests/harness/ttest.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "util/ttlcache.h"

#include <pthread.h>

struct flat {
    int n;
    char s[8];
};

static const struct ttlcache_type flat_type = {sizeof(struct flat), NULL, NULL};
static const struct ttlcache_type presence = {0, NULL, NULL};

static int get_n(struct ttlcache *c, const char *key)
{
    struct flat v = {-1, ""};

    return ttlcache_get(c, key, &v) ? v.n : -1;
}

static void put_n(struct ttlcache *c, const char *key, int n)
{
    struct flat v = {n, "x"};

    ttlcache_put(c, key, &v, 60000);
}

TT_TEST(hit_miss_replace)
{
    struct ttlcache *c = ttlcache_create(&flat_type, 4, 0);
    struct flat v = {7, "seven"}, out;

    TT_EQ_INT(ttlcache_get(c, "a", &out), 0);
    ttlcache_put(c, "a", &v, 60000);
    v.n = 0; /* the cache kept its own copy */
    memset(&out, 0, sizeof(out));
    TT_EQ_INT(ttlcache_get(c, "a", &out), 1);
    TT_EQ_INT(out.n, 7);
    TT_EQ_STR(out.s, "seven");
    TT_EQ_INT(ttlcache_get(c, "a", NULL), 1);
    TT_EQ_INT(ttlcache_get(c, "A", NULL), 0); /* keys are case-sensitive */
    put_n(c, "a", 8);
    TT_EQ_INT(get_n(c, "a"), 8);
    TT_EQ_INT(ttlcache_count(c), 1);
    TT_EQ_INT(ttlcache_remove(c, "a"), 1);
    TT_EQ_INT(ttlcache_remove(c, "a"), 0);
    TT_EQ_INT(get_n(c, "a"), -1);
    ttlcache_free(c);
    ttlcache_free(NULL);
}

TT_TEST(expiry)
{
    struct ttlcache *c = ttlcache_create(&flat_type, 4, 0);

    ttlcache_put(c, "short", &(struct flat){1, ""}, 30);
    put_n(c, "long", 2);
    TT_EQ_INT(get_n(c, "short"), 1);
    timeutil_sleep_ms(60);
    TT_EQ_INT(get_n(c, "short"), -1);
    TT_EQ_INT(get_n(c, "long"), 2);
    /* the expired entry is still held: a stale read answers it */
    TT_EQ_INT(ttlcache_count(c), 2);
    struct flat v = {0, ""};
    TT_EQ_INT(ttlcache_get_stale(c, "short", &v), 2);
    TT_EQ_INT(v.n, 1);
    TT_EQ_INT(ttlcache_get_stale(c, "long", &v), 1);
    TT_EQ_INT(v.n, 2);
    TT_EQ_INT(ttlcache_get_stale(c, "none", &v), 0);
    TT_EQ_INT(ttlcache_remove(c, "short"), 1);
    TT_EQ_INT(ttlcache_count(c), 1);
    /* ttl 0 or less stores nothing and drops what was there */
    ttlcache_put(c, "long", &(struct flat){3, ""}, 0);
    TT_EQ_INT(get_n(c, "long"), -1);
    ttlcache_put(c, "neg", &(struct flat){3, ""}, -5);
    TT_EQ_INT(ttlcache_count(c), 0);
    /* an expired entry is refreshed by a put */
    ttlcache_put(c, "short", &(struct flat){4, ""}, 30);
    timeutil_sleep_ms(60);
    put_n(c, "short", 5);
    TT_EQ_INT(get_n(c, "short"), 5);
    /* without end: no overflow of the clock */
    ttlcache_put(c, "ever", &(struct flat){6, ""}, INT64_MAX);
    TT_EQ_INT(get_n(c, "ever"), 6);
    ttlcache_free(c);
}

TT_TEST(eviction_is_lru)
{
    struct ttlcache *c = ttlcache_create(&flat_type, 2, 0);

    /* a full cache drops its least recently used entry, here the expired "gone" */
    ttlcache_put(c, "gone", &(struct flat){1, ""}, 30);
    put_n(c, "old", 2);
    timeutil_sleep_ms(60);
    put_n(c, "new", 3);
    TT_EQ_INT(ttlcache_get_stale(c, "gone", NULL), 0);
    TT_EQ_INT(get_n(c, "old"), 2);
    TT_EQ_INT(get_n(c, "new"), 3);
    ttlcache_free(c);
}

TT_TEST(lru_order)
{
    struct ttlcache *c = ttlcache_create(&flat_type, 3, 0);

    put_n(c, "a", 1);
    put_n(c, "b", 2);
    put_n(c, "c", 3);
    TT_EQ_INT(get_n(c, "a"), 1); /* a is now the most recently used; b the least */
    put_n(c, "d", 4);
    TT_EQ_INT(get_n(c, "b"), -1);
    TT_EQ_INT(get_n(c, "c"), 3);
    TT_EQ_INT(get_n(c, "a"), 1);
    TT_EQ_INT(get_n(c, "d"), 4);
    /* replacing a key refreshes it and evicts nothing */
    put_n(c, "c", 33);
    TT_EQ_INT(ttlcache_count(c), 3);
    put_n(c, "e", 5); /* least recently used: c was replaced last, so "a" */
    TT_EQ_INT(get_n(c, "a"), -1);
    TT_EQ_INT(get_n(c, "c"), 33);
    TT_EQ_INT(get_n(c, "d"), 4);
    TT_EQ_INT(get_n(c, "e"), 5);
    ttlcache_clear(c);
    TT_EQ_INT(ttlcache_count(c), 0);
    TT_EQ_INT(get_n(c, "e"), -1);
    ttlcache_free(c);
}

TT_TEST(capacity_0_and_1)
{
    struct ttlcache *c0 = ttlcache_create(&flat_type, 0, TTLCACHE_LOCKED);
    struct ttlcache *c1 = ttlcache_create(&flat_type, 1, 0);

    put_n(c0, "a", 1);
    TT_EQ_INT(get_n(c0, "a"), -1);
    TT_EQ_INT(ttlcache_count(c0), 0);
    TT_EQ_INT(ttlcache_remove(c0, "a"), 0);
    ttlcache_free(c0);

    put_n(c1, "a", 1);
    TT_EQ_INT(get_n(c1, "a"), 1);
    put_n(c1, "b", 2);
    TT_EQ_INT(get_n(c1, "a"), -1);
    TT_EQ_INT(get_n(c1, "b"), 2);
    put_n(c1, "b", 3);
    TT_EQ_INT(get_n(c1, "b"), 3);
    TT_EQ_INT(ttlcache_count(c1), 1);
    ttlcache_free(c1);
}

TT_TEST(nocase_and_presence)
{
    struct ttlcache *c = ttlcache_create(&presence, 2, TTLCACHE_NOCASE);

    ttlcache_put(c, "MX.Example.COM", NULL, 60000);
    TT_EQ_INT(ttlcache_get(c, "mx.example.com", NULL), 1);
    TT_EQ_INT(ttlcache_get(c, "mx.example.org", NULL), 0);
    ttlcache_put(c, "mx.EXAMPLE.com", NULL, 60000);
    TT_EQ_INT(ttlcache_count(c), 1);
    TT_EQ_INT(ttlcache_remove(c, "MX.EXAMPLE.COM"), 1);
    ttlcache_put(c, "", NULL, 60000); /* the empty key is a key */
    TT_EQ_INT(ttlcache_get(c, "", NULL), 1);
    ttlcache_free(c);
}

/* a value owning heap memory: copy duplicates, clear frees */
struct owned {
    char *s;
};

static int clears;

static void owned_copy(void *dst, const void *src)
{
    const struct owned *o = src;

    ((struct owned *)dst)->s = o->s ? xstrdup(o->s) : NULL;
}

static void owned_clear(void *v)
{
    struct owned *o = v;

    xfree(o->s);
    o->s = NULL;
    clears++;
}

static const struct ttlcache_type owned_type = {sizeof(struct owned), owned_copy, owned_clear};

TT_TEST(deep_copies)
{
    struct ttlcache *c = ttlcache_create(&owned_type, 1, 0);
    char text[] = "hello";
    struct owned v = {text}, out = {NULL};

    ttlcache_put(c, "k", &v, 60000);
    text[0] = 'j'; /* the cache holds its own copy */
    TT_EQ_INT(ttlcache_get(c, "k", &out), 1);
    TT_EQ_STR(out.s, "hello");
    TT_ASSERT(out.s != text);
    owned_clear(&out);
    clears = 0;
    ttlcache_put(c, "k", &v, 60000); /* replace: the old copy is cleared */
    TT_EQ_INT(clears, 1);
    ttlcache_put(c, "k2", &v, 60000); /* eviction clears */
    TT_EQ_INT(clears, 2);
    ttlcache_put(c, "k2", &v, 0); /* drop clears */
    TT_EQ_INT(clears, 3);
    ttlcache_put(c, "k3", &v, 60000);
    ttlcache_free(c); /* free clears */
    TT_EQ_INT(clears, 4);
}

static struct ttlcache *shared;

static void *hammer(void *arg)
{
    char key[16];
    long id = (long)arg;

    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%ld-%d", id, i % 50);
        put_n(shared, key, i);
        int n = get_n(shared, key);
        if (n != -1 && n != i)
            return (void *)1;
    }
    return NULL;
}

TT_TEST(locked_threads)
{
    pthread_t t[4];
    void *r;

    shared = ttlcache_create(&flat_type, 64, TTLCACHE_LOCKED);
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, (void *)i);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &r);
        TT_ASSERT(r == NULL);
    }
    TT_EQ_INT(ttlcache_count(shared), 64);
    ttlcache_free(shared);
}

TT_MAIN(TT_CASE(hit_miss_replace), TT_CASE(expiry), TT_CASE(eviction_is_lru), TT_CASE(lru_order),
        TT_CASE(capacity_0_and_1), TT_CASE(nocase_and_presence), TT_CASE(deep_copies),
        TT_CASE(locked_threads))
