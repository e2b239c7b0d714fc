/* dnsq - synchronous lookups through a chosen server; see dnsq.h. */
#include "global/dnsq.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dnsq_set_servers(res_state st, const char *servers)
{
    char copy[512], *save = NULL;
    int n = 0;

    if (servers == NULL || !*servers)
        return;
    snprintf(copy, sizeof(copy), "%s", servers);
    for (char *t = strtok_r(copy, ",", &save); t && n < MAXNS; t = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(t, ':');
        int port = 53;
        struct sockaddr_in sin;

        if (colon) {
            *colon = 0;
            port = (int)strtol(colon + 1, NULL, 10);
            if (port <= 0 || port > 65535)
                continue;
        }
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, t, &sin.sin_addr) != 1)
            continue;
        st->nsaddr_list[n++] = sin;
    }
    if (n)
        st->nscount = n;
}

int dnsq_query(const char *servers, const char *name, int type, unsigned char *answer, int size)
{
    struct __res_state st;
    int len;

    memset(&st, 0, sizeof(st));
    if (res_ninit(&st) != 0)
        return -1;
    dnsq_set_servers(&st, servers);
    st.retrans = 2;
    st.retry = 2;
    len = res_nquery(&st, name, ns_c_in, type, answer, size);
    if (len < 0) {
        int herr = st.res_h_errno;
        res_nclose(&st);
        return herr == HOST_NOT_FOUND || herr == NO_DATA ? 0 : -1;
    }
    res_nclose(&st);
    return len;
}

int dnsq_count(const char *servers, const char *name, int type)
{
    unsigned char answer[4096];
    ns_msg msg;
    int len, count;

    len = dnsq_query(servers, name, type, answer, sizeof(answer));
    if (len <= 0)
        return len;
    if (ns_initparse(answer, len, &msg) < 0)
        return -1;
    count = 0;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) == 0 && (int)ns_rr_type(rr) == type)
            count++;
    }
    return count;
}
