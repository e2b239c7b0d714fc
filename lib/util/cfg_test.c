/* cfg_test - parameter tables: defaults, bounds, file:line errors, overrides */
#include "tests/harness/ttest.h"
#include "util/cfg.h"
#include "util/msg.h"

#include <sys/stat.h>
#include <unistd.h>

static char *url, *secret;
static long long procs;
static int flag;
static int64_t timeout;
static size_t maxsize;

static struct cfg_param table[] = {
    {"broker_url", CFG_STR, &url, "amqp://localhost", 0, 0, 0, "broker", 0, 0},
    {"render_processes", CFG_INT, &procs, "4", 1, 64, 0, "procs", 0, 0},
    {"render_dkim", CFG_BOOL, &flag, "yes", 0, 0, 0, "dkim", 0, 0},
    {"render_timeout", CFG_TIME, &timeout, "30s", 1, 3600000, 0, "t", 0, 0},
    {"render_max_size", CFG_SIZE, &maxsize, "20m", 0, 0, 0, "size", 0, 0},
    {"render_secret_file", CFG_STR, &secret, "", 0, 0, CFG_SECRET_FILE, "s", 0, 0},
    {0},
};
static struct cfg_param *tables[] = {table, NULL};
static const char *const foreign[] = {"deliver", NULL};

static const char *write_file(const char *text)
{
    static char paths[8][32];
    static int next;
    char *path = paths[next++ % 8];

    snprintf(path, 32, "/tmp/cfgtestXXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        TT_FAIL("cannot write %s", path);
    close(fd);
    return path;
}

TT_TEST(defaults)
{
    char err[512];

    TT_EQ_INT(cfg_check(NULL, tables, foreign, NULL, 0, err, sizeof(err)), 0);
    TT_EQ_STR(url, "amqp://localhost");
    TT_EQ_INT(procs, 4);
    TT_EQ_INT(flag, 1);
    TT_EQ_INT(timeout, 30000);
    TT_EQ_INT(maxsize, 20 * 1024 * 1024);
    TT_EQ_STR(secret, "");
}

TT_TEST(file_and_overrides)
{
    char err[512];
    const char *path = write_file("# comment\n\nbroker_url = amqp://x:1\n"
                                  "render_processes=8\ndeliver_foo = ignored\n"
                                  "render_dkim = no\n");
    char *ov[] = {"render_processes=9"};

    TT_EQ_INT(cfg_check(path, tables, foreign, ov, 1, err, sizeof(err)), 0);
    TT_EQ_STR(url, "amqp://x:1");
    TT_EQ_INT(procs, 9);
    TT_EQ_INT(flag, 0);
}

TT_TEST(errors_name_file_and_line)
{
    char err[512], want[600];
    const char *path = write_file("broker_url = a\nrender_processes = 100\n");

    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2: render_processes: value 100 out of range [1, 64]", path);
    TT_EQ_STR(err, want);

    path = write_file("brokr_url = a\n");
    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:1: unknown parameter \"brokr_url\"", path);
    TT_EQ_STR(err, want);

    path = write_file("render_timeout = soon\n");
    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, ":1: render_timeout: expected a duration") != NULL);

    path = write_file("just words\n");
    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, ":1: expected \"name = value\"") != NULL);

    char *ov[] = {"render_dkim=maybe"};
    TT_EQ_INT(cfg_check(NULL, tables, foreign, ov, 1, err, sizeof(err)), -1);
    TT_EQ_STR(err, "-o: render_dkim: expected yes or no, got \"maybe\"");
}

TT_TEST(secret_from_file)
{
    char err[512], line[300];
    const char *sec = write_file("s3cret\n\n");
    char secpath[64];
    snprintf(secpath, sizeof(secpath), "%s", sec);
    snprintf(line, sizeof(line), "render_secret_file = %s\n", secpath);
    const char *path = write_file(line);

    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), 0);
    TT_EQ_STR(secret, "s3cret");

    /* readable by others: refused, naming the file (ssh's rule) */
    static const mode_t bad[] = {0644, 0640, 0604, 0660, 0610, 0601};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        TT_ASSERT(chmod(secpath, bad[i]) == 0);
        TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
        TT_ASSERT(strstr(err, secpath) != NULL);
        TT_ASSERT(strstr(err, "group or others") != NULL);
    }
    TT_ASSERT(chmod(secpath, 0400) == 0);
    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), 0);
    TT_EQ_STR(secret, "s3cret");
    /* owned by someone else (only root can make such a file here) */
    if (geteuid() == 0) {
        TT_ASSERT(chown(secpath, 65534, 65534) == 0);
        TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
        TT_ASSERT(strstr(err, "owned by uid 65534") != NULL);
        TT_ASSERT(chown(secpath, 0, 0) == 0);
    }
    /* a directory is not a secret file */
    snprintf(line, sizeof(line), "render_secret_file = /tmp\n");
    path = write_file(line);
    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "not a regular file") != NULL);

    path = write_file("render_secret_file = /nonexistent/x\n");
    TT_EQ_INT(cfg_check(path, tables, foreign, NULL, 0, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "cannot open secret file /nonexistent/x") != NULL);
}

TT_TEST(fatal_on_bad_config)
{
    /* cfg_load dies (exit 1) on errors; run it in a child */
    pid_t pid = fork();
    if (pid == 0) {
        char *ov[] = {"nosuch=1"};
        msg_open_file("/dev/null");
        cfg_load(NULL, tables, foreign, ov, 1);
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    TT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

TT_MAIN(TT_CASE(defaults), TT_CASE(file_and_overrides), TT_CASE(errors_name_file_and_line),
        TT_CASE(secret_from_file), TT_CASE(fatal_on_bad_config))
