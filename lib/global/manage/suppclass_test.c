/* suppclass_test - the suppression class of a bounce (contract §13.1) */
#include "tests/harness/ttest.h"
#include "global/manage/suppclass.h"

#include <string.h>

#define HARD SUPPCLASS_PERMANENT

static struct suppclass c;

TT_TEST(hard_codes)
{
    TT_EQ_INT(suppclass_decide("5.1.1", "550 5.1.1 user unknown", HARD, "", &c), 1);
    TT_EQ_STR(c.type, "PREVIOUSLY_BOUNCED");
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    TT_EQ_INT(suppclass_decide("5.1.10", "", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    TT_EQ_INT(suppclass_decide("5.1.2", "", HARD, NULL, &c), 1);
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    TT_EQ_INT(suppclass_decide("5.1.0", NULL, HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    TT_EQ_INT(suppclass_decide("5.2.2", "552 5.2.2 mailbox full", HARD, "", &c), 1);
    TT_EQ_STR(c.type, "TEMPORARY_SUPPRESSED");
    TT_EQ_INT(c.lifetime_s, 86400);
    TT_EQ_INT(suppclass_decide("5.7.1", "554 5.7.1 refused", HARD, "", &c), 1);
    TT_EQ_STR(c.type, "PREVIOUSLY_BOUNCED");
    TT_EQ_INT(c.lifetime_s, 7 * 86400);
    /* not 5.1.1 even though it starts so */
    TT_EQ_INT(suppclass_decide("5.1.11", "", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 7 * 86400);
}

TT_TEST(texts)
{
    /* text equivalents without a useful enhanced code */
    TT_EQ_INT(suppclass_decide("5.0.0", "550 No such user here", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    TT_EQ_INT(suppclass_decide("5.5.0", "mailbox NOT FOUND", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    TT_EQ_INT(suppclass_decide("", "User unknown", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    TT_EQ_INT(suppclass_decide(NULL, NULL, HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 7 * 86400);
    TT_EQ_INT(suppclass_decide("5.0.0", "550 go away", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 7 * 86400);
    /* a specific code wins over the text */
    TT_EQ_INT(suppclass_decide("5.7.1", "user unknown", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 7 * 86400);
}

TT_TEST(soft_and_own)
{
    /* a soft bounce at the end of retries */
    TT_EQ_INT(suppclass_decide("4.4.1", "connection refused", 0, "", &c), 1);
    TT_EQ_STR(c.type, "TEMPORARY_SUPPRESSED");
    TT_EQ_INT(c.lifetime_s, 86400);
    TT_EQ_INT(suppclass_decide("4.1.1", "user unknown", 0, "", &c), 1);
    TT_EQ_STR(c.type, "TEMPORARY_SUPPRESSED");
    /* txmail's own bounces for the message's sake suppress nothing */
    TT_EQ_INT(suppclass_decide("5.1.3", "bad address", HARD | SUPPCLASS_LOCAL, "", &c), 0);
    TT_EQ_INT(suppclass_decide("5.1.7", "bad sender", HARD | SUPPCLASS_LOCAL, "", &c), 0);
    TT_EQ_INT(suppclass_decide("5.3.4", "too big", HARD | SUPPCLASS_LOCAL, "", &c), 0);
    TT_EQ_INT(suppclass_decide("5.6.7", "no SMTPUTF8", HARD | SUPPCLASS_LOCAL, "", &c), 0);
    /* other local hard bounces (no such domain) do */
    TT_EQ_INT(suppclass_decide("5.1.2", "NXDOMAIN", HARD | SUPPCLASS_LOCAL, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 45 * 86400);
    /* the same codes from a peer are the recipient's */
    TT_EQ_INT(suppclass_decide("5.3.4", "552 5.3.4 too big", HARD, "", &c), 1);
    TT_EQ_INT(c.lifetime_s, 7 * 86400);
}

TT_TEST(exclusions)
{
    TT_EQ_INT(suppclass_decide("5.7.1", "x", HARD, "5.7.1", &c), 0);
    TT_EQ_INT(suppclass_decide("5.7.26", "x", HARD, "5.1.1, 5.7.*", &c), 0);
    TT_EQ_INT(suppclass_decide("5.1.1", "x", HARD, "5.1.10,5.7.*", &c), 1);
    TT_EQ_INT(suppclass_decide("4.2.2", "x", 0, " 4.2.2 ", &c), 0);
    TT_EQ_INT(suppclass_decide("", "x", HARD, "*", &c), 1);
    TT_ASSERT(suppclass_listed("5.7.1", "5.7.1"));
    TT_ASSERT(!suppclass_listed("5.7.1", ""));
    TT_ASSERT(!suppclass_listed("5.7.10", "5.7.1"));
    TT_ASSERT(suppclass_listed("5.7.10", ",,5.7.1*,"));
}

TT_TEST(extra_object)
{
    TT_EQ_INT(suppclass_decide("5.1.1", "", HARD, "", &c), 1);
    json_t *x = suppclass_extra("a@example.com", &c, "[5.1.1] bounced (550 x)");
    char *s = json_dumps(x, JSON_SORT_KEYS | JSON_COMPACT);

    TT_EQ_STR(s, "{\"suppress\":{\"address\":\"a@example.com\",\"lifetime_s\":3888000,"
                 "\"reason\":\"[5.1.1] bounced (550 x)\",\"type\":\"PREVIOUSLY_BOUNCED\"}}");
    free(s);
    json_decref(x);
}

TT_MAIN(TT_CASE(hard_codes), TT_CASE(texts), TT_CASE(soft_and_own), TT_CASE(exclusions),
        TT_CASE(extra_object))
