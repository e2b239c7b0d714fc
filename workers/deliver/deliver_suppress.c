/*
 * deliver_suppress - the suppression check just before delivery
 * (contract §10.5, §13.1).
 *
 * The `suppression` table is keyed by account and lowercased bare
 * address; expired entries do not count. A "not listed" answer is kept
 * for at most deliver_suppress_cache (default 1 s) in a small
 * direct-mapped table, so a burst of retries does not hit the database
 * while a fresh bounce still stops the next message almost at once.
 * "Listed" answers are never cached: an entry deleted through the API
 * takes effect immediately.
 */
#include "workers/deliver/deliver.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEG_SLOTS 4096

struct neg {
    long long account;
    char addr[256];
    int64_t expires;
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

static void neg_put(long long account, const char *addr)
{
    unsigned s = slot_of(account, addr);

    if (deliver_conf.suppress_cache <= 0 || strlen(addr) >= sizeof(negs[0].addr))
        return;
    pthread_mutex_lock(&neg_lock);
    negs[s].account = account;
    snprintf(negs[s].addr, sizeof(negs[s].addr), "%s", addr);
    negs[s].expires = time_mono_ms() + deliver_conf.suppress_cache;
    pthread_mutex_unlock(&neg_lock);
}

int deliver_suppress_lookup(struct db *db, long long account, const char *addr,
                            struct suppress_hit *hit)
{
    struct db_res *res = NULL;
    int listed = 0;

    if (neg_hit(account, addr))
        return 0;
    if (db_query(db, &res,
                 "SELECT type, ROUND(UNIX_TIMESTAMP(created_at) * 1000), reason FROM suppression "
                 "WHERE account_id = ? AND address = ? "
                 "AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP(3))",
                 "is", (long long)account, addr) != TX_OK)
        return -1;
    if (db_res_rows(res) > 0) {
        const char *type = db_res_get(res, 0, 0), *reason = db_res_get(res, 0, 2);
        snprintf(hit->type, sizeof(hit->type), "%s", type ? type : "MANUAL");
        hit->created_ms = db_res_int(res, 0, 1, 0);
        snprintf(hit->reason, sizeof(hit->reason), "%s", reason ? reason : "");
        listed = 1;
    } else {
        neg_put(account, addr);
    }
    db_res_free(res);
    return listed;
}
