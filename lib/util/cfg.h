/*
 * cfg - one "name = value" file shared by all programs, typed parameter
 * tables with defaults and bounds (after Redis config.c and Postfix
 * main.cf).
 *
 * A program passes one or more tables. Each entry names a parameter, its
 * type, where to store it, its default and, for numbers, its bounds.
 * cfg_load() reads the file, then applies "-o name=value" overrides; any
 * bad value stops start-up with "file:line: ..." (msg_fatal).
 *
 * Names: "<program>_<thing>" or unprefixed shared names. A name that
 * belongs to another program (its prefix is in the foreign list) is
 * ignored; any other unknown name is an error, so typos are caught.
 *
 * Parameters whose name ends in "_file" and are flagged CFG_SECRET_FILE
 * hold a path; the value stored is the file's content with trailing
 * white space removed. Such values are never printed. A secret file
 * must be a regular file owned by the running user or root with no
 * permission for group or others (as ssh wants of a private key);
 * anything else stops start-up naming the file.
 */
#ifndef TX_CFG_H
#define TX_CFG_H

#include <stdint.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_TIME, CFG_SIZE };

#define CFG_SECRET_FILE 1 /* value is a path; load the secret it holds */

struct cfg_param {
    const char *name;
    enum cfg_type type;
    void *ptr;          /* char **, long long *, int *, int64_t * (ms), size_t * */
    const char *def;    /* default, as text */
    long long min, max; /* bounds for INT, TIME (ms), SIZE (bytes); 0,0 = none */
    int flags;
    const char *doc; /* one line, for -n and the manual */
    /* filled in by cfg_load */
    int set;      /* 1 when given in the file or with -o */
    char *origin; /* "file:line" or "-o" */
};

struct cfg_table {
    struct cfg_param *params;
};

/*
 * cfg_load - parse path (may be NULL: defaults only), then the overrides
 * (array of "name=value", n entries). tables is NULL-terminated.
 * foreign is a NULL-terminated list of program prefixes to ignore.
 * Dies with file:line on any error.
 */
void cfg_load(const char *path, struct cfg_param **tables, const char *const *foreign,
              char **overrides, int n);
/* cfg_check - like cfg_load but returns -1 with a message in err instead of dying */
int cfg_check(const char *path, struct cfg_param **tables, const char *const *foreign,
              char **overrides, int n, char *err, int errsz);
/* cfg_print_nondefault - print "name = value" for every parameter set (-n) */
void cfg_print_nondefault(struct cfg_param **tables);
/* cfg_parse_size - "20m", "512k", "100" into bytes */
int cfg_parse_size(const char *s, long long *out);
/* cfg_free - release strings owned by the tables */
void cfg_free(struct cfg_param **tables);

#endif
