/*
 * rest_suppress - what the JobRequest check asks the database: is a
 * sender domain registered for the account (auth_sender_domain, cached),
 * and which recipient addresses are on its suppression list (contract
 * §5.3, §13.1: account + lowercase bare address, entry not expired). The
 * addresses of a job go in one query as a JSON array (JSON_TABLE), joined
 * on the suppression table's primary key (STRAIGHT_JOIN: one eq_ref
 * lookup per address, however long the account's list).
 */
#include "producers/rest/rest.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

enum tx_code rest_sender_domain(void *arg, const char *domain, struct jobreq_sender *out)
{
    struct rest_lookup *l = arg;
    struct sender_domain sd;
    enum tx_code rc;

    if (rest_conn_db(l->c) != TX_OK)
        return TX_RETRY_DB;
    rc = auth_sender_domain(l->c->db, l->account_id, domain, &sd);
    if (rc != TX_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    out->id = sd.id;
    snprintf(out->domain, sizeof(out->domain), "%s", sd.domain);
    out->relay = sd.relay_host[0] != 0;
    return TX_OK;
}

/* iso - "YYYY-MM-DD HH:MM:SS.mmm" (DATETIME(3), UTC) as ISO-8601 with Z */
static void iso(char *out, size_t outsz, const char *dt)
{
    snprintf(out, outsz, "%.10sT%.12sZ", dt, dt && strlen(dt) > 11 ? dt + 11 : "00:00:00.000");
}

enum tx_code rest_suppression(void *arg, struct jobreq_sup *q, size_t n)
{
    struct rest_lookup *l = arg;
    json_t *list = json_array();
    struct db_res *res = NULL;
    enum tx_code rc;
    char *text;

    if (rest_conn_db(l->c) != TX_OK) {
        json_decref(list);
        return TX_RETRY_DB;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(q[i].addr));
    text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    rc = db_query(l->c->db, &res,
                  "SELECT STRAIGHT_JOIN s.address, s.type, s.created_at, s.reason FROM JSON_TABLE(?, '$[*]' "
                  "COLUMNS (a VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) j "
                  "JOIN suppression s ON s.account_id = ? AND s.address = j.a "
                  "WHERE s.expires_at IS NULL OR s.expires_at > NOW(3)",
                  "si", text, l->account_id);
    xfree(text);
    if (rc != TX_OK)
        return TX_RETRY_DB;
    for (size_t r = 0; r < db_res_rows(res); r++) {
        const char *addr = db_res_get(res, r, 0);
        for (size_t i = 0; addr && i < n; i++) {
            if (q[i].hit || strcmp(q[i].addr, addr) != 0)
                continue;
            q[i].hit = 1;
            snprintf(q[i].type, sizeof(q[i].type), "%s", db_res_get(res, r, 1) ? db_res_get(res, r, 1) : "");
            iso(q[i].created, sizeof(q[i].created), db_res_get(res, r, 2));
            snprintf(q[i].reason, sizeof(q[i].reason), "%s", db_res_get(res, r, 3) ? db_res_get(res, r, 3) : "");
        }
    }
    db_res_free(res);
    return TX_OK;
}
