/* reportcsv_test - RFC 4180 records (contract §14.1) and the Meta Data - ID */
#include "global/report/reportcsv.h"
#include "global/report/reportrow.h"
#include "tests/harness/ttest.h"

static void field_is(const char *in, const char *want)
{
    struct buf b = BUF_INIT(1024);

    TT_ASSERT(reportcsv_field(&b, in, in ? strlen(in) : 0) == 0);
    TT_EQ_STR(b.data ? b.data : "", want);
    buf_free(&b);
}

TT_TEST(quotes_only_what_needs_it)
{
    field_is(NULL, "");
    field_is("", "");
    field_is("plain@example.com", "plain@example.com");
    field_is("a,b", "\"a,b\"");
    field_is("say \"hi\"", "\"say \"\"hi\"\"\"");
    field_is("\"", "\"\"\"\"");
    field_is("line\r\nbreak", "\"line\r\nbreak\"");
    field_is("lf\nonly", "\"lf\nonly\"");
    field_is("cr\ronly", "\"cr\ronly\"");
    /* no formula prefixing: the value as it is */
    field_is("=1+2", "=1+2");
    field_is("+49", "+49");
    field_is("-x", "-x");
    field_is("@SUM(A1)", "@SUM(A1)");
    field_is("caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac");
    field_is(" spaced ", " spaced ");
}

TT_TEST(records_end_with_crlf)
{
    struct buf b = BUF_INIT(1024);
    const char *v[] = {"a", NULL, "b,c", "", "d\"e"};

    TT_ASSERT(reportcsv_row(&b, v, NULL, 5) == 0);
    TT_EQ_STR(b.data, "a,,\"b,c\",,\"d\"\"e\"\r\n");
    buf_free(&b);
}

TT_TEST(header_is_the_contract_columns)
{
    struct buf b = BUF_INIT(4096);

    TT_ASSERT(reportcsv_header(&b) == 0);
    TT_EQ_STR(b.data, "Creation Time,Message From,Message To,Message From Domain,Message To Domain,"
                      "Usage - ID,Message Size,Status,Substatus,Status Details,SMTP Status Code,"
                      "Reference Job,Correlation ID,Job ID,Cost Center,Provisioning ID,Tenant,"
                      "Technical Account ID,Campaign ID,Meta Data - ID,Version,"
                      "Meta Data Creation Time,Entry Interface,Processing Region\r\n");
    buf_free(&b);
}

TT_TEST(full_buffer_fails)
{
    struct buf b = BUF_INIT(8);
    const char *v[] = {"0123456789"};

    TT_ASSERT(reportcsv_row(&b, v, NULL, 1) < 0);
    TT_ASSERT(buf_error(&b));
    buf_free(&b);
}

TT_TEST(meta_id_is_a_stable_v8_uuid)
{
    char a[REPORTROW_UUID_LEN + 1], b[REPORTROW_UUID_LEN + 1], c[REPORTROW_UUID_LEN + 1];
    const char *rid = "8f0e3c3a-0000-4000-8000-000000000001#00000000#00000000";

    reportrow_meta_id(a, 7, rid);
    reportrow_meta_id(b, 7, rid);
    reportrow_meta_id(c, 8, rid);
    TT_EQ_STR(a, b);
    TT_ASSERT(strcmp(a, c) != 0);
    TT_EQ_INT(strlen(a), 36);
    TT_ASSERT(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    TT_ASSERT(a[14] == '8');
    TT_ASSERT(strchr("89ab", a[19]) != NULL);
    for (const char *p = a; *p; p++)
        TT_ASSERT((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '-');
    /* SHA-256("1:j#00000000#00000000"), first 16 bytes, version and variant set */
    reportrow_meta_id(c, 1, "j#00000000#00000000");
    TT_EQ_STR(c, "f89e0fbe-ddc9-860d-8ee9-7047246ca801");
}

TT_TEST(days_are_calendar_days)
{
    int64_t ms;

    TT_ASSERT(reportrow_day("2025-06-04", &ms) == 0);
    TT_EQ_INT(ms, 1748995200000LL);
    TT_ASSERT(reportrow_day("2025-02-29", &ms) < 0);
    TT_ASSERT(reportrow_day("2025-6-04", &ms) < 0);
    TT_ASSERT(reportrow_day("2025-06-04x", &ms) < 0);
    TT_ASSERT(reportrow_day("", &ms) < 0);
}

TT_MAIN(TT_CASE(quotes_only_what_needs_it), TT_CASE(records_end_with_crlf),
        TT_CASE(header_is_the_contract_columns), TT_CASE(full_buffer_fails),
        TT_CASE(meta_id_is_a_stable_v8_uuid), TT_CASE(days_are_calendar_days))
