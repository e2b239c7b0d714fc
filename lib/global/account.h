/*
 * account - the settings of a technical account (account.settings JSON)
 * merged over txmail's defaults, so every program reads one view:
 *
 * {
 *  "features": {            which features the account may switch on
 *    "tracking": true, "templates": true, "antivirus": false,
 *    "secureDocument": false, "traceRecover": false, "spamCheck": false,
 *    "messageSigning": false, "oneClickUnsubscribe": false,
 *    "autoEscapeHtml": false },
 *  "defaults": {            values a job gets when it says nothing
 *    "openTracking": false, "linkTracking": false, "antivirus": false,
 *    "antivirusScope": "attachments", "traceRecover": false,
 *    "secureDocument": false, "spamCheck": false, "spamMode": "score-only",
 *    "spamThreshold": 5.0, "messageSigning": false,
 *    "secureDocumentPasswordType": "high" },
 *  "forbiddenRecipients": [],   local parts (case-insensitive)
 *  "forbiddenSenders": [],      local parts
 *  "forbiddenExtensions": [...],attachment extensions (contract §4.7)
 *  "trackingWindowDays": 10,
 *  "rateLimit": 0,              requests per second, 0 = off
 *  "concurrencyLimit": null,    concurrent requests, 0 = off, null =
 *                               txmail-rest's rest_account_concurrency
 *  "replyForward": null,        where replies to VERP and rewrite addresses
 *                               go (txmail-bounce); null = the original sender
 *  "adminEmail": null,          who hears of infected replies (txmail-bounce)
 *  "archiveBcc": null,
 *  "notifyEventTypes": null     null = all
 * }
 */
#ifndef TX_ACCOUNT_H
#define TX_ACCOUNT_H

#include <jansson.h>

/* account_settings - defaults merged with stored (may be NULL or ""). Ownership: new. */
json_t *account_settings(const char *stored);
/* account_feature - features.<name> as 0/1 */
int account_feature(json_t *settings, const char *name);
/* account_default_bool - defaults.<name> as 0/1 */
int account_default_bool(json_t *settings, const char *name);
/* account_settings_default_text - the defaults as JSON text. Ownership: new. */
char *account_settings_default_text(void);
/* account_list_has - 1 when array key of settings contains s (case-insensitive) */
int account_list_has(json_t *settings, const char *key, const char *s, size_t len);

#endif
