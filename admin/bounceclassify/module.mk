# admin/bounceclassify - txmail-bounce-classify: the bounce parser and
# classifier over message files, one TSV row per record (corpus tests, bench)
PROGRAMS += txmail-bounce-classify
txmail-bounce-classify_SRC := admin/bounceclassify/bounceclassify.c
