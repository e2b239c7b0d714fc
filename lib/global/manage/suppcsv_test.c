/* suppcsv_test - the suppression list's address key and the CSV import reader */
#include "tests/harness/ttest.h"
#include "global/manage/suppcsv.h"
#include "global/manage/supplist.h"

#include <stdio.h>
#include <string.h>

TT_TEST(address)
{
    char k[SUPPLIST_ADDRESS_MAX + 2];

    TT_ASSERT(supplist_address(k, sizeof(k), "  John.Doe@Example.COM\t") == 0);
    TT_EQ_STR(k, "john.doe@example.com");
    TT_ASSERT(supplist_address(k, sizeof(k),
                               "a@b\xc3\xbc"
                               "cher.de") == 0);
    TT_EQ_STR(k, "a@xn--bcher-kva.de");
    TT_ASSERT(supplist_address(k, sizeof(k), "Name <a@example.com>") < 0);
    TT_ASSERT(supplist_address(k, sizeof(k), "a@b") < 0);
    TT_ASSERT(supplist_address(k, sizeof(k), "") < 0);
    TT_ASSERT(supplist_address(k, sizeof(k), "   ") < 0);
    TT_ASSERT(supplist_type_ok("MANUAL") && !supplist_type_ok("manual") && !supplist_type_ok(""));
}

static int read_text(const char *text, struct suppcsv_file *f, char *err, size_t errsz)
{
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    int rc = suppcsv_read(fp, f, err, errsz);

    fclose(fp);
    return rc;
}

TT_TEST(import)
{
    struct suppcsv_file f;
    char err[200];
    const char *text = "recipientId,reason,email,expiresTs\r\n"
                       ",\"two\r\nlines, \"\"quoted\"\"\",A@Example.com,\r\n"
                       "\r\n"
                       "x,,bad,\r\n"
                       "y,r,b@example.com,2999-01-01T00:00:00.000Z\r\n"
                       "z,r,c@example.com,1999-01-01T00:00:00.000Z\n"
                       "z,r,d@example.com,soon";

    TT_ASSERT(read_text(text, &f, err, sizeof(err)) == 0);
    TT_EQ_INT(f.n, 5);
    TT_EQ_INT(f.invalid, 3);
    TT_EQ_INT(f.lines[0].line, 2);
    TT_EQ_STR(f.lines[0].address, "a@example.com");
    TT_EQ_STR(f.lines[0].reason, "two\r\nlines, \"quoted\"");
    TT_EQ_STR(f.lines[0].put.address, "a@example.com");
    TT_EQ_INT(f.lines[0].put.expires_ms, -1);
    TT_EQ_INT(f.lines[1].line, 5);
    TT_EQ_STR(f.lines[1].error, "invalid email");
    TT_EQ_INT(f.lines[2].line, 6);
    TT_EQ_STR(f.lines[2].error, "");
    TT_EQ_INT(f.lines[2].put.expires_ms, 32472144000000LL);
    TT_EQ_STR(f.lines[3].error, "expiresTs not in the future");
    TT_EQ_INT(f.lines[4].line, 8);
    TT_EQ_STR(f.lines[4].error, "invalid expiresTs");
    suppcsv_free(&f);

    TT_ASSERT(read_text("", &f, err, sizeof(err)) < 0);
    TT_ASSERT(read_text("address\r\nx@example.com\r\n", &f, err, sizeof(err)) < 0);
    TT_ASSERT(read_text("email\r\n\"x@example.com\r\n", &f, err, sizeof(err)) < 0);
    TT_EQ_STR(err, "line 2: unterminated quoted field");
    TT_ASSERT(read_text("email\r\n\"x\"y@example.com\r\n", &f, err, sizeof(err)) < 0);
    TT_ASSERT(read_text("email\r\n\xff@example.com\r\n", &f, err, sizeof(err)) < 0);
    TT_EQ_STR(err, "not UTF-8");
    TT_ASSERT(read_text("email,type\nx@example.com,BOUNCED\n", &f, err, sizeof(err)) == 0);
    TT_EQ_STR(f.lines[0].error, "unknown type");
    suppcsv_free(&f);
}

TT_MAIN(TT_CASE(address), TT_CASE(import))
