# producers/rest - txmail-rest, the REST producer (contract §3-§7)
REST_JOBREQ_SRC := producers/rest/rest_jobreq.c producers/rest/rest_jobreq_walk.c \
                   producers/rest/rest_jobreq_syntax.c producers/rest/rest_jobreq_text.c \
                   producers/rest/rest_jobreq_attach.c producers/rest/rest_jobreq_rcpt.c \
                   producers/rest/rest_jobreq_mail.c producers/rest/rest_jobreq_job.c \
                   producers/rest/rest_jobreq_notify.c producers/rest/rest_jobreq_build.c

PROGRAMS += txmail-rest
txmail-rest_SRC := producers/rest/rest.c producers/rest/rest_http.c producers/rest/rest_answer.c \
                   producers/rest/rest_auth.c producers/rest/rest_limit.c producers/rest/rest_conn.c \
                   producers/rest/rest_idem.c producers/rest/rest_suppress.c \
                   producers/rest/rest_publish.c producers/rest/rest_group.c producers/rest/rest_intake.c \
                   producers/rest/rest_health.c producers/rest/rest_mem.c $(REST_JOBREQ_SRC)
# the read endpoints (rest_route.h): one file per resource
txmail-rest_SRC += producers/rest/rest_route.c producers/rest/rest_query.c
txmail-rest_SRC += producers/rest/rest_read_job.c
txmail-rest_SRC += producers/rest/rest_read_message.c producers/rest/rest_preview.c
txmail-rest_SRC += producers/rest/rest_recover.c producers/rest/rest_recover_job.c
txmail-rest_SRC += producers/rest/rest_search.c producers/rest/rest_lookup.c
txmail-rest_SRC += producers/rest/rest_stats.c
txmail-rest_SRC += producers/rest/rest_suppressions.c
txmail-rest_SRC += producers/rest/rest_deadletters.c
txmail-rest_SRC += producers/rest/rest_reports.c
txmail-rest_SRC += producers/rest/rest_openapi.c
txmail-rest_LIBS := -lgnutls

UNIT_TESTS += rest_jobreq_test rest_jobreq_data_test
rest_jobreq_test_SRC := producers/rest/rest_jobreq_test.c producers/rest/rest_jobreq_fixture.c \
                        $(REST_JOBREQ_SRC)
rest_jobreq_data_test_SRC := producers/rest/rest_jobreq_data_test.c \
                             producers/rest/rest_jobreq_fixture.c $(REST_JOBREQ_SRC)

UNIT_TESTS += rest_preview_test
rest_preview_test_SRC := producers/rest/rest_preview_test.c producers/rest/rest_preview.c

UNIT_TESTS += rest_limit_test
rest_limit_test_SRC := producers/rest/rest_limit_test.c producers/rest/rest_limit.c

UNIT_TESTS += rest_group_test
rest_group_test_SRC := producers/rest/rest_group_test.c producers/rest/rest_group.c

# GET /openapi.json serves docs/openapi.json compiled in: its bytes as a C
# initializer that rest_openapi.c includes (no file at run time)
REST_OPENAPI_INC := $(B)/gen/rest_openapi_doc.inc
$(REST_OPENAPI_INC): docs/openapi.json
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g' > $@.tmp && mv $@.tmp $@
$(B)/obj/producers/rest/rest_openapi.o: $(REST_OPENAPI_INC)
$(B)/obj/producers/rest/rest_openapi.o: CFLAGS += -I$(B)/gen
