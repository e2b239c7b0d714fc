/*
 * txconf - parameters shared by every txmail program, and the common
 * command line: prog [-c config] [-o name=value]... [-n] [-v].
 *
 *   -c file   the configuration file (default $TXMAIL_CONF, else
 *             /etc/txmail/txmail.conf when it exists)
 *   -o n=v    override one parameter (repeatable)
 *   -n        check the configuration, print what differs from the
 *             defaults (secrets masked) and exit 0, or exit 1 naming
 *             file:line
 *   -v        verbose logging
 *
 * Shared parameters (defaults in brackets):
 *   broker_url [amqp://txmail@127.0.0.1:5672/]      broker, without password
 *   broker_password_file []                          broker password (secret)
 *   broker_reconnect_attempts [30]                   before a program gives up
 *   broker_send_timeout [30s]                        one write to the broker (publish,
 *                                                    ack) longer than this fails (a
 *                                                    broker alarm blocks publishers)
 *   db_socket [] db_host [127.0.0.1] db_port [3306]  MariaDB
 *   db_name [txmail] db_user [txmail] db_password_file []
 *   log_file []                                      stderr when empty
 *   metrics_dir []                                   Prometheus textfiles
 *   myhostname [localhost]                           HELO, greetings, Received
 *   message_id_domain [localhost]                    default Message-ID domain
 *   master_key_file []                               32-byte key for secrets at rest
 *   tracking_base_url [https://localhost]            default tracking host base
 *   tracking_keys_file []                            "id:hexkey" lines, newest first
 *   processing_region []                             report column 24
 *   suppress_exclude []                              enhanced codes whose bounces never
 *                                                    suppress ("5.7.1,5.7.*"; deliver, bounce)
 *   dns_servers []                                   host:port,... (system resolver when empty)
 */
#ifndef TX_TXCONF_H
#define TX_TXCONF_H

#include "global/db.h"
#include "util/cfg.h"

struct txconf {
    char *broker_url;
    char *broker_password;
    long long broker_reconnect_attempts;
    int64_t broker_send_timeout_ms;
    char *db_socket, *db_host, *db_name, *db_user, *db_password;
    long long db_port;
    char *log_file;
    char *metrics_dir;
    char *myhostname;
    char *message_id_domain;
    char *master_key;
    char *tracking_base_url;
    char *tracking_keys;
    char *processing_region;
    char *suppress_exclude;
    char *dns_servers;
    char *config_path;
    int verbose;
};

extern struct txconf txconf;
extern struct cfg_param txconf_params[];
extern const char *const txconf_programs[];

/*
 * txconf_init - msg_init, parse the common command line and load the
 * configuration with the shared table plus own (may be NULL). Returns
 * the index of the first non-option argument. With -n, prints and exits.
 * extra_opts: further getopt letters the caller handles through on_opt.
 */
int txconf_init(int argc, char **argv, const char *prog, struct cfg_param *own,
                const char *extra_opts, void (*on_opt)(int opt, const char *arg));
/* txconf_broker_url - broker_url with the password inserted. Ownership: new. */
char *txconf_broker_url(void);
/* txconf_db - connection parameters from the shared configuration */
void txconf_db(struct db_conf *c);

#endif
