/* auth - credentials and source IPs; see auth.h. */
#include "global/access/auth.h"
#include "global/account.h"
#include "global/access/authlimit.h"
#include "global/crypto.h"
#include "global/access/netaddr.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define AUTH_CACHE_SIZE 1024

int64_t auth_cache_ttl_ms = 60000;

struct cred_entry {
    unsigned char key[32];         /* SHA-256(user:password) */
    unsigned char stamp[32];       /* of the stored hash it was verified against */
    char group[AUTHLIMIT_KEY_MAX]; /* the client's address group (authlimit) */
    long long credential_id;
    int64_t expires;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cred_entry creds[AUTH_CACHE_SIZE];

/*
 * Checks in flight: concurrent logins with the same user and password
 * (a client opening many connections at once) share one KDF run. The
 * first runs it; the others wait for its result, at most FLIGHT_WAIT_MS.
 */
#define FLIGHTS 64
#define FLIGHT_WAIT_MS 5000

struct flight {
    unsigned char key[32];
    int used, done, ok, waiters;
};

static pthread_cond_t flight_cond = PTHREAD_COND_INITIALIZER;
static struct flight flights[FLIGHTS];

/* flight_find - the check in flight for key; lock held */
static struct flight *flight_find(const unsigned char *key)
{
    for (int i = 0; i < FLIGHTS; i++)
        if (flights[i].used && !flights[i].done && crypto_ct_equal(flights[i].key, key, 32))
            return &flights[i];
    return NULL;
}

/* flight_start - announce a check of key (NULL when the table is full); lock held */
static struct flight *flight_start(const unsigned char *key)
{
    for (int i = 0; i < FLIGHTS; i++)
        if (!flights[i].used) {
            memset(&flights[i], 0, sizeof(flights[i]));
            memcpy(flights[i].key, key, 32);
            flights[i].used = 1;
            return &flights[i];
        }
    return NULL;
}

/* flight_end - the check of f is over: ok 1/0, or -1 without a result */
static void flight_end(struct flight *f, int ok)
{
    pthread_mutex_lock(&lock);
    f->done = 1;
    f->ok = ok;
    if (f->waiters == 0)
        f->used = 0;
    pthread_cond_broadcast(&flight_cond);
    pthread_mutex_unlock(&lock);
}

/* flight_wait - wait for the check in flight of key: 1/0 its result, -1 none (or no such check) */
static int flight_wait(const unsigned char *key)
{
    struct timespec until;
    struct flight *f;
    int result = -1;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += FLIGHT_WAIT_MS / 1000;
    pthread_mutex_lock(&lock);
    if ((f = flight_find(key)) != NULL) {
        f->waiters++;
        while (!f->done && pthread_cond_timedwait(&flight_cond, &lock, &until) == 0)
            ;
        if (f->done)
            result = f->ok;
        if (--f->waiters == 0 && f->done)
            f->used = 0;
    }
    pthread_mutex_unlock(&lock);
    return result;
}

void auth_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    memset(creds, 0, sizeof(creds));
    pthread_mutex_unlock(&lock);
}

int auth_ip_allowed(const char *list, const char *ip)
{
    struct netaddr want, have;
    const char *p, *e;

    if (list == NULL)
        return 1;
    if (ip == NULL || netaddr_parse(&want, ip, strlen(ip)) < 0)
        return 0;
    /* the whole list, however long: entries are read in place */
    for (p = list; *p; p = e) {
        while (*p == ',' || *p == ' ')
            p++;
        for (e = p; *e && *e != ',' && *e != ' '; e++)
            ;
        if (netaddr_parse(&have, p, (size_t)(e - p)) == 0 && netaddr_equal(&have, &want))
            return 1;
    }
    return 0;
}

static void copy_field(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src ? src : "");
}

/* fill - the account of a row whose columns from "first" on are ACCOUNT_COLUMNS */
#define ACCOUNT_COLUMNS "a.id, a.name, a.customer_no, a.tenant, a.settings, a.capacity_per_hour"
static void fill(struct db_res *r, int first, long long credential_id, struct auth_account *out)
{
    memset(out, 0, sizeof(*out));
    out->id = db_res_int(r, 0, first, 0);
    out->credential_id = credential_id;
    copy_field(out->name, sizeof(out->name), db_res_get(r, 0, first + 1));
    copy_field(out->customer_no, sizeof(out->customer_no), db_res_get(r, 0, first + 2));
    copy_field(out->tenant, sizeof(out->tenant), db_res_get(r, 0, first + 3));
    out->settings = account_settings(db_res_get(r, 0, first + 4));
    out->capacity_per_hour = db_res_int(r, 0, first + 5, 0);
    out->checked_ms = timeutil_mono_ms();
}

/* stamp_of - what identifies the stored password hash: SHA-256 of its text */
static void stamp_of(unsigned char stamp[32], const char *pw_hash)
{
    if (pw_hash)
        crypto_sha256(stamp, pw_hash, strlen(pw_hash));
    else
        memset(stamp, 0, 32);
}

/*
 * verify - the KDF, against the stored hash or, for a user that does not
 * exist (or is disabled), against a hash of the same cost that nothing
 * matches: the answer takes as long either way.
 */
static int verify(const char *password, const char *stored)
{
    static const unsigned char salt[16] = "txmail-no-user!";
    static const unsigned char hash[32] = "no password has this hash......";
    char dummy[160];
    struct buf s = BUF_INIT(64), h = BUF_INIT(64);

    if (stored)
        return crypto_pwhash_verify(password, stored);
    codec_b64_encode(&s, salt, sizeof(salt));
    codec_b64_encode(&h, hash, sizeof(hash));
    snprintf(dummy, sizeof(dummy), "pbkdf2-sha256$%d$%s$%s", PWHASH_ITERATIONS, buf_ptr(&s),
             buf_ptr(&h));
    buf_free(&s);
    buf_free(&h);
    (void)crypto_pwhash_verify(password, dummy);
    return 0;
}

/* login_key - SHA-256(user:password), the key of the cache and of the checks in flight */
static void login_key(unsigned char key[32], const char *user, const char *password)
{
    struct buf kb = BUF_INIT(1024);

    buf_puts(&kb, user);
    buf_putc(&kb, ':');
    buf_puts(&kb, password);
    crypto_sha256(key, kb.data, kb.len);
    explicit_bzero(kb.data, kb.len);
    buf_free(&kb);
}

/* cache_fresh - the cache slot holds key, unexpired; lock held */
static int cache_fresh(unsigned slot, const unsigned char *key, int64_t now)
{
    return creds[slot].expires > now && crypto_ct_equal(creds[slot].key, key, 32);
}

/*
 * claim_kdf - step 2 of auth_basic: a login the cache cannot answer needs a
 * KDF run: the result of the same login in flight (*shared 1/0, else left
 * at -1), else a KDF slot (*slot_held) and the announcement of the check
 * (*flight, NULL when another got there first or the table is full).
 * Returns 0, or -1 when no KDF slot is free (no database read either).
 */
static int claim_kdf(const unsigned char *key, unsigned slot, int64_t now, int64_t mono,
                     int *shared, int *slot_held, struct flight **flight)
{
    int cached, in_flight;

    pthread_mutex_lock(&lock);
    cached = cache_fresh(slot, key, now);
    in_flight = !cached && flight_find(key) != NULL;
    pthread_mutex_unlock(&lock);
    if (in_flight) {
        *shared = flight_wait(key);
        pthread_mutex_lock(&lock);
        cached = cache_fresh(slot, key, now);
        pthread_mutex_unlock(&lock);
    }
    if (cached || *shared >= 0)
        return 0;
    if (!authlimit_kdf_enter(mono))
        return -1;
    *slot_held = 1;
    pthread_mutex_lock(&lock);
    if (flight_find(key) == NULL)
        *flight = flight_start(key);
    pthread_mutex_unlock(&lock);
    return 0;
}

/*
 * cache_verified - step 3 of auth_basic: the same password was verified a
 * moment ago against the same stored hash of credential cred; *same_group
 * 1 when from the client's address group
 */
static int cache_verified(unsigned slot, const unsigned char *key, int64_t now, long long cred,
                          const unsigned char *stamp, const char *group, int *same_group)
{
    int hit = 0;

    pthread_mutex_lock(&lock);
    if (cred >= 0 && cache_fresh(slot, key, now) && creds[slot].credential_id == cred &&
        memcmp(creds[slot].stamp, stamp, 32) == 0) {
        hit = 1;
        *same_group = strcmp(creds[slot].group, group) == 0;
    }
    pthread_mutex_unlock(&lock);
    return hit;
}

/* cache_put - remember a password verified by the KDF */
static void cache_put(unsigned slot, const unsigned char *key, const unsigned char *stamp,
                      const char *group, long long cred, int64_t now)
{
    pthread_mutex_lock(&lock);
    memcpy(creds[slot].key, key, 32);
    memcpy(creds[slot].stamp, stamp, 32);
    snprintf(creds[slot].group, sizeof(creds[slot].group), "%s", group);
    creds[slot].credential_id = cred;
    creds[slot].expires = now + auth_cache_ttl_ms;
    pthread_mutex_unlock(&lock);
}

/*
 * read_credential - the enabled credential of user and its account (*r,
 * columns: id, pw_hash, allowed_ips, ACCOUNT_COLUMNS); *cred and *stored
 * (borrowed from *r) when there is exactly one. TX_OK or TX_RETRY_DB.
 * Ownership: *r is new, as from db_query (the caller frees it).
 */
static enum tx_code read_credential(struct db *db, const char *user, struct db_res **r,
                                    long long *cred, const char **stored)
{
    if (db_query(db, r,
                 "SELECT c.id, c.pw_hash, c.allowed_ips, " ACCOUNT_COLUMNS " FROM credential c "
                 "JOIN account a ON a.id = c.account_id "
                 "WHERE c.username = ? AND c.disabled = 0 AND a.disabled = 0",
                 "s", user) != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(*r) == 1) {
        *cred = db_res_int(*r, 0, 0, -1);
        *stored = db_res_get(*r, 0, 1);
    }
    return TX_OK;
}

/* user_key - the user's authlimit key: its credential (however the name was spelt), else the name */
static void user_key(char *ukey, size_t size, long long cred, const char *user)
{
    if (cred >= 0)
        snprintf(ukey, size, "id:%lld", cred);
    else
        snprintf(ukey, size, "name:%s", user);
}

enum tx_code auth_basic(struct db *db, const char *user, const char *password,
                        const char *client_ip, struct auth_account *out, int *retry_after)
{
    unsigned char key[32], stamp[32];
    char group[AUTHLIMIT_KEY_MAX], ukey[AUTHLIMIT_KEY_MAX];
    int64_t now = timeutil_now_ms(), mono = timeutil_mono_ms(), kdf_start = 0;
    struct db_res *r = NULL;
    const char *stored = NULL;
    long long cred = -1;
    int hit = 0, same_group = 0, ok = 0, slot_held = 0, shared = -1;
    struct flight *flight = NULL;
    enum tx_code rc;

    *retry_after = 0;
    if (user == NULL || password == NULL || !*user || strlen(user) > 100 || strlen(password) > 512)
        return TX_REJECT_POLICY;
    if (client_ip == NULL)
        client_ip = "-";
    /* 1. an address group that failed too often is refused before anything is read */
    if ((*retry_after = authlimit_blocked(AUTHLIMIT_ADDR, client_ip, mono)) > 0)
        return TX_RETRY_THROTTLED;
    netaddr_group_text(client_ip, group, sizeof(group));
    login_key(key, user, password);
    unsigned slot = (unsigned)(key[0] | key[1] << 8) % AUTH_CACHE_SIZE;
    /* 2. the same login in flight, else a KDF slot; none free, no database read either */
    if (claim_kdf(key, slot, now, mono, &shared, &slot_held, &flight) < 0) {
        rc = TX_RETRY_UNAVAILABLE;
        goto busy;
    }
    if (read_credential(db, user, &r, &cred, &stored) != TX_OK) {
        rc = TX_RETRY_DB;
        goto out;
    }
    user_key(ukey, sizeof(ukey), cred, user);
    stamp_of(stamp, stored);
    /* 3. verified a moment ago: the same password against the same stored hash */
    hit = cache_verified(slot, key, now, cred, stamp, group, &same_group);
    /*
     * 4. a user that failed too often is refused, except from where its
     * password was verified a moment ago: the cache answers only the right
     * password, so that tells an attacker elsewhere nothing
     */
    if ((*retry_after = authlimit_blocked(AUTHLIMIT_USER, ukey, mono)) > 0 && !same_group) {
        rc = TX_RETRY_THROTTLED;
        goto out;
    }
    *retry_after = 0;
    /*
     * 5. the KDF (the cached entry may be of an older password), unless the
     * same login in flight failed a moment ago (had it succeeded, the
     * cache would have answered)
     */
    if (!hit && shared == 0) {
        ok = 0;
    } else if (!hit) {
        if (!slot_held && !authlimit_kdf_enter(timeutil_mono_ms())) {
            rc = TX_RETRY_UNAVAILABLE;
            goto busy;
        }
        slot_held = 1;
        kdf_start = timeutil_mono_ms();
        ok = verify(password, stored);
    }
    if (!(hit || ok) || !auth_ip_allowed(db_res_get(r, 0, 2), client_ip)) {
        authlimit_failed(AUTHLIMIT_ADDR, client_ip, mono);
        authlimit_failed(AUTHLIMIT_USER, ukey, mono);
        rc = TX_REJECT_POLICY;
        goto out;
    }
    if (!hit && ok)
        cache_put(slot, key, stamp, group, cred, now);
    fill(r, 3, cred, out);
    memcpy(out->stamp, stamp, 32);
    rc = TX_OK;
    goto out;
busy:
    *retry_after = 1;
out:
    if (flight)
        flight_end(flight, kdf_start ? ok : -1); /* the password's verdict, not the address's */
    if (slot_held) {
        int64_t end = timeutil_mono_ms();
        authlimit_kdf_leave(kdf_start ? kdf_start : end, end);
    }
    explicit_bzero(key, sizeof(key));
    db_res_free(r);
    return rc;
}

enum tx_code auth_by_ip(struct db *db, const char *client_ip, struct auth_account *out)
{
    struct db_res *r;
    long long cred = -1;
    enum tx_code rc;

    if (db_query(db, &r,
                 "SELECT id, allowed_ips FROM credential WHERE ip_auth = 1 AND disabled = 0",
                 "") != TX_OK)
        return TX_RETRY_DB;
    for (size_t i = 0; i < db_res_rows(r); i++)
        if (db_res_get(r, i, 1) && auth_ip_allowed(db_res_get(r, i, 1), client_ip)) {
            cred = db_res_int(r, i, 0, -1);
            break;
        }
    db_res_free(r);
    if (cred < 0)
        return TX_REJECT_POLICY;
    rc = db_query(db, &r,
                  "SELECT c.id, c.allowed_ips, c.ip_auth, " ACCOUNT_COLUMNS " FROM credential c "
                  "JOIN account a ON a.id = c.account_id "
                  "WHERE c.id = ? AND c.disabled = 0 AND a.disabled = 0",
                  "i", cred);
    if (rc != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(r) != 1 || db_res_get(r, 0, 1) == NULL ||
        !auth_ip_allowed(db_res_get(r, 0, 1), client_ip)) {
        db_res_free(r);
        return TX_REJECT_POLICY;
    }
    fill(r, 3, cred, out);
    out->by_ip = 1;
    db_res_free(r);
    return TX_OK;
}

enum tx_code auth_recheck(struct db *db, struct auth_account *a, const char *client_ip)
{
    unsigned char stamp[32];
    struct db_res *r;
    int valid;

    if (db_query(db, &r,
                 "SELECT c.pw_hash, c.allowed_ips, c.ip_auth FROM credential c "
                 "JOIN account a ON a.id = c.account_id "
                 "WHERE c.id = ? AND c.account_id = ? AND c.disabled = 0 AND a.disabled = 0",
                 "ii", a->credential_id, a->id) != TX_OK)
        return TX_RETRY_DB;
    valid = db_res_rows(r) == 1 && auth_ip_allowed(db_res_get(r, 0, 1), client_ip);
    if (valid && a->by_ip) {
        valid = db_res_int(r, 0, 2, 0) == 1 && db_res_get(r, 0, 1) != NULL;
    } else if (valid) {
        stamp_of(stamp, db_res_get(r, 0, 0));
        valid = crypto_ct_equal(stamp, a->stamp, 32);
    }
    db_res_free(r);
    if (!valid)
        return TX_REJECT_POLICY;
    a->checked_ms = timeutil_mono_ms();
    return TX_OK;
}

int auth_recheck_due(const struct auth_account *a, int64_t interval_ms)
{
    return timeutil_mono_ms() - a->checked_ms >= interval_ms;
}

void auth_account_free(struct auth_account *a)
{
    if (a == NULL)
        return;
    json_decref(a->settings);
    a->settings = NULL;
}
