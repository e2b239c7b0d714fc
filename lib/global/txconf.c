/* txconf - shared parameters and command line; see txconf.h. */
#include "global/txconf.h"
#include "global/runtime/mq.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct txconf txconf;

struct cfg_param txconf_params[] = {
    {"broker_url", CFG_STR, &txconf.broker_url, "amqp://txmail@127.0.0.1:5672/", 0, 0, 0,
     "broker URL without password", 0, 0},
    {"broker_password_file", CFG_STR, &txconf.broker_password, "", 0, 0, CFG_SECRET_FILE,
     "broker password", 0, 0},
    {"broker_reconnect_attempts", CFG_INT, &txconf.broker_reconnect_attempts, "30", 1, 100000, 0,
     "reconnect attempts before giving up", 0, 0},
    {"broker_send_timeout", CFG_TIME, &txconf.broker_send_timeout_ms, "30s", 100, 3600000, 0,
     "deadline of one write to the broker (alarm)", 0, 0},
    {"db_socket", CFG_STR, &txconf.db_socket, "", 0, 0, 0, "MariaDB unix socket", 0, 0},
    {"db_host", CFG_STR, &txconf.db_host, "127.0.0.1", 0, 0, 0, "MariaDB host", 0, 0},
    {"db_port", CFG_INT, &txconf.db_port, "3306", 1, 65535, 0, "MariaDB port", 0, 0},
    {"db_name", CFG_STR, &txconf.db_name, "txmail", 0, 0, 0, "database name", 0, 0},
    {"db_user", CFG_STR, &txconf.db_user, "txmail", 0, 0, 0, "database user", 0, 0},
    {"db_password_file", CFG_STR, &txconf.db_password, "", 0, 0, CFG_SECRET_FILE,
     "database password", 0, 0},
    {"log_file", CFG_STR, &txconf.log_file, "", 0, 0, 0, "log file (stderr when empty)", 0, 0},
    {"metrics_dir", CFG_STR, &txconf.metrics_dir, "", 0, 0, 0, "directory for Prometheus textfiles",
     0, 0},
    {"myhostname", CFG_STR, &txconf.myhostname, "localhost", 0, 0, 0, "host name in greetings", 0,
     0},
    {"message_id_domain", CFG_STR, &txconf.message_id_domain, "localhost", 0, 0, 0,
     "default Message-ID domain", 0, 0},
    {"master_key_file", CFG_STR, &txconf.master_key, "", 0, 0, CFG_SECRET_FILE,
     "hex key encrypting secrets at rest", 0, 0},
    {"tracking_base_url", CFG_STR, &txconf.tracking_base_url, "https://localhost", 0, 0, 0,
     "default tracking base URL", 0, 0},
    {"tracking_keys_file", CFG_STR, &txconf.tracking_keys, "", 0, 0, CFG_SECRET_FILE,
     "tracking HMAC keys", 0, 0},
    {"dns_servers", CFG_STR, &txconf.dns_servers, "", 0, 0, 0,
     "DNS servers host:port,... (system when empty)", 0, 0},
    {"processing_region", CFG_STR, &txconf.processing_region, "", 0, 0, 0,
     "region label in reports", 0, 0},
    {"suppress_exclude", CFG_STR, &txconf.suppress_exclude, "", 0, 0, 0,
     "enhanced codes whose bounces never suppress (deliver, bounce)", 0, 0},
    {0},
};

/* every program name: a parameter prefixed with one of these belongs to it */
const char *const txconf_programs[] = {
    "rest",   "smtpd",    "track",  "scan",       "securezip", "render", "deliver",  "bounce",
    "report", "recorder", "notify", "monitor",    "spamcheck", "smime",  "followup", "txmailctl",
    "sink",   "stack",    "bench",  "testworker", "exporter",  NULL,
};

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-c config] [-o name=value]... [-n] [-v]\n", prog);
    exit(2);
}

int txconf_init(int argc, char **argv, const char *prog, struct cfg_param *own,
                const char *extra_opts, void (*on_opt)(int opt, const char *arg))
{
    char optstr[64];
    char **overrides = xcalloc((size_t)argc + 1, sizeof(char *));
    int noverrides = 0, check = 0, c;
    const char *path = getenv("TXMAIL_CONF");
    struct cfg_param *tables[3] = {txconf_params, own, NULL};
    const char *foreign[32];
    int nf = 0;

    msg_init(prog);
    snprintf(optstr, sizeof(optstr), "+c:o:nvh%s", extra_opts ? extra_opts : "");
    while ((c = getopt(argc, argv, optstr)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'o':
            overrides[noverrides++] = optarg;
            break;
        case 'n':
            check = 1;
            break;
        case 'v':
            txconf.verbose++;
            msg_set_verbose(txconf.verbose);
            break;
        case 'h':
        case '?':
            usage(prog);
            break;
        default:
            if (on_opt)
                on_opt(c, optarg);
            else
                usage(prog);
        }
    }
    if (path == NULL && access("/etc/txmail/txmail.conf", R_OK) == 0)
        path = "/etc/txmail/txmail.conf";
    for (int i = 0; txconf_programs[i] && nf < 31; i++)
        if (strcmp(txconf_programs[i], prog) != 0)
            foreign[nf++] = txconf_programs[i];
    foreign[nf] = NULL;
    if (check) {
        char err[1400];
        if (cfg_check(path, tables, foreign, overrides, noverrides, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            exit(1);
        }
        printf("# %s: configuration %s is valid\n", prog, path ? path : "(defaults)");
        cfg_print_nondefault(tables);
        exit(0);
    }
    cfg_load(path, tables, foreign, overrides, noverrides);
    xfree(overrides);
    mq_set_send_timeout(txconf.broker_send_timeout_ms);
    txconf.config_path = path ? xstrdup(path) : NULL;
    if (*txconf.log_file && msg_open_file(txconf.log_file) < 0)
        msg_fatal("cannot open log_file %s: %m", txconf.log_file);
    return optind;
}

char *txconf_broker_url(void)
{
    const char *url = txconf.broker_url;
    const char *scheme = strstr(url, "://");
    const char *at;

    if (!*txconf.broker_password || scheme == NULL || (at = strchr(scheme + 3, '@')) == NULL ||
        memchr(scheme + 3, ':', at - scheme - 3))
        return xstrdup(url);
    return xasprintf("%.*s:%s%s", (int)(at - url), url, txconf.broker_password, at);
}

void txconf_db(struct db_conf *c)
{
    c->socket = txconf.db_socket;
    c->host = txconf.db_host;
    c->port = (int)txconf.db_port;
    c->name = txconf.db_name;
    c->user = txconf.db_user;
    c->password = txconf.db_password;
}
