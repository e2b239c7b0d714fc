/*
 * rest_preview - the Trace & Recover preview of a kept message (see
 * rest_preview.c) and the lookup of the kept copy.
 */
#ifndef REST_PREVIEW_H
#define REST_PREVIEW_H

#include "global/db.h"
#include "util/buf.h"

#include <jansson.h>
#include <stddef.h>

#define REST_PREVIEW_CHARS 1000 /* characters of the preview (contract §16.2) */

/*
 * rest_preview_cut - the first nchars characters of s[0..len) onto out:
 * whole UTF-8 sequences only, '\r' and NUL left out, any byte that is not
 * UTF-8 as U+FFFD. Returns the characters written.
 */
size_t rest_preview_cut(const char *s, size_t len, size_t nchars, struct buf *out);
/* rest_preview_text - the preview of the message raw[0..len) (a JSON string). Ownership: new. */
json_t *rest_preview_text(const char *raw, size_t len);
/*
 * rest_preview_lookup - the traceRecover object of rid (day: its rday) of
 * account: {"storedUntil","preview"} when a copy is kept and not expired,
 * else JSON null. TX_OK or TX_RETRY_DB. Ownership: new.
 */
enum tx_code rest_preview_lookup(struct db *db, long long account, const char *rid, const char *day,
                                 json_t **out);

#endif
