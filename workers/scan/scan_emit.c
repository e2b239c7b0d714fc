/*
 * scan_emit - what leaves txmail-scan for a job that is not forwarded:
 * one final event per address that was not dropped at intake (REST:
 * blocks[].to/cc/bcc, SMTP: recipients[]; those with a drop had theirs
 * from the first stage), and the job's log line and metrics.
 */
#include "global/event.h"
#include "global/metrics.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "workers/scan/scan_stage.h"

#include <stdio.h>
#include <string.h>

struct final {
    const char *subtype, *description;
    json_t *content;
};

/* one_list - the final event of every undropped address of list */
static int one_list(struct job *job, json_t *list, const char *from, const char *mime_from,
                    const char *reference, const struct final *f)
{
    json_t *a;
    size_t i;
    int n = 0;

    json_array_foreach (list, i, a) {
        struct tx_event ev;
        const char *rid = jsonget_str(a, "rid");
        if (rid == NULL || json_is_object(json_object_get(a, "drop")))
            continue;
        event_init(&ev);
        ev.rid = rid;
        ev.job_id = job->env.job_id;
        ev.account_id = job->env.account_id;
        ev.received_ms = job->env.created_ms;
        ev.email = jsonget_str(a, "email") ? jsonget_str(a, "email") : jsonget_str(a, "addr");
        ev.from = from;
        ev.mime_from = mime_from;
        ev.reference = reference;
        ev.phase = "PROCESS", ev.state = "FINISHED", ev.type = "DROPPED";
        ev.subtype = f->subtype;
        ev.description = f->description;
        ev.content = f->content;
        worker_job_event(job, &ev);
        n++;
    }
    return n;
}

/* all_addresses - the final event f for every address of the job; how many */
static int all_addresses(struct job *job, const struct final *f)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    json_t *d = job->env.data, *b;
    const char *entry = jsonget_str(d, "entry");
    size_t i;
    int n = 0;

    if (entry && strcmp(entry, "smtp") == 0)
        return one_list(job, json_object_get(d, "recipients"), jsonget_str(d, "mailFrom"),
                        jsonget_str(d, "mimeFrom"), NULL, f);
    json_t *mail = json_object_get(d, "mail");
    const char *from = jsonget_str(json_object_get(mail, "from"), "email");
    const char *mime_from = jsonget_str(json_object_get(mail, "mimeFrom"), "email");
    json_array_foreach (json_object_get(d, "blocks"), i, b)
        for (int k = 0; k < 3; k++)
            n += one_list(job, json_object_get(b, kinds[k]), from, mime_from,
                          jsonget_str(b, "reference"), f);
    return n;
}

void scan_emit_infected(struct job *job, const struct scan_job_result *res)
{
    char why[1100];
    struct final f = {"VIRUS_DETECTED", why, NULL};

    if (res->names[0])
        snprintf(why, sizeof(why), "INFECTED: attachments %s", res->names);
    else
        snprintf(why, sizeof(why), "INFECTED: body");
    f.content = json_pack("{s:{s:O}}", "antivirus", "infected", res->infected);
    all_addresses(job, &f);
    json_decref(f.content);
}

void scan_emit_unavailable(struct job *job)
{
    struct final f = {"PROCESSING_FAILED", "antivirus scan unavailable", NULL};
    int n = all_addresses(job, &f);

    metrics_count("txmail_scan_jobs_total", "verdict", "unavailable", 1);
    msg_info("%s: status=failed (antivirus scan unavailable before the maximum age), addresses=%d",
             worker_job_log_id(job), n);
}

/* finds - "part:engine:signature, ..." of res into out */
static void finds(const struct scan_job_result *res, char *out, size_t outsz)
{
    json_t *h;
    size_t i, n = 0;
    char p[SCAN_NAME_MAX], s[SCAN_NAME_MAX];

    out[0] = 0;
    json_array_foreach (res->infected, i, h) {
        const char *part = jsonget_str(h, "part"), *sig = jsonget_str(h, "signature");
        if (n + 1 >= outsz)
            break;
        n += (size_t)snprintf(out + n, outsz - n, "%s%s:%s:%s", i ? ", " : "",
                              msg_printable(p, sizeof(p), part, strlen(part)),
                              jsonget_str(h, "engine"),
                              msg_printable(s, sizeof(s), sig, strlen(sig)));
    }
}

void scan_emit_log(const struct job *job, const struct scan_job_result *res, const char *verdict)
{
    char f[1200];

    metrics_count("txmail_scan_jobs_total", "verdict", verdict, 1);
    metrics_count("txmail_scan_parts_total", NULL, NULL, res->parts);
    metrics_count("txmail_scan_bytes_total", NULL, NULL, res->bytes);
    if (res->error && json_array_size(res->infected) == 0)
        msg_printable(f, sizeof(f), res->err, strlen(res->err));
    else
        finds(res, f, sizeof(f));
    msg_info(
        "%s: scope=%s, parts=%d, bytes=%lld, clamav_signatures=%u, yara_rules=%u, verdict=%s%s%s%s",
        worker_job_log_id(job), scan_job_scope_name(res->scope), res->parts, res->bytes,
        res->clam_sigs, res->yara_rules, verdict, f[0] ? " (" : "", f, f[0] ? ")" : "");
}
