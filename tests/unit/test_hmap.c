/* test_hmap.c: the open-addressing map, against a plain array model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "fsm_helpers.h"
#include "hash.h"
#include "hmap.h"

#define VAL(x) ((void *)(uintptr_t)(x))

static void test_hmap_empty_map_finds_nothing(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;
    assert_null(hmap_get(&m, 0));
    assert_null(hmap_get(&m, 42));
    assert_null(hmap_del(&m, 42));
    assert_int_equal(m.len, 0);
    hmap_close(&m);
}

static void test_hmap_put_get_replace_del(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;
    assert_int_equal(hmap_put(&m, 7, VAL(70)), MQ_OK);
    assert_int_equal(hmap_put(&m, 0, VAL(1)), MQ_OK); /* key 0 is a key */
    assert_ptr_equal(hmap_get(&m, 7), VAL(70));
    assert_ptr_equal(hmap_get(&m, 0), VAL(1));
    assert_int_equal(hmap_put(&m, 7, VAL(71)), MQ_OK);
    assert_int_equal(m.len, 2);
    assert_ptr_equal(hmap_get(&m, 7), VAL(71));
    assert_ptr_equal(hmap_del(&m, 7), VAL(71));
    assert_null(hmap_get(&m, 7));
    assert_null(hmap_del(&m, 7));
    assert_int_equal(m.len, 1);
    hmap_close(&m);
    assert_int_equal(m.cap, 0);
}

/* Keys whose home slot in a map of @cap slots is @home. */
static size_t keys_with_home(size_t cap, size_t home, uint64_t *out, size_t n)
{
    size_t k = 0;
    for (uint64_t key = 1; k < n; key++) {
        if ((hash_u64(key) & (cap - 1)) == home) {
            out[k++] = key;
        }
    }
    return k;
}

static void test_hmap_collision_chain_survives_deletes(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;
    uint64_t same[3], other[2];

    /* Reserve so the map has 16 slots and stays so. */
    assert_int_equal(hmap_reserve(&m, 8), MQ_OK);
    assert_int_equal(m.cap, 16);
    /* Three keys at home 15 wrap around to slots 0 and 1; two keys at
     * home 0 and 1 are pushed behind them. */
    keys_with_home(16, 15, same, 3);
    keys_with_home(16, 0, other, 1);
    keys_with_home(16, 1, other + 1, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hmap_put(&m, same[i], VAL(same[i])), MQ_OK);
    }
    assert_int_equal(hmap_put(&m, other[0], VAL(other[0])), MQ_OK);
    assert_int_equal(hmap_put(&m, other[1], VAL(other[1])), MQ_OK);
    assert_int_equal(m.cap, 16);

    /* Deleting the chain's head must shift the rest back, across the
     * wrap, without losing any key. */
    assert_ptr_equal(hmap_del(&m, same[0]), VAL(same[0]));
    assert_ptr_equal(hmap_get(&m, same[1]), VAL(same[1]));
    assert_ptr_equal(hmap_get(&m, same[2]), VAL(same[2]));
    assert_ptr_equal(hmap_get(&m, other[0]), VAL(other[0]));
    assert_ptr_equal(hmap_get(&m, other[1]), VAL(other[1]));
    assert_ptr_equal(hmap_del(&m, same[2]), VAL(same[2]));
    assert_ptr_equal(hmap_get(&m, other[0]), VAL(other[0]));
    assert_ptr_equal(hmap_get(&m, other[1]), VAL(other[1]));
    assert_ptr_equal(hmap_del(&m, other[0]), VAL(other[0]));
    assert_ptr_equal(hmap_get(&m, same[1]), VAL(same[1]));
    assert_ptr_equal(hmap_get(&m, other[1]), VAL(other[1]));
    assert_int_equal(m.len, 2);
    hmap_close(&m);
}

#define MODEL_KEYS 3000

static void test_hmap_matches_array_model_over_random_ops(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;
    static uintptr_t model[MODEL_KEYS]; /* 0: absent */
    uint64_t seed = 1234;
    size_t live = 0;

    memset(model, 0, sizeof model);
    for (int round = 0; round < 200000; round++) {
        uint64_t r = test_rand(&seed);
        /* Keys from a small range collide often; some are huge. */
        size_t idx = (size_t)(r % MODEL_KEYS);
        uint64_t key = idx < 100 ? UINT64_MAX - idx : idx;
        switch ((r >> 32) % 4) {
        case 0:
        case 1: {
            uintptr_t v = (uintptr_t)(r >> 40) | 1;
            assert_int_equal(hmap_put(&m, key, VAL(v)), MQ_OK);
            live += model[idx] == 0;
            model[idx] = v;
            break;
        }
        case 2:
            assert_ptr_equal(hmap_del(&m, key), VAL(model[idx]));
            live -= model[idx] != 0;
            model[idx] = 0;
            break;
        default:
            assert_ptr_equal(hmap_get(&m, key), VAL(model[idx]));
            break;
        }
        assert_int_equal(m.len, live);
        assert_true(m.len * 2 <= m.cap || m.cap == 0);
    }
    for (size_t idx = 0; idx < MODEL_KEYS; idx++) {
        uint64_t key = idx < 100 ? UINT64_MAX - idx : idx;
        assert_ptr_equal(hmap_get(&m, key), VAL(model[idx]));
    }
    hmap_close(&m);
}

static void test_hmap_oom_during_growth_leaves_map_unchanged(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;

    test_alloc_fail_at(0);
    assert_int_equal(hmap_put(&m, 1, VAL(1)), MQ_ERR_NO_MEMORY);
    test_alloc_fail_at(-1);
    assert_int_equal(m.len, 0);
    assert_null(hmap_get(&m, 1));

    /* Fill to exactly half of 8 slots: the next new key must grow. */
    for (uint64_t k = 1; k <= 4; k++) {
        assert_int_equal(hmap_put(&m, k, VAL(k)), MQ_OK);
    }
    assert_int_equal(m.cap, 8);
    const struct hmap_slot *slots = m.slots;
    test_alloc_fail_at(0);
    assert_int_equal(hmap_put(&m, 5, VAL(5)), MQ_ERR_NO_MEMORY);
    test_alloc_fail_at(-1);
    assert_ptr_equal(m.slots, slots);
    assert_int_equal(m.cap, 8);
    assert_int_equal(m.len, 4);
    assert_null(hmap_get(&m, 5));
    for (uint64_t k = 1; k <= 4; k++) {
        assert_ptr_equal(hmap_get(&m, k), VAL(k));
    }
    test_alloc_fail_at(0);
    assert_int_equal(hmap_reserve(&m, 100), MQ_ERR_NO_MEMORY);
    test_alloc_fail_at(-1);
    assert_int_equal(m.cap, 8);
    assert_int_equal(m.len, 4);
    hmap_close(&m);
}

static void test_hmap_reserve_makes_next_puts_infallible(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;
    assert_int_equal(hmap_reserve(&m, 100), MQ_OK);
    test_alloc_fail_at(0); /* every later allocation would fail once */
    for (uint64_t k = 0; k < 100; k++) {
        assert_int_equal(hmap_put(&m, k * 977, VAL(k + 1)), MQ_OK);
    }
    test_alloc_fail_at(-1);
    assert_int_equal(m.len, 100);
    hmap_close(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmap_empty_map_finds_nothing),
        cmocka_unit_test(test_hmap_put_get_replace_del),
        cmocka_unit_test(test_hmap_collision_chain_survives_deletes),
        cmocka_unit_test(test_hmap_matches_array_model_over_random_ops),
        cmocka_unit_test(test_hmap_oom_during_growth_leaves_map_unchanged),
        cmocka_unit_test(test_hmap_reserve_makes_next_puts_infallible),
    };
    return cmocka_run_group_tests_name("hmap", tests, NULL, NULL);
}
