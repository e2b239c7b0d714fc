/*
 * bounce_int - what the files of the bounce parser share (not for callers:
 * they use bounce.h).
 *
 * bounce_parse.c walks the MIME tree with GMime and collects the pieces
 * (struct bounce_parts); bounce_dsn.c reads RFC 3464 fields, bounce_arf.c
 * RFC 5965 reports, bounce_json.c Amazon SES notifications, bounce_text.c
 * interprets the table of provider text formats (bounce_formats.c);
 * bounce_scan.c holds the small text scanners they all use.
 */
#ifndef TX_BOUNCE_INT_H
#define TX_BOUNCE_INT_H

#include "bounce.h"
#include "util/buf.h"

#include <gmime/gmime.h>

#include <stddef.h>

#define BOUNCE_MAX_RECS 1000        /* records per report */
#define BOUNCE_MAX_DEPTH 8          /* nesting of multiparts */
#define BOUNCE_MAX_PARTS 128        /* MIME parts looked at */
#define BOUNCE_MAX_TEXT (1 << 20)   /* bytes kept of each collected piece */
#define BOUNCE_MAX_SCAN (256 << 10) /* bytes of text the format table looks at */
#define BOUNCE_NAMES_CHECKED 64     /* recipients looked for in a text (bounce_text_names) */

/* the pieces of a message the MIME walk collected; every buf is NUL-terminated */
struct bounce_parts {
    struct buf text;     /* the bounce's own text/plain parts (UTF-8), else its html as text */
    struct buf html;     /* text/html parts, tags removed */
    struct buf dsn;      /* message/delivery-status parts */
    struct buf feedback; /* message/feedback-report part */
    struct buf orighdr;  /* header block of the returned or reported message */
    struct buf hdr;      /* the header block of the message itself */
};

/* one provider text format: a row of bounce_formats.c (see there for the pattern language) */
struct bounce_format {
    const char *mta; /* report->mta when it matches */
    /* every list: up to its size, or to a NULL entry */
    const char *from[4];    /* substrings of From: (any matches) */
    const char *subject[4]; /* substrings of Subject: (any matches) */
    const char *has[4];     /* the text must contain one of these (when any) */
    const char *begin[12];  /* a text line containing one starts the error section */
    const char *end[8];     /* a line containing one ends it (the returned message follows) */
    const char *rcpt[12];   /* recipient line patterns */
    const char *session[4]; /* text_before: a line containing one starts a new SMTP session */
    const char *summary[4]; /* a line containing one starts the returned message's summary */
    int need_sender; /* 1: only for a From/Subject match, begin markers alone are not enough */
    int text_before; /* 1: a record's text precedes its recipient line (sendmail transcripts) */
};

extern const struct bounce_format bounce_formats[];
extern const int bounce_nformats;

/* bounce_scan.c */
struct bounce_rec *bounce_rec_add(struct bounce_report *r);
int bounce_scan_addr(const char *s, size_t n, char *out, size_t sz, size_t *end);
void bounce_scan_set(char *dst, size_t sz, const char *src);
void bounce_scan_copy(char *dst, size_t sz, const char *src, size_t n);
void bounce_scan_append(char *dst, size_t sz, const char *src, size_t n);
void bounce_scan_codes(struct bounce_rec *rec);
int bounce_scan_hdr(const char *block, const char *name, char *out, size_t sz);
const char *bounce_scan_find(const char *hay, size_t n, const char *needle);
const char *bounce_scan_line(const char *p, const char *end, size_t *len);
int bounce_scan_command(const char *d, size_t n, char *cmd, size_t sz);

/* bounce_dsn.c: records from delivery-status fields; the number added */
int bounce_dsn_read(struct bounce_report *r, const char *text);
/* records of text still without a diagnostic take their Status field's comment */
void bounce_dsn_status_text(struct bounce_report *r, const char *text);

/* bounce_arf.c: a feedback report; 1 when it was one */
int bounce_arf_read(struct bounce_report *r, const struct bounce_parts *p);

/* bounce_json.c: an Amazon SES / SNS notification in the text; 1 when it was one */
int bounce_json_read(struct bounce_report *r, const char *text);

/* bounce_text.c: records from the provider text formats; the format or NULL */
const struct bounce_format *bounce_text_match(const struct bounce_report *r, const char *text);
const struct bounce_format *bounce_text_read(struct bounce_report *r, const char *text,
                                             struct buf *orighdr);
/* the header block of a message returned inline in text, into orighdr when empty */
void bounce_text_original(const struct bounce_format *f, const char *text, struct buf *orighdr);
/* diagnostic text and command for DSN records from their paragraph of the text formats */
void bounce_text_fill(struct bounce_report *r, const struct bounce_format *f, const char *text);
/* 1 when text[0..n) names the recipient of any record of r */
int bounce_text_names(const struct bounce_report *r, const char *text, size_t n);

/* bounce_msg.c: the message with GMime */
int bounce_msg_collect(GMimeMessage *m, struct bounce_report *r, struct bounce_parts *p);
void bounce_msg_original(struct bounce_report *r, const struct bounce_parts *p);
int bounce_msg_autoreply(const struct bounce_report *r, const struct bounce_parts *p);
int bounce_msg_daemon(const struct bounce_report *r, const struct bounce_parts *p);
int bounce_msg_dsntext(const char *text);
void bounce_msg_put(struct buf *b, const char *s, size_t n);

#endif
