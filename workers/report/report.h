/* report - what the files of txmail-report share (see report.c for the manual). */
#ifndef REPORT_H
#define REPORT_H

#include "global/runtime/worker.h"

#include <stdint.h>

struct report_conf {
    long long part_rows;
    int schedule;
    int64_t schedule_delay_ms;
    int64_t schedule_interval_ms;
    int64_t claim_lease_ms;
    int64_t retention_ms;
};

extern struct report_conf report_conf;

/* report_job.c - one {account, date} job */
void *report_job_thread_init(void);
void report_job_thread_done(void *ctx);
enum tx_code report_job_handle(struct job *job);
/* report_sched.c - the daily schedule and retention (a thread of its own) */
void report_sched_start(void);
void report_sched_stop(void);

#endif
