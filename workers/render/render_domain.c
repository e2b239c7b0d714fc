/*
 * render_domain - sender domains as render needs them (the record of
 * lib/global/intake/senderdomain.h with its DKIM keys parsed), and envelope
 * rewrites, through a small locked cache shared by the handler threads.
 *
 * An entry is built again when the sender-domain record changes (the
 * record is cached for render_domain_cache_ttl, 60 s) and at the latest
 * after render_domain_cache_ttl, so key rotations and setting changes
 * take effect within a minute. A DKIM key is read, decrypted and parsed
 * only when it is new or changed (the record's fingerprint of the stored
 * key tells): a rebuild of an unchanged domain keeps the parsed key.
 * Entries are immutable once published; readers hold a reference, so a
 * rebuild never frees a key in use.
 *
 * With render_dkim_dns_check on, each key's published TXT record
 * (<selector>._domainkey.<domain>) is compared with the stored public
 * key when the key is loaded and then every
 * render_dkim_dns_check_interval (a mismatch is checked again within a
 * minute): a key whose record is missing or different is not used, and
 * the domain's policy decides (contract §10.4). A lookup that fails
 * (timeout, SERVFAIL) keeps the previous verdict (first time: usable).
 */
#include "workers/render/render.h"
#include "global/dnsq.h"
#include "global/intake/senderdomain.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BUCKETS 256
#define MAX_ENTRIES 4096

enum { DNS_UNKNOWN, DNS_OK, DNS_BAD };

struct key_slot {
    EVP_PKEY *pkey;
    enum dkim_alg alg;
    char selector[64];
    char *public_b64;
    char fp[65]; /* the record's fingerprint of the stored key */
    int dns;
    int64_t dns_checked_ms;
    char problem[240];
};

struct entry {
    struct render_domain pub; /* first: a render_domain * is an entry * */
    struct sender_domain rec; /* what it was built from */
    int rec_found;
    struct key_slot keys[2]; /* RSA, Ed25519 */
    int refs;
    int64_t loaded_ms;
    struct entry *next;
};

struct rw_entry {
    long long account_id;
    char *from;
    char *to; /* "" when not rewritten */
    int64_t loaded_ms;
    struct rw_entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table[BUCKETS];
static struct rw_entry *rw_table[BUCKETS];
static int nentries, nrw;

static void entry_free(struct entry *e)
{
    for (int i = 0; i < 2; i++) {
        EVP_PKEY_free(e->keys[i].pkey);
        xfree(e->keys[i].public_b64);
    }
    xfree(e);
}

/* unref - drop one reference; the caller holds the lock */
static void unref(struct entry *e)
{
    if (e && --e->refs == 0)
        entry_free(e);
}

void render_domain_release(struct render_domain *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&lock);
    unref((struct entry *)d);
    pthread_mutex_unlock(&lock);
}

void render_domain_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < BUCKETS; i++) {
        while (table[i]) {
            struct entry *e = table[i];
            table[i] = e->next;
            unref(e);
        }
        while (rw_table[i]) {
            struct rw_entry *r = rw_table[i];
            rw_table[i] = r->next;
            xfree(r->from);
            xfree(r->to);
            xfree(r);
        }
    }
    nentries = nrw = 0;
    pthread_mutex_unlock(&lock);
}

/* ---- the DNS check ---------------------------------------------------- */

/* strip_ws - copy without white space */
static void strip_ws(char *out, size_t outsz, const char *in, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len && o + 1 < outsz; i++)
        if (!isspace((unsigned char)in[i]))
            out[o++] = in[i];
    out[o] = 0;
}

/* record_has_key - 1 when the TXT record's p= tag equals pub */
static int record_has_key(const char *txt, size_t len, const char *pub)
{
    size_t i = 0;

    while (i < len) {
        size_t start = i;
        while (i < len && txt[i] != ';')
            i++;
        /* tag = value */
        const char *t = txt + start;
        size_t tl = i - start;
        while (tl && isspace((unsigned char)*t))
            t++, tl--;
        if (tl >= 2 && t[0] == 'p') {
            size_t k = 1;
            while (k < tl && isspace((unsigned char)t[k]))
                k++;
            if (k < tl && t[k] == '=') {
                char *v = xmalloc(tl + 1);
                strip_ws(v, tl + 1, t + k + 1, tl - k - 1);
                int same = strcmp(v, pub) == 0;
                xfree(v);
                return same;
            }
        }
        i++;
    }
    return 0;
}

/* dns_check - DNS_OK, DNS_BAD (no record, or none with this key), DNS_UNKNOWN (lookup failed) */
static int dns_check(const char *selector, const char *domain, const char *public_b64)
{
    unsigned char answer[8192];
    char name[400], pub[4096];
    ns_msg msg;
    int len, verdict = DNS_BAD;

    if (public_b64 == NULL || !*public_b64)
        return DNS_UNKNOWN; /* nothing to compare with: do not judge */
    strip_ws(pub, sizeof(pub), public_b64, strlen(public_b64));
    snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
    len = dnsq_query(txconf.dns_servers, name, ns_t_txt, answer, sizeof(answer));
    if (len <= 0)
        return len == 0 ? DNS_BAD : DNS_UNKNOWN;
    if (ns_initparse(answer, len, &msg) < 0)
        return DNS_UNKNOWN;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an) && verdict != DNS_OK; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_txt)
            continue;
        /* the record's character-strings, concatenated */
        const unsigned char *rd = ns_rr_rdata(rr);
        size_t rl = ns_rr_rdlen(rr), o = 0;
        char *txt = xmalloc(rl + 1);
        for (size_t p = 0; p < rl;) {
            size_t sl = rd[p++];
            if (sl > rl - p)
                sl = rl - p;
            memcpy(txt + o, rd + p, sl);
            o += sl;
            p += sl;
        }
        txt[o] = 0;
        if (record_has_key(txt, o, pub))
            verdict = DNS_OK;
        xfree(txt);
    }
    return verdict;
}

/* ---- loading ---------------------------------------------------------- */

static struct entry *find(long long id)
{
    for (struct entry *e = table[(unsigned long long)id % BUCKETS]; e; e = e->next)
        if (e->pub.id == id)
            return e;
    return NULL;
}

/* the stored keys of a domain, read only when a key is new or changed */
struct keyrow {
    struct db *db;
    long long id, account_id;
    struct db_res *res;
    int failed;
};

static struct db_res *keyrow_get(struct keyrow *k)
{
    if (k->res == NULL && !k->failed &&
        db_query(k->db, &k->res,
                 "SELECT dkim_key, dkim_public, dkim_ed_key, dkim_ed_public "
                 "FROM sender_domain WHERE id = ? AND account_id = ?",
                 "ii", k->id, k->account_id) != TX_OK) {
        k->res = NULL;
        k->failed = 1;
    }
    return k->res;
}

/*
 * load_key - the slot of the key the record names (selector, fp), reusing
 * the parsed key of old when it is the same, else read (columns col, col +
 * 1 of the key row) and parsed: 0, or -1 when the key row cannot be read.
 */
static int load_key(struct key_slot *slot, const struct key_slot *old, const char *domain,
                    const char *selector, const char *fp, struct keyrow *kr, size_t col,
                    const char *what)
{
    struct db_res *r;
    char err[160];

    memset(slot, 0, sizeof(*slot));
    if (!*selector || !*fp) {
        snprintf(slot->problem, sizeof(slot->problem), "no %s key", what);
        return 0;
    }
    snprintf(slot->selector, sizeof(slot->selector), "%s", selector);
    snprintf(slot->fp, sizeof(slot->fp), "%s", fp);
    if (old && old->pkey && strcmp(old->fp, slot->fp) == 0 &&
        strcmp(old->selector, slot->selector) == 0) {
        EVP_PKEY_up_ref(old->pkey);
        slot->pkey = old->pkey;
        slot->alg = old->alg;
        slot->public_b64 = old->public_b64 ? xstrdup(old->public_b64) : NULL;
        slot->dns = old->dns;
        slot->dns_checked_ms = old->dns_checked_ms;
        return 0;
    }
    if ((r = keyrow_get(kr)) == NULL)
        return -1;
    const char *blob = db_res_rows(r) ? db_res_get(r, 0, col) : NULL;
    size_t blen = blob ? db_res_len(r, 0, col) : 0;
    if (blob == NULL || blen == 0) {
        snprintf(slot->problem, sizeof(slot->problem), "no %s key", what);
        return 0;
    }
    const char *pub = db_res_get(r, 0, col + 1);
    slot->public_b64 = pub ? xstrdup(pub) : NULL;
    if (dkim_store_decrypt(&slot->pkey, &slot->alg, blob, blen, what, err, sizeof(err)) < 0) {
        snprintf(slot->problem, sizeof(slot->problem), "%s", err);
        msg_warn("sender domain %s: %s", domain, err);
        return 0;
    }
    msg_info("sender domain %s: %s DKIM key loaded (selector %s)", domain, what, selector);
    return 0;
}

/* check_key - refresh the DNS verdict when it is due */
static void check_key(struct key_slot *k, const char *domain, const char *what)
{
    int64_t now = timeutil_now_ms();
    int64_t every =
        k->dns == DNS_BAD && render_p.dkim_check_ms > 60000 ? 60000 : render_p.dkim_check_ms;

    if (!render_p.dkim_check || k->pkey == NULL)
        return;
    if (k->dns != DNS_UNKNOWN && now - k->dns_checked_ms < every)
        return;
    int v = dns_check(k->selector, domain, k->public_b64);
    if (v == DNS_UNKNOWN) {
        if (k->dns == DNS_UNKNOWN)
            msg_warn("sender domain %s: the %s DKIM record could not be looked up; signing", domain,
                     what);
        k->dns_checked_ms = now;
        return;
    }
    if (v != k->dns)
        msg_info("sender domain %s: the published %s DKIM record (%s._domainkey) %s", domain, what,
                 k->selector,
                 v == DNS_OK ? "matches the key" : "is missing or does not match the key");
    k->dns = v;
    k->dns_checked_ms = now;
}

/* load - the entry of record rec (found: 1, or 0 when not registered) */
static enum tx_code load(struct db *db, const struct sender_domain *rec, int found, long long id,
                         long long account_id, const struct entry *old, struct entry **out)
{
    struct keyrow kr = {db, id, account_id, NULL, 0};
    struct entry *e;

    e = xcalloc(1, sizeof(*e));
    e->pub.id = id;
    e->pub.account_id = account_id;
    e->rec = *rec;
    e->rec_found = found;
    e->refs = 1;
    e->loaded_ms = timeutil_now_ms();
    if (!found) {
        snprintf(e->pub.dkim_problem, sizeof(e->pub.dkim_problem),
                 "the sender domain is no longer registered");
        *out = e;
        return TX_OK;
    }
    e->pub.found = 1;
    snprintf(e->pub.domain, sizeof(e->pub.domain), "%s", rec->domain);
    if (load_key(&e->keys[0], old ? &old->keys[0] : NULL, e->pub.domain, rec->dkim_selector,
                 rec->dkim_fp, &kr, 0, "RSA") < 0 ||
        load_key(&e->keys[1], old ? &old->keys[1] : NULL, e->pub.domain, rec->dkim_ed_selector,
                 rec->dkim_ed_fp, &kr, 2, "Ed25519") < 0) {
        db_res_free(kr.res);
        entry_free(e);
        return TX_RETRY_DB;
    }
    db_res_free(kr.res);
    e->pub.policy_drop = strcasecmp(rec->dkim_policy, "drop") == 0;
    e->pub.tls_enforced = rec->tls_enforced;
    snprintf(e->pub.relay_host, sizeof(e->pub.relay_host), "%s", rec->relay_host);
    snprintf(e->pub.bounce_domain, sizeof(e->pub.bounce_domain), "%s", rec->bounce_domain);
    snprintf(e->pub.message_id_domain, sizeof(e->pub.message_id_domain), "%s",
             rec->message_id_domain);
    snprintf(e->pub.archive_bcc, sizeof(e->pub.archive_bcc), "%s", rec->archive_bcc);
    snprintf(e->pub.ip_pool, sizeof(e->pub.ip_pool), "%s", rec->ip_pool);
    snprintf(e->pub.tracking_host, sizeof(e->pub.tracking_host), "%s", rec->tracking_host);
    for (char *p = e->pub.bounce_domain; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    static const char *const what[] = {"RSA", "Ed25519"};
    char problems[480] = "";
    for (int i = 0; i < 2; i++) {
        struct key_slot *k = &e->keys[i];
        check_key(k, e->pub.domain, what[i]);
        if (k->pkey && k->dns != DNS_BAD) {
            struct dkim_key *s = &e->pub.sign[e->pub.nsign++];
            s->pkey = k->pkey;
            s->alg = k->alg;
            s->domain = e->pub.domain;
            s->selector = k->selector;
        } else if (k->pkey) {
            char sel[64], dom[254];
            snprintf(sel, sizeof(sel), "%s", k->selector);
            snprintf(dom, sizeof(dom), "%s", e->pub.domain);
            snprintf(k->problem, sizeof(k->problem),
                     "the published %s key (%.40s._domainkey.%.60s) is missing or does not match",
                     what[i], sel, dom);
        }
        if (i == 0 || (k->problem[0] && strncmp(k->problem, "no ", 3) != 0)) {
            size_t pl = strlen(problems);
            if (k->problem[0])
                snprintf(problems + pl, sizeof(problems) - pl, "%s%s", pl ? "; " : "", k->problem);
        }
    }
    snprintf(e->pub.dkim_problem, sizeof(e->pub.dkim_problem), "%s", problems);
    *out = e;
    return TX_OK;
}

enum tx_code render_domain_get(struct db *db, long long id, long long account_id,
                               struct render_domain **out)
{
    struct entry *e, *old, *fresh = NULL;
    struct sender_domain rec;
    int64_t now = timeutil_now_ms();
    enum tx_code rc;
    int found;

    rc = senderdomain_by_id(db, account_id, id, render_p.domain_ttl_ms, &rec);
    if (rc == TX_RETRY_DB)
        return rc;
    found = rc == TX_OK;
    pthread_mutex_lock(&lock);
    e = find(id);
    if (e && e->pub.account_id == account_id && e->rec_found == found &&
        memcmp(&e->rec, &rec, sizeof(rec)) == 0 && now - e->loaded_ms < render_p.domain_ttl_ms) {
        e->refs++;
        pthread_mutex_unlock(&lock);
        *out = &e->pub;
        return TX_OK;
    }
    old = e;
    if (old)
        old->refs++; /* keep its parsed keys alive while loading */
    pthread_mutex_unlock(&lock);

    rc = load(db, &rec, found, id, account_id,
              old && old->pub.account_id == account_id ? old : NULL, &fresh);

    pthread_mutex_lock(&lock);
    if (rc == TX_OK) {
        /* publish: replace whatever is there now */
        struct entry **pp = &table[(unsigned long long)id % BUCKETS];
        while (*pp && (*pp)->pub.id != id)
            pp = &(*pp)->next;
        if (*pp) {
            struct entry *gone = *pp;
            *pp = gone->next;
            unref(gone);
            nentries--;
        }
        if (nentries >= MAX_ENTRIES) {
            for (int i = 0; i < BUCKETS; i++)
                while (table[i]) {
                    struct entry *x = table[i];
                    table[i] = x->next;
                    unref(x);
                }
            nentries = 0;
        }
        fresh->next = table[(unsigned long long)id % BUCKETS];
        table[(unsigned long long)id % BUCKETS] = fresh;
        nentries++;
        fresh->refs++; /* the caller's */
        *out = &fresh->pub;
    }
    unref(old);
    pthread_mutex_unlock(&lock);
    return rc;
}

/* ---- envelope rewrites ------------------------------------------------ */

static unsigned rw_hash(long long account_id, const char *from)
{
    unsigned h = (unsigned)account_id * 2654435761u;

    for (const char *p = from; *p; p++)
        h = h * 31 + (unsigned char)*p;
    return h % BUCKETS;
}

enum tx_code render_domain_rewrite(struct db *db, long long account_id, const char *from, char *out,
                                   size_t outsz)
{
    char key[256];
    struct db_res *r;
    int64_t now = timeutil_now_ms();
    size_t i;

    for (i = 0; from[i] && i + 1 < sizeof(key); i++)
        key[i] = (char)tolower((unsigned char)from[i]);
    key[i] = 0;
    unsigned h = rw_hash(account_id, key);
    pthread_mutex_lock(&lock);
    for (struct rw_entry *e = rw_table[h]; e; e = e->next)
        if (e->account_id == account_id && strcmp(e->from, key) == 0 &&
            now - e->loaded_ms < render_p.domain_ttl_ms) {
            snprintf(out, outsz, "%s", e->to);
            pthread_mutex_unlock(&lock);
            return TX_OK;
        }
    pthread_mutex_unlock(&lock);

    if (db_query(db, &r,
                 "SELECT rewrite_from FROM envelope_rewrite WHERE account_id = ? AND "
                 "LOWER(from_addr) = ? LIMIT 1",
                 "is", account_id, key) != TX_OK)
        return TX_RETRY_DB;
    const char *to = db_res_rows(r) > 0 && db_res_get(r, 0, 0) ? db_res_get(r, 0, 0) : "";
    snprintf(out, outsz, "%s", to);
    db_res_free(r);

    pthread_mutex_lock(&lock);
    struct rw_entry **pp = &rw_table[h];
    while (*pp && !((*pp)->account_id == account_id && strcmp((*pp)->from, key) == 0))
        pp = &(*pp)->next;
    if (*pp) {
        xfree((*pp)->to);
        (*pp)->to = xstrdup(out);
        (*pp)->loaded_ms = now;
    } else {
        if (nrw >= MAX_ENTRIES) {
            for (int b = 0; b < BUCKETS; b++)
                while (rw_table[b]) {
                    struct rw_entry *x = rw_table[b];
                    rw_table[b] = x->next;
                    xfree(x->from);
                    xfree(x->to);
                    xfree(x);
                }
            nrw = 0;
            pp = &rw_table[h];
        }
        struct rw_entry *e = xcalloc(1, sizeof(*e));
        e->account_id = account_id;
        e->from = xstrdup(key);
        e->to = xstrdup(out);
        e->loaded_ms = now;
        e->next = rw_table[h];
        rw_table[h] = e;
        nrw++;
    }
    pthread_mutex_unlock(&lock);
    return TX_OK;
}
