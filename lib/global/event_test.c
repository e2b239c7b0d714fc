/* event_test - tags follow contract §11.5 (its worked examples), JSON shape */
#include "tests/harness/ttest.h"
#include "global/event.h"

TT_TEST(tag_worked_examples)
{
    char tag[65];

    /* §11.4 DELIVERED example, eventKey 1 */
    event_tag(tag, "af9f86ce-ae22-4878-b909-cc1444b4017a#00000000#00000000", "DELIVER", "FINISHED",
              "DELIVERED", "OK", "1");
    TT_EQ_STR(tag, "8697f18f9cb6f4ee21c8c97066f01fca1655a5a51c7ae2ecbbe974cf9a4222c4");
    /* §12.2 STARTED example */
    event_tag(tag, "6dba7407-6c9c-4946-9553-eb9cc8eac852#00000000#00000000", "PROCESS", "INITIAL",
              "STARTED", "PROCESSING_STARTED", NULL);
    TT_EQ_STR(tag, "493192f1f9d7cee3f96cc6a25b7ac5670fc637d4b2eaac46d5e057459ff7dea1");
    /* Appendix A.7 CLICKED example, eventKey = ts */
    event_tag(tag, "6dba7407-6c9c-4946-9553-eb9cc8eac852#00000000#00000000", "POST_PROCESS",
              "POST_DELIVERY", "CLICKED", "OK", "2025-05-14T09:12:01.331Z");
    TT_EQ_STR(tag, "d47da80ae26cdce7399953fde88042bcbc6139e789034f23b4de2c84092f6dfe");
}

TT_TEST(json_shape)
{
    struct tx_event ev;
    char key[64];

    event_init(&ev);
    ev.rid = "6dba7407-6c9c-4946-9553-eb9cc8eac852#00000000#00000000";
    ev.job_id = "6dba7407-6c9c-4946-9553-eb9cc8eac852";
    ev.account_id = 3;
    ev.phase = "DELIVER", ev.state = "FINISHED", ev.type = "DELIVERED", ev.subtype = "OK";
    ev.ts_ms = 1747212953120LL;
    ev.email = "john.doe@example.com";
    ev.message_id = "<x@y>";
    ev.smtp_code = "250";
    json_t *o = event_json(&ev);
    TT_EQ_STR(json_string_value(json_object_get(o, "ts")), "2025-05-14T08:55:53.120Z");
    TT_EQ_STR(json_string_value(json_object_get(json_object_get(o, "mail"), "email")),
              "john.doe@example.com");
    TT_EQ_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(o, "content"), "mime"), "messageId")),
              "<x@y>");
    TT_ASSERT(json_object_get(o, "size") == NULL);
    TT_EQ_STR(event_routing_key(key, sizeof(key), &ev), "DELIVERED.OK");
    json_decref(o);
    TT_ASSERT(event_is_final("FINISHED"));
    TT_ASSERT(!event_is_final("INTERMEDIATE"));
}

TT_TEST(notification_element)
{
    struct tx_event ev;

    event_init(&ev);
    ev.rid = "af9f86ce-ae22-4878-b909-cc1444b4017a#00000000#00000000";
    ev.job_id = "af9f86ce-ae22-4878-b909-cc1444b4017a";
    ev.phase = "DELIVER", ev.state = "FINISHED", ev.type = "DELIVERED", ev.subtype = "OK";
    ev.ts_ms = 1747212953120LL;
    ev.email = "ToName <to@example.com>";
    ev.from = "FromName <from@example.com>";
    ev.mime_from = "from@example.com";
    ev.reference = "order-4711";
    ev.description =
        "[2.0.0] delivered (host mx.example.com[192.0.2.10] said: 250 2.0.0 Ok: queued as 4Xk2)";
    ev.message_id = "<af9f86ce-ae22-4878-b909-cc1444b4017a#00000000#00000000@mail.example.com>";
    json_t *o = event_json(&ev), *n = event_notification(o);
    char *s = json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS);
    TT_EQ_STR(
        s, "{\"content\":{\"mime\":{\"messageId\":\"<af9f86ce-ae22-4878-b909-cc1444b4017a#00000000#"
           "00000000@mail.example.com>\"}},"
           "\"meta\":{\"event\":{\"description\":\"[2.0.0] delivered (host "
           "mx.example.com[192.0.2.10] said: 250 2.0.0 Ok: queued as 4Xk2)\","
           "\"phase\":\"DELIVER\",\"state\":\"FINISHED\",\"subType\":\"OK\",\"ts\":\"2025-05-14T08:"
           "55:53.120Z\",\"type\":\"DELIVERED\"},"
           "\"mail\":{\"email\":\"ToName <to@example.com>\",\"from\":\"FromName "
           "<from@example.com>\",\"id\":\"af9f86ce-ae22-4878-b909-cc1444b4017a#00000000#00000000\","
           "\"mimeFrom\":\"from@example.com\",\"reference\":\"order-4711\"},"
           "\"tag\":\"8697f18f9cb6f4ee21c8c97066f01fca1655a5a51c7ae2ecbbe974cf9a4222c4\"}}");
    free(s);
    json_decref(n);
    json_decref(o);
    /* the intake record is never posted */
    o = json_pack("{s:s,s:s}", "type", "INTAKE", "phase", "INTAKE");
    TT_ASSERT(event_notification(o) == NULL);
    json_decref(o);
}

TT_MAIN(TT_CASE(tag_worked_examples), TT_CASE(json_shape), TT_CASE(notification_element))
