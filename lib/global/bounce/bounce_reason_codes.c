/*
 * bounce_reason_codes - the classifier's code tables: reason names, RFC
 * 3463 status codes, pseudo codes and the order in which reasons are
 * probed (see bounce_reason.h for what each column means).
 */
#include "global/bounce/bounce_reason.h"

const char *const bounce_reason_names[BR_NREASONS] = {
    [BR_NONE] = "",
    [BR_AUTHFAILURE] = "authfailure",
    [BR_BADREPUTATION] = "badreputation",
    [BR_BLOCKED] = "blocked",
    [BR_CONTENTERROR] = "contenterror",
    [BR_DELIVERED] = "delivered",
    [BR_EMAILTOOLARGE] = "emailtoolarge",
    [BR_EXPIRED] = "expired",
    [BR_FAILEDSTARTTLS] = "failedstarttls",
    [BR_FEEDBACK] = "feedback",
    [BR_FILTERED] = "filtered",
    [BR_HASMOVED] = "hasmoved",
    [BR_HOSTUNKNOWN] = "hostunknown",
    [BR_MAILBOXFULL] = "mailboxfull",
    [BR_MAILERERROR] = "mailererror",
    [BR_NETWORKERROR] = "networkerror",
    [BR_NORELAYING] = "norelaying",
    [BR_NOTACCEPT] = "notaccept",
    [BR_NOTCOMPLIANTRFC] = "notcompliantrfc",
    [BR_ONHOLD] = "onhold",
    [BR_POLICYVIOLATION] = "policyviolation",
    [BR_RATELIMITED] = "ratelimited",
    [BR_REJECTED] = "rejected",
    [BR_REQUIREPTR] = "requireptr",
    [BR_SECURITYERROR] = "securityerror",
    [BR_SPAMDETECTED] = "spamdetected",
    [BR_SUPPRESSED] = "suppressed",
    [BR_SUSPEND] = "suspend",
    [BR_SYNTAXERROR] = "syntaxerror",
    [BR_SYSTEMERROR] = "systemerror",
    [BR_SYSTEMFULL] = "systemfull",
    [BR_UNDEFINED] = "undefined",
    [BR_USERUNKNOWN] = "userunknown",
    [BR_VACATION] = "vacation",
    [BR_VIRUSDETECTED] = "virusdetected",
};

/* RFC 3463 / IANA enhanced status codes; a code not listed names no reason */
const struct br_status bounce_reason_statuses[] = {
    {"2.1.5", BR_DELIVERED},      {"4.1.1", BR_USERUNKNOWN},    {"4.1.6", BR_HASMOVED},
    {"4.1.7", BR_REJECTED},       {"4.1.8", BR_REJECTED},       {"4.1.9", BR_SYSTEMERROR},
    {"4.2.1", BR_BLOCKED},        {"4.2.2", BR_MAILBOXFULL},    {"4.2.3", BR_EMAILTOOLARGE},
    {"4.2.4", BR_FILTERED},       {"4.3.1", BR_SYSTEMFULL},     {"4.3.2", BR_NOTACCEPT},
    {"4.3.3", BR_SYSTEMERROR},    {"4.3.5", BR_SYSTEMERROR},    {"4.4.1", BR_EXPIRED},
    {"4.4.2", BR_NETWORKERROR},   {"4.4.3", BR_SYSTEMERROR},    {"4.4.4", BR_NETWORKERROR},
    {"4.4.5", BR_SYSTEMFULL},     {"4.4.6", BR_NETWORKERROR},   {"4.4.7", BR_EXPIRED},
    {"4.4.8", BR_NETWORKERROR},   {"4.5.3", BR_SYSTEMERROR},    {"4.5.5", BR_SYSTEMERROR},
    {"4.6.0", BR_CONTENTERROR},   {"4.6.2", BR_CONTENTERROR},   {"4.6.5", BR_CONTENTERROR},
    {"4.7.1", BR_BLOCKED},        {"4.7.2", BR_BLOCKED},        {"4.7.5", BR_SECURITYERROR},
    {"4.7.6", BR_SECURITYERROR},  {"4.7.7", BR_SECURITYERROR},  {"4.7.12", BR_SECURITYERROR},
    {"4.7.15", BR_SECURITYERROR}, {"4.7.16", BR_EMAILTOOLARGE}, {"4.7.24", BR_AUTHFAILURE},
    {"4.7.25", BR_REQUIREPTR},    {"4.7.26", BR_AUTHFAILURE},   {"5.1.0", BR_USERUNKNOWN},
    {"5.1.1", BR_USERUNKNOWN},    {"5.1.2", BR_HOSTUNKNOWN},    {"5.1.3", BR_USERUNKNOWN},
    {"5.1.4", BR_FILTERED},       {"5.1.6", BR_HASMOVED},       {"5.1.7", BR_REJECTED},
    {"5.1.8", BR_REJECTED},       {"5.1.9", BR_SYSTEMERROR},    {"5.1.10", BR_NOTACCEPT},
    {"5.2.0", BR_FILTERED},       {"5.2.1", BR_FILTERED},       {"5.2.2", BR_MAILBOXFULL},
    {"5.2.3", BR_EMAILTOOLARGE},  {"5.2.4", BR_FILTERED},       {"5.3.0", BR_SYSTEMERROR},
    {"5.3.1", BR_SYSTEMFULL},     {"5.3.2", BR_NOTACCEPT},      {"5.3.3", BR_SYSTEMERROR},
    {"5.3.4", BR_EMAILTOOLARGE},  {"5.3.5", BR_SYSTEMERROR},    {"5.4.0", BR_NETWORKERROR},
    {"5.4.3", BR_SYSTEMERROR},    {"5.4.4", BR_HOSTUNKNOWN},    {"5.4.6", BR_NETWORKERROR},
    {"5.4.7", BR_EXPIRED},        {"5.5.2", BR_SYNTAXERROR},    {"5.5.3", BR_RATELIMITED},
    {"5.5.4", BR_SYSTEMERROR},    {"5.5.5", BR_SYSTEMERROR},    {"5.5.6", BR_SYNTAXERROR},
    {"5.6.0", BR_CONTENTERROR},   {"5.6.1", BR_CONTENTERROR},   {"5.6.2", BR_CONTENTERROR},
    {"5.6.3", BR_CONTENTERROR},   {"5.6.5", BR_CONTENTERROR},   {"5.6.6", BR_CONTENTERROR},
    {"5.6.7", BR_CONTENTERROR},   {"5.6.8", BR_CONTENTERROR},   {"5.6.9", BR_CONTENTERROR},
    {"5.7.0", BR_SECURITYERROR},  {"5.7.1", BR_SECURITYERROR},  {"5.7.2", BR_SECURITYERROR},
    {"5.7.3", BR_SECURITYERROR},  {"5.7.4", BR_SECURITYERROR},  {"5.7.5", BR_SECURITYERROR},
    {"5.7.6", BR_SECURITYERROR},  {"5.7.7", BR_SECURITYERROR},  {"5.7.8", BR_SECURITYERROR},
    {"5.7.9", BR_SECURITYERROR},  {"5.7.10", BR_SECURITYERROR}, {"5.7.11", BR_SECURITYERROR},
    {"5.7.13", BR_SUSPEND},       {"5.7.14", BR_SECURITYERROR}, {"5.7.15", BR_SECURITYERROR},
    {"5.7.16", BR_EMAILTOOLARGE}, {"5.7.17", BR_HASMOVED},      {"5.7.18", BR_HASMOVED},
    {"5.7.19", BR_SECURITYERROR}, {"5.7.20", BR_AUTHFAILURE},   {"5.7.21", BR_AUTHFAILURE},
    {"5.7.22", BR_AUTHFAILURE},   {"5.7.23", BR_AUTHFAILURE},   {"5.7.24", BR_AUTHFAILURE},
    {"5.7.25", BR_REQUIREPTR},    {"5.7.26", BR_AUTHFAILURE},   {"5.7.27", BR_NOTACCEPT},
    {"5.7.28", BR_SPAMDETECTED},  {"5.7.29", BR_AUTHFAILURE},   {"5.7.30", BR_FAILEDSTARTTLS},
};
const int bounce_reason_nstatuses =
    sizeof(bounce_reason_statuses) / sizeof(bounce_reason_statuses[0]);

/*
 * pseudo codes (sisimai's numbering), class digit 4 or 5 put in front; a
 * reason without a row gets x.0.0 (RFC 3463: other undefined status)
 */
const struct br_pseudo bounce_reason_pseudo[] = {
    {BR_REJECTED, ".9.110"},      {BR_REQUIREPTR, ".9.133"},      {BR_BLOCKED, ".9.134"},
    {BR_EMAILTOOLARGE, ".9.161"}, {BR_NOTCOMPLIANTRFC, ".9.162"}, {BR_SPAMDETECTED, ".9.164"},
    {BR_FILTERED, ".9.210"},      {BR_HOSTUNKNOWN, ".9.212"},     {BR_USERUNKNOWN, ".9.213"},
    {BR_NORELAYING, ".9.214"},    {BR_NOTACCEPT, ".9.215"},       {BR_MAILBOXFULL, ".9.220"},
    {BR_SUSPEND, ".9.221"},       {BR_MAILERERROR, ".9.230"},     {BR_SYSTEMERROR, ".9.231"},
    {BR_UNDEFINED, ".9.300"},     {BR_ONHOLD, ".9.301"},          {BR_EXPIRED, ".9.340"},
    {BR_NETWORKERROR, ".9.341"},  {BR_FAILEDSTARTTLS, ".9.350"},  {BR_SYNTAXERROR, ".9.351"},
};
const int bounce_reason_npseudo = sizeof(bounce_reason_pseudo) / sizeof(bounce_reason_pseudo[0]);

/*
 * First pass, in precedence order: status code, reply code, command and
 * text together. The reasons a status code can settle on its own come
 * here; the order decides between texts that match several reasons.
 */
#define T(r) BR_BIT(BR_##r)
const struct br_probe bounce_reason_probes1[] = {
    {BR_MAILERERROR, 0, T(MAILERERROR), 0, NULL, NULL, NULL},
    {BR_MAILBOXFULL, BR_P_STATUS, T(MAILBOXFULL), 0, NULL, NULL, NULL},
    {BR_EMAILTOOLARGE, BR_P_STATUS, T(EMAILTOOLARGE), 0, NULL, NULL, NULL},
    {BR_SUSPEND, 0, T(SUSPEND), 0, "525", NULL, NULL},
    {BR_HASMOVED, 0, T(HASMOVED), 0, NULL, NULL, NULL},
    {BR_NORELAYING, BR_P_TEXT_AFTER_GREETING, T(NORELAYING), 0, NULL, NULL, NULL},
    {BR_AUTHFAILURE, BR_P_STATUS, T(AUTHFAILURE), 0, NULL, NULL, NULL},
    {BR_USERUNKNOWN, BR_P_STATUS | BR_P_TEXT_RCPT, T(USERUNKNOWN),
     T(NORELAYING) | T(BLOCKED) | T(MAILBOXFULL) | T(HASMOVED) | T(REJECTED) | T(NOTACCEPT), NULL,
     NULL, "MAIL"},
    {BR_FILTERED, BR_P_STATUS | BR_P_STATUS_TEXT | BR_P_TEXT_AFTER_RCPT,
     T(FILTERED) | T(USERUNKNOWN), 0, NULL, NULL, NULL},
    {BR_REQUIREPTR, BR_P_STATUS, T(REQUIREPTR), 0, NULL, NULL, NULL},
    {BR_NOTCOMPLIANTRFC, 0, T(NOTCOMPLIANTRFC), 0, NULL, NULL, NULL},
    {BR_BADREPUTATION, 0, T(BADREPUTATION), 0, NULL, NULL, NULL},
    {BR_CONTENTERROR, BR_P_STATUS | BR_P_UNLESS_ALL, T(CONTENTERROR), T(SPAMDETECTED), NULL, NULL,
     NULL},
    {BR_REJECTED, BR_P_STATUS | BR_P_TEXT_SENDER, T(REJECTED), 0, NULL, NULL, NULL},
    {BR_HOSTUNKNOWN, BR_P_STATUS, T(HOSTUNKNOWN), T(NETWORKERROR) | T(NOTACCEPT), NULL, NULL,
     "MAIL DATA"}, /* its MX answered: the domain exists, the text means another */
    {BR_NOTACCEPT, 0, T(NOTACCEPT), 0, "521 556", NULL, NULL},
    {BR_SPAMDETECTED, BR_P_STATUS | BR_P_NEED_STATUS | BR_P_TEXT_AFTER_RCPT, T(SPAMDETECTED), 0,
     NULL, NULL, NULL},
    {BR_RATELIMITED, BR_P_STATUS, T(RATELIMITED), 0, NULL, NULL, NULL},
    {BR_BLOCKED, BR_P_STATUS, T(BLOCKED), 0, NULL, NULL, NULL},
    {BR_FAILEDSTARTTLS, 0, 0, 0, "523 524 538", "STARTTLS", NULL},
};
const int bounce_reason_nprobes1 = sizeof(bounce_reason_probes1) / sizeof(bounce_reason_probes1[0]);
#undef T

/*
 * Second pass, when the first found nothing and the status names no
 * reason or a vague one (userunknown, hostunknown, systemerror,
 * securityerror, networkerror, expired, onhold): the text alone decides.
 */
const uint8_t bounce_reason_probes2[] = {
    BR_MAILBOXFULL,    BR_AUTHFAILURE,     BR_BADREPUTATION, BR_RATELIMITED, BR_SPAMDETECTED,
    BR_VIRUSDETECTED,  BR_POLICYVIOLATION, BR_NORELAYING,    BR_SYSTEMERROR, BR_NETWORKERROR,
    BR_SUSPEND,        BR_CONTENTERROR,    BR_SYSTEMFULL,    BR_NOTACCEPT,   BR_EXPIRED,
    BR_FAILEDSTARTTLS, BR_SECURITYERROR,   BR_SUPPRESSED,    BR_MAILERERROR, BR_SYNTAXERROR,
};
const int bounce_reason_nprobes2 = sizeof(bounce_reason_probes2) / sizeof(bounce_reason_probes2[0]);

/* commands named in texts (first match wins), temporary failures */
const struct br_hint bounce_reason_hints[] = {
    {"RCPT", "in reply to rcpt to command"},
    {"DATA", "in reply to end of data command"},
    {"DATA", "in reply to data command"},
    {"MAIL", "in reply to mail from command"},
    {"RCPT", "after rcpt to"},
    {"DATA", "after end of data"},
    {"MAIL", "after mail from"},
    {"RCPT", ">>> rcpt to"},
    {"RCPT", "<<< rcpt to"},
    {"DATA", ">>> data"},
    {"DATA", "<<< data"},
    {"MAIL", ">>> mail from"},
    {"RCPT", "smtp:rcpt host"},
    {"RCPT", "rcpt to response"},
    {"RCPT", "[rcpt_to]"},
    {"RCPT", "did not like our rcpt to"},
    {"DATA", "did not like our final data"},
    {"RCPT", "does not like recipient"},
    {"DATA", "(state 18)"},
    {"CONN", " but greeting failed"},
    {"EHLO", " but my name was rejected"},
    {"MAIL", " but sender was rejected"},
    {"DATA", " failed on data command"},
    {"DATA", " failed after i sent the message"},
    {"RCPT", "most progress was rcpt to"},
    {"DATA", "most progress was data"},
    {"MAIL", "most progress was mail from"},
    {"temporary", "will be retried"},
    {"temporary", "technical details of temporary failure"},
    {"temporary", "will continue to try"},
    {"temporary", "delivery attempts will continue"},
    {"temporary", "this is only a temporary failure"},
    {"temporary", "has not yet been delivered"},
};
const int bounce_reason_nhints = sizeof(bounce_reason_hints) / sizeof(bounce_reason_hints[0]);
