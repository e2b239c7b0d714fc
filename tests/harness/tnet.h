/*
 * tnet - socket addresses for unit tests: tnet_addr("192.0.2.1") or
 * tnet_addr("2001:db8::1") is a sockaddr_storage holding that address
 * (port 0); a text that is no address fails the test.
 */
#ifndef TNET_H
#define TNET_H

#include "ttest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static inline struct sockaddr_storage tnet_addr(const char *s)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, s, &a4->sin_addr) == 1)
        a4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1)
        a6->sin6_family = AF_INET6;
    else
        TT_FAIL("bad test address %s", s);
    return ss;
}

#endif
