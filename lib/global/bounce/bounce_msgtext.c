/*
 * bounce_msgtext - the readable text of any message, for callers other
 * than the bounce parser (the Trace & Recover preview of txmail-rest):
 * the same GMime walk as bounce_parse (bounce_msg_collect), its text/plain
 * parts converted to UTF-8, else the text of its HTML parts with the tags
 * dropped.
 */
#include "bounce_int.h"
#include "util/mymalloc.h"

#include <pthread.h>
#include <string.h>

static pthread_once_t text_once = PTHREAD_ONCE_INIT;

static void text_start(void)
{
    g_mime_init();
}

char *bounce_msg_text(const char *raw, size_t len, size_t *outlen)
{
    GMimeMessage *m;
    struct bounce_report *r;
    struct bounce_parts p;
    struct buf *all[] = {&p.text, &p.html, &p.dsn, &p.feedback, &p.orighdr, &p.hdr};
    char *text = NULL;

    *outlen = 0;
    pthread_once(&text_once, text_start);
    if ((m = bounce_msg_open(raw, len)) == NULL)
        return NULL;
    r = xcalloc(1, sizeof(*r));
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        buf_init(all[i], BOUNCE_MAX_TEXT + 1);
        buf_puts(all[i], "");
    }
    if (bounce_msg_collect(m, r, &p) == 0)
        text = buf_steal(&p.text, outlen);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        buf_free(all[i]);
    bounce_report_free(r);
    xfree(r);
    g_object_unref(m);
    return text;
}
