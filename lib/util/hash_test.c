/* hash_test - FNV-1a against the published test vectors */
#include "tests/harness/ttest.h"
#include "util/hash.h"

TT_TEST(vectors)
{
    /* FNV-1a 32-bit reference values (Fowler/Noll/Vo test suite) */
    TT_EQ_INT(hash_fnv1a("", 0), 0x811c9dc5u);
    TT_EQ_INT(hash_fnv1a_str(""), 0x811c9dc5u);
    TT_EQ_INT(hash_fnv1a_str("a"), 0xe40c292cu);
    TT_EQ_INT(hash_fnv1a_str("foobar"), 0xbf9cf968u);
    TT_EQ_INT(hash_fnv1a("foobar", 6), 0xbf9cf968u);
}

TT_TEST(bytes_and_chaining)
{
    const unsigned char nul[3] = {'a', 0, 'b'};

    /* bytes past a NUL count; a string stops at it */
    TT_ASSERT(hash_fnv1a(nul, 3) != hash_fnv1a_str("a"));
    TT_EQ_INT(hash_fnv1a(nul, 1), hash_fnv1a_str("a"));
    /* hashing in pieces equals hashing at once */
    TT_EQ_INT(hash_fnv1a_add(hash_fnv1a("foo", 3), "bar", 3), hash_fnv1a_str("foobar"));
    TT_EQ_INT(hash_fnv1a_add(HASH_FNV1A_INIT, "x", 0), HASH_FNV1A_INIT);
}

TT_TEST(case_variants)
{
    TT_ASSERT(hash_fnv1a_str("MX.Example.COM") != hash_fnv1a_str("mx.example.com"));
    TT_EQ_INT(hash_fnv1a_strcase("MX.Example.COM"), hash_fnv1a_str("mx.example.com"));
    TT_EQ_INT(hash_fnv1a_strcase("abc-09_[@]"), hash_fnv1a_str("abc-09_[@]"));
    /* only ASCII letters fold: '@' (0x40) and '[' (0x5b) stay */
    TT_ASSERT(hash_fnv1a_strcase("@") != hash_fnv1a_str("`"));
    TT_EQ_INT(hash_fnv1a_strcase("\xc4"), hash_fnv1a_str("\xc4"));
}

TT_MAIN(TT_CASE(vectors), TT_CASE(bytes_and_chaining), TT_CASE(case_variants))
