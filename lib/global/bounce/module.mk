# lib/global/bounce - parse and classify what comes back to the bounce
# domain: DSNs, provider bounce formats, ARF reports, auto-replies, replies
LIBGLOBAL_SRC += lib/global/bounce/bounce_parse.c lib/global/bounce/bounce_msg.c \
                 lib/global/bounce/bounce_scan.c lib/global/bounce/bounce_dsn.c \
                 lib/global/bounce/bounce_arf.c lib/global/bounce/bounce_json.c \
                 lib/global/bounce/bounce_text.c lib/global/bounce/bounce_formats.c
