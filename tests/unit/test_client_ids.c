/* test_client_ids.c: generated message ids (client/src/ids.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ids.h"
#include "mq.h"

#include <cmocka.h>

#define N_IDS 100000

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_ids_many_are_unique_and_valid(void **state)
{
    char(*ids)[IDS_BUF] = malloc(N_IDS * sizeof *ids);
    struct ids g;

    (void)state;
    assert_non_null(ids);
    ids_init(&g);
    for (size_t i = 0; i < N_IDS; i++) {
        size_t len;
        ids_next(&g, ids[i]);
        len = strlen(ids[i]);
        assert_true(len > IDS_PREFIX_LEN && len <= IDS_LEN_MAX);
        assert_memory_equal(ids[i], g.prefix, IDS_PREFIX_LEN);
        for (size_t k = 0; k < len; k++) {
            char c = ids[i][k];
            assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z'));
        }
        assert_int_equal(check_id(ids[i]), MQ_OK);
    }
    qsort(ids, N_IDS, sizeof *ids, cmp_str);
    for (size_t i = 1; i < N_IDS; i++) {
        assert_string_not_equal(ids[i - 1], ids[i]);
    }
    free(ids);
}

static void test_ids_two_clients_get_different_prefixes(void **state)
{
    struct ids a, b;
    char ia[IDS_BUF], ib[IDS_BUF];

    (void)state;
    ids_init(&a);
    ids_init(&b);
    assert_string_not_equal(a.prefix, b.prefix);
    ids_next(&a, ia);
    ids_next(&b, ib);
    assert_string_not_equal(ia, ib);
}

static void test_ids_largest_counter_still_fits(void **state)
{
    struct ids g;
    char id[IDS_BUF];

    (void)state;
    ids_init(&g);
    atomic_store(&g.counter, UINT64_MAX);
    ids_next(&g, id);
    assert_int_equal(strlen(id), IDS_LEN_MAX);
    /* 2^64 - 1 in base62 */
    assert_string_equal(id + IDS_PREFIX_LEN, "LygHa16AHYF");
}

static void test_ids_base62_pads_to_width(void **state)
{
    char out[4] = {0};

    (void)state;
    ids_base62(61, out, 3);
    assert_string_equal(out, "00z");
    ids_base62(62, out, 3);
    assert_string_equal(out, "010");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_many_are_unique_and_valid),
        cmocka_unit_test(test_ids_two_clients_get_different_prefixes),
        cmocka_unit_test(test_ids_largest_counter_still_fits),
        cmocka_unit_test(test_ids_base62_pads_to_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
