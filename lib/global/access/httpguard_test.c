/* httpguard_test - a bad exempt network stops start-up (client groups and network lists: netaddr_test). */
#include "global/access/httpguard.h"
#include "tests/harness/ttest.h"


TT_TEST(create_refuses_bad_networks)
{
    struct httpguard_conf ok = {"t", 10, 1000, "10.0.0.0/8,::1"};
    struct httpguard *g = httpguard_create(&ok);

    TT_ASSERT(g != NULL);
    httpguard_free(g);
    httpguard_free(NULL);
    /* a bad network stops start-up (msg_fatal) */
    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/8, nonsense", "::1/129",
                                      "10.0.0.0/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            struct httpguard_conf c = {"t", 10, 1000, bad[i]};
            httpguard_create(&c);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
            TT_FAIL("exempt list \"%s\" accepted", bad[i]);
    }
}

TT_MAIN(TT_CASE(create_refuses_bad_networks))
