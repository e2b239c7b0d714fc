/*
 * ttest - tiny unit test harness (after libuv test/runner.c).
 *
 * Each test runs in its own child process under a timeout; assertions
 * print both sides. A test file defines its cases with TT_TEST(name) and
 * ends with TT_MAIN(case, case, ...). The binary prints one line per
 * case and "N passed, N failed"; it exits non-zero when any case failed.
 * Environment: TT_FILTER=substring runs only matching cases.
 */
#ifndef TTEST_H
#define TTEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TT_TIMEOUT 30

struct tt_case {
    const char *name;
    void (*fn)(void);
};

#define TT_TEST(name) static void name(void)

#define TT_FAIL(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        exit(1);                                                                                   \
    } while (0)

#define TT_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            TT_FAIL("assertion failed: %s", #cond);                                                \
    } while (0)

#define TT_EQ_INT(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b)                                                                              \
            TT_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b);                                     \
    } while (0)

#define TT_EQ_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0)                                       \
            TT_FAIL("%s == %s:\n    got:      \"%s\"\n    expected: \"%s\"", #a, #b,               \
                    _a ? _a : "(null)", _b ? _b : "(null)");                                       \
    } while (0)

#define TT_EQ_MEM(a, alen, b, blen)                                                                \
    do {                                                                                           \
        size_t _al = (alen), _bl = (blen);                                                         \
        if (_al != _bl || memcmp((a), (b), _al) != 0)                                              \
            TT_FAIL("%s == %s:\n    got:      \"%.*s\" (%zu)\n    expected: \"%.*s\" (%zu)", #a,   \
                    #b, (int)_al, (const char *)(a), _al, (int)_bl, (const char *)(b), _bl);       \
    } while (0)

static inline int tt_run(const char *file, const struct tt_case *cases, int n)
{
    int passed = 0, failed = 0;
    const char *filter = getenv("TT_FILTER");

    for (int i = 0; i < n; i++) {
        if (filter && !strstr(cases[i].name, filter))
            continue;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(TT_TIMEOUT);
            cases[i].fn();
            exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("ok   %s %s\n", file, cases[i].name);
            passed++;
        } else {
            if (WIFSIGNALED(status))
                printf("FAIL %s %s (signal %d%s)\n", file, cases[i].name, WTERMSIG(status),
                       WTERMSIG(status) == SIGALRM ? ", timeout" : "");
            else
                printf("FAIL %s %s\n", file, cases[i].name);
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TT_CASE(fn)                                                                                \
    {                                                                                              \
#fn, fn                                                                                    \
    }
#define TT_MAIN(...)                                                                               \
    int main(void)                                                                                 \
    {                                                                                              \
        static const struct tt_case cases[] = {__VA_ARGS__};                                       \
        return tt_run(__FILE__, cases, sizeof(cases) / sizeof(cases[0]));                          \
    }

#endif
