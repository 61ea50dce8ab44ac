/* test_hash.c: the hashes are MurmurHash3 x64/128 with seed 0x6d71 ("mq"),
 * fixed forever: snapshots carry them (remembered ids), so every replica
 * and every version must compute the same values. The expected values come
 * from an independent implementation of the reference algorithm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"

static void test_hash128_matches_reference_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
        uint64_t lo, hi;
    } v[] = {
        {"", 0, 0x804ae476a4f13669ULL, 0x0b928aee0356e7f8ULL},
        {"a", 1, 0xa4c0fdf62b110069ULL, 0x0b2a274cbb864936ULL},
        {"order-1", 7, 0x9df32e5795bb489bULL, 0x16ecbd45eafe427cULL},
        {"0123456789abcdef", 16, 0x6d8558b9888605c6ULL, 0xf2a6f8f4d15ddf5cULL},
        {"0123456789abcdefXYZ", 19, 0x03e641ec74630629ULL,
         0x8e2b2c0d1c7982beULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        struct hash128 h = hash128(v[i].data, v[i].len);
        assert_true(h.lo == v[i].lo);
        assert_true(h.hi == v[i].hi);
        assert_true(hash64(v[i].data, v[i].len) == v[i].lo);
    }
    uint8_t bytes[40];
    for (int i = 0; i < 40; i++) {
        bytes[i] = (uint8_t)i;
    }
    struct hash128 h = hash128(bytes, sizeof bytes);
    assert_true(h.lo == 0x2dc6e6b36bf56fbbULL);
    assert_true(h.hi == 0x1c6b90120259297fULL);
}

static void test_hash_u64_spreads_small_keys(void **state)
{
    (void)state;
    /* Consecutive keys land in different low bits (hmap's slots). */
    unsigned seen = 0;
    for (uint64_t k = 0; k < 16; k++) {
        seen |= 1u << (hash_u64(k) & 15);
    }
    assert_true(__builtin_popcount(seen) >= 8);
    assert_true(hash_u64(1) != hash_u64(2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash128_matches_reference_vectors),
        cmocka_unit_test(test_hash_u64_spreads_small_keys),
    };
    return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
