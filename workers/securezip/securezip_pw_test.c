/* securezip_pw_test - the password generator: lengths, alphabet, classes, sampling without bias */
#include "tests/harness/ttest.h"
#include "workers/securezip/securezip.h"

#include <string.h>

static const unsigned char *script;
static size_t script_len, script_pos;

/* scripted - the script, then 255 (always rejected) */
static int scripted(unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = script_pos < script_len ? script[script_pos++] : 255;
    return 0;
}

static int failing(unsigned char *buf, size_t n)
{
    (void)buf, (void)n;
    return -1;
}

TT_TEST(lengths_by_type)
{
    TT_EQ_INT(securezip_pw_length("medium"), 8);
    TT_EQ_INT(securezip_pw_length("high"), 10);
    TT_EQ_INT(securezip_pw_length(NULL), 10);
    TT_EQ_INT(securezip_pw_length("very_high"), 15);
    TT_EQ_INT(securezip_pw_length("low"), -1);
    const int lens[] = {8, 10, 15};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 2000; i++) {
            char pw[SECUREZIP_PW_MAX + 1];
            TT_EQ_INT(securezip_pw_make(pw, lens[k], NULL), 0);
            TT_EQ_INT((int)strlen(pw), lens[k]);
            TT_ASSERT(securezip_pw_valid(pw));
            TT_ASSERT(strpbrk(pw, "0Oo1lI") == NULL);
        }
    char pw[32];
    TT_EQ_INT(securezip_pw_make(pw, 9, NULL), -1);
    TT_EQ_INT(securezip_pw_make(pw, 10, failing), -1);
}

TT_TEST(rejection_sampling_is_exact)
{
    /* bytes >= 224 are thrown away, the rest is b % 56 */
    static const unsigned char s[] = {250, 0, 251, 24, 48, 224, 57, 81, 105, 230, 2, 26, 255, 50};
    char pw[16];

    script = s, script_len = sizeof(s), script_pos = 0;
    TT_EQ_INT(securezip_pw_make(pw, 8, scripted), 0);
    TT_EQ_STR(pw, "Aa2Bb3Cc");
    /* a draw without a digit is thrown away whole */
    static const unsigned char t[] = {0,  24, 1, 25, 2, 26, 3, 27, 4,
                                      28, 48, 5, 29, 6, 30, 7, 31, 8};
    script = t, script_len = sizeof(t), script_pos = 0;
    TT_EQ_INT(securezip_pw_make(pw, 8, scripted), 0);
    TT_EQ_STR(pw, "Ee2FfGgH");
}

TT_TEST(rules_checked)
{
    TT_ASSERT(securezip_pw_valid("Aa2Bb3Cc"));
    TT_ASSERT(!securezip_pw_valid("Aa2Bb3C"));  /* length */
    TT_ASSERT(!securezip_pw_valid("Aa0Bb3Cc")); /* 0 */
    TT_ASSERT(!securezip_pw_valid("AalBb3Cc")); /* l */
    TT_ASSERT(!securezip_pw_valid("aa2bb3cc")); /* no upper */
    TT_ASSERT(!securezip_pw_valid("AA2BB3CC")); /* no lower */
    TT_ASSERT(!securezip_pw_valid("AabBbcCc")); /* no digit */
    TT_ASSERT(!securezip_pw_valid("Aa2Bb3C!")); /* outside the alphabet */
}

/* chi2 - chi-square of the counts of the n characters of set against uniform */
static double chi2(const long *count, const char *set)
{
    size_t n = strlen(set);
    double total = 0, x = 0;

    for (size_t i = 0; i < n; i++)
        total += (double)count[(unsigned char)set[i]];
    for (size_t i = 0; i < n; i++) {
        double d = (double)count[(unsigned char)set[i]] - total / (double)n;
        x += d * d / (total / (double)n);
    }
    return x;
}

TT_TEST(no_bias_in_a_large_sample)
{
    long count[256] = {0};
    char pw[SECUREZIP_PW_MAX + 1];

    for (int i = 0; i < 40000; i++) {
        TT_EQ_INT(securezip_pw_make(pw, 10, NULL), 0);
        for (const char *p = pw; *p; p++)
            count[(unsigned char)*p]++;
    }
    /* within each class every character is equally likely (the class
     * rule changes the classes' shares, never the characters' within one);
     * a modulo without rejection would give the first 32 characters 25%
     * more: chi-square in the thousands. Limits at p < 0.0001. */
    double up = chi2(count, "ABCDEFGHJKLMNPQRSTUVWXYZ"),
           low = chi2(count, "abcdefghijkmnpqrstuvwxyz");
    double dig = chi2(count, "23456789");
    if (up > 60 || low > 60 || dig > 33)
        TT_FAIL("chi-square too high: upper %.1f, lower %.1f, digits %.1f", up, low, dig);
    for (const char *p = "0Oo1lI"; *p; p++)
        TT_EQ_INT((int)count[(unsigned char)*p], 0);
}

TT_MAIN(TT_CASE(lengths_by_type), TT_CASE(rejection_sampling_is_exact), TT_CASE(rules_checked),
        TT_CASE(no_bias_in_a_large_sample))
