/*
 * xheader - the rules for a caller's extra header names (contract §8.7):
 * an RFC 5322 field name of at most XHEADER_NAME_MAX octets that is not
 * one txmail writes itself. One list, read by the REST intake (which
 * refuses) and by render (which must never emit one).
 */
#ifndef TX_XHEADER_H
#define TX_XHEADER_H

#include <stddef.h>

#define XHEADER_NAME_MAX 76

/* xheader_name_valid - 1 when name[0..len) is a field name (printable ASCII, no ':') */
int xheader_name_valid(const char *name, size_t len);
/* xheader_reserved - 1 when name[0..len) is a header txmail writes (Content-*, From, ...) */
int xheader_reserved(const char *name, size_t len);

#endif
