/*
 * rest_deadletters - the notification dead letters of the authenticated
 * account (contract §11.2) on lib/global/manage/deadletter.h:
 *
 *   GET  /notifications/dead-letters?limit=&cursor=   200 {items, nextCursor}
 *   POST /notifications/dead-letters/{tag}/redeliver  202 {} | 404
 *
 * Newest dead letter first; the cursor is [id] of the last item. A
 * redelivery is published with this thread's bounded publisher and
 * rest_confirm_timeout: a broker that does not confirm answers 503 and
 * the dead letter stays as it was. A redelivered notification is no
 * longer a dead letter (not listed; a second redeliver answers 404) until
 * txmail-notify gives it up again. Each redelivery logs one line.
 */
#include "producers/rest/rest_route.h"
#include "global/manage/deadletter.h"
#include "util/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result rest_deadletters_list(struct rest_req *r, struct rest_conn *c, const char *unused)
{
    long long limit, after = 0, next = 0;
    json_t *k = NULL, *items, *ans;
    int got;

    (void)unused;
    if (rest_query_limit(r, &limit) < 0 || (got = rest_query_cursor(r, &k)) < 0)
        return rest_query_fail(r);
    if (got) {
        json_t *id = json_array_get(k, 0);
        if (json_array_size(k) != 1 || !json_is_integer(id) || json_integer_value(id) <= 0) {
            json_decref(k);
            rest_query_bad(r, "INVALID_FORMAT", "cursor");
            return rest_query_fail(r);
        }
        after = json_integer_value(id);
        json_decref(k);
    }
    items = json_array();
    if (deadletter_list(c->db, r->acct.id, after, (size_t)limit, items, &next) != TX_OK) {
        json_decref(items);
        return rest_query_db_error(r, db_error(c->db));
    }
    ans = json_pack("{s:o}", "items", items);
    if (next) {
        json_t *keys = json_pack("[I]", (json_int_t)next);
        char *cur = rest_query_cursor_make(keys);
        json_object_set_new(ans, "nextCursor", json_string(cur));
        json_decref(keys);
        free(cur);
    }
    return rest_query_json(r, 200, ans, NULL);
}

enum MHD_Result rest_deadletters_redeliver(struct rest_req *r, struct rest_conn *c, const char *tag)
{
    enum tx_code rc;
    int found = 0;

    if (tag == NULL || strlen(tag) != 64 || tag[strspn(tag, "0123456789abcdef")] != 0)
        return rest_query_not_found(r, "Unknown dead letter"); /* never a tag (§11.5) */
    if ((rc = rest_conn_mq(c)) == TX_OK)
        rc = deadletter_redeliver(c->db, c->pub, (int)rest_conf.confirm_timeout_ms, r->acct.id, tag,
                                  &found);
    if (rc == TX_OK && !found)
        return rest_query_not_found(r, "Unknown dead letter");
    if (rc != TX_OK) {
        msg_warn("%s: client=%s, account=%s, tag=%s, status=failed (%s)", r->job_id, r->client_ip,
                 r->acct.name, tag, txcode_name(rc));
        return rest_answer_error(r, 503, "INTERNAL_ERROR", "Internal error", NULL);
    }
    msg_info("%s: client=%s, account=%s, tag=%s, status=redelivered", r->job_id, r->client_ip,
             r->acct.name, tag);
    return rest_query_json(r, 202, json_object(), NULL);
}
