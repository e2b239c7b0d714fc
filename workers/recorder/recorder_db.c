/*
 * recorder_db - one batch in one transaction:
 *
 *   1. intake records: upsert the message row of every recipient (the
 *      identity columns; state columns are never touched here, so an
 *      intake record arriving after the first events loses nothing);
 *   2. events lacking account/mail (tracking events): completed from the
 *      message row; without row and account they are orphans (held back);
 *   3. event rows: INSERT IGNORE on (tag, rday), so a replay adds nothing;
 *   4. message state: per recipient id, read the row FOR UPDATE, fold the
 *      batch's events into it (recorder_state.c), write what changed; no
 *      row yet: create it from the event (the intake record completes it);
 *   5. suppression: x.suppress / x.suppressTouch folded into the entry.
 *
 * Rows are visited in a fixed order (recipient id, address) so concurrent
 * recorders do not deadlock needlessly; db_tx_run retries when they do.
 */
#include "recorder.h"
#include "global/addr.h"
#include "global/event.h"
#include "global/eventfill.h"
#include "global/ids.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cut - at most maxcp code points of (valid UTF-8) s into out; NULL stays NULL */
static const char *cut(char *out, size_t outsz, const char *s, size_t maxcp)
{
    size_t i = 0, cp = 0;

    if (s == NULL)
        return NULL;
    while (s[i] && cp < maxcp) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        size_t k;

        for (k = 1; k < n && s[i + k]; k++)
            ;
        if (k < n || i + n >= outsz)
            break;
        i += n;
        cp++;
    }
    memcpy(out, s, i);
    out[i] = 0;
    return out;
}

/* bare_lower - the lowercase bare address of an address string */
static const char *bare_lower(char *out, size_t outsz, const char *email)
{
    struct addr a;
    char tmp[1300];

    if (email == NULL) {
        out[0] = 0;
        return out;
    }
    if (addr_parse(email, strlen(email), &a) == 0)
        return addr_lower(out, outsz, a.bare);
    cut(tmp, sizeof(tmp), email, 254);
    return addr_lower(out, outsz, tmp);
}

int recorder_db_data_error(unsigned e)
{
    switch (e) {
    case 1048: /* column cannot be null */
    case 1054: /* unknown column: a schema the program does not match */
    case 1062: /* duplicate entry outside the expected places */
    case 1264: /* out of range */
    case 1265: /* data truncated */
    case 1292: /* incorrect datetime */
    case 1366: /* incorrect string value */
    case 1406: /* data too long */
    case 1690: /* value out of range */
    case 4025: /* constraint failed */
        return 1;
    default:
        return 0;
    }
}

/* ---- 1. intake records -------------------------------------------------- */

/*
 * Statements carry RECORDER_ROWS rows (db.c binds at most 64 values);
 * a short chunk is padded by repeating its last row, which the upsert and
 * INSERT IGNORE absorb, so there is one statement text per kind.
 */
#define RECORDER_ROWS 4
#define RECORDER_IN 16
#define IN16 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define ARGS16(a)                                                                                  \
    a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], \
        a[15]

struct mrow {
    const char *rid, *job, *kind, *entry, *from;
    char rday[16], recv[32], prov[32], email[1300], addr[1300], mime[1300], ref[210];
    const char *mimep, *refp, *provp;
    long long account, block, index;
};

#define MROW_ARGS(r)                                                                               \
    (r).rid, (r).rday, (r).job, (r).account, (r).block, (r).index, (r).kind, (r).email, (r).addr,  \
        (r).from, (r).mimep, (r).refp, (r).entry, (r).recv, (r).provp

static enum tx_code flush_mrows(struct db *db, struct mrow *m, int n, struct rec_stats *st)
{
    enum tx_code rc;

    if (n == 0)
        return TX_OK;
    for (int i = n; i < RECORDER_ROWS; i++)
        m[i] = m[n - 1];
    rc = db_exec(db,
                 "INSERT INTO message (rid, rday, job_id, account_id, block_index, addr_index, "
                 "kind, email, addr, mail_from, mime_from, reference, entry, received_at, "
                 "provisioning_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON DUPLICATE KEY UPDATE job_id = VALUES(job_id), "
                 "account_id = VALUES(account_id), block_index = VALUES(block_index), "
                 "addr_index = VALUES(addr_index), kind = VALUES(kind), email = VALUES(email), "
                 "addr = VALUES(addr), mail_from = VALUES(mail_from), "
                 "mime_from = VALUES(mime_from), reference = VALUES(reference), "
                 "entry = VALUES(entry), received_at = VALUES(received_at), "
                 "provisioning_id = VALUES(provisioning_id)",
                 "sssiiisssssssss"
                 "sssiiisssssssss"
                 "sssiiisssssssss"
                 "sssiiisssssssss",
                 MROW_ARGS(m[0]), MROW_ARGS(m[1]), MROW_ARGS(m[2]), MROW_ARGS(m[3]));
    if (rc != TX_OK)
        return rc == TX_REJECT_INPUT ? TX_RETRY_DB : rc;
    st->intake_rows += n;
    return TX_OK;
}

static enum tx_code write_intake(struct db *db, json_t *doc, struct rec_stats *st)
{
    const char *job = jsonget_str_nonempty(doc, "job"), *entry = jsonget_str_nonempty(doc, "entry");
    long long account = json_integer_value(json_object_get(doc, "account"));
    int64_t received = json_integer_value(json_object_get(doc, "received"));
    json_t *sd = json_object_get(doc, "senderDomainId"), *r;
    char from[1300];
    struct mrow *m = xcalloc(RECORDER_ROWS, sizeof(*m));
    int n = 0;
    size_t i;
    enum tx_code rc = TX_OK;

    cut(from, sizeof(from),
        jsonget_str_nonempty(doc, "mailFrom") ? jsonget_str_nonempty(doc, "mailFrom") : "", 320);
    json_array_foreach (json_object_get(doc, "recipients"), i, r) {
        struct mrow *w = &m[n];
        struct uuid u;
        uint32_t b, a;

        memset(w, 0, sizeof(*w));
        w->rid = jsonget_str_nonempty(r, "rid");
        w->job = job;
        w->kind = jsonget_str_nonempty(r, "kind") ? jsonget_str_nonempty(r, "kind") : "to";
        w->entry = entry;
        w->from = from;
        w->account = account;
        timeutil_day(w->rday, sizeof(w->rday), received);
        timeutil_sql(w->recv, sizeof(w->recv), received);
        snprintf(w->prov, sizeof(w->prov), "%lld", (long long)json_integer_value(sd));
        w->provp = json_is_integer(sd) ? w->prov : NULL;
        ids_rid_parse(w->rid, &u, &b, &a);
        w->block = json_is_integer(json_object_get(r, "block"))
                       ? json_integer_value(json_object_get(r, "block"))
                       : (long long)b;
        w->index = json_is_integer(json_object_get(r, "index"))
                       ? json_integer_value(json_object_get(r, "index"))
                       : (long long)a;
        cut(w->email, sizeof(w->email),
            jsonget_str_nonempty(r, "email") ? jsonget_str_nonempty(r, "email") : "", 320);
        if (jsonget_str_nonempty(r, "addr")) {
            char tmp[1300];
            cut(tmp, sizeof(tmp), jsonget_str_nonempty(r, "addr"), 254);
            addr_lower(w->addr, sizeof(w->addr), tmp);
        } else {
            bare_lower(w->addr, sizeof(w->addr), w->email);
        }
        w->mimep = cut(w->mime, sizeof(w->mime), jsonget_str_nonempty(doc, "mimeFrom"), 320);
        w->refp = cut(w->ref, sizeof(w->ref), jsonget_str_nonempty(r, "reference"), 50);
        if (++n == RECORDER_ROWS) {
            if ((rc = flush_mrows(db, m, n, st)) != TX_OK)
                goto out;
            n = 0;
        }
    }
    rc = flush_mrows(db, m, n, st);
out:
    xfree(m);
    return rc;
}

/* ---- 2. (collect_events, with the batch) ---------------------------------- */

/* ---- 3. event rows ------------------------------------------------------ */

struct evref {
    struct rec_item *it;
    const char *rid;
    char rday[16];
    int64_t ts;
    long long account;
    int64_t received;
};

static int cmp_tag(const void *a, const void *b)
{
    const struct evref *const *x = a, *const *y = b;
    int c = strcmp(json_string_value(json_object_get((*x)->it->doc, "tag")),
                   json_string_value(json_object_get((*y)->it->doc, "tag")));

    if (c == 0)
        c = strcmp((*x)->rday, (*y)->rday);
    return c;
}

struct erow {
    const char *tag, *rday, *rid, *job, *phase, *state, *type, *sub, *key;
    long long account;
    char ts[32];
    char *desc, *notif;
};

#define EROW_ARGS(r)                                                                               \
    (r).tag, (r).rday, (r).rid, (r).job, (r).account, (r).phase, (r).state, (r).type, (r).sub,     \
        (r).ts, (r).key, (r).desc, (r).notif

static enum tx_code flush_erows(struct db *db, struct erow *e, int n)
{
    if (n == 0)
        return TX_OK;
    for (int i = n; i < RECORDER_ROWS; i++)
        e[i] = e[n - 1];
    return db_exec(db,
                   "INSERT IGNORE INTO event (tag, rday, rid, job_id, account_id, phase, state, "
                   "type, subtype, ts, event_key, description, notification) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "ssssissssssss"
                   "ssssissssssss"
                   "ssssissssssss"
                   "ssssissssssss",
                   EROW_ARGS(e[0]), EROW_ARGS(e[1]), EROW_ARGS(e[2]), EROW_ARGS(e[3]));
}

/*
 * write_events - which tags exist already (a replay: nothing to write),
 * then the new ones, several rows per statement.
 */
static enum tx_code write_events(struct db *db, struct evref *evs, int nev, struct rec_stats *st)
{
    struct evref **byt = xcalloc((size_t)nev + 1, sizeof(*byt));
    struct erow *rows = xcalloc(RECORDER_ROWS, sizeof(*rows));
    int nrows = 0;
    enum tx_code rc = TX_OK;

    for (int i = 0; i < nev; i++) {
        byt[i] = &evs[i];
        evs[i].it->inserted = 1;
    }
    qsort(byt, (size_t)nev, sizeof(*byt), cmp_tag);
    for (int i = 1; i < nev; i++) /* the same event twice in one batch */
        if (cmp_tag(&byt[i - 1], &byt[i]) == 0)
            byt[i]->it->inserted = 0;
    for (int i = 0; i < nev && rc == TX_OK; i += RECORDER_IN) {
        const char *t[RECORDER_IN];
        struct db_res *r = NULL;

        for (int k = 0; k < RECORDER_IN; k++)
            t[k] = jsonget_str_nonempty(byt[i + k < nev ? i + k : nev - 1]->it->doc, "tag");
        rc = db_query(db, &r, "SELECT tag, rday FROM event WHERE tag IN " IN16, "ssssssssssssssss",
                      ARGS16(t));
        for (size_t row = 0; rc == TX_OK && row < db_res_rows(r); row++)
            for (int k = i; k < i + RECORDER_IN && k < nev; k++)
                if (strcmp(db_res_get(r, row, 0), t[k - i]) == 0 &&
                    strcmp(db_res_get(r, row, 1), byt[k]->rday) == 0)
                    byt[k]->it->inserted = 0;
        db_res_free(r);
    }
    for (int i = 0; i < nev && rc == TX_OK; i++) {
        struct evref *e = byt[i];
        json_t *ev = e->it->doc, *n;
        struct erow *w = &rows[nrows];
        char desc[16400];

        if (!e->it->inserted) {
            st->events_dup++;
            continue;
        }
        n = event_notification(ev);
        if (n == NULL)
            msg_panic("an event of the catalogue without a notification");
        memset(w, 0, sizeof(*w));
        w->notif = json_dumps(n, JSON_COMPACT);
        json_decref(n);
        if (w->notif == NULL)
            msg_panic("cannot encode a notification");
        w->tag = jsonget_str_nonempty(ev, "tag");
        w->rday = e->rday;
        w->rid = e->rid;
        w->job = jsonget_str_nonempty(ev, "job");
        w->account = e->account;
        w->phase = jsonget_str_nonempty(ev, "phase");
        w->state = jsonget_str_nonempty(ev, "state");
        w->type = jsonget_str_nonempty(ev, "type");
        w->sub = jsonget_str_nonempty(ev, "subType");
        w->key = jsonget_str_nonempty(ev, "eventKey");
        timeutil_sql(w->ts, sizeof(w->ts), e->ts);
        w->desc =
            jsonget_str_nonempty(ev, "description")
                ? xstrdup(cut(desc, sizeof(desc), jsonget_str_nonempty(ev, "description"), 4000))
                : NULL;
        st->events_new++;
        if (++nrows == RECORDER_ROWS) {
            rc = flush_erows(db, rows, nrows);
            for (int k = 0; k < nrows; k++) {
                xfree(rows[k].desc);
                free(rows[k].notif);
            }
            nrows = 0;
        }
    }
    if (rc == TX_OK)
        rc = flush_erows(db, rows, nrows);
    for (int k = 0; k < nrows; k++) {
        xfree(rows[k].desc);
        free(rows[k].notif);
    }
    xfree(rows);
    xfree(byt);
    return rc;
}

/* ---- 4. message state --------------------------------------------------- */

static int cmp_evref(const void *a, const void *b)
{
    const struct evref *x = a, *y = b;
    int c = strcmp(x->rid, y->rid);

    if (c == 0)
        c = strcmp(x->rday, y->rday);
    if (c == 0)
        c = x->ts < y->ts ? -1 : x->ts > y->ts;
    return c;
}

static void evinfo(struct rec_evinfo *i, json_t *ev, int64_t ts)
{
    i->phase = jsonget_str_nonempty(ev, "phase");
    i->state = jsonget_str_nonempty(ev, "state");
    i->type = jsonget_str_nonempty(ev, "type");
    i->subtype = jsonget_str_nonempty(ev, "subType");
    i->ts_ms = ts;
    i->smtp_code = jsonget_str_nonempty(ev, "smtpCode");
    i->size = json_is_integer(json_object_get(ev, "size"))
                  ? json_integer_value(json_object_get(ev, "size"))
                  : -1;
    if (i->size > 2147483647LL)
        i->size = -1;
    i->event_key = jsonget_str_nonempty(ev, "eventKey");
    i->description = jsonget_str_nonempty(ev, "description");
}

static const char *msgid_of(json_t *ev)
{
    return jsonget_str_nonempty(json_object_get(json_object_get(ev, "content"), "mime"),
                                "messageId");
}

static const char *opt_time(char *out, size_t sz, int64_t ms)
{
    return ms > 0 ? timeutil_sql(out, sz, ms) : NULL;
}

#define STATE_COLS                                                                                 \
    "rid, rday, last_phase, last_state, last_type, last_subtype, "                                 \
    "ROUND(UNIX_TIMESTAMP(last_ts) * 1000), ROUND(UNIX_TIMESTAMP(final_at) * 1000), smtp_code, "   \
    "size, deferrals, ROUND(UNIX_TIMESTAMP(trace_until) * 1000), message_id IS NULL, "             \
    "rewrite_from IS NULL"

static int64_t res_ms_at(struct db_res *r, size_t row, size_t c)
{
    return db_res_get(r, row, c) ? db_res_int(r, row, c, 0) : 0;
}

static const char *res_str(struct db_res *r, size_t row, size_t c)
{
    return db_res_get(r, row, c) ? db_res_get(r, row, c) : "";
}

/*
 * write_state - fold the events g[0..n) of one message into its row
 * (row of r, read FOR UPDATE; -1: no row yet) and write what changed.
 */
static enum tx_code write_state(struct db *db, struct evref *g, int n, struct rec_stats *st,
                                struct db_res *r, long row)
{
    struct rec_msgstate s;
    const char *msgid = NULL, *rewrite = NULL;
    char lts[32], fts[32], tts[32], mid[1700], rw[1100], size[32];
    int exists = row >= 0, changed = 0;
    enum tx_code rc;

    memset(&s, 0, sizeof(s));
    if (exists) {
        size_t w = (size_t)row;
        s.have = db_res_get(r, w, 2) != NULL;
        snprintf(s.phase, sizeof(s.phase), "%s", res_str(r, w, 2));
        snprintf(s.state, sizeof(s.state), "%s", res_str(r, w, 3));
        snprintf(s.type, sizeof(s.type), "%s", res_str(r, w, 4));
        snprintf(s.subtype, sizeof(s.subtype), "%s", res_str(r, w, 5));
        s.ts_ms = res_ms_at(r, w, 6);
        s.final_ms = res_ms_at(r, w, 7);
        snprintf(s.smtp_code, sizeof(s.smtp_code), "%s", res_str(r, w, 8));
        s.size = db_res_int(r, w, 9, 0);
        s.deferrals = db_res_int(r, w, 10, 0);
        s.trace_until_ms = res_ms_at(r, w, 11);
    }
    for (int i = 0; i < n; i++) {
        struct rec_evinfo e;
        json_t *ev = g[i].it->doc;

        evinfo(&e, ev, g[i].ts);
        changed |= recorder_state_apply(&s, &e);
        if (msgid_of(ev))
            msgid = msgid_of(ev);
        if (jsonget_str_nonempty(json_object_get(ev, "mail"), "rewriteFrom"))
            rewrite = jsonget_str_nonempty(json_object_get(ev, "mail"), "rewriteFrom");
    }
    if (exists) {
        int msgid_null = db_res_int(r, (size_t)row, 12, 0);
        int rw_null = db_res_int(r, (size_t)row, 13, 0);
        if (!changed && !(msgid && msgid_null) && !(rewrite && rw_null))
            return TX_OK;
    }
    snprintf(size, sizeof(size), "%lld", s.size);
    cut(mid, sizeof(mid), msgid, 400);
    cut(rw, sizeof(rw), rewrite, 254);
    if (exists) {
        rc = db_exec(db,
                     "UPDATE message SET last_phase = ?, last_state = ?, last_type = ?, "
                     "last_subtype = ?, last_ts = ?, final_at = ?, smtp_code = ?, size = ?, "
                     "deferrals = ?, trace_until = ?, message_id = COALESCE(message_id, ?), "
                     "rewrite_from = COALESCE(?, rewrite_from) WHERE rid = ? AND rday = ?",
                     "sssssssiisssss", s.have ? s.phase : NULL, s.have ? s.state : NULL,
                     s.have ? s.type : NULL, s.have ? s.subtype : NULL,
                     opt_time(lts, sizeof(lts), s.have ? s.ts_ms : 0),
                     opt_time(fts, sizeof(fts), s.final_ms), s.smtp_code[0] ? s.smtp_code : NULL,
                     s.size, s.deferrals, opt_time(tts, sizeof(tts), s.trace_until_ms),
                     msgid ? mid : NULL, rewrite ? rw : NULL, g[0].rid, g[0].rday);
    } else {
        /* the first events came before the intake record: create the row
         * from what the event knows; the intake record completes it */
        json_t *ev = g[0].it->doc, *mail = json_object_get(ev, "mail");
        char email[1300], addr[1300], from[1300], mime[1300], ref[210], recv[32];
        struct uuid u;
        uint32_t b = 0, a = 0;

        ids_rid_parse(g[0].rid, &u, &b, &a);
        cut(email, sizeof(email),
            jsonget_str_nonempty(mail, "email") ? jsonget_str_nonempty(mail, "email") : "", 320);
        bare_lower(addr, sizeof(addr), email);
        cut(addr, sizeof(addr), addr, 254);
        rc = db_exec(
            db,
            "INSERT INTO message (rid, rday, job_id, account_id, block_index, addr_index, "
            "kind, email, addr, mail_from, mime_from, rewrite_from, reference, message_id, "
            "entry, received_at, last_phase, last_state, last_type, last_subtype, last_ts, "
            "final_at, size, smtp_code, deferrals, trace_until) VALUES (?, ?, ?, ?, ?, ?, "
            "'to', ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "sssiii"
            "sssssss"
            "sssssssss"
            "is",
            g[0].rid, g[0].rday, jsonget_str_nonempty(ev, "job"), g[0].account, (long long)b,
            (long long)a, email, addr,
            cut(from, sizeof(from),
                jsonget_str_nonempty(mail, "from") ? jsonget_str_nonempty(mail, "from") : "", 320),
            cut(mime, sizeof(mime), jsonget_str_nonempty(mail, "mimeFrom"), 320),
            rewrite ? rw : NULL, cut(ref, sizeof(ref), jsonget_str_nonempty(mail, "reference"), 50),
            msgid ? mid : NULL, timeutil_sql(recv, sizeof(recv), g[0].received),
            s.have ? s.phase : NULL, s.have ? s.state : NULL, s.have ? s.type : NULL,
            s.have ? s.subtype : NULL, opt_time(lts, sizeof(lts), s.have ? s.ts_ms : 0),
            opt_time(fts, sizeof(fts), s.final_ms), size, s.smtp_code[0] ? s.smtp_code : NULL,
            s.deferrals, opt_time(tts, sizeof(tts), s.trace_until_ms));
        if (rc == TX_REJECT_INPUT) /* another recorder created it meanwhile */
            rc = TX_RETRY_DB;
    }
    if (rc == TX_OK)
        st->state_updates++;
    return rc;
}

/* write_states - the rows of RECORDER_IN messages per SELECT ... FOR UPDATE */
static enum tx_code write_states(struct db *db, const struct evref *evs, int nev,
                                 struct rec_stats *st)
{
    struct evref *sorted = xmemdup(evs, sizeof(*evs) * (size_t)nev);
    int *gstart = xcalloc((size_t)nev + 1, sizeof(*gstart)), ng = 0;
    enum tx_code rc = TX_OK;

    qsort(sorted, (size_t)nev, sizeof(*sorted), cmp_evref);
    for (int i = 0; i < nev; i++)
        if (i == 0 || strcmp(sorted[i].rid, sorted[i - 1].rid) != 0 ||
            strcmp(sorted[i].rday, sorted[i - 1].rday) != 0)
            gstart[ng++] = i;
    gstart[ng] = nev;
    for (int g = 0; g < ng && rc == TX_OK; g += RECORDER_IN) {
        const char *t[RECORDER_IN];
        struct db_res *r = NULL;

        for (int k = 0; k < RECORDER_IN; k++)
            t[k] = sorted[gstart[g + k < ng ? g + k : ng - 1]].rid;
        rc = db_query(db, &r, "SELECT " STATE_COLS " FROM message WHERE rid IN " IN16 " FOR UPDATE",
                      "ssssssssssssssss", ARGS16(t));
        for (int k = g; k < g + RECORDER_IN && k < ng && rc == TX_OK; k++) {
            struct evref *grp = &sorted[gstart[k]];
            long row = -1;
            for (size_t x = 0; x < db_res_rows(r); x++)
                if (strcmp(db_res_get(r, x, 0), grp->rid) == 0 &&
                    strcmp(db_res_get(r, x, 1), grp->rday) == 0)
                    row = (long)x;
            rc = write_state(db, grp, gstart[k + 1] - gstart[k], st, r, row);
        }
        db_res_free(r);
    }
    xfree(gstart);
    xfree(sorted);
    return rc;
}

/* ---- 5. suppression ----------------------------------------------------- */

struct suppref {
    struct evref *e;
    json_t *x; /* x.suppress or x.suppressTouch */
    int touch;
    char address[1100];
};

static int cmp_suppref(const void *a, const void *b)
{
    const struct suppref *x = a, *y = b;
    int c = x->e->account < y->e->account ? -1 : x->e->account > y->e->account;

    if (c == 0)
        c = strcmp(x->address, y->address);
    if (c == 0)
        c = x->e->ts < y->e->ts ? -1 : x->e->ts > y->e->ts;
    return c;
}

static enum tx_code write_suppression(struct db *db, struct suppref *p, struct rec_stats *st)
{
    struct rec_supp s;
    struct db_res *r = NULL;
    char created[32], expires[32], attempt[32], life[32], reason[4100], rid[64];
    int changed, replaced = 0;
    enum tx_code rc;

    memset(&s, 0, sizeof(s));
    s.expires_ms = -1;
    s.lifetime_s = -1;
    rc = db_query(db, &r,
                  "SELECT type, ROUND(UNIX_TIMESTAMP(created_at) * 1000), "
                  "ROUND(UNIX_TIMESTAMP(expires_at) * 1000), lifetime_s, "
                  "ROUND(UNIX_TIMESTAMP(last_attempt_at) * 1000), reason, rid "
                  "FROM suppression WHERE account_id = ? AND address = ? FOR UPDATE",
                  "is", p->e->account, p->address);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(r) == 1) {
        s.exists = 1;
        snprintf(s.type, sizeof(s.type), "%s", db_res_get(r, 0, 0) ? db_res_get(r, 0, 0) : "");
        s.created_ms = db_res_int(r, 0, 1, 0);
        s.expires_ms = db_res_get(r, 0, 2) ? db_res_int(r, 0, 2, 0) : -1;
        s.lifetime_s = db_res_get(r, 0, 3) ? db_res_int(r, 0, 3, -1) : -1;
        s.last_attempt_ms = db_res_get(r, 0, 4) ? db_res_int(r, 0, 4, 0) : 0;
        cut(reason, sizeof(reason), db_res_get(r, 0, 5), 1000);
        snprintf(rid, sizeof(rid), "%s", db_res_get(r, 0, 6) ? db_res_get(r, 0, 6) : "");
    }
    if (p->touch) {
        changed = recorder_state_supp_touch(&s, p->e->ts);
    } else {
        json_t *l = json_object_get(p->x, "lifetime_s");
        changed = recorder_state_supp_merge(&s, jsonget_str_nonempty(p->x, "type"),
                                            json_is_integer(l) ? json_integer_value(l) : -1,
                                            p->e->ts, &replaced);
    }
    int had_reason = s.exists && db_res_rows(r) == 1 && db_res_get(r, 0, 5) != NULL;
    int had_rid = db_res_rows(r) == 1 && db_res_get(r, 0, 6) != NULL;
    db_res_free(r);
    if (!changed)
        return TX_OK;
    if (replaced) {
        const char *why = jsonget_str_nonempty(p->x, "reason")
                              ? jsonget_str_nonempty(p->x, "reason")
                              : jsonget_str_nonempty(p->e->it->doc, "description");
        cut(reason, sizeof(reason), why ? why : "", 1000);
        had_reason = why != NULL;
        snprintf(rid, sizeof(rid), "%s", p->e->rid);
        had_rid = 1;
    }
    snprintf(life, sizeof(life), "%lld", s.lifetime_s);
    rc = db_exec(db,
                 "INSERT INTO suppression (account_id, address, type, created_at, last_attempt_at, "
                 "expires_at, lifetime_s, reason, rid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON DUPLICATE KEY UPDATE type = VALUES(type), created_at = VALUES(created_at), "
                 "last_attempt_at = VALUES(last_attempt_at), expires_at = VALUES(expires_at), "
                 "lifetime_s = VALUES(lifetime_s), reason = VALUES(reason), rid = VALUES(rid)",
                 "issssssss", p->e->account, p->address, s.type,
                 timeutil_sql(created, sizeof(created), s.created_ms),
                 opt_time(attempt, sizeof(attempt), s.last_attempt_ms),
                 s.expires_ms >= 0 ? timeutil_sql(expires, sizeof(expires), s.expires_ms) : NULL,
                 s.lifetime_s >= 0 ? life : NULL, had_reason ? reason : NULL, had_rid ? rid : NULL);
    if (rc == TX_OK)
        st->suppress_writes++;
    return rc == TX_REJECT_INPUT ? TX_RETRY_DB : rc;
}

/*
 * collect_suppressions - the x.suppress and x.suppressTouch requests of the
 * events (bad addresses logged and ignored). Ownership: new (*out).
 */
static int collect_suppressions(struct evref *evs, int nev, struct suppref **out)
{
    struct suppref *sp = NULL;
    int nsp = 0;

    for (int i = 0; i < nev; i++) {
        json_t *x = json_object_get(evs[i].it->doc, "x");
        const char *keys[] = {"suppress", "suppressTouch"};
        for (int k = 0; k < 2; k++) {
            json_t *o = json_object_get(x, keys[k]);
            const char *a;
            size_t alen;
            char tmp[1100];
            if (o == NULL)
                continue;
            a = addr_trim(
                jsonget_str_nonempty(o, "address") ? jsonget_str_nonempty(o, "address") : "",
                strlen(jsonget_str_nonempty(o, "address") ? jsonget_str_nonempty(o, "address")
                                                          : ""),
                &alen);
            if (alen == 0 || alen > 254 || memchr(a, '@', alen) == NULL) {
                msg_warn("%s: x.%s: bad address ignored", evs[i].rid, keys[k]);
                continue;
            }
            sp = xrealloc(sp, sizeof(*sp) * (size_t)(nsp + 1));
            sp[nsp].e = &evs[i];
            sp[nsp].x = o;
            sp[nsp].touch = k == 1;
            snprintf(tmp, sizeof(tmp), "%.*s", (int)alen, a);
            addr_lower(sp[nsp].address, sizeof(sp[nsp].address), tmp);
            nsp++;
        }
    }
    *out = sp;
    return nsp;
}

/* ---- the batch ---------------------------------------------------------- */

/*
 * collect_events - the batch's events as evrefs (filled from the message
 * when they need it); those without an account or a received time are
 * orphans. *nev: how many.
 */
static enum tx_code collect_events(struct db *db, struct rec_item **items, int n, struct evref *evs,
                                   int *nev, struct rec_stats *st)
{
    enum tx_code rc = TX_OK;

    for (int i = 0; i < n && rc == TX_OK; i++) {
        json_t *ev = items[i]->doc;
        struct evref *e;

        if (items[i]->kind != REC_EVENT)
            continue;
        if (eventfill_needed(ev)) {
            rc = eventfill_from_message(db, ev);
            if (rc == TX_RETRY_NOT_READY)
                rc = TX_OK;
            if (rc != TX_OK)
                break;
        }
        e = &evs[*nev];
        e->it = items[i];
        e->rid = jsonget_str_nonempty(ev, "rid");
        e->account = json_integer_value(json_object_get(ev, "account"));
        e->received = json_integer_value(json_object_get(ev, "received"));
        e->ts = json_integer_value(json_object_get(ev, "ts_ms"));
        if (e->account <= 0 || e->received <= 0) {
            items[i]->orphan = 1;
            st->orphans++;
            continue;
        }
        timeutil_day(e->rday, sizeof(e->rday), e->received);
        (*nev)++;
    }
    return rc;
}

enum tx_code recorder_db_batch(struct db *db, struct rec_item **items, int n, struct rec_stats *st)
{
    struct evref *evs = xcalloc((size_t)n + 1, sizeof(*evs));
    struct suppref *sp = NULL;
    int nev = 0, nsp = 0;
    enum tx_code rc = TX_OK;

    memset(st, 0, sizeof(*st));
    for (int i = 0; i < n; i++) {
        items[i]->orphan = 0;
        items[i]->inserted = 0;
    }
    /* 1 */
    for (int i = 0; i < n && rc == TX_OK; i++)
        if (items[i]->kind == REC_INTAKE)
            rc = write_intake(db, items[i]->doc, st);
    /* 2 */
    if (rc == TX_OK)
        rc = collect_events(db, items, n, evs, &nev, st);
    /* 3 */
    if (rc == TX_OK && nev > 0)
        rc = write_events(db, evs, nev, st);
    /* 4 */
    if (rc == TX_OK && nev > 0)
        rc = write_states(db, evs, nev, st);
    /* 5 */
    if (rc == TX_OK)
        nsp = collect_suppressions(evs, nev, &sp);
    if (rc == TX_OK && nsp > 0) {
        qsort(sp, (size_t)nsp, sizeof(*sp), cmp_suppref);
        for (int i = 0; i < nsp && rc == TX_OK; i++)
            rc = write_suppression(db, &sp[i], st);
    }
    xfree(sp);
    xfree(evs);
    return rc;
}
