/*
 * rest_suppressions - the suppression list of the authenticated account
 * (contract §13.3) on lib/global/manage/supplist.h:
 *
 *   GET    /suppressions?type=&limit=&cursor=   200 {items, nextCursor}, newest first
 *   GET    /suppressions/{address}              200 entry | 404 (not listed, expired)
 *   PUT    /suppressions/{address}              201 new MANUAL entry | 200 replaced
 *   DELETE /suppressions/{address}              204 | 404
 *
 * {address} is a bare address (trimmed, any case: the list's key is its
 * lowercase form); anything else answers 400 INVALID_FORMAT "address".
 * The PUT body is optional: {"reason": string of at most 1000 characters
 * or null, "expiresTs": ISO-8601 timestamp or null}; other members are
 * ignored. A body that is not a UTF-8 JSON object answers 400
 * INVALID_JSON_SYNTAX, a reason of another type or length 400
 * INVALID_VALUE "reason", an expiresTs that is not a timestamp 400
 * INVALID_FORMAT "expiresTs", one not in the future 400 INVALID_VALUE
 * "expiresTs". The cursor is [createdTs in ms, address] of the last item.
 * PUT and DELETE log one line each.
 */
#include "producers/rest/rest_route.h"
#include "global/manage/supplist.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

static enum MHD_Result bad_address(struct rest_req *r)
{
    rest_query_bad(r, "INVALID_FORMAT", "address");
    return rest_query_fail(r);
}

/* list_cursor - the cursor parameter into c: 0 absent, 1 read, -1 invalid */
static int list_cursor(struct rest_req *r, struct supplist_cursor *c)
{
    json_t *k = NULL;
    int got = rest_query_cursor(r, &k);
    json_t *ms = json_array_get(k, 0), *a = json_array_get(k, 1);

    memset(c, 0, sizeof(c[0]));
    if (got <= 0)
        return got;
    if (json_array_size(k) != 2 || !json_is_integer(ms) || !json_is_string(a) ||
        json_string_length(a) >= sizeof(c->address)) {
        json_decref(k);
        return rest_query_bad(r, "INVALID_FORMAT", "cursor");
    }
    c->set = 1;
    c->created_ms = json_integer_value(ms);
    snprintf(c->address, sizeof(c->address), "%s", json_string_value(a));
    json_decref(k);
    return 1;
}

enum MHD_Result rest_suppressions_list(struct rest_req *r, struct rest_conn *c, const char *unused)
{
    const char *type = rest_query_str(r, "type");
    struct supplist_cursor cur;
    struct supplist_page page;
    long long limit;
    json_t *items, *ans;

    (void)unused;
    if (rest_query_limit(r, &limit) < 0 || list_cursor(r, &cur) < 0)
        return rest_query_fail(r);
    if (type && !supplist_type_ok(type)) {
        rest_query_bad(r, "INVALID_VALUE", "type");
        return rest_query_fail(r);
    }
    if (supplist_list(c->db, r->acct.id, type, &cur, (size_t)limit, &page) != TX_OK)
        return rest_query_db_error(r, db_error(c->db));
    items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, supplist_entry_json(&page.items[i]));
    ans = json_pack("{s:o}", "items", items);
    if (page.more) {
        const struct supplist_entry *last = &page.items[page.n - 1];
        json_t *keys = json_pack("[I,s]", (json_int_t)last->created_ms, last->email);
        char *next = rest_query_cursor_make(keys);
        json_object_set_new(ans, "nextCursor", json_string(next));
        json_decref(keys);
        free(next);
    }
    supplist_page_free(&page);
    return rest_query_json(r, 200, ans, NULL);
}

enum MHD_Result rest_suppressions_get(struct rest_req *r, struct rest_conn *c, const char *addr)
{
    char key[SUPPLIST_ADDRESS_MAX + 2];
    struct supplist_entry e;
    int found;

    if (addr == NULL || supplist_address(key, sizeof(key), addr) < 0)
        return bad_address(r);
    if (supplist_get(c->db, r->acct.id, key, &found, &e) != TX_OK)
        return rest_query_db_error(r, db_error(c->db));
    if (!found)
        return rest_query_not_found(r, "Address not on the suppression list");
    json_t *j = supplist_entry_json(&e);
    supplist_entry_clear(&e);
    return rest_query_json(r, 200, j, NULL);
}

/* put_body - the optional body into p (reason borrowed from *doc): 0, or -1 answered */
static int put_body(struct rest_req *r, json_t **doc, struct supplist_put *p, enum MHD_Result *ans)
{
    json_error_t err;
    json_t *reason, *exp;

    *doc = NULL;
    if (r->body.len == 0)
        return 0;
    *doc = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(*doc)) {
        char d[240];
        if (*doc)
            snprintf(d, sizeof(d), "Expected a JSON object at line 1 column 1 path $");
        else
            snprintf(d, sizeof(d), "%s at line %d column %d", err.text, err.line, err.column);
        *ans = rest_answer_error(r, 400, "INVALID_JSON_SYNTAX", d, NULL);
        return -1;
    }
    reason = json_object_get(*doc, "reason");
    exp = json_object_get(*doc, "expiresTs");
    if (json_is_string(reason) &&
        codec_utf8_count(json_string_value(reason), json_string_length(reason)) <=
            SUPPLIST_REASON_MAX)
        p->reason = json_string_length(reason) ? json_string_value(reason) : NULL;
    else if (reason && !json_is_null(reason))
        rest_query_bad(r, "INVALID_VALUE", "reason");
    if (json_is_string(exp) && timeutil_parse_iso8601(json_string_value(exp), &p->expires_ms) < 0)
        rest_query_bad(r, "INVALID_FORMAT", "expiresTs");
    else if (exp && !json_is_null(exp) && !json_is_string(exp))
        rest_query_bad(r, "INVALID_FORMAT", "expiresTs");
    if (r->qerr_subtype) {
        *ans = rest_query_fail(r);
        return -1;
    }
    return 0;
}

enum MHD_Result rest_suppressions_put(struct rest_req *r, struct rest_conn *c, const char *addr)
{
    char key[SUPPLIST_ADDRESS_MAX + 2];
    struct supplist_put p = {key, NULL, -1, 0};
    struct supplist_entry e;
    json_t *doc = NULL;
    enum MHD_Result ans;
    enum tx_code rc;

    if (addr == NULL || supplist_address(key, sizeof(key), addr) < 0)
        return bad_address(r);
    if (put_body(r, &doc, &p, &ans) < 0) {
        json_decref(doc);
        return ans;
    }
    rc = supplist_put(c->db, r->acct.id, &p, &e);
    json_decref(doc);
    if (rc == TX_REJECT_EXPIRED) {
        rest_query_bad(r, "INVALID_VALUE", "expiresTs");
        return rest_query_fail(r);
    }
    if (rc != TX_OK)
        return rest_query_db_error(r, db_error(c->db));
    msg_info("%s: client=%s, account=%s, suppression=%s, status=%s", r->job_id, r->client_ip,
             r->acct.name, key, p.replaced ? "replaced" : "created");
    json_t *j = supplist_entry_json(&e);
    supplist_entry_clear(&e);
    return rest_query_json(r, p.replaced ? 200 : 201, j, NULL);
}

enum MHD_Result rest_suppressions_delete(struct rest_req *r, struct rest_conn *c, const char *addr)
{
    char key[SUPPLIST_ADDRESS_MAX + 2];
    int found;

    if (addr == NULL || supplist_address(key, sizeof(key), addr) < 0)
        return bad_address(r);
    if (supplist_delete(c->db, r->acct.id, key, &found) != TX_OK)
        return rest_query_db_error(r, db_error(c->db));
    if (!found)
        return rest_query_not_found(r, "Address not on the suppression list");
    msg_info("%s: client=%s, account=%s, suppression=%s, status=deleted", r->job_id, r->client_ip,
             r->acct.name, key);
    return rest_query_json(r, 204, NULL, NULL);
}
