/*
 * notify_ctx - what a POST needs besides the events: the job row (its
 * endpoint, references, acceptance time) and the account row (name,
 * customer number, tenant, default endpoint, event types, webhook
 * secrets). Both are cached for notify_cache_ttl; when the database is
 * away a stale entry is served rather than holding everything up.
 */
#include "notify.h"
#include "global/runtime/batchloop.h"
#include "global/account.h"
#include "global/crypto.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/ttlcache.h"

#include <stdio.h>
#include <string.h>

#define NF_CACHE_MAX 50000

static struct ttlcache *jobs, *accounts;
static struct nf_job cur_job;         /* what notify_ctx_job_get answered last */
static struct nf_account cur_account; /* what notify_ctx_account_get answered last */

static void job_copy(void *dst, const void *src);
static void job_clear(void *v);
static void account_copy(void *dst, const void *src);
static void account_clear(void *v);

static const struct ttlcache_type job_type = {sizeof(struct nf_job), job_copy, job_clear};
static const struct ttlcache_type account_type = {sizeof(struct nf_account), account_copy,
                                                  account_clear};

void notify_ctx_init(void)
{
    jobs = ttlcache_create(&job_type, NF_CACHE_MAX, 0);
    accounts = ttlcache_create(&account_type, NF_CACHE_MAX, 0);
}

/*
 * cache_ttl - entries are fresh up to and including notify_cache_ttl
 * after loading (so 0 still keeps a row to serve while the database is away)
 */
static int64_t cache_ttl(void)
{
    return notify_conf.cache_ttl + 1;
}

/* ---- jobs --------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void job_copy(void *dst, const void *src)
{
    const struct nf_job *s = src;
    struct nf_job *d = dst;

    *d = *s;
    d->reference_job = s->reference_job ? xstrdup(s->reference_job) : NULL;
    d->cost_center = s->cost_center ? xstrdup(s->cost_center) : NULL;
    d->campaign_id = s->campaign_id ? xstrdup(s->campaign_id) : NULL;
    webhook_endpoint_copy(&d->ep, &s->ep);
}

static void job_clear(void *v)
{
    struct nf_job *j = v;

    xfree(j->reference_job);
    xfree(j->cost_center);
    xfree(j->campaign_id);
    webhook_endpoint_free(&j->ep);
    memset(j, 0, sizeof(*j));
}

enum tx_code notify_ctx_job_get(const char *job_id, struct nf_job **out)
{
    struct db_res *r = NULL;
    struct nf_job j;
    enum tx_code rc;

    job_clear(&cur_job);
    if (ttlcache_get(jobs, job_id, &cur_job)) {
        *out = &cur_job;
        return TX_OK;
    }
    rc = db_query(batchloop_db(), &r,
                  "SELECT account_id, ROUND(UNIX_TIMESTAMP(received_at) * 1000), reference_job, "
                  "cost_center, campaign_id, notification FROM job WHERE job_id = ?",
                  "s", job_id);
    if (rc != TX_OK) {
        if (ttlcache_get_stale(jobs, job_id, &cur_job)) { /* stale but usable */
            *out = &cur_job;
            return TX_OK;
        }
        return rc;
    }
    if (db_res_rows(r) != 1) {
        db_res_free(r);
        return TX_RETRY_NOT_READY;
    }
    memset(&j, 0, sizeof(j));
    snprintf(j.id, sizeof(j.id), "%s", job_id);
    j.account_id = db_res_int(r, 0, 0, 0);
    j.received_ms = db_res_int(r, 0, 1, 0);
    j.reference_job = dup_or_null(db_res_get(r, 0, 2));
    j.cost_center = dup_or_null(db_res_get(r, 0, 3));
    j.campaign_id = dup_or_null(db_res_get(r, 0, 4));
    if (db_res_get(r, 0, 5) && webhook_endpoint_parse(&j.ep, db_res_get(r, 0, 5)) < 0)
        msg_warn("%s: job notification endpoint unusable; the account default applies", job_id);
    db_res_free(r);
    ttlcache_put(jobs, job_id, &j, cache_ttl());
    cur_job = j; /* steals j's strings */
    *out = &cur_job;
    return TX_OK;
}

/* ---- accounts ----------------------------------------------------------- */

static void account_copy(void *dst, const void *src)
{
    const struct nf_account *s = src;
    struct nf_account *d = dst;

    *d = *s;
    d->name = xstrdup(s->name);
    d->customer_no = xstrdup(s->customer_no);
    d->tenant = s->tenant ? xstrdup(s->tenant) : NULL;
    d->event_types = s->event_types ? json_deep_copy(s->event_types) : NULL;
    webhook_endpoint_copy(&d->def, &s->def);
    d->secret = s->secret ? xstrdup(s->secret) : NULL;
    d->secret_prev = s->secret_prev ? xstrdup(s->secret_prev) : NULL;
}

static void account_clear(void *v)
{
    struct nf_account *a = v;

    xfree(a->name);
    xfree(a->customer_no);
    xfree(a->tenant);
    json_decref(a->event_types);
    webhook_endpoint_free(&a->def);
    if (a->secret)
        xwipestr(a->secret);
    if (a->secret_prev)
        xwipestr(a->secret_prev);
    memset(a, 0, sizeof(*a));
}

/* account_row - the account of row r (Ownership: new, account_clear) */
static void account_row(struct nf_account *a, long long id, struct db_res *r)
{
    json_t *settings, *types;

    memset(a, 0, sizeof(*a));
    a->id = id;
    a->name = xstrdup(db_res_get(r, 0, 0) ? db_res_get(r, 0, 0) : "");
    a->customer_no = xstrdup(db_res_get(r, 0, 1) ? db_res_get(r, 0, 1) : "");
    a->tenant = dup_or_null(db_res_get(r, 0, 2));
    settings = account_settings(db_res_get(r, 0, 3));
    types = json_object_get(settings, "notifyEventTypes");
    a->event_types = json_is_array(types) ? json_incref(types) : NULL;
    json_decref(settings);
    if (webhook_endpoint_account(&a->def, db_res_get(r, 0, 4), db_res_get(r, 0, 5),
                                 db_res_get(r, 0, 6), db_res_get(r, 0, 7)) < 0)
        msg_warn("account %lld: default notification URL unusable", id);
    a->secret = dup_or_null(db_res_get(r, 0, 8));
    a->secret_prev = dup_or_null(db_res_get(r, 0, 9));
    a->rotated_ms = db_res_get(r, 0, 10) ? db_res_int(r, 0, 10, 0) : 0;
}

enum tx_code notify_ctx_account_get(long long id, struct nf_account **out)
{
    char key[32];
    struct db_res *r = NULL;
    struct nf_account a;
    enum tx_code rc;

    snprintf(key, sizeof(key), "%lld", id);
    account_clear(&cur_account);
    if (ttlcache_get(accounts, key, &cur_account)) {
        *out = &cur_account;
        return TX_OK;
    }
    rc = db_query(
        batchloop_db(), &r,
        "SELECT name, customer_no, tenant, settings, notify_url, notify_headers, "
        "notify_user, notify_password, webhook_secret, webhook_secret_prev, "
        "ROUND(UNIX_TIMESTAMP(webhook_secret_rotated_at) * 1000) FROM account WHERE id = ?",
        "i", id);
    if (rc != TX_OK) {
        if (ttlcache_get_stale(accounts, key, &cur_account)) {
            *out = &cur_account;
            return TX_OK;
        }
        return rc;
    }
    if (db_res_rows(r) != 1) {
        db_res_free(r);
        return TX_RETRY_NOT_READY;
    }
    account_row(&a, id, r);
    db_res_free(r);
    ttlcache_put(accounts, key, &a, cache_ttl());
    cur_account = a; /* steals a's strings */
    *out = &cur_account;
    return TX_OK;
}

int notify_ctx_type_wanted(const struct nf_account *a, const char *type, const char *subtype)
{
    size_t i;
    json_t *v;
    char both[80];

    if (a->event_types == NULL)
        return 1;
    snprintf(both, sizeof(both), "%s.%s", type ? type : "", subtype ? subtype : "");
    json_array_foreach (a->event_types, i, v) {
        const char *s = json_string_value(v);
        if (s && ((type && strcmp(s, type) == 0) || strcmp(s, both) == 0))
            return 1;
    }
    return 0;
}
