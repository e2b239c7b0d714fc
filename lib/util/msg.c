/* msg - three-tier diagnostics; see msg.h. */
#include "util/msg.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int msg_verbose;
static char prog[64] = "txmail";
static int log_fd = 2;
static void (*fatal_hook)(void);

/* msg_init - remember the program name for every line */
void msg_init(const char *progname)
{
    const char *slash = strrchr(progname, '/');

    snprintf(prog, sizeof(prog), "%s", slash ? slash + 1 : progname);
}

const char *msg_progname(void)
{
    return prog;
}

/* msg_open_file - send log lines to path (append); -1 on error */
int msg_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0)
        return -1;
    if (log_fd != 2)
        close(log_fd);
    log_fd = fd;
    return 0;
}

void msg_set_verbose(int level)
{
    msg_verbose = level;
}

void msg_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

/* msg_vprintf - format one line and write it with a single write(2) */
void msg_vprintf(const char *level, const char *fmt, va_list ap)
{
    char line[4096];
    char ts[32];
    int n, m;
    int saved = errno;

    timeutil_iso8601(ts, sizeof(ts), timeutil_now_ms());
    n = snprintf(line, sizeof(line), "%s %s[%ld]: %s%s", ts, prog, (long)getpid(),
                 level ? level : "", level ? ": " : "");
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(log_fd, line, n) < 0) {
        /* nowhere left to complain */
    }
    errno = saved;
}

void msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf(NULL, fmt, ap);
    va_end(ap);
}

void msg_debug(const char *fmt, ...)
{
    va_list ap;

    if (!msg_verbose)
        return;
    va_start(ap, fmt);
    msg_vprintf("debug", fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf("warning", fmt, ap);
    va_end(ap);
}

void msg_fatal(const char *fmt, ...)
{
    va_list ap;
    static int nested;

    va_start(ap, fmt);
    msg_vprintf("fatal", fmt, ap);
    va_end(ap);
    if (fatal_hook && !nested++)
        fatal_hook();
    exit(1);
}

void msg_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf("panic", fmt, ap);
    va_end(ap);
    abort();
}

/* msg_printable - sanitize untrusted text for a log line */
char *msg_printable(char *out, size_t outsz, const char *in, size_t inlen)
{
    size_t i = 0, o = 0;
    const unsigned char *s = (const unsigned char *)in;

    if (outsz == 0)
        return out;
    while (i < inlen && o + 1 < outsz) {
        unsigned char c = s[i];
        size_t len = 1;

        if (c >= 0x20 && c < 0x7f) {
            out[o++] = c;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xf4) {
            len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            size_t k;
            for (k = 1; k < len && i + k < inlen; k++)
                if ((s[i + k] & 0xc0) != 0x80)
                    break;
            if (k == len && o + len < outsz) {
                memcpy(out + o, s + i, len);
                o += len;
                i += len;
                continue;
            }
            len = 1;
        }
        out[o++] = '?';
        i += len;
    }
    if (i < inlen && outsz >= 4) {
        if (o > outsz - 4)
            o = outsz - 4;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}
