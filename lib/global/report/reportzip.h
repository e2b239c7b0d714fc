/*
 * reportzip - a daily report as a ZIP archive (contract §14.4), written
 * with libzip into an unlinked temporary file: each part is read chunk by
 * chunk from the database while libzip compresses it (a zip_source
 * function), so memory stays at one chunk whatever the report's size.
 * Entries are named like the CSV downloads ("<prefix>.csv", or
 * "<prefix>-partNN.csv" when the report has more than one part) and
 * dated at the end of the report's day, so the same report gives the
 * same archive.
 */
#ifndef TX_REPORTZIP_H
#define TX_REPORTZIP_H

#include "global/db.h"

#include <sys/types.h>

struct reportzip_req {
    long long account_id;
    const char *day;    /* "YYYY-MM-DD" */
    const char *prefix; /* "txmail-<account>-<date>" */
    int first, last;    /* parts to archive, 1-based, inclusive */
    int parts;          /* parts of the report (names carry -partNN when > 1) */
    const char *tmpdir; /* where the temporary file is made */
};

/*
 * reportzip_file - write the archive; *fd is an open, already unlinked
 * file of *size bytes positioned at 0 (the caller closes it). TX_RETRY_DB
 * when a chunk cannot be read, TX_FATAL_RESOURCE when the file cannot be
 * written (logged).
 */
enum tx_code reportzip_file(struct db *db, const struct reportzip_req *q, int *fd, off_t *size);

/* reportzip_name - "<prefix>[-partNN].<ext>" into out. */
char *reportzip_name(char *out, size_t outsz, const char *prefix, int part, int parts,
                     const char *ext);

#endif
