/* inboundaddr - what an address at the bounce domains stands for; see inboundaddr.h. */
#include "global/inbound/inboundaddr.h"
#include "global/ids.h"
#include "global/verp.h"
#include "util/ttlcache.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CACHE_ENTRIES 4096
#define MAX_ACCOUNTS 8 /* accounts kept per shared bounce domain */

/* one answer: the accounts of a bounce domain, or the account of a rewrite address (n 0 or 1) */
struct answer {
    int n;
    long long account[MAX_ACCOUNTS];
};

static const struct ttlcache_type answer_type = {sizeof(struct answer), NULL, NULL};
static struct ttlcache *cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_create(void)
{
    cache = ttlcache_create(&answer_type, CACHE_ENTRIES, TTLCACHE_LOCKED | TTLCACHE_NOCASE);
}

const char *inboundaddr_kind_name(enum inboundaddr_kind kind)
{
    static const char *const names[] = {"foreign", "unknown", "forged", "verp", "role", "rewrite"};

    return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "foreign";
}

int inboundaddr_is_role(const char *local, const char *roles)
{
    size_t len = strlen(local);

    for (const char *p = roles; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n && n == len && strncasecmp(p, local, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* answers - the account ids of a query's rows into a */
static void answers(struct answer *a, struct db_res *res)
{
    memset(a, 0, sizeof(*a));
    for (size_t r = 0; r < db_res_rows(res) && a->n < MAX_ACCOUNTS; r++)
        a->account[a->n++] = db_res_int(res, r, 0, 0);
}

/*
 * ask - the answer under key: cached, else the query's with the one
 * value arg (when db is not NULL). 1 answered, 0 not cached and no db,
 * -1 database trouble.
 */
static int ask(struct db *db, const char *key, const char *sql, const char *arg, int64_t ttl_ms,
               struct answer *a)
{
    struct db_res *res;

    pthread_once(&cache_once, cache_create);
    if (ttlcache_get(cache, key, a))
        return 1;
    if (db == NULL)
        return 0;
    if (db_query(db, &res, sql, "s", arg) != TX_OK)
        return -1;
    answers(a, res);
    db_res_free(res);
    ttlcache_put(cache, key, a, ttl_ms);
    return 1;
}

/* job_account - the account of a VERP address at a shared bounce domain: its job's, when that
 * account names the domain (else 0) */
static int job_account(struct db *db, const char *rid, const char *domain, long long *acct)
{
    char job[40];
    struct db_res *res;

    if (db == NULL)
        return 0;
    snprintf(job, sizeof(job), "%.36s", rid);
    if (db_query(db, &res,
                 "SELECT j.account_id FROM job j WHERE j.job_id = ? AND j.account_id IN "
                 "(SELECT account_id FROM sender_domain WHERE LOWER(bounce_domain) = LOWER(?))",
                 "ss", job, domain) != TX_OK)
        return -1;
    *acct = db_res_rows(res) == 1 ? db_res_int(res, 0, 0, 0) : 0;
    db_res_free(res);
    return 1;
}

/* at_bounce_domain - the kind of local at a bounce domain with the accounts dom */
static int at_bounce_domain(struct db *db, const char *local, const char *domain, const char *roles,
                            const struct answer *dom, struct inboundaddr *out)
{
    size_t len = strlen(local);

    if (inboundaddr_is_role(local, roles)) {
        out->kind = INBOUNDADDR_ROLE;
        out->account_id = dom->account[0];
        return 1;
    }
    if (len != VERP_LOCAL_LEN || strncasecmp(local, "b1", 2) != 0) {
        out->kind = INBOUNDADDR_UNKNOWN;
        return 1;
    }
    if (verp_decode(local, len, out->rid, sizeof(out->rid)) < 0) {
        out->kind = INBOUNDADDR_FORGED;
        return 1;
    }
    if (dom->n == 1) {
        out->kind = INBOUNDADDR_VERP;
        out->account_id = dom->account[0];
        return 1;
    }
    int r = job_account(db, out->rid, domain, &out->account_id);
    if (r == 1)
        out->kind = out->account_id ? INBOUNDADDR_VERP : INBOUNDADDR_UNKNOWN;
    if (out->kind != INBOUNDADDR_VERP)
        out->rid[0] = 0;
    return r;
}

/* classify - 1 answered, 0 not known without the database (db NULL), -1 database trouble */
static int classify(struct db *db, const char *local, const char *domain, const char *roles,
                    int64_t ttl_ms, struct inboundaddr *out)
{
    char key[600];
    struct answer a;
    int r;

    memset(out, 0, sizeof(*out));
    snprintf(key, sizeof(key), "r:%s@%s", local, domain);
    r = ask(db, key,
            "SELECT account_id FROM envelope_rewrite WHERE LOWER(rewrite_from) = "
            "LOWER(?) ORDER BY account_id LIMIT 1",
            key + 2, ttl_ms, &a);
    if (r != 1)
        return r;
    if (a.n) {
        out->kind = INBOUNDADDR_REWRITE;
        out->account_id = a.account[0];
        return 1;
    }
    snprintf(key, sizeof(key), "d:%s", domain);
    r = ask(db, key,
            "SELECT DISTINCT account_id FROM sender_domain WHERE LOWER(bounce_domain) = "
            "LOWER(?) ORDER BY account_id LIMIT 8",
            domain, ttl_ms, &a);
    if (r != 1)
        return r;
    if (a.n == 0) {
        out->kind = INBOUNDADDR_FOREIGN;
        return 1;
    }
    return at_bounce_domain(db, local, domain, roles, &a, out);
}

enum tx_code inboundaddr_classify(struct db *db, const char *local, const char *domain,
                                  const char *roles, int64_t ttl_ms, struct inboundaddr *out)
{
    return classify(db, local, domain, roles, ttl_ms, out) == 1 ? TX_OK : TX_RETRY_DB;
}

int inboundaddr_cached(const char *local, const char *domain, const char *roles,
                       struct inboundaddr *out)
{
    return classify(NULL, local, domain, roles, 0, out) == 1;
}

void inboundaddr_cache_clear(void)
{
    pthread_once(&cache_once, cache_create);
    ttlcache_clear(cache);
}
