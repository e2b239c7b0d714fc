# workers/smime - txmail-smime, S/MIME message signing (see smime.c)
PROGRAMS += txmail-smime
txmail-smime_SRC := workers/smime/smime.c workers/smime/smime_job.c \
                    workers/smime/smime_store.c workers/smime/smime_dkim.c
