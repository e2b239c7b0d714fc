/* spamcheck_test - how much of a message goes to spamd */
#include "tests/harness/ttest.h"
#include "workers/spamcheck/spamcheck.h"

#include <string.h>

struct spamcheck_conf spamcheck_conf;

TT_TEST(scan_len_cuts_at_a_line_end)
{
    const char *m = "Subject: x\r\n\r\nline one\r\nline two\r\n";
    size_t n = strlen(m);

    TT_EQ_INT(spamcheck_job_scan_len(m, n, n), n);
    TT_EQ_INT(spamcheck_job_scan_len(m, n, 1000), n);
    /* within "line two": up to the end of "line one" */
    TT_EQ_INT(spamcheck_job_scan_len(m, n, n - 3), strlen("Subject: x\r\n\r\nline one\r\n"));
    /* a cut exactly after a line end keeps that line */
    TT_EQ_INT(spamcheck_job_scan_len(m, n, 12), 12);
    /* no line end within the limit: the limit */
    TT_EQ_INT(spamcheck_job_scan_len("abcdefgh", 8, 5), 5);
    TT_EQ_INT(spamcheck_job_scan_len("abcdefgh", 8, 0), 0);
}

TT_MAIN(TT_CASE(scan_len_cuts_at_a_line_end))
