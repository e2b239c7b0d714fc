/*
 * rest_preview - the Trace & Recover preview of a kept message (see
 * rest_preview.c).
 */
#ifndef REST_PREVIEW_H
#define REST_PREVIEW_H

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
#endif
