/*
 * txmailctl_deadletter - an account's notification dead letters
 * (contract §11.2; lib/global/manage/deadletter.h):
 *
 *   deadletter list ACCOUNT                  dead letters, newest first
 *   deadletter redeliver ACCOUNT TAG|--all   queue them again
 *
 * A redelivery is what POST .../dead-letters/{tag}/redeliver does: the
 * notification goes to txmail-notify's retry queue with a new 24-hour
 * schedule, confirmed by the broker, then the dead letter is marked
 * redelivered. --all redelivers every dead letter listed when it starts
 * and stops at the first failure (what was redelivered stays so).
 */
#include "admin/txmailctl/txmailctl.h"
#include "global/manage/deadletter.h"
#include "global/txconf.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 1000
#define CONFIRM_MS 10000

static void usage(void)
{
    fprintf(stderr, "usage: txmailctl deadletter list ACCOUNT\n"
                    "       txmailctl deadletter redeliver ACCOUNT TAG|--all\n");
    exit(2);
}

static int list(struct db *db, long long acct)
{
    long long after = 0;
    size_t total = 0, i;
    json_t *items = json_array(), *it;

    printf("%-64s %-54s %8s %-24s %s\n", "TAG", "RECIPIENT", "ATTEMPTS", "LAST ATTEMPT",
           "LAST RESULT / URL");
    do {
        json_array_clear(items);
        if (deadletter_list(db, acct, after, PAGE, items, &after) != TX_OK)
            txmailctl_die("database error: %s", db_error(db));
        json_array_foreach (items, i, it)
            printf("%-64s %-54s %8lld %-24s %s %s\n", json_string_value(json_object_get(it, "tag")),
                   json_string_value(json_object_get(it, "recipientId")),
                   (long long)json_integer_value(json_object_get(it, "attempts")),
                   json_string_value(json_object_get(it, "lastAttemptTs")),
                   json_string_value(json_object_get(it, "lastResult")),
                   json_string_value(json_object_get(it, "url")));
        total += json_array_size(items);
    } while (after);
    json_decref(items);
    fprintf(stderr, "%zu dead letters\n", total);
    return 0;
}

static int redeliver(struct db *db, long long acct, const char *which)
{
    json_t *items = json_array(), *t;
    long long after = 0;
    size_t i, done = 0;
    char *url = txconf_broker_url();
    struct mqpub *pub = mqpub_new(url, "txmailctl", 0, 0);

    xwipestr(url);
    /* the dead letters as they are now: redelivered ones leave the list */
    if (strcmp(which, "--all") != 0)
        json_array_append_new(items, json_pack("{s:s}", "tag", which));
    else
        do {
            if (deadletter_list(db, acct, after, PAGE, items, &after) != TX_OK)
                txmailctl_die("database error: %s", db_error(db));
        } while (after);
    json_array_foreach (items, i, t) {
        const char *tag = json_string_value(json_object_get(t, "tag"));
        int found;
        enum tx_code rc = deadletter_redeliver(db, pub, CONFIRM_MS, acct, tag, &found);
        if (rc == TX_RETRY_BROKER)
            txmailctl_die("%s: the broker did not confirm; still a dead letter (%zu redelivered)",
                          tag, done);
        if (rc != TX_OK)
            txmailctl_die("%s: database error: %s (%zu redelivered)", tag, db_error(db), done);
        if (!found)
            txmailctl_die("%s: no such dead letter", tag);
        printf("%s redelivered\n", tag);
        done++;
    }
    mqpub_free(pub);
    json_decref(items);
    fprintf(stderr, "%zu redelivered\n", done);
    return 0;
}

int txmailctl_deadletter_main(int argc, char **argv)
{
    struct db *db;
    long long acct;

    if (argc < 2)
        usage();
    db = txmailctl_open_db();
    if ((acct = txmailctl_account_id(db, argv[1])) < 0)
        txmailctl_die("no account %s", argv[1]);
    if (strcmp(argv[0], "list") == 0 && argc == 2)
        return list(db, acct);
    if (strcmp(argv[0], "redeliver") == 0 && argc == 3)
        return redeliver(db, acct, argv[2]);
    usage();
    return 2;
}
