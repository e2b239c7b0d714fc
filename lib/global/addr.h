/*
 * addr - email address strings as the contract accepts them (§4.8):
 *
 *   local@domain
 *   Display Name <local@domain>      (with or without a space before '<')
 *   "Doe, John" <local@domain>
 *
 * Local part: dot-atom or quoted string, at most 64 octets, UTF-8 allowed
 * (then delivery needs SMTPUTF8). Domain: at least two labels, LDH after
 * IDNA conversion (internationalized names become A-labels), no address
 * literals, at most 253 octets. Leading and trailing white space is
 * removed first. The whole string may be at most 254 characters (the
 * caller checks that limit: it is a different error).
 */
#ifndef TX_ADDR_H
#define TX_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 253

struct addr {
    char display[1024];                 /* unquoted display name, UTF-8; "" if none */
    char local[ADDR_LOCAL_MAX * 2 + 3]; /* as written (quoted form kept) */
    char domain[ADDR_DOMAIN_MAX + 1];   /* lowercase A-label form */
    char bare[ADDR_LOCAL_MAX * 2 + 3 + 1 + ADDR_DOMAIN_MAX + 1]; /* local@domain */
    int utf8_local; /* local part has non-ASCII: SMTPUTF8 */
};

/* addr_parse - parse in[0..len); 0 on success, -1 on bad syntax */
int addr_parse(const char *in, size_t len, struct addr *out);
/* addr_parse_bare - only local@domain (envelope addresses, no display name) */
int addr_parse_bare(const char *in, size_t len, struct addr *out);
/* addr_trim - pointer/length of in without leading and trailing white space */
const char *addr_trim(const char *in, size_t len, size_t *outlen);
/* addr_domain_valid - LDH check of an A-label domain with >= 2 labels */
int addr_domain_valid(const char *domain);
/* addr_lower - lowercase ASCII of the bare address into out (suppression key) */
char *addr_lower(char *out, size_t outsz, const char *bare);

#endif
