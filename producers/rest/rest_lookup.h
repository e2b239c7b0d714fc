/*
 * rest_lookup - what the status and search endpoints (contract §12.1 to
 * §12.3) share: the retention window, the accepted job of an account,
 * and the JSON of the delivery state kept in the message row.
 */
#ifndef REST_LOOKUP_H
#define REST_LOOKUP_H

#include "global/db.h"

#include <jansson.h>
#include <stdint.h>

/* jobs, recipient state and events are kept 45 days (contract §10.6) */
#define REST_LOOKUP_RETENTION_MS (45LL * 86400 * 1000)

/* the columns of a delivery state, in this order, for rest_lookup_event */
#define REST_LOOKUP_EVENT_COLS "last_phase, last_state, last_type, last_subtype, last_ts"

/* the job row columns read by rest_lookup_job, in this order */
enum rest_lookup_jobcol {
    REST_JOB_ENTRY,
    REST_JOB_RECEIVED,
    REST_JOB_ANSWER,
    REST_JOB_MAIL_FROM,
    REST_JOB_REFERENCE,
    REST_JOB_COST_CENTER,
    REST_JOB_CAMPAIGN,
};

/*
 * rest_lookup_job - the accepted job job_id of account within the
 * retention window: 1 and *res (new, one row of enum rest_lookup_jobcol
 * columns), 0 when there is none (unknown, malformed, expired, a
 * tombstone or a rejection, another account's), -1 on database trouble.
 */
int rest_lookup_job(struct db *db, long long account, const char *job_id, struct db_res **res);
/* rest_lookup_ts - the §1.2 timestamp of a DATETIME(3) text; JSON null for NULL. Ownership: new */
json_t *rest_lookup_ts(const char *sqltime);
/*
 * rest_lookup_event - lastEvent {phase, state, type, subType, ts} from the
 * REST_LOOKUP_EVENT_COLS columns starting at col of row; JSON null while
 * the recorder has recorded no delivery state. Ownership: new.
 */
json_t *rest_lookup_event(const struct db_res *res, size_t row, size_t col);
/* rest_lookup_day - "YYYY-MM-DD" (the partition day, rday) of a DATETIME text into out (>= 11) */
char *rest_lookup_day(char *out, size_t outsz, const char *sqltime);

#endif
