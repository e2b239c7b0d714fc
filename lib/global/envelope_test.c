/* envelope_test - encode/decode round trip, slip handling, hostile input */
#include "tests/harness/ttest.h"
#include "global/envelope.h"
#include "util/mymalloc.h"

TT_TEST(roundtrip_with_raw)
{
    struct envelope e, d;
    char *body, err[128];
    size_t len;
    const char raw[] = "From: a\r\n\r\n\x00\xff binary";

    envelope_init(&e, "message");
    snprintf(e.job_id, sizeof(e.job_id), "0190a000-0000-7000-8000-000000000001");
    snprintf(e.rid, sizeof(e.rid), "%s#00000000#00000001", e.job_id);
    e.account_id = 7;
    e.created_ms = 1747212950817LL;
    e.deferrals = 2;
    TT_EQ_INT(envelope_set_slip_csv(&e, "render,deliver"), 0);
    json_object_set_new(e.data, "k", json_string("v"));
    envelope_set_raw(&e, raw, sizeof(raw) - 1);
    TT_EQ_INT(envelope_encode(&e, &body, &len), 0);
    TT_ASSERT(memchr(body, '\n', len) != NULL);
    TT_EQ_INT(envelope_decode(&d, body, len, err, sizeof(err)), 0);
    TT_EQ_STR(d.type, "message");
    TT_EQ_STR(d.rid, e.rid);
    TT_EQ_INT(d.account_id, 7);
    TT_EQ_INT(d.created_ms, 1747212950817LL);
    TT_EQ_INT(d.deferrals, 2);
    TT_EQ_INT(d.nslip, 2);
    TT_EQ_STR(envelope_stage(&d), "render");
    TT_EQ_STR(json_string_value(json_object_get(d.data, "k")), "v");
    TT_EQ_MEM(d.raw, d.raw_len, raw, sizeof(raw) - 1);
    TT_EQ_STR(envelope_pop(&d), "deliver");
    TT_ASSERT(envelope_pop(&d) == NULL);
    envelope_free(&d);
    envelope_free(&e);
    xfree(body);
}

static int decode_str(const char *s)
{
    struct envelope d;
    char err[128];
    int r = envelope_decode(&d, s, strlen(s), err, sizeof(err));
    envelope_free(&d);
    return r;
}

TT_TEST(refuses_bad_envelopes)
{
    TT_EQ_INT(decode_str("not json\n"), -1);
    TT_EQ_INT(decode_str("{\"v\":1}"), -1); /* no newline */
    TT_EQ_INT(decode_str("{\"v\":2,\"type\":\"job\",\"job\":\"x\",\"account\":1,\"slip\":[],"
                         "\"data\":{},\"raw_len\":0}\n"),
              -1);
    TT_EQ_INT(decode_str("{\"v\":1,\"type\":\"job\",\"job\":\"x\",\"account\":1,\"slip\":[\"Bad "
                         "Stage\"],\"data\":{},\"raw_len\":0}\n"),
              -1);
    TT_EQ_INT(decode_str("{\"v\":1,\"type\":\"job\",\"job\":\"x\",\"account\":1,\"slip\":["
                         "\"render\"],\"data\":{},\"raw_len\":5}\nab"),
              -1);
    TT_EQ_INT(decode_str("{\"v\":1,\"type\":\"job\",\"job\":\"x\",\"account\":\"1\",\"slip\":["
                         "\"render\"],\"data\":{},\"raw_len\":0}\n"),
              -1);
    TT_EQ_INT(decode_str("{\"v\":1,\"v\":1,\"type\":\"job\",\"job\":\"x\",\"account\":1,\"slip\":["
                         "\"render\"],\"data\":{},\"raw_len\":0}\n"),
              -1);
    TT_EQ_INT(decode_str("{\"v\":1,\"type\":\"job\",\"job\":\"x\",\"account\":1,\"slip\":["
                         "\"render\"],\"data\":{},\"raw_len\":0}\n"),
              0);
}

TT_TEST(slip_limits)
{
    struct envelope e;

    envelope_init(&e, "job");
    TT_EQ_INT(envelope_set_slip_csv(&e, ""), -1);
    TT_EQ_INT(envelope_set_slip_csv(&e, "a,,b"), -1);
    TT_EQ_INT(envelope_set_slip_csv(&e, "scan,render,deliver"), 0);
    TT_EQ_INT(e.nslip, 3);
    envelope_free(&e);
}

TT_MAIN(TT_CASE(roundtrip_with_raw), TT_CASE(refuses_bad_envelopes), TT_CASE(slip_limits))
