/*
 * tracktoken - open, click and unsubscribe tokens (contract §15.5), byte
 * for byte:
 *
 *   token   = base64url-unpadded( payload || tag )
 *   payload = 0x01 | key id (1) | kind 'o'/'c'/'u' (1) | job UUID (16)
 *             | block index (4, BE) | address index (4, BE)
 *             | expiry (4, BE, Unix seconds) | for 'c': the URL (UTF-8)
 *   tag     = HMAC-SHA256(key[key id], host | 0x00 | payload), all 32 bytes
 *
 * host is the tracking host the token is issued for, lower-case and
 * without port (tracktoken_host), so a token verifies only on that host:
 * one tenant's link never redirects on another tenant's tracking host,
 * and the check needs no database.
 *
 * Keys come from tracking_keys_file: one "id:hex" per line (id 0..255,
 * at least 16 bytes of key), newest first; '#' comments and blank lines
 * are ignored. New tokens use the first key; every listed key verifies.
 *
 * Decoding is strict: anything but the canonical encoding of a token
 * whose tag verifies under a listed key is refused, so no caller ever
 * acts on an attacker-chosen URL. Expiry is the caller's decision (the
 * answers differ per kind).
 */
#ifndef TX_TRACKTOKEN_H
#define TX_TRACKTOKEN_H

#include "global/ids.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

#define TRACK_OPEN 'o'
#define TRACK_CLICK 'c'
#define TRACK_UNSUB 'u'

#define TRACK_VERSION 0x01
#define TRACK_FIXED_LEN 31 /* payload without the URL */
#define TRACK_TAG_LEN 32
#define TRACK_URL_MAX 8192 /* longest URL a click token carries */
#define TRACK_TOKEN_MAX (((TRACK_FIXED_LEN + TRACK_TAG_LEN + TRACK_URL_MAX) * 4 + 2) / 3)
#define TRACK_UNSUB_DAYS 45 /* unsubscribe tokens: the message record's life */
#define TRACK_HOST_MAX 256  /* longest tracking host name (with [] of an IPv6 literal) */

struct track_keys;

struct track_token {
    int kind;        /* TRACK_OPEN, TRACK_CLICK, TRACK_UNSUB */
    unsigned key_id; /* filled by decode; encode uses the newest */
    struct uuid job;
    uint32_t block, addr;
    uint32_t expiry; /* Unix seconds */
    const char *url; /* TRACK_CLICK: borrowed (decode: into scratch) */
    size_t url_len;
};

/*
 * tracktoken_keys_parse - the key set from the text of tracking_keys_file; NULL
 * with the reason in err when a line is malformed or there is no key.
 * Ownership: new (tracktoken_keys_free wipes the keys).
 */
struct track_keys *tracktoken_keys_parse(const char *text, char *err, size_t errsz);
void tracktoken_keys_free(struct track_keys *k);
/* tracktoken_keys_count - number of keys */
int tracktoken_keys_count(const struct track_keys *k);

/*
 * tracktoken_host - the host of a URL ("https://T.example.com:8443/x") or
 * of a Host header ("t.example.com:8443") as the MAC covers it: lower-case,
 * no port, no user information; an IPv6 literal keeps its brackets. -1
 * when there is no host or it does not fit out (TRACK_HOST_MAX + 1).
 */
int tracktoken_host(const char *s, char *out, size_t outsz);

/*
 * tracktoken_encode - append the token of t for tracking host host (as
 * tracktoken_host makes it; key: the newest) to out; -1 when the URL is
 * too long or out's maximum is reached.
 */
int tracktoken_encode(const struct track_keys *k, const char *host, const struct track_token *t,
                      struct buf *out);

/*
 * tracktoken_decode - verify and decode s[0..len) as presented on tracking
 * host host. 0 with *t filled (its url points into scratch, which is reset
 * first), -1 for anything that is not a genuine token of that host. Runs
 * in constant time in the tag comparison.
 */
int tracktoken_decode(const struct track_keys *k, const char *host, const char *s, size_t len,
                      struct track_token *t, struct buf *scratch);

/* tracktoken_rid - the recipient id a token stands for into out (>= RID_STR_LEN + 1) */
char *tracktoken_rid(char *out, const struct track_token *t);

#endif
