# workers/render - txmail-render: MIME construction, DKIM, VERP, first stage
PROGRAMS += txmail-render
txmail-render_SRC := workers/render/render.c workers/render/render_job.c \
                     workers/render/render_prep.c workers/render/render_block.c \
                     workers/render/render_fields.c workers/render/render_copy.c \
                     workers/render/render_raw.c workers/render/render_emit.c \
                     workers/render/render_mime.c workers/render/render_header.c \
                     workers/render/render_domain.c \
                     workers/render/render_track.c workers/render/render_round.c \
                     workers/render/render_rcpt.c workers/render/render_sender.c \
                     workers/render/render_trace.c
txmail-render_LIBS := -lresolv

# shared modules this worker brought (lib/global)
LIBGLOBAL_SRC += lib/global/verp.c

UNIT_TESTS += verp_test render_header_test render_mime_test
verp_test_SRC := lib/global/verp_test.c
render_header_test_SRC := workers/render/render_header_test.c workers/render/render_header.c
render_mime_test_SRC := workers/render/render_mime_test.c workers/render/render_mime.c \
                        workers/render/render_header.c

# render_bench: the render path in-process on the benchmark's 200 KB job,
# for callgrind (never run by make test)
PROGRAMS += render_bench
render_bench_SRC := workers/render/render_bench.c workers/render/render_job.c \
                    workers/render/render_prep.c workers/render/render_block.c \
                    workers/render/render_fields.c workers/render/render_copy.c \
                    workers/render/render_raw.c workers/render/render_emit.c \
                    workers/render/render_mime.c workers/render/render_header.c \
                    workers/render/render_domain.c \
                    workers/render/render_track.c workers/render/render_round.c \
                    workers/render/render_rcpt.c workers/render/render_sender.c \
                    workers/render/render_trace.c
render_bench_LIBS := -lresolv
