/* mimeparts - the decoded leaf parts of a message; the manual is mimeparts.h. */
#include "global/scan/mimeparts.h"
#include "global/bounce/bounce.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t mimeparts_once = PTHREAD_ONCE_INIT;

/* gmime_start - GMime's own init (counted: the bounce parser's call is not undone) */
static void gmime_start(void)
{
    g_mime_init();
}

struct walk {
    mimeparts_fn fn;
    void *ctx;
    struct mimeparts_info *info;
    int n;
    int stop;
};

/* part_name - the object's file name (disposition filename, else type name), or NULL */
static const char *part_name(GMimeObject *obj)
{
    const char *s = g_mime_object_get_content_disposition_parameter(obj, "filename");

    if (s == NULL || *s == 0)
        s = g_mime_object_get_content_type_parameter(obj, "name");
    return s && *s ? s : NULL;
}

static int is_attachment(GMimeObject *obj)
{
    GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);

    return cd != NULL && g_mime_content_disposition_is_attachment(cd);
}

/* type_of - "type/subtype" of obj, lower case */
static void type_of(GMimeObject *obj, char *out, size_t outsz)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
    const char *s = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;

    /* each half cut on its own: the slash is always there */
    snprintf(out, outsz, "%.60s/%.60s", t && *t ? t : "text", s && *s ? s : "plain");
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static void leaf(struct walk *w, GMimeObject *obj, const char *outer, int depth)
{
    struct mimeparts_part p;
    GByteArray *ba;

    memset(&p, 0, sizeof(p));
    type_of(obj, p.type, sizeof(p.type));
    p.name = part_name(obj);
    if (p.name == NULL)
        p.name = outer;
    p.attachment = outer != NULL || part_name(obj) != NULL || is_attachment(obj) ||
                   (strcmp(p.type, "text/plain") != 0 && strcmp(p.type, "text/html") != 0);
    p.index = ++w->n;
    p.depth = depth;
    ba = bounce_msg_part_content(GMIME_PART(obj));
    /* an empty part: GLib's array may have no storage at all */
    p.data = ba && ba->data ? ba->data : (const unsigned char *)"";
    p.len = ba && ba->data ? ba->len : 0;
    if (w->fn(&p, w->ctx))
        w->stop = 1;
    if (ba)
        g_byte_array_free(ba, TRUE);
}

/* walk - obj and below; outer: the name of the attached message obj is in */
static void walk(struct walk *w, GMimeObject *obj, const char *outer, int depth)
{
    if (obj == NULL || w->stop)
        return;
    if (depth > MIMEPARTS_DEPTH) {
        w->info->deeper++;
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        for (int i = 0; i < g_mime_multipart_get_count(mp) && !w->stop; i++)
            walk(w, g_mime_multipart_get_part(mp, i), outer, depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        const char *name = part_name(obj);
        if (m)
            walk(w, g_mime_message_get_mime_part(m),
                 name    ? name
                 : outer ? outer
                         : "message.eml",
                 depth + 1);
    } else if (GMIME_IS_PART(obj)) {
        leaf(w, obj, outer, depth);
    }
}

int mimeparts_walk(const char *raw, size_t len, mimeparts_fn fn, void *ctx,
                   struct mimeparts_info *info)
{
    struct mimeparts_info dummy;
    struct walk w = {fn, ctx, info ? info : &dummy, 0, 0};
    GMimeMessage *m;

    memset(w.info, 0, sizeof(*w.info));
    pthread_once(&mimeparts_once, gmime_start);
    if ((m = bounce_msg_open(raw, len)) == NULL)
        return -1;
    walk(&w, g_mime_message_get_mime_part(m), NULL, 0);
    g_object_unref(m);
    return w.n;
}
