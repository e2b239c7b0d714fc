/*
 * txmailctl_report - placeholder until its issue-13 branch lands.
 */
#include "admin/txmailctl/txmailctl.h"

#include <stdio.h>

int txmailctl_report_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "txmailctl: report: not implemented yet\n");
    return 2;
}
