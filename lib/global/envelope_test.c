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

TT_TEST(raw_segments)
{
    struct envelope e;
    size_t n = 99;

    envelope_init(&e, "job");
    envelope_set_raw(&e, "abcdef", 6);
    json_t *ok = json_pack("[ii]", 2, 3), *all = json_pack("[ii]", 0, 6),
           *empty = json_pack("[ii]", 6, 0), *past = json_pack("[ii]", 4, 3),
           *neg = json_pack("[ii]", -1, 2), *big = json_pack("[iI]", 1, (json_int_t)1 << 62),
           *shape = json_pack("[i]", 1), *str = json_pack("[si]", "1", 2);
    const char *p = envelope_raw_segment(&e, ok, &n);
    TT_ASSERT(p != NULL && n == 3 && memcmp(p, "cde", 3) == 0);
    TT_ASSERT(envelope_raw_segment(&e, all, &n) == e.raw && n == 6);
    TT_ASSERT(envelope_raw_segment(&e, empty, &n) != NULL && n == 0);
    n = 99;
    TT_ASSERT(envelope_raw_segment(&e, past, &n) == NULL && n == 99);
    TT_ASSERT(envelope_raw_segment(&e, neg, &n) == NULL);
    TT_ASSERT(envelope_raw_segment(&e, big, &n) == NULL);
    TT_ASSERT(envelope_raw_segment(&e, shape, &n) == NULL);
    TT_ASSERT(envelope_raw_segment(&e, str, &n) == NULL);
    TT_ASSERT(envelope_raw_segment(&e, NULL, &n) == NULL);
    json_t *all_ranges[] = {ok, all, empty, past, neg, big, shape, str};
    for (size_t i = 0; i < sizeof(all_ranges) / sizeof(all_ranges[0]); i++)
        json_decref(all_ranges[i]);
    envelope_free(&e);
}

TT_MAIN(TT_CASE(roundtrip_with_raw), TT_CASE(refuses_bad_envelopes), TT_CASE(slip_limits),
        TT_CASE(raw_segments))
