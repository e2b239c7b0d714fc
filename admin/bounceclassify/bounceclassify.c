/*
 * NAME
 *   txmail-bounce-classify - what the bounce processor makes of messages
 * SYNOPSIS
 *   txmail-bounce-classify [--diagnostic] FILE...
 * DESCRIPTION
 *   Parses every FILE (one message each, as received) with bounce_parse()
 *   (lib/global/bounce/bounce.h) and prints a tab-separated table on
 *   standard output: the header line
 *     file recipient status reason hardbounce replycode feedbacktype
 *   then one row per record the parser gives: file is the FILE's base
 *   name, an empty value is "-", hardbounce is 1, 0 or "-" (not a
 *   bounce). A message without records (a reply, an unknown message)
 *   gives no row. --diagnostic appends the column diagnostic_code (the
 *   error text, cut at 120 characters).
 *
 *   The columns are those of the bounce corpus's expected.tsv
 *   (tests/scripts/bounce_corpus_test.sh compares them) and the tool is
 *   the parser's throughput benchmark (bench/bench_bounce.py).
 *
 *   A FILE may be a mailbox (mbox): a line "From sender date" (at least
 *   six words, a time, a year at the end) starts the next message.
 *
 *   A FILE that cannot be read is named on standard error; the others
 *   are still done and the exit status is then 1, else 0.
 * CONSUMES
 *   nothing (reads the files named).
 * PUBLISHES
 *   nothing.
 * WRITES
 *   standard output only.
 * PARAMETERS
 *   none: a plain tool, it reads no configuration.
 * METRICS
 *   none.
 */
#include "global/bounce/bounce.h"
#include "util/mymalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUNCECLASSIFY_MAX_FILE (64 << 20) /* bigger files are cut here */

/* slurp - the contents of path (new), -1 with errno on failure */
static int slurp(const char *path, char **data, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    size_t cap = 65536, n = 0, got;
    char *buf;

    if (fp == NULL)
        return -1;
    buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap && cap < BOUNCECLASSIFY_MAX_FILE)
            buf = xrealloc(buf, cap *= 2);
        else if (n == cap)
            break;
    }
    if (ferror(fp)) {
        int e = errno;
        fclose(fp);
        xfree(buf);
        errno = e;
        return -1;
    }
    fclose(fp);
    *data = buf;
    *len = n;
    return 0;
}

static const char *dash(const char *s)
{
    return s && s[0] ? s : "-";
}

static void row(const char *base, const struct bounce_rec *rec, int diagnostic)
{
    char code[16] = "-", hard[16] = "-";

    if (rec->replycode > 0)
        snprintf(code, sizeof(code), "%d", rec->replycode);
    if (rec->hard >= 0)
        snprintf(hard, sizeof(hard), "%d", rec->hard);
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s", base, dash(rec->recipient), dash(rec->status),
           dash(rec->reason), hard, code, dash(rec->feedbacktype));
    if (diagnostic) {
        char d[128];
        snprintf(d, sizeof(d), "%.120s", rec->diagnostic);
        for (char *c = d; *c; c++)
            if (*c == '\t')
                *c = ' ';
        printf("\t%s", dash(d));
    }
    putchar('\n');
}

/* next_message - the end of the message at data[0..len): the next mbox "From " line, else len */
static size_t next_message(const char *data, size_t len)
{
    for (size_t i = 1; i + 6 < len; i++) {
        const char *p = data + i, *nl;
        if (memcmp(p, "\nFrom ", 6) != 0)
            continue;
        nl = memchr(p + 1, '\n', len - i - 1);
        if (nl == NULL)
            return len;
        /* "From sender Day Mon dd hh:mm:ss yyyy": at least six words */
        int words = 0;
        for (const char *c = p + 1; c < nl; c++)
            words += c[0] != ' ' && (c == p + 1 || c[-1] == ' ');
        const char *e = nl[-1] == '\r' ? nl - 1 : nl;
        if (words >= 6 && memchr(p + 1, ':', (size_t)(nl - p - 1)) && e - p > 5 &&
            isdigit((unsigned char)e[-1]) && isdigit((unsigned char)e[-4]) && e[-5] == ' ')
            return i + 1;
    }
    return len;
}

static void classify(const char *base, const char *data, size_t len, int diagnostic)
{
    while (len > 0) {
        size_t n = next_message(data, len);
        struct bounce_report r;
        if (bounce_parse(data, n, &r) == 0)
            for (int k = 0; k < r.nrecs; k++)
                row(base, &r.recs[k], diagnostic);
        bounce_report_free(&r);
        data += n;
        len -= n;
    }
}

int main(int argc, char **argv)
{
    int diagnostic = 0, status = 0, first = 1;

    if (argc > 1 && strcmp(argv[1], "--diagnostic") == 0) {
        diagnostic = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: txmail-bounce-classify [--diagnostic] FILE...\n");
        return 2;
    }
    printf("file\trecipient\tstatus\treason\thardbounce\treplycode\tfeedbacktype%s\n",
           diagnostic ? "\tdiagnostic_code" : "");
    for (int i = first; i < argc; i++) {
        const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        char *data;
        size_t len;
        if (slurp(argv[i], &data, &len) < 0) {
            fprintf(stderr, "txmail-bounce-classify: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        classify(base, data, len, diagnostic);
        xfree(data);
    }
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
