/* supplist - suppression list management (contract §13); see supplist.h. */
#include "global/manage/supplist.h"
#include "global/addr.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define COLUMNS                                                                                    \
    "SELECT address, type, ROUND(UNIX_TIMESTAMP(created_at) * 1000), "                             \
    "ROUND(UNIX_TIMESTAMP(last_attempt_at) * 1000), ROUND(UNIX_TIMESTAMP(expires_at) * 1000), "    \
    "reason, rid FROM suppression "
#define IN_FORCE "(expires_at IS NULL OR expires_at > UTC_TIMESTAMP(3))"

int supplist_address(char *out, size_t outsz, const char *in)
{
    struct addr a;
    size_t len;
    const char *s = addr_trim(in, strlen(in), &len);

    if (len == 0 || len > SUPPLIST_ADDRESS_MAX || addr_parse_bare(s, len, &a) < 0 ||
        strlen(a.bare) > SUPPLIST_ADDRESS_MAX || strlen(a.bare) >= outsz)
        return -1;
    addr_lower(out, outsz, a.bare);
    return 0;
}

int supplist_type_ok(const char *type)
{
    static const char *const types[] = {"PREVIOUSLY_BOUNCED", "TEMPORARY_SUPPRESSED", "MANUAL",
                                        "UNSUBSCRIBED", NULL};

    for (int i = 0; types[i]; i++)
        if (strcmp(type, types[i]) == 0)
            return 1;
    return 0;
}

static json_t *ts_or_null(int64_t ms)
{
    char ts[32];

    return ms < 0 ? json_null() : json_string(timeutil_iso8601(ts, sizeof(ts), ms));
}

json_t *supplist_entry_json(const struct supplist_entry *e)
{
    json_t *o = json_object();

    json_object_set_new(o, "email", json_string(e->email));
    json_object_set_new(o, "type", json_string(e->type));
    json_object_set_new(o, "createdTs", ts_or_null(e->created_ms));
    json_object_set_new(o, "lastAttemptTs", ts_or_null(e->last_attempt_ms));
    json_object_set_new(o, "expiresTs", ts_or_null(e->expires_ms));
    json_object_set_new(o, "reason", e->reason ? json_string(e->reason) : json_null());
    json_object_set_new(o, "recipientId", e->rid[0] ? json_string(e->rid) : json_null());
    return o;
}

void supplist_entry_clear(struct supplist_entry *e)
{
    xfree(e->reason);
    memset(e, 0, sizeof(*e));
}

void supplist_page_free(struct supplist_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        supplist_entry_clear(&p->items[i]);
    xfree(p->items);
    memset(p, 0, sizeof(*p));
}

/* entry_row - row i of a COLUMNS result into e */
static void entry_row(struct supplist_entry *e, struct db_res *r, size_t i)
{
    const char *v;

    memset(e, 0, sizeof(*e));
    snprintf(e->email, sizeof(e->email), "%s", db_res_get(r, i, 0) ? db_res_get(r, i, 0) : "");
    snprintf(e->type, sizeof(e->type), "%s", db_res_get(r, i, 1) ? db_res_get(r, i, 1) : "");
    e->created_ms = db_res_int(r, i, 2, 0);
    e->last_attempt_ms = db_res_get(r, i, 3) ? db_res_int(r, i, 3, 0) : -1;
    e->expires_ms = db_res_get(r, i, 4) ? db_res_int(r, i, 4, 0) : -1;
    e->reason = (v = db_res_get(r, i, 5)) != NULL ? xstrdup(v) : NULL;
    snprintf(e->rid, sizeof(e->rid), "%s", (v = db_res_get(r, i, 6)) != NULL ? v : "");
}

enum tx_code supplist_list(struct db *db, long long account, const char *type,
                           const struct supplist_cursor *cursor, size_t limit,
                           struct supplist_page *out)
{
    struct db_res *r = NULL;
    char after[32];
    long long fetch = (long long)limit + 1;
    enum tx_code rc;

    memset(out, 0, sizeof(*out));
    if (cursor && cursor->set) {
        timeutil_sql(after, sizeof(after), cursor->created_ms);
        rc = db_query(db, &r,
                      COLUMNS "WHERE account_id = ? AND " IN_FORCE " AND (? IS NULL OR type = ?) "
                              "AND (created_at < ? OR (created_at = ? AND address < ?)) "
                              "ORDER BY created_at DESC, address DESC LIMIT ?",
                      "isssssi", account, type, type, after, after, cursor->address, fetch);
    } else {
        rc = db_query(db, &r,
                      COLUMNS "WHERE account_id = ? AND " IN_FORCE " AND (? IS NULL OR type = ?) "
                              "ORDER BY created_at DESC, address DESC LIMIT ?",
                      "issi", account, type, type, fetch);
    }
    if (rc != TX_OK)
        return TX_RETRY_DB;
    out->n = db_res_rows(r);
    if (out->n > limit) {
        out->n = limit;
        out->more = 1;
    }
    out->items = xcalloc(out->n ? out->n : 1, sizeof(*out->items));
    for (size_t i = 0; i < out->n; i++)
        entry_row(&out->items[i], r, i);
    db_res_free(r);
    return TX_OK;
}

enum tx_code supplist_get(struct db *db, long long account, const char *address, int *found,
                          struct supplist_entry *out)
{
    struct db_res *r = NULL;

    *found = 0;
    if (db_query(db, &r, COLUMNS "WHERE account_id = ? AND address = ? AND " IN_FORCE, "is",
                 account, address) != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(r) == 1) {
        entry_row(out, r, 0);
        *found = 1;
    }
    db_res_free(r);
    return TX_OK;
}

struct putarg {
    long long account;
    struct supplist_put *p;
    size_t n;
    int64_t now;
};

/* put_one - one entry, inside the caller's transaction */
static enum tx_code put_one(struct db *db, long long account, struct supplist_put *p, int64_t now)
{
    struct db_res *r = NULL;
    char created[32], expires[32];
    enum tx_code rc;

    rc = db_query(db, &r,
                  "SELECT " IN_FORCE " FROM suppression WHERE account_id = ? AND address = ? "
                  "FOR UPDATE",
                  "is", account, p->address);
    if (rc != TX_OK)
        return rc;
    p->replaced = db_res_rows(r) == 1 && db_res_int(r, 0, 0, 0) == 1;
    db_res_free(r);
    rc = db_exec(db,
                 "INSERT INTO suppression (account_id, address, type, created_at, last_attempt_at, "
                 "expires_at, lifetime_s, reason, rid) "
                 "VALUES (?, ?, 'MANUAL', ?, NULL, ?, NULL, ?, NULL) "
                 "ON DUPLICATE KEY UPDATE type = 'MANUAL', created_at = VALUES(created_at), "
                 "last_attempt_at = NULL, expires_at = VALUES(expires_at), lifetime_s = NULL, "
                 "reason = VALUES(reason), rid = NULL",
                 "issss", account, p->address, timeutil_sql(created, sizeof(created), now),
                 p->expires_ms >= 0 ? timeutil_sql(expires, sizeof(expires), p->expires_ms) : NULL,
                 p->reason);
    return rc == TX_REJECT_INPUT ? TX_RETRY_DB : rc;
}

static enum tx_code put_tx(struct db *db, void *arg)
{
    struct putarg *a = arg;
    enum tx_code rc = TX_OK;

    for (size_t i = 0; i < a->n && rc == TX_OK; i++)
        rc = put_one(db, a->account, &a->p[i], a->now);
    return rc;
}

/* put_run - n entries at now, in one transaction */
static enum tx_code put_run(struct db *db, long long account, struct supplist_put *p, size_t n,
                            int64_t now)
{
    struct putarg a = {account, p, n, now};

    for (size_t i = 0; i < n; i++)
        if (p[i].expires_ms >= 0 && p[i].expires_ms <= now)
            return TX_REJECT_EXPIRED;
    return db_tx_run(db, 3, put_tx, &a) == TX_OK ? TX_OK : TX_RETRY_DB;
}

enum tx_code supplist_put_all(struct db *db, long long account, struct supplist_put *p, size_t n)
{
    return put_run(db, account, p, n, timeutil_now_ms());
}

enum tx_code supplist_put(struct db *db, long long account, struct supplist_put *p,
                          struct supplist_entry *out)
{
    int64_t now = timeutil_now_ms();
    enum tx_code rc = put_run(db, account, p, 1, now);

    if (rc != TX_OK || out == NULL)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->email, sizeof(out->email), "%s", p->address);
    snprintf(out->type, sizeof(out->type), "MANUAL");
    out->created_ms = now;
    out->last_attempt_ms = -1;
    out->expires_ms = p->expires_ms;
    out->reason = p->reason ? xstrdup(p->reason) : NULL;
    return TX_OK;
}

enum tx_code supplist_delete(struct db *db, long long account, const char *address, int *found)
{
    *found = 0;
    if (db_exec(db, "DELETE FROM suppression WHERE account_id = ? AND address = ? AND " IN_FORCE,
                "is", account, address) != TX_OK)
        return TX_RETRY_DB;
    *found = db_affected(db) > 0;
    return TX_OK;
}
