# lib/global/bounce - parse and classify what comes back to the bounce
# domain: DSNs, provider bounce formats, ARF reports, auto-replies, replies
LIBGLOBAL_SRC += lib/global/bounce/bounce_parse.c lib/global/bounce/bounce_msg.c \
                 lib/global/bounce/bounce_scan.c lib/global/bounce/bounce_dsn.c \
                 lib/global/bounce/bounce_arf.c lib/global/bounce/bounce_json.c \
                 lib/global/bounce/bounce_text.c lib/global/bounce/bounce_formats.c \
                 lib/global/bounce/bounce_msgtext.c
LIBGLOBAL_SRC += lib/global/bounce/bounce_reason.c lib/global/bounce/bounce_reason_codes.c \
                 lib/global/bounce/bounce_reason_phrases.c lib/global/bounce/bounce_reason_phrases_policy.c \
                 lib/global/bounce/bounce_reason_rhost.c
UNIT_TESTS += bounce_reason_test
bounce_reason_test_SRC := lib/global/bounce/bounce_reason_test.c

UNIT_TESTS += bounce_parse_test
bounce_parse_test_SRC := lib/global/bounce/bounce_parse_test.c
