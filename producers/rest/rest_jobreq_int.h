/*
 * rest_jobreq_int - what the rest_jobreq_*.c files share: the member
 * tables, the walker and the state of one validation.
 *
 * A member table lists the fields of one JSON object in the order of the
 * contract's tables (§4). rest_jobreq_walk_object() checks each field in that order:
 * missing (lenient: null and "" are absent, §4.1), JSON type (booleans
 * also as "true"/"false"), the format hook, the allowed values, CR/LF in
 * header text, the length in code points, then the "then" hook (account
 * configuration, nested objects). The first failure ends the validation
 * (§6.3). Values are stored as struct jr_val in the caller's struct at
 * the field's offset; they borrow from the parsed request.
 */
#ifndef REST_JOBREQ_INT_H
#define REST_JOBREQ_INT_H

#include "producers/rest/rest_jobreq.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

enum jr_type { JR_STR, JR_BOOL, JR_NUM, JR_OBJ, JR_ARR, JR_ANY };

#define JR_MANDATORY 0x01
#define JR_ADDRESS 0x02 /* white space trimmed before anything else */
#define JR_HEADER 0x04  /* header text: no CR or LF */
#define JR_NOCASE 0x08  /* allowed values compared case-insensitively */
#define JR_NOSLOT ((size_t)-1)

enum jr_err {
    JR_E_MISSING,
    JR_E_FORMAT,
    JR_E_VALUE,
    JR_E_SIZE,
    JR_E_COUNT,
    JR_E_CONFIG,
    JR_E_PARAMS,
    JR_E_SENDER_SYNTAX,
    JR_E_SENDER,
    JR_E_RETRY,
};

struct jr_val {
    json_t *j;     /* NULL: absent */
    const char *s; /* strings (trimmed for addresses) */
    size_t len;
    int b; /* booleans */
};

struct jr;
struct jr_field {
    const char *name;
    enum jr_type type;
    unsigned flags;
    size_t max;                 /* code points; 0: no limit */
    const char *const *allowed; /* NULL-terminated, or NULL */
    size_t off;                 /* struct jr_val in out, or JR_NOSLOT */
    const char *missing;        /* suffix of the path reported when missing */
    int (*required)(struct jr *v, json_t *obj, void *out);
    int (*format)(struct jr *v, struct jr_val *val, void *out);
    int (*then)(struct jr *v, struct jr_val *val, void *out);
};

#define JR_AT(type, member) offsetof(type, member)

/* one parsed address (from, mimeFrom, replyTo, recipients) */
struct jr_addr {
    int ok;                                /* syntax valid */
    char *bare, *display, *local, *domain; /* owned */
    int utf8;
};

struct jr_text {
    const char *part; /* "subject", "body", "alternative" */
    struct jr_val content_type, content, template_, encoding, cte, charset;
    int present;
    char *text; /* UTF-8 after §4.6 decoding (owned) */
    size_t len;
    int utf8_checked; /* text is known to be UTF-8 without NUL */
};

struct jr_attach {
    struct jr_val name, content_type, content, content_id, secure;
};

struct jr_email {
    struct jr_val email;
    struct jr_addr a;
};

/* fields of "mail", at job level and in a block */
struct jr_mail {
    struct jr_val from_o, mime_o, reply_o;
    struct jr_email from, mime, reply;
    struct jr_val to, cc, bcc;
    struct jr_val in_reply_to, priority, list_unsub, xheaders;
};

struct jr_rcpt {
    struct jr_val email;
    int kind;       /* 0 to, 1 cc, 2 bcc */
    uint32_t index; /* in the whole job (§5.2) */
    struct jr_addr a;
    char *lower;            /* lowercase bare address (suppression key) */
    const char *classifier; /* validationResult.classifier, or NULL */
    const char *message;    /* validationResult.message, or NULL */
    const char *drop;       /* PRE_PROCESS drop subType, or NULL */
    char *drop_desc;        /* owned */
    char sup_type[32];
};

struct jr_block {
    struct jr_val mail, features, reference;
    struct jr_mail m;
    struct jr_val open_o, link_o, templating_o;
    struct jr_val open, link, personalization;
    struct jr_rcpt *rcpt;
    size_t nrcpt;
};

struct jr_sdh { /* secureDocument settings, job.options or alias */
    struct jr_val active, filename, prefix, password_o, password_type;
};

struct jr_opts {
    struct jr_val av_o, tr_o, sd_o, sc_o, ms_o;
    struct jr_val av_active, av_scope, tr_active, sc_active, sc_mode, sc_threshold, ms_active;
    struct jr_sdh sd;
};

struct jr_job {
    struct jr_val reference_job, cost_center, campaign_id, features, options;
    struct jr_val open_o, link_o, open, link;
    struct jr_opts o;
};

struct jr_notify {
    struct jr_val endpoint, url, headers, auth, method, user, password;
};

/* effective processing options after account defaults */
struct jr_effective {
    int av, tr, sd, sc, ms;
    const char *av_scope, *sc_mode, *sd_filename, *sd_prefix, *sd_pwtype;
    double sc_threshold;
    const char *sd_path; /* "job.options.secureDocument.active" or the alias */
    int open, link;      /* job-level tracking after defaults */
};

struct jr {
    const struct jobreq_env *env;
    struct jobreq_result *res;
    json_t *root;
    char path[1024];
    size_t plen;
    int addr_ctx;                        /* JR_ADDR_* for the email being checked */
    struct jr_block *cur_block;          /* the recipient block being checked */
    size_t cur_att;                      /* the attachment being checked */
    int att_raw[JOBREQ_MAX_ATTACHMENTS]; /* attachment i: index in res->raw + 1, or 0 */
    size_t max_blocks, max_addresses, max_attachments;
    struct jr_val subject_o, body_o, alt_o, att_o, rcpt_o, mail_o, job_o, notif_o, alias_o;
    struct jr_text subject, body, alternative;
    struct jr_attach *att;
    size_t natt;
    struct jr_block *blocks;
    size_t nblocks, naddr;
    struct jr_mail mail;
    struct jr_job job;
    struct jr_sdh alias;
    struct jr_notify notify;
    struct jobreq_sender sender;
    struct jr_effective eff;
    struct buf scratch;
};

enum { JR_ADDR_RCPT, JR_ADDR_FROM, JR_ADDR_MIMEFROM, JR_ADDR_REPLYTO };

/* rest_jobreq_walk.c */
int rest_jobreq_walk_object(struct jr *v, json_t *obj, const struct jr_field *table, void *out);
int rest_jobreq_walk_fail(struct jr *v, enum jr_err e);
int rest_jobreq_walk_fail_suffix(struct jr *v, enum jr_err e, const char *suffix);
int rest_jobreq_walk_fail_detail(struct jr *v, enum jr_err e, const char *detail);
int rest_jobreq_walk_fail_path(struct jr *v, enum jr_err e, const char *path);
size_t rest_jobreq_walk_push_key(struct jr *v, const char *key, size_t keylen);
size_t rest_jobreq_walk_push_index(struct jr *v, size_t i);
void rest_jobreq_walk_pop(struct jr *v, size_t mark);
int rest_jobreq_walk_feature(struct jr *v, const char *name);
int rest_jobreq_walk_has_ctl(const char *s, size_t len);
void rest_jobreq_walk_addr_parse(struct jr_addr *a, const char *s, size_t len);
void rest_jobreq_walk_addr_free(struct jr_addr *a);
int rest_jobreq_walk_bool(const struct jr_val *val, int dflt);
const char *rest_jobreq_walk_str(const struct jr_val *val, const char *dflt);

/* the member checks, in request order */
int rest_jobreq_text_check(struct jr *v, struct jr_val *val, struct jr_text *t);
int rest_jobreq_text_missing(struct jr *v, const char *part);
int rest_jobreq_attach_check(struct jr *v, struct jr_val *val);
int rest_jobreq_rcpt_check(struct jr *v, struct jr_val *val);
int rest_jobreq_mail_check(struct jr *v, struct jr_val *val);
int rest_jobreq_job_check(struct jr *v, struct jr_val *val);
int rest_jobreq_notify_check(struct jr *v, struct jr_val *val);
int rest_jobreq_job_alias(struct jr *v, struct jr_val *val);
int rest_jobreq_rcpt_xheaders(struct jr *v, struct jr_val *val);
/* shared field hooks: xHeaders objects, tracking switches (feature "tracking") */
int rest_jobreq_rcpt_xheaders_then(struct jr *v, struct jr_val *val, void *out);
int rest_jobreq_rcpt_tracking_then(struct jr *v, struct jr_val *val, void *out);
int rest_jobreq_rcpt_reply_then(struct jr *v, struct jr_val *val,
                                void *out); /* out: struct jr_mail */
extern const char *const jr_priorities[];
int rest_jobreq_rcpt_email(struct jr *v, struct jr_val *val, void *out, int ctx);
int rest_jobreq_job_effective(struct jr *v);
int rest_jobreq_rcpt_classify(struct jr *v);
int rest_jobreq_build(struct jr *v);

#endif
