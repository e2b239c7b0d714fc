/* suppress - the suppression list lookup and its negative cache; see suppress.h. */
#include "global/intake/suppress.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "util/ttlcache.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NEG_ENTRIES 4096

/* "not listed" answers, presence only, under "<account>:<address>" */
static const struct ttlcache_type neg_type = {0, NULL, NULL};
static struct ttlcache *negs;
static pthread_once_t negs_once = PTHREAD_ONCE_INIT;

static void negs_create(void)
{
    negs = ttlcache_create(&neg_type, NEG_ENTRIES, TTLCACHE_LOCKED);
}

/* neg_key - the cache key of addr; 0 when it does not fit (then not cached) */
static int neg_key(char *key, size_t keysz, long long account, const char *addr)
{
    pthread_once(&negs_once, negs_create);
    return (size_t)snprintf(key, keysz, "%lld:%s", account, addr) < keysz;
}

/* copy_text - src into dst, cut at a character boundary when too long */
static void copy_text(char *dst, size_t dstsz, const char *src)
{
    size_t n = strlen(src);

    if (n >= dstsz) {
        n = dstsz - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = 0;
}

enum tx_code suppress_lookup(struct db *db, long long account_id, struct suppress_query *q,
                             size_t n)
{
    json_t *list = json_array();
    struct db_res *res = NULL;
    enum tx_code rc;
    char *text;

    for (size_t i = 0; i < n; i++) {
        q[i].hit = 0;
        json_array_append_new(list, json_string(q[i].addr));
    }
    text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    if (text == NULL)
        return TX_RETRY_DB; /* an address that is not UTF-8: checked before, never here */
    rc = db_query(
        db, &res,
        "SELECT STRAIGHT_JOIN s.address, s.type, ROUND(UNIX_TIMESTAMP(s.created_at) * 1000), "
        "s.reason FROM JSON_TABLE(?, '$[*]' "
        "COLUMNS (a VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) k "
        "JOIN suppression s ON s.account_id = ? AND s.address = k.a "
        "WHERE s.expires_at IS NULL OR s.expires_at > UTC_TIMESTAMP(3)",
        "si", text, account_id);
    xfree(text);
    if (rc != TX_OK)
        return TX_RETRY_DB;
    for (size_t r = 0; r < db_res_rows(res); r++) {
        const char *addr = db_res_get(res, r, 0), *type = db_res_get(res, r, 1),
                   *reason = db_res_get(res, r, 3);
        for (size_t i = 0; addr && i < n; i++) {
            if (q[i].hit || strcmp(q[i].addr, addr) != 0)
                continue;
            q[i].hit = 1;
            copy_text(q[i].entry.type, sizeof(q[i].entry.type), type ? type : "MANUAL");
            q[i].entry.created_ms = db_res_int(res, r, 2, 0);
            copy_text(q[i].entry.reason, sizeof(q[i].entry.reason), reason ? reason : "");
        }
    }
    db_res_free(res);
    return TX_OK;
}

int suppress_check(struct db *db, long long account_id, const char *addr, int64_t cache_ms,
                   struct suppress_hit *hit)
{
    struct suppress_query q = {addr, 0, {{0}, 0, {0}}};
    char key[400];
    int cacheable = neg_key(key, sizeof(key), account_id, addr);

    if (cacheable && ttlcache_get(negs, key, NULL))
        return 0;
    if (suppress_lookup(db, account_id, &q, 1) != TX_OK)
        return -1;
    if (!q.hit) {
        if (cacheable)
            ttlcache_put(negs, key, NULL, cache_ms);
        return 0;
    }
    *hit = q.entry;
    return 1;
}

const char *suppress_subtype(const struct suppress_hit *h)
{
    return strcmp(h->type, "PREVIOUSLY_BOUNCED") == 0 ? "PREVIOUSLY_BOUNCED" : "SUPPRESSED";
}

char *suppress_describe(const struct suppress_hit *h)
{
    char ts[32], *d;

    timeutil_iso8601(ts, sizeof(ts), h->created_ms);
    if (strcmp(h->type, "PREVIOUSLY_BOUNCED") == 0)
        d = xasprintf("ts=\"%s\", reason=\"%s\"", ts, h->reason);
    else
        d = xasprintf("type=\"%s\", ts=\"%s\", reason=\"%s\"", h->type, ts, h->reason);
    if (!codec_utf8_valid(d, strlen(d))) {
        xfree(d);
        d = xstrdup("suppressed");
    }
    return d;
}
