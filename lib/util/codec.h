/*
 * codec - base64 (RFC 4648, standard and url alphabets), hex,
 * quoted-printable decoding and UTF-8 validation. All decoders treat
 * input as hostile: strict, bounded, no out-of-range reads.
 */
#ifndef TX_CODEC_H
#define TX_CODEC_H

#include "util/buf.h"
#include <stddef.h>
#include <stdint.h>

/* codec_b64_encode - standard alphabet, padded, no line breaks; appends to out */
int codec_b64_encode(struct buf *out, const void *data, size_t len);
/* codec_b64_encode_lines - as above, CRLF after every 76 characters (MIME) */
int codec_b64_encode_lines(struct buf *out, const void *data, size_t len);
/*
 * codec_b64_decode - strict standard base64; CR, LF (and, when lenient_ws,
 * also space and tab) are skipped; padding required; non-zero unused
 * bits refused. Appends to out; -1 on bad input.
 */
int codec_b64_decode(struct buf *out, const char *in, size_t len, int lenient_ws);
/* codec_b64url_encode - unpadded url alphabet (tracking tokens) */
int codec_b64url_encode(struct buf *out, const void *data, size_t len);
/* codec_b64url_decode - canonical unpadded url alphabet only; -1 otherwise */
int codec_b64url_decode(struct buf *out, const char *in, size_t len);
/* codec_b64_value - the standard alphabet's value (0-63) of every byte, -1 for the others */
extern const signed char codec_b64_value[256];
/* codec_b64_decoded_max - upper bound of decoded size */
size_t codec_b64_decoded_max(size_t len);

/* codec_hex_encode - lowercase hex of data into out (2*len+1 bytes) */
char *codec_hex_encode(char *out, const void *data, size_t len);
/* codec_hex_digit - value of one hex digit (either case), -1 when c is none */
int codec_hex_digit(int c);
/* codec_hex_decode - exactly 2*len hex digits into out; -1 on bad input */
int codec_hex_decode(void *out, const char *in, size_t len);

/*
 * codec_qp_decode - quoted-msg_printable (RFC 2045) into out; soft line breaks
 * removed; a malformed "=" sequence is an error (-1).
 */
int codec_qp_decode(struct buf *out, const char *in, size_t len);

/* codec_utf8_valid - 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates) */
int codec_utf8_valid(const char *s, size_t len);
/* codec_utf8_count - number of code points (s must be valid) */
size_t codec_utf8_count(const char *s, size_t len);

#endif
