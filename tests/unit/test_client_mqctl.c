/* test_client_mqctl.c: mqctl's helpers: durations (libmq's parser),
 * numbers, rates, times, flags (client/mqctl/args.c) and JSON, text, base64 and
 * size output (client/mqctl/output.c). mqctl is an executable, so its sources
 * are compiled into this test directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/mqctl/args.c"
#include "../../client/mqctl/output.c"

#include <cmocka.h>

static void test_duration_units_parse_to_ms(void **state)
{
    static const struct {
        const char *s;
        uint64_t ms;
    } ok[] = {
        {"500ms", 500},     {"5s", 5000},       {"2m", 120000},
        {"1h", 3600000},    {"7d", 604800000},  {"1m30s", 90000},
        {"0", 0},           {"0s", 0},          {"1h2m3s4ms", 3723004},
        {"10000ms", 10000}, {"1.5h", 5400000},  {"90m", 5400000},
        {"1.5s", 1500},     {"0.5d", 43200000},
    };
    uint64_t ms;

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ms = 1;
        if (args_duration_ms(ok[i].s, &ms) != 0 || ms != ok[i].ms) {
            fail_msg("\"%s\": got %llu, want %llu", ok[i].s,
                     (unsigned long long)ms, (unsigned long long)ok[i].ms);
        }
    }
}

static void test_duration_without_unit_or_garbage_is_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "5",
        "5x",
        "ms",
        "-1s",
        "1.5ms",
        "s5",
        " 5s",
        "5s ",
        "5 s",
        "1m30",
        "99999999999999999999s",
        "300000000000000d",
    };
    uint64_t ms = 42;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (args_duration_ms(bad[i], &ms) != -1) {
            fail_msg("\"%s\" was accepted as %llu ms", bad[i],
                     (unsigned long long)ms);
        }
    }
    assert_int_equal(args_duration_ms(NULL, &ms), -1);
    assert_int_equal(ms, 42); /* unchanged */
}

/* The limits mqctl names in its errors ("--max-message-bytes: 16MiB is
 * more than 8MiB"). */
static void test_size_text_uses_the_largest_exact_unit(void **state)
{
    char buf[32];

    (void)state;
    args_size_text(8u << 20, buf, sizeof buf);
    assert_string_equal(buf, "8MiB");
    args_size_text(1536, buf, sizeof buf);
    assert_string_equal(buf, "1536");
    args_size_text(3072, buf, sizeof buf);
    assert_string_equal(buf, "3KiB");
    args_size_text(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    args_size_text(UINT64_MAX, buf, sizeof buf);
    assert_string_equal(buf, "18446744073709551615");
}

static void test_uint_checks_digits_and_range(void **state)
{
    uint64_t v;

    (void)state;
    assert_int_equal(args_uint("4294967295", UINT32_MAX, &v), 0);
    assert_int_equal(v, UINT32_MAX);
    assert_int_equal(args_uint("4294967296", UINT32_MAX, &v), -1);
    assert_int_equal(args_uint("18446744073709551615", UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(args_uint("18446744073709551616", UINT64_MAX, &v), -1);
    assert_int_equal(args_uint("", UINT64_MAX, &v), -1);
    assert_int_equal(args_uint("12k", UINT64_MAX, &v), -1);
    assert_int_equal(args_uint("-1", UINT64_MAX, &v), -1);
}

static void test_rate_takes_per_second_or_bare_number(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(args_rate("100/s", 1000000, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(args_rate("7", 1000000, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(args_rate("0/s", 1000000, &v), -1);
    assert_int_equal(args_rate("/s", 1000000, &v), -1);
    assert_int_equal(args_rate("10/m", 1000000, &v), -1);
    assert_int_equal(args_rate("2000000/s", 1000000, &v), -1);
    assert_int_equal(args_rate("", 1000000, &v), -1);
    assert_int_equal(args_rate(NULL, 1000000, &v), -1);
    assert_int_equal(v, 7); /* unchanged */
}

static void test_time_parses_rfc3339_ms_and_relative(void **state)
{
    static const struct {
        const char *s;
        uint64_t ms;
    } ok[] = {
        {"2026-11-23T20:00:00Z", 1795464000000ULL},
        {"2026-11-23t20:00:00z", 1795464000000ULL},
        {"2026-11-23T20:00:00.250Z", 1795464000250ULL},
        {"2026-11-23T20:00:00.1Z", 1795464000100ULL},
        {"2026-11-23T20:00:00.123456789Z", 1795464000123ULL},
        {"2026-11-23T21:30:00+01:30", 1795464000000ULL},
        {"2026-11-23T15:00:00-05:00", 1795464000000ULL},
        {"2024-02-29T00:00:00Z", 1709164800000ULL},
        {"2016-12-31T23:59:60Z", 1483228799999ULL}, /* a leap second */
        {"1795464000000", 1795464000000ULL},
        {"0", 0},
        {"-5m", 1795464000000ULL - 300000},
        {"-1h30m", 1795464000000ULL - 5400000},
    };
    uint64_t ms;

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ms = 1;
        if (args_time_ms(ok[i].s, 1795464000000ULL, &ms) != 0 ||
            ms != ok[i].ms) {
            fail_msg("\"%s\": got %llu, want %llu", ok[i].s,
                     (unsigned long long)ms, (unsigned long long)ok[i].ms);
        }
    }
}

static void test_time_refuses_malformed_and_impossible(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-11-23",
        "2026-11-23T20:00:00",
        "2026-11-23 20:00:00Z",
        "2026-11-23T20:00Z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T20:60:00Z",
        "2026-11-23T20:00:00.Z",
        "2026-11-23T20:00:00+1:00",
        "2026-11-23T20:00:00+01:00x",
        "1969-12-31T23:59:59Z",
        "-5",
        "-5x",
        "-100000d",
        "5m",
        "12a",
    };
    uint64_t ms = 42;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (args_time_ms(bad[i], 1795464000000ULL, &ms) != -1) {
            fail_msg("\"%s\" was accepted as %llu", bad[i],
                     (unsigned long long)ms);
        }
    }
    assert_int_equal(args_time_ms(NULL, 0, &ms), -1);
    assert_int_equal(ms, 42); /* unchanged */
}

static void test_split_takes_flags_anywhere(void **state)
{
    static const char *const valued[] = {"--id", "--header", NULL};
    static const char *const plain[] = {"--dry", NULL};
    char *argv[] = {"orders", "--header",     "a=1", "order.created", "--id=x",
                    "--dry",  "--header=b=2", "--",  "--data"};
    struct args a;
    char err[64];

    (void)state;
    assert_int_equal(args_split(9, argv, valued, plain, &a, err, sizeof err),
                     0);
    assert_int_equal(a.n_pos, 3);
    assert_string_equal(a.pos[0], "orders");
    assert_string_equal(a.pos[1], "order.created");
    assert_string_equal(a.pos[2], "--data");
    assert_string_equal(args_get(&a, "--id"), "x");
    assert_string_equal(args_get(&a, "--header"), "b=2"); /* the last */
    assert_true(args_has(&a, "--dry"));
    assert_false(args_has(&a, "--wait"));
    assert_null(args_get(&a, "--wait"));
}

static void test_split_refuses_unknown_and_missing_values(void **state)
{
    static const char *const valued[] = {"--count", NULL};
    char *unknown[] = {"q", "--cuont", "3"};
    char *missing[] = {"q", "--count"};
    char *plain_with_value[] = {"--count=3", "--json=1"};
    struct args a;
    char err[64];

    (void)state;
    assert_int_equal(args_split(3, unknown, valued, NULL, &a, err, sizeof err),
                     -1);
    assert_string_equal(err, "unknown flag --cuont");
    assert_int_equal(args_split(2, missing, valued, NULL, &a, err, sizeof err),
                     -1);
    assert_string_equal(err, "--count needs a value");
    assert_int_equal(
        args_split(2, plain_with_value, valued, NULL, &a, err, sizeof err), -1);
    assert_string_equal(err, "unknown flag --json");
}

/* Runs @fn into a memory stream and returns what it wrote (static). */
static const char *capture(void (*fn)(FILE *))
{
    static char out[1024];
    FILE *f = fmemopen(out, sizeof out, "w");

    assert_non_null(f);
    fn(f);
    fclose(f);
    return out;
}

static void write_doc(FILE *f)
{
    struct json j;

    json_begin(&j, f);
    json_obj_open(&j, NULL);
    json_str(&j, "s", "a\"b\\c\n\t\x01 \xc3\xa9 \xe2\x82\xac");
    json_strn(&j, "bad", "x\xff\xc3y", 4);
    json_arr_open(&j, "n");
    json_u64(&j, NULL, 18446744073709551615ULL);
    json_bool(&j, NULL, 1);
    json_null(&j, NULL);
    json_arr_close(&j);
    json_obj_open(&j, "empty");
    json_obj_close(&j);
    json_obj_close(&j);
    json_end(&j);
}

static void test_grant_takes_namespace_and_verbs(void **state)
{
    char ns[MQ_NAME_MAX + 2];
    unsigned verbs;
    (void)state;
    assert_int_equal(args_grant("prd:publish", ns, sizeof ns, &verbs), 0);
    assert_string_equal(ns, "prd");
    assert_int_equal(verbs, MQ_VERB_PUBLISH);
    assert_int_equal(args_grant("team-*:consume,manage", ns, sizeof ns, &verbs),
                     0);
    assert_string_equal(ns, "team-*");
    assert_int_equal(verbs, MQ_VERB_CONSUME | MQ_VERB_MANAGE);
    assert_int_equal(
        args_grant("*:admin,publish,consume,manage", ns, sizeof ns, &verbs), 0);
    assert_string_equal(ns, "*");
    assert_int_equal(verbs, 15);
    /* The node checks the pattern; mqctl the shape. */
    static const char *const bad[] = {
        "prd",       "prd:",         ":publish",
        "prd:pub",   "prd:publish,", "prd:publish,,consume",
        "prd:delete"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(args_grant(bad[i], ns, sizeof ns, &verbs), -1);
    }
    char too_long[MQ_NAME_MAX + 16];
    memset(too_long, 'a', MQ_NAME_MAX + 2);
    strcpy(too_long + MQ_NAME_MAX + 2, ":publish");
    assert_int_equal(args_grant(too_long, ns, sizeof ns, &verbs), -1);
}

static void test_json_escapes_strings_and_separates_members(void **state)
{
    (void)state;
    assert_string_equal(capture(write_doc),
                        "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9 "
                        "\xe2\x82\xac\",\"bad\":\"x\\ufffd\\ufffdy\","
                        "\"n\":[18446744073709551615,true,null],"
                        "\"empty\":{}}\n");
}

static void test_text_detection_refuses_binary_and_bad_utf8(void **state)
{
    (void)state;
    assert_true(out_is_text("hello\n\tworld\r", 13));
    assert_true(out_is_text("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", 10));
    assert_true(out_is_text("", 0));
    assert_false(out_is_text("a\0b", 3));
    assert_false(out_is_text("\x1b[0m", 4));
    assert_false(out_is_text("\xc3", 1));         /* truncated */
    assert_false(out_is_text("\xc0\xaf", 2));     /* overlong */
    assert_false(out_is_text("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(out_is_text("\xc2\x85", 2));     /* C1 control */
    assert_false(out_is_text("\xff", 1));
}

static void test_base64_pads_every_length(void **state)
{
    static const char *const want[] = {
        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char *b;

    (void)state;
    for (size_t n = 0; n < 7; n++) {
        b = out_base64("foobar", n);
        assert_string_equal(b, want[n]);
        free(b);
    }
    b = out_base64("\x00\xff\xfe", 3);
    assert_string_equal(b, "AP/+");
    free(b);
}

static void test_duration_and_time_print_exactly(void **state)
{
    char buf[32];

    (void)state;
    out_duration(0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    out_duration(1500, buf, sizeof buf);
    assert_string_equal(buf, "1500ms");
    out_duration(120000, buf, sizeof buf);
    assert_string_equal(buf, "2m");
    out_duration(604800000, buf, sizeof buf);
    assert_string_equal(buf, "7d");
    out_duration(90000, buf, sizeof buf);
    assert_string_equal(buf, "90s");
    out_time(1748779200123ULL, buf, sizeof buf);
    assert_string_equal(buf, "2025-06-01T12:00:00.123Z");
    out_time(0, buf, sizeof buf);
    assert_string_equal(buf, "-");
}

static void test_sizes_print_in_binary_units(void **state)
{
    static const struct {
        uint64_t bytes;
        const char *s;
    } cases[] = {
        {0, "0B"},
        {1023, "1023B"},
        {1024, "1.0K"},
        {1536, "1.5K"},
        {12897485, "12.3M"}, /* 12.3 MiB */
        {104805376, "100M"}, /* 99.95 MiB rounds up: no "100.0" */
        {150u << 20, "150M"},
        {1048575, "1.0M"}, /* not "1024K" */
        {UINT64_C(5) << 40, "5.0T"},
        {UINT64_MAX, "16.0E"},
    };
    char buf[16];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out_size(cases[i].bytes, buf, sizeof buf);
        if (strcmp(buf, cases[i].s) != 0) {
            fail_msg("%llu: got \"%s\", want \"%s\"",
                     (unsigned long long)cases[i].bytes, buf, cases[i].s);
        }
    }
}

static void test_table_of_twelve_columns_pads_each_to_its_widest(void **state)
{
    /* mqctl status prints 12 columns. */
    static const char *const head[] = {"A", "B", "C", "D", "E", "F",
                                       "G", "H", "I", "J", "K", "L"};
    struct table t;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    (void)state;
    table_init(&t, 12, head);
    for (int i = 0; i < 12; i++) {
        table_cell(&t, "%.*s", i + 1, "xxxxxxxxxxxx");
    }
    table_print(&t, f);
    fclose(f);
    assert_string_equal(buf, "A  B   C    D     E      F       G        H "
                             "        I          J           K            L\n"
                             "x  xx  xxx  xxxx  xxxxx  xxxxxx  xxxxxxx  "
                             "xxxxxxxx  xxxxxxxxx  xxxxxxxxxx  xxxxxxxxxxx  "
                             "xxxxxxxxxxxx\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_of_twelve_columns_pads_each_to_its_widest),
        cmocka_unit_test(test_duration_units_parse_to_ms),
        cmocka_unit_test(test_duration_without_unit_or_garbage_is_refused),
        cmocka_unit_test(test_size_text_uses_the_largest_exact_unit),
        cmocka_unit_test(test_uint_checks_digits_and_range),
        cmocka_unit_test(test_rate_takes_per_second_or_bare_number),
        cmocka_unit_test(test_time_parses_rfc3339_ms_and_relative),
        cmocka_unit_test(test_time_refuses_malformed_and_impossible),
        cmocka_unit_test(test_split_takes_flags_anywhere),
        cmocka_unit_test(test_split_refuses_unknown_and_missing_values),
        cmocka_unit_test(test_grant_takes_namespace_and_verbs),
        cmocka_unit_test(test_json_escapes_strings_and_separates_members),
        cmocka_unit_test(test_text_detection_refuses_binary_and_bad_utf8),
        cmocka_unit_test(test_base64_pads_every_length),
        cmocka_unit_test(test_duration_and_time_print_exactly),
        cmocka_unit_test(test_sizes_print_in_binary_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
