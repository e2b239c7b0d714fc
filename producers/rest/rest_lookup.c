/*
 * rest_lookup - the accepted job of an account, timestamps and delivery
 * states of the status and search endpoints; see rest_lookup.h.
 */
#include "producers/rest/rest_lookup.h"
#include "global/ids.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

int rest_lookup_job(struct db *db, long long account, const char *job_id, struct db_res **res)
{
    struct uuid u;
    char cutoff[32];
    int found;

    *res = NULL;
    /* ids are lowercase (§1.2): an uppercase spelling is another, unknown id */
    if (strlen(job_id) != UUID_STR_LEN || ids_uuid_parse(&u, job_id) < 0 ||
        strpbrk(job_id, "ABCDEF") != NULL)
        return 0;
    timeutil_sql(cutoff, sizeof(cutoff), timeutil_now_ms() - REST_LOOKUP_RETENTION_MS);
    /* job_id is the primary key; http_status 2xx = an accepted job (200 over
     * REST, 250 over SMTP; not a tombstone, not a rejection) */
    if (db_query(
            db, res,
            "SELECT entry, received_at, answer, mail_from, reference_job, cost_center, "
            "campaign_id FROM job WHERE job_id = ? AND account_id = ? AND http_status BETWEEN 200 "
            "AND 299 "
            "AND received_at >= ?",
            "sis", job_id, account, cutoff) != TX_OK)
        return -1;
    found = db_res_rows(*res) > 0;
    if (!found) {
        db_res_free(*res);
        *res = NULL;
    }
    return found;
}

json_t *rest_lookup_ts(const char *sqltime)
{
    char iso[40], out[40];
    int64_t ms;

    if (sqltime == NULL || strlen(sqltime) < 19)
        return json_null();
    /* "YYYY-MM-DD HH:MM:SS[.mmm]" -> ISO-8601, then the one §1.2 format */
    snprintf(iso, sizeof(iso), "%.10sT%sZ", sqltime, sqltime + 11);
    if (timeutil_parse_iso8601(iso, &ms) < 0)
        return json_null();
    return json_string(timeutil_iso8601(out, sizeof(out), ms));
}

json_t *rest_lookup_event(const struct db_res *res, size_t row, size_t col)
{
    const char *phase = db_res_get(res, row, col);

    if (phase == NULL)
        return json_null();
    return json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "phase", phase, "state",
                     db_res_get(res, row, col + 1), "type", db_res_get(res, row, col + 2),
                     "subType", db_res_get(res, row, col + 3), "ts",
                     rest_lookup_ts(db_res_get(res, row, col + 4)));
}

char *rest_lookup_day(char *out, size_t outsz, const char *sqltime)
{
    snprintf(out, outsz, "%.10s", sqltime ? sqltime : "");
    return out;
}
