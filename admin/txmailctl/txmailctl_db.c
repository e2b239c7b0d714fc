/*
 * txmailctl_db - schema migrations and partition maintenance.
 *
 * Migrations are files NNN_name.sql in txmailctl_schema_dir, applied in
 * order, each once, recorded in schema_version. Forward only: a file
 * that was applied is never applied again, and its checksum is kept so a
 * changed file is reported. A lock serialises concurrent runs.
 */
#include "admin/txmailctl/txmailctl.h"
#include "global/crypto.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATION_MAX (1 << 20)

static const char *const partitioned[] = {"message", "event", "trace_store", NULL};

static int is_migration(const char *name)
{
    size_t n = strlen(name);

    return n > 8 && isdigit((unsigned char)name[0]) && isdigit((unsigned char)name[1]) &&
           isdigit((unsigned char)name[2]) && name[3] == '_' && strcmp(name + n - 4, ".sql") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_migrations(int *count)
{
    DIR *d = opendir(txmailctl_conf.schema_dir);
    struct dirent *de;
    char **names = NULL;
    int n = 0;

    if (d == NULL)
        txmailctl_die("cannot open schema directory %s: %m", txmailctl_conf.schema_dir);
    while ((de = readdir(d)) != NULL) {
        if (!is_migration(de->d_name))
            continue;
        names = xrealloc(names, sizeof(char *) * (size_t)(n + 1));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(char *), cmp_names);
    for (int i = 1; i < n; i++)
        if (strncmp(names[i], names[i - 1], 3) == 0)
            txmailctl_die("two migrations share number %.3s: %s and %s", names[i], names[i - 1],
                          names[i]);
    *count = n;
    return names;
}

static char *read_file(const char *name, size_t *len)
{
    char path[4096];
    FILE *fp;
    struct buf b = BUF_INIT(MIGRATION_MAX);
    char chunk[8192];
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", txmailctl_conf.schema_dir, name);
    if ((fp = fopen(path, "r")) == NULL)
        txmailctl_die("cannot open %s: %m", path);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (buf_append(&b, chunk, n) < 0)
            txmailctl_die("%s is larger than %d bytes", path, MIGRATION_MAX);
    fclose(fp);
    return buf_steal(&b, len);
}

/*
 * next_statement - split SQL text at ';' outside quotes and comments.
 * Returns a new string (NULL at the end); *pos advances.
 */
static char *next_statement(const char *sql, size_t len, size_t *pos)
{
    struct buf st = BUF_INIT(MIGRATION_MAX);
    size_t i = *pos;
    char quote = 0;

    while (i < len) {
        char c = sql[i];
        if (!quote && c == '-' && i + 1 < len && sql[i + 1] == '-') {
            while (i < len && sql[i] != '\n')
                i++;
            continue;
        }
        if (quote) {
            if (c == '\\' && i + 1 < len) {
                buf_append(&st, sql + i, 2);
                i += 2;
                continue;
            }
            if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"' || c == '`') {
            quote = c;
        } else if (c == ';') {
            i++;
            break;
        }
        buf_putc(&st, c);
        i++;
    }
    *pos = i;
    const char *p = buf_ptr(&st);
    while (*p && isspace((unsigned char)*p))
        p++;
    if (*p == 0) {
        buf_free(&st);
        return i < len ? next_statement(sql, len, pos) : NULL;
    }
    return buf_steal(&st, NULL);
}

static void ensure_version_table(struct db *db)
{
    if (db_exec_raw(db, "CREATE TABLE IF NOT EXISTS schema_version ("
                        " version INT NOT NULL PRIMARY KEY,"
                        " name VARCHAR(200) NOT NULL,"
                        " checksum CHAR(64) NOT NULL,"
                        " applied_at DATETIME(3) NOT NULL"
                        ") ENGINE=InnoDB") != TX_OK)
        txmailctl_die("cannot create schema_version: %s", db_error(db));
}

static void checksum(char out[65], const char *text, size_t len)
{
    unsigned char md[32];

    crypto_sha256(md, text, len);
    codec_hex_encode(out, md, 32);
}

static int migrate(int dry_run)
{
    struct db *db = txmailctl_open_db();
    struct db_res *r;
    int n, applied = 0;
    char **names = list_migrations(&n);

    if (db_query(db, &r, "SELECT GET_LOCK('txmail_migrate', 60)", "") != TX_OK ||
        db_res_int(r, 0, 0, 0) != 1)
        txmailctl_die("cannot take the migration lock");
    db_res_free(r);
    ensure_version_table(db);
    for (int i = 0; i < n; i++) {
        int version = (int)strtol(names[i], NULL, 10); /* is_migration: NNN_ */
        size_t len, pos = 0;
        char *sql = read_file(names[i], &len), *stmt, sum[65];

        checksum(sum, sql, len);
        if (db_query(db, &r, "SELECT checksum FROM schema_version WHERE version = ?", "i",
                     (long long)version) != TX_OK)
            txmailctl_die("database error: %s", db_error(db));
        if (db_res_rows(r) == 1) {
            if (strcmp(db_res_get(r, 0, 0), sum) != 0)
                fprintf(stderr,
                        "txmailctl: warning: applied migration %s has changed "
                        "since; migrations are forward-only, add a new one\n",
                        names[i]);
            db_res_free(r);
            xfree(sql);
            continue;
        }
        db_res_free(r);
        if (dry_run) {
            printf("pending %s\n", names[i]);
            xfree(sql);
            continue;
        }
        while ((stmt = next_statement(sql, len, &pos)) != NULL) {
            if (db_exec_raw(db, stmt) != TX_OK)
                txmailctl_die("migration %s failed: %s\nin statement:\n%.400s", names[i],
                              db_error(db), stmt);
            xfree(stmt);
        }
        char now[32];
        timeutil_iso8601(now, sizeof(now), timeutil_now_ms());
        now[23] = 0;
        if (db_exec(db,
                    "INSERT INTO schema_version (version, name, checksum, applied_at) "
                    "VALUES (?, ?, ?, NOW(3))",
                    "iss", (long long)version, names[i], sum) != TX_OK)
            txmailctl_die("cannot record migration %s: %s", names[i], db_error(db));
        printf("applied %s\n", names[i]);
        applied++;
        xfree(sql);
    }
    if (db_query(db, &r, "SELECT RELEASE_LOCK('txmail_migrate')", "") == TX_OK)
        db_res_free(r);
    for (int i = 0; i < n; i++)
        xfree(names[i]);
    xfree(names);
    if (!dry_run)
        printf("schema is current (%d applied now)\n", applied);
    return 0;
}

static void status(void)
{
    struct db *db = txmailctl_open_db();
    struct db_res *r;

    ensure_version_table(db);
    if (db_query(db, &r, "SELECT version, name, applied_at FROM schema_version ORDER BY version",
                 "") != TX_OK)
        txmailctl_die("database error: %s", db_error(db));
    for (size_t i = 0; i < db_res_rows(r); i++)
        printf("applied %s at %s\n", db_res_get(r, i, 1), db_res_get(r, i, 2));
    db_res_free(r);
    migrate(1);
}

/* partitions - split pmax into days ahead, drop days past retention (expire: the other tables) */
static void partitions(void)
{
    struct db *db = txmailctl_open_db();
    int64_t now = timeutil_now_ms(), day_ms = 86400000;

    for (int t = 0; partitioned[t]; t++) {
        struct db_res *r;
        char last[16] = "";

        if (db_query(db, &r,
                     "SELECT partition_name, partition_description FROM "
                     "information_schema.partitions WHERE table_schema = DATABASE() "
                     "AND table_name = ? ORDER BY partition_ordinal_position",
                     "s", partitioned[t]) != TX_OK)
            txmailctl_die("database error: %s", db_error(db));
        if (db_res_rows(r) == 0)
            txmailctl_die("table %s is missing or not partitioned; run db migrate", partitioned[t]);
        /* drop expired day partitions: those whose upper bound is older than retention */
        for (size_t i = 0; i < db_res_rows(r); i++) {
            const char *name = db_res_get(r, i, 0);
            if (strcmp(name, "pmax") == 0 || strlen(name) != 9)
                continue;
            snprintf(last, sizeof(last), "%s", name + 1);
            char day[11], sql[256];
            snprintf(day, sizeof(day), "%.4s-%.2s-%.2s", name + 1, name + 5, name + 7);
            int64_t start;
            char iso[40];
            snprintf(iso, sizeof(iso), "%sT00:00:00Z", day);
            if (timeutil_parse_iso8601(iso, &start) < 0)
                continue;
            if (start + day_ms <= now - txmailctl_conf.retention_ms && i + 2 < db_res_rows(r)) {
                snprintf(sql, sizeof(sql), "ALTER TABLE %s DROP PARTITION %s", partitioned[t],
                         name);
                if (db_exec_raw(db, sql) != TX_OK)
                    txmailctl_die("cannot drop %s.%s: %s", partitioned[t], name, db_error(db));
                printf("dropped %s.%s\n", partitioned[t], name);
            }
        }
        db_res_free(r);
        /* add days from the day after the last one (or today) to today + ahead */
        struct buf sql = BUF_INIT(1 << 16);
        int64_t from = now - day_ms; /* yesterday, so late events of the day before land apart */
        if (*last) {
            char iso[40];
            int64_t lastms;
            snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT00:00:00Z", last, last + 4, last + 6);
            if (timeutil_parse_iso8601(iso, &lastms) == 0)
                from = lastms + day_ms;
        }
        int added = 0;
        buf_printf(&sql, "ALTER TABLE %s REORGANIZE PARTITION pmax INTO (", partitioned[t]);
        for (int64_t d = from; d <= now + txmailctl_conf.partitions_ahead * day_ms; d += day_ms) {
            char day[16], next[16];
            timeutil_day(day, sizeof(day), d);
            timeutil_day(next, sizeof(next), d + day_ms);
            buf_printf(&sql, "PARTITION p%.4s%.2s%.2s VALUES LESS THAN ('%s'), ", day, day + 5,
                       day + 8, next);
            added++;
        }
        buf_puts(&sql, "PARTITION pmax VALUES LESS THAN (MAXVALUE))");
        if (added) {
            if (db_exec_raw(db, buf_ptr(&sql)) != TX_OK)
                txmailctl_die("cannot add partitions to %s: %s", partitioned[t], db_error(db));
            printf("added %d daily partitions to %s\n", added, partitioned[t]);
        }
        buf_free(&sql);
    }
}

/*
 * expire - delete the rows of the unpartitioned tables past their
 * retention (contract §10.6: jobs, dead-lettered notifications 45 days),
 * the exactly-once delivery records of the same age, suppression entries
 * that have expired and Trace & Recover copies past their stored_until
 * (trace_store is partitioned too, but a day partition goes only after
 * txmailctl_retention); in batches, so no transaction grows large
 */
static void expire(void)
{
    static const struct {
        const char *table, *where;
    } rules[] = {
        {"job", "received_at < ?"},
        {"webhook_delivery", "created_at < ?"},
        {"delivery_record", "at < ?"},
        {"suppression", "expires_at < NOW(3) AND ? IS NOT NULL"},
        /* Trace & Recover copies past their 45 days (stored_until, UTC), whatever the
         * retention of the day partitions (contract §10.6, §16.2) */
        {"trace_store", "stored_until < UTC_TIMESTAMP(3) AND ? IS NOT NULL"},
    };
    struct db *db = txmailctl_open_db();
    char before[32], sql[160];

    timeutil_sql(before, sizeof(before), timeutil_now_ms() - txmailctl_conf.retention_ms);
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        long long total = 0;
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s LIMIT 10000", rules[i].table,
                 rules[i].where);
        do {
            if (db_exec(db, sql, "s", before) != TX_OK)
                txmailctl_die("cannot expire %s: %s", rules[i].table, db_error(db));
            total += db_affected(db);
        } while (db_affected(db) == 10000);
        if (total)
            printf("expired %lld rows of %s\n", total, rules[i].table);
    }
}

int txmailctl_db_main(int argc, char **argv)
{
    if (argc < 1)
        txmailctl_die("db: expected migrate, status or partitions");
    if (strcmp(argv[0], "migrate") == 0) {
        migrate(0);
        partitions();
    } else if (strcmp(argv[0], "status") == 0) {
        status();
    } else if (strcmp(argv[0], "partitions") == 0) {
        partitions();
        expire();
    } else {
        txmailctl_die("db: unknown subcommand \"%s\"", argv[0]);
    }
    return 0;
}
