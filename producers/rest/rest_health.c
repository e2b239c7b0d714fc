/*
 * rest_health - GET /health (200 when this thread reaches the database and
 * the broker, else 503, with what failed) and GET /metrics (Prometheus
 * text, metrics_render). Served to rest_admin_clients only.
 */
#include "producers/rest/rest.h"
#include "global/metrics.h"
#include "util/mymalloc.h"

#include <stdlib.h>
#include <string.h>

enum MHD_Result rest_health(struct rest_req *r)
{
    struct rest_conn *c = rest_conn_take();
    struct db_res *res = NULL;
    int db_ok = 0, mq_ok;
    char *body;
    enum MHD_Result rc;

    if (rest_conn_db(c) == TX_OK && db_query(c->db, &res, "SELECT 1", "") == TX_OK) {
        db_ok = 1;
        db_res_free(res);
    }
    mq_ok = rest_conn_mq(c) == TX_OK;
    rest_conn_give(c);
    json_t *j = json_pack("{s:s,s:s,s:s,s:i}", "status", db_ok && mq_ok ? "ok" : "unavailable",
                          "database", db_ok ? "ok" : "unreachable", "broker",
                          mq_ok ? "ok" : "unreachable", "activeRequests", rest_http_active());
    body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    rc = rest_answer_reply(r, db_ok && mq_ok ? 200 : 503, body, strlen(body), NULL);
    free(body);
    return rc;
}

enum MHD_Result rest_health_metrics(struct rest_req *r)
{
    struct buf out = BUF_INIT(4 << 20);
    struct MHD_Response *resp;
    enum MHD_Result rc;

    metrics_gauge("txmail_rest_active_requests", rest_http_active());
    metrics_render(&out);
    resp = MHD_create_response_from_buffer(out.len, out.data ? out.data : (char *)"",
                                           MHD_RESPMEM_MUST_COPY);
    buf_free(&out);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4");
    rc = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return rc;
}
