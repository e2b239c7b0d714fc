/*
 * deliver_reply - SMTP reply parsing, classification and event
 * descriptions (contract §10.2).
 *
 * Replies come from peers on the internet: every line is treated as
 * hostile. Text is made printable as it is stored and bounded; the code
 * must be three digits of a known class.
 */
#include "workers/deliver/deliver.h"
#include "util/msg.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void deliver_reply_init(struct smtp_reply *r)
{
    memset(r, 0, sizeof(*r));
}

/* parse_enh - "c.s.d" at s (class digit c, 1-3 digit subject and detail) */
static size_t parse_enh(const char *s, size_t len, char *out, size_t outsz)
{
    size_t i = 0, parts = 0;

    if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    i = 2;
    for (parts = 0; parts < 2; parts++) {
        size_t digits = 0;
        while (i < len && isdigit((unsigned char)s[i]) && digits < 4)
            i++, digits++;
        if (digits == 0 || digits > 3)
            return 0;
        if (parts == 0) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < len && s[i] != ' ' && s[i] != '\t')
        return 0;
    if (i >= outsz)
        return 0;
    memcpy(out, s, i);
    out[i] = 0;
    return i;
}

static void append_text(struct smtp_reply *r, const char *line, size_t len)
{
    char clean[REPLY_TEXT_MAX];
    size_t room;

    if (r->len + 2 >= sizeof(r->text))
        return;
    if (r->len > 0)
        r->text[r->len++] = ' ';
    room = sizeof(r->text) - r->len;
    msg_printable(clean, room < sizeof(clean) ? room : sizeof(clean), line, len);
    size_t n = strlen(clean);
    memcpy(r->text + r->len, clean, n + 1);
    r->len += n;
}

int deliver_reply_feed(struct smtp_reply *r, const char *line, size_t len)
{
    int code;

    r->lines++;
    if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]) || line[0] < '2' || line[0] > '5' ||
        (len > 3 && line[3] != ' ' && line[3] != '-')) {
        r->code = 0;
        if (r->lines <= 100)
            append_text(r, line, len);
        return -1;
    }
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r->lines == 1 && len > 4)
        parse_enh(line + 4, len - 4, r->enh, sizeof(r->enh));
    if (r->lines <= 100)
        append_text(r, line, len);
    if (len == 3 || line[3] == ' ') {
        r->code = code;
        return 1;
    }
    return 0;
}

enum dlv_status deliver_reply_status(int code)
{
    switch (code / 100) {
    case 2:
        return DLV_SENT;
    case 5:
        return DLV_BOUNCE;
    default:
        return DLV_DEFER; /* 4xx, and 1xx/3xx where they make no sense */
    }
}

char *deliver_reply_dsn(char *out, const struct smtp_reply *r, int class_override)
{
    int cls = r->code / 100;

    if (cls != 2 && cls != 4 && cls != 5)
        cls = 4;
    if (r->enh[0] && r->enh[0] - '0' == cls)
        snprintf(out, DSN_MAX, "%s", r->enh);
    else
        snprintf(out, DSN_MAX, "%d.0.0", cls);
    if (class_override)
        out[0] = (char)('0' + class_override);
    return out;
}

char *deliver_reply_describe(char *out, size_t outsz, const char *dsn, const char *word,
                             const char *host, const char *text)
{
    if (host && *host)
        snprintf(out, outsz, "[%s] %s (host %s said: %s)", dsn, word, host, text);
    else
        snprintf(out, outsz, "[%s] %s (%s)", dsn, word, text);
    return out;
}
