/*
 * bounce - what came back: parse an inbound message (a DSN, a mailbox
 * provider's own bounce format, an ARF feedback report, an auto-reply or
 * a human reply) and classify every failed recipient it names.
 *
 * Two halves with one record type:
 *
 *   bounce_parse()     (bounce_parse.c and friends) reads the message with
 *                      GMime and fills the report: its kind, the records
 *                      (one per recipient the message reports on) with
 *                      what the message itself says - recipient, action,
 *                      status, reply code, diagnostic text, remote host,
 *                      the SMTP command that failed - and the returned
 *                      message's headers (Message-ID carries the
 *                      recipient id). It then calls bounce_classify() on
 *                      every record.
 *   bounce_classify()  (bounce_reason.c and friends) decides reason
 *                      (sisimai's names), hard/soft and, when the message
 *                      carried none, the status code, from data tables:
 *                      a new provider format is a table entry, not code.
 *
 * Input is hostile: any byte string, any size up to the caller's limit.
 * Nothing here touches the network, the broker or the database.
 */
#ifndef TX_BOUNCE_H
#define TX_BOUNCE_H

#include <gmime/gmime.h>
#include <stddef.h>

enum bounce_kind {
    BOUNCE_UNKNOWN = 0, /* nothing recognised (not a bounce, not a reply) */
    BOUNCE_DSN,         /* delivery report: records carry failed/delayed/delivered */
    BOUNCE_FEEDBACK,    /* ARF (RFC 5965) or a provider's complaint notification */
    BOUNCE_AUTOREPLY,   /* RFC 3834 / vacation / out of office */
    BOUNCE_REPLY,       /* a human reply */
};

/* one recipient the message reports on; strings are "" when unknown */
struct bounce_rec {
    char recipient[256];   /* bare address, lowercase domain */
    char action[16];       /* failed | delayed | delivered | relayed | expanded | "" */
    char status[16];       /* "5.1.1" (from the message, else derived by bounce_classify) */
    char reason[24];       /* sisimai reason name, e.g. "userunknown" (bounce_classify) */
    int hard;              /* 1 hard, 0 soft, -1 not a bounce (delivered, feedback, vacation) */
    int replycode;         /* SMTP reply code, 0 when none */
    char command[8];       /* SMTP command that failed: MAIL, RCPT, DATA, ... or "" */
    char rhost[256];       /* remote MTA (Remote-MTA, "host X said"), "" when unknown */
    char feedbacktype[24]; /* ARF Feedback-Type (abuse, opt-out, auth-failure, ...) */
    char diagnostic[1024]; /* error text, "smtp;" prefix removed, whitespace collapsed */
    char diagtype[16];     /* that prefix: "smtp", "x-unix", "x-postfix", ... ("" unknown) */
};

struct bounce_report {
    enum bounce_kind kind;
    char mta[32]; /* which format matched: "rfc3464", "exim", "postfix", "arf", ... */
    struct bounce_rec *recs;
    int nrecs;
    /* headers of the returned / reported original message ("" when absent) */
    char orig_message_id[400]; /* with angle brackets, as written */
    char orig_from[320];
    char orig_to[320];
    char orig_return_path[320]; /* may be our VERP address */
    char orig_subject[400];
    /* ARF (kind BOUNCE_FEEDBACK) */
    char arrival_date[64];    /* Arrival-Date / Received-Date, as written */
    char source_ip[64];       /* Source-IP */
    char orig_mail_from[320]; /* Original-Mail-From */
    char user_agent[128];     /* User-Agent of the report */
    /* the message itself */
    char from[320]; /* its From: bare address */
    char subject[400];
    char message_id[400];
};

/*
 * bounce_parse - parse raw[0..len) into out (zeroed first) and classify
 * every record. 0 on success (out->kind may still be BOUNCE_UNKNOWN), -1
 * when the text is not a message at all. Free with bounce_report_free.
 */
int bounce_parse(const char *raw, size_t len, struct bounce_report *out);
/* bounce_report_free - release what bounce_parse allocated (safe on a zeroed report) */
void bounce_report_free(struct bounce_report *r);

/*
 * bounce_classify - fill rec->reason and rec->hard, and rec->status when
 * it is empty, from rec's other fields and the matched format (mta, "" when
 * unknown). Thread-safe after bounce_classify_init().
 */
void bounce_classify(struct bounce_rec *rec, const char *mta);
/* bounce_classify_init - build the tables once (idempotent, thread-safe) */
void bounce_classify_init(void);

/*
 * bounce_msg_open - raw[0..len) as bounce_parse reads it (GMime, loose
 * compliance), for callers that walk the same parts (the reply scan).
 * NULL when it is not a message. Ownership: new (g_object_unref).
 */
GMimeMessage *bounce_msg_open(const char *raw, size_t len);
/*
 * bounce_msg_part_content - the decoded content of a leaf part, NULL when
 * it has none. Ownership: new (g_byte_array_free(ba, TRUE)).
 */
GByteArray *bounce_msg_part_content(GMimePart *part);
/*
 * bounce_msg_text - the readable text of the message raw[0..len): its
 * text/plain parts (UTF-8), else its HTML parts' text with the tags
 * dropped (bounce_msgtext.c); at most 1 MB. NULL when it is not a
 * message. Ownership: new (xfree), *outlen its length.
 */
char *bounce_msg_text(const char *raw, size_t len, size_t *outlen);

#endif
