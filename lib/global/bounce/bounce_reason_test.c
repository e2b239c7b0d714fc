/* bounce_reason_test - bounce_classify(): reasons, hard/soft, derived status codes */
#include "tests/harness/ttest.h"
#include "global/bounce/bounce.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* one record: the fields bounce_parse() would have filled */
struct in {
    const char *diag, *status;
    int replycode;
    const char *command, *action, *rhost, *recipient, *mta, *feedbacktype, *diagtype;
};

static struct bounce_rec classify(const struct in *in)
{
    struct bounce_rec r;

    memset(&r, 0, sizeof(r));
#define SET(f, v) snprintf(r.f, sizeof(r.f), "%s", (v) ? (v) : "")
    SET(diagnostic, in->diag);
    SET(status, in->status);
    SET(command, in->command);
    SET(action, in->action);
    SET(rhost, in->rhost);
    SET(recipient, in->recipient);
    SET(feedbacktype, in->feedbacktype);
    SET(diagtype, in->diagtype);
#undef SET
    r.replycode = in->replycode;
    bounce_classify(&r, in->mta ? in->mta : "");
    return r;
}

/* expect - reason, hard and status of one record */
#define EXPECT(want_reason, want_hard, want_status, ...)                                           \
    do {                                                                                           \
        struct in _in = {__VA_ARGS__};                                                             \
        struct bounce_rec _r = classify(&_in);                                                     \
        TT_EQ_STR(_r.reason, want_reason);                                                         \
        TT_EQ_INT(_r.hard, want_hard);                                                             \
        TT_EQ_STR(_r.status, want_status);                                                         \
    } while (0)

TT_TEST(texts)
{
    EXPECT("userunknown", 1, "5.1.1", .diag = "550 5.1.1 <a@example.jp>... User Unknown",
           .status = "5.1.1", .replycode = 550, .command = "RCPT");
    EXPECT("userunknown", 1, "5.9.213", .diag = "550 Unknown user kijitora@example.net",
           .replycode = 550, .command = "RCPT");
    /* the same text after DATA: the recipient's filter, not an unknown user */
    EXPECT("filtered", 0, "5.9.210", .diag = "550 Unknown user kijitora@example.net",
           .replycode = 550, .command = "DATA");
    EXPECT("mailboxfull", 0, "5.2.2",
           .diag = "552 5.2.2 <a@example.org> Quota exceeded (mailbox for user is full)",
           .status = "5.2.2", .replycode = 552);
    EXPECT("mailboxfull", 0, "5.9.220", .diag = "The user's mailbox of kijitora is full");
    EXPECT("emailtoolarge", 0, "5.3.4", .diag = "552 5.3.4 Message too large", .status = "5.3.4",
           .replycode = 552);
    EXPECT("authfailure", 0, "5.7.1",
           .diag = "550 5.7.1 Email rejected per DMARC policy for example.org", .status = "5.7.1",
           .replycode = 550);
    EXPECT("norelaying", 0, "5.7.1", .diag = "554 5.7.1 <a@example.com>: Relay access denied",
           .status = "5.7.1", .replycode = 554, .command = "RCPT");
    EXPECT("blocked", 0, "5.7.1",
           .diag = "554 5.7.1 Client host rejected: blocked using zen.spamhaus.org",
           .status = "5.7.1", .replycode = 554);
    EXPECT("rejected", 0, "5.1.8",
           .diag = "550 5.1.8 <root@example.org>... Domain of sender address root@example.org "
                   "does not exist",
           .status = "5.1.8", .replycode = 550, .command = "MAIL");
    EXPECT("policyviolation", 0, "5.7.9",
           .diag = "554 5.7.9 Message not accepted for policy reasons", .status = "5.7.9",
           .replycode = 554);
    EXPECT("spamdetected", 0, "5.6.0",
           .diag = "554 5.6.0 This message has been scored as spam with a probability of 99%",
           .status = "5.6.0", .replycode = 554, .command = "DATA");
    EXPECT("virusdetected", 0, "5.7.0", .diag = "550 5.7.0 Virus detected in the message",
           .status = "5.7.0", .replycode = 550, .command = "DATA");
    EXPECT("ratelimited", 0, "4.3.2", .diag = "452 4.3.2 Connection rate limit exceeded.",
           .status = "4.3.2", .replycode = 452);
    EXPECT("requireptr", 0, "5.7.1",
           .diag = "550 5.7.1 Connections not accepted from servers without a valid sender "
                   "domain. Fix reverse DNS for 192.0.2.1",
           .status = "5.7.1", .replycode = 550);
    EXPECT("hostunknown", 1, "5.4.4",
           .diag = "Host or domain name not found. Name service error for name=example.jp "
                   "type=A: Host not found",
           .status = "5.4.4");
    EXPECT("networkerror", 0, "5.4.4",
           .diag = "Name service error for name=example.org type=MX: Malformed or unexpected "
                   "name server reply",
           .status = "5.4.4");
    EXPECT("expired", 0, "4.4.1",
           .diag = "connect to mx.example.org[192.0.2.1]:25: Connection timed out",
           .status = "4.4.1", .action = "delayed");
    EXPECT("suspend", 0, "5.9.221", .diag = "550 Mailbox is frozen.", .replycode = 550);
    EXPECT("suspend", 0, "5.7.13", .diag = "525 5.7.13 Disabled recipient address",
           .status = "5.7.13", .replycode = 525);
    EXPECT("mailererror", 0, "5.1.1", .diag = "procmail: Couldn't create \"/var/spool/mail/neko\"",
           .status = "5.1.1");
    /* a local delivery agent's exit code: not an SMTP reply */
    EXPECT("mailererror", 0, "4.5.0", .diag = "71", .status = "4.5.0", .diagtype = "X-Unix");
    EXPECT("mailererror", 0, "4.3.0", .diag = "temporary failure", .status = "4.3.0",
           .diagtype = "x-unix", .action = "failed");
    /* a status that names a reason wins over the exit code */
    EXPECT("systemerror", 0, "5.3.0", .diag = "77", .status = "5.3.0", .diagtype = "X-Unix");
    EXPECT("notaccept", 1, "5.7.27", .diag = "550 Host does not accept mail", .status = "5.7.27",
           .replycode = 550);
    EXPECT("syntaxerror", 0, "5.5.0", .diag = "503 Improper sequence of commands",
           .status = "5.5.0", .replycode = 503);
    EXPECT("systemfull", 0, "4.3.1", .diag = "452 4.3.1 Insufficient system resources",
           .status = "4.3.1", .replycode = 452);
    EXPECT("systemerror", 0, "4.3.0", .diag = "451 4.3.0 Error: queue file write error",
           .status = "4.3.0", .replycode = 451);
    EXPECT("notcompliantrfc", 0, "5.7.1",
           .diag = "550 5.7.1 Messages with multiple addresses in From: header are not "
                   "accepted",
           .status = "5.7.1", .replycode = 550);
    EXPECT("failedstarttls", 0, "5.9.350",
           .diag = "500 Remote server does not support TLS (state 6).", .replycode = 500);
    EXPECT("hasmoved", 1, "5.1.6", .diag = "550 5.1.6 recipient no longer on server: a@example.jp",
           .status = "5.1.6", .replycode = 550);
    EXPECT("badreputation", 0, "4.7.0",
           .diag = "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to "
                   "unexpected volume or user complaints",
           .status = "4.7.0", .replycode = 421);
}

/* the DSN's status alone, no text */
TT_TEST(status_only)
{
    EXPECT("userunknown", 1, "5.1.1", .status = "5.1.1");
    EXPECT("hostunknown", 1, "5.1.2", .status = "5.1.2");
    EXPECT("mailboxfull", 0, "5.2.2", .status = "5.2.2");
    EXPECT("mailboxfull", 0, "4.2.2", .status = "4.2.2");
    EXPECT("emailtoolarge", 0, "5.3.4", .status = "5.3.4");
    EXPECT("expired", 0, "4.4.7", .status = "4.4.7", .action = "delayed");
    EXPECT("securityerror", 0, "5.7.1", .status = "5.7.1");
    EXPECT("contenterror", 0, "5.6.0", .status = "5.6.0");
    EXPECT("authfailure", 0, "5.7.26", .status = "5.7.26");
    /* a code the table does not know: its class */
    EXPECT("securityerror", 0, "5.7.999", .status = "5.7.999");
    EXPECT("undefined", 0, "5.0.0", .status = "5.0.0");
}

/* sisimai's rule: userunknown, hostunknown, hasmoved always hard; notaccept hard unless 4xx */
TT_TEST(hard_soft)
{
    EXPECT("userunknown", 1, "4.1.1",
           .diag = "450 4.1.1 <a@example.org>: Recipient address rejected: User unknown in "
                   "virtual alias table",
           .status = "4.1.1", .replycode = 450, .command = "RCPT");
    EXPECT("notaccept", 0, "4.0.0",
           .diag = "DNS Error: lookup of example.org responded with code NOERROR The domain "
                   "example.org doesn't receive email: returned Null MX",
           .status = "4.0.0");
    EXPECT("notaccept", 1, "5.9.215", .diag = "an MX or SRV record indicated no SMTP service");
    EXPECT("notaccept", 0, "4.3.2", .diag = "421 4.3.2 System not accepting network messages",
           .status = "4.3.2", .replycode = 421);
    EXPECT("onhold", 0, "5.9.301", .diag = "550 Requested action aborted", .replycode = 550);
    EXPECT("onhold", 0, "4.0.0", .diag = "450 4.0.0 Temporary failure", .status = "4.0.0",
           .replycode = 450);
    EXPECT("undefined", 0, "5.9.300", .diag = "");
    EXPECT("mailboxfull", 0, "5.2.2", .diag = "550 5.2.2 mailbox full", .status = "5.2.2");
}

/* not bounces: hard -1, status left as the message had it */
TT_TEST(not_bounces)
{
    EXPECT("feedback", -1, "", .diag = "This is an email abuse report", .feedbacktype = "abuse",
           .mta = "arf");
    EXPECT("vacation", -1, "", .diag = "I am out of the office until Monday", .mta = "rfc3834");
    EXPECT("delivered", -1, "2.6.0", .diag = "250 2.6.0 Message received", .status = "2.6.0",
           .replycode = 250, .action = "delivered");
    EXPECT("delivered", -1, "", .action = "delivered");
}

/* derived status: a code in the text, else the pseudo code, class from reply or action */
TT_TEST(derived_status)
{
    EXPECT("userunknown", 1, "5.1.1", .diag = "550 5.1.1 <a@example.org>... User unknown",
           .replycode = 550, .command = "RCPT");
    EXPECT("mailboxfull", 0, "4.9.220", .diag = "452 mailbox full", .replycode = 452);
    EXPECT("expired", 0, "4.9.340", .diag = "Message will be retried for 2 more day(s)",
           .action = "delayed");
    EXPECT("expired", 0, "5.9.340", .diag = "kijitora@example.jp: Envelope expired");
    EXPECT("expired", 0, "4.9.340",
           .diag = "Technical details of temporary failure: The recipient server did not accept "
                   "our requests to connect.");
    EXPECT("ratelimited", 0, "5.0.0", .diag = "550 Ip frequency limited", .replycode = 550);
    /* version numbers and addresses are not status codes */
    EXPECT("mailboxfull", 0, "5.9.220",
           .diag = "TLS 1.2.3 handshake with 192.0.2.1 failed, 5.4.1234 mailbox full");
}

/* the SMTP command: the parser's, else the one the text names, else none */
TT_TEST(commands)
{
    EXPECT("userunknown", 1, "5.2.1",
           .diag = "550 5.2.1 <a@example.jp>... User Unknown (in reply to RCPT TO command)",
           .status = "5.2.1", .replycode = 550);
    EXPECT("filtered", 0, "5.2.1", .diag = "550 5.2.1 <a@example.jp>... User Unknown",
           .status = "5.2.1", .replycode = 550);
    EXPECT("userunknown", 1, "5.3.0",
           .diag = "SMTP:RCPT host 192.0.2.8: 553 5.3.0 <a@example.com>... No such user here",
           .status = "5.3.0", .replycode = 553);
    /* a directory lookup needs no command */
    EXPECT("userunknown", 1, "5.9.213",
           .diag = "User some.name (a@example.jp) not listed in Domino Directory");
    EXPECT("userunknown", 1, "5.1.10",
           .diag = "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
                   "address lookup",
           .status = "5.1.10", .replycode = 550);
    /* no recipient is unknown at MAIL FROM: the sender is refused */
    EXPECT("rejected", 0, "5.1.0", .diag = "553 5.1.0 neko.example.com does not exist E2110",
           .status = "5.1.0", .replycode = 553, .command = "MAIL");
    EXPECT("blocked", 0, "5.9.134", .diag = "Connected to 192.0.2.1 but my name was rejected.");
    /* the recipient's MX answered after DATA: "does not exist" is not its domain */
    EXPECT("hostunknown", 1, "5.9.212", .diag = "553 sender.example does not exist",
           .replycode = 553, .command = "RCPT");
    EXPECT("onhold", 0, "5.9.301", .diag = "553 sender.example does not exist", .replycode = 553,
           .command = "DATA");
}

/* the provider's own codes come before the generic tables */
TT_TEST(providers)
{
    EXPECT("suspend", 0, "5.2.1",
           .diag = "550 5.2.1 The email account that you tried to reach is disabled.",
           .status = "5.2.1", .replycode = 550, .rhost = "gmail-smtp-in.l.google.com");
    EXPECT("ratelimited", 0, "5.1.0",
           .diag = "550 5.1.0 <a@example.com> sender rejected. Please see "
                   "https://www.spectrum.net/support for more information. AUP#In-1310",
           .status = "5.1.0", .replycode = 550, .rhost = "mx.charter.net");
    EXPECT("ratelimited", 0, "5.1.1",
           .diag = "550 5.1.1 <a@example.com> - 203.0.113.222 has sent to too many recipients "
                   "this hour. IB607",
           .status = "5.1.1", .replycode = 550, .rhost = "smtp.secureserver.net");
    EXPECT("suspend", 0, "5.5.0",
           .diag = "550 5.5.0 Le compte du destinataire est bloque. LPN007_426", .status = "5.5.0",
           .replycode = 550, .recipient = "a@laposte.net");
    /* Google Groups' own notice, in any language; an SMTP reply still counts */
    EXPECT("rejected", 0, "5.9.110", .diag = "Hallo, die Gruppe existiert nicht.",
           .recipient = "group@googlegroups.com");
    EXPECT("userunknown", 1, "5.1.1",
           .diag = "550-5.1.1 The email account that you tried to reach does not exist.",
           .status = "5.1.1", .replycode = 550, .recipient = "group@googlegroups.com");
    /* the remote host as DSNs write it: a name with an address after it */
    EXPECT("filtered", 0, "5.0.0", .diag = "550 : User unknown", .status = "5.0.0",
           .replycode = 550, .rhost = "lsean.ezweb.ne.jp. (27.85.176.228)");
    /* a host that only ends in a provider's name is not that provider */
    EXPECT("rejected", 0, "5.1.0", .diag = "550 5.1.0 <b@example.com> sender rejected AUP#In-1310",
           .status = "5.1.0", .replycode = 550, .command = "MAIL", .rhost = "notcharter.net");
}

/* hostile input: empty, garbage, NUL-free binary, overlong */
TT_TEST(garbage)
{
    struct bounce_rec r;
    char bin[1024];

    for (size_t i = 0; i < sizeof(bin) - 1; i++)
        bin[i] = (char)(1 + (i * 131) % 255);
    bin[sizeof(bin) - 1] = '\0';
    EXPECT("onhold", 0, "9.9.9", .diag = bin, .status = "9.9.9", .replycode = -5,
           .command = "XYZZYXYZ");
    EXPECT("undefined", 0, "5.", .status = "5.", .replycode = 99999);
    memset(&r, 0xff, sizeof(r));
    r.diagnostic[sizeof(r.diagnostic) - 1] = '\0';
    memcpy(r.diagnostic + sizeof(r.diagnostic) - 13, "mailbox full", 12);
    r.status[0] = r.command[0] = r.action[0] = r.rhost[0] = r.recipient[0] = '\0';
    r.feedbacktype[0] = r.diagtype[0] = '\0';
    r.replycode = 0;
    bounce_classify(&r, NULL);
    TT_EQ_STR(r.reason, "mailboxfull");
    TT_EQ_STR(r.status, "5.9.220");
}

static void *worker(void *arg)
{
    int *bad = arg;

    for (int i = 0; i < 2000; i++) {
        struct in in = {.diag = "550 5.1.1 <a@example.jp>... User Unknown",
                        .status = "5.1.1",
                        .command = "RCPT"};
        struct bounce_rec r = classify(&in);

        if (strcmp(r.reason, "userunknown") != 0 || r.hard != 1)
            (*bad)++;
    }
    return NULL;
}

/* first calls race for the tables; all threads see the same answers */
TT_TEST(threads)
{
    pthread_t t[4];
    int bad[4] = {0};

    for (int i = 0; i < 4; i++)
        TT_ASSERT(pthread_create(&t[i], NULL, worker, &bad[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        TT_EQ_INT(bad[i], 0);
    }
}

/* per_record - microseconds one classification of text takes */
static double per_record(const char *text, int n)
{
    struct bounce_rec r, tmpl;
    struct timespec a, b;

    memset(&tmpl, 0, sizeof(tmpl));
    snprintf(tmpl.diagnostic, sizeof(tmpl.diagnostic), "%s", text);
    snprintf(tmpl.status, sizeof(tmpl.status), "5.1.1");
    snprintf(tmpl.command, sizeof(tmpl.command), "RCPT");
    tmpl.replycode = 550;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        r = tmpl;
        bounce_classify(&r, "postfix");
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n;
}

/* one classification costs microseconds, a full-length text included */
TT_TEST(speed)
{
    char full[1024];

    for (size_t i = 0; i < sizeof(full) - 1; i++)
        full[i] = "SMTP error from remote mail server after RCPT TO: host said "[i % 59];
    full[sizeof(full) - 1] = '\0';
    bounce_classify_init();
    double typical = per_record("host mx.example.jp[192.0.2.1] said: 550 5.1.1 "
                                "<kijitora@example.jp>: Recipient address rejected: User unknown "
                                "in local recipient table (in reply to RCPT TO command)",
                                20000);
    double longest = per_record(full, 5000);

    printf("  bounce_classify: %.2f us per typical record, %.2f us per 1023-byte text\n", typical,
           longest);
    TT_ASSERT(typical < 50.0 && longest < 200.0); /* generous: sanitizer builds run this too */
}

TT_MAIN(TT_CASE(texts), TT_CASE(status_only), TT_CASE(hard_soft), TT_CASE(not_bounces),
        TT_CASE(derived_status), TT_CASE(commands), TT_CASE(providers), TT_CASE(garbage),
        TT_CASE(threads), TT_CASE(speed))
