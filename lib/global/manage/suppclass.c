/*
 * suppclass - the suppression class of a bounce (contract §13.1); the
 * rules are in suppclass.h.
 */
#include "global/manage/suppclass.h"

#include <string.h>
#include <strings.h>

int suppclass_listed(const char *dsn, const char *list)
{
    const char *p = list;

    if (dsn == NULL || !*dsn)
        return 0;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0) {
            if (p[n - 1] == '*') {
                if (strncmp(dsn, p, n - 1) == 0)
                    return 1;
            } else if (strlen(dsn) == n && strncmp(dsn, p, n) == 0) {
                return 1;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* unknown_text - the text says the mailbox or domain does not exist */
static int unknown_text(const char *text)
{
    static const char *const words[] = {
        "user unknown",
        "unknown user",
        "no such user",
        "no such mailbox",
        "no such recipient",
        "mailbox not found",
        "recipient not found",
        "does not exist",
        "doesn't exist",
        "unknown recipient",
        "invalid recipient",
        "no mailbox here",
        "address rejected: user unknown",
        "account disabled",
        NULL,
    };

    for (int i = 0; words[i]; i++)
        if (strcasestr(text, words[i]))
            return 1;
    return 0;
}

/* own_sake - a code txmail gives a message it could not send for the message's own sake */
static int own_sake(const char *dsn)
{
    return strcmp(dsn, "5.1.3") == 0 || strcmp(dsn, "5.1.7") == 0 || strcmp(dsn, "5.3.4") == 0 ||
           strcmp(dsn, "5.6.7") == 0;
}

static int set(struct suppclass *out, const char *type, long long lifetime_s)
{
    out->type = type;
    out->lifetime_s = lifetime_s;
    return 1;
}

int suppclass_decide(const char *dsn, const char *text, int flags, const char *exclude,
                     struct suppclass *out)
{
    const char *sd;

    if (dsn == NULL)
        dsn = "";
    if (exclude && *exclude && suppclass_listed(dsn, exclude))
        return 0;
    if (!(flags & SUPPCLASS_PERMANENT))
        return set(out, "TEMPORARY_SUPPRESSED", SUPPCLASS_1D);
    if ((flags & SUPPCLASS_LOCAL) && own_sake(dsn))
        return 0;
    if ((sd = strchr(dsn, '.')) != NULL && strcmp(sd, ".2.2") == 0)
        return set(out, "TEMPORARY_SUPPRESSED", SUPPCLASS_1D);
    if (strcmp(dsn, "5.1.0") == 0 || strcmp(dsn, "5.1.1") == 0 || strcmp(dsn, "5.1.2") == 0 ||
        strcmp(dsn, "5.1.10") == 0 ||
        ((!*dsn || strcmp(dsn, "5.0.0") == 0 || strcmp(dsn, "5.5.0") == 0) && text &&
         unknown_text(text)))
        return set(out, "PREVIOUSLY_BOUNCED", SUPPCLASS_45D);
    return set(out, "PREVIOUSLY_BOUNCED", SUPPCLASS_7D);
}

json_t *suppclass_extra(const char *address, const struct suppclass *c, const char *reason)
{
    return json_pack("{s:{s:s,s:s,s:I,s:s}}", "suppress", "address", address, "type", c->type,
                     "lifetime_s", (json_int_t)c->lifetime_s, "reason", reason ? reason : "");
}
