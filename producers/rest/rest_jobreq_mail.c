/*
 * rest_jobreq_mail - the job-level "mail" (contract §4.9): from (syntax
 * INVALID_SENDER, forbidden local part and unregistered domain
 * FORBIDDEN_SENDER), mimeFrom (same domain as from), replyTo, inReplyTo,
 * priority, listUnsubscribe, xHeaders.
 */
#include "producers/rest/rest_jobreq_int.h"

static int from_then(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_mail *m = out;

    return rest_jobreq_rcpt_email(v, val, &m->from, JR_ADDR_FROM);
}

static int mime_then(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_mail *m = out;

    return rest_jobreq_rcpt_email(v, val, &m->mime, JR_ADDR_MIMEFROM);
}

static const struct jr_field mail_fields[] = {
    {"from", JR_OBJ, JR_MANDATORY, 0, NULL, JR_AT(struct jr_mail, from_o), ".email", NULL, NULL,
     from_then},
    {"mimeFrom", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_mail, mime_o), NULL, NULL, NULL, mime_then},
    {"replyTo", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_mail, reply_o), NULL, NULL, NULL,
     rest_jobreq_rcpt_reply_then},
    {"inReplyTo", JR_STR, JR_HEADER, 998, NULL, JR_AT(struct jr_mail, in_reply_to), NULL, NULL,
     NULL, NULL},
    {"priority", JR_STR, 0, 0, jr_priorities, JR_AT(struct jr_mail, priority), NULL, NULL, NULL,
     NULL},
    {"listUnsubscribe", JR_STR, JR_HEADER, 998, NULL, JR_AT(struct jr_mail, list_unsub), NULL, NULL,
     NULL, NULL},
    {"xHeaders", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_mail, xheaders), NULL, NULL, NULL,
     rest_jobreq_rcpt_xheaders_then},
    {0},
};

int rest_jobreq_mail_check(struct jr *v, struct jr_val *val)
{
    return rest_jobreq_walk_object(v, val->j, mail_fields, &v->mail);
}
