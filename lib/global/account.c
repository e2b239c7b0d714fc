/* account - account settings over defaults; see account.h. */
#include "global/account.h"
#include "util/mymalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char defaults_text[] =
    "{\"features\":{\"tracking\":true,\"templates\":true,\"antivirus\":false,"
    "\"secureDocument\":false,\"traceRecover\":false,\"spamCheck\":false,"
    "\"messageSigning\":false,\"oneClickUnsubscribe\":false,\"autoEscapeHtml\":false},"
    "\"defaults\":{\"openTracking\":false,\"linkTracking\":false,\"antivirus\":false,"
    "\"antivirusScope\":\"attachments\",\"traceRecover\":false,\"secureDocument\":false,"
    "\"spamCheck\":false,\"spamMode\":\"score-only\",\"spamThreshold\":5.0,"
    "\"messageSigning\":false,\"secureDocumentPasswordType\":\"high\"},"
    "\"forbiddenRecipients\":[],\"forbiddenSenders\":[],"
    "\"forbiddenExtensions\":[\"ade\",\"adp\",\"app\",\"bat\",\"chm\",\"cmd\",\"com\",\"cpl\","
    "\"exe\",\"hta\",\"inf\",\"ins\",\"isp\",\"jar\",\"js\",\"jse\",\"lnk\",\"msc\",\"msi\","
    "\"msp\",\"mst\",\"pif\",\"ps1\",\"reg\",\"scr\",\"sct\",\"shb\",\"shs\",\"vb\",\"vbe\","
    "\"vbs\",\"ws\",\"wsc\",\"wsf\",\"wsh\"],"
    "\"trackingWindowDays\":10,\"rateLimit\":0,\"concurrencyLimit\":null,"
    "\"replyForward\":null,\"adminEmail\":null,\"archiveBcc\":null,\"notifyEventTypes\":null}";

char *account_settings_default_text(void)
{
    return xstrdup(defaults_text);
}

json_t *account_settings(const char *stored)
{
    json_t *d = json_loads(defaults_text, 0, NULL), *s;

    if (stored && *stored && (s = json_loads(stored, 0, NULL)) != NULL) {
        if (json_is_object(s))
            json_object_update_recursive(d, s);
        json_decref(s);
    }
    return d;
}

int account_feature(json_t *settings, const char *name)
{
    return json_is_true(json_object_get(json_object_get(settings, "features"), name));
}

int account_default_bool(json_t *settings, const char *name)
{
    return json_is_true(json_object_get(json_object_get(settings, "defaults"), name));
}

int account_list_has(json_t *settings, const char *key, const char *s, size_t len)
{
    json_t *arr = json_object_get(settings, key), *v;
    size_t i;

    json_array_foreach (arr, i, v) {
        if (json_is_string(v) && json_string_length(v) == len &&
            strncasecmp(json_string_value(v), s, len) == 0)
            return 1;
    }
    return 0;
}
