/* reportstore - daily reports in MariaDB; see reportstore.h. */
#include "global/report/reportstore.h"
#include "global/report/reportcsv.h"
#include "global/report/reportrow.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <string.h>

#define DAY_MS 86400000LL

/* one build in progress */
struct build {
    struct db *wr;
    long long account_id;
    const char *day;
    long long part_rows;
    struct buf chunk; /* the part's bytes not yet stored (< REPORTSTORE_CHUNK) */
    int part;         /* current part, 1-based; 0 before the first */
    int seq;          /* chunks stored of the current part */
    long long rows;   /* data rows of the current part */
    long long bytes;  /* bytes of the current part */
    struct reportstore_info total;
};

static enum tx_code flush_chunk(struct build *b)
{
    enum tx_code rc;

    if (b->chunk.len == 0)
        return TX_OK;
    rc = db_exec(b->wr,
                 "INSERT INTO report_chunk (account_id, day, part, seq, data) "
                 "VALUES (?, ?, ?, ?, ?)",
                 "isiib", b->account_id, b->day, (long long)b->part, (long long)b->seq,
                 b->chunk.data, b->chunk.len);
    b->seq++;
    buf_reset(&b->chunk);
    return rc;
}

/* put - append bytes to the current part, storing every full chunk */
static enum tx_code put(struct build *b, const char *p, size_t len)
{
    b->bytes += (long long)len;
    b->total.bytes += (long long)len;
    while (len > 0) {
        size_t room = REPORTSTORE_CHUNK - b->chunk.len;
        size_t n = len < room ? len : room;
        enum tx_code rc;

        if (buf_append(&b->chunk, p, n) < 0)
            msg_panic("report: chunk buffer over its maximum");
        p += n;
        len -= n;
        if (b->chunk.len == REPORTSTORE_CHUNK && (rc = flush_chunk(b)) != TX_OK)
            return rc;
    }
    return TX_OK;
}

static enum tx_code end_part(struct build *b)
{
    enum tx_code rc = flush_chunk(b);

    if (rc != TX_OK)
        return rc;
    return db_exec(b->wr,
                   "INSERT INTO report_part (account_id, day, part, `rows`, bytes, chunks) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   "isiiii", b->account_id, b->day, (long long)b->part, b->rows, b->bytes,
                   (long long)b->seq);
}

static enum tx_code begin_part(struct build *b)
{
    struct buf h = BUF_INIT(4096);
    enum tx_code rc;

    if (b->part > 0 && (rc = end_part(b)) != TX_OK)
        return rc;
    b->part++;
    b->seq = 0;
    b->rows = 0;
    b->bytes = 0;
    b->total.parts = b->part;
    reportcsv_header(&h);
    rc = put(b, h.data, h.len);
    buf_free(&h);
    return rc;
}

static int on_record(void *arg, const char *rec, size_t len)
{
    struct build *b = arg;
    enum tx_code rc;

    if ((b->part == 0 || b->rows == b->part_rows) && (rc = begin_part(b)) != TX_OK)
        return rc;
    b->rows++;
    b->total.rows++;
    return put(b, rec, len);
}

/* the old report of the day goes in the same transaction as the new one */
static enum tx_code clear_day(struct db *wr, long long account_id, const char *day)
{
    static const char *const del[] = {
        "DELETE FROM report_chunk WHERE account_id = ? AND day = ?",
        "DELETE FROM report_part WHERE account_id = ? AND day = ?",
        "DELETE FROM report WHERE account_id = ? AND day = ?",
    };
    enum tx_code rc = TX_OK;

    for (size_t i = 0; i < sizeof(del) / sizeof(del[0]) && rc == TX_OK; i++)
        rc = db_exec(wr, del[i], "is", account_id, day);
    return rc;
}

enum tx_code reportstore_build(struct db *rd, struct db *wr, long long account_id, const char *day,
                               const struct reportstore_build_opts *o, struct reportstore_info *out)
{
    struct build b = {wr,
                      account_id,
                      day,
                      o->part_rows > 0 ? o->part_rows : 100000,
                      BUF_INIT(REPORTSTORE_CHUNK),
                      0,
                      0,
                      0,
                      0,
                      {0, 0, 0, 0}};
    char created[32];
    int64_t start;
    enum tx_code rc;

    if (reportrow_day(day, &start) < 0)
        return TX_REJECT_INPUT;
    if ((rc = db_begin(wr)) != TX_OK)
        goto out;
    if ((rc = clear_day(wr, account_id, day)) != TX_OK)
        goto out;
    if ((rc = reportrow_each(rd, account_id, day, o->region, on_record, &b)) != TX_OK)
        goto out;
    if (b.part == 0 && (rc = begin_part(&b)) != TX_OK) /* a day without rows: the header */
        goto out;
    if ((rc = end_part(&b)) != TX_OK)
        goto out;
    b.total.created_ms = timeutil_now_ms();
    timeutil_sql(created, sizeof(created), b.total.created_ms);
    rc = db_exec(wr,
                 "INSERT INTO report (account_id, day, `rows`, parts, created_at) "
                 "VALUES (?, ?, ?, ?, ?)",
                 "isiis", account_id, day, b.total.rows, (long long)b.total.parts, created);
    if (rc == TX_OK)
        rc = db_commit(wr);
out:
    if (rc != TX_OK)
        db_rollback(wr);
    buf_free(&b.chunk);
    if (rc == TX_OK && out)
        *out = b.total;
    return rc;
}

enum tx_code reportstore_get(struct db *db, long long account_id, const char *day,
                             struct reportstore_info *out, int *found)
{
    struct db_res *r;
    enum tx_code rc;

    *found = 0;
    rc = db_query(db, &r,
                  "SELECT r.`rows`, r.parts, ROUND(UNIX_TIMESTAMP(r.created_at) * 1000), "
                  "(SELECT COALESCE(SUM(p.bytes), 0) FROM report_part p WHERE "
                  "p.account_id = r.account_id AND p.day = r.day) FROM report r "
                  "WHERE r.account_id = ? AND r.day = ?",
                  "is", account_id, day);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(r) == 1) {
        *found = 1;
        out->rows = db_res_int(r, 0, 0, 0);
        out->parts = (int)db_res_int(r, 0, 1, 0);
        out->created_ms = db_res_int(r, 0, 2, 0);
        out->bytes = db_res_int(r, 0, 3, 0);
    }
    db_res_free(r);
    return TX_OK;
}

enum tx_code reportstore_part(struct db *db, long long account_id, const char *day, int part,
                              long long *rows, long long *bytes, int *chunks, int *found)
{
    struct db_res *r;
    enum tx_code rc;

    *found = 0;
    rc = db_query(db, &r,
                  "SELECT `rows`, bytes, chunks FROM report_part "
                  "WHERE account_id = ? AND day = ? AND part = ?",
                  "isi", account_id, day, (long long)part);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(r) == 1) {
        *found = 1;
        *rows = db_res_int(r, 0, 0, 0);
        *bytes = db_res_int(r, 0, 1, 0);
        *chunks = (int)db_res_int(r, 0, 2, 0);
    }
    db_res_free(r);
    return TX_OK;
}

enum tx_code reportstore_chunk(struct db *db, long long account_id, const char *day, int part,
                               int seq, struct buf *out)
{
    struct db_res *r;
    enum tx_code rc;

    buf_reset(out);
    rc = db_query(db, &r,
                  "SELECT data FROM report_chunk WHERE account_id = ? AND day = ? AND part = ? "
                  "AND seq = ?",
                  "isii", account_id, day, (long long)part, (long long)seq);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(r) != 1)
        rc = TX_REJECT_INPUT;
    else if (buf_append(out, db_res_get(r, 0, 0), db_res_len(r, 0, 0)) < 0)
        rc = TX_REJECT_INPUT;
    db_res_free(r);
    return rc;
}

enum tx_code reportstore_list(struct db *db, long long account_id, const char *from, const char *to,
                              struct db_res **res)
{
    return db_query(db, res,
                    "SELECT DATE_FORMAT(day, '%Y-%m-%d'), `rows`, parts, "
                    "ROUND(UNIX_TIMESTAMP(created_at) * 1000) FROM report "
                    "WHERE account_id = ? AND day >= ? AND day <= ? ORDER BY day DESC",
                    "iss", account_id, from, to);
}

/* expire_day - the parts and chunks of one report (its report row is gone) */
static enum tx_code expire_day(struct db *db, long long account_id, const char *day)
{
    enum tx_code rc;

    do { /* in batches: a day of a large account is hundreds of MB */
        rc = db_exec(db,
                     "DELETE FROM report_chunk WHERE account_id = ? AND day = ? "
                     "ORDER BY part, seq LIMIT 200",
                     "is", account_id, day);
    } while (rc == TX_OK && db_affected(db) > 0);
    if (rc == TX_OK)
        rc = db_exec(db, "DELETE FROM report_part WHERE account_id = ? AND day = ?", "is",
                     account_id, day);
    return rc;
}

enum tx_code reportstore_expire(struct db *db, const char *before, long long *days)
{
    struct db_res *r = NULL;
    enum tx_code rc;

    /* the report row first: a day half deleted is never served */
    *days = 0;
    if ((rc = db_exec(db, "DELETE FROM report WHERE day < ?", "s", before)) != TX_OK)
        return rc;
    *days = db_affected(db);
    for (;;) {
        rc = db_query(db, &r,
                      "SELECT DISTINCT account_id, DATE_FORMAT(day, '%Y-%m-%d') FROM report_part "
                      "WHERE day < ? LIMIT 100",
                      "s", before);
        if (rc != TX_OK || db_res_rows(r) == 0)
            break;
        for (size_t i = 0; i < db_res_rows(r) && rc == TX_OK; i++)
            rc = expire_day(db, db_res_int(r, i, 0, 0), db_res_get(r, i, 1));
        db_res_free(r);
        r = NULL;
        if (rc != TX_OK)
            break;
    }
    db_res_free(r);
    return rc;
}

char *reportstore_oldest(char out[16], int64_t today_ms, int retention_days)
{
    return timeutil_day(out, 16, today_ms - (int64_t)retention_days * DAY_MS);
}
