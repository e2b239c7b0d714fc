/* senderdomain - the sender-domain record and its cache; see senderdomain.h. */
#include "global/intake/senderdomain.h"
#include "global/account.h"
#include "util/ttlcache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CACHE_ENTRIES 2048

/* one answer: a record, or "not registered" */
struct answer {
    int found;
    struct sender_domain sd;
};

static const struct ttlcache_type answer_type = {sizeof(struct answer), NULL, NULL};
static struct ttlcache *cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

#define COLUMNS                                                                                    \
    "SELECT d.id, d.account_id, d.domain, d.tls_enforced, d.relay_host, d.tracking_host, "         \
    "d.bounce_domain, d.message_id_domain, d.dkim_policy, d.archive_bcc, d.ip_pool, a.settings, "  \
    "d.dkim_selector, SHA2(CONCAT(d.dkim_key, IFNULL(d.dkim_public, '')), 256), "                  \
    "d.dkim_ed_selector, SHA2(CONCAT(d.dkim_ed_key, IFNULL(d.dkim_ed_public, '')), 256) "          \
    "FROM sender_domain d JOIN account a ON a.id = d.account_id "

static void cache_create(void)
{
    cache = ttlcache_create(&answer_type, CACHE_ENTRIES, TTLCACHE_LOCKED);
}

static void copy_col(char *dst, size_t dstsz, struct db_res *r, size_t c)
{
    const char *v = db_res_get(r, 0, c);

    snprintf(dst, dstsz, "%s", v ? v : "");
}

/* fill - the record of the first row of r */
static void fill(struct sender_domain *sd, struct db_res *r)
{
    memset(sd, 0, sizeof(*sd)); /* whole: records are compared with memcmp */
    sd->id = db_res_int(r, 0, 0, 0);
    sd->account_id = db_res_int(r, 0, 1, 0);
    copy_col(sd->domain, sizeof(sd->domain), r, 2);
    sd->tls_enforced = db_res_int(r, 0, 3, 0) != 0;
    copy_col(sd->relay_host, sizeof(sd->relay_host), r, 4);
    copy_col(sd->tracking_host, sizeof(sd->tracking_host), r, 5);
    copy_col(sd->bounce_domain, sizeof(sd->bounce_domain), r, 6);
    copy_col(sd->message_id_domain, sizeof(sd->message_id_domain), r, 7);
    copy_col(sd->dkim_policy, sizeof(sd->dkim_policy), r, 8);
    copy_col(sd->archive_bcc, sizeof(sd->archive_bcc), r, 9);
    copy_col(sd->ip_pool, sizeof(sd->ip_pool), r, 10);
    json_t *settings = account_settings(db_res_get(r, 0, 11));
    const char *arc = json_string_value(json_object_get(settings, "archiveBcc"));
    snprintf(sd->account_archive_bcc, sizeof(sd->account_archive_bcc), "%s", arc ? arc : "");
    json_decref(settings);
    copy_col(sd->dkim_selector, sizeof(sd->dkim_selector), r, 12);
    copy_col(sd->dkim_fp, sizeof(sd->dkim_fp), r, 13);
    copy_col(sd->dkim_ed_selector, sizeof(sd->dkim_ed_selector), r, 14);
    copy_col(sd->dkim_ed_fp, sizeof(sd->dkim_ed_fp), r, 15);
}

/* cached - 1 registered, 0 not registered, -1 not in the cache */
static int cached(const char *key, struct sender_domain *out)
{
    struct answer a;

    pthread_once(&cache_once, cache_create);
    if (!ttlcache_get(cache, key, &a))
        return -1;
    *out = a.sd;
    return a.found;
}

/* lookup - the record under key: cached, else by domain (or by id when domain is NULL) */
static enum tx_code lookup(struct db *db, const char *key, long long account_id, const char *domain,
                           long long id, int64_t ttl_ms, struct sender_domain *out)
{
    struct db_res *res;
    struct answer a;
    enum tx_code rc;
    int known;

    if ((known = cached(key, out)) >= 0)
        return known ? TX_OK : TX_REJECT_POLICY;
    if (domain)
        rc = db_query(db, &res, COLUMNS "WHERE d.account_id = ? AND d.domain = ?", "is", account_id,
                      domain);
    else
        rc =
            db_query(db, &res, COLUMNS "WHERE d.id = ? AND d.account_id = ?", "ii", id, account_id);
    if (rc != TX_OK)
        return TX_RETRY_DB;
    memset(&a, 0, sizeof(a));
    a.found = db_res_rows(res) == 1;
    if (a.found)
        fill(&a.sd, res);
    db_res_free(res);
    ttlcache_put(cache, key, &a, ttl_ms);
    *out = a.sd;
    return a.found ? TX_OK : TX_REJECT_POLICY;
}

enum tx_code senderdomain_lookup(struct db *db, long long account_id, const char *domain,
                                 int64_t ttl_ms, struct sender_domain *out)
{
    char key[300];

    snprintf(key, sizeof(key), "n:%lld:%s", account_id, domain);
    return lookup(db, key, account_id, domain, 0, ttl_ms, out);
}

enum tx_code senderdomain_by_id(struct db *db, long long account_id, long long id, int64_t ttl_ms,
                                struct sender_domain *out)
{
    char key[64];

    snprintf(key, sizeof(key), "i:%lld:%lld", account_id, id);
    return lookup(db, key, account_id, NULL, id, ttl_ms, out);
}

int senderdomain_cached(long long account_id, const char *domain, struct sender_domain *out)
{
    char key[300];

    snprintf(key, sizeof(key), "n:%lld:%s", account_id, domain);
    return cached(key, out);
}

void senderdomain_cache_clear(void)
{
    pthread_once(&cache_once, cache_create);
    ttlcache_clear(cache);
}
