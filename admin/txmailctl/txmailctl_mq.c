/* txmailctl_mq - broker administration: declare the topology. */
#include "admin/txmailctl/txmailctl.h"
#include "global/runtime/mq.h"
#include "global/txconf.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

int txmailctl_mq_main(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "declare") != 0)
        txmailctl_die("mq: expected declare");
    char *url = txconf_broker_url();
    struct mq *mq = mq_open_retry(url, "txmailctl", 5);
    xwipestr(url);
    if (mq == NULL)
        txmailctl_die("cannot connect to the broker");
    if (mq_declare_topology(mq) != TX_OK)
        txmailctl_die("cannot declare the topology");
    mq_close(mq);
    printf("broker topology declared\n");
    return 0;
}
