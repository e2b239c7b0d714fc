/*
 * reportjob - the broker message that asks txmail-report to build one
 * account's report of one day (published to txmail.work, key "report",
 * by the report schedule and by "txmailctl report run"):
 *
 *   {"v":1,"type":"report","job":"report-<account>-<YYYYMMDD>","account":<id>,
 *    "slip":["report"],"created":<ms>,"data":{"date":"YYYY-MM-DD"},"raw_len":0}
 */
#ifndef TX_REPORTJOB_H
#define TX_REPORTJOB_H

#include "global/envelope.h"

#include <stddef.h>

#define REPORTJOB_STAGE "report"
#define REPORTJOB_TYPE "report"

/* reportjob_encode - the message for account and day. Ownership: new (*body). -1 when bad. */
int reportjob_encode(long long account_id, const char *day, char **body, size_t *len);
/* reportjob_decode - account and day of a report envelope; -1 when it is not one */
int reportjob_decode(const struct envelope *e, long long *account_id, char day[11]);

#endif
