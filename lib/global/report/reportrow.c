/* reportrow - the rows of a daily report; see reportrow.h. */
#include "global/report/reportrow.h"
#include "global/crypto.h"
#include "global/report/reportcsv.h"
#include "util/buf.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define RECORD_MAX (256 * 1024) /* one record; the columns are bounded far below */
#define DAY_MS 86400000LL

/* the query: columns in the order of enum col */
static const char row_sql[] =
    "SELECT m.received_at, m.mail_from, m.email, m.rid, m.size, m.last_type, m.last_subtype, "
    "m.smtp_code, j.reference_job, m.reference, m.job_id, j.cost_center, m.provisioning_id, "
    "j.campaign_id, m.final_at, m.entry FROM message m LEFT JOIN job j ON j.job_id = m.job_id "
    "WHERE m.account_id = ? AND m.final_at >= ? AND m.final_at < ? "
    "ORDER BY m.received_at, m.rid";

enum col {
    C_RECEIVED,
    C_FROM,
    C_TO,
    C_RID,
    C_SIZE,
    C_TYPE,
    C_SUBTYPE,
    C_SMTP,
    C_REFJOB,
    C_REF,
    C_JOB,
    C_COST,
    C_PROV,
    C_CAMPAIGN,
    C_FINAL,
    C_ENTRY,
    C_COUNT
};

struct walk {
    long long account_id;
    char *name, *tenant;
    const char *region;
    reportrow_fn fn;
    void *arg;
    struct buf rec;
};

void reportrow_meta_id(char out[REPORTROW_UUID_LEN + 1], long long account_id, const char *rid)
{
    unsigned char h[32];
    char in[128];
    int n = snprintf(in, sizeof(in), "%lld:%s", account_id, rid);

    crypto_sha256(h, in, n > 0 && (size_t)n < sizeof(in) ? (size_t)n : strlen(in));
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    snprintf(out, REPORTROW_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1],
             h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
             h[15]);
}

int reportrow_day(const char *day, int64_t *start_ms)
{
    char ts[40], back[16];

    if (strlen(day) != 10 || day[4] != '-' || day[7] != '-')
        return -1;
    snprintf(ts, sizeof(ts), "%sT00:00:00.000Z", day);
    if (timeutil_parse_iso8601(ts, start_ms) < 0 ||
        strcmp(timeutil_day(back, sizeof(back), *start_ms), day) != 0)
        return -1;
    return 0;
}

/* iso - MariaDB's DATETIME(3) text "YYYY-MM-DD HH:MM:SS.mmm" as ISO-8601 UTC */
static const char *iso(char out[32], const char *v)
{
    if (v == NULL)
        return NULL;
    snprintf(out, 32, "%.10sT%.12sZ", v, strlen(v) > 11 ? v + 11 : "00:00:00.000");
    return out;
}

/*
 * bare - the address of a value as submitted: "Name <a@b>" gives "a@b",
 * anything else itself (case kept, trailing blanks dropped)
 */
static const char *bare(char *out, size_t outsz, const char *v)
{
    size_t n;

    if (v == NULL)
        return NULL;
    n = strlen(v);
    while (n > 0 && v[n - 1] == ' ')
        n--;
    if (n > 0 && v[n - 1] == '>') {
        const char *lt = memrchr(v, '<', n);
        if (lt != NULL) { /* "<a@b>" ends the value: the address is between */
            n -= (size_t)(lt + 1 - v) + 1;
            v = lt + 1;
        }
    }
    snprintf(out, outsz, "%.*s", (int)n, v);
    return out;
}

/* domain - the lowercase text after the last '@' of a bare address */
static const char *domain(char *out, size_t outsz, const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    size_t n = 0;

    if (at == NULL)
        return NULL;
    for (at++; *at && n + 1 < outsz; at++)
        out[n++] = (*at >= 'A' && *at <= 'Z') ? (char)(*at + 32) : *at;
    out[n] = 0;
    return out;
}

static int on_row(void *arg, char **v, const size_t *lens, size_t cols)
{
    (void)lens; /* text columns: NUL-terminated */
    struct walk *w = arg;
    char created[32], final[32], fromdom[1300], todom[1300], meta[REPORTROW_UUID_LEN + 1];
    char from[1300], to[1300]; /* VARCHAR(320) of up to 4-byte characters */

    if (cols != C_COUNT || v[C_RID] == NULL)
        return TX_FATAL_INTERNAL;
    reportrow_meta_id(meta, w->account_id, v[C_RID]);
    const char *type = v[C_TYPE];
    bare(from, sizeof(from), v[C_FROM]);
    bare(to, sizeof(to), v[C_TO]);
    const char *vals[REPORTCSV_COLUMNS] = {
        iso(created, v[C_RECEIVED]),
        v[C_FROM] ? from : NULL,
        v[C_TO] ? to : NULL,
        domain(fromdom, sizeof(fromdom), v[C_FROM] ? from : NULL),
        domain(todom, sizeof(todom), v[C_TO] ? to : NULL),
        v[C_RID],
        v[C_SIZE] ? v[C_SIZE] : "0",
        type == NULL                     ? NULL
        : strcmp(type, "DELIVERED") == 0 ? "OK"
                                         : "ERROR",
        type,
        v[C_SUBTYPE],
        v[C_SMTP],
        v[C_REFJOB],
        v[C_REF],
        v[C_JOB],
        v[C_COST],
        v[C_PROV],
        w->tenant,
        w->name,
        v[C_CAMPAIGN],
        meta,
        "1",
        iso(final, v[C_FINAL]),
        v[C_ENTRY],
        w->region && *w->region ? w->region : NULL,
    };
    buf_reset(&w->rec);
    if (reportcsv_row(&w->rec, vals, NULL, REPORTCSV_COLUMNS) < 0)
        return TX_REJECT_INPUT;
    return w->fn(w->arg, w->rec.data, w->rec.len);
}

enum tx_code reportrow_each(struct db *db, long long account_id, const char *day,
                            const char *region, reportrow_fn fn, void *arg)
{
    struct walk w = {account_id, NULL, NULL, region, fn, arg, BUF_INIT(RECORD_MAX)};
    struct db_res *r = NULL;
    char from[32], to[32];
    int64_t start;
    enum tx_code rc;

    if (reportrow_day(day, &start) < 0)
        return TX_REJECT_INPUT;
    rc = db_query(db, &r, "SELECT name, tenant FROM account WHERE id = ?", "i", account_id);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(r) != 1) {
        rc = TX_REJECT_INPUT;
        goto out;
    }
    w.name = xstrdup(db_res_get(r, 0, 0));
    w.tenant = db_res_get(r, 0, 1) ? xstrdup(db_res_get(r, 0, 1)) : NULL;
    timeutil_sql(from, sizeof(from), start);
    timeutil_sql(to, sizeof(to), start + DAY_MS);
    rc = db_query_each(db, on_row, &w, row_sql, "iss", account_id, from, to);
out:
    db_res_free(r);
    xfree(w.name);
    xfree(w.tenant);
    buf_free(&w.rec);
    return rc;
}
