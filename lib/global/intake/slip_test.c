/* slip_test - installed stages, the stage of each feature, slips in mq_stages order */
#include "tests/harness/ttest.h"
#include "global/intake/slip.h"

#include <string.h>

TT_TEST(stages_check)
{
    char err[128];

    TT_EQ_INT(slip_stages_check("rest_stages", "render,deliver", err, sizeof(err)), 0);
    TT_EQ_INT(slip_stages_check("rest_stages", " scan, render deliver,smime ", err, sizeof(err)),
              0);
    TT_EQ_INT(slip_stages_check("smtpd_stages", "render,deliver,virus", err, sizeof(err)), -1);
    TT_EQ_STR(err, "smtpd_stages: unknown stage \"virus\"");
    TT_EQ_INT(slip_stages_check("rest_stages", "scan,render", err, sizeof(err)), -1);
    TT_EQ_STR(err, "rest_stages: render and deliver are needed");
    TT_EQ_INT(slip_stages_check("rest_stages", "", err, sizeof(err)), -1);
    /* "renderer" is not render: names are compared whole */
    TT_EQ_INT(slip_stages_check("rest_stages", "renderer,deliver", err, sizeof(err)), -1);
    TT_EQ_INT(
        slip_stages_check("rest_stages",
                          "render,deliver,scan,scan,scan,scan,scan,scan,scan,scan,scan,scan,scan,"
                          "scan,scan,scan,scan",
                          err, sizeof(err)),
        -1);
    TT_EQ_STR(err, "rest_stages: too many stages");
}

TT_TEST(installed_and_offers)
{
    TT_EQ_INT(slip_installed("render,deliver", "render"), 1);
    TT_EQ_INT(slip_installed("render,deliver", "rend"), 0);
    TT_EQ_INT(slip_installed(NULL, "render"), 0);
    TT_EQ_STR(slip_stage_of(SLIP_TRACE_RECOVER), "scan");
    TT_EQ_STR(slip_stage_of(SLIP_SECURE_ZIP), "securezip");
    TT_EQ_INT(slip_offers("render,deliver", SLIP_ANTIVIRUS), 0);
    TT_EQ_INT(slip_offers("scan,render,deliver", SLIP_SECURE_DOCUMENT), 1);
    TT_EQ_INT(slip_offers("scan,render,deliver", SLIP_SECURE_ZIP), 0);
    TT_EQ_INT(slip_offers("render,smime,deliver", SLIP_MESSAGE_SIGNING), 1);
}

TT_TEST(build_in_stage_order)
{
    const char *all = "deliver,smime,spamcheck,render,securezip,scan";
    struct slip_features f;
    enum slip_feature missing = SLIP_NFEATURES;
    char out[SLIP_TEXT_MAX];

    memset(&f, 0, sizeof(f));
    TT_EQ_INT(slip_build(all, &f, out, sizeof(out), &missing), 0);
    TT_EQ_STR(out, "render,deliver");
    f.on[SLIP_MESSAGE_SIGNING] = f.on[SLIP_TRACE_RECOVER] = 1;
    TT_EQ_INT(slip_build(all, &f, out, sizeof(out), &missing), 0);
    TT_EQ_STR(out, "scan,render,smime,deliver");
    memset(&f, 0, sizeof(f));
    f.on[SLIP_SECURE_DOCUMENT] = f.on[SLIP_SECURE_ZIP] = f.on[SLIP_SPAM_CHECK] = 1;
    TT_EQ_INT(slip_build(all, &f, out, sizeof(out), &missing), 0);
    TT_EQ_STR(out, "scan,securezip,render,spamcheck,deliver");
    /* a feature whose stage is not installed: refused, named */
    TT_EQ_INT(slip_build("scan,render,deliver", &f, out, sizeof(out), &missing), -1);
    TT_EQ_INT(missing, SLIP_SECURE_ZIP);
    TT_EQ_STR(out, "");
}

TT_MAIN(TT_CASE(stages_check), TT_CASE(installed_and_offers), TT_CASE(build_in_stage_order))
