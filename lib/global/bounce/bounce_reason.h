/*
 * bounce_reason - the classifier's data: reason names, the phrase table,
 * the status code table, the probe order and the remote-host rules.
 * Internal to lib/global/bounce (bounce.h is the interface).
 *
 * Every decision of bounce_classify() comes from one of these tables:
 *
 *   bounce_reason_phrases[], bounce_reason_phrases_policy[]
 *                            (bounce_reason_phrases*.c) what error texts
 *                            mean: one row per phrase and reason;
 *   bounce_reason_statuses[] (bounce_reason_codes.c) RFC 3463 status code
 *                            to reason; bounce_reason_pseudo[] the codes
 *                            written when the message carried none;
 *   bounce_reason_probes1[], bounce_reason_probes2[] (bounce_reason_codes.c)
 *                            the order in which the reasons are tried and
 *                            what counts as evidence for each;
 *   bounce_reason_hosts[], bounce_reason_rhost_rules[] (bounce_reason_rhost.c)
 *                            providers recognised by their MX names or the
 *                            recipient's domain, and their own codes.
 *
 * Patterns: lowercase text matched case-insensitively as a substring of
 * the diagnostic; '*' separates pieces that must occur in that order
 * ("mailbox *full" matches "mailbox of kijitora is full").
 */
#ifndef TX_BOUNCE_REASON_H
#define TX_BOUNCE_REASON_H

#include <stddef.h>
#include <stdint.h>

/* reason ids; bounce_reason_names[] has their names in this order */
enum br_reason {
    BR_NONE = 0,
    BR_AUTHFAILURE,
    BR_BADREPUTATION,
    BR_BLOCKED,
    BR_CONTENTERROR,
    BR_DELIVERED,
    BR_EMAILTOOLARGE,
    BR_EXPIRED,
    BR_FAILEDSTARTTLS,
    BR_FEEDBACK,
    BR_FILTERED,
    BR_HASMOVED,
    BR_HOSTUNKNOWN,
    BR_MAILBOXFULL,
    BR_MAILERERROR,
    BR_NETWORKERROR,
    BR_NORELAYING,
    BR_NOTACCEPT,
    BR_NOTCOMPLIANTRFC,
    BR_ONHOLD,
    BR_POLICYVIOLATION,
    BR_RATELIMITED,
    BR_REJECTED,
    BR_REQUIREPTR,
    BR_SECURITYERROR,
    BR_SPAMDETECTED,
    BR_SUPPRESSED,
    BR_SUSPEND,
    BR_SYNTAXERROR,
    BR_SYSTEMERROR,
    BR_SYSTEMFULL,
    BR_UNDEFINED,
    BR_USERUNKNOWN,
    BR_VACATION,
    BR_VIRUSDETECTED,
    BR_NREASONS
};

#define BR_BIT(r) (1ULL << (r))

/*
 * Limits of the compiled tables (bounce_classify_init panics past them, so
 * the unit test catches an overgrown table): distinct pattern pieces, and
 * automaton states (about the pieces' total length) below 32768.
 */
#define BR_MAXPIECES 4096

extern const char *const bounce_reason_names[BR_NREASONS];

/* one phrase: the text means reason (or, with BR_PH_NOT, that it does not) */
#define BR_PH_NOT 1u  /* a match vetoes every other phrase of the same reason */
#define BR_PH_SURE 2u /* evidence whatever the SMTP command (a directory lookup, not a reply) */
struct br_phrase {
    uint8_t reason;
    uint8_t flags;
    const char *pattern;
};
/* a phrase row: BR_ROW(USERUNKNOWN, 0, "user unknown") */
#define BR_ROW(r, f, s)                                                                            \
    {                                                                                              \
        BR_##r, f, s                                                                               \
    }
extern const struct br_phrase bounce_reason_phrases[]; /* the recipient's side */
extern const int bounce_reason_nphrases;
extern const struct br_phrase bounce_reason_phrases_policy[]; /* sender's, systems' */
extern const int bounce_reason_nphrases_policy;

/* RFC 3463 status (exact, "5.1.1") to reason */
struct br_status {
    const char *code;
    uint8_t reason;
};
extern const struct br_status bounce_reason_statuses[];
extern const int bounce_reason_nstatuses;

/* pseudo status "x.9.NNN" written for a reason when the message had none */
struct br_pseudo {
    uint8_t reason;
    const char *code; /* the part after the class digit: ".9.213" */
};
extern const struct br_pseudo bounce_reason_pseudo[];
extern const int bounce_reason_npseudo;

/*
 * A probe: is reason the answer? Evidence, tried in this order:
 *   BR_P_STATUS     the status code's reason is this one (vetoed when the
 *                   text matches a reason of `unless`; with
 *                   BR_P_STATUS_TEXT it also needs text evidence);
 *   codes           the reply code is one of these ("521 556");
 *   command         the failed SMTP command is this one;
 *   text            the diagnostic matches a phrase of a reason in the
 *                   bit set `text`, restricted by BR_P_TEXT_RCPT (only
 *                   after RCPT), BR_P_TEXT_AFTER_RCPT (never after a
 *                   command that comes before DATA), BR_P_TEXT_SENDER
 *                   (only after MAIL, after DATA unless the status says
 *                   userunknown, or when the status names no reason or
 *                   only a vague one), BR_P_TEXT_AFTER_GREETING (not
 *                   when the connection or HELO/EHLO failed).
 */
#define BR_P_STATUS 0x01u
#define BR_P_STATUS_TEXT 0x02u
#define BR_P_TEXT_RCPT 0x04u
#define BR_P_TEXT_AFTER_RCPT 0x08u
#define BR_P_TEXT_SENDER 0x10u
#define BR_P_NEED_STATUS 0x20u         /* no status code at all: not this reason */
#define BR_P_TEXT_AFTER_GREETING 0x40u /* text ignored after CONN, HELO, EHLO */
#define BR_P_UNLESS_ALL 0x80u          /* `unless` vetoes the text evidence too */
struct br_probe {
    uint8_t reason;
    uint8_t flags;
    uint64_t text;
    uint64_t unless;
    const char *codes;
    const char *command;
    const char *notafter; /* never this reason after these commands ("MAIL") */
};
extern const struct br_probe bounce_reason_probes1[];
extern const int bounce_reason_nprobes1;
/* second pass: text only, for the reasons a status cannot settle */
extern const uint8_t bounce_reason_probes2[];
extern const int bounce_reason_nprobes2;

/*
 * what a text says besides its reason: what = the SMTP command it names,
 * for records that name none (postfix's "(in reply to RCPT TO command)",
 * a transcript's ">>> DATA"; the first such row wins), or "temporary" (the
 * sender will retry: the pseudo status then starts with 4)
 */
struct br_hint {
    const char *what;
    const char *pattern;
};
extern const struct br_hint bounce_reason_hints[];
extern const int bounce_reason_nhints;

/* a provider recognised by a host-name suffix ("." + domain or exact) */
struct br_host {
    const char *provider;
    const char *suffix;
};
extern const struct br_host bounce_reason_hosts[];
extern const int bounce_reason_nhosts;

/*
 * a provider's own rule; the first row of the provider whose given fields
 * all match wins: status (prefix, "" any, "-" none), replycode (0 any), pattern
 * ("" any)
 */
struct br_rhost_rule {
    const char *provider;
    uint8_t reason;
    const char *status;
    int replycode;
    const char *pattern;
};
extern const struct br_rhost_rule bounce_reason_rhost_rules[];
extern const int bounce_reason_nrhost_rules;

#endif
