/*
 * NAME
 *   scan - ClamAV (libclamav) in the process: scan bytes in memory
 * SYNOPSIS
 *   #include "global/scan/scan.h"
 *
 *   struct scan *s;
 *   if (scan_open(dir, 60000, &s, err, sizeof(err)) < 0)
 *       msg_warn("scan: %s", err);     (s is usable: scans answer SCAN_ERROR
 *                                        until a load succeeds)
 *   struct scan_result r;
 *   switch (scan_buffer(s, buf, len, &r)) {
 *   case SCAN_CLEAN:    ...
 *   case SCAN_INFECTED: ... r.virus ...
 *   case SCAN_ERROR:    ... RETRY, never "clean" ... r.err ...
 *   }
 *   scan_close(s);
 * DESCRIPTION
 *   The one home for "scan these bytes with ClamAV" (the bounce worker's
 *   replies, the scan stage). Programs that use it link libclamav with
 *   `<prog>_LIBS += $(SCAN_LIBS)` (lib/global/scan/module.mk); no other
 *   program does.
 *
 *   scan_open() loads every signature database of the directory (the
 *   files cl_load() knows: .hdb, .ndb, .ldb, .cvd, .cld, ...; other files
 *   are ignored) into one compiled engine, once per process (cl_init()
 *   runs once). The engine parses archives and mail (every CL_SCAN_PARSE
 *   flag): EICAR inside a ZIP or a base64 MIME part is found in the raw
 *   bytes too. What libclamav reports over the engine's limits (100 MB
 *   file, 400 MB scanned, recursion 17) is INFECTED as
 *   "Heuristics.Limits.Exceeded..." (e.g. MaxRecursion, MaxScanSize)
 *   rather than half-scanned and clean; archive members are extracted to
 *   temporary files (a 300 MB member within the 400 MB is scanned whole).
 *
 *   Signature updates: the directory's fingerprint (name, size, mtime,
 *   inode of every file) is checked by scan_reload_if_changed(), and by
 *   scan_acquire()/scan_buffer() at most every check_ms (0: only on the
 *   explicit call); the caller that notices a change loads and compiles
 *   a new engine (the others keep scanning on the current one) and swaps
 *   it in. Scans in flight finish on the engine they started with; an
 *   engine is freed when its last scan releases it. A failed load keeps
 *   the current engine (logged; tried again when the directory changes).
 *   Write new files under a temporary name and rename them into place,
 *   so a half-written file is never loaded.
 *
 *   A missing or unreadable directory, one without any signature, or an
 *   engine failure are SCAN_ERROR with a reason: the caller retries, it
 *   never treats the bytes as clean.
 *
 *   Thread-safe: any number of threads scan with one struct scan. Nothing
 *   here logs per scan or counts: log lines and metrics are the caller's.
 */
#ifndef TX_SCAN_H
#define TX_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum scan_verdict {
    SCAN_ERROR = -1,   /* could not scan: retry, never deliver as clean */
    SCAN_CLEAN = 0,    /* no signature matched */
    SCAN_INFECTED = 1, /* r->virus names the signature */
};

#define SCAN_NAME_MAX 128
#define SCAN_ERR_MAX 256

struct scan_result {
    char virus[SCAN_NAME_MAX]; /* SCAN_INFECTED: e.g. "Txmail.Test.EICAR-NDB.UNOFFICIAL" */
    char err[SCAN_ERR_MAX];    /* SCAN_ERROR: why */
};

struct scan;        /* the directory and its current engine */
struct scan_engine; /* one compiled engine, held by the scans using it */

/*
 * scan_open - load the signature databases in sigdir. 0 when an engine is
 * loaded; -1 with err when not: *out is set in both cases (scans answer
 * SCAN_ERROR until a later check loads the directory). check_ms: the
 * automatic change check's interval (0: none). Ownership: *out new
 * (scan_close).
 */
int scan_open(const char *sigdir, int64_t check_ms, struct scan **out, char *err, size_t errsz);
/* scan_close - free s and its engine; no scan may be running. Accepts NULL. */
void scan_close(struct scan *s);
/*
 * scan_reload_if_changed - when the directory's files changed since the
 * last load attempt, load and swap in a new engine. 1 swapped, 0
 * unchanged (or another thread is loading), -1 the load failed (err; the
 * current engine stays).
 */
int scan_reload_if_changed(struct scan *s, char *err, size_t errsz);
/*
 * scan_buffer - scan buf[0..len) with the current engine (scan_acquire,
 * scan_engine_buffer, scan_release)
 */
enum scan_verdict scan_buffer(struct scan *s, const void *buf, size_t len, struct scan_result *r);
/*
 * scan_acquire - the current engine, held until scan_release, so that the
 * parts of one message are all scanned with the same signatures; NULL
 * (err) when no engine is loaded
 */
struct scan_engine *scan_acquire(struct scan *s, char *err, size_t errsz);
/* scan_release - the end of a hold; frees a replaced engine's last hold. Accepts NULL. */
void scan_release(struct scan *s, struct scan_engine *e);
/* scan_engine_buffer - scan buf[0..len) with the held engine e */
enum scan_verdict scan_engine_buffer(struct scan_engine *e, const void *buf, size_t len,
                                     struct scan_result *r);
/* scan_engine_signatures - how many signatures e holds */
unsigned scan_engine_signatures(const struct scan_engine *e);
/*
 * scan_dir_fingerprint - a hash of name, size, mtime and inode of the
 * regular files of dir (dot files skipped); 0 when dir cannot be read.
 * The change check of every reloadable engine (this one, yarascan.h).
 */
uint64_t scan_dir_fingerprint(const char *dir);
/* scan_engines - engines alive: the current one and replaced ones still scanning */
int scan_engines(struct scan *s);

#endif
