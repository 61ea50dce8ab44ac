/* test_units.c: sizes and durations as people type them (proto/units.c),
 * the one parser of mqd's configuration and of libmq (mq_size_parse,
 * mq_duration_parse, which mqctl uses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

#include <cmocka.h>

static void test_sizes_with_units_parse_to_bytes(void **state)
{
    static const struct {
        const char *s;
        uint64_t bytes;
    } ok[] = {
        {"0", 0},
        {"4096", 4096},
        {"1B", 1},
        {"1kB", 1000},
        {"1KB", 1000},
        {"1MB", 1000000},
        {"1mb", 1000000},
        {"2GB", 2000000000ull},
        {"1TB", 1000000000000ull},
        {"64KiB", 65536},
        {"64kib", 65536},
        {"1MiB", 1048576},
        {"1.5GiB", 1610612736ull},
        {"0.5KiB", 512},
        {"1.5MB", 1500000},
        {"1PiB", 1ull << 50},
        {"18446744073709551615", UINT64_MAX},
        {"16383PiB", 16383ull << 50},
    };
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char why[128] = "";
        v = 7;
        if (units_size(ok[i].s, &v, why, sizeof why) != 0 || v != ok[i].bytes) {
            fail_msg("\"%s\": got %llu (%s), want %llu", ok[i].s,
                     (unsigned long long)v, why,
                     (unsigned long long)ok[i].bytes);
        }
    }
}

static void test_bad_sizes_are_refused_saying_why(void **state)
{
    static const struct {
        const char *s;
        const char *why;
    } bad[] = {
        {"", "empty"},
        {"x", "not a size"},
        {"-1", "not a size"},
        {" 1MB", "not a size"},
        {"1 MB", "unknown unit"},
        {"5x", "unknown unit"},
        {"1M", "say MB or MiB"},
        {"64k", "say kB or KiB"},
        {"1G", "say GB or GiB"},
        {"1.", "not a size"},
        {".5MB", "not a size"},
        {"1.3KiB", "not a whole number of bytes"},
        {"1.5", "not a whole number of bytes"},
        {"18446744073709551616", "not a size"},
        {"16384PiB", "too large"},
        {"1MBx", "unknown unit"},
    };
    uint64_t v = 42;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[160] = "";
        if (units_size(bad[i].s, &v, why, sizeof why) != -1) {
            fail_msg("\"%s\" was accepted as %llu", bad[i].s,
                     (unsigned long long)v);
        }
        if (strstr(why, bad[i].why) == NULL) {
            fail_msg("\"%s\": why \"%s\" does not say \"%s\"", bad[i].s, why,
                     bad[i].why);
        }
    }
    assert_int_equal(units_size(NULL, &v, NULL, 0), -1);
    assert_int_equal(v, 42); /* unchanged */
}

static void test_durations_with_units_parse_to_ms(void **state)
{
    static const struct {
        const char *s;
        uint64_t ms;
    } ok[] = {
        {"0", 0},
        {"0s", 0},
        {"500ms", 500},
        {"5s", 5000},
        {"90m", 5400000},
        {"1.5h", 5400000},
        {"7d", 604800000},
        {"1h30m", 5400000},
        {"1m30s", 90000},
        {"0.5s", 500},
        {"1.5S", 1500},
        {"2H", 7200000},
        {"1h2m3s4ms", 3723004},
        {"30m1h", 5400000},
        {"0.001s", 1},
    };
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char why[128] = "";
        v = 7;
        if (units_duration_ms(ok[i].s, 0, &v, why, sizeof why) != 0 ||
            v != ok[i].ms) {
            fail_msg("\"%s\": got %llu (%s), want %llu", ok[i].s,
                     (unsigned long long)v, why, (unsigned long long)ok[i].ms);
        }
    }
}

static void test_bad_durations_are_refused_saying_why(void **state)
{
    static const struct {
        const char *s;
        const char *why;
    } bad[] = {
        {"", "empty"},
        {"5", "has no unit"},
        {"5x", "unknown unit"},
        {"ms", "not a duration"},
        {"-1s", "not a duration"},
        {" 5s", "not a duration"},
        {"5s ", "unknown unit"},
        {"5 s", "unknown unit"},
        {"1m30", "has no unit"},
        {"1.5ms", "not a whole number of milliseconds"},
        {"0.0001s", "not a whole number of milliseconds"},
        {"99999999999999999999s", "not a duration"},
        {"300000000000000d", "too large"},
        {"1w", "unknown unit"},
    };
    uint64_t v = 42;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[160] = "";
        if (units_duration_ms(bad[i].s, 0, &v, why, sizeof why) != -1) {
            fail_msg("\"%s\" was accepted as %llu", bad[i].s,
                     (unsigned long long)v);
        }
        if (strstr(why, bad[i].why) == NULL) {
            fail_msg("\"%s\": why \"%s\" does not say \"%s\"", bad[i].s, why,
                     bad[i].why);
        }
    }
    assert_int_equal(v, 42); /* unchanged */
}

static void test_bare_numbers_take_the_given_unit(void **state)
{
    uint64_t v = 0;
    char why[128];

    (void)state;
    /* Config keys ending in _ms: a number alone is milliseconds. */
    assert_int_equal(units_duration_ms("1000", 1, &v, why, sizeof why), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(units_duration_ms("2s", 1, &v, why, sizeof why), 0);
    assert_int_equal(v, 2000);
    assert_int_equal(units_duration_ms("1.5", 1000, &v, why, sizeof why), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(units_duration_ms("1.5", 1, &v, why, sizeof why), -1);
}

static void test_formats_are_exact_and_read_back(void **state)
{
    static const struct {
        uint64_t v;
        const char *s;
    } sizes[] =
        {
            {0, "0"},
            {1, "1"},
            {1000, "1kB"},
            {1024, "1KiB"},
            {65536, "64KiB"},
            {67108864, "64MiB"},
            {1073741824, "1GiB"},
            {1000000, "1MB"},
            {1000001, "1000001"},
            {1ull << 50, "1PiB"},
        },
      durations[] = {
          {0, "0"},
          {1, "1ms"},
          {1000, "1s"},
          {90000, "1m30s"},
          {3600001, "1h1ms"},
          {604800000, "7d"},
          {86400000 + 1000, "1d1s"},
      };
    char buf[UNITS_FORMAT_MAX];
    uint64_t back;

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        units_size_format(sizes[i].v, buf, sizeof buf);
        assert_string_equal(buf, sizes[i].s);
        assert_int_equal(units_size(buf, &back, NULL, 0), 0);
        assert_true(back == sizes[i].v);
    }
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        units_duration_format(durations[i].v, buf, sizeof buf);
        assert_string_equal(buf, durations[i].s);
        assert_int_equal(units_duration_ms(buf, 0, &back, NULL, 0), 0);
        assert_true(back == durations[i].v);
    }
    units_duration_format(UINT64_MAX, buf, sizeof buf);
    assert_int_equal(units_duration_ms(buf, 0, &back, NULL, 0), 0);
    assert_true(back == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_with_units_parse_to_bytes),
        cmocka_unit_test(test_bad_sizes_are_refused_saying_why),
        cmocka_unit_test(test_durations_with_units_parse_to_ms),
        cmocka_unit_test(test_bad_durations_are_refused_saying_why),
        cmocka_unit_test(test_bare_numbers_take_the_given_unit),
        cmocka_unit_test(test_formats_are_exact_and_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
