/*
 * rest_route - the endpoints of txmail-rest under the base path (contract
 * §3.3) other than job creation, and what their handlers share: query
 * parameters (§12: limit, cursor, timestamps, dates) and JSON answers.
 *
 * A handler runs once the request is authenticated and within its
 * account's limits (rest_http.c), with this thread's handles locked and
 * the database connected. It answers every outcome itself, scoped to
 * r->acct.id: another account's id answers 404 like an unknown one.
 */
#ifndef REST_ROUTE_H
#define REST_ROUTE_H

#include "producers/rest/rest.h"

#include <jansson.h>
#include <stdint.h>

/* a handler: param is the decoded path segment matched by '*' (or NULL) */
typedef enum MHD_Result (*rest_handler)(struct rest_req *r, struct rest_conn *c, const char *param);

struct rest_route {
    const char *method;  /* "GET", "PUT", "DELETE", "POST" */
    const char *pattern; /* relative to the base path; '*' = one non-empty segment */
    rest_handler fn;
    size_t body_max; /* 0: no body expected; else the largest JSON body read */
    int open;        /* 1: served without credentials (the OpenAPI document) */
};

/*
 * rest_route_find - the route of method + path (path relative to the base
 * path). NULL when none: *allow is then the methods defined for the path
 * ("GET, PUT") or "" when the path is unknown. param (>= 512 bytes) gets
 * the segment matched by '*'.
 */
const struct rest_route *rest_route_find(const char *method, const char *path, char *param,
                                         size_t paramsz, char *allow, size_t allowsz);
/* rest_route_run - run the route's handler with this thread's connected handles */
enum MHD_Result rest_route_run(struct rest_req *r, const struct rest_route *rt);

/* ---- query parameters (rest_query.c) ----------------------------------- */

/*
 * Each reader returns 0 when the parameter is absent (the default is left
 * in *out), 1 when it was read, -1 when it is invalid: r->qerr then holds
 * the §3.4 error, which rest_query_fail() answers (400 INVALID_VALUE or
 * INVALID_FORMAT, "Invalid value for <parameter>").
 */
const char *rest_query_str(struct rest_req *r, const char *name);
/* rest_query_limit - "limit": 1..1000, default 100 (contract §12) */
int rest_query_limit(struct rest_req *r, long long *out);
/* rest_query_ts - ISO-8601 timestamp with Z or offset (contract §1.2) */
int rest_query_ts(struct rest_req *r, const char *name, int64_t *ms);
/* rest_query_date - YYYY-MM-DD (a real calendar day), *ms = its 00:00 UTC */
int rest_query_date(struct rest_req *r, const char *name, int64_t *ms);
/* rest_query_int - decimal integer in [lo, hi] */
int rest_query_int(struct rest_req *r, const char *name, long long lo, long long hi,
                   long long *out);
/*
 * rest_query_cursor - "cursor": an opaque token made by rest_query_cursor_make;
 * *out is the JSON array it carries (new), NULL when absent. A token
 * that does not decode is INVALID_FORMAT. The handler still checks the
 * element types (a client can forge any array): rest_query_bad() then.
 */
int rest_query_cursor(struct rest_req *r, json_t **out);
/* rest_query_cursor_make - the token for keys (a JSON array). Ownership: new string. */
char *rest_query_cursor_make(json_t *keys);
/* rest_query_bad - record an invalid parameter ("INVALID_VALUE" or "INVALID_FORMAT"); -1 */
int rest_query_bad(struct rest_req *r, const char *subtype, const char *name);
/* rest_query_fail - answer the recorded error (400) */
enum MHD_Result rest_query_fail(struct rest_req *r);

/* rest_query_json - answer status with j (stolen; may be NULL for an empty body) */
enum MHD_Result rest_query_json(struct rest_req *r, int status, json_t *j,
                                const struct rest_header *headers);
/* rest_query_not_found - 404 NOT_FOUND with description */
enum MHD_Result rest_query_not_found(struct rest_req *r, const char *description);
/* rest_query_db_error - 503 INTERNAL_ERROR (database trouble), logged */
enum MHD_Result rest_query_db_error(struct rest_req *r, const char *what);

/* ---- the handlers, one file per resource -------------------------------- */

/* rest_read_job.c: GET /jobs/{jobId} (§12.1) */
enum MHD_Result rest_read_job(struct rest_req *r, struct rest_conn *c, const char *job_id);
/* rest_read_message.c: GET /messages/{recipientId} (§12.2) */
enum MHD_Result rest_read_message(struct rest_req *r, struct rest_conn *c, const char *rid);
/* rest_recover.c: POST /messages/{recipientId}/recover (§16.2, txmail addition) */
enum MHD_Result rest_recover(struct rest_req *r, struct rest_conn *c, const char *rid);
/* rest_search.c: GET /search (§12.3) */
enum MHD_Result rest_search(struct rest_req *r, struct rest_conn *c, const char *unused);
/* rest_stats.c: GET /stats (§12.4) */
enum MHD_Result rest_stats(struct rest_req *r, struct rest_conn *c, const char *unused);
/* rest_suppressions.c: /suppressions and /suppressions/{address} (§13.3) */
enum MHD_Result rest_suppressions_list(struct rest_req *r, struct rest_conn *c, const char *unused);
enum MHD_Result rest_suppressions_get(struct rest_req *r, struct rest_conn *c, const char *addr);
enum MHD_Result rest_suppressions_put(struct rest_req *r, struct rest_conn *c, const char *addr);
enum MHD_Result rest_suppressions_delete(struct rest_req *r, struct rest_conn *c, const char *addr);
/* rest_deadletters.c: /notifications/dead-letters (§11.2) */
enum MHD_Result rest_deadletters_list(struct rest_req *r, struct rest_conn *c, const char *unused);
enum MHD_Result rest_deadletters_redeliver(struct rest_req *r, struct rest_conn *c,
                                           const char *tag);
/* rest_reports.c: /reports and /reports/{date} (§14.4) */
enum MHD_Result rest_reports_list(struct rest_req *r, struct rest_conn *c, const char *unused);
enum MHD_Result rest_reports_get(struct rest_req *r, struct rest_conn *c, const char *date);
/* rest_openapi.c: GET /openapi.json (the OpenAPI 3.1 document of this surface) */
enum MHD_Result rest_openapi(struct rest_req *r, struct rest_conn *c, const char *unused);

#endif
