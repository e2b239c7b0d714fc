/*
 * rest_search - GET /email/v2/search (contract §12.3): the account's
 * recipient addresses of the last 45 days, newest first.
 *
 * Parameters: from, to (receivedTs window, from inclusive, to exclusive;
 * default the 24 hours before now; from older than 45 days, or to not
 * after from, is 400 INVALID_VALUE), sender and recipient
 * (case-insensitive exact bare address; "@domain" matches the domain),
 * messageId (with or without <>), status (comma list of IN_PROGRESS,
 * DEFERRED, DELIVERED, BOUNCED, DROPPED), limit and cursor (§12).
 *
 * Paging is keyset pagination on (received_at, rid), newest first, never
 * an offset: the cursor carries the last item's keys and the window's
 * start, so following pages neither repeat nor skip a row that existed
 * when the first page was read, whatever is inserted meanwhile (newer
 * rows sort before the cursor; rows the recorder writes late for an older
 * time show up on the pages still to come).
 *
 * txmail decisions: sender matches the bare address of message.mail_from
 * (the part inside <> when there is one); status IN_PROGRESS is every
 * address without a final delivery state, DEFERRED ones included (status
 * reads message.dstate, which schema 005 derives from final_at and
 * last_type); an
 * unknown status word or an empty list element is 400 INVALID_VALUE
 * for status; an empty sender, recipient or messageId is 400
 * INVALID_VALUE for it. Items: id, jobId, receivedTs, from, email,
 * messageId (null until the message is built), reference (null when the
 * block had none), lastEvent (null until recorded). Which index serves
 * which filter: docs/OPERATIONS.md "Search and lookups".
 */
#include "global/addr.h"
#include "global/ids.h"
#include "producers/rest/rest_lookup.h"
#include "producers/rest/rest_route.h"
#include "util/buf.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_DAY_MS (86400LL * 1000)
#define SEARCH_ARGS 12

struct search {
    int64_t from, to, after_ms;
    long long limit;
    int has_cursor;
    char after_rid[RID_STR_LEN + 1];
    int drive;      /* the search_index[] entry that drives the query */
    char sql[2048]; /* the conditions after account_id */
    const char *arg[SEARCH_ARGS];
    int nargs;
    char from_s[32], to_s[32], from_day[16], to_day[16], after_s[32];
    char sender[330], rcpt[330], msgid[410];
};

/* the status words and the dstate values (schema 005) each one stands for */
static const struct {
    const char *word, *states;
} search_states[] = {
    {"IN_PROGRESS", "'IN_PROGRESS', 'DEFERRED'"},
    {"DEFERRED", "'DEFERRED'"},
    {"DELIVERED", "'DELIVERED'"},
    {"BOUNCED", "'BOUNCED'"},
    {"DROPPED", "'DROPPED'"},
};

/*
 * The index that reads the rows in answer order, by the most selective
 * filter given (first in this table). Named for MariaDB: with 45 daily
 * partitions its estimates of every candidate index cost more than the
 * query itself (docs/OPERATIONS.md "Search and lookups").
 */
static const struct {
    const char *col, *index;
} search_index[] = {
    {"message_id", "message_msgid"},
    {"addr", "message_account_addr"},
    {"from_lc", "message_account_sender"},
    {"addr_domain", "message_account_addr_domain"},
    {"from_domain", "message_account_sender_domain"},
    {"dstate", "message_account_dstate"},
    {"received_at", "message_account_received"},
};
#define SEARCH_WINDOW_INDEX (sizeof(search_index) / sizeof(search_index[0]) - 1)

/* drive - let col's index drive the query when it beats the current one */
static void drive(struct search *s, const char *col)
{
    for (int i = 0; i < s->drive; i++)
        if (strcmp(search_index[i].col, col) == 0) {
            s->drive = i;
            return;
        }
}

/* add - append a condition with its one bound value */
static void add(struct search *s, const char *cond, const char *value)
{
    size_t n = strlen(s->sql);

    snprintf(s->sql + n, sizeof(s->sql) - n, " AND %s", cond);
    if (value)
        s->arg[s->nargs++] = value;
}

/*
 * address - sender or recipient: lowercase, "@domain" to the domain column;
 * -1 when invalid
 */
static int address(struct search *s, struct rest_req *r, const char *name, char *v, size_t vsz,
                   const char *bare_col, const char *domain_col)
{
    const char *q = rest_query_str(r, name);
    char cond[64];

    if (q == NULL)
        return 0;
    if (*q == 0 || strlen(q) > 320 || (q[0] == '@' && q[1] == 0))
        return rest_query_bad(r, "INVALID_VALUE", name);
    addr_lower(v, vsz, q[0] == '@' ? q + 1 : q);
    snprintf(cond, sizeof(cond), "%s = ?", q[0] == '@' ? domain_col : bare_col);
    add(s, cond, v);
    drive(s, q[0] == '@' ? domain_col : bare_col);
    return 1;
}

/* status - dstate IN (the listed delivery states); -1 when a word is unknown */
static int status(struct search *s, struct rest_req *r)
{
    const char *q = rest_query_str(r, "status"), *p;
    size_t n, k = sizeof(search_states) / sizeof(search_states[0]), i;
    int want[sizeof(search_states) / sizeof(search_states[0])] = {0}, any = 0;
    char cond[256] = "dstate IN (";

    if (q == NULL)
        return 0;
    for (p = q;; p += n + 1) {
        n = strcspn(p, ",");
        for (i = 0; i < k; i++)
            if (strlen(search_states[i].word) == n && strncmp(p, search_states[i].word, n) == 0)
                break;
        if (i == k)
            return rest_query_bad(r, "INVALID_VALUE", "status");
        want[i] = 1;
        if (p[n] == 0)
            break;
    }
    /* IN_PROGRESS covers DEFERRED: list it once */
    if (want[0])
        want[1] = 0;
    for (i = 0; i < k; i++) {
        if (!want[i])
            continue;
        n = strlen(cond);
        snprintf(cond + n, sizeof(cond) - n, "%s%s", any++ ? ", " : "", search_states[i].states);
    }
    n = strlen(cond);
    snprintf(cond + n, sizeof(cond) - n, ")");
    add(s, cond, NULL);
    if (any == 1) /* one word: its rows in order (IN_PROGRESS: the few unfinished, sorted) */
        drive(s, "dstate");
    return 1;
}

/* cursor - [received ms, rid, window start ms] of the last item served; -1 when invalid */
static int cursor(struct search *s, struct rest_req *r)
{
    json_t *c;
    int rc = rest_query_cursor(r, &c);

    if (rc <= 0)
        return rc;
    if (json_array_size(c) != 3 || !json_is_integer(json_array_get(c, 0)) ||
        !json_is_string(json_array_get(c, 1)) || !json_is_integer(json_array_get(c, 2)) ||
        json_string_length(json_array_get(c, 1)) > RID_STR_LEN) {
        json_decref(c);
        return rest_query_bad(r, "INVALID_FORMAT", "cursor");
    }
    s->has_cursor = 1;
    s->after_ms = json_integer_value(json_array_get(c, 0));
    snprintf(s->after_rid, sizeof(s->after_rid), "%s", json_string_value(json_array_get(c, 1)));
    s->from = json_integer_value(json_array_get(c, 2));
    json_decref(c);
    return 1;
}

/* window - from and to; -1 when invalid */
static int window(struct search *s, struct rest_req *r)
{
    int64_t now = timeutil_now_ms(), oldest = now - REST_LOOKUP_RETENTION_MS;
    int hf, ht;

    s->to = now;
    if ((hf = rest_query_ts(r, "from", &s->from)) < 0 || (ht = rest_query_ts(r, "to", &s->to)) < 0)
        return -1;
    if (hf && s->from < oldest)
        return rest_query_bad(r, "INVALID_VALUE", "from");
    if (!hf && !s->has_cursor)
        s->from = s->to - SEARCH_DAY_MS;
    if (s->from < oldest) /* a default or a cursor's start: within retention */
        s->from = oldest;
    if (s->to <= s->from)
        return rest_query_bad(r, "INVALID_VALUE", "to");
    return 0;
}

/* parse - every parameter into s and the WHERE clause; -1 when one is invalid */
static int parse(struct search *s, struct rest_req *r)
{
    const char *q;

    if (cursor(s, r) < 0 || window(s, r) < 0)
        return -1;
    /* the partition days of the window (rday = DATE(received_at)) prune partitions */
    timeutil_sql(s->from_s, sizeof(s->from_s), s->from);
    timeutil_sql(s->to_s, sizeof(s->to_s), s->to);
    add(s, "rday >= ?", timeutil_day(s->from_day, sizeof(s->from_day), s->from));
    add(s, "rday <= ?", timeutil_day(s->to_day, sizeof(s->to_day), s->to));
    add(s, "received_at >= ?", s->from_s);
    add(s, "received_at < ?", s->to_s);
    if (address(s, r, "sender", s->sender, sizeof(s->sender), "from_lc", "from_domain") < 0 ||
        address(s, r, "recipient", s->rcpt, sizeof(s->rcpt), "addr", "addr_domain") < 0)
        return -1;
    if ((q = rest_query_str(r, "messageId")) != NULL) {
        if (*q == 0 || strlen(q) > 400)
            return rest_query_bad(r, "INVALID_VALUE", "messageId");
        snprintf(s->msgid, sizeof(s->msgid), q[0] == '<' ? "%s" : "<%s>", q);
        add(s, "message_id = ?", s->msgid);
        drive(s, "message_id");
    }
    if (status(s, r) < 0 || rest_query_limit(r, &s->limit) < 0)
        return -1;
    if (s->has_cursor) {
        timeutil_sql(s->after_s, sizeof(s->after_s), s->after_ms);
        add(s, "(received_at < ? OR (received_at = ? AND rid < ?))", s->after_s);
        s->arg[s->nargs++] = s->after_s;
        s->arg[s->nargs++] = s->after_rid;
    }
    return 0;
}

/* item - one §12.3 item of row i. Ownership: new */
static json_t *item(const struct db_res *res, size_t i)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s?, s:s?, s:o}", "id", db_res_get(res, i, 0),
                     "jobId", db_res_get(res, i, 1), "receivedTs",
                     rest_lookup_ts(db_res_get(res, i, 2)), "from", db_res_get(res, i, 3) ?: "",
                     "email", db_res_get(res, i, 4) ?: "", "messageId", db_res_get(res, i, 5),
                     "reference", db_res_get(res, i, 6), "lastEvent", rest_lookup_event(res, i, 8));
}

/* next_cursor - the token after row i */
static json_t *next_cursor(const struct search *s, const struct db_res *res, size_t i)
{
    json_t *keys;
    char iso[40], *tok;
    int64_t ms;

    /* received_at text -> ms: rest_lookup_ts made it ISO-8601 */
    json_t *ts = rest_lookup_ts(db_res_get(res, i, 2));
    snprintf(iso, sizeof(iso), "%s", json_string_value(ts) ?: "");
    json_decref(ts);
    if (timeutil_parse_iso8601(iso, &ms) < 0)
        ms = 0;
    keys = json_pack("[I, s, I]", (json_int_t)ms, db_res_get(res, i, 0), (json_int_t)s->from);
    tok = rest_query_cursor_make(keys);
    json_decref(keys);
    keys = json_string(tok);
    free(tok);
    return keys;
}

enum MHD_Result rest_search(struct rest_req *r, struct rest_conn *c, const char *unused)
{
    struct search *s = xcalloc(1, sizeof(*s));
    struct db_res *res = NULL;
    char *sql = NULL;
    json_t *items, *out;
    size_t n;
    enum MHD_Result rc;

    (void)unused;
    s->drive = (int)SEARCH_WINDOW_INDEX;
    if (parse(s, r) < 0) {
        rc = rest_query_fail(r);
        goto out;
    }
    sql = xmalloc(sizeof(s->sql) + 512);
    snprintf(sql, sizeof(s->sql) + 512,
             "SELECT rid, job_id, received_at, mail_from, email, message_id, reference, "
             "final_at, " REST_LOOKUP_EVENT_COLS
             " FROM message FORCE INDEX (%s) WHERE account_id = ?%s "
             "ORDER BY received_at DESC, rid DESC LIMIT %lld",
             search_index[s->drive].index, s->sql, s->limit + 1);
    {
        char types[SEARCH_ARGS + 2] = "i";
        memset(types + 1, 's', (size_t)s->nargs);
        types[s->nargs + 1] = 0;
        /* the values beyond the types string's count are not read */
        if (db_query(c->db, &res, sql, types, r->acct.id, s->arg[0], s->arg[1], s->arg[2],
                     s->arg[3], s->arg[4], s->arg[5], s->arg[6], s->arg[7], s->arg[8], s->arg[9],
                     s->arg[10], s->arg[11]) != TX_OK) {
            rc = rest_query_db_error(r, "search");
            goto out;
        }
    }
    n = db_res_rows(res);
    items = json_array();
    for (size_t i = 0; i < n && i < (size_t)s->limit; i++)
        json_array_append_new(items, item(res, i));
    out = json_pack("{s:o}", "items", items);
    if (n > (size_t)s->limit)
        json_object_set_new(out, "nextCursor", next_cursor(s, res, (size_t)s->limit - 1));
    rc = rest_query_json(r, 200, out, NULL);
out:
    db_res_free(res);
    free(sql);
    free(s);
    return rc;
}
