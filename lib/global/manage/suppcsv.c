/* suppcsv - the suppression list as CSV; see suppcsv.h. */
#include "global/manage/suppcsv.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define EXPORT_PAGE 1000
#define FIELDS_MAX 64

static const char *const columns[] = {"email",     "type",   "createdTs",  "lastAttemptTs",
                                      "expiresTs", "reason", "recipientId"};

/* ---- export ------------------------------------------------------------- */

/* put_field - one field, quoted when it holds a comma, a quote, CR or LF */
static void put_field(struct buf *b, const char *s, int last)
{
    if (s && s[strcspn(s, ",\"\r\n")] != 0) {
        buf_putc(b, '"');
        for (; *s; s++) {
            if (*s == '"')
                buf_putc(b, '"');
            buf_putc(b, *s);
        }
        buf_putc(b, '"');
    } else if (s) {
        buf_puts(b, s);
    }
    buf_puts(b, last ? "\r\n" : ",");
}

static const char *ts_field(char *out, size_t outsz, int64_t ms)
{
    return ms < 0 ? NULL : timeutil_iso8601(out, outsz, ms);
}

static void put_entry(struct buf *b, const struct supplist_entry *e)
{
    char c[32], l[32], x[32];

    put_field(b, e->email, 0);
    put_field(b, e->type, 0);
    put_field(b, ts_field(c, sizeof(c), e->created_ms), 0);
    put_field(b, ts_field(l, sizeof(l), e->last_attempt_ms), 0);
    put_field(b, ts_field(x, sizeof(x), e->expires_ms), 0);
    put_field(b, e->reason, 0);
    put_field(b, e->rid[0] ? e->rid : NULL, 1);
}

enum tx_code suppcsv_export(struct db *db, long long account, const char *type, FILE *out,
                            size_t *rows)
{
    struct supplist_cursor cur;
    struct supplist_page page;
    struct buf b = BUF_INIT((size_t)64 << 20);
    enum tx_code rc = TX_OK;

    *rows = 0;
    memset(&cur, 0, sizeof(cur));
    for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
        put_field(&b, columns[i], i + 1 == sizeof(columns) / sizeof(columns[0]));
    do {
        if (supplist_list(db, account, type, &cur, EXPORT_PAGE, &page) != TX_OK) {
            rc = TX_RETRY_DB;
            break;
        }
        for (size_t i = 0; i < page.n; i++)
            put_entry(&b, &page.items[i]);
        *rows += page.n;
        if (page.n) {
            cur.set = 1;
            cur.created_ms = page.items[page.n - 1].created_ms;
            snprintf(cur.address, sizeof(cur.address), "%s", page.items[page.n - 1].email);
        }
        int more = page.more;
        supplist_page_free(&page);
        if (buf_error(&b) || fwrite(b.data, 1, b.len, out) != b.len) {
            rc = TX_FATAL_RESOURCE;
            break;
        }
        buf_reset(&b);
        if (!more)
            break;
    } while (1);
    buf_free(&b);
    if (rc == TX_OK && fflush(out) != 0)
        rc = TX_FATAL_RESOURCE;
    return rc;
}

/* ---- import ------------------------------------------------------------- */

/* one record being read: its fields point into the file's buffer (unquoted in place) */
struct record {
    char *f[FIELDS_MAX];
    int n;
    long line;
};

/*
 * next_record - the record at *pos (fields unquoted in place, NUL-ended);
 * 1 read, 0 end of data, -1 malformed (err). *line counts physical lines.
 */
static int next_record(char *data, size_t len, size_t *pos, long *line, struct record *r, char *err,
                       size_t errsz)
{
    size_t p = *pos;

    if (p >= len)
        return 0;
    r->n = 0;
    r->line = *line;
    for (;;) {
        char *w = data + p, *start = w;
        if (r->n == FIELDS_MAX) {
            snprintf(err, errsz, "line %ld: more than %d fields", r->line, FIELDS_MAX);
            return -1;
        }
        if (p < len && data[p] == '"') {
            p++;
            for (;;) {
                if (p >= len) {
                    snprintf(err, errsz, "line %ld: unterminated quoted field", r->line);
                    return -1;
                }
                if (data[p] == '"' && p + 1 < len && data[p + 1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (data[p] == '"') {
                    p++;
                    break;
                } else {
                    if (data[p] == '\n')
                        (*line)++;
                    *w++ = data[p++];
                }
            }
            if (p < len && data[p] != ',' && data[p] != '\r' && data[p] != '\n') {
                snprintf(err, errsz, "line %ld: text after a closing quote", r->line);
                return -1;
            }
        } else {
            while (p < len && data[p] != ',' && data[p] != '\r' && data[p] != '\n')
                *w++ = data[p++];
        }
        char sep = p < len ? data[p] : '\n';
        *w = 0; /* the separator's byte (or one already consumed) is free */
        r->f[r->n++] = start;
        if (sep == ',') {
            p++;
            continue;
        }
        if (sep == '\r' && p + 1 < len && data[p + 1] == '\n')
            p++;
        p++;
        (*line)++;
        break;
    }
    *pos = p;
    return 1;
}

/* check_line - the entry of one record into l (l->error set when invalid) */
static void check_line(struct suppcsv_line *l, const struct record *r, const int *col, int64_t now)
{
    const char *email = col[0] < r->n ? r->f[col[0]] : "";
    const char *type = col[1] >= 0 && col[1] < r->n ? r->f[col[1]] : "";
    const char *exp = col[4] >= 0 && col[4] < r->n ? r->f[col[4]] : "";
    const char *reason = col[5] >= 0 && col[5] < r->n ? r->f[col[5]] : "";

    l->line = r->line;
    l->put.expires_ms = -1;
    if (supplist_address(l->address, sizeof(l->address), email) < 0)
        snprintf(l->error, sizeof(l->error), "invalid email");
    else if (*type && !supplist_type_ok(type))
        snprintf(l->error, sizeof(l->error), "unknown type");
    else if (*exp && timeutil_parse_iso8601(exp, &l->put.expires_ms) < 0)
        snprintf(l->error, sizeof(l->error), "invalid expiresTs");
    else if (*exp && l->put.expires_ms <= now)
        snprintf(l->error, sizeof(l->error), "expiresTs not in the future");
    else if (codec_utf8_count(reason, strlen(reason)) > SUPPLIST_REASON_MAX)
        snprintf(l->error, sizeof(l->error), "reason longer than %d characters",
                 SUPPLIST_REASON_MAX);
    else if (*reason)
        l->reason = xstrdup(reason);
}

/* header - the column of each name of columns[] (-1: absent); -1 without email */
static int header(const struct record *r, int *col)
{
    for (size_t c = 0; c < sizeof(columns) / sizeof(columns[0]); c++) {
        col[c] = -1;
        for (int i = 0; i < r->n; i++)
            if (strcmp(r->f[i], columns[c]) == 0 || (i == 0 && c == 0 &&
                                                     strcmp(r->f[i], "\xef\xbb\xbf"
                                                                     "email") == 0))
                col[c] = i;
    }
    return col[0] < 0 ? -1 : 0;
}

static int blank(const struct record *r)
{
    return r->n == 1 && r->f[0][0] == 0;
}

int suppcsv_read(FILE *in, struct suppcsv_file *f, char *err, size_t errsz)
{
    struct buf b = BUF_INIT(SUPPCSV_FILE_MAX);
    char chunk[65536];
    size_t got, pos = 0, cap = 0;
    long line = 1;
    int col[7], k;
    struct record r;
    int64_t now = timeutil_now_ms();

    memset(f, 0, sizeof(*f));
    while ((got = fread(chunk, 1, sizeof(chunk), in)) > 0)
        if (buf_append(&b, chunk, got) < 0) {
            snprintf(err, errsz, "larger than %zu bytes", SUPPCSV_FILE_MAX);
            goto fail;
        }
    if (ferror(in) || buf_append(&b, "", 1) < 0) {
        snprintf(err, errsz, "cannot be read");
        goto fail;
    }
    b.len--; /* the NUL stays after the data */
    if (!codec_utf8_valid(b.data, b.len)) {
        snprintf(err, errsz, "not UTF-8");
        goto fail;
    }
    if ((k = next_record(b.data, b.len, &pos, &line, &r, err, errsz)) <= 0 || header(&r, col) < 0) {
        if (k >= 0)
            snprintf(err, errsz, "line 1: expected a header line with an email column");
        goto fail;
    }
    while ((k = next_record(b.data, b.len, &pos, &line, &r, err, errsz)) > 0) {
        if (blank(&r))
            continue;
        if (f->n == cap) {
            cap = cap ? cap * 2 : 64;
            f->lines = xrealloc(f->lines, cap * sizeof(*f->lines));
        }
        struct suppcsv_line *l = &f->lines[f->n++];
        memset(l, 0, sizeof(*l));
        check_line(l, &r, col, now);
        if (l->error[0])
            f->invalid++;
    }
    if (k < 0)
        goto fail;
    for (size_t i = 0; i < f->n; i++) {
        f->lines[i].put.address = f->lines[i].address;
        f->lines[i].put.reason = f->lines[i].reason;
    }
    buf_free(&b);
    return 0;
fail:
    buf_free(&b);
    suppcsv_free(f);
    return -1;
}

void suppcsv_free(struct suppcsv_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        xfree(f->lines[i].reason);
    xfree(f->lines);
    memset(f, 0, sizeof(*f));
}
