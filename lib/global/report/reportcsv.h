/*
 * reportcsv - the CSV syntax of the daily reports (contract §14.1):
 * RFC 4180, comma separator, CRLF line ends, UTF-8 without byte-order
 * mark. A field containing a comma, a double quote, CR or LF is enclosed
 * in double quotes and its double quotes are doubled; every other field
 * is written as it is (no prefixing of =, +, - or @: the values are the
 * data, a spreadsheet's formula rules are not the report's business). A
 * missing value (NULL) is an empty field.
 */
#ifndef TX_REPORTCSV_H
#define TX_REPORTCSV_H

#include "util/buf.h"

#include <stddef.h>

#define REPORTCSV_COLUMNS 24

/* the column names of contract §14.2, in order */
extern const char *const reportcsv_columns[REPORTCSV_COLUMNS];

/* reportcsv_field - append one field (v NULL: empty), quoted when needed; -1 when b is full */
int reportcsv_field(struct buf *b, const char *v, size_t len);
/*
 * reportcsv_row - append one record: n fields (v[i] NULL: empty; lens
 * NULL: strlen) separated by commas, then CRLF. -1 when b is full.
 */
int reportcsv_row(struct buf *b, const char *const *v, const size_t *lens, size_t n);
/* reportcsv_header - append the header record */
int reportcsv_header(struct buf *b);

#endif
