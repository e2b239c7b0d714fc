/* yarascan_test - YARA in the process: verdicts, missing and broken rules, reloads */
#include "tests/harness/ttest.h"
#include "global/scan/yarascan.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MARKER_RULE "rule Probe_One { strings: $a = \"TXMAIL-YARA-UNIT-ONE\" condition: $a }\n"
#define OTHER_RULE "rule Probe_Two { strings: $a = \"TXMAIL-YARA-UNIT-TWO\" condition: $a }\n"

static void tmpdir(char *dir, size_t dirsz)
{
    snprintf(dir, dirsz, "/tmp/yarascan_test.XXXXXX");
    TT_ASSERT(mkdtemp(dir) != NULL);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    TT_ASSERT((fp = fopen(tmp, "w")) != NULL);
    fputs(text, fp);
    TT_EQ_INT(fclose(fp), 0);
    TT_EQ_INT(rename(tmp, path), 0);
}

static void rmdir_all(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[PATH_MAX];

    TT_ASSERT(d != NULL);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        TT_EQ_INT(unlink(path), 0);
    }
    closedir(d);
    TT_EQ_INT(rmdir(dir), 0);
}

/* verdict - one scan of text with the current rules */
static enum scan_verdict verdict(struct yarascan *y, const char *text, struct scan_result *r)
{
    char err[SCAN_ERR_MAX];
    struct yarascan_rules *rules = yarascan_acquire(y, err, sizeof(err));
    enum scan_verdict v;

    if (rules == NULL) {
        snprintf(r->err, sizeof(r->err), "%s", err);
        return SCAN_ERROR;
    }
    v = yarascan_rules_buffer(rules, text, strlen(text), r);
    yarascan_release(y, rules);
    return v;
}

TT_TEST(match_and_clean)
{
    struct yarascan *y;
    struct scan_result r;
    char dir[64], err[SCAN_ERR_MAX], big[200000];

    tmpdir(dir, sizeof(dir));
    write_file(dir, "one.yar", MARKER_RULE);
    write_file(dir, "ignored.txt", "this is not a rule file {");
    TT_EQ_INT(yarascan_open(dir, 0, &y, err, sizeof(err)), 0);
    TT_EQ_STR(err, "");
    TT_EQ_INT(verdict(y, "hello, clean text", &r), SCAN_CLEAN);
    TT_EQ_STR(r.virus, "");
    TT_EQ_INT(verdict(y, "", &r), SCAN_CLEAN);
    TT_EQ_INT(verdict(y, "xx TXMAIL-YARA-UNIT-ONE yy", &r), SCAN_INFECTED);
    TT_EQ_STR(r.virus, "YARA.Probe_One");
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    memcpy(big + 150000, "TXMAIL-YARA-UNIT-ONE", 20);
    TT_EQ_INT(verdict(y, big, &r), SCAN_INFECTED);
    big[150000] = 'Q';
    TT_EQ_INT(verdict(y, big, &r), SCAN_CLEAN);
    yarascan_close(y);
    rmdir_all(dir);
}

TT_TEST(project_rules)
{
    struct yarascan *y;
    struct scan_result r;
    char err[SCAN_ERR_MAX], eicar[80];
    const char *dir = access("conf/yara", R_OK) == 0 ? "conf/yara" : "../../conf/yara";

    /* EICAR in two halves, so this source is not itself a test file */
    snprintf(eicar, sizeof(eicar), "%s%s", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STAND",
             "ARD-ANTIVIRUS-TEST-FILE!$H+H*");
    TT_EQ_INT(yarascan_open(dir, 0, &y, err, sizeof(err)), 0);
    TT_EQ_INT(verdict(y, eicar, &r), SCAN_INFECTED);
    TT_EQ_STR(r.virus, "YARA.Txmail_Test_EICAR");
    TT_EQ_INT(verdict(y, "a TXMAIL-YARA-TEST-MARKER-7F3C9A b", &r), SCAN_INFECTED);
    TT_EQ_STR(r.virus, "YARA.Txmail_Test_Marker");
    struct yarascan_rules *rules = yarascan_acquire(y, err, sizeof(err));
    TT_EQ_INT((int)yarascan_rules_count(rules), 2);
    yarascan_release(y, rules);
    yarascan_close(y);
}

TT_TEST(missing_empty_broken)
{
    struct yarascan *y;
    struct scan_result r;
    char dir[64], err[SCAN_ERR_MAX];

    TT_EQ_INT(yarascan_open("/nonexistent/yara", 0, &y, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "/nonexistent/yara") != NULL);
    TT_EQ_INT(verdict(y, "TXMAIL-YARA-UNIT-ONE", &r), SCAN_ERROR);
    TT_ASSERT(strstr(r.err, "no YARA rules loaded") != NULL);
    yarascan_close(y);

    tmpdir(dir, sizeof(dir));
    TT_EQ_INT(yarascan_open(dir, 0, &y, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "no rule files") != NULL);
    /* a rule that does not compile: still nothing loaded, the file named */
    write_file(dir, "bad.yara", "rule Broken { strings: $a = \"x\" condition: $b }\n");
    TT_EQ_INT(yarascan_reload_if_changed(y, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "bad.yara") != NULL);
    TT_EQ_INT(verdict(y, "x", &r), SCAN_ERROR);
    /* fixed: loaded */
    write_file(dir, "bad.yara", MARKER_RULE);
    TT_EQ_INT(yarascan_reload_if_changed(y, err, sizeof(err)), 1);
    TT_EQ_INT(verdict(y, "TXMAIL-YARA-UNIT-ONE", &r), SCAN_INFECTED);
    yarascan_close(y);
    rmdir_all(dir);
}

TT_TEST(reload_keeps_held_rules)
{
    struct yarascan *y;
    struct scan_result r;
    char dir[64], err[SCAN_ERR_MAX];
    const char *two = "TXMAIL-YARA-UNIT-TWO";

    tmpdir(dir, sizeof(dir));
    write_file(dir, "one.yar", MARKER_RULE);
    TT_EQ_INT(yarascan_open(dir, 0, &y, err, sizeof(err)), 0);
    TT_EQ_INT(yarascan_reload_if_changed(y, err, sizeof(err)), 0);
    struct yarascan_rules *old = yarascan_acquire(y, err, sizeof(err));
    TT_ASSERT(old != NULL);
    write_file(dir, "two.yar", OTHER_RULE);
    TT_EQ_INT(yarascan_reload_if_changed(y, err, sizeof(err)), 1);
    TT_EQ_INT(yarascan_engines(y), 2);
    /* the held set scans on with the old rules, the new one has both */
    TT_EQ_INT(yarascan_rules_buffer(old, two, strlen(two), &r), SCAN_CLEAN);
    TT_EQ_INT((int)yarascan_rules_count(old), 1);
    TT_EQ_INT(verdict(y, two, &r), SCAN_INFECTED);
    TT_EQ_STR(r.virus, "YARA.Probe_Two");
    yarascan_release(y, old);
    TT_EQ_INT(yarascan_engines(y), 1);
    /* a broken change keeps the current rules */
    write_file(dir, "three.yar", "rule {");
    TT_EQ_INT(yarascan_reload_if_changed(y, err, sizeof(err)), -1);
    TT_EQ_INT(verdict(y, two, &r), SCAN_INFECTED);
    yarascan_close(y);
    rmdir_all(dir);
}

TT_TEST(automatic_check)
{
    struct yarascan *y;
    struct scan_result r;
    char dir[64], err[SCAN_ERR_MAX];

    tmpdir(dir, sizeof(dir));
    write_file(dir, "one.yar", MARKER_RULE);
    TT_EQ_INT(yarascan_open(dir, 500, &y, err, sizeof(err)), 0);
    TT_EQ_INT(verdict(y, "TXMAIL-YARA-UNIT-TWO", &r), SCAN_CLEAN);
    write_file(dir, "two.yar", OTHER_RULE);
    TT_EQ_INT(verdict(y, "TXMAIL-YARA-UNIT-TWO", &r), SCAN_CLEAN);
    usleep(600000);
    TT_EQ_INT(verdict(y, "TXMAIL-YARA-UNIT-TWO", &r), SCAN_INFECTED);
    TT_EQ_INT(yarascan_engines(y), 1);
    yarascan_close(y);
    rmdir_all(dir);
}

TT_MAIN(TT_CASE(match_and_clean), TT_CASE(project_rules), TT_CASE(missing_empty_broken),
        TT_CASE(reload_keeps_held_rules), TT_CASE(automatic_check))
