/* txmailctl - internal interfaces between the command files. */
#ifndef TXMAILCTL_H
#define TXMAILCTL_H

#include "global/db.h"

#include <stdint.h>

/* the longest allow-list credential.allowed_ips (TEXT) holds */
#define CTL_ALLOW_IP_MAX 65535

/* parameters (txmailctl.c) */
struct txmailctl_conf {
    char *schema_dir;
    long long partitions_ahead;
    int64_t retention_ms;
};
extern struct txmailctl_conf txmailctl_conf;

struct db *txmailctl_open_db(void);
int txmailctl_db_main(int argc, char **argv);
int txmailctl_account_main(int argc, char **argv);
int txmailctl_account_credential_main(int argc, char **argv);
int txmailctl_domain_main(int argc, char **argv);
int txmailctl_mq_main(int argc, char **argv);
int txmailctl_report_main(int argc, char **argv);      /* txmailctl_report.c */
int txmailctl_suppression_main(int argc, char **argv); /* txmailctl_suppression.c */
int txmailctl_deadletter_main(int argc, char **argv);  /* txmailctl_deadletter.c */
int txmailctl_smime_main(int argc, char **argv);       /* txmailctl_smime.c */
/* txmailctl_account_id - id of the named account, or -1 (message printed) */
long long txmailctl_account_id(struct db *db, const char *name);
/* txmailctl_need_master_key - die unless master_key_file is configured */
void txmailctl_need_master_key(void);
/* txmailctl_die - print "txmailctl: ..." to stderr and exit 1 */
void txmailctl_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* txmailctl_read_secret - a secret from a file path ("-" = stdin). Ownership: new. */
char *txmailctl_read_secret(const char *path);

#endif
