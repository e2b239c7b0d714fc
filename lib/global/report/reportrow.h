/*
 * reportrow - the rows of a daily report (contract §14.1-§14.2): one row
 * per recipient id of the account whose final state (message.final_at,
 * the time of its FINISHED event) lies in the UTC day, sorted by
 * Creation Time (message.received_at), then Usage - ID (the recipient
 * id), with the 24 columns of §14.2 taken from message, job and account.
 *
 * Column sources: Creation Time = message.received_at; Message From =
 * message.mail_from, Message To = message.email, both as submitted but
 * bare ("Name <a@Example.com>" gives "a@Example.com"); the domains are
 * the text after the last '@' of those, ASCII-lowercased; Usage - ID = rid; Message Size = message.size;
 * Status = OK for DELIVERED, else ERROR; Substatus / Status Details =
 * message.last_type / last_subtype (the final event: the recorder never
 * leaves a final state); SMTP Status Code = message.smtp_code; Reference
 * Job, Cost Center, Campaign ID = job; Correlation ID =
 * message.reference; Provisioning ID = message.provisioning_id (the
 * sender_domain id); Tenant, Technical Account ID = account.tenant,
 * account.name; Meta Data - ID = reportrow_meta_id(); Version = 1; Meta
 * Data Creation Time = message.final_at; Entry Interface =
 * message.entry; Processing Region = the processing_region parameter.
 */
#ifndef TX_REPORTROW_H
#define TX_REPORTROW_H

#include "global/db.h"

#include <stddef.h>
#include <stdint.h>

#define REPORTROW_UUID_LEN 36

/*
 * reportrow_meta_id - the Meta Data - ID of a row: the first 16 bytes of
 * SHA-256("<account id>:<rid>") as an RFC 9562 version-8 UUID (version
 * nibble 8, variant 10), lowercase. The same row gets the same id in
 * every build of its report.
 */
void reportrow_meta_id(char out[REPORTROW_UUID_LEN + 1], long long account_id, const char *rid);

/* reportrow_day - "YYYY-MM-DD" (a real calendar day) to its 00:00 UTC; -1 when not one */
int reportrow_day(const char *day, int64_t *start_ms);

/*
 * reportrow_each - stream the day's rows, each as one CSV record
 * (reportcsv.h, CRLF included), to fn(arg, record, len) as MariaDB
 * sends them (db_query_each: one row in memory). fn returns 0, or a
 * tx_code that stops the walk and is returned. TX_REJECT_INPUT when the
 * account does not exist or day is not a date. db must not be the
 * handle fn writes through.
 */
typedef int (*reportrow_fn)(void *arg, const char *record, size_t len);
enum tx_code reportrow_each(struct db *db, long long account_id, const char *day,
                            const char *region, reportrow_fn fn, void *arg);

#endif
