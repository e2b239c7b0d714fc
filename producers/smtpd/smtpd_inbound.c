/*
 * smtpd_inbound - the inbound policy (smtpd_policy = inbound): txmail-smtpd
 * as the MX of the bounce domains (contract §16.7).
 *
 * RCPT takes only what lib/global/inbound/inboundaddr.h recognises: a VERP
 * address whose tag verifies, a role address (smtpd_inbound_roles) at a
 * bounce domain, an envelope-rewrite address. The answer comes from the
 * cache on the loop when it is there, else from a pool thread
 * (T_RCPT). Any other address at a bounce domain, a forged VERP tag
 * included, is "550 5.1.1"; another domain "550 5.7.1 relaying denied";
 * no database: "451 4.3.0".
 *
 * The end of a message (on a pool thread, a batch at a time): one inbound
 * envelope per account among the recipients (docs/ENVELOPES.md,
 * "inbound"), every one of the batch published to txmail.work with key
 * smtpd_inbound_queue and confirmed before any 250; a broker that fails
 * or does not confirm within smtpd_confirm_timeout answers the batch
 * "451 4.3.0" (a connection found dead gets one fresh try first). Nothing
 * is written to the database.
 */
#include "smtpd.h"
#include "global/envelope.h"
#include "global/ids.h"
#include "global/metrics.h"
#include "global/runtime/mqpub.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TEMPFAIL "451 4.3.0 Temporary failure, please retry"

/* ---- RCPT (on the session's loop) ---------------------------------------------- */

/* refuse - answer a refused RCPT and log it with the reason */
static void refuse(struct session *s, const char *addr, const char *reply, const char *why)
{
    char to[300], from[300];
    const char *mf = s->txn && s->txn->mail_from ? s->txn->mail_from : "";

    msg_printable(to, sizeof(to), addr, strlen(addr));
    msg_printable(from, sizeof(from), mf, strlen(mf));
    smtpd_session_reply(s, "%s", reply);
    msg_info("%s: reject: RCPT from [%s]: %s; from=<%s> to=<%s> (%s)", s->id, s->ip, reply, from,
             to, why);
}

/* answer - RCPT of addr as in says */
static void answer(struct session *s, const char *addr, const struct inboundaddr *in)
{
    char reply[SMTPD_REPLY_MAX], to[300];

    metrics_count("txmail_smtpd_inbound_rcpt_total", "kind", inboundaddr_kind_name(in->kind), 1);
    msg_printable(to, sizeof(to), addr, strlen(addr));
    switch (in->kind) {
    case INBOUNDADDR_VERP:
    case INBOUNDADDR_ROLE:
    case INBOUNDADDR_REWRITE: {
        struct smtpd_rcpt *r = smtpd_cmd_rcpt_add(s->txn, addr, addr);
        r->in = *in;
        smtpd_session_reply(s, "250 2.1.5 Ok");
        if (msg_verbose)
            msg_debug("%s: RCPT <%s>: %s, account %lld%s%s", s->id, to,
                      inboundaddr_kind_name(in->kind), in->account_id, in->rid[0] ? ", rid " : "",
                      in->rid);
        return;
    }
    case INBOUNDADDR_FOREIGN:
        snprintf(reply, sizeof(reply), "550 5.7.1 <%s>: relaying denied", to);
        refuse(s, addr, reply, "not a bounce domain");
        return;
    case INBOUNDADDR_FORGED:
        snprintf(reply, sizeof(reply), "550 5.1.1 <%s>: Recipient address rejected: User unknown",
                 to);
        refuse(s, addr, reply, "VERP tag does not verify");
        return;
    case INBOUNDADDR_UNKNOWN:
        break;
    }
    snprintf(reply, sizeof(reply), "550 5.1.1 <%s>: Recipient address rejected: User unknown", to);
    refuse(s, addr, reply, "unknown local part at a bounce domain");
}

void smtpd_inbound_rcpt(struct session *s, const char *addr, const char *local, const char *domain)
{
    struct inboundaddr in;
    struct smtpd_task *t = &s->task;

    if (inboundaddr_cached(local, domain, smtpd_conf.inbound_roles, &in)) {
        answer(s, addr, &in);
        return;
    }
    xfree(t->rcpt);
    xfree(t->rcpt_local);
    xfree(t->rcpt_domain);
    t->rcpt = xstrdup(addr);
    t->rcpt_local = xstrdup(local);
    t->rcpt_domain = xstrdup(domain);
    smtpd_cmd_submit(s, T_RCPT);
}

void smtpd_inbound_rcpt_done(struct session *s, struct smtpd_task *t)
{
    if (s->txn && t->rc == TX_OK) {
        answer(s, t->rcpt, &t->in);
    } else if (s->txn) {
        metrics_count("txmail_smtpd_inbound_rcpt_total", "kind", "tempfail", 1);
        refuse(s, t->rcpt, TEMPFAIL, "database unavailable");
    }
    xfree(t->rcpt);
    xfree(t->rcpt_local);
    xfree(t->rcpt_domain);
    t->rcpt = t->rcpt_local = t->rcpt_domain = NULL;
}

/* ---- pool threads --------------------------------------------------------------- */

void smtpd_inbound_lookup(struct db *db, struct smtpd_task *t)
{
    if (db)
        t->rc = inboundaddr_classify(db, t->rcpt_local, t->rcpt_domain, smtpd_conf.inbound_roles,
                                     smtpd_conf.inbound_cache_ttl, &t->in);
    else
        t->rc = inboundaddr_cached(t->rcpt_local, t->rcpt_domain, smtpd_conf.inbound_roles, &t->in)
                    ? TX_OK
                    : TX_RETRY_DB;
}

/* one inbound envelope: the recipients of one account in one message */
struct out {
    struct smtpd_task *t;
    long long account_id;
    int nrcpt;
    char job_id[40];
    char *body;
    size_t len;
};

/* data - the envelope's data for the recipients of account (json_string: NULL on bad UTF-8) */
static json_t *data(const struct session *s, long long account, int *nrcpt)
{
    const struct smtpd_txn *x = s->txn;
    json_t *d = json_object(), *rcpt = json_array();

    json_object_set_new(d, "peer", json_string(s->ip));
    json_object_set_new(d, "helo", json_string(s->helo));
    json_object_set_new(d, "tls", s->tls ? json_string(s->tls_proto) : json_null());
    json_object_set_new(d, "mailFrom", json_string(x->mail_from));
    *nrcpt = 0;
    for (int i = 0; i < x->nrcpt; i++) {
        const struct smtpd_rcpt *r = &x->rcpt[i];
        if (r->in.account_id != account)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "address", json_string(r->email));
        json_object_set_new(o, "kind", json_string(inboundaddr_kind_name(r->in.kind)));
        json_object_set_new(o, "rid", r->in.rid[0] ? json_string(r->in.rid) : json_null());
        json_array_append_new(rcpt, o);
        (*nrcpt)++;
    }
    json_object_set_new(d, "rcpt", rcpt);
    return d;
}

/* build - the envelope of o (body new); -1 when it cannot be encoded */
static int build(struct out *o)
{
    const struct session *s = o->t->s;
    struct envelope e;
    struct uuid u;
    int rc;

    ids_uuid_v7(&u);
    ids_uuid_format(o->job_id, &u);
    envelope_init(&e, "inbound");
    snprintf(e.job_id, sizeof(e.job_id), "%s", o->job_id);
    e.account_id = o->account_id;
    envelope_push_stage(&e, "bounce");
    e.created_ms = s->txn->received_ms;
    json_decref(e.data);
    e.data = data(s, o->account_id, &o->nrcpt);
    envelope_set_raw(&e, s->txn->msg.data, s->txn->msg.len);
    rc = envelope_encode(&e, &o->body, &o->len);
    envelope_free(&e);
    return rc;
}

/* plan - the envelopes of the batch, one per account of each message (in RCPT order). Ownership: new. */
static struct out *plan(struct smtpd_task **t, int n, int *nout)
{
    int cap = 0, k = 0;
    struct out *o = NULL;

    for (int i = 0; i < n; i++) {
        const struct smtpd_txn *x = t[i]->s->txn;
        int first = k;
        for (int r = 0; r < x->nrcpt; r++) {
            long long acct = x->rcpt[r].in.account_id;
            int seen = 0;
            for (int j = first; j < k && !seen; j++)
                seen = o[j].account_id == acct;
            if (seen)
                continue;
            if (k == cap) {
                cap = cap ? cap * 2 : 16;
                o = xrealloc(o, (size_t)cap * sizeof(*o));
            }
            memset(&o[k], 0, sizeof(o[k]));
            o[k].t = t[i];
            o[k++].account_id = acct;
        }
    }
    *nout = k;
    return o;
}

static const char UNAVAILABLE[] = "broker unavailable";

/* publish - every envelope that was built, confirmed; NULL or why not */
static const char *publish(struct mqpub *mq, struct out *o, int n)
{
    struct mqpub_msg *m;
    int k = 0;
    enum tx_code rc;

    if (mqpub_ready(mq) != TX_OK)
        return UNAVAILABLE;
    m = xcalloc((size_t)n + 1, sizeof(*m));
    for (int i = 0; i < n; i++)
        if (o[i].body && o[i].t->reply[0] == 0)
            m[k++] = (struct mqpub_msg){
                MQ_EXCHANGE_WORK, smtpd_conf.inbound_queue, NULL, NULL, o[i].body, o[i].len,
                o[i].job_id};
    rc = k ? mqpub_send(mq, m, k, (int)smtpd_conf.confirm_timeout) : TX_OK;
    xfree(m);
    return rc == TX_OK ? NULL : "the broker did not confirm";
}

/* log_queued - one line per envelope */
static void log_queued(const struct out *o)
{
    const struct session *s = o->t->s;
    char from[300];

    msg_printable(from, sizeof(from), s->txn->mail_from, strlen(s->txn->mail_from));
    msg_info("%s: inbound %s: client=[%s], helo=%s, from=<%s>, account=%lld, rcpt=%d, size=%zu, "
             "tls=%s, queue=%s, status=queued",
             s->id, o->job_id, s->ip, s->helo, from, o->account_id, o->nrcpt, s->txn->msg.len,
             s->tls ? s->tls_proto : "none", smtpd_conf.inbound_queue);
}

void smtpd_inbound_commit(struct mqpub *mq, struct smtpd_task **t, int n)
{
    int nout;
    struct out *o = plan(t, n, &nout);
    const char *why = NULL;

    for (int i = 0; i < nout; i++)
        if (build(&o[i]) < 0)
            snprintf(o[i].t->reply, sizeof(o[i].t->reply), "554 5.6.0 Message cannot be encoded");
    for (int attempt = 0; attempt < 2; attempt++) {
        why = publish(mq, o, nout);
        if (why == NULL || why == UNAVAILABLE)
            break;
        msg_info("publishing connection lost (%s): reconnecting", why);
    }
    for (int i = 0; i < nout; i++) {
        struct smtpd_task *tk = o[i].t;
        if (tk->reply[0] == '5')
            continue;
        if (why) {
            if (tk->reply[0] == 0)
                msg_warn("%s: inbound message from [%s] not queued: %s", tk->s->id, tk->s->ip, why);
            snprintf(tk->reply, sizeof(tk->reply), TEMPFAIL);
            continue;
        }
        log_queued(&o[i]);
        if (tk->reply[0] == 0) /* the first envelope's id names the message */
            snprintf(tk->reply, sizeof(tk->reply), "250 2.0.0 Ok: queued as %s", o[i].job_id);
    }
    for (int i = 0; i < nout; i++)
        xfree(o[i].body);
    xfree(o);
    for (int i = 0; i < n; i++)
        smtpd_server_loop_complete(t[i]->s->loop, t[i]);
    metrics_count("txmail_smtpd_commit_batches_total", NULL, NULL, 1);
}
