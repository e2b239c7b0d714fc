/*
 * txmailctl_domain - sender domains: DKIM key generation (RSA-2048 by
 * default, Ed25519 optional), DNS records to publish, A/MX check through
 * the configured resolver.
 */
#include "admin/txmailctl/txmailctl.h"
#include "global/crypto.h"
#include "global/dnsq.h"
#include "global/txconf.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dkim_key {
    char *pem;        /* private key, PKCS#8 PEM */
    char *public_b64; /* p= value */
};

static const char *opt_value(int *i, int argc, char **argv)
{
    if (*i + 1 >= argc)
        txmailctl_die("%s needs a value", argv[*i]);
    return argv[++*i];
}

/* valid_domain - LDH labels, at least two, lowercase it in place */
static int valid_domain(char *d)
{
    size_t n = strlen(d), label = 0;
    int labels = 1;

    if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = (char)tolower((unsigned char)d[i]);
        if (d[i] == '.') {
            if (label == 0 || d[i - 1] == '-')
                return 0;
            labels++;
            label = 0;
            continue;
        }
        if (!(isalnum((unsigned char)d[i]) || d[i] == '-') || (label == 0 && d[i] == '-'))
            return 0;
        if (++label > 63)
            return 0;
    }
    return labels >= 2 && d[n - 1] != '-';
}

static int valid_selector(const char *s)
{
    if (!*s || strlen(s) > 63)
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static void generate(struct dkim_key *k, int ed25519, int bits)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA, NULL);
    struct buf b = BUF_INIT(8192);

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
        (!ed25519 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0) ||
        EVP_PKEY_keygen(ctx, &pkey) <= 0)
        txmailctl_die("cannot generate the DKIM key");
    EVP_PKEY_CTX_free(ctx);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    k->pem = xstrndup(data, (size_t)len);
    BIO_free(bio);
    if (ed25519) {
        unsigned char raw[32];
        size_t rlen = sizeof(raw);
        EVP_PKEY_get_raw_public_key(pkey, raw, &rlen);
        codec_b64_encode(&b, raw, rlen);
    } else {
        unsigned char *der = NULL;
        int dlen = i2d_PUBKEY(pkey, &der);
        codec_b64_encode(&b, der, (size_t)dlen);
        OPENSSL_free(der);
    }
    k->public_b64 = buf_steal(&b, NULL);
    EVP_PKEY_free(pkey);
}

static void print_records(const char *domain, const char *sel, const char *pub, const char *edsel,
                          const char *edpub)
{
    printf("\nDNS records to publish for %s:\n", domain);
    if (sel && pub)
        printf("  %s._domainkey.%s. IN TXT \"v=DKIM1; k=rsa; p=%s\"\n", sel, domain, pub);
    if (edsel && edpub)
        printf("  %s._domainkey.%s. IN TXT \"v=DKIM1; k=ed25519; p=%s\"\n", edsel, domain, edpub);
    printf("  %s. IN TXT \"v=spf1 a:%s ~all\"\n", domain, txconf.myhostname);
    printf("  _dmarc.%s. IN TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@%s\"  (suggestion: "
           "tighten to p=quarantine once reports are clean)\n",
           domain, domain);
}

static void check_dns(const char *domain)
{
    int a = dnsq_count(txconf.dns_servers, domain, ns_t_a);
    int aaaa = dnsq_count(txconf.dns_servers, domain, ns_t_aaaa);
    int mx = dnsq_count(txconf.dns_servers, domain, ns_t_mx);

    if (a < 0 || aaaa < 0 || mx < 0)
        fprintf(stderr, "txmailctl: warning: DNS lookups for %s failed; not checked\n", domain);
    else {
        if (a == 0 && aaaa == 0)
            fprintf(stderr, "txmailctl: warning: %s has no A or AAAA record\n", domain);
        if (mx == 0)
            fprintf(stderr, "txmailctl: warning: %s has no MX record\n", domain);
    }
}

static int domain_add(int argc, char **argv)
{
    char domain[256], sel[64] = "", *relay = NULL, *tracking = NULL, *bounce = NULL, *msgid = NULL;
    const char *policy = "deliver";
    int ed25519 = 0, tls = 0, bits = 2048;
    struct dkim_key rsa = {0}, ed = {0};
    struct buf enc_rsa = BUF_INIT(16384), enc_ed = BUF_INIT(16384);

    if (argc < 2)
        txmailctl_die("domain add: expected ACCOUNT DOMAIN");
    snprintf(domain, sizeof(domain), "%s", argv[1]);
    if (strlen(argv[1]) > 253 || !valid_domain(domain))
        txmailctl_die("\"%s\" is not a valid domain name (LDH labels, at least two)", argv[1]);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--selector") == 0) {
            snprintf(sel, sizeof(sel), "%s", opt_value(&i, argc, argv));
            if (!valid_selector(sel))
                txmailctl_die("--selector: use 1-63 of A-Z a-z 0-9 - _");
        } else if (strcmp(argv[i], "--ed25519") == 0)
            ed25519 = 1;
        else if (strcmp(argv[i], "--rsa-bits") == 0) {
            char *end;
            long v = strtol(opt_value(&i, argc, argv), &end, 10);
            if (*end || (v != 1024 && v != 2048 && v != 3072 && v != 4096))
                txmailctl_die("--rsa-bits: 1024, 2048, 3072 or 4096");
            bits = (int)v;
        } else if (strcmp(argv[i], "--tls-enforced") == 0)
            tls = 1;
        else if (strcmp(argv[i], "--relay-host") == 0)
            relay = (char *)opt_value(&i, argc, argv);
        else if (strcmp(argv[i], "--tracking-host") == 0)
            tracking = (char *)opt_value(&i, argc, argv);
        else if (strcmp(argv[i], "--bounce-domain") == 0) {
            bounce = (char *)opt_value(&i, argc, argv);
            if (!valid_domain(bounce))
                txmailctl_die("--bounce-domain: not a valid domain name");
        } else if (strcmp(argv[i], "--message-id-domain") == 0) {
            msgid = (char *)opt_value(&i, argc, argv);
            if (!valid_domain(msgid))
                txmailctl_die("--message-id-domain: not a valid domain name");
        } else if (strcmp(argv[i], "--dkim-policy") == 0) {
            policy = opt_value(&i, argc, argv);
            if (strcmp(policy, "deliver") != 0 && strcmp(policy, "drop") != 0)
                txmailctl_die("--dkim-policy: deliver or drop");
        } else
            txmailctl_die("domain add: unknown option %s", argv[i]);
    }
    if (tracking && strncmp(tracking, "https://", 8) != 0 && strncmp(tracking, "http://", 7) != 0)
        txmailctl_die("--tracking-host: expected a base URL such as https://t.example.com");
    txmailctl_need_master_key();
    struct db *db = txmailctl_open_db();
    long long id = txmailctl_account_id(db, argv[0]);
    if (id < 0)
        txmailctl_die("no account \"%s\"", argv[0]);
    if (!*sel) {
        char day[16];
        timeutil_day(day, sizeof(day), timeutil_now_ms());
        snprintf(sel, sizeof(sel), "tx%.4s%.2s", day, day + 5);
    }
    generate(&rsa, 0, bits);
    if (crypto_secret_encrypt(&enc_rsa, rsa.pem, strlen(rsa.pem)) < 0)
        txmailctl_die("cannot encrypt the DKIM key");
    char edsel[70] = "";
    if (ed25519) {
        generate(&ed, 1, 0);
        snprintf(edsel, sizeof(edsel), "%.60sed", sel);
        if (crypto_secret_encrypt(&enc_ed, ed.pem, strlen(ed.pem)) < 0)
            txmailctl_die("cannot encrypt the DKIM key");
    }
    if (db_exec(db,
                "INSERT INTO sender_domain (account_id, domain, dkim_selector, dkim_key, "
                "dkim_public, dkim_ed_selector, dkim_ed_key, dkim_ed_public, dkim_policy, "
                "tls_enforced, relay_host, tracking_host, bounce_domain, message_id_domain, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(3))",
                "issbssbssissss", id, domain, sel, enc_rsa.data, enc_rsa.len, rsa.public_b64,
                ed25519 ? edsel : NULL, ed25519 ? enc_ed.data : NULL, enc_ed.len,
                ed25519 ? ed.public_b64 : NULL, policy, (long long)tls, relay, tracking, bounce,
                msgid) != TX_OK) {
        if (db_errno(db) == DB_ER_DUP_ENTRY)
            txmailctl_die("domain %s is registered for account %s already", domain, argv[0]);
        txmailctl_die("database error: %s", db_error(db));
    }
    printf("domain %s added to account %s (DKIM %s-%d selector %s%s%s)\n", domain, argv[0], "rsa",
           bits, sel, ed25519 ? ", ed25519 selector " : "", ed25519 ? edsel : "");
    print_records(domain, sel, rsa.public_b64, ed25519 ? edsel : NULL, ed.public_b64);
    check_dns(domain);
    xwipestr(rsa.pem);
    xwipestr(ed.pem);
    xfree(rsa.public_b64);
    xfree(ed.public_b64);
    buf_free(&enc_rsa);
    buf_free(&enc_ed);
    return 0;
}

static int domain_list(int argc, char **argv)
{
    struct db *db = txmailctl_open_db();
    struct db_res *r;

    if (db_query(db, &r,
                 "SELECT a.name, d.domain, d.dkim_selector, d.tls_enforced, "
                 "COALESCE(d.relay_host, '-') FROM sender_domain d JOIN account a "
                 "ON a.id = d.account_id WHERE ? IS NULL OR a.name = ? ORDER BY a.name, d.domain",
                 "ss", argc > 0 ? argv[0] : NULL, argc > 0 ? argv[0] : NULL) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    printf("%-24s %-32s %-14s %-4s %s\n", "ACCOUNT", "DOMAIN", "SELECTOR", "TLS", "RELAY");
    for (size_t i = 0; i < db_res_rows(r); i++)
        printf("%-24s %-32s %-14s %-4s %s\n", db_res_get(r, i, 0), db_res_get(r, i, 1),
               db_res_get(r, i, 2), db_res_int(r, i, 3, 0) ? "yes" : "no", db_res_get(r, i, 4));
    db_res_free(r);
    return 0;
}

static int domain_show(const char *name)
{
    struct db *db = txmailctl_open_db();
    struct db_res *r;
    char domain[256];

    snprintf(domain, sizeof(domain), "%s", name);
    if (!valid_domain(domain))
        txmailctl_die("\"%s\" is not a valid domain name", name);
    if (db_query(db, &r,
                 "SELECT a.name, d.id, d.dkim_selector, d.dkim_public, d.dkim_ed_selector, "
                 "d.dkim_ed_public, d.dkim_policy, d.tls_enforced, d.relay_host, "
                 "d.tracking_host, d.bounce_domain, d.message_id_domain, d.created_at "
                 "FROM sender_domain d JOIN account a ON a.id = d.account_id "
                 "WHERE d.domain = ? ORDER BY a.name",
                 "s", domain) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    if (db_res_rows(r) == 0)
        txmailctl_die("domain %s is not registered", domain);
    for (size_t i = 0; i < db_res_rows(r); i++) {
#define V(c) (db_res_get(r, i, c) ? db_res_get(r, i, c) : "-")
        printf("domain:            %s\naccount:           %s\nprovisioning id:   %s\n"
               "DKIM selector:     %s\nDKIM policy:       %s\nTLS enforced:      %s\n"
               "relay host:        %s\ntracking host:     %s\nbounce domain:     %s\n"
               "Message-ID domain: %s\ncreated:           %s\n",
               domain, V(0), V(1), V(2), V(6), db_res_int(r, i, 7, 0) ? "yes" : "no", V(8), V(9),
               V(10), V(11), V(12));
        print_records(domain, db_res_get(r, i, 2), db_res_get(r, i, 3), db_res_get(r, i, 4),
                      db_res_get(r, i, 5));
#undef V
    }
    db_res_free(r);
    return 0;
}

int txmailctl_domain_main(int argc, char **argv)
{
    if (argc < 1)
        txmailctl_die("domain: expected add, list or show");
    if (strcmp(argv[0], "add") == 0)
        return domain_add(argc - 1, argv + 1);
    if (strcmp(argv[0], "list") == 0)
        return domain_list(argc - 1, argv + 1);
    if (strcmp(argv[0], "show") == 0 && argc == 2)
        return domain_show(argv[1]);
    txmailctl_die("domain: unknown or incomplete subcommand");
}
