/*
 * smtpd_msghdr_test - the header section read one way (the sender-domain
 * bypasses of issue 11 and their variants) and From:/Sender: address lists.
 */
#include "../../tests/harness/ttest.h"
#include "smtpd_msghdr.h"

static char reply[600];

/* parse - the result for a whole message (header, empty line, body) */
static enum smtpd_msghdr_rc parse(const char *msg, size_t len, struct smtpd_fields *fs)
{
    reply[0] = 0;
    return smtpd_msghdr_parse(msg, len, fs, SMTPD_MIME_FIELDS_MAX, reply, sizeof(reply));
}

/* verdict - the reply for msg ("" when it is accepted) */
static const char *verdict(const char *msg, size_t len)
{
    struct smtpd_fields fs;

    parse(msg, len, &fs);
    smtpd_mime_fields_free(&fs);
    return reply;
}

#define V(s) verdict(s, sizeof(s) - 1)

static int mb(const char *v, const char *dom, char *first)
{
    return smtpd_msghdr_mailboxes(v, strlen(v), dom, first, 300);
}

TT_TEST(clean_header_is_split)
{
    static const char m[] =
        "From: a@own.example\r\nTo: Team: x@a.example, y@b.example;\r\n"
        "Subject: one\r\n two\r\nX-A:b\r\n\r\nbody\r\nFrom : ceo@victim.example\r\n";
    struct smtpd_fields fs;

    TT_EQ_INT(parse(m, sizeof(m) - 1, &fs), SMTPD_MSGHDR_OK);
    TT_EQ_STR(reply, "");
    TT_EQ_INT(fs.n, 4);
    TT_ASSERT(smtpd_mime_field_is(&fs.f[2], "subject"));
    TT_EQ_MEM(fs.f[2].value, fs.f[2].value_len, " one\r\n two", 10);
    TT_EQ_MEM(fs.f[3].value, fs.f[3].value_len, "b", 1);
    TT_EQ_STR(m + fs.body_off, "body\r\nFrom : ceo@victim.example\r\n"); /* the body is the body */
    smtpd_mime_fields_free(&fs);
    /* no empty line: everything is header */
    TT_EQ_INT(parse("From: a@own.example\r\nSubject: x\r\n", 33, &fs), SMTPD_MSGHDR_OK);
    TT_EQ_INT(fs.n, 2);
    TT_EQ_INT(fs.body_off, 33);
    smtpd_mime_fields_free(&fs);
    /* encoded words, 8-bit UTF-8 (SMTPUTF8), a tab fold: all fine */
    TT_EQ_STR(V("From: =?UTF-8?B?SsO2cmc=?= <a@own.example>\r\nSubject: Gr\xc3\xbc\xc3\x9f"
                "e\r\n"
                "X-Long: a\r\n\tb\r\n\r\nx\r\n"),
              "");
    /* GMime keeps Content-* apart from the other fields: still the same list */
    TT_EQ_STR(
        V("From: a@own.example\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
          "Content-Transfer-Encoding: 8bit\r\nSubject: s\r\nContent-ID: <c@x>\r\nX-Z: "
          "z\r\n\r\nx\r\n"),
        "");
    TT_EQ_STR(V("From: a@own.example\r\nContent-Type: multipart/mixed;\r\n "
                "boundary=\"b1\"\r\nSubject: s\r\n\r\n"
                "--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1--\r\n"),
              "");
    TT_EQ_STR(V("From: a@own.example\r\nContent-Type: message/rfc822\r\n\r\nFrom: "
                "b@x.example\r\n\r\nx\r\n"),
              "");
    TT_EQ_STR(V("Content-Type: text/plain\r\n\r\nx\r\n"), "");
}

TT_TEST(space_before_colon_is_refused)
{
    /* bypass 2: smtpd ended the header at "From :", render and receivers did not */
    TT_EQ_STR(
        V("From: me@own.example\r\nSubject: x\r\nFrom : ceo@victim.example\r\nBcc: b@x.example\r\n"
          "X-RETARUS-M4A-NOTIFICATION-URL: http://127.0.0.1/\r\n\r\nbody\r\n"),
        "550 5.6.0 Malformed header: line without a field name and colon");
    TT_EQ_STR(V("From: me@own.example\r\nFrom\t: ceo@victim.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line without a field name and colon");
    TT_EQ_STR(V("Subject : x\r\nFrom: me@own.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line without a field name and colon");
}

TT_TEST(lines_that_are_no_field_are_refused)
{
    /* a line without a colon inside the header, and a field after it */
    TT_EQ_STR(V("From: me@own.example\r\nGarbage line\r\nBcc: hidden@x.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line without a field name and colon");
    /* a bare "From" line (no colon), an mbox From_ line */
    TT_EQ_STR(V("From\r\nFrom: me@own.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line without a field name and colon");
    TT_EQ_STR(
        V("From me@own.example Mon Jan  1 00:00:00 2024\r\nFrom: ceo@victim.example\r\n\r\nb\r\n"),
        "550 5.6.0 Malformed header: line without a field name and colon");
    TT_EQ_STR(V(": empty name\r\nFrom: me@own.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line without a field name and colon");
    /* 8-bit in a field name */
    TT_EQ_STR(V("Fr\xc3\xb6m: me@own.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line without a field name and colon");
}

TT_TEST(continuation_hijack_is_refused)
{
    /* a tab-led line first: smtpd saw no header, others a folded nothing */
    TT_EQ_STR(V("\tFrom: ceo@victim.example\r\nFrom: me@own.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: continuation line before the first field");
    TT_EQ_STR(V(" x\r\nFrom: me@own.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: continuation line before the first field");
    /* a line of white space: the end of the header for some, a fold for others */
    TT_EQ_STR(V("From: me@own.example\r\n \r\nBcc: hidden@x.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line of white space only");
    TT_EQ_STR(V("From: me@own.example\r\n\t\t\r\nBcc: hidden@x.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: line of white space only");
    /* a fold that continues From: is part of From: (checked there, see below) */
    struct smtpd_fields fs;
    static const char m[] =
        "From: me@own.example\r\n\t, ceo@victim.example\r\nSubject: x\r\n\r\nb\r\n";
    char first[300];
    TT_EQ_INT(parse(m, sizeof(m) - 1, &fs), SMTPD_MSGHDR_OK);
    TT_EQ_INT(fs.n, 2);
    TT_EQ_INT(smtpd_msghdr_mailboxes(fs.f[0].value, fs.f[0].value_len, "own.example", first, 300),
              0);
    smtpd_mime_fields_free(&fs);
}

TT_TEST(nul_and_bare_line_ends_are_refused)
{
    TT_EQ_STR(V("From: me@own.example\r\nX-A: a\0b\r\nBcc: x@y.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: NUL octet");
    TT_EQ_STR(V("From: me@own.example\rBcc: x@y.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: bare CR or LF");
    TT_EQ_STR(V("From: me@own.example\nBcc: x@y.example\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: bare CR or LF");
    TT_EQ_STR(V("From: me@own.example"), "550 5.6.0 Malformed header: bare CR or LF");
    /* in the body they are not the header's business */
    TT_EQ_STR(V("From: me@own.example\r\n\r\na\0b\n"), "");
}

TT_TEST(duplicates_are_refused)
{
    TT_EQ_STR(V("From: me@own.example\r\nFrom: ceo@victim.example\r\n\r\nb\r\n"),
              "550 5.7.1 Unsupported value for From");
    TT_EQ_STR(V("from: me@own.example\r\nSubject: x\r\nFROM: me@own.example\r\n\r\nb\r\n"),
              "550 5.7.1 Unsupported value for From");
    TT_EQ_STR(V("From: me@own.example\r\nSender: me@own.example\r\nSender: "
                "ceo@victim.example\r\n\r\nb\r\n"),
              "550 5.7.1 Unsupported value for Sender");
    TT_EQ_STR(V("From: me@own.example\r\nSubject: a\r\nsubject: b\r\n\r\nb\r\n"),
              "550 5.6.0 Duplicate header field Subject");
    TT_EQ_STR(V("From: me@own.example\r\nTo: a@x.example\r\nTo: b@x.example\r\n\r\nb\r\n"),
              "550 5.6.0 Duplicate header field To");
    TT_EQ_STR(V("From: me@own.example\r\nMessage-ID: <a@x>\r\nMessage-ID: <b@x>\r\n\r\nb\r\n"),
              "550 5.6.0 Duplicate header field Message-ID");
    TT_EQ_STR(V("From: me@own.example\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                "Date: Tue, 2 Jan 2024 00:00:00 +0000\r\n\r\nb\r\n"),
              "550 5.6.0 Duplicate header field Date");
    TT_EQ_STR(V("From: me@own.example\r\nContent-Type: text/plain\r\nContent-Type: "
                "multipart/mixed; boundary=b\r\n\r\nb\r\n"),
              "550 5.6.0 Duplicate header field Content-Type");
    TT_EQ_STR(V("From: me@own.example\r\nX-RETARUS-M4A-REFERENCE: a\r\nx-retarus-m4a-reference: "
                "b\r\n\r\nb\r\n"),
              "550 5.6.0 Duplicate header field X-RETARUS-M4A-REFERENCE");
    TT_EQ_STR(V("From: me@own.example\r\nX-RETARUS-M4A-NOTIFICATION-URL: http://a.example/\r\n"
                "X-RETARUS-M4A-NOTIFICATION-URL: http://127.0.0.1/\r\n\r\nb\r\n"),
              "550 5.6.0 Duplicate header field X-RETARUS-M4A-NOTIFICATION-URL");
    /* several NOTIFICATION-HEADER, Received and unknown fields are normal */
    TT_EQ_STR(V("Received: a\r\nReceived: b\r\nFrom: "
                "me@own.example\r\nX-RETARUS-M4A-NOTIFICATION-HEADER: a=1\r\n"
                "X-RETARUS-M4A-NOTIFICATION-HEADER: b=2\r\nX-Foo: 1\r\nX-Foo: 2\r\n\r\nb\r\n"),
              "");
    /* GMime's own view of conflicting parameters */
    TT_EQ_STR(V("From: me@own.example\r\nContent-Type: multipart/mixed; boundary=a; "
                "boundary=b\r\n\r\nb\r\n"),
              "550 5.6.0 Malformed header: ambiguous boundary");
}

TT_TEST(too_many_fields)
{
    char m[4000];
    size_t o = 0;

    for (int i = 0; i < 101; i++)
        o += (size_t)snprintf(m + o, sizeof(m) - o, "X-%d: v\r\n", i);
    struct smtpd_fields fs;
    reply[0] = 0;
    TT_EQ_INT(smtpd_msghdr_parse(m, o, &fs, 100, reply, sizeof(reply)), SMTPD_MSGHDR_TOO_MANY);
    TT_EQ_STR(reply, "554 5.6.0 Too many header fields");
    smtpd_mime_fields_free(&fs);
}

TT_TEST(from_mailboxes)
{
    char first[300];

    TT_EQ_INT(mb("Sender <sender@example.com>", "example.com", first), 1);
    TT_EQ_STR(first, "sender@example.com");
    TT_EQ_INT(mb("\"Doe, J\" <j@EXAMPLE.com> (work), k@example.com", "example.com", first), 1);
    TT_EQ_STR(first, "j@example.com");
    TT_EQ_INT(mb("a@example.com, b@example.org", "example.com", first), 0);
    TT_EQ_INT(mb("x@sub.example.com", "example.com", first), 0);
    TT_EQ_INT(mb("Team: a@example.com, b@example.com;", "example.com", first), 1);
    TT_EQ_INT(mb("=?UTF-8?B?w6Q=?= <a@example.com>", "example.com", first), 1);
    TT_EQ_INT(mb(" Team:\r\n a@example.com;", "example.com", first), 1);
    TT_EQ_INT(mb("not an address", "example.com", first), -1);
    TT_EQ_INT(mb("", "example.com", first), -1);
    TT_EQ_INT(mb("<a@example.com", "example.com", first), -1);
}

TT_TEST(group_bypass_and_variants)
{
    char first[300];

    /* bypass 1: the group cut the list short; every mailbox counts now */
    TT_EQ_INT(mb(" ceo@victim.example, g: me@own.example;", "own.example", first), 0);
    TT_EQ_INT(mb(" g: me@own.example;, ceo@victim.example", "own.example", first), 0);
    TT_EQ_INT(mb(" g: me@own.example, ceo@victim.example;", "own.example", first), 0);
    TT_EQ_INT(mb(" g: ceo@victim.example;", "own.example", first), 0);
    TT_EQ_INT(mb(" g: me@own.example;", "own.example", first), 1);
    TT_EQ_STR(first, "me@own.example");
    TT_EQ_INT(mb(" g: me@own.example", "own.example", first),
              1); /* unterminated group: still one mailbox */
    /* nested groups and groups without any mailbox are not a clean list */
    TT_EQ_INT(mb(" g1: g2: me@own.example;;", "own.example", first), -1);
    TT_EQ_INT(mb(" undisclosed:;", "own.example", first), -1);
    /* comments and quoted strings hide nothing, in either direction */
    TT_EQ_INT(mb(" me@own.example (ceo@victim.example)", "own.example", first), 1);
    TT_EQ_INT(mb(" \"ceo@victim.example, x\" <me@own.example>", "own.example", first), 1);
    TT_EQ_INT(mb(" \"me@own.example, x\" <ceo@victim.example>", "own.example", first), 0);
    TT_EQ_INT(mb(" (me@own.example) ceo@victim.example", "own.example", first), 0);
    TT_EQ_INT(mb(" \"me@own.example\"@victim.example", "own.example", first), 0);
    TT_EQ_INT(mb(" =?utf-8?q?a=2C_ceo=40victim.example?= <me@own.example>", "own.example", first),
              1);
    TT_EQ_INT(mb(" =?utf-8?q?me=40own.example?= <ceo@victim.example>", "own.example", first), 0);
    /* obsolete or broken list syntax that parsers split differently */
    TT_EQ_INT(mb(" me@own.example ceo@victim.example", "own.example", first), -1);
    TT_EQ_INT(mb(" <me@own.example> <ceo@victim.example>", "own.example", first), -1);
    TT_EQ_INT(mb(" me@own.example; ceo@victim.example", "own.example", first), -1);
    TT_EQ_INT(mb(" me@own.example <ceo@victim.example>", "own.example", first), -1);
    TT_EQ_INT(mb(" \"unterminated <me@own.example>, ceo@victim.example", "own.example", first), -1);
    TT_EQ_INT(mb(" me@own.example.(x)victim.example", "own.example", first), -1);
    TT_EQ_INT(mb(" me", "own.example", first), -1);
    TT_EQ_INT(mb(" me@[127.0.0.1]", "own.example", first), -1);
    TT_EQ_INT(mb(" me@own.example,, ceo@victim.example", "own.example", first), 0);
    /* unbalanced brackets (GMime 3.2 leaks on a lone '>'), unclosed quotes and comments */
    TT_EQ_INT(mb(" me@own.example, x>", "own.example", first), -1);
    TT_EQ_INT(mb(" <me@own.example", "own.example", first), -1);
    TT_EQ_INT(mb(" <<me@own.example>>", "own.example", first), -1);
    TT_EQ_INT(mb(" me@own.example (x", "own.example", first), -1);
    TT_EQ_INT(mb(" me@own.example x)", "own.example", first), -1);
    TT_EQ_INT(mb(" \"a>\" <me@own.example> (b<)", "own.example", first), 1);
    TT_EQ_INT(mb(" \"a\\\" <x@victim.example>\" <me@own.example>", "own.example", first), 1);
    /* a fold inside the list */
    TT_EQ_INT(mb(" me@own.example\r\n\t, ceo@victim.example", "own.example", first), 0);
    /* internationalized domains compare as A-labels */
    TT_EQ_INT(mb(" a@b\xc3\xbc"
                 "cher.example",
                 "xn--bcher-kva.example", first),
              1);
    TT_EQ_INT(mb(" a@xn--bcher-kva.example", "xn--bcher-kva.example", first), 1);
}

TT_MAIN(TT_CASE(clean_header_is_split), TT_CASE(space_before_colon_is_refused),
        TT_CASE(lines_that_are_no_field_are_refused), TT_CASE(continuation_hijack_is_refused),
        TT_CASE(nul_and_bare_line_ends_are_refused), TT_CASE(duplicates_are_refused),
        TT_CASE(too_many_fields), TT_CASE(from_mailboxes), TT_CASE(group_bypass_and_variants))
