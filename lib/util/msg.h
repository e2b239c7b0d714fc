/*
 * msg - diagnostics in three tiers (after Postfix msg.c).
 *
 * msg_info/msg_warn: one line to the log. msg_fatal: the process cannot go
 * on (bad configuration, out of memory, lost broker): log and exit(1).
 * msg_panic: a broken invariant: log and abort() for a core.
 *
 * Lines look like "2026-11-28T16:45:00.123Z render[4711]: text". The
 * program name is set once with msg_init(). Output goes to stderr, or to
 * the file given to msg_open_file() (appended; reopened on SIGHUP by the
 * caller if it wishes).
 */
#ifndef TX_MSG_H
#define TX_MSG_H

#include <stdarg.h>
#include <stddef.h>

void msg_init(const char *progname);
const char *msg_progname(void);
int msg_open_file(const char *path);
void msg_set_verbose(int level);
extern int msg_verbose;

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_vprintf(const char *level, const char *fmt, va_list ap);

/*
 * msg_cleanup_hook - called by msg_fatal before exit (e.g. to stop a
 * listener). Must not call msg_fatal itself.
 */
void msg_set_fatal_hook(void (*hook)(void));

/*
 * msg_printable - copy untrusted text into out (size outsz) replacing
 * control characters and non-UTF-8 bytes by '?', truncating with "...".
 * Returns out. Ownership: out is borrowed from the caller.
 */
char *msg_printable(char *out, size_t outsz, const char *in, size_t inlen);

#endif
