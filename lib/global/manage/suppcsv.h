/*
 * suppcsv - an account's suppression list as CSV (txmailctl suppression
 * export / import): RFC 4180 (comma, double quotes doubled inside quoted
 * fields, CRLF; LF alone is read too), UTF-8, a header line:
 *
 *   email,type,createdTs,lastAttemptTs,expiresTs,reason,recipientId
 *
 * Timestamps as the API writes them (contract §1.2); an empty field is a
 * null member of the §13.2 entry. An import reads the header to find its
 * columns (email is required, unknown ones are ignored, the order is
 * free) and makes every line a MANUAL entry with the line's reason and
 * expiresTs; type, when present, must be one of the four types (it is not
 * kept: an imported entry is MANUAL), createdTs, lastAttemptTs and
 * recipientId are not read. A line is invalid when its address is not one,
 * its type is unknown, its expiresTs is not a timestamp or not in the
 * future, or its reason is longer than SUPPLIST_REASON_MAX characters.
 */
#ifndef TX_SUPPCSV_H
#define TX_SUPPCSV_H

#include "global/db.h"
#include "global/manage/supplist.h"
#include "global/txcode.h"

#include <stdio.h>

#define SUPPCSV_FILE_MAX ((size_t)256 << 20) /* bytes an import reads */

/*
 * suppcsv_export - every entry of account in force (of type; NULL: all),
 * newest first, with the header line, to out; *rows = entries written.
 * TX_OK, TX_RETRY_DB, or TX_FATAL_RESOURCE when out cannot be written.
 */
enum tx_code suppcsv_export(struct db *db, long long account, const char *type, FILE *out,
                            size_t *rows);

/* one line of an import */
struct suppcsv_line {
    long line; /* where its record starts in the file, from 1 (the header) */
    struct supplist_put put;
    char address[SUPPLIST_ADDRESS_MAX + 2];
    char *reason;    /* new, or NULL */
    char error[120]; /* "" valid, else why not */
};

struct suppcsv_file {
    struct suppcsv_line *lines; /* new */
    size_t n, invalid;
};

/*
 * suppcsv_read - read and check a whole import from in (nothing is
 * written): 0, or -1 with err when the file as a whole cannot be used
 * (too large, not UTF-8, no header with an email column, an unterminated
 * quoted field). Ownership: new (f, suppcsv_free).
 */
int suppcsv_read(FILE *in, struct suppcsv_file *f, char *err, size_t errsz);
/* suppcsv_free - free what suppcsv_read put in f */
void suppcsv_free(struct suppcsv_file *f);

#endif
