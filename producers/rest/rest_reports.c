/*
 * rest_reports - the daily reports (contract §14.4):
 *
 *   GET /reports?from=&to=       dates YYYY-MM-DD, default the last 30 days
 *                                (today and the 29 before); days before the
 *                                retention (180 days) are never listed
 *   GET /reports/{date}?format=csv|zip&part=n
 *
 * A CSV part is streamed chunk by chunk from report_chunk (one chunk of
 * at most 1 MiB in memory per download, read on this MHD thread through
 * its own handles as the client takes the bytes). A ZIP is written by
 * libzip into an unlinked temporary file ($TMPDIR, else /tmp), reading
 * chunk by chunk, and served from that file. Not built, older than 180
 * days, a part that does not exist, another account's report: 404.
 * The filename's <account> is the account name with '"', '\' and
 * control characters replaced by '_'.
 */
#include "producers/rest/rest_route.h"
#include "global/metrics.h"
#include "global/report/reportrow.h"
#include "global/report/reportstore.h"
#include "global/report/reportzip.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY_MS 86400000LL
#define LIST_DAYS 30
#define STREAM_BLOCK (64 * 1024)

enum MHD_Result rest_reports_list(struct rest_req *r, struct rest_conn *c, const char *unused)
{
    int64_t now = timeutil_now_ms(), from_ms, to_ms;
    char from[16], to[16], oldest[16], ts[32];
    struct db_res *res;
    int hf, ht;

    (void)unused;
    to_ms = now - now % DAY_MS;
    if ((ht = rest_query_date(r, "to", &to_ms)) < 0 ||
        (hf = rest_query_date(r, "from", &from_ms)) < 0)
        return rest_query_fail(r);
    if (hf == 0)
        from_ms = to_ms - (LIST_DAYS - 1) * DAY_MS;
    if (from_ms > to_ms) {
        rest_query_bad(r, "INVALID_VALUE", hf ? "from" : "to");
        return rest_query_fail(r);
    }
    timeutil_day(from, sizeof(from), from_ms);
    timeutil_day(to, sizeof(to), to_ms);
    reportstore_oldest(oldest, now, REPORTSTORE_RETENTION_DAYS);
    if (strcmp(from, oldest) < 0)
        memcpy(from, oldest, sizeof(from));
    if (reportstore_list(c->db, r->acct.id, from, to, &res) != TX_OK)
        return rest_query_db_error(r, "report list");
    json_t *items = json_array();
    for (size_t i = 0; i < db_res_rows(res); i++)
        json_array_append_new(
            items, json_pack("{s:s,s:I,s:I,s:s}", "date", db_res_get(res, i, 0), "rows",
                             (json_int_t)db_res_int(res, i, 1, 0), "parts",
                             (json_int_t)db_res_int(res, i, 2, 0), "createdTs",
                             timeutil_iso8601(ts, sizeof(ts), db_res_int(res, i, 3, 0))));
    db_res_free(res);
    return rest_query_json(r, 200, json_pack("{s:o}", "items", items), NULL);
}

/* one CSV part on its way to the client */
struct stream {
    long long account_id;
    char day[11];
    int part, chunks, seq;
    struct buf chunk;
    size_t off;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *s = cls;

    (void)pos; /* MHD reads in order */
    while (s->off == s->chunk.len) {
        if (s->seq == s->chunks)
            return MHD_CONTENT_READER_END_OF_STREAM;
        struct rest_conn *c = rest_conn_take();
        enum tx_code rc = rest_conn_db(c);
        if (rc == TX_OK)
            rc = reportstore_chunk(c->db, s->account_id, s->day, s->part, s->seq, &s->chunk);
        rest_conn_give(c);
        if (rc != TX_OK) {
            msg_warn("report: account=%lld, date=%s, part=%d, chunk=%d, status=aborted (%s)",
                     s->account_id, s->day, s->part, s->seq,
                     rc == TX_REJECT_INPUT ? "replaced meanwhile" : "database");
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        s->seq++;
        s->off = 0;
    }
    size_t n = s->chunk.len - s->off < max ? s->chunk.len - s->off : max;
    memcpy(out, s->chunk.data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;

    buf_free(&s->chunk);
    xfree(s);
}

/* answer - queue resp with the report headers; logs the outcome */
static enum MHD_Result answer(struct rest_req *r, struct MHD_Response *resp, const char *type,
                              const char *filename, int parts, const char *day, long long bytes)
{
    char disp[400], nparts[16];
    enum MHD_Result rc;

    if (resp == NULL)
        return rest_query_db_error(r, "cannot create a response");
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", filename);
    snprintf(nparts, sizeof(nparts), "%d", parts);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    MHD_add_response_header(resp, "X-Txmail-Report-Parts", nparts);
    rc = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    metrics_count("txmail_rest_requests_total", "status", "200", 1);
    msg_info("%s: client=%s, account=%s, report=%s, file=%s, bytes=%lld, status=sent", r->job_id,
             r->client_ip, r->acct.name, day, filename, bytes);
    return rc;
}

/* prefix - "txmail-<account>-<date>", the account name made safe for a quoted filename */
static void prefix(char *out, size_t outsz, const char *account, const char *day)
{
    int n = snprintf(out, outsz, "txmail-%s-%s", account, day);

    for (int i = 7; i < n && (size_t)i < outsz; i++)
        if (out[i] == '"' || out[i] == '\\' || (unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = '_';
}

static enum MHD_Result serve_csv(struct rest_req *r, struct rest_conn *c, const char *day, int part,
                                 int parts, const char *pfx)
{
    struct stream *s = xcalloc(1, sizeof(*s));
    long long rows, bytes;
    int found;
    char name[300];

    if (reportstore_part(c->db, r->acct.id, day, part, &rows, &bytes, &s->chunks, &found) !=
        TX_OK) {
        xfree(s);
        return rest_query_db_error(r, "report part");
    }
    if (!found) {
        xfree(s);
        return rest_query_not_found(r, "Unknown report part");
    }
    s->account_id = r->acct.id;
    memcpy(s->day, day, sizeof(s->day));
    s->part = part;
    buf_init(&s->chunk, REPORTSTORE_CHUNK);
    reportzip_name(name, sizeof(name), pfx, part, parts, "csv");
    struct MHD_Response *resp = MHD_create_response_from_callback((uint64_t)bytes, STREAM_BLOCK,
                                                                  stream_read, s, stream_free);
    if (resp == NULL)
        stream_free(s);
    return answer(r, resp, "text/csv; charset=utf-8", name, parts, day, bytes);
}

static enum MHD_Result serve_zip(struct rest_req *r, struct rest_conn *c, const char *day, int part,
                                 int parts, const char *pfx)
{
    const char *tmp = getenv("TMPDIR");
    struct reportzip_req q = {r->acct.id,
                              day,
                              pfx,
                              part ? part : 1,
                              part ? part : parts,
                              parts,
                              tmp && *tmp ? tmp : "/tmp"};
    char name[300];
    off_t size;
    int fd;

    if (part > parts)
        return rest_query_not_found(r, "Unknown report part");
    enum tx_code rc = reportzip_file(c->db, &q, &fd, &size);
    if (rc == TX_REJECT_INPUT)
        return rest_query_not_found(r, "Unknown report part");
    if (rc != TX_OK)
        return rest_query_db_error(r, "report archive");
    reportzip_name(name, sizeof(name), pfx, part, parts, "zip");
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)size, fd);
    if (resp == NULL)
        close(fd);
    return answer(r, resp, "application/zip", name, parts, day, (long long)size);
}

enum MHD_Result rest_reports_get(struct rest_req *r, struct rest_conn *c, const char *day)
{
    const char *format = rest_query_str(r, "format");
    char oldest[16], pfx[200];
    struct reportstore_info info;
    long long part = 0;
    int64_t ms;
    int found;

    if (reportrow_day(day, &ms) < 0) {
        rest_query_bad(r, "INVALID_FORMAT", "date");
        return rest_query_fail(r);
    }
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "zip") != 0) {
        rest_query_bad(r, "INVALID_VALUE", "format");
        return rest_query_fail(r);
    }
    if (rest_query_int(r, "part", 1, 1000000, &part) < 0)
        return rest_query_fail(r);
    reportstore_oldest(oldest, timeutil_now_ms(), REPORTSTORE_RETENTION_DAYS);
    if (strcmp(day, oldest) < 0)
        return rest_query_not_found(r, "Unknown report");
    if (reportstore_get(c->db, r->acct.id, day, &info, &found) != TX_OK)
        return rest_query_db_error(r, "report");
    if (!found)
        return rest_query_not_found(r, "Unknown report");
    prefix(pfx, sizeof(pfx), r->acct.name, day);
    if (format && strcmp(format, "zip") == 0)
        return serve_zip(r, c, day, (int)part, info.parts, pfx);
    return serve_csv(r, c, day, part ? (int)part : 1, info.parts, pfx);
}
