/*
 * NAME
 *   txmailctl - txmail administration
 * SYNOPSIS
 *   txmailctl [-c config] [-o name=value]... COMMAND ...
 *
 *   db migrate                    apply pending schema migrations, then
 *                                 maintain partitions
 *   db status                     applied and pending migrations
 *   db partitions                 add daily partitions ahead, drop expired
 *                                 days; delete expired jobs, dead letters,
 *                                 delivery records, suppression entries
 *   account add NAME [--customer-no N] [--tenant T] [--settings JSON]
 *               [--notify-url URL] [--capacity N]
 *   account set NAME [--settings JSON] [--notify-url URL] [--tenant T]
 *               [--disable | --enable]
 *   account list | account show NAME
 *   credential add ACCOUNT USER --password-file FILE|- [--allow-ip IP,...]
 *               [--ip-auth]
 *   credential set USER [--password-file FILE|-] [--allow-ip IP,... | --any-ip]
 *               [--ip-auth | --no-ip-auth] [--disable | --enable]
 *                                 an allow-list names at least one address
 *                                 (at most 65535 characters); source-IP
 *                                 authentication needs one. Changes take
 *                                 effect at the credential's next use.
 *   domain add ACCOUNT DOMAIN [--selector S] [--ed25519] [--rsa-bits N]
 *               [--tls-enforced] [--relay-host H[:P]] [--tracking-host URL]
 *               [--bounce-domain D] [--message-id-domain D] [--dkim-policy P]
 *   domain list [ACCOUNT] | domain show DOMAIN
 *   mq declare                    declare the broker topology
 *   suppression list|export ACCOUNT [--type T]
 *   suppression add ACCOUNT ADDRESS [--reason TEXT] [--expires TS]
 *   suppression remove ACCOUNT ADDRESS | suppression import ACCOUNT FILE|-
 *                                 the suppression list (contract §13); export
 *                                 and import are CSV, import all or nothing
 *   deadletter list ACCOUNT | deadletter redeliver ACCOUNT TAG|--all
 *                                 notification dead letters (contract §11.2)
 *   report run --account A --date YYYY-MM-DD [--now] [--part-rows N]
 *                                 publish the report job (txmail-report builds
 *                                 it), or build it here with --now
 *   report list --account A [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 *   smime add ACCOUNT ADDRESS --cert FILE --key FILE [--chain FILE]
 *   smime list ACCOUNT | smime remove ACCOUNT ADDRESS
 *                                 S/MIME signing certificates (contract
 *                                 §16.5): add checks that the key matches,
 *                                 the certificate is valid now and names
 *                                 ADDRESS; the key is stored encrypted
 *
 * DESCRIPTION
 *   Operates txmail from day one. Every secret is read from a file or
 *   standard input, never from the command line, and is stored hashed
 *   (passwords: PBKDF2-HMAC-SHA256) or encrypted under master_key_file
 *   (DKIM keys, webhook secrets, S/MIME keys). Errors name what is wrong and exit 1;
 *   usage errors exit 2.
 * CONSUMES
 *   nothing from the broker.
 * PUBLISHES
 *   txmail.work: key notify, redelivered dead letters ("deadletter
 *   redeliver"); key report, "report run" without --now ("mq declare"
 *   declares the topology).
 * WRITES
 *   account, credential, sender_domain, schema_version and the schema
 *   itself (db migrate), daily partitions (db partitions), suppression,
 *   webhook_delivery (state redelivered), smime_cert; report, report_part,
 *   report_chunk ("report run --now").
 *
 * PARAMETERS
 *   txmailctl_schema_dir (/usr/share/txmail/schema)  migration files
 *   txmailctl_partitions_ahead (7)                   days of partitions ahead
 *   txmailctl_retention (45d)                        history kept
 *   and the shared parameters of txconf.h.
 * METRICS
 *   none (a command, not a service).
 */
#include "admin/txmailctl/txmailctl.h"
#include "global/crypto.h"
#include "global/txconf.h"
#include "util/cfg.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct txmailctl_conf txmailctl_conf;

static struct cfg_param txmailctl_params[] = {
    {"txmailctl_schema_dir", CFG_STR, &txmailctl_conf.schema_dir, "/usr/share/txmail/schema", 0, 0,
     0, "migration files", 0, 0},
    {"txmailctl_partitions_ahead", CFG_INT, &txmailctl_conf.partitions_ahead, "7", 1, 366, 0,
     "days of partitions created ahead", 0, 0},
    {"txmailctl_retention", CFG_TIME, &txmailctl_conf.retention_ms, "45d", 86400000,
     3650LL * 86400000, 0, "history kept", 0, 0},
    {0},
};

static struct db *the_db;

void txmailctl_die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "txmailctl: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

struct db *txmailctl_open_db(void)
{
    struct db_conf c;

    if (the_db)
        return the_db;
    txconf_db(&c);
    if ((the_db = db_open_retry(&c, 3)) == NULL)
        txmailctl_die("cannot connect to the database");
    return the_db;
}

void txmailctl_need_master_key(void)
{
    if (!*txconf.master_key)
        txmailctl_die("master_key_file is not configured: secrets cannot be stored encrypted");
    if (crypto_set_master_key(txconf.master_key) < 0)
        txmailctl_die("master_key_file must hold 64 hex digits");
}

char *txmailctl_read_secret(const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[1024];

    if (fp == NULL)
        txmailctl_die("cannot open %s: %m", path);
    if (fgets(line, sizeof(line), fp) == NULL)
        txmailctl_die("%s is empty", strcmp(path, "-") == 0 ? "standard input" : path);
    if (fp != stdin)
        fclose(fp);
    line[strcspn(line, "\r\n")] = 0;
    if (!*line)
        txmailctl_die("the secret is empty");
    char *s = xstrdup(line);
    explicit_bzero(line, sizeof(line));
    return s;
}

long long txmailctl_account_id(struct db *db, const char *name)
{
    struct db_res *r;
    long long id = -1;

    if (db_query(db, &r, "SELECT id FROM account WHERE name = ?", "s", name) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    if (db_res_rows(r) == 1)
        id = db_res_int(r, 0, 0, -1);
    db_res_free(r);
    return id;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: txmailctl [-c config] [-o name=value] COMMAND\n"
            "  db migrate | db status | db partitions\n"
            "  account add NAME [options] | account set NAME [options] | account list | account "
            "show NAME\n"
            "  credential add ACCOUNT USER --password-file FILE|- [--allow-ip IP,...] [--ip-auth]\n"
            "  credential set USER [--password-file FILE|-] [--allow-ip IP,...|--any-ip] "
            "[--ip-auth|--no-ip-auth]\n"
            "                 [--disable|--enable]\n"
            "  domain add ACCOUNT DOMAIN [options] | domain list [ACCOUNT] | domain show DOMAIN\n"
            "  mq declare\n"
            "  suppression list|export ACCOUNT [--type T] | suppression import ACCOUNT FILE|-\n"
            "  suppression add ACCOUNT ADDRESS [--reason TEXT] [--expires TS]\n"
            "  suppression remove ACCOUNT ADDRESS\n"
            "  deadletter list ACCOUNT | deadletter redeliver ACCOUNT TAG|--all\n"
            "  report run --account A --date YYYY-MM-DD [--now] | report list --account A\n"
            "  smime add ACCOUNT ADDRESS --cert FILE --key FILE [--chain FILE]\n"
            "  smime list ACCOUNT | smime remove ACCOUNT ADDRESS\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int i = txconf_init(argc, argv, "txmailctl", txmailctl_params, NULL, NULL);
    int rc;

    if (i >= argc)
        usage();
    const char *cmd = argv[i];
    if (strcmp(cmd, "db") == 0)
        rc = txmailctl_db_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "account") == 0)
        rc = txmailctl_account_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "credential") == 0)
        rc = txmailctl_account_credential_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "domain") == 0)
        rc = txmailctl_domain_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "mq") == 0)
        rc = txmailctl_mq_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "report") == 0)
        rc = txmailctl_report_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "suppression") == 0)
        rc = txmailctl_suppression_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "smime") == 0)
        rc = txmailctl_smime_main(argc - i - 1, argv + i + 1);
    else if (strcmp(cmd, "deadletter") == 0)
        rc = txmailctl_deadletter_main(argc - i - 1, argv + i + 1);
    else {
        fprintf(stderr, "txmailctl: unknown command \"%s\"\n", cmd);
        usage();
    }
    db_close(the_db);
    return rc;
}
