/*
 * bounce_target - which message an inbound message concerns, and the
 * account settings that say where replies and notices go.
 *
 * The rules (contract §16.7, issue 14): the recipient id of the VERP
 * address (the listener verified its HMAC tag), else the Message-ID of
 * the returned or reported message looked up in `message` (KEY
 * message_msgid) within the envelope's account only, else that
 * Message-ID together with the report's recipient (an SMTP job's
 * Message-ID is shared by its recipients). A recipient id whose row
 * belongs to another account than the envelope's is TARGET_FOREIGN: the
 * caller drops the report and changes nothing, so a bounce is never
 * attributed to another tenant.
 */
#include "workers/bounce/bounce.h"
#include "global/account.h"
#include "global/addr.h"
#include "util/jsonget.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TARGET_COLS                                                                                \
    "m.rid, m.job_id, m.account_id, ROUND(UNIX_TIMESTAMP(m.received_at) * 1000), m.email, "        \
    "m.addr, m.mail_from, m.mime_from, m.rewrite_from, m.reference, m.message_id, "                \
    "m.final_at IS NOT NULL OR d.rid IS NOT NULL, "                                                \
    "ROUND(UNIX_TIMESTAMP(CASE WHEN m.last_type = 'DELIVERED' THEN m.final_at ELSE d.at END) "     \
    "* 1000) "                                                                                     \
    "FROM message m LEFT JOIN delivery_record d ON d.rid = m.rid "

static void copy(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src ? src : "");
}

/* row - the target of result row i */
static void row(const struct db_res *res, size_t i, struct target *t)
{
    memset(t, 0, sizeof(*t));
    copy(t->rid, sizeof(t->rid), db_res_get(res, i, 0));
    copy(t->job_id, sizeof(t->job_id), db_res_get(res, i, 1));
    t->account = db_res_int(res, i, 2, 0);
    t->received_ms = db_res_int(res, i, 3, 0);
    copy(t->email, sizeof(t->email), db_res_get(res, i, 4));
    copy(t->addr, sizeof(t->addr), db_res_get(res, i, 5));
    copy(t->mail_from, sizeof(t->mail_from), db_res_get(res, i, 6));
    copy(t->mime_from, sizeof(t->mime_from), db_res_get(res, i, 7));
    copy(t->rewrite_from, sizeof(t->rewrite_from), db_res_get(res, i, 8));
    copy(t->reference, sizeof(t->reference), db_res_get(res, i, 9));
    copy(t->message_id, sizeof(t->message_id), db_res_get(res, i, 10));
    t->final = db_res_int(res, i, 11, 0) != 0;
    t->delivered_ms = db_res_int(res, i, 12, 0);
}

/* by_rid - the row of a recipient id, checked against the account */
static enum tx_code by_rid(struct db *db, const char *rid, long long account, struct target *t,
                           enum target_found *found)
{
    struct db_res *res = NULL;
    enum tx_code rc;

    rc = db_query(db, &res, "SELECT " TARGET_COLS "WHERE m.rid = ? ORDER BY m.rday DESC LIMIT 1",
                  "s", rid);
    if (rc != TX_OK)
        return rc;
    *found = TARGET_NONE;
    if (db_res_rows(res) == 1) {
        row(res, 0, t);
        *found = t->account == account ? TARGET_FOUND : TARGET_FOREIGN;
    }
    db_res_free(res);
    return TX_OK;
}

/* norm_msgid - "<id>" of a Message-ID as written (brackets added, blanks trimmed) */
static int norm_msgid(const char *in, char *out, size_t outsz)
{
    size_t n;
    const char *p = addr_trim(in, strlen(in), &n);

    if (n == 0 || n + 3 > outsz)
        return -1;
    if (p[0] == '<' && p[n - 1] == '>')
        snprintf(out, outsz, "%.*s", (int)n, p);
    else
        snprintf(out, outsz, "<%.*s>", (int)n, p);
    return 0;
}

/* by_msgid - the row of a Message-ID within account; rcpt picks among several */
static enum tx_code by_msgid(struct db *db, const char *msgid, long long account, const char *rcpt,
                             struct target *t, enum target_found *found)
{
    struct db_res *res = NULL;
    char id[402];
    enum tx_code rc;

    *found = TARGET_NONE;
    if (norm_msgid(msgid, id, sizeof(id)) < 0)
        return TX_OK;
    rc = db_query(db, &res,
                  "SELECT " TARGET_COLS "WHERE m.message_id = ? AND m.account_id = ? "
                  "ORDER BY m.rday DESC LIMIT 1000",
                  "si", id, account);
    if (rc != TX_OK)
        return rc;
    size_t n = db_res_rows(res);
    if (n == 1) {
        row(res, 0, t);
        *found = TARGET_FOUND;
    }
    for (size_t i = 0; n > 1 && rcpt && *rcpt && i < n; i++) {
        const char *a = db_res_get(res, i, 5);
        if (a && strcasecmp(a, rcpt) == 0) {
            row(res, i, t);
            *found = TARGET_FOUND;
            break;
        }
    }
    db_res_free(res);
    return TX_OK;
}

enum tx_code bounce_target_find(struct db *db, const struct inbound *in, const char *msgid,
                                const char *rcpt, struct target *t, enum target_found *found)
{
    *found = TARGET_NONE;
    if (in->verp_rid[0])
        return by_rid(db, in->verp_rid, in->account, t, found);
    if (msgid && *msgid)
        return by_msgid(db, msgid, in->account, rcpt, t, found);
    return TX_OK;
}

/* setting - a string setting that is a bare address, else "" */
static void setting(json_t *settings, const char *key, char *out, size_t outsz)
{
    const char *v = jsonget_str(settings, key);
    struct addr a;

    out[0] = 0;
    if (v && addr_parse_bare(v, strlen(v), &a) == 0)
        copy(out, outsz, a.bare);
}

enum tx_code bounce_target_settings(struct db *db, long long account, char *reply_forward,
                                    size_t rfsz, char *admin_email, size_t aesz)
{
    struct db_res *res = NULL;
    enum tx_code rc;

    reply_forward[0] = admin_email[0] = 0;
    rc = db_query(db, &res, "SELECT settings FROM account WHERE id = ?", "i", account);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(res) == 1) {
        json_t *s = account_settings(db_res_get(res, 0, 0));
        setting(s, "replyForward", reply_forward, rfsz);
        setting(s, "adminEmail", admin_email, aesz);
        json_decref(s);
    }
    db_res_free(res);
    return TX_OK;
}

enum tx_code bounce_target_rewrite(struct db *db, long long account, const char *addr, char *out,
                                   size_t outsz)
{
    struct db_res *res = NULL;
    char lower[320];
    enum tx_code rc;

    out[0] = 0;
    addr_lower(lower, sizeof(lower), addr);
    rc = db_query(db, &res,
                  "SELECT from_addr FROM envelope_rewrite WHERE account_id = ? AND "
                  "LOWER(rewrite_from) = ? ORDER BY from_addr LIMIT 1",
                  "is", account, lower);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(res) == 1)
        copy(out, outsz, db_res_get(res, 0, 0));
    db_res_free(res);
    return TX_OK;
}

int bounce_target_bare(const char *as_submitted, char *out, size_t outsz)
{
    struct addr a;

    out[0] = 0;
    if (as_submitted == NULL || addr_parse(as_submitted, strlen(as_submitted), &a) < 0)
        return -1;
    copy(out, outsz, a.bare);
    return 0;
}
