/* reportcsv - RFC 4180 records of the daily reports; see reportcsv.h. */
#include "global/report/reportcsv.h"

#include <string.h>

const char *const reportcsv_columns[REPORTCSV_COLUMNS] = {
    "Creation Time",
    "Message From",
    "Message To",
    "Message From Domain",
    "Message To Domain",
    "Usage - ID",
    "Message Size",
    "Status",
    "Substatus",
    "Status Details",
    "SMTP Status Code",
    "Reference Job",
    "Correlation ID",
    "Job ID",
    "Cost Center",
    "Provisioning ID",
    "Tenant",
    "Technical Account ID",
    "Campaign ID",
    "Meta Data - ID",
    "Version",
    "Meta Data Creation Time",
    "Entry Interface",
    "Processing Region",
};

/* needs_quotes - the field holds a comma, a double quote, CR or LF */
static int needs_quotes(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n')
            return 1;
    return 0;
}

int reportcsv_field(struct buf *b, const char *v, size_t len)
{
    if (v == NULL || len == 0)
        return buf_error(b) ? -1 : 0;
    if (!needs_quotes(v, len))
        return buf_append(b, v, len);
    if (buf_putc(b, '"') < 0)
        return -1;
    for (const char *q; len > 0 && (q = memchr(v, '"', len)) != NULL;) {
        size_t n = (size_t)(q - v) + 1; /* through the quote, then the quote again */
        if (buf_append(b, v, n) < 0 || buf_putc(b, '"') < 0)
            return -1;
        v += n;
        len -= n;
    }
    if (buf_append(b, v, len) < 0)
        return -1;
    return buf_putc(b, '"');
}

int reportcsv_row(struct buf *b, const char *const *v, const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && buf_putc(b, ',') < 0)
            return -1;
        size_t len = v[i] == NULL ? 0 : lens ? lens[i] : strlen(v[i]);
        if (reportcsv_field(b, v[i], len) < 0)
            return -1;
    }
    return buf_append(b, "\r\n", 2);
}

int reportcsv_header(struct buf *b)
{
    return reportcsv_row(b, reportcsv_columns, NULL, REPORTCSV_COLUMNS);
}
