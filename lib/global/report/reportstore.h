/*
 * reportstore - daily reports in MariaDB (schema 002 + 004): `report`
 * (one row per account and day: rows, parts, created_at), `report_part`
 * (rows, bytes and chunks of each part) and `report_chunk` (the CSV of a
 * part in pieces of at most REPORTSTORE_CHUNK bytes, seq 0, 1, ...).
 *
 * A build streams the day's rows (reportrow.h) into parts of at most
 * part_rows data rows, each beginning with the header record; a day
 * without rows gets one header-only part. It writes through a second
 * connection in one transaction that first deletes the day's old report:
 * readers see the old report or the new one, never a mix, and a rebuild
 * of unchanged data writes the same bytes (the Meta Data - IDs are
 * derived from the row). Two builds of the same day serialise on the
 * rows the DELETE locks (the second waits, or fails with TX_RETRY_DB at
 * the lock wait timeout). Memory: one chunk and one record.
 */
#ifndef TX_REPORTSTORE_H
#define TX_REPORTSTORE_H

#include "global/db.h"
#include "util/buf.h"

#include <stdint.h>

#define REPORTSTORE_CHUNK (1024 * 1024)
#define REPORTSTORE_RETENTION_DAYS 180 /* contract §10.6 */

struct reportstore_build_opts {
    long long part_rows; /* data rows per part (contract: 100000) */
    const char *region;  /* Processing Region, "" for none */
};

struct reportstore_info {
    long long rows;
    int parts;
    long long bytes;
    int64_t created_ms;
};

/*
 * reportstore_build - build and store account's report of day (rd reads
 * the rows, wr writes: two connections). *out (may be NULL) gets rows,
 * parts and bytes. TX_REJECT_INPUT for an unknown account or a bad day.
 */
enum tx_code reportstore_build(struct db *rd, struct db *wr, long long account_id, const char *day,
                               const struct reportstore_build_opts *o,
                               struct reportstore_info *out);
/* reportstore_get - the report of day: *found 0 when it is not built */
enum tx_code reportstore_get(struct db *db, long long account_id, const char *day,
                             struct reportstore_info *out, int *found);
/* reportstore_part - rows, bytes and chunk count of one part (1-based); *found 0 when none */
enum tx_code reportstore_part(struct db *db, long long account_id, const char *day, int part,
                              long long *rows, long long *bytes, int *chunks, int *found);
/* reportstore_chunk - chunk seq of a part into out (replaced); TX_REJECT_INPUT when missing */
enum tx_code reportstore_chunk(struct db *db, long long account_id, const char *day, int part,
                               int seq, struct buf *out);
/*
 * reportstore_list - the reports of days [from, to] (inclusive, "YYYY-MM-DD"),
 * newest first: columns day, rows, parts, created_at (ms). *res is new.
 */
enum tx_code reportstore_list(struct db *db, long long account_id, const char *from, const char *to,
                              struct db_res **res);
/*
 * reportstore_expire - delete every report of a day before `before`
 * ("YYYY-MM-DD"), in batches; *days gets the number of reports deleted.
 */
enum tx_code reportstore_expire(struct db *db, const char *before, long long *days);
/* reportstore_oldest - the first day still served on today_ms's date ("YYYY-MM-DD" into out) */
char *reportstore_oldest(char out[16], int64_t today_ms, int retention_days);

#endif
