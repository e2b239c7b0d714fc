/*
 * NAME
 *   txmail-scan - the antivirus stage: ClamAV and YARA on every part of a job
 *
 * SYNOPSIS
 *   txmail-scan [-c config] [-o name=value]... [-n] [-v]
 *
 * DESCRIPTION
 *   Consumes `type: "job"` envelopes from queue scan_queue ("scan";
 *   docs/ENVELOPES.md) with the worker skeleton (lib/global/runtime/worker.h).
 *   Contract §16.1: two independent engines look at every decoded part of
 *   the job in scope before the message is built: libclamav in the
 *   process (lib/global/scan/scan.h, signatures of scan_clamav_signatures)
 *   and YARA (lib/global/scan/yarascan.h, the rule files of
 *   scan_yara_rules). Each engine is loaded once per process; the
 *   directories are looked at every scan_check_interval and a changed one
 *   is loaded beside the current engine and swapped in without stopping
 *   the jobs in flight (every job is scanned with one signature set).
 *
 *   First stage. scan is the first stage of the jobs that carry it: the
 *   skeleton applies the first-stage rule (acceptance record, intake
 *   record, PROCESSING_STARTED) with scan_grace before the scan.
 *
 *   Scope, data.options.antivirus.scope: "attachments" (default), "body"
 *   (the HTML and text parts), "all"; "body" with Secure Document
 *   Handling active is "all" (§16.3: at least the attachments). REST jobs: data.attachments[]
 *   (base64, inline or a raw segment, decoded here) and data.body /
 *   data.alternative. SMTP jobs: the submitted message walked with
 *   GMime (lib/global/scan/mimeparts.h: multiparts, attached messages;
 *   every part decoded from base64 or quoted-printable): attachments are
 *   the parts with a file name or Content-Disposition attachment, those
 *   inside an attached message and every leaf other than text/plain and
 *   text/html; the body is the text/plain and text/html parts that are
 *   not attachments. With scope "all" the whole raw message is also
 *   scanned once by libclamav's own mail parser (message/partial and odd
 *   structures). Archives inside a part (ZIP, ...) are opened by libclamav.
 *   Limits: libclamav's (100 MB per file, 400 MB per scan, archive
 *   recursion 17; archives are extracted to temporary files); what it
 *   reports over them is a find (Heuristics.Limits.Exceeded...), never
 *   clean; a MIME tree deeper than 20 levels likewise
 *   (Txmail.Limits.MimeDepth). Memory per job is the job plus one decoded
 *   part at a time and libclamav's work.
 *
 *   Clean: the job goes on to the next stage unchanged. Infected: the whole
 *   job is discarded. An engine that cannot scan (no signatures or rules
 *   loaded, a scan error): RETRY through scan_retry_schedule, never
 *   forwarded unscanned; past scan_max_age every address gets
 *   PROCESSING_FAILED "antivirus scan unavailable".
 *
 * CONSUMES
 *   scan_queue (scan, bound to txmail.work): type "job" envelopes.
 * PUBLISHES
 *   txmail.work, key = the next stage of the slip: the input unchanged
 *   (clean). txmail.events: INTAKE, PRE_PROCESS drops, PROCESSING_STARTED
 *   (first stage); PROCESS/FINISHED/DROPPED/VIRUS_DETECTED for every
 *   address not dropped at intake, description "INFECTED: attachments
 *   <name>[, <name>...]" or "INFECTED: body", content.antivirus.infected
 *   [{"part", "engine", "signature"}] (txmail addition);
 *   PROCESS/FINISHED/DROPPED/PROCESSING_FAILED "antivirus scan
 *   unavailable" (maximum age).
 *
 * WRITES
 *   nothing; reads the job row (first stage).
 *
 * PARAMETERS
 *   scan_grace (60s)                  wait this long for the acceptance record
 *   scan_clamav_signatures (/var/lib/clamav)  ClamAV signature directory
 *   scan_yara_rules (/etc/txmail/yara) YARA rule directory (*.yar, *.yara)
 *   scan_check_interval (60s)         how often both are looked at for changes
 *   and the skeleton's scan_queue (scan), scan_concurrency (2),
 *   scan_prefetch, scan_retry_schedule (10s,30s,1m,2m,5m), scan_max_age
 *   (1h), scan_max_attempts, scan_confirm_timeout. Shared: database and
 *   broker parameters.
 *
 * METRICS
 *   The skeleton's, plus txmail_scan_jobs_total{verdict=clean|infected|
 *   error|unavailable}, txmail_scan_parts_total, txmail_scan_bytes_total,
 *   txmail_scan_engine_reloads_total{engine=clamav|yara}.
 *
 * LOGS
 *   One line per job: "<job>: scope=attachments, parts=N, bytes=N,
 *   clamav_signatures=N, yara_rules=N, verdict=clean|infected (part:engine:
 *   signature, ...)|error (why)"; the skeleton adds its own per job.
 */
#include "global/metrics.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "workers/scan/scan_stage.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

struct scan_conf {
    int64_t grace;
    char *clamav;
    char *yara;
    int64_t check_ms;
};
static struct scan_conf scan_conf;

static struct cfg_param scan_params[] = {
    {"scan_grace", CFG_TIME, &scan_conf.grace, "60s", 1000, 86400000, 0,
     "wait this long for the acceptance record", 0, 0},
    {"scan_clamav_signatures", CFG_STR, &scan_conf.clamav, "/var/lib/clamav", 0, 0, 0,
     "ClamAV signature directory", 0, 0},
    {"scan_yara_rules", CFG_STR, &scan_conf.yara, "/etc/txmail/yara", 0, 0, 0,
     "YARA rule directory (*.yar, *.yara)", 0, 0},
    {"scan_check_interval", CFG_TIME, &scan_conf.check_ms, "60s", 0, 86400000, 0,
     "how often the signature and rule directories are looked at for changes", 0, 0},
    {0},
};

static struct scan_job_engines engines;
static _Atomic(const void *) last_clam, last_yara;

static int init(void)
{
    char err[SCAN_ERR_MAX];

    if (scan_open(scan_conf.clamav, scan_conf.check_ms, &engines.clam, err, sizeof(err)) < 0)
        msg_warn("clamav: %s (jobs wait until signatures load)", err);
    if (yarascan_open(scan_conf.yara, scan_conf.check_ms, &engines.yara, err, sizeof(err)) < 0)
        msg_warn("yara: %s (jobs wait until rules load)", err);
    return 0;
}

/* reloads - count an engine other than the one the last job used */
static void reloads(const struct scan_job_result *res)
{
    const void *c = atomic_exchange(&last_clam, res->clam_id);
    const void *y = atomic_exchange(&last_yara, res->yara_id);

    if (c && res->clam_id && c != res->clam_id)
        metrics_count("txmail_scan_engine_reloads_total", "engine", "clamav", 1);
    if (y && res->yara_id && y != res->yara_id)
        metrics_count("txmail_scan_engine_reloads_total", "engine", "yara", 1);
}

static enum tx_code handle(struct job *job)
{
    struct scan_job_result res;
    const char *entry = jsonget_str(job->env.data, "entry");
    enum tx_code rc = TX_OK;

    if (strcmp(job->env.type, "job") != 0) {
        worker_job_reason(job, "not a job envelope (type %s)", job->env.type);
        return TX_REJECT_MALFORMED;
    }
    if (entry == NULL || (strcmp(entry, "rest") != 0 && strcmp(entry, "smtp") != 0)) {
        worker_job_reason(job, "malformed job: unknown entry");
        return TX_REJECT_MALFORMED;
    }
    scan_job_check(&engines, &job->env, &res);
    reloads(&res);
    if (json_array_size(res.infected) > 0) {
        /* a find is final even when another engine could not scan */
        scan_emit_infected(job, &res);
        scan_emit_log(job, &res, "infected");
    } else if (res.error) {
        scan_emit_log(job, &res, "error");
        worker_job_reason(job, "antivirus scan unavailable: %s", res.err);
        rc = TX_RETRY_UNAVAILABLE;
    } else {
        worker_job_forward_input(job);
        scan_emit_log(job, &res, "clean");
    }
    scan_job_result_free(&res);
    return rc;
}

/* expired - no engine could scan the job before scan_max_age */
static void expired(struct job *job)
{
    scan_emit_unavailable(job);
}

static void shutdown_scan(void)
{
    yarascan_close(engines.yara);
    scan_close(engines.clam);
    engines.yara = NULL;
    engines.clam = NULL;
}

static struct worker w = {
    .name = "scan",
    .queue = "scan",
    .params = scan_params,
    .default_concurrency = 2,
    .default_schedule = "10s,30s,1m,2m,5m",
    .default_max_age = "1h",
    .first_stage_grace = &scan_conf.grace,
    .init = init,
    .handle = handle,
    .expired = expired,
    .shutdown = shutdown_scan,
};

int main(int argc, char **argv)
{
    return worker_main(argc, argv, &w);
}
