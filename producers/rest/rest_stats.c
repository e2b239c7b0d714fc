/*
 * rest_stats - GET /email/v2/stats?window= (contract §12.4): the live
 * counters of the authenticated account, from the 1-minute buckets
 * txmail-monitor writes (stat_minute, schema/006_stats.sql).
 *
 * window   15m, 1h, 6h, 24h (default), 7d, 30d, 45d; anything else 400
 *          INVALID_VALUE "Invalid value for window".
 * bucket   1m (15m, 1h), 5m (6h), 15m (24h), 1h (7d), 6h (30d), 1d (45d).
 *
 * Decisions the contract leaves open:
 *   - `to` is the end of the bucket that holds now (buckets are aligned to
 *     the UTC epoch, so 1d buckets start at 00:00 UTC), `from` = `to` -
 *     window: the window always holds whole buckets, the last one still
 *     filling. Counts are those of [from, to).
 *   - `series` has one element per bucket, oldest first, zeros included:
 *     ts (the bucket's start), accepted, delivered, deferred, bounced
 *     (HARD + SOFT), dropped (every subType), opened, clicked.
 *   - totals.bounced always has HARD_BOUNCE and SOFT_BOUNCE; totals.dropped
 *     names the subTypes seen in the window only.
 *   - inProgress: the account's messages accepted on or after the UTC day
 *     45 days ago without a final event now (message.final_at IS NULL);
 *     served from the index message_account_final, whose entries carry the
 *     primary key's rday (no row reads).
 */
#include "producers/rest/rest_route.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stddef.h>
#include <string.h>

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define STATS_INPROGRESS_DAYS 45

static const struct stats_window {
    const char *name, *bucket;
    int64_t span_ms, bucket_ms;
} windows[] = {
    {"15m", "1m", 15 * MIN_MS, MIN_MS},    {"1h", "1m", HOUR_MS, MIN_MS},
    {"6h", "5m", 6 * HOUR_MS, 5 * MIN_MS}, {"24h", "15m", DAY_MS, 15 * MIN_MS},
    {"7d", "1h", 7 * DAY_MS, HOUR_MS},     {"30d", "6h", 30 * DAY_MS, 6 * HOUR_MS},
    {"45d", "1d", 45 * DAY_MS, DAY_MS},
};

/* the members of a series element after ts, in order */
enum { S_ACCEPTED, S_DELIVERED, S_DEFERRED, S_BOUNCED, S_DROPPED, S_OPENED, S_CLICKED, S_N };
static const char *const series_names[S_N] = {"accepted", "delivered", "deferred", "bounced",
                                              "dropped",  "opened",    "clicked"};

struct stats {
    long long (*series)[S_N];
    size_t nb;
    long long accepted, delivered, deferred, opened, clicked, unsubscribed, complaints;
    long long hard, soft;
    json_t *dropped; /* subType -> n */
};

static const struct stats_window *window_find(const char *s)
{
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
        if (strcmp(windows[i].name, s) == 0)
            return &windows[i];
    return NULL;
}

/* add - one row (bucket index, counter, n) into st */
static void add(struct stats *st, size_t b, const char *counter, long long n)
{
    static const struct {
        const char *counter;
        size_t off;
        int serie;
    } simple[] = {
        {"accepted", offsetof(struct stats, accepted), S_ACCEPTED},
        {"delivered", offsetof(struct stats, delivered), S_DELIVERED},
        {"deferred", offsetof(struct stats, deferred), S_DEFERRED},
        {"opened", offsetof(struct stats, opened), S_OPENED},
        {"clicked", offsetof(struct stats, clicked), S_CLICKED},
        {"unsubscribed", offsetof(struct stats, unsubscribed), -1},
        {"complaints", offsetof(struct stats, complaints), -1},
        {"bounced.HARD_BOUNCE", offsetof(struct stats, hard), S_BOUNCED},
        {"bounced.SOFT_BOUNCE", offsetof(struct stats, soft), S_BOUNCED},
    };

    if (strncmp(counter, "dropped.", 8) == 0 && counter[8]) {
        json_t *v = json_object_get(st->dropped, counter + 8);
        json_object_set_new(st->dropped, counter + 8,
                            json_integer(json_integer_value(v) + (json_int_t)n));
        st->series[b][S_DROPPED] += n;
        return;
    }
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
        if (strcmp(counter, simple[i].counter) == 0) {
            *(long long *)((char *)st + simple[i].off) += n;
            if (simple[i].serie >= 0)
                st->series[b][simple[i].serie] += n;
            return;
        }
}

/* load - the account's buckets of [from, to) into st; TX_OK or the failure */
static enum tx_code load(struct db *db, long long account, const struct stats_window *w,
                         int64_t from, int64_t to, struct stats *st)
{
    char f[32], t[32];
    struct db_res *res = NULL;
    enum tx_code rc;

    timeutil_sql(f, sizeof(f), from);
    timeutil_sql(t, sizeof(t), to);
    f[19] = t[19] = 0; /* stat_minute.minute has no fraction */
    rc = db_query(db, &res,
                  "SELECT TIMESTAMPDIFF(SECOND, ?, minute) DIV ?, counter, SUM(n) "
                  "FROM stat_minute WHERE account_id = ? AND minute >= ? AND minute < ? "
                  "GROUP BY 1, 2",
                  "siiss", f, (long long)(w->bucket_ms / 1000), account, f, t);
    if (rc != TX_OK)
        return rc;
    for (size_t i = 0; i < db_res_rows(res); i++) {
        long long b = db_res_int(res, i, 0, -1);
        if (b >= 0 && (size_t)b < st->nb)
            add(st, (size_t)b, db_res_get(res, i, 1), db_res_int(res, i, 2, 0));
    }
    db_res_free(res);
    return TX_OK;
}

/* in_progress - the account's addresses without a final event (45 days) */
static enum tx_code in_progress(struct db *db, long long account, int64_t now, long long *n)
{
    char day[16];
    struct db_res *res = NULL;

    timeutil_day(day, sizeof(day), now - STATS_INPROGRESS_DAYS * DAY_MS);
    if (db_query(db, &res,
                 "SELECT COUNT(*) FROM message FORCE INDEX (message_account_final) "
                 "WHERE account_id = ? AND final_at IS NULL AND rday >= ?",
                 "is", account, day) != TX_OK)
        return TX_RETRY_DB;
    *n = db_res_int(res, 0, 0, 0);
    db_res_free(res);
    return TX_OK;
}

static json_t *answer(const struct stats_window *w, int64_t from, int64_t to,
                      const struct stats *st, long long inprogress)
{
    char a[40], b[40];
    json_t *series = json_array(), *totals;

    for (size_t i = 0; i < st->nb; i++) {
        json_t *e = json_object();
        json_object_set_new(
            e, "ts", json_string(timeutil_iso8601(a, sizeof(a), from + (int64_t)i * w->bucket_ms)));
        for (int k = 0; k < S_N; k++)
            json_object_set_new(e, series_names[k], json_integer(st->series[i][k]));
        json_array_append_new(series, e);
    }
    totals = json_pack("{s:I,s:I,s:I,s:I,s:{s:I,s:I},s:O,s:I,s:I,s:I,s:I}", "accepted",
                       (json_int_t)st->accepted, "delivered", (json_int_t)st->delivered, "deferred",
                       (json_int_t)st->deferred, "inProgress", (json_int_t)inprogress, "bounced",
                       "HARD_BOUNCE", (json_int_t)st->hard, "SOFT_BOUNCE", (json_int_t)st->soft,
                       "dropped", st->dropped, "opened", (json_int_t)st->opened, "clicked",
                       (json_int_t)st->clicked, "unsubscribed", (json_int_t)st->unsubscribed,
                       "complaints", (json_int_t)st->complaints);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "window", w->name, "from",
                     timeutil_iso8601(a, sizeof(a), from), "to", timeutil_iso8601(b, sizeof(b), to),
                     "bucket", w->bucket, "totals", totals, "series", series);
}

enum MHD_Result rest_stats(struct rest_req *r, struct rest_conn *c, const char *unused)
{
    const char *s = rest_query_str(r, "window");
    const struct stats_window *w = window_find(s ? s : "24h");
    struct stats st = {0};
    int64_t now = timeutil_now_ms(), from, to;
    long long inprogress = 0;
    enum MHD_Result rc;

    (void)unused;
    if (w == NULL) {
        rest_query_bad(r, "INVALID_VALUE", "window");
        return rest_query_fail(r);
    }
    to = (now / w->bucket_ms + 1) * w->bucket_ms;
    from = to - w->span_ms;
    st.nb = (size_t)(w->span_ms / w->bucket_ms);
    st.series = xcalloc(st.nb, sizeof(*st.series));
    st.dropped = json_object();
    if (load(c->db, r->acct.id, w, from, to, &st) != TX_OK ||
        in_progress(c->db, r->acct.id, now, &inprogress) != TX_OK) {
        rc = rest_query_db_error(r, "stats query failed");
        goto out;
    }
    rc = rest_query_json(r, 200, answer(w, from, to, &st, inprogress), NULL);
out:
    json_decref(st.dropped);
    xfree(st.series);
    return rc;
}
