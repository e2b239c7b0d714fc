# workers/report - txmail-report, the daily CSV reports (see report.c)
PROGRAMS += txmail-report
txmail-report_SRC := workers/report/report.c workers/report/report_job.c \
                     workers/report/report_sched.c
