# producers/track - txmail-track (open, click and unsubscribe endpoint) and
# the shared modules of issue 7: the template engine, tracking tokens and
# HTML link/pixel rewriting (used by render and rest as well).
LIBGLOBAL_SRC += lib/global/template/template_parse.c lib/global/template/template_lex.c \
                 lib/global/template/template_expr.c lib/global/template/template_value.c \
                 lib/global/template/template_render.c

UNIT_TESTS += template_test
template_test_SRC := lib/global/template/template_test.c

LIBGLOBAL_SRC += lib/global/tracking/tracktoken.c
UNIT_TESTS += tracktoken_test
tracktoken_test_SRC := lib/global/tracking/tracktoken_test.c

LIBGLOBAL_SRC += lib/global/tracking/tracklinks.c
UNIT_TESTS += tracklinks_test
tracklinks_test_SRC := lib/global/tracking/tracklinks_test.c

PROGRAMS += txmail-track
txmail-track_SRC := producers/track/track.c producers/track/track_http.c \
                    producers/track/track_events.c producers/track/track_client.c \
                    producers/track/track_tls.c producers/track/track_flood.c
txmail-track_LIBS := -lgnutls

UNIT_TESTS += track_client_test
track_client_test_SRC := producers/track/track_client_test.c producers/track/track_client.c

UNIT_TESTS += track_flood_test
track_flood_test_SRC := producers/track/track_flood_test.c producers/track/track_flood.c
