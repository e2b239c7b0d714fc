/* suppress - the suppression list lookup and its negative cache; see suppress.h. */
#include "global/suppress.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NEG_SLOTS 4096

struct neg {
    long long account;
    char addr[256];
    int64_t expires;             /* monotonic ms */
};

static pthread_mutex_t neg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct neg negs[NEG_SLOTS];

static unsigned slot_of(long long account, const char *addr)
{
    unsigned h = 2166136261u ^ (unsigned)account;

    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % NEG_SLOTS;
}

static int neg_hit(long long account, const char *addr)
{
    unsigned s = slot_of(account, addr);
    int hit;

    pthread_mutex_lock(&neg_lock);
    hit = negs[s].account == account && negs[s].expires > time_mono_ms() &&
          strcmp(negs[s].addr, addr) == 0;
    pthread_mutex_unlock(&neg_lock);
    return hit;
}

static void neg_put(long long account, const char *addr, int64_t cache_ms)
{
    unsigned s = slot_of(account, addr);

    if (cache_ms <= 0 || strlen(addr) >= sizeof(negs[0].addr))
        return;
    pthread_mutex_lock(&neg_lock);
    negs[s].account = account;
    snprintf(negs[s].addr, sizeof(negs[s].addr), "%s", addr);
    negs[s].expires = time_mono_ms() + cache_ms;
    pthread_mutex_unlock(&neg_lock);
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

enum tx_code suppress_lookup(struct db *db, long long account_id, struct suppress_query *q, size_t n)
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
    rc = db_query(db, &res,
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

    if (neg_hit(account_id, addr))
        return 0;
    if (suppress_lookup(db, account_id, &q, 1) != TX_OK)
        return -1;
    if (!q.hit) {
        neg_put(account_id, addr, cache_ms);
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

    time_iso8601(ts, sizeof(ts), h->created_ms);
    if (strcmp(h->type, "PREVIOUSLY_BOUNCED") == 0)
        d = xasprintf("ts=\"%s\", reason=\"%s\"", ts, h->reason);
    else
        d = xasprintf("type=\"%s\", ts=\"%s\", reason=\"%s\"", h->type, ts, h->reason);
    if (!utf8_valid(d, strlen(d))) {
        xfree(d);
        d = xstrdup("suppressed");
    }
    return d;
}
