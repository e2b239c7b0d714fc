/* recorder_parse_test - hostile deliveries are refused with a reason, never crash */
#include "../../tests/harness/ttest.h"
#include "recorder.h"
#include "util/mymalloc.h"

static int parse(const char *body, enum rec_kind *kind, char *err, size_t errsz)
{
    struct rec_item it;
    int rc;

    memset(&it, 0, sizeof(it));
    it.dlv.body = xstrdup(body);
    it.dlv.len = strlen(body);
    rc = recorder_parse(&it, err, errsz);
    *kind = it.kind;
    json_decref(it.doc);
    xfree(it.dlv.body);
    return rc;
}

#define RID "6dba7407-6c9c-4946-9553-eb9cc8eac852#00000000#00000000"
#define EV(extra)                                                                                  \
    "{\"v\":1,\"account\":3,\"job\":\"6dba7407-6c9c-4946-9553-eb9cc8eac852\",\"rid\":\"" RID       \
    "\",\"received\":1747212950817,\"phase\":\"DELIVER\",\"state\":\"FINISHED\","                  \
    "\"type\":\"DELIVERED\",\"subType\":\"OK\",\"ts\":\"2025-05-14T08:55:53.120Z\"" extra "}"

TT_TEST(events)
{
    enum rec_kind k;
    char err[256];

    TT_EQ_INT(parse(EV(""), &k, err, sizeof(err)), 0);
    TT_EQ_INT(k, REC_EVENT);
    TT_EQ_INT(parse(EV(",\"x\":{\"suppress\":{\"address\":\"a@b.c\",\"type\":\"PREVIOUSLY_"
                       "BOUNCED\",\"lifetime_s\":604800}}"),
                    &k, err, sizeof(err)),
              0);
    TT_EQ_INT(parse(EV(",\"x\":{\"suppress\":{\"address\":\"a@b.c\",\"type\":\"FOREVER\"}}"), &k,
                    err, sizeof(err)),
              -1);
    TT_EQ_STR(err, "malformed x.suppress");
    TT_EQ_INT(parse(EV(",\"x\":{\"suppress\":{\"address\":\"a@b.c\",\"type\":\"MANUAL\",\"lifetime_"
                       "s\":-1}}"),
                    &k, err, sizeof(err)),
              -1);
    TT_EQ_INT(parse(EV(",\"x\":{\"suppressTouch\":{\"address\":7}}"), &k, err, sizeof(err)), -1);
    TT_EQ_INT(parse(EV(",\"tag\":\"XYZ\""), &k, err, sizeof(err)), -1);
    TT_EQ_STR(err, "malformed tag");
    TT_EQ_INT(parse(EV(",\"eventKey\":\""
                       "0123456789012345678901234567890123456789X"
                       "\""),
                    &k, err, sizeof(err)),
              -1);
    TT_EQ_INT(parse(EV(",\"mail\":[]"), &k, err, sizeof(err)), -1);
    TT_EQ_INT(parse(EV(",\"account\":\"3\""), &k, err, sizeof(err)), -1); /* duplicate key */
}

TT_TEST(garbage)
{
    enum rec_kind k;
    char err[256];
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "null",
        "\"x\"",
        "{\"v\":2,\"type\":\"INTAKE\"}",
        "{\"phase\":\"DELIVER\",\"type\":\"DELIVERED\",\"state\":\"FINISHED\",\"subType\":\"OK\","
        "\"rid\":\"x\",\"ts\":\"2025-05-14T08:55:53.120Z\"}",
        "{\"phase\":\"DELIVER\",\"type\":\"DELIVERED\",\"state\":\"FINISHED\",\"subType\":\"ok "
        "lower\",\"rid\":\"" RID "\",\"ts\":\"2025-05-14T08:55:53.120Z\"}",
        "{\"phase\":\"DELIVER\",\"type\":\"DELIVERED\",\"state\":\"FINISHED\",\"subType\":\"OK\","
        "\"rid\":\"" RID "\",\"ts\":\"1900-01-01T00:00:00.000Z\"}",
        "{\"phase\":\"DELIVER\",\"type\":\"DELIVERED\",\"state\":\"FINISHED\",\"subType\":\"OK\","
        "\"rid\":\"" RID "\",\"ts\":\"2025-05-14\"}",
        "{\"type\":\"INTAKE\",\"job\":\"nope\",\"account\":1,\"received\":1747212950817,\"entry\":"
        "\"rest\",\"mailFrom\":\"a\",\"recipients\":[]}",
        "{\"type\":\"INTAKE\",\"job\":\"6dba7407-6c9c-4946-9553-eb9cc8eac852\",\"account\":1,"
        "\"received\":1747212950817,"
        "\"entry\":\"rest\",\"mailFrom\":\"a\",\"recipients\":[{\"rid\":\"00000000-6c9c-4946-9553-"
        "eb9cc8eac852#00000000#00000000\",\"email\":\"x\"}]}",
        "{\"type\":\"INTAKE\",\"job\":\"6dba7407-6c9c-4946-9553-eb9cc8eac852\",\"account\":1,"
        "\"received\":1747212950817,"
        "\"entry\":\"toolong\",\"mailFrom\":\"a\",\"recipients\":[]}",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        if (parse(bad[i], &k, err, sizeof(err)) != -1)
            TT_FAIL("accepted: %s", bad[i]);
        TT_ASSERT(err[0] != 0);
    }
}

TT_TEST(intake_and_foreign)
{
    enum rec_kind k;
    char err[256];

    TT_EQ_INT(parse("{\"v\":1,\"type\":\"INTAKE\",\"job\":\"6dba7407-6c9c-4946-9553-eb9cc8eac852\","
                    "\"account\":1,"
                    "\"received\":1747212950817,\"entry\":\"rest\",\"mailFrom\":\"a@b.c\","
                    "\"mimeFrom\":null,"
                    "\"recipients\":[{\"rid\":\"" RID
                    "\",\"block\":0,\"index\":0,\"kind\":\"to\",\"email\":\"x@y.z\","
                    "\"addr\":\"x@y.z\",\"reference\":null,\"dropped\":false}]}",
                    &k, err, sizeof(err)),
              0);
    TT_EQ_INT(k, REC_INTAKE);
    /* another program's test event: not ours, ignored (not dead-lettered) */
    TT_EQ_INT(parse("{\"v\":1,\"rid\":\"x\",\"phase\":\"TEST\",\"type\":\"REJECTED\"}", &k, err,
                    sizeof(err)),
              0);
    TT_EQ_INT(k, REC_IGNORE);
}

TT_MAIN(TT_CASE(events), TT_CASE(garbage), TT_CASE(intake_and_foreign))
