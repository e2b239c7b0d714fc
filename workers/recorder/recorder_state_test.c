/* recorder_state_test - folding events into message state and suppression entries */
#include "../../tests/harness/ttest.h"
#include "recorder.h"

#define T0 1747212950000LL

static struct rec_evinfo ev(const char *phase, const char *state, const char *type, const char *sub,
                            int64_t ts)
{
    struct rec_evinfo e = {phase, state, type, sub, ts, NULL, -1, "1", NULL};
    return e;
}

TT_TEST(normal_life)
{
    struct rec_msgstate s = {0};
    struct rec_evinfo e = ev("PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", T0);

    TT_EQ_INT(recorder_state_apply(&s, &e), 1);
    e = ev("PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED", T0 + 10);
    e.size = 4711;
    TT_EQ_INT(recorder_state_apply(&s, &e), 1);
    TT_EQ_INT(s.size, 4711);
    e = ev("DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", T0 + 20);
    e.event_key = "1";
    e.smtp_code = "451";
    recorder_state_apply(&s, &e);
    TT_EQ_INT(s.deferrals, 1);
    TT_EQ_STR(s.smtp_code, "451");
    e = ev("DELIVER", "FINISHED", "DELIVERED", "OK", T0 + 30);
    e.smtp_code = "250";
    recorder_state_apply(&s, &e);
    TT_EQ_STR(s.type, "DELIVERED");
    TT_EQ_STR(s.smtp_code, "250");
    TT_EQ_INT(s.final_ms, T0 + 30);
    /* a replay changes nothing */
    TT_EQ_INT(recorder_state_apply(&s, &e), 0);
    /* post-delivery events never touch the delivery state */
    e = ev("POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", T0 + 100);
    TT_EQ_INT(recorder_state_apply(&s, &e), 0);
    TT_EQ_STR(s.type, "DELIVERED");
}

TT_TEST(out_of_order)
{
    struct rec_msgstate s = {0};
    struct rec_evinfo d = ev("DELIVER", "FINISHED", "DELIVERED", "OK", T0 + 30);
    struct rec_evinfo st = ev("PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", T0);
    struct rec_evinfo df = ev("DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", T0 + 40);

    df.event_key = "3";
    recorder_state_apply(&s, &d);
    TT_EQ_INT(recorder_state_apply(&s, &st), 0);
    TT_EQ_STR(s.type, "DELIVERED");
    /* a deferral after the final state: counted, but the state stays */
    TT_EQ_INT(recorder_state_apply(&s, &df), 1);
    TT_EQ_STR(s.type, "DELIVERED");
    TT_EQ_INT(s.deferrals, 3);
    /* an older non-final event never replaces a newer one */
    struct rec_msgstate t = {0};
    struct rec_evinfo fin =
        ev("PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED", T0 + 10);
    recorder_state_apply(&t, &fin);
    TT_EQ_INT(recorder_state_apply(&t, &st), 0);
    TT_EQ_STR(t.subtype, "PROCESSING_FINISHED");
    /* the earliest final wins, whatever the order */
    struct rec_msgstate u = {0};
    struct rec_evinfo b = ev("DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE", T0 + 50);
    recorder_state_apply(&u, &b);
    recorder_state_apply(&u, &d);
    TT_EQ_STR(u.type, "DELIVERED");
    TT_EQ_INT(recorder_state_apply(&u, &b), 0);
    /* same millisecond: the later stage wins in either order */
    struct rec_msgstate v = {0}, w = {0};
    struct rec_evinfo a1 = ev("PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", T0);
    struct rec_evinfo a2 = ev("PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED", T0);
    recorder_state_apply(&v, &a1);
    recorder_state_apply(&v, &a2);
    recorder_state_apply(&w, &a2);
    recorder_state_apply(&w, &a1);
    TT_EQ_STR(v.subtype, "PROCESSING_FINISHED");
    TT_EQ_STR(w.subtype, "PROCESSING_FINISHED");
}

TT_TEST(trace_recover_store)
{
    struct rec_msgstate s = {0};
    struct rec_evinfo e = ev("PROCESS", "INTERMEDIATE", "TRACE_RECOVER_STORE", "OK", T0);

    e.description = "stored until 2025-06-28T08:55:50.000Z";
    TT_EQ_INT(recorder_state_apply(&s, &e), 1);
    TT_EQ_INT(s.have, 0);
    TT_EQ_INT(s.trace_until_ms, 1751100950000LL);
}

static struct rec_supp entry(const char *type, int64_t created, int64_t expires, long long life)
{
    struct rec_supp s = {1, "", created, expires, life, 0};
    snprintf(s.type, sizeof(s.type), "%s", type);
    return s;
}

TT_TEST(suppress_merge)
{
    struct rec_supp s = {0};
    int repl;

    s.expires_ms = -1;
    s.lifetime_s = -1;
    TT_EQ_INT(recorder_state_supp_merge(&s, "PREVIOUSLY_BOUNCED", 45 * 86400, T0, &repl), 1);
    TT_EQ_INT(repl, 1);
    TT_EQ_INT(s.expires_ms, T0 + 45LL * 86400000);
    /* replay: nothing */
    TT_EQ_INT(recorder_state_supp_merge(&s, "PREVIOUSLY_BOUNCED", 45 * 86400, T0, &repl), 0);
    /* a weaker class extends, never shortens, keeps the type */
    TT_EQ_INT(recorder_state_supp_merge(&s, "TEMPORARY_SUPPRESSED", 86400, T0 + 1000, &repl), 0);
    TT_EQ_STR(s.type, "PREVIOUSLY_BOUNCED");
    /* the same class later: refresh */
    TT_EQ_INT(recorder_state_supp_merge(&s, "PREVIOUSLY_BOUNCED", 7 * 86400,
                                        T0 + 50LL * 86400000 - 1, &repl),
              1);
    TT_EQ_INT(repl, 1);

    /* MANUAL and UNSUBSCRIBED are never overwritten by bounce classes */
    struct rec_supp m = entry("MANUAL", T0, -1, -1);
    TT_EQ_INT(recorder_state_supp_merge(&m, "PREVIOUSLY_BOUNCED", 45 * 86400, T0 + 5, &repl), 0);
    TT_EQ_STR(m.type, "MANUAL");
    struct rec_supp u = entry("UNSUBSCRIBED", T0, -1, -1);
    TT_EQ_INT(recorder_state_supp_merge(&u, "TEMPORARY_SUPPRESSED", 86400, T0 + 5, &repl), 0);
    /* ... but an expired MANUAL entry is */
    struct rec_supp e = entry("MANUAL", T0, T0 + 10, -1);
    TT_EQ_INT(recorder_state_supp_merge(&e, "PREVIOUSLY_BOUNCED", 7 * 86400, T0 + 20, &repl), 1);
    TT_EQ_STR(e.type, "PREVIOUSLY_BOUNCED");
    /* UNSUBSCRIBED replaces a bounce entry, without end */
    struct rec_supp b = entry("TEMPORARY_SUPPRESSED", T0, T0 + 86400000, 86400);
    TT_EQ_INT(recorder_state_supp_merge(&b, "UNSUBSCRIBED", -1, T0 + 5, &repl), 1);
    TT_EQ_STR(b.type, "UNSUBSCRIBED");
    TT_EQ_INT(b.expires_ms, -1);
    TT_EQ_INT(b.lifetime_s, -1);
}

TT_TEST(suppress_touch)
{
    struct rec_supp s = entry("PREVIOUSLY_BOUNCED", T0, T0 + 7LL * 86400000, 7 * 86400);
    struct rec_supp m = entry("MANUAL", T0, T0 + 7LL * 86400000, -1);
    struct rec_supp u = entry("UNSUBSCRIBED", T0, -1, -1);

    TT_EQ_INT(recorder_state_supp_touch(&s, T0 + 86400000), 1);
    TT_EQ_INT(s.expires_ms, T0 + 8LL * 86400000);
    TT_EQ_INT(s.last_attempt_ms, T0 + 86400000);
    /* replay and late older touches change nothing */
    TT_EQ_INT(recorder_state_supp_touch(&s, T0 + 86400000), 0);
    TT_EQ_INT(recorder_state_supp_touch(&s, T0 + 1000), 0);
    TT_EQ_INT(s.expires_ms, T0 + 8LL * 86400000);
    /* MANUAL / UNSUBSCRIBED: only the attempt is noted */
    TT_EQ_INT(recorder_state_supp_touch(&m, T0 + 86400000), 1);
    TT_EQ_INT(m.expires_ms, T0 + 7LL * 86400000);
    recorder_state_supp_touch(&u, T0 + 5);
    TT_EQ_INT(u.expires_ms, -1);
    TT_EQ_INT(u.last_attempt_ms, T0 + 5);
    /* an entry no longer in force is not revived */
    struct rec_supp x = entry("TEMPORARY_SUPPRESSED", T0, T0 + 1000, 86400);
    recorder_state_supp_touch(&x, T0 + 2000);
    TT_EQ_INT(x.expires_ms, T0 + 1000);
}

TT_MAIN(TT_CASE(normal_life), TT_CASE(out_of_order), TT_CASE(trace_recover_store),
        TT_CASE(suppress_merge), TT_CASE(suppress_touch))
