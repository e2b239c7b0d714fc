/*
 * txmailctl_suppression - placeholder until its issue-13 branch lands.
 */
#include "admin/txmailctl/txmailctl.h"

#include <stdio.h>

int txmailctl_suppression_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "txmailctl: suppression: not implemented yet\n");
    return 2;
}
