/*
 * txmailctl_smime - S/MIME signing certificates (contract §16.5; table
 * smime_cert, schema/008_smime.sql; lib/global/smime/smime.h):
 *
 *   smime add ACCOUNT ADDRESS --cert FILE --key FILE [--chain FILE]
 *   smime list ACCOUNT
 *   smime remove ACCOUNT ADDRESS
 *
 * add refuses a key that does not belong to the certificate, a
 * certificate that is not valid now, and one that does not name ADDRESS
 * (subjectAltName rfc822Name, else the subject's emailAddress); it
 * replaces the certificate of ADDRESS when there is one. The key is
 * stored encrypted under master_key_file and never printed; list shows
 * the subject, validity and fingerprint.
 */
#include "admin/txmailctl/txmailctl.h"
#include "global/addr.h"
#include "global/crypto.h"
#include "global/smime/smime.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX (1 << 20)

static void usage(void)
{
    fprintf(stderr, "usage: txmailctl smime add ACCOUNT ADDRESS --cert FILE --key FILE "
                    "[--chain FILE]\n"
                    "       txmailctl smime list ACCOUNT\n"
                    "       txmailctl smime remove ACCOUNT ADDRESS\n");
    exit(2);
}

/* slurp - the whole of path into b (at most PEM_MAX octets) */
static void slurp(struct buf *b, const char *path)
{
    FILE *fp = fopen(path, "r");
    char chunk[4096];
    size_t n;

    if (fp == NULL)
        txmailctl_die("cannot open %s: %m", path);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (buf_append(b, chunk, n) < 0)
            txmailctl_die("%s: larger than %d octets", path, PEM_MAX);
    explicit_bzero(chunk, sizeof(chunk));
    if (ferror(fp))
        txmailctl_die("cannot read %s: %m", path);
    fclose(fp);
    if (b->len == 0)
        txmailctl_die("%s is empty", path);
}

static void address(char *out, size_t outsz, const char *in)
{
    struct addr a;

    if (addr_parse_bare(in, strlen(in), &a) < 0)
        txmailctl_die("%s: expected a bare email address", in);
    addr_lower(out, outsz, a.bare);
}

static const char *sqlts(char *out, size_t outsz, int64_t ms)
{
    char iso[40];
    timeutil_iso8601(iso, sizeof(iso), ms);
    /* "2025-05-14T08:55:50.817Z" -> "2025-05-14 08:55:50.817" */
    iso[10] = ' ';
    iso[strlen(iso) - 1] = 0;
    snprintf(out, outsz, "%s", iso);
    return out;
}

static int add(struct db *db, long long acct, const char *acct_name, int argc, char **argv)
{
    struct buf cert = BUF_INIT(PEM_MAX), key = BUF_INIT(PEM_MAX), chain = BUF_INIT(PEM_MAX);
    struct buf enc = BUF_INIT(4 * PEM_MAX);
    const char *cf = NULL, *kf = NULL, *chf = NULL;
    struct smime_signer s;
    char addr[256], err[300], fp[65], nb[40], na[40], subj[1024];

    if (argc < 1)
        usage();
    address(addr, sizeof(addr), argv[0]);
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--cert") == 0)
            cf = argv[++i];
        else if (strcmp(argv[i], "--key") == 0)
            kf = argv[++i];
        else if (strcmp(argv[i], "--chain") == 0)
            chf = argv[++i];
        else
            usage();
    }
    if (cf == NULL || kf == NULL)
        usage();
    txmailctl_need_master_key();
    slurp(&cert, cf);
    slurp(&key, kf);
    if (chf)
        slurp(&chain, chf);
    if (smime_signer_parse(&s, cert.data, cert.len, key.data, key.len, chain.data, chain.len, err,
                           sizeof(err)) < 0 ||
        smime_signer_check(&s, addr, timeutil_now_ms(), err, sizeof(err)) < 0)
        txmailctl_die("smime add %s: %s; nothing stored", addr, err);
    if (crypto_secret_encrypt(&enc, key.data, key.len) < 0)
        txmailctl_die("cannot encrypt the key");
    explicit_bzero(key.data, key.len);
    smime_signer_fingerprint(&s, fp);
    X509_NAME_oneline(X509_get_subject_name(s.cert), subj, sizeof(subj));
    buf_putc(&cert, 0);
    if (chain.len)
        buf_putc(&chain, 0);
    if (db_exec(db,
                "INSERT INTO smime_cert (account_id, address, cert_pem, chain_pem, key_enc, "
                "subject, fingerprint, not_before, not_after, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(3)) ON DUPLICATE KEY UPDATE "
                "cert_pem = VALUES(cert_pem), chain_pem = VALUES(chain_pem), "
                "key_enc = VALUES(key_enc), subject = VALUES(subject), "
                "fingerprint = VALUES(fingerprint), not_before = VALUES(not_before), "
                "not_after = VALUES(not_after), created_at = NOW(3)",
                "isssbssss", acct, addr, cert.data, chain.len ? chain.data : NULL, enc.data,
                enc.len, subj, fp, sqlts(nb, sizeof(nb), s.not_before_ms),
                sqlts(na, sizeof(na), s.not_after_ms)) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    printf("signing certificate for %s %s (account %s, %s, valid until %sZ, sha256 %s)\n", addr,
           db_affected(db) == 1 ? "added" : "replaced", acct_name, subj, na, fp);
    smime_signer_free(&s);
    buf_free(&cert);
    buf_free(&key);
    buf_free(&chain);
    buf_free(&enc);
    return 0;
}

static int list(struct db *db, long long acct)
{
    struct db_res *r;

    if (db_query(db, &r,
                 "SELECT address, DATE_FORMAT(not_before, '%Y-%m-%dT%H:%i:%sZ'), "
                 "DATE_FORMAT(not_after, '%Y-%m-%dT%H:%i:%sZ'), fingerprint, subject, "
                 "IF(not_after <= UTC_TIMESTAMP(3), 'expired', 'valid') "
                 "FROM smime_cert WHERE account_id = ? ORDER BY address",
                 "i", acct) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    printf("%-40s %-21s %-21s %-8s %-64s %s\n", "ADDRESS", "NOT_BEFORE", "NOT_AFTER", "STATE",
           "SHA256", "SUBJECT");
    for (size_t i = 0; i < db_res_rows(r); i++)
        printf("%-40s %-21s %-21s %-8s %-64s %s\n", db_res_get(r, i, 0), db_res_get(r, i, 1),
               db_res_get(r, i, 2), db_res_get(r, i, 5), db_res_get(r, i, 3),
               db_res_get(r, i, 4) ? db_res_get(r, i, 4) : "-");
    fprintf(stderr, "%zu certificates\n", db_res_rows(r));
    db_res_free(r);
    return 0;
}

static int remove_cert(struct db *db, long long acct, const char *in)
{
    char addr[256];

    address(addr, sizeof(addr), in);
    if (db_exec(db, "DELETE FROM smime_cert WHERE account_id = ? AND address = ?", "is", acct,
                addr) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    if (db_affected(db) == 0)
        txmailctl_die("no signing certificate for %s", addr);
    printf("signing certificate for %s removed\n", addr);
    return 0;
}

int txmailctl_smime_main(int argc, char **argv)
{
    struct db *db;
    long long acct;

    if (argc < 2)
        usage();
    db = txmailctl_open_db();
    if ((acct = txmailctl_account_id(db, argv[1])) < 0)
        txmailctl_die("no account %s", argv[1]);
    if (strcmp(argv[0], "add") == 0)
        return add(db, acct, argv[1], argc - 2, argv + 2);
    if (strcmp(argv[0], "list") == 0 && argc == 2)
        return list(db, acct);
    if (strcmp(argv[0], "remove") == 0 && argc == 3)
        return remove_cert(db, acct, argv[2]);
    usage();
    return 2;
}
