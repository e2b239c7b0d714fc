/*
 * txmailctl_suppression - an account's suppression list (contract §13;
 * lib/global/manage/supplist.h, suppcsv.h):
 *
 *   suppression list ACCOUNT [--type T]     entries in force, newest first
 *   suppression add ACCOUNT ADDRESS [--reason TEXT] [--expires TS]
 *   suppression remove ACCOUNT ADDRESS
 *   suppression export ACCOUNT [--type T]   CSV (suppcsv.h) to standard output
 *   suppression import ACCOUNT FILE|-       CSV lines as MANUAL entries
 *
 * add and import write MANUAL entries that replace an entry of any type,
 * as PUT /email/v2/suppressions/{address} does. import checks the whole
 * file first: with any invalid line it prints every invalid line and
 * writes nothing (exit 1); else it writes every line in one transaction
 * and prints each line's outcome (created or replaced) and the totals.
 */
#include "admin/txmailctl/txmailctl.h"
#include "global/manage/suppcsv.h"
#include "global/manage/supplist.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_PAGE 1000

static void usage(void)
{
    fprintf(stderr,
            "usage: txmailctl suppression list ACCOUNT [--type T]\n"
            "       txmailctl suppression add ACCOUNT ADDRESS [--reason TEXT] [--expires TS]\n"
            "       txmailctl suppression remove ACCOUNT ADDRESS\n"
            "       txmailctl suppression export ACCOUNT [--type T]\n"
            "       txmailctl suppression import ACCOUNT FILE|-\n");
    exit(2);
}

static long long account(struct db *db, const char *name)
{
    long long id = txmailctl_account_id(db, name);

    if (id < 0)
        txmailctl_die("no account %s", name);
    return id;
}

/* option - the value of --name at argv[*i] (advanced), or NULL when argv[*i] is not --name */
static const char *option(int *i, int argc, char **argv, const char *name)
{
    if (strcmp(argv[*i], name) != 0)
        return NULL;
    if (*i + 1 >= argc)
        usage();
    return argv[++*i];
}

/* type_option - --type T of argv[from..] (NULL: none) */
static const char *type_option(int from, int argc, char **argv)
{
    const char *type = NULL;

    for (int i = from; i < argc; i++)
        if ((type = option(&i, argc, argv, "--type")) == NULL)
            usage();
    if (type && !supplist_type_ok(type))
        txmailctl_die("--type: expected PREVIOUSLY_BOUNCED, TEMPORARY_SUPPRESSED, MANUAL or "
                      "UNSUBSCRIBED");
    return type;
}

static const char *ts(char *out, size_t outsz, int64_t ms)
{
    return ms < 0 ? "-" : timeutil_iso8601(out, outsz, ms);
}

/* printable - s with control characters as spaces (one entry, one line). Ownership: new. */
static char *printable(const char *s)
{
    char *p = xstrdup(s ? s : "-");

    for (char *q = p; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = ' ';
    return p;
}

static int list(struct db *db, long long acct, const char *type)
{
    struct supplist_cursor cur;
    struct supplist_page page;
    size_t total = 0;
    int more;

    memset(&cur, 0, sizeof(cur));
    printf("%-40s %-20s %-24s %-24s %s\n", "EMAIL", "TYPE", "CREATED", "EXPIRES", "REASON");
    do {
        if (supplist_list(db, acct, type, &cur, LIST_PAGE, &page) != TX_OK)
            txmailctl_die("database error: %s", db_error(db));
        for (size_t i = 0; i < page.n; i++) {
            const struct supplist_entry *e = &page.items[i];
            char c[32], x[32], *reason = printable(e->reason);
            printf("%-40s %-20s %-24s %-24s %s\n", e->email, e->type,
                   ts(c, sizeof(c), e->created_ms), ts(x, sizeof(x), e->expires_ms), reason);
            xfree(reason);
        }
        total += page.n;
        if (page.n) {
            cur.set = 1;
            cur.created_ms = page.items[page.n - 1].created_ms;
            snprintf(cur.address, sizeof(cur.address), "%s", page.items[page.n - 1].email);
        }
        more = page.more;
        supplist_page_free(&page);
    } while (more);
    fprintf(stderr, "%zu entries\n", total);
    return 0;
}

static int add(struct db *db, long long acct, int argc, char **argv)
{
    char key[SUPPLIST_ADDRESS_MAX + 2];
    struct supplist_put p = {key, NULL, -1, 0};
    const char *v;

    if (argc < 1 || supplist_address(key, sizeof(key), argv[0]) < 0)
        txmailctl_die("add: expected an email address");
    for (int i = 1; i < argc; i++) {
        if ((v = option(&i, argc, argv, "--reason")) != NULL)
            p.reason = v;
        else if ((v = option(&i, argc, argv, "--expires")) != NULL) {
            if (timeutil_parse_iso8601(v, &p.expires_ms) < 0)
                txmailctl_die("--expires: expected an ISO-8601 timestamp with Z or an offset");
        } else
            usage();
    }
    if (p.reason && codec_utf8_count(p.reason, strlen(p.reason)) > SUPPLIST_REASON_MAX)
        txmailctl_die("--reason: at most %d characters", SUPPLIST_REASON_MAX);
    enum tx_code rc = supplist_put(db, acct, &p, NULL);
    if (rc == TX_REJECT_EXPIRED)
        txmailctl_die("--expires: not in the future");
    if (rc != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    printf("%s %s\n", key, p.replaced ? "replaced" : "created");
    return 0;
}

static int remove_entry(struct db *db, long long acct, const char *address)
{
    char key[SUPPLIST_ADDRESS_MAX + 2];
    int found;

    if (supplist_address(key, sizeof(key), address) < 0)
        txmailctl_die("remove: expected an email address");
    if (supplist_delete(db, acct, key, &found) != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    if (!found)
        txmailctl_die("%s is not on the suppression list", key);
    printf("%s removed\n", key);
    return 0;
}

static int export(struct db *db, long long acct, const char *type)
{
    size_t rows;
    enum tx_code rc = suppcsv_export(db, acct, type, stdout, &rows);

    if (rc == TX_RETRY_DB)
        txmailctl_die("database error: %s", db_error(db));
    if (rc != TX_OK)
        txmailctl_die("cannot write the CSV: %m");
    fprintf(stderr, "%zu entries exported\n", rows);
    return 0;
}

static int import(struct db *db, long long acct, const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    struct suppcsv_file f;
    struct supplist_put *ents;
    size_t created = 0;
    char err[200];

    if (fp == NULL)
        txmailctl_die("cannot open %s: %m", path);
    if (suppcsv_read(fp, &f, err, sizeof(err)) < 0)
        txmailctl_die("%s: %s; nothing imported", path, err);
    if (fp != stdin)
        fclose(fp);
    if (f.invalid) {
        for (size_t i = 0; i < f.n; i++)
            if (f.lines[i].error[0])
                fprintf(stderr, "line %ld: invalid (%s)\n", f.lines[i].line, f.lines[i].error);
        txmailctl_die("%zu invalid lines of %zu; nothing imported", f.invalid, f.n);
    }
    ents = xcalloc(f.n ? f.n : 1, sizeof(*ents));
    for (size_t i = 0; i < f.n; i++)
        ents[i] = f.lines[i].put;
    enum tx_code rc = supplist_put_all(db, acct, ents, f.n);
    if (rc == TX_REJECT_EXPIRED)
        txmailctl_die("an expiresTs passed while importing; nothing imported");
    if (rc != TX_OK)
        txmailctl_die("database error: %s; nothing imported", db_error(db));
    for (size_t i = 0; i < f.n; i++) {
        printf("line %ld: %s %s\n", f.lines[i].line, f.lines[i].address,
               ents[i].replaced ? "replaced" : "created");
        created += !ents[i].replaced;
    }
    printf("%zu created, %zu replaced, 0 invalid\n", created, f.n - created);
    xfree(ents);
    suppcsv_free(&f);
    return 0;
}

int txmailctl_suppression_main(int argc, char **argv)
{
    struct db *db;
    long long acct;

    if (argc < 2)
        usage();
    db = txmailctl_open_db();
    acct = account(db, argv[1]);
    if (strcmp(argv[0], "list") == 0)
        return list(db, acct, type_option(2, argc, argv));
    if (strcmp(argv[0], "add") == 0)
        return add(db, acct, argc - 2, argv + 2);
    if (strcmp(argv[0], "remove") == 0 && argc == 3)
        return remove_entry(db, acct, argv[2]);
    if (strcmp(argv[0], "export") == 0)
        return export(db, acct, type_option(2, argc, argv));
    if (strcmp(argv[0], "import") == 0 && argc == 3)
        return import(db, acct, argv[2]);
    usage();
    return 2;
}
