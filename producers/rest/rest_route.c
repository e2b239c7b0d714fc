/*
 * rest_route - the table of txmail-rest's endpoints other than job
 * creation (contract §3.3), matching a method and path to one of them,
 * and running its handler with this thread's handles.
 */
#include "producers/rest/rest_route.h"
#include "util/msg.h"

#include <stdio.h>
#include <string.h>

#define KB 1024

static const struct rest_route routes[] = {
    {"GET", "/jobs/*", rest_read_job, 0, 0},
    {"GET", "/messages/*", rest_read_message, 0, 0},
    {"POST", "/messages/*/recover", rest_recover, 4 * KB, 0},
    {"GET", "/search", rest_search, 0, 0},
    {"GET", "/stats", rest_stats, 0, 0},
    {"GET", "/suppressions", rest_suppressions_list, 0, 0},
    {"GET", "/suppressions/*", rest_suppressions_get, 0, 0},
    {"PUT", "/suppressions/*", rest_suppressions_put, 16 * KB, 0},
    {"DELETE", "/suppressions/*", rest_suppressions_delete, 0, 0},
    {"GET", "/notifications/dead-letters", rest_deadletters_list, 0, 0},
    {"POST", "/notifications/dead-letters/*/redeliver", rest_deadletters_redeliver, 0, 0},
    {"GET", "/reports", rest_reports_list, 0, 0},
    {"GET", "/reports/*", rest_reports_get, 0, 0},
    {"GET", "/openapi.json", rest_openapi, 0, 1},
};

/* match - path against pattern; the segment under '*' into param */
static int match(const char *pattern, const char *path, char *param, size_t paramsz)
{
    const char *p = pattern, *s = path;

    while (*p) {
        if (*p == '*') {
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (n == 0 || n >= paramsz)
                return 0;
            memcpy(param, s, n);
            param[n] = 0;
            s += n;
            p++;
            continue;
        }
        if (*p++ != *s++)
            return 0;
    }
    return *s == 0;
}

const struct rest_route *rest_route_find(const char *method, const char *path, char *param,
                                         size_t paramsz, char *allow, size_t allowsz)
{
    size_t used = 0;

    allow[0] = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, path, param, paramsz))
            continue;
        if (strcmp(routes[i].method, method) == 0)
            return &routes[i];
        int n = snprintf(allow + used, allowsz - used, "%s%s", used ? ", " : "", routes[i].method);
        if (n > 0 && (size_t)n < allowsz - used)
            used += (size_t)n;
    }
    return NULL;
}

enum MHD_Result rest_route_run(struct rest_req *r, const struct rest_route *rt)
{
    struct rest_conn *c = rest_conn_take();
    enum MHD_Result rc;

    /* an open route (the OpenAPI document) needs no database */
    if (!rt->open && rest_conn_db(c) != TX_OK)
        rc = rest_query_db_error(r, "database unreachable");
    else
        rc = rt->fn(r, c, r->param[0] ? r->param : NULL);
    rest_conn_give(c);
    return rc;
}
