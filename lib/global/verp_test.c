/* verp_test - VERP local parts: shape, round trip, case folding, forgery */
#include "tests/harness/ttest.h"
#include "global/verp.h"

#include <ctype.h>

#define MASTER "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define RID "0196c9f2-8a3b-7c4d-9e5f-0123456789ab#00000002#0000001f"

TT_TEST(no_key_no_encoding)
{
    char out[80];

    TT_EQ_INT(verp_encode(RID, out, sizeof(out)), -1);
    TT_EQ_INT(verp_set_key_from_master("zz"), -1);
    TT_EQ_INT(verp_have_key(), 0);
}

TT_TEST(shape_and_roundtrip)
{
    char local[80], rid[80];

    TT_EQ_INT(verp_set_key_from_master(MASTER), 0);
    TT_EQ_INT(verp_encode(RID, local, sizeof(local)), 0);
    TT_EQ_INT(strlen(local), VERP_LOCAL_LEN);
    TT_ASSERT(strlen(local) <= 64);
    for (const char *p = local; *p; p++)
        TT_ASSERT(islower((unsigned char)*p) || isdigit((unsigned char)*p));
    TT_EQ_INT(verp_decode(local, strlen(local), rid, sizeof(rid)), 0);
    TT_EQ_STR(rid, RID);
    /* deterministic: the same rid gives the same address */
    char again[80];
    TT_EQ_INT(verp_encode(RID, again, sizeof(again)), 0);
    TT_EQ_STR(again, local);
}

TT_TEST(survives_case_folding)
{
    char local[80], rid[80];

    verp_set_key_from_master(MASTER);
    verp_encode(RID, local, sizeof(local));
    for (char *p = local; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    TT_EQ_INT(verp_decode(local, strlen(local), rid, sizeof(rid)), 0);
    TT_EQ_STR(rid, RID);
}

TT_TEST(every_single_change_is_refused)
{
    char local[80], rid[80];
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";

    verp_set_key_from_master(MASTER);
    verp_encode(RID, local, sizeof(local));
    for (size_t i = 0; i < strlen(local); i++) {
        char saved = local[i];
        for (const char *a = alpha; *a; a++) {
            if (tolower((unsigned char)saved) == *a)
                continue;
            local[i] = *a;
            TT_ASSERT(verp_decode(local, strlen(local), rid, sizeof(rid)) == -1);
        }
        local[i] = saved;
    }
    TT_EQ_INT(verp_decode(local, strlen(local), rid, sizeof(rid)), 0);
}

TT_TEST(wrong_shapes_are_refused)
{
    char local[80], rid[80];

    verp_set_key_from_master(MASTER);
    verp_encode(RID, local, sizeof(local));
    TT_EQ_INT(verp_decode(local, strlen(local) - 1, rid, sizeof(rid)), -1);
    TT_EQ_INT(verp_decode("postmaster", 10, rid, sizeof(rid)), -1);
    TT_EQ_INT(verp_decode("", 0, rid, sizeof(rid)), -1);
    char bad[80];
    memcpy(bad, local, sizeof(local));
    bad[0] = 'c';
    TT_EQ_INT(verp_decode(bad, strlen(bad), rid, sizeof(rid)), -1);
    memcpy(bad, local, sizeof(local));
    bad[10] = '1'; /* not in the alphabet */
    TT_EQ_INT(verp_decode(bad, strlen(bad), rid, sizeof(rid)), -1);
    /* non-zero unused bits in the last character: not canonical */
    memcpy(bad, local, sizeof(local));
    {
        const char *alpha = "abcdefghijklmnopqrstuvwxyz234567";
        int v = (int)(strchr(alpha, bad[VERP_LOCAL_LEN - 1]) - alpha);
        bad[VERP_LOCAL_LEN - 1] = alpha[v ^ 1];
    }
    TT_EQ_INT(verp_decode(bad, strlen(bad), rid, sizeof(rid)), -1);
    /* output buffer too small */
    TT_EQ_INT(verp_decode(local, strlen(local), rid, 20), -1);
    /* malformed rids are not encoded */
    TT_EQ_INT(verp_encode("not-a-rid", local, sizeof(local)), -1);
    TT_EQ_INT(
        verp_encode("0196c9f2-8a3b-7c4d-9e5f-0123456789ab#0000000G#00000000", local, sizeof(local)),
        -1);
    TT_EQ_INT(verp_encode(RID, local, 20), -1);
}

TT_TEST(another_key_does_not_verify)
{
    char local[80], rid[80];

    verp_set_key_from_master(MASTER);
    verp_encode(RID, local, sizeof(local));
    verp_set_key_from_master("ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    TT_EQ_INT(verp_decode(local, strlen(local), rid, sizeof(rid)), -1);
}

TT_TEST(address)
{
    char a[200], rid[80];

    verp_set_key_from_master(MASTER);
    TT_EQ_INT(verp_address(RID, "bounce.example.com", a, sizeof(a)), 0);
    char *at = strchr(a, '@');
    TT_ASSERT(at != NULL);
    TT_EQ_STR(at + 1, "bounce.example.com");
    TT_EQ_INT(verp_decode(a, (size_t)(at - a), rid, sizeof(rid)), 0);
    TT_EQ_STR(rid, RID);
    TT_EQ_INT(verp_address(RID, "", a, sizeof(a)), -1);
    TT_EQ_INT(verp_address(RID, "bounce.example.com", a, 40), -1);
    /* different rids, different local parts */
    char b[200];
    verp_address("0196c9f2-8a3b-7c4d-9e5f-0123456789ab#00000002#00000020", "b.example", b,
                 sizeof(b));
    TT_ASSERT(strncmp(a, b, VERP_LOCAL_LEN) != 0);
}

TT_MAIN(TT_CASE(no_key_no_encoding), TT_CASE(shape_and_roundtrip), TT_CASE(survives_case_folding),
        TT_CASE(every_single_change_is_refused), TT_CASE(wrong_shapes_are_refused),
        TT_CASE(another_key_does_not_verify), TT_CASE(address))
