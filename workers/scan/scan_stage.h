/*
 * scan_stage - txmail-scan's pieces (workers/scan/scan.c is the program):
 * scan_job.c reads a job's parts and runs both engines on each,
 * scan_emit.c publishes and logs the verdict.
 */
#ifndef TX_SCAN_STAGE_H
#define TX_SCAN_STAGE_H

#include "global/runtime/worker.h"
#include "global/scan/scan.h"
#include "global/scan/yarascan.h"

#include <jansson.h>

/* the engines of the process */
struct scan_job_engines {
    struct scan *clam;
    struct yarascan *yara;
};

enum scan_job_scope { SCAN_SCOPE_ATTACHMENTS, SCAN_SCOPE_BODY, SCAN_SCOPE_ALL };

/* what one job's scan found */
struct scan_job_result {
    enum scan_job_scope scope;
    int parts;       /* parts scanned (each by both engines) */
    long long bytes; /* decoded bytes scanned */
    int error;       /* an engine could not scan: RETRY */
    char err[SCAN_ERR_MAX + 16];
    json_t *infected; /* [{"part","engine","signature"}], empty when clean */
    int body_hit;     /* a find in the body (or the message as a whole) */
    char names[1024]; /* infected attachments, ", "-separated, deduplicated */
    unsigned clam_sigs, yara_rules;
    const void *clam_id, *yara_id; /* the engines used (reload detection) */
};

/*
 * scan_job_scope_of - data.options.antivirus.scope; attachments when absent
 * or unknown; "body" becomes "all" when Secure Document Handling is active
 * (contract §16.3: the scan then covers at least the attachments)
 */
enum scan_job_scope scan_job_scope_of(json_t *data);
/* scan_job_scope_name - "attachments", "body", "all" */
const char *scan_job_scope_name(enum scan_job_scope s);
/*
 * scan_job_check - scan the parts of a REST or SMTP job (env) in scope
 * with both engines; res->infected non-empty: a find, else res->error: the
 * scan could not be done, else clean. Ownership: scan_job_result_free.
 */
void scan_job_check(const struct scan_job_engines *en, const struct envelope *env,
                    struct scan_job_result *res);
void scan_job_result_free(struct scan_job_result *res);

/* scan_emit_infected - PROCESS/FINISHED/DROPPED/VIRUS_DETECTED for every address not dropped */
void scan_emit_infected(struct job *job, const struct scan_job_result *res);
/* scan_emit_unavailable - PROCESS/FINISHED/DROPPED/PROCESSING_FAILED "antivirus scan unavailable" */
void scan_emit_unavailable(struct job *job);
/* scan_emit_log - the job's one log line and its metrics */
void scan_emit_log(const struct job *job, const struct scan_job_result *res, const char *verdict);

#endif
