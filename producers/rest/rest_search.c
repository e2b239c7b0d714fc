/*
 * rest_search - placeholder until its issue-13 branch lands: answers 501.
 */
#include "producers/rest/rest_route.h"

enum MHD_Result rest_search(struct rest_req *r, struct rest_conn *c, const char *param)
{
    (void)c;
    (void)param;
    return rest_answer_error(r, 501, "INTERNAL_ERROR", "Not implemented", NULL);
}
