/* auth - credentials, source IPs, sender domains; see auth.h. */
#include "global/auth.h"
#include "global/account.h"
#include "global/crypto.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define AUTH_CACHE_SIZE 256

int64_t auth_cache_ttl_ms = 60000;

struct cred_entry {
    unsigned char key[32];   /* SHA-256(user:password) */
    long long credential_id;
    int64_t expires;
};

struct domain_entry {
    long long account_id;
    char domain[254];
    struct sender_domain sd;
    int found;
    int64_t expires;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cred_entry creds[AUTH_CACHE_SIZE];
static struct domain_entry domains[AUTH_CACHE_SIZE];

void auth_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    memset(creds, 0, sizeof(creds));
    memset(domains, 0, sizeof(domains));
    pthread_mutex_unlock(&lock);
}

/* canonical_ip - normalise an address text so "::1" and "0::1" compare equal */
static int canonical_ip(const char *in, char *out, size_t outsz)
{
    unsigned char a[16];

    if (inet_pton(AF_INET, in, a) == 1)
        return inet_ntop(AF_INET, a, out, (socklen_t)outsz) ? 0 : -1;
    if (inet_pton(AF_INET6, in, a) == 1) {
        /* IPv4-mapped IPv6 (::ffff:1.2.3.4) is the IPv4 address */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0)
            return inet_ntop(AF_INET, a + 12, out, (socklen_t)outsz) ? 0 : -1;
        return inet_ntop(AF_INET6, a, out, (socklen_t)outsz) ? 0 : -1;
    }
    return -1;
}

int auth_ip_allowed(const char *list, const char *ip)
{
    char want[64], copy[4096], *save = NULL;

    if (list == NULL || *list == 0)
        return 1;
    if (ip == NULL || canonical_ip(ip, want, sizeof(want)) < 0)
        return 0;
    snprintf(copy, sizeof(copy), "%s", list);
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        char have[64];
        if (canonical_ip(t, have, sizeof(have)) == 0 && strcmp(have, want) == 0)
            return 1;
    }
    return 0;
}

static void copy_field(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src ? src : "");
}

/* load_account - the account and credential row by credential id */
static enum tx_code load(struct db *db, long long credential_id, const char *client_ip,
                         struct auth_account *out)
{
    struct db_res *r;
    enum tx_code rc;

    rc = db_query(db, &r,
                  "SELECT a.id, a.name, a.customer_no, a.tenant, a.settings, a.capacity_per_hour, "
                  "c.allowed_ips FROM credential c JOIN account a ON a.id = c.account_id "
                  "WHERE c.id = ? AND c.disabled = 0 AND a.disabled = 0", "i", credential_id);
    if (rc != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(r) != 1 || !auth_ip_allowed(db_res_get(r, 0, 6), client_ip)) {
        db_res_free(r);
        return TX_REJECT_POLICY;
    }
    memset(out, 0, sizeof(*out));
    out->id = db_res_int(r, 0, 0, 0);
    out->credential_id = credential_id;
    copy_field(out->name, sizeof(out->name), db_res_get(r, 0, 1));
    copy_field(out->customer_no, sizeof(out->customer_no), db_res_get(r, 0, 2));
    copy_field(out->tenant, sizeof(out->tenant), db_res_get(r, 0, 3));
    out->settings = account_settings(db_res_get(r, 0, 4));
    out->capacity_per_hour = db_res_int(r, 0, 5, 0);
    db_res_free(r);
    return TX_OK;
}

enum tx_code auth_basic(struct db *db, const char *user, const char *password,
                        const char *client_ip, struct auth_account *out)
{
    unsigned char key[32];
    struct buf kb = BUF_INIT(1024);
    long long cred = -1;
    int64_t now = time_now_ms();
    struct db_res *r;
    enum tx_code rc;

    if (user == NULL || password == NULL || !*user || strlen(user) > 100 || strlen(password) > 512)
        return TX_REJECT_POLICY;
    buf_puts(&kb, user);
    buf_putc(&kb, ':');
    buf_puts(&kb, password);
    sha256(key, kb.data, kb.len);
    explicit_bzero(kb.data, kb.len);
    buf_free(&kb);
    unsigned slot = (unsigned)(key[0] | key[1] << 8) % AUTH_CACHE_SIZE;
    pthread_mutex_lock(&lock);
    if (creds[slot].expires > now && ct_equal(creds[slot].key, key, 32))
        cred = creds[slot].credential_id;
    pthread_mutex_unlock(&lock);
    if (cred < 0) {
        rc = db_query(db, &r, "SELECT id, pw_hash FROM credential WHERE username = ? AND disabled = 0",
                      "s", user);
        if (rc != TX_OK)
            return TX_RETRY_DB;
        if (db_res_rows(r) == 1 && pwhash_verify(password, db_res_get(r, 0, 1)))
            cred = db_res_int(r, 0, 0, -1);
        db_res_free(r);
        if (cred < 0)
            return TX_REJECT_POLICY;
        pthread_mutex_lock(&lock);
        memcpy(creds[slot].key, key, 32);
        creds[slot].credential_id = cred;
        creds[slot].expires = now + auth_cache_ttl_ms;
        pthread_mutex_unlock(&lock);
    }
    explicit_bzero(key, sizeof(key));
    return load(db, cred, client_ip, out);
}

enum tx_code auth_by_ip(struct db *db, const char *client_ip, struct auth_account *out)
{
    struct db_res *r;
    long long cred = -1;

    if (db_query(db, &r, "SELECT id, allowed_ips FROM credential WHERE ip_auth = 1 AND disabled = 0",
                 "") != TX_OK)
        return TX_RETRY_DB;
    for (size_t i = 0; i < db_res_rows(r); i++)
        if (auth_ip_allowed(db_res_get(r, i, 1), client_ip) && db_res_get(r, i, 1)) {
            cred = db_res_int(r, i, 0, -1);
            break;
        }
    db_res_free(r);
    if (cred < 0)
        return TX_REJECT_POLICY;
    return load(db, cred, client_ip, out);
}

void auth_account_free(struct auth_account *a)
{
    if (a == NULL)
        return;
    json_decref(a->settings);
    a->settings = NULL;
}

enum tx_code auth_sender_domain(struct db *db, long long account_id, const char *domain,
                                struct sender_domain *out)
{
    unsigned h = 5381;
    int64_t now = time_now_ms();
    struct db_res *r;

    for (const char *p = domain; *p; p++)
        h = h * 33 + (unsigned char)*p;
    h = (h + (unsigned)account_id) % AUTH_CACHE_SIZE;
    pthread_mutex_lock(&lock);
    if (domains[h].expires > now && domains[h].account_id == account_id &&
        strcmp(domains[h].domain, domain) == 0) {
        int found = domains[h].found;
        *out = domains[h].sd;
        pthread_mutex_unlock(&lock);
        return found ? TX_OK : TX_REJECT_POLICY;
    }
    pthread_mutex_unlock(&lock);
    if (db_query(db, &r,
                 "SELECT id, domain, tls_enforced, relay_host, tracking_host, bounce_domain, "
                 "message_id_domain, dkim_policy, archive_bcc FROM sender_domain "
                 "WHERE account_id = ? AND domain = ?", "is", account_id, domain) != TX_OK)
        return TX_RETRY_DB;
    memset(out, 0, sizeof(*out));
    int found = db_res_rows(r) == 1;
    if (found) {
        out->id = db_res_int(r, 0, 0, 0);
        out->account_id = account_id;
        copy_field(out->domain, sizeof(out->domain), db_res_get(r, 0, 1));
        out->tls_enforced = (int)db_res_int(r, 0, 2, 0);
        copy_field(out->relay_host, sizeof(out->relay_host), db_res_get(r, 0, 3));
        copy_field(out->tracking_host, sizeof(out->tracking_host), db_res_get(r, 0, 4));
        copy_field(out->bounce_domain, sizeof(out->bounce_domain), db_res_get(r, 0, 5));
        copy_field(out->message_id_domain, sizeof(out->message_id_domain), db_res_get(r, 0, 6));
        copy_field(out->dkim_policy, sizeof(out->dkim_policy), db_res_get(r, 0, 7));
        copy_field(out->archive_bcc, sizeof(out->archive_bcc), db_res_get(r, 0, 8));
    }
    db_res_free(r);
    pthread_mutex_lock(&lock);
    domains[h].account_id = account_id;
    snprintf(domains[h].domain, sizeof(domains[h].domain), "%s", domain);
    domains[h].sd = *out;
    domains[h].found = found;
    domains[h].expires = now + auth_cache_ttl_ms;
    pthread_mutex_unlock(&lock);
    return found ? TX_OK : TX_REJECT_POLICY;
}
