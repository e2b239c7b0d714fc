/*
 * rest_suppressions - placeholder until its issue-13 branch lands: answers 501.
 */
#include "producers/rest/rest_route.h"

enum MHD_Result rest_suppressions_list(struct rest_req *r, struct rest_conn *c, const char *param)
{
    (void)c;
    (void)param;
    return rest_answer_error(r, 501, "INTERNAL_ERROR", "Not implemented", NULL);
}

enum MHD_Result rest_suppressions_get(struct rest_req *r, struct rest_conn *c, const char *param)
{
    (void)c;
    (void)param;
    return rest_answer_error(r, 501, "INTERNAL_ERROR", "Not implemented", NULL);
}

enum MHD_Result rest_suppressions_put(struct rest_req *r, struct rest_conn *c, const char *param)
{
    (void)c;
    (void)param;
    return rest_answer_error(r, 501, "INTERNAL_ERROR", "Not implemented", NULL);
}

enum MHD_Result rest_suppressions_delete(struct rest_req *r, struct rest_conn *c, const char *param)
{
    (void)c;
    (void)param;
    return rest_answer_error(r, 501, "INTERNAL_ERROR", "Not implemented", NULL);
}
