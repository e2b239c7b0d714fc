/*
 * notify_ctx - what a POST needs besides the events: the job row (its
 * endpoint, references, acceptance time) and the account row (name,
 * customer number, tenant, default endpoint, event types, webhook
 * secrets). Both are cached for notify_cache_ttl; when the database is
 * away a stale entry is served rather than holding everything up.
 */
#include "notify.h"
#include "global/batchloop.h"
#include "global/account.h"
#include "global/crypto.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define NF_BUCKETS 4096
#define NF_CACHE_MAX 50000

struct jnode {
    struct nf_job j;
    struct jnode *next;
};

struct anode {
    struct nf_account a;
    struct anode *next;
};

static struct jnode *jobs[NF_BUCKETS];
static struct anode *accounts[NF_BUCKETS];
static int njobs;

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % NF_BUCKETS;
}

/* ---- endpoints ---------------------------------------------------------- */

void nf_endpoint_free(struct nf_endpoint *e)
{
    xfree(e->url);
    json_decref(e->headers);
    xfree(e->user);
    if (e->password)
        xwipestr(e->password);
    memset(e, 0, sizeof(*e));
}

void nf_endpoint_copy(struct nf_endpoint *dst, const struct nf_endpoint *src)
{
    dst->url = src->url ? xstrdup(src->url) : NULL;
    dst->headers = src->headers ? json_deep_copy(src->headers) : NULL;
    dst->user = src->user ? xstrdup(src->user) : NULL;
    dst->password = src->password ? xstrdup(src->password) : NULL;
}

static int url_ok(const char *url)
{
    char origin[400];

    return url && strlen(url) <= 2000 && nf_origin(origin, sizeof(origin), url) == 0;
}

int nf_endpoint_parse(struct nf_endpoint *e, const char *text)
{
    json_t *doc, *ep, *auth, *h;
    const char *url;

    memset(e, 0, sizeof(*e));
    if (text == NULL || *text == 0)
        return -1;
    doc = json_loads(text, 0, NULL);
    ep = json_object_get(doc, "endPoint");
    if (!json_is_object(ep))
        ep = doc;
    url = json_string_value(json_object_get(ep, "url"));
    if (!json_is_object(ep) || !url_ok(url)) {
        json_decref(doc);
        return -1;
    }
    e->url = xstrdup(url);
    h = json_object_get(ep, "headers");
    if (json_is_object(h) && json_object_size(h) > 0)
        e->headers = json_incref(h);
    auth = json_object_get(ep, "authentication");
    if (json_is_object(auth) && json_string_value(json_object_get(auth, "user"))) {
        e->user = xstrdup(json_string_value(json_object_get(auth, "user")));
        if (json_string_value(json_object_get(auth, "password")))
            e->password = xstrdup(json_string_value(json_object_get(auth, "password")));
    }
    json_decref(doc);
    return 0;
}

/* ---- jobs --------------------------------------------------------------- */

static void job_clear(struct nf_job *j)
{
    xfree(j->reference_job);
    xfree(j->cost_center);
    xfree(j->campaign_id);
    nf_endpoint_free(&j->ep);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void jobs_trim(void)
{
    int64_t now = time_mono_ms();

    for (int b = 0; b < NF_BUCKETS; b++) {
        struct jnode **pp = &jobs[b];
        while (*pp) {
            struct jnode *n = *pp;
            if (njobs > NF_CACHE_MAX / 2 || now - n->j.loaded_mono > notify_conf.cache_ttl) {
                *pp = n->next;
                job_clear(&n->j);
                xfree(n);
                njobs--;
            } else {
                pp = &n->next;
            }
        }
    }
}

enum tx_code nf_job_get(const char *job_id, struct nf_job **out)
{
    unsigned h = hash(job_id);
    struct jnode *n;
    struct db_res *r = NULL;
    enum tx_code rc;
    int64_t now = time_mono_ms();

    for (n = jobs[h]; n; n = n->next)
        if (strcmp(n->j.id, job_id) == 0)
            break;
    if (n && now - n->j.loaded_mono <= notify_conf.cache_ttl) {
        *out = &n->j;
        return TX_OK;
    }
    rc = db_query(batchloop_db(), &r,
                  "SELECT account_id, ROUND(UNIX_TIMESTAMP(received_at) * 1000), reference_job, "
                  "cost_center, campaign_id, notification FROM job WHERE job_id = ?",
                  "s", job_id);
    if (rc != TX_OK) {
        if (n) { /* stale but usable */
            *out = &n->j;
            return TX_OK;
        }
        return rc;
    }
    if (db_res_rows(r) != 1) {
        db_res_free(r);
        return TX_RETRY_NOT_READY;
    }
    if (n == NULL) {
        static unsigned inserts;
        /* expired entries go every 1,024 new jobs, so the cache holds about
         * notify_cache_ttl worth of jobs, not NF_CACHE_MAX at any rate */
        if (njobs >= NF_CACHE_MAX || (++inserts & 1023) == 0)
            jobs_trim();
        n = xcalloc(1, sizeof(*n));
        snprintf(n->j.id, sizeof(n->j.id), "%s", job_id);
        n->next = jobs[h];
        jobs[h] = n;
        njobs++;
    } else {
        job_clear(&n->j);
    }
    n->j.account_id = db_res_int(r, 0, 0, 0);
    n->j.received_ms = db_res_int(r, 0, 1, 0);
    n->j.reference_job = dup_or_null(db_res_get(r, 0, 2));
    n->j.cost_center = dup_or_null(db_res_get(r, 0, 3));
    n->j.campaign_id = dup_or_null(db_res_get(r, 0, 4));
    if (db_res_get(r, 0, 5) && nf_endpoint_parse(&n->j.ep, db_res_get(r, 0, 5)) < 0)
        msg_warn("%s: job notification endpoint unusable; the account default applies", job_id);
    n->j.loaded_mono = now;
    db_res_free(r);
    *out = &n->j;
    return TX_OK;
}

/* ---- accounts ----------------------------------------------------------- */

static void account_clear(struct nf_account *a)
{
    xfree(a->name);
    xfree(a->customer_no);
    xfree(a->tenant);
    json_decref(a->event_types);
    nf_endpoint_free(&a->def);
    if (a->secret)
        xwipestr(a->secret);
    if (a->secret_prev)
        xwipestr(a->secret_prev);
    a->secret = a->secret_prev = NULL;
}

enum tx_code nf_account_get(long long id, struct nf_account **out)
{
    char key[32];
    unsigned h;
    struct anode *n;
    struct db_res *r = NULL;
    enum tx_code rc;
    int64_t now = time_mono_ms();

    snprintf(key, sizeof(key), "%lld", id);
    h = hash(key);
    for (n = accounts[h]; n; n = n->next)
        if (n->a.id == id)
            break;
    if (n && now - n->a.loaded_mono <= notify_conf.cache_ttl) {
        *out = &n->a;
        return TX_OK;
    }
    rc = db_query(batchloop_db(), &r,
                  "SELECT name, customer_no, tenant, settings, notify_url, notify_headers, "
                  "notify_user, notify_password, webhook_secret, webhook_secret_prev, "
                  "ROUND(UNIX_TIMESTAMP(webhook_secret_rotated_at) * 1000) FROM account WHERE id = ?",
                  "i", id);
    if (rc != TX_OK) {
        if (n) {
            *out = &n->a;
            return TX_OK;
        }
        return rc;
    }
    if (db_res_rows(r) != 1) {
        db_res_free(r);
        return TX_RETRY_NOT_READY;
    }
    if (n == NULL) {
        n = xcalloc(1, sizeof(*n));
        n->a.id = id;
        n->next = accounts[h];
        accounts[h] = n;
    } else {
        account_clear(&n->a);
    }
    struct nf_account *a = &n->a;
    a->name = xstrdup(db_res_get(r, 0, 0) ? db_res_get(r, 0, 0) : "");
    a->customer_no = xstrdup(db_res_get(r, 0, 1) ? db_res_get(r, 0, 1) : "");
    a->tenant = dup_or_null(db_res_get(r, 0, 2));
    json_t *settings = account_settings(db_res_get(r, 0, 3));
    json_t *types = json_object_get(settings, "notifyEventTypes");
    a->event_types = json_is_array(types) ? json_incref(types) : NULL;
    json_decref(settings);
    memset(&a->def, 0, sizeof(a->def));
    if (url_ok(db_res_get(r, 0, 4))) {
        a->def.url = xstrdup(db_res_get(r, 0, 4));
        if (db_res_get(r, 0, 5)) {
            json_t *hd = json_loads(db_res_get(r, 0, 5), 0, NULL);
            if (json_is_object(hd) && json_object_size(hd))
                a->def.headers = hd;
            else
                json_decref(hd);
        }
        a->def.user = dup_or_null(db_res_get(r, 0, 6));
        a->def.password = dup_or_null(db_res_get(r, 0, 7));
    } else if (db_res_get(r, 0, 4) && *db_res_get(r, 0, 4)) {
        msg_warn("account %lld: default notification URL unusable", id);
    }
    a->secret = dup_or_null(db_res_get(r, 0, 8));
    a->secret_prev = dup_or_null(db_res_get(r, 0, 9));
    a->rotated_ms = db_res_get(r, 0, 10) ? db_res_int(r, 0, 10, 0) : 0;
    a->loaded_mono = now;
    db_res_free(r);
    *out = a;
    return TX_OK;
}

int nf_type_wanted(const struct nf_account *a, const char *type, const char *subtype)
{
    size_t i;
    json_t *v;
    char both[80];

    if (a->event_types == NULL)
        return 1;
    snprintf(both, sizeof(both), "%s.%s", type ? type : "", subtype ? subtype : "");
    json_array_foreach(a->event_types, i, v) {
        const char *s = json_string_value(v);
        if (s && ((type && strcmp(s, type) == 0) || strcmp(s, both) == 0))
            return 1;
    }
    return 0;
}
