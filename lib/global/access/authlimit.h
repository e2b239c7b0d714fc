/*
 * authlimit - the limits on password guessing, shared by txmail-rest and
 * txmail-smtpd (applied by auth_basic, auth.h):
 *
 *  - a failure score per client address group and one per user. Each
 *    failed password check adds 1; the score halves every
 *    authlimit_conf.decay_ms. While a score is at its limit the group
 *    or user is blocked: its attempts are refused before the database
 *    is read or the KDF runs, until the score has decayed below the
 *    limit (authlimit_blocked says after how many seconds). Addresses
 *    are grouped by netaddr_group_text (netaddr.h): an IPv4 address is
 *    a group of its own, IPv6 addresses are grouped per /64, an
 *    IPv4-mapped IPv6 address is the IPv4 address. Refused attempts do not add to
 *    the score, so a client that waits as long as it was told gets in.
 *  - a bound on concurrent KDF runs (authlimit_kdf_enter never waits):
 *    the threads of a server are never all tied up in the KDF, so
 *    requests that need none (cached credentials, refusals) are served.
 *    With kdf_pace, a thread that ran the KDF for d ms starts no other
 *    run for the next d ms while other runs are in progress: under a
 *    flood, a server thread that serves many connections in turn
 *    (libmicrohttpd's thread pool) spends at most about half its time in
 *    the KDF, so a request that needs none waits for one run, not for one
 *    per connection of its thread.
 *
 * Scores live in one table of AUTHLIMIT_SLOTS entries (4-way sets; a
 * full set gives up its lowest decayed score). State is per process.
 * Thread-safe. Times are monotonic milliseconds (timeutil_mono_ms), passed
 * in so tests can drive the clock.
 */
#ifndef TX_AUTHLIMIT_H
#define TX_AUTHLIMIT_H

#include <stddef.h>
#include <stdint.h>

#define AUTHLIMIT_SLOTS 8192
#define AUTHLIMIT_KEY_MAX 112

enum authlimit_kind { AUTHLIMIT_ADDR, AUTHLIMIT_USER };

struct authlimit_conf {
    long long addr_limit; /* failures of an address group that block it; 0: no limit */
    long long user_limit; /* failures of a user that block it; 0: no limit */
    int64_t decay_ms;     /* half-life of a score */
    long long kdf_max;    /* KDF runs at once; 0: no bound */
    int kdf_pace;         /* a thread rests as long as its last KDF run took */
};

/* defaults: 10 per group, 30 per user, 10 minutes, 4 KDF runs, no pace */
extern struct authlimit_conf authlimit_conf;

/*
 * authlimit_blocked - 0 when key (an address text for AUTHLIMIT_ADDR, a
 * user key for AUTHLIMIT_USER) may try now, else the seconds (>= 1)
 * until it may.
 */
int authlimit_blocked(enum authlimit_kind kind, const char *key, int64_t now);
/* authlimit_failed - count a failed password check of key; returns its score */
double authlimit_failed(enum authlimit_kind kind, const char *key, int64_t now);
/*
 * authlimit_kdf_enter - 1: a KDF slot is taken, give it back with
 * authlimit_kdf_leave; 0: all busy (or this thread rests, kdf_pace)
 */
int authlimit_kdf_enter(int64_t now);
void authlimit_kdf_leave(int64_t started, int64_t now);
/* authlimit_reset - forget every score (tests) */
void authlimit_reset(void);

#endif
