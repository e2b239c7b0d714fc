/*
 * NAME
 *   mimeparts - every leaf part of a MIME message, decoded, with what it is
 * SYNOPSIS
 *   #include "global/scan/mimeparts.h"
 *
 *   static int each(const struct mimeparts_part *p, void *ctx) { ...; return 0; }
 *   int n = mimeparts_walk(raw, len, each, ctx, &info);
 * DESCRIPTION
 *   The one walk over a message's parts for content checks (the scan
 *   stage; the shape the bounce worker's reply scan walks too). The
 *   message is opened with bounce_msg_open() (GMime with the bounce
 *   parser's loose options: whatever a mail client would show is seen
 *   here) and walked depth first through multiparts and attached messages
 *   (message/rfc822, at most MIMEPARTS_DEPTH levels). Every leaf part is
 *   handed to fn decoded from its transfer encoding (base64,
 *   quoted-printable, uuencode: bounce_msg_part_content), in document
 *   order, with:
 *     name        its file name (Content-Disposition filename or
 *                 Content-Type name), else the name of the attached
 *                 message it is in, else NULL
 *     type        "type/subtype" in lower case ("text/plain" when none;
 *                 each half cut at 60 bytes)
 *     attachment  1 for a part with a file name or Content-Disposition
 *                 attachment, every part of an attached message, and every
 *                 leaf that is not text/plain or text/html (an unnamed
 *                 application/zip is content, not body text); 0 for the
 *                 body's text/plain and text/html parts
 *     index       its number among the leaves, from 1
 *     data, len   the decoded content (never NULL; "" when empty)
 *   fn returns non-zero to stop the walk.
 *
 *   info->deeper counts the subtrees left unwalked below MIMEPARTS_DEPTH
 *   (a caller that must not pass half-read content treats it as a find).
 *   Returns the number of leaves handed to fn, -1 when raw is not a message.
 */
#ifndef TX_MIMEPARTS_H
#define TX_MIMEPARTS_H

#include <stddef.h>

#define MIMEPARTS_DEPTH 20

struct mimeparts_part {
    const char *name;
    char type[128];
    int attachment;
    int index;
    int depth;
    const unsigned char *data;
    size_t len;
};

struct mimeparts_info {
    int deeper;
};

typedef int (*mimeparts_fn)(const struct mimeparts_part *p, void *ctx);

int mimeparts_walk(const char *raw, size_t len, mimeparts_fn fn, void *ctx,
                   struct mimeparts_info *info);

#endif
