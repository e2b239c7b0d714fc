/*
 * deliver_domain - the delivery settings of a sender domain: relay host
 * (Relay Service, §16.9), enforced TLS and the archive Bcc address
 * (§16.8: the sender domain's archive_bcc, else the account setting
 * "archiveBcc"). Read from MariaDB and kept for deliver_domain_cache
 * (default 30 s) in a small shared table, so a change reaches every
 * process within that time without a query per message.
 */
#include "workers/deliver/deliver.h"
#include "global/account.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define DOMAIN_SLOTS 1024

struct slot {
    long long account, id;
    int64_t expires;
    struct domain_conf conf;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[DOMAIN_SLOTS];

int deliver_domain_conf(struct db *db, long long account, long long domain_id,
                        struct domain_conf *out)
{
    struct slot *s = &slots[(unsigned long long)(domain_id * 2654435761u + (unsigned long long)account) % DOMAIN_SLOTS];
    struct db_res *res = NULL;
    int hit = 0;

    memset(out, 0, sizeof(*out));
    if (domain_id <= 0)
        return 0;
    pthread_mutex_lock(&lock);
    if (s->id == domain_id && s->account == account && s->expires > time_mono_ms()) {
        *out = s->conf;
        hit = 1;
    }
    pthread_mutex_unlock(&lock);
    if (hit)
        return 0;
    if (db_query(db, &res,
                 "SELECT d.relay_host, d.tls_enforced, d.archive_bcc, a.settings "
                 "FROM sender_domain d JOIN account a ON a.id = d.account_id "
                 "WHERE d.id = ? AND d.account_id = ?",
                 "ii", domain_id, account) != TX_OK)
        return -1;
    if (db_res_rows(res) > 0) {
        const char *relay = db_res_get(res, 0, 0), *arc = db_res_get(res, 0, 2);
        snprintf(out->relay_host, sizeof(out->relay_host), "%s", relay ? relay : "");
        out->tls_enforced = db_res_int(res, 0, 1, 0) != 0;
        if (arc && *arc) {
            snprintf(out->archive_bcc, sizeof(out->archive_bcc), "%s", arc);
        } else {
            json_t *settings = account_settings(db_res_get(res, 0, 3));
            const char *a = json_string_value(json_object_get(settings, "archiveBcc"));
            snprintf(out->archive_bcc, sizeof(out->archive_bcc), "%s", a ? a : "");
            json_decref(settings);
        }
    }
    db_res_free(res);
    pthread_mutex_lock(&lock);
    s->account = account;
    s->id = domain_id;
    s->conf = *out;
    s->expires = time_mono_ms() + deliver_conf.domain_cache;
    pthread_mutex_unlock(&lock);
    return 0;
}
