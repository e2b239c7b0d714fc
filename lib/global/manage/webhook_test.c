/* webhook_test - endpoints, and the "webhook" retry envelope read back as written */
#include "tests/harness/ttest.h"
#include "global/manage/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TT_TEST(endpoints)
{
    struct webhook_endpoint e;

    TT_ASSERT(webhook_endpoint_parse(&e, "{\"endPoint\":{\"url\":\"https://r.example.com/h\","
                                         "\"headers\":{\"X-A\":\"1\"},\"authentication\":"
                                         "{\"user\":\"u\",\"password\":\"v1:abc\"}}}") == 0);
    TT_EQ_STR(e.url, "https://r.example.com/h");
    TT_EQ_STR(json_string_value(json_object_get(e.headers, "X-A")), "1");
    TT_EQ_STR(e.user, "u");
    TT_EQ_STR(e.password, "v1:abc");
    webhook_endpoint_free(&e);
    TT_ASSERT(webhook_endpoint_parse(&e, "{\"url\":\"http://h:81/\",\"headers\":{}}") == 0);
    TT_ASSERT(e.headers == NULL && e.user == NULL);
    webhook_endpoint_free(&e);
    TT_ASSERT(webhook_endpoint_parse(&e, "{\"url\":\"ftp://h/\"}") < 0);
    TT_ASSERT(webhook_endpoint_parse(&e, NULL) < 0);
    TT_EQ_INT(webhook_endpoint_account(&e, NULL, NULL, NULL, NULL), 1);
    TT_EQ_INT(webhook_endpoint_account(&e, "gopher://x", NULL, NULL, NULL), -1);
    TT_ASSERT(e.url == NULL);
    TT_EQ_INT(webhook_endpoint_account(&e, "http://x.example/h", "{\"K\":\"v\"}", "", "v1:p"), 0);
    TT_ASSERT(e.user == NULL && strcmp(e.password, "v1:p") == 0 &&
              json_object_size(e.headers) == 1);
    webhook_endpoint_free(&e);
}

TT_TEST(retry_envelope)
{
    struct webhook_retry w, back;
    char *out = NULL, err[200];
    size_t len;
    const char *tier;

    memset(&w, 0, sizeof(w));
    w.account_id = 7;
    snprintf(w.job_id, sizeof(w.job_id), "af9f86ce-ae22-4878-b909-cc1444b4017a");
    w.ep.url = "http://127.0.0.1:9/hook";
    w.ep.user = "u";
    w.ep.password = "v1:secret";
    w.tags = json_pack("[s]", "t1");
    w.rids = json_pack("[s]", "r1");
    w.attempts = 3;
    w.first_ms = 1000;
    snprintf(w.last_result, sizeof(w.last_result), "HTTP 503");
    w.body = "{\"meta\":{}}";
    w.len = strlen(w.body);
    TT_ASSERT(webhook_retry_encode(&w, WEBHOOK_RETRY_QUEUE, 20000, &out, &len, &tier) == 0);
    TT_ASSERT(webhook_retry_decode(&back, out, len, err, sizeof(err)) == 0);
    TT_EQ_INT(back.account_id, 7);
    TT_EQ_STR(back.job_id, w.job_id);
    TT_EQ_STR(back.ep.url, w.ep.url);
    TT_EQ_STR(back.ep.password, "v1:secret");
    TT_EQ_INT(back.attempts, 3);
    TT_EQ_INT(back.first_ms, 1000);
    TT_EQ_STR(back.last_result, "HTTP 503");
    TT_EQ_MEM(back.body, back.len, w.body, w.len);
    TT_ASSERT(json_equal(back.tags, w.tags) && json_equal(back.rids, w.rids));
    TT_ASSERT(back.due_ms > 1000);
    webhook_retry_free(&back);
    free(out);
    json_decref(w.tags);
    json_decref(w.rids);
    TT_ASSERT(webhook_retry_decode(&back, "x", 1, err, sizeof(err)) < 0);
}

TT_MAIN(TT_CASE(endpoints), TT_CASE(retry_envelope))
