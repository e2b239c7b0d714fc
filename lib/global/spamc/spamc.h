/*
 * spamc - a SpamAssassin spamd client (the SPAMC/1.5 protocol over TCP)
 * and a strict, bounded parser of spamd's answer.
 *
 * spamc_check() sends one message with the REPORT command:
 *
 *   REPORT SPAMC/1.5\r\nContent-length: N\r\n\r\n<message>
 *
 * and reads spamd's answer to the end (spamd closes the connection):
 *
 *   SPAMD/1.1 0 EX_OK\r\n
 *   Content-length: 878\r\n
 *   Spam: True ; 1000.0 / 5.0\r\n
 *   \r\n
 *   <report text: ... " pts rule name   description" / "---- ----" /
 *    one line per rule " 1.5 RULE_NAME  Description", continuation lines
 *    indented by 5 spaces or more, an empty line ends the table>
 *
 * The answer is treated as hostile: at most SPAMC_REPLY_MAX bytes, a
 * status line "SPAMD/<d>.<d> 0 ..." (any other code is a failure),
 * header lines of at most SPAMC_LINE_MAX bytes, at most SPAMC_HEADERS_MAX
 * of them, a "Spam:" header with two finite numbers in
 * [-SPAMC_SCORE_LIMIT, SPAMC_SCORE_LIMIT], a body exactly as long as
 * Content-length when that is given. Rule lines that do not parse are
 * skipped; rules past SPAMC_RULES_MAX are counted, not kept. Names and
 * descriptions are kept as printable ASCII (anything else becomes '?'),
 * cut to their fields' sizes. Scores are spamd's: one decimal.
 */
#ifndef TX_SPAMC_H
#define TX_SPAMC_H

#include <stddef.h>

#define SPAMC_REPLY_MAX (256 * 1024)
#define SPAMC_LINE_MAX 1024
#define SPAMC_HEADERS_MAX 32
#define SPAMC_RULES_MAX 64
#define SPAMC_NAME_MAX 64
#define SPAMC_DESC_MAX 200
#define SPAMC_SCORE_LIMIT 1000000.0
#define SPAMC_ADDRS_MAX 16 /* spamd addresses of a list (more are ignored) */

struct spamc_rule {
    char name[SPAMC_NAME_MAX];
    double score;
    char description[SPAMC_DESC_MAX];
};

struct spamc_result {
    int is_spam;       /* spamd's own verdict (its required score) */
    double score;      /* the message's score */
    double required;   /* spamd's threshold (not the job's) */
    int nrules;        /* rules kept */
    int rules_dropped; /* rules past SPAMC_RULES_MAX */
    int lines_skipped; /* table lines that did not parse */
    struct spamc_rule rules[SPAMC_RULES_MAX];
};

/*
 * spamc_reply_parse - parse a complete answer to REPORT (buf need not be
 * NUL-terminated). 0, or -1 with a printable reason in err.
 */
int spamc_reply_parse(const char *buf, size_t len, struct spamc_result *r, char *err, size_t errsz);

/*
 * spamc_check - score msg with a spamd of addrs ("host:port[,host:port]...";
 * IPv6 as [addr]:port): each call starts at the next address of the list
 * (round robin over the process's calls, spreading the load) and goes on
 * along it, wrapping, until one answers. connect_ms bounds
 * each connection attempt, timeout_ms the whole exchange with one spamd.
 * 0 with r filled and the spamd that answered in used (may be NULL);
 * -1 with the last failure in err (refused, timed out, bad answer).
 */
int spamc_check(const char *addrs, int connect_ms, int timeout_ms, const char *msg, size_t len,
                struct spamc_result *r, char *used, size_t usedsz, char *err, size_t errsz);

#endif
