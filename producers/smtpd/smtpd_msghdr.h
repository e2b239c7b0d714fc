/*
 * smtpd_msghdr - the header section of a submitted message, read ONE way
 * (RFC 5322 section 2.2, 3.6), the way render and every receiver read it.
 *
 * txmail passes the submitted header on byte for byte (contract §17.4),
 * so smtpd must never see fewer, more or other fields than a later
 * reader. It therefore refuses every header section that two conforming
 * (or common lenient) parsers could split differently, and what remains
 * is split the same way by smtpd, render (render_raw.c) and GMime:
 *
 *   - the section runs up to the first empty line (or the end of the
 *     message); every line in it ends with CRLF and is either a field
 *     "name:" (name 1*<printable US-ASCII except ':'>, the colon right
 *     after it: "From :" and "From\t:" are refused) or a continuation
 *     (SP or HTAB first) of the field before it holding more than white
 *     space; no NUL, no bare CR or LF, no line without a colon, no
 *     continuation first;
 *   - GMime 3 parses the same section; a warning it calls critical, or
 *     a field list that differs from ours in any name, offset or value,
 *     refuses the message too (never expected: a cross-check);
 *   - single-instance fields (RFC 5322 3.6: Date, From, Sender, Reply-To,
 *     To, Cc, Bcc, Message-ID, In-Reply-To, References, Subject; the MIME
 *     fields MIME-Version, Content-Type, Content-Transfer-Encoding,
 *     Content-Disposition, Content-ID) and the X-RETARUS-M4A-* control
 *     fields other than NOTIFICATION-HEADER occur at most once.
 *
 * Replies: "550 5.6.0 Malformed header ..." / "550 5.6.0 Duplicate header
 * field <Name>"; two From or two Sender: "550 5.7.1 Unsupported value for
 * From|Sender" (the sender-domain policy cannot pick one).
 *
 * Address lists (From, Sender) are parsed by GMime (RFC 5322 3.4 with
 * RFC 6854 groups in From/Sender); every mailbox, group members
 * included, is checked.
 */
#ifndef TX_SMTPD_MSGHDR_H
#define TX_SMTPD_MSGHDR_H

#include "smtpd_mime.h"

#include <stddef.h>

enum smtpd_msghdr_rc {
    SMTPD_MSGHDR_OK = 0,
    SMTPD_MSGHDR_MALFORMED = -1, /* refused by the line rules or a GMime warning (reply set) */
    SMTPD_MSGHDR_DUPLICATE = -2, /* a single-instance field twice (reply set) */
    SMTPD_MSGHDR_TOO_MANY = -3,  /* more than max fields (reply set) */
    SMTPD_MSGHDR_DISAGREE = -4,  /* GMime reads it otherwise (reply set; a bug if ever seen) */
};

/*
 * smtpd_msghdr_parse - split and check the header section of msg[0..len)
 * (CRLF line ends, as smtpd_data stores a message). On success out holds
 * the fields and the body offset, as smtpd_mime_fields would; on failure
 * reply holds the SMTP reply. Ownership: out->f is new in both cases
 * (smtpd_mime_fields_free).
 */
enum smtpd_msghdr_rc smtpd_msghdr_parse(const char *msg, size_t len, struct smtpd_fields *out,
                                        int max, char *reply, size_t rsz);

/*
 * smtpd_msghdr_mailboxes - check an address-list field value v[0..n)
 * (as in the message, folds included): every mailbox, group members
 * included, must be a valid address whose domain equals domain (A-label,
 * case-insensitive). first gets the bare address of the first mailbox.
 * Returns 1 when all match, 0 when a domain differs, -1 when the value is
 * not a clean address list (GMime warns, a group nests, no mailbox at
 * all, more than 100 mailboxes, an address txmail cannot use, a domain
 * written with comments or obsolete syntax).
 */
int smtpd_msghdr_mailboxes(const char *v, size_t n, const char *domain, char *first,
                           size_t firstsz);

#endif
