/*
 * txmailctl_report - the daily reports (contract §14) on demand:
 *
 *   report run --account A --date YYYY-MM-DD [--now]
 *       without --now: publish the report job to the queue `report`
 *       (confirmed) for txmail-report to build, and return; with --now:
 *       build the report in this process (the same code as txmail-report,
 *       lib/global/report/reportstore.h) and print rows, parts and bytes.
 *       A rebuild replaces the day's report. Any day before today that is
 *       within the 180 days of retention may be built.
 *   report list --account A [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 *       the account's reports, newest first: date, rows, parts, created
 *       (default: every day kept).
 */
#include "admin/txmailctl/txmailctl.h"
#include "global/report/reportjob.h"
#include "global/report/reportrow.h"
#include "global/report/reportstore.h"
#include "global/runtime/mqpub.h"
#include "global/txconf.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

struct report_args {
    const char *account, *date, *from, *to;
    int now;
    long long part_rows;
};

static void usage(void)
{
    fprintf(stderr, "usage: txmailctl report run --account A --date YYYY-MM-DD [--now] "
                    "[--part-rows N]\n"
                    "       txmailctl report list --account A [--from YYYY-MM-DD] "
                    "[--to YYYY-MM-DD]\n");
    exit(2);
}

static void parse(int argc, char **argv, struct report_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **dst = strcmp(o, "--account") == 0 ? &a->account
                           : strcmp(o, "--date") == 0  ? &a->date
                           : strcmp(o, "--from") == 0  ? &a->from
                           : strcmp(o, "--to") == 0    ? &a->to
                                                       : NULL;
        if (strcmp(o, "--now") == 0) {
            a->now = 1;
            continue;
        }
        if (strcmp(o, "--part-rows") == 0 && i + 1 < argc) {
            char *end;
            a->part_rows = strtoll(argv[++i], &end, 10);
            if (*end || a->part_rows < 1)
                txmailctl_die("--part-rows: a positive number");
            continue;
        }
        if (dst == NULL || i + 1 >= argc)
            usage();
        *dst = argv[++i];
    }
    if (a->account == NULL)
        usage();
}

static void need_day(const char *opt, const char *day)
{
    int64_t ms;

    if (day && reportrow_day(day, &ms) < 0)
        txmailctl_die("%s: \"%s\" is not a date YYYY-MM-DD", opt, day);
}

static void publish(long long id, const char *day)
{
    char *url = txconf_broker_url(), *body;
    struct mqpub *pub = mqpub_new(url, "txmailctl", MQPUB_DECLARE, 0);
    size_t len;

    xwipestr(url);
    if (reportjob_encode(id, day, &body, &len) < 0)
        txmailctl_die("cannot encode the report job");
    struct mqpub_msg m = {"txmail.work", REPORTJOB_STAGE, NULL, NULL, body, len, NULL};
    if (mqpub_ready(pub) != TX_OK || mqpub_send(pub, &m, 1, 30000) != TX_OK)
        txmailctl_die("the broker did not confirm the report job");
    xfree(body);
    mqpub_free(pub);
    printf("report job published: account=%lld date=%s\n", id, day);
}

static int run(struct db *db, long long id, const struct report_args *a)
{
    char today[16], oldest[16];
    int64_t now = timeutil_now_ms();

    if (a->date == NULL)
        usage();
    need_day("--date", a->date);
    timeutil_day(today, sizeof(today), now);
    reportstore_oldest(oldest, now, REPORTSTORE_RETENTION_DAYS);
    if (strcmp(a->date, today) >= 0)
        txmailctl_die("%s has not ended yet", a->date);
    if (strcmp(a->date, oldest) < 0)
        txmailctl_die("%s is past the report retention (oldest %s)", a->date, oldest);
    if (!a->now) {
        publish(id, a->date);
        return 0;
    }
    struct db_conf c;
    txconf_db(&c);
    struct db *wr = db_open_retry(&c, 3);
    if (wr == NULL)
        txmailctl_die("cannot connect to the database");
    struct reportstore_build_opts o = {a->part_rows ? a->part_rows : 100000,
                                       txconf.processing_region};
    struct reportstore_info info;
    enum tx_code rc = reportstore_build(db, wr, id, a->date, &o, &info);
    if (rc != TX_OK)
        txmailctl_die("report not built: %s", db_error(db_errno(wr) ? wr : db));
    db_close(wr);
    printf("report built: account=%s date=%s rows=%lld parts=%d bytes=%lld\n", a->account, a->date,
           info.rows, info.parts, info.bytes);
    return 0;
}

static int list(struct db *db, long long id, const struct report_args *a)
{
    char from[16], to[16], created[32];
    struct db_res *r;
    int64_t now = timeutil_now_ms();

    need_day("--from", a->from);
    need_day("--to", a->to);
    reportstore_oldest(from, now, REPORTSTORE_RETENTION_DAYS);
    timeutil_day(to, sizeof(to), now);
    if (a->from)
        snprintf(from, sizeof(from), "%s", a->from);
    if (a->to)
        snprintf(to, sizeof(to), "%s", a->to);
    if (reportstore_list(db, id, from, to, &r) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    printf("%-10s %10s %5s %s\n", "date", "rows", "parts", "created");
    for (size_t i = 0; i < db_res_rows(r); i++)
        printf("%-10s %10lld %5lld %s\n", db_res_get(r, i, 0), db_res_int(r, i, 1, 0),
               db_res_int(r, i, 2, 0),
               timeutil_iso8601(created, sizeof(created), db_res_int(r, i, 3, 0)));
    db_res_free(r);
    return 0;
}

int txmailctl_report_main(int argc, char **argv)
{
    struct report_args a = {0};

    if (argc < 1)
        usage();
    parse(argc, argv, &a);
    struct db *db = txmailctl_open_db();
    long long id = txmailctl_account_id(db, a.account);
    if (id < 0)
        txmailctl_die("no account \"%s\"", a.account);
    if (strcmp(argv[0], "run") == 0)
        return run(db, id, &a);
    if (strcmp(argv[0], "list") == 0)
        return list(db, id, &a);
    usage();
    return 2;
}
