/*
 * NAME
 *   yarascan - YARA (libyara) in the process: match project rules on bytes in memory
 * SYNOPSIS
 *   #include "global/scan/yarascan.h"
 *
 *   struct yarascan *y;
 *   if (yarascan_open(dir, 60000, &y, err, sizeof(err)) < 0)
 *       msg_warn("yara: %s", err);     (y is usable: scans answer SCAN_ERROR
 *                                        until a load succeeds)
 *   struct yarascan_rules *r = yarascan_acquire(y, err, sizeof(err));
 *   switch (yarascan_rules_buffer(r, buf, len, &res)) {
 *   case SCAN_CLEAN: ...  case SCAN_INFECTED: ... res.virus (the rule) ...
 *   case SCAN_ERROR: ... RETRY, never "clean" ...
 *   }
 *   yarascan_release(y, r);
 *   yarascan_close(y);
 * DESCRIPTION
 *   The second engine of the scan stage, beside ClamAV (scan.h), with the
 *   same life cycle: yarascan_open() compiles every rule file of the
 *   directory (names ending in .yar or .yara; other files are ignored) into
 *   one rule set, once per process (yr_initialize() runs once). The
 *   directory's fingerprint (scan_dir_fingerprint, scan.h) is checked at
 *   most every check_ms by yarascan_acquire() (and on the explicit
 *   yarascan_reload_if_changed()); the thread that notices a change
 *   compiles a new rule set while the others keep scanning, and swaps it
 *   in. Scans in flight finish on the rules they started with; a rule set
 *   is freed when its last scan releases it. A rule file that does not
 *   compile fails the whole load: the current rules stay (logged), and the
 *   load is tried again when the directory changes. Write new files under
 *   a temporary name and rename them into place.
 *
 *   A missing directory, one without any rule, a compile error on the first
 *   load or a scan error (timeout, too many matches) is SCAN_ERROR with a
 *   reason. A match is SCAN_INFECTED with the first matching rule's
 *   identifier, prefixed "YARA." (e.g. "YARA.Txmail_Test_Marker").
 *
 *   Thread-safe: any number of threads scan with one struct yarascan.
 *   Nothing here logs per scan or counts.
 */
#ifndef TX_YARASCAN_H
#define TX_YARASCAN_H

#include "global/scan/scan.h"

#include <stddef.h>
#include <stdint.h>

#define YARASCAN_TIMEOUT_S 30 /* one buffer's scan: longer is SCAN_ERROR */

struct yarascan;       /* the directory and its current rules */
struct yarascan_rules; /* one compiled rule set, held by the scans using it */

/*
 * yarascan_open - compile the rule files of dir. 0 when rules are loaded;
 * -1 with err when not: *out is set in both cases. check_ms: the automatic
 * change check's interval (0: none). Ownership: *out new (yarascan_close).
 */
int yarascan_open(const char *dir, int64_t check_ms, struct yarascan **out, char *err,
                  size_t errsz);
/* yarascan_close - free y and its rules; no scan may be running. Accepts NULL. */
void yarascan_close(struct yarascan *y);
/* yarascan_reload_if_changed - 1 swapped, 0 unchanged or busy, -1 the load failed (err) */
int yarascan_reload_if_changed(struct yarascan *y, char *err, size_t errsz);
/* yarascan_acquire - the current rules, held until yarascan_release; NULL (err) when none */
struct yarascan_rules *yarascan_acquire(struct yarascan *y, char *err, size_t errsz);
/* yarascan_release - the end of a hold; frees a replaced rule set's last hold. Accepts NULL. */
void yarascan_release(struct yarascan *y, struct yarascan_rules *r);
/* yarascan_rules_buffer - match buf[0..len) against the held rules r */
enum scan_verdict yarascan_rules_buffer(struct yarascan_rules *r, const void *buf, size_t len,
                                        struct scan_result *res);
/* yarascan_rules_count - how many rules r holds */
unsigned yarascan_rules_count(const struct yarascan_rules *r);
/* yarascan_engines - rule sets alive: the current one and replaced ones still scanning */
int yarascan_engines(struct yarascan *y);

#endif
