/* xheader - caller header names (contract §8.7); see xheader.h. */
#include "global/xheader.h"

#include <string.h>
#include <strings.h>

static const char *const reserved[] = {
    "From",
    "Sender",
    "To",
    "Cc",
    "Bcc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "MIME-Version",
    "Return-Path",
    "Received",
    "DKIM-Signature",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "X-Priority",
    "Importance",
    NULL,
};

int xheader_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > XHEADER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e || name[i] == ':')
            return 0;
    return 1;
}

int xheader_reserved(const char *name, size_t len)
{
    if (len >= 8 && strncasecmp(name, "Content-", 8) == 0)
        return 1;
    for (int i = 0; reserved[i]; i++)
        if (strlen(reserved[i]) == len && strncasecmp(reserved[i], name, len) == 0)
            return 1;
    return 0;
}
