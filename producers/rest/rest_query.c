/*
 * rest_query - query parameters of the read endpoints (contract §3.4,
 * §12): limit, opaque cursors, timestamps, dates; and the JSON answers
 * those endpoints share.
 *
 * A cursor is base64url (unpadded) of a compact JSON array of the sort
 * keys of the last item served. It is opaque to clients and untrusted
 * here: every query that takes one is scoped to the account anyway, and
 * the handler checks the types of what it decodes.
 */
#include "producers/rest/rest_route.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_MAX 1024

const char *rest_query_str(struct rest_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int rest_query_bad(struct rest_req *r, const char *subtype, const char *name)
{
    r->qerr_subtype = subtype;
    snprintf(r->qerr_name, sizeof(r->qerr_name), "%s", name);
    return -1;
}

enum MHD_Result rest_query_fail(struct rest_req *r)
{
    char d[96];
    const char *sub = r->qerr_subtype ? r->qerr_subtype : "INVALID_VALUE";

    snprintf(d, sizeof(d), "Invalid %s for %s",
             strcmp(sub, "INVALID_FORMAT") == 0 ? "format" : "value", r->qerr_name);
    return rest_answer_error(r, 400, sub, d, NULL);
}

/* parse_ll - the whole of s as a decimal integer */
static int parse_ll(const char *s, long long *out)
{
    char *end;

    if (*s == 0 || *s == ' ' || *s == '+')
        return -1;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return *end || errno ? -1 : 0;
}

int rest_query_int(struct rest_req *r, const char *name, long long lo, long long hi, long long *out)
{
    const char *s = rest_query_str(r, name);
    long long v;

    if (s == NULL)
        return 0;
    if (parse_ll(s, &v) < 0)
        return rest_query_bad(r, "INVALID_FORMAT", name);
    if (v < lo || v > hi)
        return rest_query_bad(r, "INVALID_VALUE", name);
    *out = v;
    return 1;
}

int rest_query_limit(struct rest_req *r, long long *out)
{
    *out = 100;
    return rest_query_int(r, "limit", 1, 1000, out);
}

int rest_query_ts(struct rest_req *r, const char *name, int64_t *ms)
{
    const char *s = rest_query_str(r, name);

    if (s == NULL)
        return 0;
    if (timeutil_parse_iso8601(s, ms) < 0)
        return rest_query_bad(r, "INVALID_FORMAT", name);
    return 1;
}

int rest_query_date(struct rest_req *r, const char *name, int64_t *ms)
{
    const char *s = rest_query_str(r, name);
    char ts[40], back[16];

    if (s == NULL)
        return 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return rest_query_bad(r, "INVALID_FORMAT", name);
    snprintf(ts, sizeof(ts), "%sT00:00:00.000Z", s);
    /* a real calendar day: it formats back to itself */
    if (timeutil_parse_iso8601(ts, ms) < 0 || strcmp(timeutil_day(back, sizeof(back), *ms), s) != 0)
        return rest_query_bad(r, "INVALID_FORMAT", name);
    return 1;
}

int rest_query_cursor(struct rest_req *r, json_t **out)
{
    const char *s = rest_query_str(r, "cursor");
    struct buf b = BUF_INIT(CURSOR_MAX);

    *out = NULL;
    if (s == NULL)
        return 0;
    if (strlen(s) > CURSOR_MAX || codec_b64url_decode(&b, s, strlen(s)) < 0 || b.len == 0) {
        buf_free(&b);
        return rest_query_bad(r, "INVALID_FORMAT", "cursor");
    }
    *out = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
    buf_free(&b);
    if (!json_is_array(*out)) {
        json_decref(*out);
        *out = NULL;
        return rest_query_bad(r, "INVALID_FORMAT", "cursor");
    }
    return 1;
}

char *rest_query_cursor_make(json_t *keys)
{
    char *text = json_dumps(keys, JSON_COMPACT);
    struct buf b = BUF_INIT(4 * CURSOR_MAX);

    if (text == NULL || codec_b64url_encode(&b, text, strlen(text)) < 0 ||
        buf_append(&b, "", 1) < 0)
        msg_panic("cannot encode a cursor");
    free(text);
    return b.data; /* NUL-terminated */
}

enum MHD_Result rest_query_json(struct rest_req *r, int status, json_t *j,
                                const struct rest_header *headers)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : xstrdup("");
    enum MHD_Result rc;

    json_decref(j);
    if (s == NULL)
        msg_panic("cannot encode an answer");
    rc = rest_answer_reply(r, status, s, strlen(s), headers);
    free(s);
    return rc;
}

enum MHD_Result rest_query_not_found(struct rest_req *r, const char *description)
{
    return rest_answer_error(r, 404, "NOT_FOUND", description, NULL);
}

enum MHD_Result rest_query_db_error(struct rest_req *r, const char *what)
{
    msg_warn("%s: client=%s, account=%s, status=failed (%s)", r->job_id, r->client_ip,
             r->authed ? r->acct.name : "-", what);
    return rest_answer_error(r, 503, "INTERNAL_ERROR", "Internal error", NULL);
}
