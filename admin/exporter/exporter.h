/* exporter - internal interfaces of txmail-exporter (see exporter.c). */
#ifndef TX_EXPORTER_H
#define TX_EXPORTER_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

/* ---- parameters (exporter.c) ------------------------------------------- */
struct exporter_conf {
    char *address;
    long long port;
    char *allow;
    int64_t stale;
};
extern struct exporter_conf exporter_conf;

/* ---- merging expositions (exporter_merge.c) ----------------------------- */
#define EXPORTER_MAX_SERIES 65536
#define EXPORTER_MAX_FAMILIES 1024
#define EXPORTER_TYPES 5 /* counter, gauge, histogram, summary, untyped */

struct exporter_family {
    char name[128];
    char type[16];             /* counter, gauge, histogram, summary, untyped */
    char *help;                /* or NULL */
    int votes[EXPORTER_TYPES]; /* files declaring each type */
    struct buf samples;
};

struct exporter_set {
    struct exporter_family *fam;
    size_t n, cap;
    struct ttlcache *series; /* name{labels} already taken */
    long long samples, rejected, duplicates;
};

/* exporter_merge_create - an empty set. Ownership: new (exporter_merge_free). */
struct exporter_set *exporter_merge_create(void);
/* exporter_merge_free - accepts NULL */
void exporter_merge_free(struct exporter_set *s);
/*
 * exporter_merge_vote - count the TYPE lines of one exposition; after
 * every file voted, exporter_merge_decide gives each family the type most
 * files declare (ties: counter, gauge, histogram, summary, untyped first).
 * Optional: without votes the first TYPE seen wins.
 */
void exporter_merge_vote(struct exporter_set *s, const char *text, size_t len);
void exporter_merge_decide(struct exporter_set *s);
/*
 * exporter_merge_text - add one exposition (a textfile of program, process
 * pid) to s: its TYPE and HELP lines name families (the decided type,
 * else the first TYPE seen, wins; the samples of a file that declares
 * another type for the family are rejected),
 * each sample joins its family (histogram and summary samples their base
 * name's) with the labels program (kept when the sample has it) and pid
 * (always this pid), and a series already in s is left out. Malformed
 * lines are rejected. Returns the number of lines rejected.
 */
long long exporter_merge_text(struct exporter_set *s, const char *text, size_t len,
                              const char *program, long pid);
/* exporter_merge_render - the merged exposition: families by name, each with one TYPE */
void exporter_merge_render(const struct exporter_set *s, struct buf *out);

#endif
