/* reportjob - the report job message; see reportjob.h. */
#include "global/report/reportjob.h"
#include "global/report/reportrow.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

int reportjob_encode(long long account_id, const char *day, char **body, size_t *len)
{
    struct envelope e;
    int64_t start;
    int rc;

    if (account_id <= 0 || reportrow_day(day, &start) < 0)
        return -1;
    envelope_init(&e, REPORTJOB_TYPE);
    snprintf(e.job_id, sizeof(e.job_id), "report-%lld-%.4s%.2s%.2s", account_id, day, day + 5,
             day + 8);
    e.account_id = account_id;
    envelope_push_stage(&e, REPORTJOB_STAGE);
    e.created_ms = timeutil_now_ms();
    json_object_set_new(e.data, "date", json_string(day));
    rc = envelope_encode(&e, body, len);
    envelope_free(&e);
    return rc;
}

int reportjob_decode(const struct envelope *e, long long *account_id, char day[11])
{
    const char *d = json_string_value(json_object_get(e->data, "date"));
    int64_t start;

    if (strcmp(e->type, REPORTJOB_TYPE) != 0 || e->account_id <= 0 || d == NULL ||
        reportrow_day(d, &start) < 0)
        return -1;
    *account_id = e->account_id;
    memcpy(day, d, 11);
    return 0;
}
