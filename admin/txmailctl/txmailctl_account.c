/* txmailctl_account - account and credential commands. */
#include "admin/txmailctl/txmailctl.h"
#include "global/account.h"
#include "global/addr.h"
#include "global/crypto.h"
#include "global/ids.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_name(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.' || *s == '@'))
            return 0;
    return 1;
}

/* ip_list_empty - a list without a single entry (it allows nobody, auth.h) */
static int ip_list_empty(const char *list)
{
    return strspn(list, ", ") == strlen(list);
}

static const char *opt_value(int *i, int argc, char **argv)
{
    if (*i + 1 >= argc)
        txmailctl_die("%s needs a value", argv[*i]);
    return argv[++*i];
}

/* check_address_setting - settings key must be null or a bare address (local@domain) */
static void check_address_setting(json_t *merged, const char *key)
{
    json_t *v = json_object_get(merged, key);
    struct addr a;

    if (v == NULL || json_is_null(v))
        return;
    if (!json_is_string(v) || json_string_length(v) > 254 ||
        addr_parse_bare(json_string_value(v), json_string_length(v), &a) < 0)
        txmailctl_die("--settings: %s must be null or an address (local@domain)", key);
}

/* merged_settings - validate JSON text and return it compact. Ownership: new. */
static char *checked_settings(const char *base, const char *update)
{
    json_error_t err;
    json_t *b = base && *base ? json_loads(base, 0, NULL) : json_object();
    json_t *u = json_loads(update, 0, &err);
    char *out;

    if (u == NULL || !json_is_object(u))
        txmailctl_die("--settings: not a JSON object: %s", u ? "" : err.text);
    if (b == NULL)
        b = json_object();
    json_object_update_recursive(b, u);
    json_t *merged = account_settings(NULL);
    json_object_update_recursive(merged, b);
    /* type checks of the members every program relies on */
    if (!json_is_object(json_object_get(merged, "features")) ||
        !json_is_object(json_object_get(merged, "defaults")) ||
        !json_is_array(json_object_get(merged, "forbiddenRecipients")) ||
        !json_is_array(json_object_get(merged, "forbiddenExtensions")) ||
        !json_is_integer(json_object_get(merged, "trackingWindowDays")))
        txmailctl_die("--settings: features/defaults must be objects, forbidden* arrays, "
                      "trackingWindowDays an integer");
    check_address_setting(merged, "replyForward");
    check_address_setting(merged, "adminEmail");
    json_decref(merged);
    out = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    json_decref(u);
    return out;
}

static void check_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        txmailctl_die("--notify-url: expected an http or https URL");
    if (strlen(url) > 1000)
        txmailctl_die("--notify-url: longer than 1000 characters");
}

static int account_add(int argc, char **argv)
{
    struct db *db;
    const char *name, *customer = "", *tenant = NULL, *settings = NULL, *notify = NULL;
    long long capacity = 0;
    unsigned char secret[32];
    char hx[65];
    struct buf enc = BUF_INIT(1024);

    if (argc < 1)
        txmailctl_die("account add: expected NAME");
    name = argv[0];
    if (!valid_name(name, 100))
        txmailctl_die("account name \"%s\": use 1-100 of A-Z a-z 0-9 _ - . @", name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--customer-no") == 0)
            customer = opt_value(&i, argc, argv);
        else if (strcmp(argv[i], "--tenant") == 0)
            tenant = opt_value(&i, argc, argv);
        else if (strcmp(argv[i], "--settings") == 0)
            settings = opt_value(&i, argc, argv);
        else if (strcmp(argv[i], "--notify-url") == 0)
            check_url(notify = opt_value(&i, argc, argv));
        else if (strcmp(argv[i], "--capacity") == 0) {
            char *end;
            capacity = strtoll(opt_value(&i, argc, argv), &end, 10);
            if (*end || capacity < 0)
                txmailctl_die("--capacity: expected a non-negative integer");
        } else
            txmailctl_die("account add: unknown option %s", argv[i]);
    }
    if (strlen(customer) > 50)
        txmailctl_die("--customer-no: longer than 50 characters");
    txmailctl_need_master_key();
    char *stored = checked_settings(NULL, settings ? settings : "{}");
    ids_random_bytes(secret, sizeof(secret));
    codec_hex_encode(hx, secret, sizeof(secret));
    if (crypto_secret_encrypt(&enc, hx, 64) < 0)
        txmailctl_die("cannot encrypt the webhook secret");
    db = txmailctl_open_db();
    if (db_exec(db,
                "INSERT INTO account (name, customer_no, tenant, capacity_per_hour, settings, "
                "notify_url, webhook_secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, NOW(3))",
                "sssissb", name, customer, tenant, capacity, stored, notify, enc.data,
                enc.len) != TX_OK) {
        if (db_errno(db) == DB_ER_DUP_ENTRY)
            txmailctl_die("account \"%s\" exists already", name);
        txmailctl_die("database error: %s", db_error(db));
    }
    printf("account %s created (id %lld)\n", name, db_insert_id(db));
    printf("webhook secret (shown once; notifications are signed with it): %s\n", hx);
    explicit_bzero(hx, sizeof(hx));
    explicit_bzero(secret, sizeof(secret));
    buf_free(&enc);
    free(stored);
    return 0;
}

static int account_set(int argc, char **argv)
{
    struct db *db = txmailctl_open_db();
    struct db_res *r;

    if (argc < 1)
        txmailctl_die("account set: expected NAME");
    long long id = txmailctl_account_id(db, argv[0]);
    if (id < 0)
        txmailctl_die("no account \"%s\"", argv[0]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--settings") == 0) {
            const char *upd = opt_value(&i, argc, argv);
            if (db_query(db, &r, "SELECT settings FROM account WHERE id = ?", "i", id) != TX_OK)
                txmailctl_die("database error: %s", db_error(db));
            char *stored = checked_settings(db_res_get(r, 0, 0), upd);
            db_res_free(r);
            if (db_exec(db, "UPDATE account SET settings = ? WHERE id = ?", "si", stored, id) !=
                TX_OK)
                txmailctl_die("database error: %s", db_error(db));
            free(stored);
        } else if (strcmp(argv[i], "--notify-url") == 0) {
            const char *url = opt_value(&i, argc, argv);
            if (*url)
                check_url(url);
            if (db_exec(db, "UPDATE account SET notify_url = ? WHERE id = ?", "si",
                        *url ? url : NULL, id) != TX_OK)
                txmailctl_die("database error: %s", db_error(db));
        } else if (strcmp(argv[i], "--disable") == 0 || strcmp(argv[i], "--enable") == 0) {
            /* producers see it at the next request or SMTP transaction (auth_recheck) */
            if (db_exec(db, "UPDATE account SET disabled = ? WHERE id = ?", "ii",
                        (long long)(argv[i][2] == 'd'), id) != TX_OK)
                txmailctl_die("database error: %s", db_error(db));
        } else if (strcmp(argv[i], "--tenant") == 0) {
            if (db_exec(db, "UPDATE account SET tenant = ? WHERE id = ?", "si",
                        opt_value(&i, argc, argv), id) != TX_OK)
                txmailctl_die("database error: %s", db_error(db));
        } else
            txmailctl_die("account set: unknown option %s", argv[i]);
    }
    printf("account %s updated\n", argv[0]);
    return 0;
}

static int account_list(void)
{
    struct db *db = txmailctl_open_db();
    struct db_res *r;

    if (db_query(db, &r,
                 "SELECT a.id, a.name, a.customer_no, COALESCE(a.tenant, ''), "
                 "(SELECT COUNT(*) FROM credential c WHERE c.account_id = a.id), "
                 "(SELECT COUNT(*) FROM sender_domain d WHERE d.account_id = a.id) "
                 "FROM account a ORDER BY a.name",
                 "") != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    printf("%-6s %-30s %-12s %-20s %s\n", "ID", "NAME", "CUSTOMER", "TENANT",
           "CREDENTIALS/DOMAINS");
    for (size_t i = 0; i < db_res_rows(r); i++)
        printf("%-6s %-30s %-12s %-20s %s/%s\n", db_res_get(r, i, 0), db_res_get(r, i, 1),
               db_res_get(r, i, 2), db_res_get(r, i, 3), db_res_get(r, i, 4), db_res_get(r, i, 5));
    db_res_free(r);
    return 0;
}

static int account_show(const char *name)
{
    struct db *db = txmailctl_open_db();
    struct db_res *r;

    if (db_query(db, &r,
                 "SELECT id, name, customer_no, tenant, capacity_per_hour, settings, "
                 "notify_url, created_at, disabled FROM account WHERE name = ?",
                 "s", name) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    if (db_res_rows(r) != 1)
        txmailctl_die("no account \"%s\"", name);
    json_t *settings = account_settings(db_res_get(r, 0, 5));
    char *pretty = json_dumps(settings, JSON_INDENT(2) | JSON_SORT_KEYS);
    printf("id:          %s\nname:        %s\ncustomer no: %s\ntenant:      %s\n"
           "capacity/h:  %s\nnotify url:  %s\ncreated:     %s\nsettings:\n%s\n",
           db_res_get(r, 0, 0), db_res_get(r, 0, 1), db_res_get(r, 0, 2),
           db_res_get(r, 0, 3) ? db_res_get(r, 0, 3) : "-", db_res_get(r, 0, 4),
           db_res_get(r, 0, 6) ? db_res_get(r, 0, 6) : "-", db_res_get(r, 0, 7), pretty);
    free(pretty);
    json_decref(settings);
    if (db_res_int(r, 0, 8, 0))
        printf("disabled:    yes\n");
    long long id = db_res_int(r, 0, 0, 0);
    db_res_free(r);
    if (db_query(db, &r,
                 "SELECT username, COALESCE(allowed_ips, 'any'), ip_auth, disabled FROM credential "
                 "WHERE account_id = ? ORDER BY username",
                 "i", id) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    for (size_t i = 0; i < db_res_rows(r); i++)
        printf("credential:  %s (from %s%s%s)\n", db_res_get(r, i, 0),
               ip_list_empty(db_res_get(r, i, 1)) ? "nowhere: empty allow-list"
                                                  : db_res_get(r, i, 1),
               db_res_int(r, i, 2, 0) ? ", source-IP authentication" : "",
               db_res_int(r, i, 3, 0) ? ", disabled" : "");
    db_res_free(r);
    if (db_query(db, &r, "SELECT domain FROM sender_domain WHERE account_id = ? ORDER BY domain",
                 "i", id) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    for (size_t i = 0; i < db_res_rows(r); i++)
        printf("domain:      %s\n", db_res_get(r, i, 0));
    db_res_free(r);
    return 0;
}

int txmailctl_account_main(int argc, char **argv)
{
    if (argc < 1)
        txmailctl_die("account: expected add, set, list or show");
    if (strcmp(argv[0], "add") == 0)
        return account_add(argc - 1, argv + 1);
    if (strcmp(argv[0], "set") == 0)
        return account_set(argc - 1, argv + 1);
    if (strcmp(argv[0], "list") == 0)
        return account_list();
    if (strcmp(argv[0], "show") == 0 && argc == 2)
        return account_show(argv[1]);
    txmailctl_die("account: unknown or incomplete subcommand");
}

/*
 * check_ips - at least one entry, every comma-separated entry one IPv4 or
 * IPv6 address, and the whole list fits the column (allowed_ips TEXT):
 * never stored cut short
 */
static void check_ips(const char *list)
{
    char *copy, *save = NULL;
    unsigned char addr[16];

    if (ip_list_empty(list))
        txmailctl_die("--allow-ip: the list is empty (it would allow no address; leave --allow-ip "
                      "out to allow any)");
    if (strlen(list) > CTL_ALLOW_IP_MAX)
        txmailctl_die("--allow-ip: the list has %zu characters, at most %d fit", strlen(list),
                      CTL_ALLOW_IP_MAX);
    copy = xstrdup(list);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (inet_pton(AF_INET, t, addr) != 1 && inet_pton(AF_INET6, t, addr) != 1)
            txmailctl_die("--allow-ip: \"%s\" is not an IPv4 or IPv6 address (no ranges)", t);
    xfree(copy);
}

static char *new_hash(const char *pwfile)
{
    char *pw = txmailctl_read_secret(pwfile);
    char *hash;

    if (strlen(pw) < 8)
        txmailctl_die("the password must have at least 8 characters");
    hash = crypto_pwhash_create(pw, PWHASH_ITERATIONS);
    xwipestr(pw);
    return hash;
}

static int credential_add(int argc, char **argv)
{
    const char *pwfile = NULL, *ips = NULL;
    int ip_auth = 0;

    if (argc < 2)
        txmailctl_die("credential add: expected ACCOUNT USER --password-file FILE|-");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--password-file") == 0)
            pwfile = opt_value(&i, argc, argv);
        else if (strcmp(argv[i], "--allow-ip") == 0)
            check_ips(ips = opt_value(&i, argc, argv));
        else if (strcmp(argv[i], "--ip-auth") == 0)
            ip_auth = 1;
        else if (strcmp(argv[i], "--password") == 0)
            txmailctl_die(
                "passwords are never taken from the command line; use --password-file FILE or -");
        else
            txmailctl_die("credential add: unknown option %s", argv[i]);
    }
    if (!valid_name(argv[1], 100))
        txmailctl_die("user \"%s\": use 1-100 of A-Z a-z 0-9 _ - . @", argv[1]);
    if (pwfile == NULL)
        txmailctl_die("credential add: --password-file FILE (or - for standard input) is required");
    if (ip_auth && ips == NULL)
        txmailctl_die("--ip-auth needs --allow-ip");
    struct db *db = txmailctl_open_db();
    long long id = txmailctl_account_id(db, argv[0]);
    if (id < 0)
        txmailctl_die("no account \"%s\"", argv[0]);
    char *hash = new_hash(pwfile);
    if (db_exec(db,
                "INSERT INTO credential (account_id, username, pw_hash, allowed_ips, ip_auth, "
                "created_at) VALUES (?, ?, ?, ?, ?, NOW(3))",
                "isssi", id, argv[1], hash, ips, (long long)ip_auth) != TX_OK) {
        if (db_errno(db) == DB_ER_DUP_ENTRY)
            txmailctl_die("user \"%s\" exists already", argv[1]);
        txmailctl_die("database error: %s", db_error(db));
    }
    xfree(hash);
    printf("credential %s added to account %s%s%s\n", argv[1], argv[0],
           ips ? ", allowed from " : "", ips ? ips : "");
    return 0;
}

/*
 * credential_set - change a credential. The producers see the change at
 * the credential's next use (REST request, SMTP transaction): the old
 * password stops working at once.
 */
static int credential_set(int argc, char **argv)
{
    const char *pwfile = NULL, *ips = NULL;
    int any_ip = 0, ip_auth = -1, disabled = -1;
    struct db_res *r;

    if (argc < 1)
        txmailctl_die("credential set: expected USER");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--password-file") == 0)
            pwfile = opt_value(&i, argc, argv);
        else if (strcmp(argv[i], "--allow-ip") == 0)
            check_ips(ips = opt_value(&i, argc, argv));
        else if (strcmp(argv[i], "--any-ip") == 0)
            any_ip = 1;
        else if (strcmp(argv[i], "--ip-auth") == 0 || strcmp(argv[i], "--no-ip-auth") == 0)
            ip_auth = argv[i][2] == 'i';
        else if (strcmp(argv[i], "--disable") == 0 || strcmp(argv[i], "--enable") == 0)
            disabled = argv[i][2] == 'd';
        else if (strcmp(argv[i], "--password") == 0)
            txmailctl_die(
                "passwords are never taken from the command line; use --password-file FILE or -");
        else
            txmailctl_die("credential set: unknown option %s", argv[i]);
    }
    if (ips && any_ip)
        txmailctl_die("--allow-ip and --any-ip exclude each other");
    struct db *db = txmailctl_open_db();
    if (db_query(db, &r, "SELECT id, allowed_ips, ip_auth FROM credential WHERE username = ?", "s",
                 argv[0]) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    if (db_res_rows(r) != 1)
        txmailctl_die("no credential \"%s\"", argv[0]);
    long long id = db_res_int(r, 0, 0, -1);
    char *list = any_ip                ? NULL
                 : ips                 ? xstrdup(ips)
                 : db_res_get(r, 0, 1) ? xstrdup(db_res_get(r, 0, 1))
                                       : NULL;
    int auth_by_ip = ip_auth >= 0 ? ip_auth : (int)db_res_int(r, 0, 2, 0);
    db_res_free(r);
    if (auth_by_ip && (list == NULL || ip_list_empty(list)))
        txmailctl_die("source-IP authentication needs a non-empty --allow-ip list");
    char *hash = pwfile ? new_hash(pwfile) : NULL;
    /* one statement: no moment in which a half-changed credential is valid */
    if (db_exec(
            db,
            "UPDATE credential SET pw_hash = COALESCE(?, pw_hash), allowed_ips = ?, ip_auth = ?, "
            "disabled = IF(? < 0, disabled, ?) WHERE id = ?",
            "ssiiii", hash, list, (long long)auth_by_ip, (long long)disabled, (long long)disabled,
            id) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    xfree(hash);
    printf("credential %s updated (%s%s%s%s)\n", argv[0], pwfile ? "new password, " : "",
           list ? "allowed from " : "allowed from any address", list ? list : "",
           disabled < 0 ? ""
           : disabled   ? ", disabled"
                        : ", enabled");
    xfree(list);
    return 0;
}

int txmailctl_account_credential_main(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "add") == 0)
        return credential_add(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "set") == 0)
        return credential_set(argc - 1, argv + 1);
    txmailctl_die(
        "credential: expected add ACCOUNT USER --password-file FILE|- or set USER [options]");
}
