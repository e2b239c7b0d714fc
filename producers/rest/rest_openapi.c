/*
 * rest_openapi - GET <rest_base_path>/openapi.json: the OpenAPI 3.1
 * document of txmail-rest's whole surface (docs/openapi.json), served
 * without credentials (its route is open, rest_route.c).
 *
 * The document is compiled into the program: producers/rest/module.mk
 * turns docs/openapi.json into build/gen/rest_openapi_doc.inc (its bytes
 * as a C initializer), so the answer needs no file at run time. With the
 * default rest_base_path and rest_jobs_path the answer is the file byte
 * for byte. Otherwise the paths of the document would not be the ones
 * served: the answer is the document with servers[0].url set to
 * rest_base_path and the job creation path "/jobs" renamed to
 * rest_jobs_path, built once on the first request.
 */
#include "producers/rest/rest_route.h"
#include "util/msg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char doc[] = {
#include "rest_openapi_doc.inc"
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *patched; /* the document for non-default paths; NULL: doc as it is */

/* rename_jobs - paths["/jobs"] moved to paths[jobs_path], keeping the order of the others */
static void rename_jobs(json_t *paths, const char *jobs_path)
{
    json_t *out = json_object();
    const char *key;
    json_t *value;

    json_object_foreach (paths, key, value) {
        json_object_set(out, strcmp(key, "/jobs") == 0 ? jobs_path : key, value);
    }
    json_object_clear(paths);
    json_object_update(paths, out);
    json_decref(out);
}

static void build(void)
{
    json_error_t err;
    json_t *j;

    if (strcmp(rest_conf.base_path, "/email/v2") == 0 && strcmp(rest_conf.jobs_path, "/jobs") == 0)
        return;
    j = json_loadb((const char *)doc, sizeof(doc), JSON_PRESERVE_ORDER, &err);
    if (j == NULL)
        msg_panic("openapi: the embedded document does not parse: %s", err.text);
    json_t *server = json_array_get(json_object_get(j, "servers"), 0);
    json_t *paths = json_object_get(j, "paths");
    if (!json_is_object(server) || !json_is_object(paths))
        msg_panic("openapi: the embedded document has no servers[0] or paths");
    json_object_set_new(server, "url", json_string(rest_conf.base_path));
    if (strcmp(rest_conf.jobs_path, "/jobs") != 0)
        rename_jobs(paths, rest_conf.jobs_path);
    patched = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (patched == NULL)
        msg_panic("openapi: cannot encode the document");
}

enum MHD_Result rest_openapi(struct rest_req *r, struct rest_conn *c, const char *param)
{
    (void)c;
    (void)param;
    pthread_once(&once, build);
    if (patched)
        return rest_answer_reply(r, 200, patched, strlen(patched), NULL);
    return rest_answer_reply(r, 200, (const char *)doc, sizeof(doc), NULL);
}
