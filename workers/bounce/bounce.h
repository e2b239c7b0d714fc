/* bounce - what the files of txmail-bounce share (see bounce.c for the manual). */
#ifndef TXMAIL_BOUNCE_WORKER_H
#define TXMAIL_BOUNCE_WORKER_H

#include "global/bounce/bounce.h"
#include "global/db.h"
#include "global/runtime/worker.h"

#include <stddef.h>
#include <stdint.h>

struct bounce_conf {
    char *forward_sender;  /* local part at the bounce domain, "" = null sender */
    char *scan_signatures; /* ClamAV signature directory */
    int64_t scan_check_ms; /* how often it is looked at for new files */
};

extern struct bounce_conf bounce_conf;

#define BOUNCE_MAX_RCPT 16
#define BOUNCE_MAX_RECORDS 100 /* records of one report looked at */

/* one envelope recipient of the inbound message (data.rcpt[]) */
struct inbound_rcpt {
    char address[320];
    char kind[8]; /* verp | rewrite | role */
    char rid[64]; /* "" unless kind verp */
};

/* the inbound envelope, decoded (docs/ENVELOPES.md "inbound") */
struct inbound {
    const char *id;  /* the inbound message's id (envelope job), borrowed */
    const char *raw; /* the message as received, borrowed from the envelope */
    size_t raw_len;
    long long account;
    int64_t received_ms;
    char peer[64];
    char mail_from[320];
    struct inbound_rcpt rcpt[BOUNCE_MAX_RCPT];
    int nrcpt;
    int verp;          /* index of the first rcpt of kind verp with a rid, -1 */
    char domain[256];  /* the domain the message came to (rcpt[0]) */
    char verp_rid[64]; /* rcpt[verp].rid or "" */
    char identity[33]; /* event keys: bounce_act_identity */
};

/* the message a report or reply concerns: its `message` row */
struct target {
    char rid[64];
    char job_id[40];
    long long account;
    int64_t received_ms;
    char email[321];
    char addr[255];
    char mail_from[321];
    char mime_from[321];
    char rewrite_from[255];
    char reference[51];
    char message_id[401];
    int final;            /* a final event is recorded, or deliver's record says sent */
    int64_t delivered_ms; /* when it was delivered, 0 when unknown */
};

/* how a target was looked for */
enum target_found { TARGET_NONE = 0, TARGET_FOUND, TARGET_FOREIGN };

/* bounce_target.c - which message: the recipient id, the Message-ID, the account's settings */
/*
 * bounce_target_find - the message of the inbound message for recipient
 * rcpt (a report record's recipient, "" when none): the VERP recipient id,
 * else the Message-ID of the returned message (msgid, may be "") within
 * the envelope's account, disambiguated by rcpt when the Message-ID names
 * several recipients. *found says what came of it; a recipient id of
 * another account is TARGET_FOREIGN. TX_OK or TX_RETRY_DB.
 */
enum tx_code bounce_target_find(struct db *db, const struct inbound *in, const char *msgid,
                                const char *rcpt, struct target *t, enum target_found *found);
/* bounce_target_settings - the account's replyForward and adminEmail ("" when unset) */
enum tx_code bounce_target_settings(struct db *db, long long account, char *reply_forward,
                                    size_t rfsz, char *admin_email, size_t aesz);
/* bounce_target_rewrite - the from_addr whose rewrite address is addr ("" when none) */
enum tx_code bounce_target_rewrite(struct db *db, long long account, const char *addr, char *out,
                                   size_t outsz);
/* bounce_target_bare - the bare address of a sender as submitted ("Name <a@b>") into out */
int bounce_target_bare(const char *as_submitted, char *out, size_t outsz);

/* bounce_act.c - the events */
/* bounce_act_bounced - a failed record: the BOUNCED event, suppression through x.suppress */
void bounce_act_bounced(struct job *job, const struct inbound *in, const struct target *t,
                        const struct bounce_rec *rec, int index, const char *mta);
/* bounce_act_complaint - FEEDBACK_LOOP/COMPLAINT and the UNSUBSCRIBED entry */
void bounce_act_complaint(struct job *job, const struct inbound *in, const struct target *t,
                          const struct bounce_report *r, const char *feedbacktype);
/* bounce_act_virus - POST_PROCESS/POST_DELIVERY/REPLY/VIRUS_DETECTED */
void bounce_act_virus(struct job *job, const struct inbound *in, const struct target *t,
                      const char *signature, const char *correspondent);
/*
 * bounce_act_identity - in->identity: 32 hex of SHA-256(message_id) when
 * the inbound message has a Message-ID, else the inbound id's 32 hex
 */
void bounce_act_identity(struct inbound *in, const char *message_id);
/* bounce_act_clean - s made valid UTF-8 without control characters, in place */
void bounce_act_clean(char *s);
/* bounce_act_describe - "[5.1.1] bounced (host X said: ...)" into out */
char *bounce_act_describe(char *out, size_t outsz, const struct bounce_rec *rec);

/* bounce_fwd.c - forward envelopes and the messages txmail writes */
/* bounce_fwd_id - data.id of a forward: "fw" + 32 hex of SHA-256(inbound id, why, rcpt) */
char *bounce_fwd_id(char *out, size_t outsz, const char *inbound_id, const char *why,
                    const char *rcpt);
/*
 * bounce_fwd_send - queue the forward envelope (type "forward", queue
 * deliver) of raw[0..len) for rcpt, why "reply" | "complaint" | "notice",
 * about t (may be NULL). Ownership: copies raw.
 */
void bounce_fwd_send(struct job *job, const struct inbound *in, const struct target *t,
                     const char *why, const char *rcpt, const char *raw, size_t len);
/* bounce_fwd_sender - the envelope sender of forwards ("" = null sender) into out */
char *bounce_fwd_sender(char *out, size_t outsz, const struct inbound *in);
/*
 * bounce_fwd_complaint - the mail that forwards a feedback report (attached
 * as message/rfc822) to rcpt. Ownership: new (xfree), length in *len.
 */
char *bounce_fwd_complaint(const struct inbound *in, const struct target *t,
                           const struct bounce_report *r, const char *rcpt, size_t *len);
/* bounce_fwd_notice - the notice of an infected reply to the administrator. Ownership: new. */
char *bounce_fwd_notice(const struct inbound *in, const struct target *t, const char *signature,
                        const char *correspondent, const char *rcpt, size_t *len);

/* bounce_rewrite.c - inbound address rewriting of a forwarded reply */
/*
 * bounce_rewrite_reply - raw[0..len) with every address of ours (the
 * NULL-terminated list, compared case-insensitively) in To: and Cc:
 * replaced by orig (an address as submitted; NULL or "": left alone),
 * and the trace header "X-Txmail-Forwarded-For: <trace>" put first. The
 * body is not touched. Ownership: new (xfree), length in *outlen.
 */
char *bounce_rewrite_reply(const char *raw, size_t len, const char *const *ours, const char *orig,
                           const char *trace, size_t *outlen);

/* bounce_rewrite_has_field - the header of raw[0..len) has a field name (any case) */
int bounce_rewrite_has_field(const char *raw, size_t len, const char *name);

/* bounce_virus.c - the virus scan of a reply */
/*
 * bounce_virus_scan - scan raw[0..len) and every decoded MIME part.
 * TX_OK with sig "" (clean) or the signature of the first find;
 * TX_RETRY_UNAVAILABLE with err when the engine failed (never forward
 * unscanned).
 */
enum tx_code bounce_virus_scan(const char *raw, size_t len, char *sig, size_t sigsz, char *err,
                               size_t errsz);
/* bounce_virus_init - open the engine (-1: not even a handle); bounce_virus_done - close it */
int bounce_virus_init(void);
void bounce_virus_done(void);

/* bounce_job.c - one inbound envelope */
enum tx_code bounce_job_handle(struct job *job);
/*
 * bounce_job_log - the one log line of an outcome and its count:
 * "<inbound id>: rid=<rid|->, kind=<kind>, from=<envelope sender>,
 * peer=<ip>, status=<status> (<why>)"
 */
void bounce_job_log(const struct inbound *in, const char *rid, const char *kind, const char *status,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* bounce_job_decode - the inbound envelope's data into in; -1 with why */
int bounce_job_decode(const struct envelope *env, struct inbound *in, char *why, size_t whysz);

/* bounce_reply.c - human replies and mail to rewrite or role addresses */
enum tx_code bounce_reply_handle(struct job *job, struct db *db, const struct inbound *in,
                                 const struct bounce_report *r);

#endif
