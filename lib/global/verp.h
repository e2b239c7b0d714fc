/*
 * verp - the envelope sender that carries a recipient id (contract §10.3).
 *
 * When a sender domain has a bounce domain, MAIL FROM is
 *
 *   b1<55 base32 characters>@<bounce domain>
 *
 * The 55 characters are the lowercase RFC 4648 base32 (no padding) of 34
 * bytes: the recipient id in binary (16 bytes job UUID, 4 bytes block
 * index, 4 bytes address index, big-endian) followed by the first 10
 * bytes of HMAC-SHA256(key, those 24 bytes). The local part is 57 octets
 * (within RFC 5321's 64), only lowercase letters and digits, so it
 * survives case folding by the remote MTA: decoding accepts any case.
 * "b1" names the format and key version; a later format takes a new
 * prefix, and old bounces keep decoding.
 *
 * The key is derived from the installation's master key
 * (HMAC-SHA256(master, "txmail-verp-v1")), so every program that holds
 * master_key_file (render encodes, bounce decodes) agrees on it without
 * another secret. A forged or altered local part fails the tag check.
 *
 * The key is set once at start-up and only read afterwards (thread-safe).
 */
#ifndef TX_VERP_H
#define TX_VERP_H

#include <stddef.h>

#define VERP_KEY_LEN 32
#define VERP_TAG_LEN 10
#define VERP_LOCAL_LEN 57 /* "b1" + base32 of 34 bytes */

/* verp_set_key - use key (32 bytes) from now on */
void verp_set_key(const unsigned char key[VERP_KEY_LEN]);
/* verp_set_key_from_master - derive the key from master_key_file's 64 hex digits; -1 when malformed */
int verp_set_key_from_master(const char *master_hex);
/* verp_have_key - 1 once a key was set */
int verp_have_key(void);

/*
 * verp_encode - the local part for rid into out (>= VERP_LOCAL_LEN + 1).
 * -1 when rid is not "<uuid>#<8 hex>#<8 hex>" or no key is set.
 */
int verp_encode(const char *rid, char *out, size_t outsz);
/* verp_address - "<local>@<bounce_domain>" into out; -1 as above or when it does not fit */
int verp_address(const char *rid, const char *bounce_domain, char *out, size_t outsz);
/*
 * verp_decode - the recipient id carried by local[0..len) into rid_out
 * (>= 55 bytes). Any case is accepted. -1 when it is not a txmail VERP
 * local part, the encoding is not canonical, or the tag does not verify.
 */
int verp_decode(const char *local, size_t len, char *rid_out, size_t outsz);

#endif
