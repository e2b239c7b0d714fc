/* scan_job_test - the parts of REST and SMTP jobs through both engines (project signatures) */
#include "tests/harness/ttest.h"
#include "global/envelope.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/jsonget.h"
#include "workers/scan/scan_stage.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char eicar[69];
static struct scan_job_engines en;

static void teardown(void)
{
    scan_close(en.clam);
    yarascan_close(en.yara);
    en.clam = NULL;
    en.yara = NULL;
}

static void setup(void)
{
    char err[SCAN_ERR_MAX];
    const char *up = access("conf/clamav", R_OK) == 0 ? "." : "../..";
    char dir[256];

    snprintf(eicar, sizeof(eicar), "%s%s", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STAND",
             "ARD-ANTIVIRUS-TEST-FILE!$H+H*");
    if (en.clam)
        return;
    snprintf(dir, sizeof(dir), "%s/conf/clamav", up);
    TT_EQ_INT(scan_open(dir, 0, &en.clam, err, sizeof(err)), 0);
    snprintf(dir, sizeof(dir), "%s/conf/yara", up);
    TT_EQ_INT(yarascan_open(dir, 0, &en.yara, err, sizeof(err)), 0);
}

static char *b64(const char *s)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    codec_b64_encode(&b, s, strlen(s));
    buf_putc(&b, 0);
    return b.data;
}

/* rest - a REST job: attachments (name, text; raw: as a raw segment), a body text */
static void rest(struct envelope *e, const char *scope, const char *body, const char *n1,
                 const char *a1, const char *n2, const char *a2, char *rawbuf)
{
    char *x1 = b64(a1), *x2 = b64(a2);

    envelope_init(e, "job");
    json_decref(e->data);
    e->data = json_pack("{s:s,s:{s:s},s:{s:{s:s}},s:[{s:s,s:s},{s:s,s:[i,i]}]}", "entry", "rest",
                        "body", "text", body, "options", "antivirus", "scope", scope, "attachments",
                        "name", n1, "data", x1, "name", n2, "raw", 3, (int)strlen(x2));
    snprintf(rawbuf, 4096, "abc%s", x2);
    e->raw = rawbuf;
    e->raw_len = strlen(rawbuf);
    free(x1);
    free(x2);
}

TT_TEST(rest_jobs)
{
    struct envelope e;
    struct scan_job_result r;
    char raw[4096];

    setup();
    rest(&e, "attachments", eicar, "a.txt", "clean", "b.txt", "also clean", raw);
    scan_job_check(&en, &e, &r);
    TT_EQ_INT(r.parts, 2);
    TT_EQ_INT((int)json_array_size(r.infected), 0);
    TT_EQ_INT(r.error, 0);
    TT_ASSERT(r.clam_sigs >= 3 && r.yara_rules == 2);
    scan_job_result_free(&r);
    json_decref(e.data);

    /* EICAR in the raw segment attachment: both engines name it */
    rest(&e, "attachments", "hello", "a.txt", "clean", "evil.com", eicar, raw);
    scan_job_check(&en, &e, &r);
    TT_EQ_INT((int)json_array_size(r.infected), 2);
    TT_EQ_STR(r.names, "evil.com");
    TT_EQ_INT(r.body_hit, 0);
    TT_EQ_STR(jsonget_str(json_array_get(r.infected, 0), "engine"), "clamav");
    TT_EQ_STR(jsonget_str(json_array_get(r.infected, 1), "signature"), "YARA.Txmail_Test_EICAR");
    scan_job_result_free(&r);
    json_decref(e.data);

    /* YARA only: the marker, in both attachments */
    rest(&e, "all", "hello", "m1.txt", "TXMAIL-YARA-TEST-MARKER-7F3C9A", "m2.txt",
         "x TXMAIL-YARA-TEST-MARKER-7F3C9A", raw);
    scan_job_check(&en, &e, &r);
    TT_EQ_INT(r.parts, 3);
    TT_EQ_STR(r.names, "m1.txt, m2.txt");
    TT_EQ_STR(jsonget_str(json_array_get(r.infected, 0), "engine"), "yara");
    scan_job_result_free(&r);
    json_decref(e.data);

    /* the body: out of scope for "attachments", found with "body" */
    rest(&e, "body", eicar, "a.txt", eicar, "b.txt", "clean", raw);
    scan_job_check(&en, &e, &r);
    TT_EQ_INT(r.parts, 1);
    TT_EQ_INT(r.body_hit, 1);
    TT_EQ_STR(r.names, "");
    scan_job_result_free(&r);
    json_decref(e.data);
    teardown();
}

static void smtp(struct envelope *e, const char *scope, const char *raw)
{
    envelope_init(e, "job");
    json_decref(e->data);
    e->data =
        json_pack("{s:s,s:{s:{s:s}}}", "entry", "smtp", "options", "antivirus", "scope", scope);
    e->raw = raw;
    e->raw_len = strlen(raw);
}

TT_TEST(smtp_jobs)
{
    struct envelope e;
    struct scan_job_result r;
    char msg[4096], qp[200];
    char *x;

    setup();
    x = b64(eicar);
    /* quoted-printable: a soft line break splits the string in the encoded form */
    snprintf(qp, sizeof(qp), "%.30s=\r\n%s", eicar, eicar + 30);
    snprintf(
        msg, sizeof(msg),
        "Subject: t\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        "%s\r\n--b\r\nContent-Type: application/octet-stream; name=\"x.bin\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
        qp, x);
    smtp(&e, "attachments", msg);
    scan_job_check(&en, &e, &r);
    TT_EQ_INT(r.parts, 1);
    TT_EQ_STR(r.names, "x.bin");
    TT_EQ_INT(r.body_hit, 0);
    scan_job_result_free(&r);
    json_decref(e.data);

    smtp(&e, "body", msg);
    scan_job_check(&en, &e, &r);
    TT_EQ_INT(r.parts, 1);
    TT_EQ_INT(r.body_hit, 1);
    TT_EQ_STR(r.names, "");
    scan_job_result_free(&r);
    json_decref(e.data);

    /* all: both parts and the whole message once more (libclamav alone) */
    smtp(&e, "all", msg);
    scan_job_check(&en, &e, &r);
    TT_EQ_INT(r.parts, 3);
    TT_EQ_INT(r.body_hit, 1);
    TT_EQ_STR(r.names, "x.bin");
    scan_job_result_free(&r);
    json_decref(e.data);
    free(x);
    teardown();
}

TT_TEST(scope_rules)
{
    json_t *d = json_pack("{s:{s:{s:s}}}", "options", "antivirus", "scope", "body");

    TT_EQ_INT(scan_job_scope_of(d), SCAN_SCOPE_BODY);
    json_object_set_new(json_object_get(d, "options"), "secureDocument",
                        json_pack("{s:b}", "active", 1));
    TT_EQ_INT(scan_job_scope_of(d), SCAN_SCOPE_ALL);
    json_decref(d);
    d = json_pack("{s:{s:{s:s}}}", "options", "antivirus", "scope", "bogus");
    TT_EQ_INT(scan_job_scope_of(d), SCAN_SCOPE_ATTACHMENTS);
    json_decref(d);
    TT_EQ_INT(scan_job_scope_of(NULL), SCAN_SCOPE_ATTACHMENTS);
}

TT_TEST(no_engine)
{
    struct scan_job_engines none = {NULL, NULL};
    struct envelope e;
    struct scan_job_result r;
    char err[SCAN_ERR_MAX], raw[4096];

    setup();
    scan_open("/nonexistent/clamav", 0, &none.clam, err, sizeof(err));
    none.yara = en.yara;
    rest(&e, "all", "hello", "a.txt", "clean", "b.txt", "clean", raw);
    scan_job_check(&none, &e, &r);
    TT_EQ_INT(r.error, 1);
    TT_EQ_INT(r.parts, 0);
    TT_ASSERT(strstr(r.err, "clamav") != NULL);
    scan_job_result_free(&r);
    json_decref(e.data);
    scan_close(none.clam);
    teardown();
}

TT_MAIN(TT_CASE(rest_jobs), TT_CASE(smtp_jobs), TT_CASE(scope_rules), TT_CASE(no_engine))
