/*
 * securezip - internals of txmail-securezip shared by its files (see
 * securezip.c for the manual): the password generator (securezip_pw.c)
 * and the AES-256 ZIP builder (securezip_pack.c).
 */
#ifndef TX_SECUREZIP_H
#define TX_SECUREZIP_H

#include "util/buf.h"

#include <stddef.h>

/* ---- parameters (securezip.c) ----------------------------------------- */

struct securezip_conf {
    size_t zip_limit; /* securezip_zip_size_limit */
};
extern struct securezip_conf securezip_conf;

/* ---- passwords (securezip_pw.c) ---------------------------------------- */

/* the contract's characters: A-Z a-z 0-9 without 0 O o 1 l I (56) */
#define SECUREZIP_PW_ALPHABET                                                                      \
    "ABCDEFGHJKLMNPQRSTUVWXYZ"                                                                     \
    "abcdefghijkmnpqrstuvwxyz"                                                                     \
    "23456789"
#define SECUREZIP_PW_MAX 15

/* a byte source: fill buf[0..n), 0 on success (RAND_bytes in production) */
typedef int (*securezip_rand_fn)(unsigned char *buf, size_t n);

/* securezip_pw_length - 8, 10 or 15 by passwordType (NULL: high), -1 unknown */
int securezip_pw_length(const char *type);
/*
 * securezip_pw_make - a password of len characters into out (len + 1
 * bytes): each character drawn uniformly from the alphabet by rejection
 * sampling of bytes from rnd (no modulo bias); a draw without an upper-case
 * letter, a lower-case letter and a digit is thrown away whole, so every
 * valid password is equally likely. rnd NULL: OpenSSL's RAND_bytes. -1
 * when the source fails or len is out of range.
 */
int securezip_pw_make(char *out, int len, securezip_rand_fn rnd);
/* securezip_pw_valid - 1 when pw follows the contract's rules for its length */
int securezip_pw_valid(const char *pw);

/* ---- the ZIP (securezip_pack.c) ---------------------------------------- */

struct securezip_entry {
    char name[256]; /* entry name, sanitised (securezip_pack_names) */
    const unsigned char *data;
    size_t len;
};

/*
 * securezip_pack_names - entry names from the attachments' names: path
 * separators, control characters and leading dots become '_', empty
 * becomes "attachment", duplicates get "-2", "-3"... before the extension
 */
void securezip_pack_names(struct securezip_entry *e, size_t n, const char *const *names);
/*
 * securezip_pack_build - one ZIP of the entries, each AES-256 (WinZip AE-2)
 * under password, into out (its maximum is the size limit). 0 done, -1
 * with err (libzip's error, or the size limit).
 */
int securezip_pack_build(const struct securezip_entry *e, size_t n, const char *password,
                         struct buf *out, char *err, size_t errsz);

#endif
