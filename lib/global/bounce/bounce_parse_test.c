/* bounce_parse_test - the extraction half of the bounce library: DSN, ARF, auto-reply, reply, text formats, hostile input */
#include "tests/harness/ttest.h"
#include "global/bounce/bounce.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

static int parse(const char *text, struct bounce_report *r)
{
    return bounce_parse(text, strlen(text), r);
}

/* terminated - every string of r ends inside its buffer */
static int terminated(const struct bounce_report *r)
{
#define T(f) (memchr((f), 0, sizeof(f)) != NULL)
    int ok = T(r->mta) && T(r->orig_message_id) && T(r->orig_from) && T(r->orig_to) &&
             T(r->orig_return_path) && T(r->orig_subject) && T(r->arrival_date) &&
             T(r->source_ip) && T(r->orig_mail_from) && T(r->user_agent) && T(r->from) &&
             T(r->subject) && T(r->message_id);
    for (int i = 0; i < r->nrecs; i++) {
        const struct bounce_rec *x = &r->recs[i];
        ok = ok && T(x->recipient) && T(x->action) && T(x->status) && T(x->reason) &&
             T(x->command) && T(x->rhost) && T(x->feedbacktype) && T(x->diagnostic) &&
             x->hard >= -1 && x->hard <= 1;
    }
#undef T
    return ok;
}

static const char dsn[] =
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
    "To: b+abc@bounce.example.org\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Message-ID: <dsn-1@mx.example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "Your message could not be delivered.\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822; Kim@Example.COM\n"
    "Original-Recipient: rfc822;kim@example.com\n"
    "Action: failed\n"
    "Status: 5.0.0\n"
    "Remote-MTA: dns; mx1.example.com\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <kim@example.com>: Recipient address\n"
    "    rejected: User unknown (in reply to RCPT TO command)\n"
    "\n"
    "Final-Recipient: rfc822; lee@example.org\n"
    "Action: delayed\n"
    "Status: 4.4.1\n"
    "Diagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.1]:25: Connection timed out\n"
    "--B\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Return-Path: <b+abc@bounce.example.org>\n"
    "Message-ID: <rid-42@txmail.example>\n"
    "From: Shop <shop@example.org>\n"
    "To: kim@example.com\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n"
    "\n"
    "Hello\n"
    "--B--\n";

TT_TEST(rfc3464)
{
    struct bounce_report r;

    TT_EQ_INT(parse(dsn, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_DSN);
    TT_EQ_STR(r.mta, "rfc3464");
    TT_EQ_INT(r.nrecs, 2);
    TT_EQ_STR(r.recs[0].recipient, "Kim@example.com"); /* the domain lowercased only */
    TT_EQ_STR(r.recs[0].action, "failed");
    TT_EQ_STR(r.recs[0].status, "5.1.1"); /* the generic 5.0.0 gives way to the text's */
    TT_EQ_INT(r.recs[0].replycode, 550);
    TT_EQ_STR(r.recs[0].command, "RCPT");
    TT_EQ_STR(r.recs[0].rhost, "mx1.example.com");
    TT_ASSERT(strstr(r.recs[0].diagnostic,
                     "550 5.1.1 <kim@example.com>: Recipient address rejected: "
                     "User unknown (in reply to RCPT TO command)"));
    TT_EQ_STR(r.recs[1].recipient, "lee@example.org");
    TT_EQ_STR(r.recs[1].action, "delayed");
    TT_EQ_STR(r.recs[1].status, "4.4.1");
    TT_EQ_INT(r.recs[1].replycode, 0);
    TT_EQ_STR(r.orig_message_id, "<rid-42@txmail.example>");
    TT_EQ_STR(r.orig_return_path, "b+abc@bounce.example.org");
    TT_EQ_STR(r.orig_from, "shop@example.org");
    TT_EQ_STR(r.orig_to, "kim@example.com");
    TT_EQ_STR(r.orig_subject, "Grüße");
    TT_EQ_STR(r.from, "MAILER-DAEMON@mx.example.net");
    TT_EQ_STR(r.message_id, "<dsn-1@mx.example.net>");
    TT_ASSERT(terminated(&r));
    bounce_report_free(&r);
}

TT_TEST(text_format)
{
    struct bounce_report r;
    const char *exim = "From: Mail Delivery System <Mailer-Daemon@e1.example.org>\n"
                       "Subject: Mail delivery failed: returning message to sender\n"
                       "X-Failed-Recipients: kim@example.com\n"
                       "\n"
                       "A message that you sent could not be delivered to one or more of its\n"
                       "recipients. This is a permanent error. The following address(es) failed:\n"
                       "\n"
                       "  kim@example.com\n"
                       "    SMTP error from remote mail server after MAIL FROM:<s@example.org>:\n"
                       "    host mx.example.com [192.0.2.20]: 550 5.7.0 Use your ISP's server\n"
                       "\n"
                       "------ This is a copy of the message, including all the headers. ------\n"
                       "\n"
                       "Return-path: <b+xyz@bounce.example.org>\n"
                       "Message-Id: <rid-7@txmail.example>\n"
                       "From: s@example.org\n"
                       "To: kim@example.com\n"
                       "\n"
                       "test\n";

    TT_EQ_INT(parse(exim, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_DSN);
    TT_EQ_STR(r.mta, "exim");
    TT_EQ_INT(r.nrecs, 1);
    TT_EQ_STR(r.recs[0].recipient, "kim@example.com");
    TT_EQ_STR(r.recs[0].status, "5.7.0");
    TT_EQ_INT(r.recs[0].replycode, 550);
    TT_EQ_STR(r.recs[0].command, "MAIL");
    TT_EQ_STR(r.recs[0].rhost, "mx.example.com");
    TT_EQ_STR(r.orig_message_id, "<rid-7@txmail.example>");
    TT_EQ_STR(r.orig_return_path, "b+xyz@bounce.example.org");
    bounce_report_free(&r);
}

TT_TEST(arf)
{
    struct bounce_report r;
    const char *arf =
        "From: fbl@isp.example\n"
        "Subject: FW: complaint\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\n"
        "\n"
        "--F\n"
        "Content-Type: text/plain\n"
        "\n"
        "This is an email abuse report.\n"
        "--F\n"
        "Content-Type: message/feedback-report\n"
        "\n"
        "Feedback-Type: abuse\n"
        "User-Agent: SomeGenerator/1.0\n"
        "Version: 1\n"
        "Original-Mail-From: <b+abc@bounce.example.org>\n"
        "Original-Rcpt-To: <one@example.com>\n"
        "Original-Rcpt-To: <two@example.com>\n"
        "Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\n"
        "Source-IP: 192.0.2.1\n"
        "\n"
        "--F\n"
        "Content-Type: text/rfc822-headers\n"
        "\n"
        "Message-ID: <rid-9@txmail.example>\n"
        "From: shop@example.org\n"
        "To: one@example.com\n"
        "\n"
        "--F--\n";
    const char *undisclosed = "From: fbl@isp.example\n"
                              "Content-Type: multipart/report; report-type=feedback-report; "
                              "boundary=\"F\"\n"
                              "\n"
                              "--F\n"
                              "Content-Type: message/feedback-report\n"
                              "\n"
                              "Feedback-Type: opt-out\n"
                              "--F\n"
                              "Content-Type: message/rfc822\n"
                              "\n"
                              "To: <Undisclosed Recipients>\n"
                              "Subject: x\n"
                              "\n"
                              "x\n"
                              "--F--\n";

    TT_EQ_INT(parse(arf, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_FEEDBACK);
    TT_EQ_STR(r.mta, "arf");
    TT_EQ_INT(r.nrecs, 2);
    TT_EQ_STR(r.recs[0].recipient, "one@example.com");
    TT_EQ_STR(r.recs[1].recipient, "two@example.com");
    TT_EQ_STR(r.recs[1].feedbacktype, "abuse");
    TT_EQ_STR(r.source_ip, "192.0.2.1");
    TT_EQ_STR(r.user_agent, "SomeGenerator/1.0");
    TT_EQ_STR(r.orig_mail_from, "b+abc@bounce.example.org");
    TT_EQ_STR(r.arrival_date, "Thu, 8 Mar 2005 14:00:00 EDT");
    TT_EQ_STR(r.orig_message_id, "<rid-9@txmail.example>");
    bounce_report_free(&r);

    TT_EQ_INT(parse(undisclosed, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_FEEDBACK);
    TT_EQ_INT(r.nrecs, 1); /* one report, about nobody named */
    TT_EQ_STR(r.recs[0].recipient, "");
    TT_EQ_STR(r.recs[0].feedbacktype, "opt-out");
    bounce_report_free(&r);
}

TT_TEST(autoreply_and_reply)
{
    struct bounce_report r;
    const char *away = "From: Kim Lee <Kim@Example.COM>\n"
                       "To: shop@example.org\n"
                       "Subject: Re: your order\n"
                       "Auto-Submitted: auto-replied\n"
                       "\n"
                       "I am away until Monday.\n";
    const char *vacation = "From: kim@example.com\n"
                           "Subject: Out of Office: your order\n"
                           "\n"
                           "Back on Monday.\n";
    const char *reply = "From: kim@example.com\n"
                        "To: shop@example.org\n"
                        "Subject: Re: your order\n"
                        "In-Reply-To: <rid-1@txmail.example>\n"
                        "\n"
                        "Thanks, but where is my parcel?\n";

    TT_EQ_INT(parse(away, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_AUTOREPLY);
    TT_EQ_INT(r.nrecs, 1);
    TT_EQ_STR(r.recs[0].recipient, "Kim@example.com");
    bounce_report_free(&r);
    TT_EQ_INT(parse(vacation, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_AUTOREPLY);
    bounce_report_free(&r);
    TT_EQ_INT(parse(reply, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_REPLY);
    TT_EQ_INT(r.nrecs, 0);
    TT_EQ_STR(r.subject, "Re: your order");
    bounce_report_free(&r);
}

TT_TEST(ses_json)
{
    struct bounce_report r;
    const char *ses =
        "From: no-reply@sns.amazonaws.com\n"
        "Subject: AWS Notification Message\n"
        "\n"
        "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\","
        "\"bouncedRecipients\":[{\"emailAddress\":\"kim@example.com\",\"action\":\"failed\","
        "\"status\":\"5.1.1\",\"diagnosticCode\":\"smtp; 550 5.1.1 user unknown\"}],"
        "\"reportingMTA\":\"dsn; a1.smtp-out.amazonses.com\"},\"mail\":{\"commonHeaders\":"
        "{\"from\":[\"shop@example.org\"],\"to\":[\"kim@example.com\"],\"subject\":\"hi\"}}}\n";

    TT_EQ_INT(parse(ses, &r), 0);
    TT_EQ_INT(r.kind, BOUNCE_DSN);
    TT_EQ_STR(r.mta, "amazonses");
    TT_EQ_INT(r.nrecs, 1);
    TT_EQ_STR(r.recs[0].recipient, "kim@example.com");
    TT_EQ_STR(r.recs[0].status, "5.1.1");
    TT_EQ_INT(r.recs[0].replycode, 550);
    TT_EQ_STR(r.recs[0].diagnostic, "550 5.1.1 user unknown");
    TT_EQ_STR(r.orig_from, "shop@example.org");
    bounce_report_free(&r);
}

/* a Postfix report whose DSN fields name no command: the text part's paragraphs do */
static const char postfix_cmd[] =
    "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"P\"\n"
    "\n"
    "--P\n"
    "Content-Type: text/plain\n"
    "\n"
    "This is the mail system at host mx.example.net.\n"
    "\n"
    "<ann@example.com>: host mx.example.com[192.0.2.5] said: 550 5.2.1\n"
    "    <ann@example.com>... No such mailbox (in reply to RCPT TO command)\n"
    "\n"
    "<bob@example.com>: host mx.example.com[192.0.2.5] said: 550 5.7.1 Content\n"
    "    refused (in reply to end of DATA command)\n"
    "\n"
    "<cy@example.com>: host mx2.example.com[192.0.2.6] said: 452 4.2.2 Over\n"
    "    quota (in reply to MAIL FROM command)\n"
    "\n"
    "--P\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822; ann@example.com\n"
    "Action: failed\n"
    "Status: 5.2.1\n"
    "Diagnostic-Code: smtp; 550 5.2.1 <ann@example.com>... No such mailbox\n"
    "\n"
    "Final-Recipient: rfc822; bob@example.com\n"
    "Action: failed\n"
    "Status: 5.7.1\n"
    "Diagnostic-Code: smtp; 550 5.7.1 Content refused\n"
    "\n"
    "Final-Recipient: rfc822; cy@example.com\n"
    "Action: delayed\n"
    "Status: 4.2.2\n"
    "--P--\n";

/* an Exim report with DSN fields and the command only in its text part */
static const char exim_cmd[] =
    "From: Mail Delivery System <Mailer-Daemon@e1.example.org>\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"E\"\n"
    "\n"
    "--E\n"
    "Content-Type: text/plain\n"
    "\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n"
    "\n"
    "  dee@example.com\n"
    "    host mx.example.com [192.0.2.20]\n"
    "    SMTP error from remote mail server after RCPT TO:<dee@example.com>:\n"
    "    550 Unrouteable address\n"
    "--E\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; e1.example.org\n"
    "\n"
    "Final-Recipient: rfc822;dee@example.com\n"
    "Action: failed\n"
    "Status: 5.0.0\n"
    "Diagnostic-Code: smtp; 550 Unrouteable address\n"
    "--E--\n";

TT_TEST(command_from_paragraph)
{
    struct bounce_report r;

    TT_EQ_INT(parse(postfix_cmd, &r), 0);
    TT_EQ_INT(r.nrecs, 3);
    TT_EQ_STR(r.recs[0].command, "RCPT");
    TT_EQ_STR(r.recs[1].command, "DATA");
    /* no Diagnostic-Code: its paragraph's "host X said:" text, host and command */
    TT_EQ_STR(r.recs[2].command, "MAIL");
    TT_EQ_STR(r.recs[2].rhost, "mx2.example.com");
    TT_ASSERT(strstr(r.recs[2].diagnostic, "452 4.2.2 Over quota") != NULL);
    TT_ASSERT(strstr(r.recs[2].diagnostic, "bob@") == NULL);
    bounce_report_free(&r);

    TT_EQ_INT(parse(exim_cmd, &r), 0);
    TT_EQ_INT(r.nrecs, 1);
    TT_EQ_STR(r.recs[0].command, "RCPT");
    TT_EQ_STR(r.recs[0].diagnostic, "550 Unrouteable address");
    bounce_report_free(&r);
}

/* three DSN records, a text part that names two of them */
static const char own_dsn[] =
    "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n"
    "Subject: Returned mail: see transcript for details\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"O\"\n"
    "\n"
    "--O\n"
    "Content-Type: text/plain\n"
    "\n"
    "   ----- The following addresses had delivery problems -----\n"
    "<ann@example.com> (unrecoverable error)\n"
    "<bob@example.com> (unrecoverable error)\n"
    "--O\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822;ann@example.com\n"
    "Action: failed\n"
    "Status: 5.0.0\n"
    "Diagnostic-Code: smtp; 550 mailbox unavailable\n"
    "\n"
    "Final-Recipient: rfc822;cy@example.net\n"
    "Action: delayed\n"
    "Status: 4.0.0 (example.net: host name lookup failure)\n"
    "\n"
    "Final-Recipient: rfc822;dee@example.net\n"
    "Action: delayed\n"
    "Status: 4.0.0\n"
    "\n"
    "Final-Recipient: rfc822;bob@example.com\n"
    "Action: failed\n"
    "Status: 5.0.0\n"
    "Diagnostic-Code: smtp; 550 user unknown\n"
    "--O--\n";

/* a transcript of two sessions, and a summary of the returned message */
static const char sessions[] = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n"
                               "Subject: Returned mail: User unknown\n"
                               "\n"
                               "   ----- Transcript of session follows -----\n"
                               "While talking to a.example.com:\n"
                               ">>> QUIT\n"
                               "<<< 421 a.example.com closing connection\n"
                               "While talking to b.example.com:\n"
                               ">>> RCPT To:<eve@b.example.com>\n"
                               "<<< 550 No such user here\n"
                               "550 <eve@b.example.com>... User unknown\n"
                               "\n"
                               "   ----- Unsent message follows -----\n"
                               "To: eve@b.example.com\n"
                               "\n"
                               "x\n";
static const char summary[] = "From: postmaster@example.com\n"
                              "Subject: Re: your message\n"
                              "\n"
                              "Error message below:\n"
                              "550 - Requested action not taken: no such user here\n"
                              "\n"
                              "Message details:\n"
                              "  MAIL FROM: s@example.org\n"
                              "  RCPT TO: fay@example.com\n";

TT_TEST(own_text)
{
    struct bounce_report r;

    TT_EQ_INT(parse(own_dsn, &r), 0);
    TT_EQ_INT(r.nrecs, 4);
    TT_EQ_STR(r.recs[1].recipient, "cy@example.net"); /* its own Status comment */
    TT_EQ_STR(r.recs[1].diagnostic, "4.0.0 (example.net: host name lookup failure)");
    TT_EQ_INT(r.recs[1].replycode, 0);
    TT_EQ_STR(r.recs[2].recipient, "dee@example.net"); /* nothing of the others' */
    TT_ASSERT(strstr(r.recs[2].diagnostic, "@example.com") == NULL);
    TT_EQ_STR(r.recs[3].diagnostic, "550 user unknown");
    bounce_report_free(&r);

    TT_EQ_INT(parse(sessions, &r), 0);
    TT_EQ_INT(r.nrecs, 1);
    TT_EQ_STR(r.recs[0].recipient, "eve@b.example.com");
    TT_ASSERT(strstr(r.recs[0].diagnostic, "421") == NULL); /* the session before is not its */
    TT_EQ_INT(r.recs[0].replycode, 550);
    TT_EQ_STR(r.recs[0].command, "RCPT");
    bounce_report_free(&r);

    TT_EQ_INT(parse(summary, &r), 0);
    TT_EQ_INT(r.nrecs, 1);
    TT_EQ_STR(r.recs[0].recipient, "fay@example.com");
    TT_EQ_STR(r.recs[0].diagnostic, "550 - Requested action not taken: no such user here");
    TT_EQ_STR(r.recs[0].command, ""); /* MAIL FROM is the returned message's, not the failure's */
    bounce_report_free(&r);
}

TT_TEST(hostile)
{
    struct bounce_report r;
    static const char garbage[] = "\x00\xff\x01 not a message \x80\x81\n\n\n";
    char *big;
    size_t at = 0, sz = 1 << 20;

    TT_ASSERT(bounce_parse("", 0, &r) == -1 || r.kind == BOUNCE_UNKNOWN || r.kind == BOUNCE_REPLY);
    bounce_report_free(&r);
    TT_ASSERT(bounce_parse(garbage, sizeof(garbage) - 1, &r) <= 0);
    TT_ASSERT(terminated(&r));
    bounce_report_free(&r);
    bounce_report_free(NULL);

    /* 1500 recipients, a 5000-byte diagnostic and a 600-byte subject: cut, bounded */
    big = xmalloc(sz);
    at += (size_t)snprintf(big + at, sz - at,
                           "From: MAILER-DAEMON@mx.example.net\nSubject: Undeliverable %0600d\n"
                           "Content-Type: message/delivery-status\n\n",
                           7);
    for (int i = 0; i < 1500; i++)
        at += (size_t)snprintf(big + at, sz - at,
                               "Final-Recipient: rfc822; u%d@example.com\nStatus: 5.1.1\n\n", i);
    at += (size_t)snprintf(big + at, sz - at,
                           "Final-Recipient: rfc822; z@example.com\n"
                           "Diagnostic-Code: smtp; 550 ");
    for (int i = 0; i < 5000 && at < sz - 2; i++)
        big[at++] = (char)('a' + i % 26);
    big[at] = 0;
    TT_EQ_INT(bounce_parse(big, at, &r), 0);
    TT_EQ_INT(r.nrecs, 1000);
    TT_EQ_STR(r.recs[999].recipient, "u999@example.com");
    TT_ASSERT(strlen(r.subject) < sizeof(r.subject));
    TT_ASSERT(terminated(&r));
    bounce_report_free(&r);
    xfree(big);
}

TT_MAIN(TT_CASE(rfc3464), TT_CASE(text_format), TT_CASE(arf), TT_CASE(autoreply_and_reply),
        TT_CASE(ses_json), TT_CASE(command_from_paragraph), TT_CASE(own_text), TT_CASE(hostile))
