/* test_pbscan.c: the bounds-checked PubMessage reader and the varint
 * writers. Messages are packed by protobuf-c, or written byte by byte where
 * protobuf-c would not write them (duplicate fields, truncation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fsm_helpers.h"
#include "mq.pb-c.h"
#include "pbscan.h"

static void test_scan_packed_message_finds_every_field(void **state)
{
    (void)state;
    const char *kv[] = {"trace", "abc", "tenant", "t1"};
    struct blob b = pub_blob_h("order-1", "order.created", "hello", 5, kv, 2);
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(pub_scan(b.data, b.len, &v, &e), MQ_OK);
    assert_int_equal(v.id_len, 7);
    assert_memory_equal(b.data + v.id_off, "order-1", 7);
    assert_int_equal(v.event_len, 13);
    assert_memory_equal(b.data + v.event_off, "order.created", 13);
    assert_int_equal(v.payload_len, 5);
    assert_int_equal(v.n_headers, 2);
    blob_free(&b);
}

static void test_scan_message_without_id_or_event_has_zero_lengths(void **state)
{
    (void)state;
    struct blob b = pub_blob_h(NULL, NULL, "x", 1, NULL, 0);
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(pub_scan(b.data, b.len, &v, &e), MQ_OK);
    assert_int_equal(v.id_len, 0);
    assert_int_equal(v.event_len, 0);
    assert_int_equal(v.payload_len, 1);
    blob_free(&b);
}

static void test_scan_empty_payload_is_invalid(void **state)
{
    (void)state;
    struct blob b = pub_blob_h("id", "ev", "", 0, NULL, 0);
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(pub_scan(b.data, b.len, &v, &e), MQ_ERR_INVALID);
    assert_string_equal(e.msg, "payload is empty");
    /* Zero bytes: no field at all. */
    assert_int_equal(pub_scan(b.data, 0, &v, &e), MQ_ERR_INVALID);
    assert_string_equal(e.msg, "payload is empty");
    /* A payload field present with length 0. */
    const uint8_t zero[] = {0x22, 0x00};
    assert_int_equal(pub_scan(zero, sizeof zero, &v, &e), MQ_ERR_INVALID);
    assert_string_equal(e.msg, "payload is empty");
    blob_free(&b);
}

static void expect_protocol(const uint8_t *p, size_t len, const char *words)
{
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;
    assert_int_equal(pub_scan(p, len, &v, &e), MQ_ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, words));
}

static void test_scan_duplicate_fields_are_protocol_errors(void **state)
{
    (void)state;
    const uint8_t two_ids[] = {0x0a, 1, 'a', 0x0a, 1, 'b', 0x22, 1, 'x'};
    const uint8_t two_events[] = {0x12, 1, 'a', 0x12, 1, 'b', 0x22, 1, 'x'};
    const uint8_t two_payloads[] = {0x22, 1, 'x', 0x22, 1, 'y'};
    expect_protocol(two_ids, sizeof two_ids, "two ids");
    expect_protocol(two_events, sizeof two_events, "two event names");
    expect_protocol(two_payloads, sizeof two_payloads, "two payloads");
    /* Two payloads, the first empty, are still two. */
    const uint8_t empty_then[] = {0x22, 0, 0x22, 1, 'y'};
    expect_protocol(empty_then, sizeof empty_then, "two payloads");
}

static void test_scan_unknown_fields_are_protocol_errors(void **state)
{
    (void)state;
    /* Field 5; field 10 (Delivery's seq, as bytes); field 0. */
    const uint8_t f5[] = {0x22, 1, 'x', 0x2a, 1, 'z'};
    const uint8_t f10[] = {0x22, 1, 'x', 0x52, 1, 'z'};
    const uint8_t f0[] = {0x02, 1, 'z', 0x22, 1, 'x'};
    expect_protocol(f5, sizeof f5, "unknown field 5");
    expect_protocol(f10, sizeof f10, "unknown field 10");
    expect_protocol(f0, sizeof f0, "unknown field 0");
}

static void test_scan_wrong_wire_types_are_protocol_errors(void **state)
{
    (void)state;
    /* Field 4 as a varint (Delivery's seq would be field 10 varint). */
    const uint8_t varint[] = {0x20, 1};
    /* Field 1 as fixed64, fixed32, start group. */
    const uint8_t i64[] = {0x09, 1, 2, 3, 4, 5, 6, 7, 8};
    const uint8_t i32[] = {0x0d, 1, 2, 3, 4};
    const uint8_t group[] = {0x0b, 0x0c};
    expect_protocol(varint, sizeof varint, "malformed");
    expect_protocol(i64, sizeof i64, "malformed");
    expect_protocol(i32, sizeof i32, "malformed");
    expect_protocol(group, sizeof group, "malformed");
}

static void test_scan_truncated_input_is_protocol_error(void **state)
{
    (void)state;
    const char *kv[] = {"k", "v"};
    struct blob b = pub_blob_h("id-1", "a.b", "payload", 7, kv, 1);
    /* Every proper prefix that cuts a field is refused as malformed;
     * prefixes that end between fields are well-formed messages with some
     * field missing, refused as invalid. None may read past the end: the
     * sanitizer build checks that on an exact-size copy. */
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b.data, n);
        struct pub_view v;
        struct errmsg e = ERRMSG_INIT;
        mq_err rv = pub_scan(copy, n, &v, &e);
        assert_true(rv == MQ_ERR_PROTOCOL || rv == MQ_ERR_INVALID);
        free(copy);
    }
    blob_free(&b);
}

static void test_scan_truncated_varints_and_lengths(void **state)
{
    (void)state;
    const uint8_t tag_cut[] = {0x22, 1, 'x', 0x80};
    const uint8_t len_cut[] = {0x22, 0x80};
    const uint8_t len_over[] = {0x22, 5, 'x'};
    const uint8_t len_huge[] = {0x22, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t varint_11[] = {0x22, 0x80, 0x80, 0x80, 0x80, 0x80,
                                 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    expect_protocol(tag_cut, sizeof tag_cut, "malformed at byte");
    expect_protocol(len_cut, sizeof len_cut, "malformed");
    expect_protocol(len_over, sizeof len_over, "malformed");
    expect_protocol(len_huge, sizeof len_huge, "malformed");
    expect_protocol(varint_11, sizeof varint_11, "malformed");
}

static struct blob headers_blob(size_t n)
{
    static const char *kv[2 * (PUB_MAX_HEADERS + 1)];
    static char keys[PUB_MAX_HEADERS + 1][8];
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        kv[2 * i] = keys[i];
        kv[2 * i + 1] = "v";
    }
    return pub_blob_h("id", "ev", "p", 1, kv, n);
}

static void test_scan_64_headers_accepted_65_refused(void **state)
{
    (void)state;
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;
    struct blob ok = headers_blob(PUB_MAX_HEADERS);
    struct blob over = headers_blob(PUB_MAX_HEADERS + 1);

    assert_int_equal(pub_scan(ok.data, ok.len, &v, &e), MQ_OK);
    assert_int_equal(v.n_headers, PUB_MAX_HEADERS);
    assert_int_equal(pub_scan(over.data, over.len, &v, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "more than 64 headers"));
    blob_free(&ok);
    blob_free(&over);
}

static void test_scan_header_without_key_is_invalid(void **state)
{
    (void)state;
    const char *kv[] = {"", "value"};
    struct blob b = pub_blob_h("id", "ev", "p", 1, kv, 1);
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(pub_scan(b.data, b.len, &v, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "header 1 has no key"));
    /* An explicitly empty key field. */
    const uint8_t empty_key[] = {0x1a, 2, 0x0a, 0, 0x22, 1, 'x'};
    assert_int_equal(pub_scan(empty_key, sizeof empty_key, &v, &e),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "header 1: key must be 1..256 bytes"));
    blob_free(&b);
}

static void test_scan_nul_in_header_is_invalid(void **state)
{
    (void)state;
    const uint8_t nul_key[] = {0x1a, 4, 0x0a, 2, 'a', 0, 0x22, 1, 'x'};
    const uint8_t nul_value[] = {0x1a, 7,   0x0a, 1,    'k', 0x12,
                                 2,    'v', 0,    0x22, 1,   'x'};
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(pub_scan(nul_key, sizeof nul_key, &v, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "without NUL"));
    assert_int_equal(pub_scan(nul_value, sizeof nul_value, &v, &e),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "header 1: value"));
}

static void test_scan_header_size_limits(void **state)
{
    (void)state;
    static char key[PUB_HEADER_KEY_MAX + 2];
    static char value[PUB_HEADER_VALUE_MAX + 2];
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;

    memset(key, 'k', PUB_HEADER_KEY_MAX);
    memset(value, 'v', PUB_HEADER_VALUE_MAX);
    const char *kv[] = {key, value};
    struct blob ok = pub_blob_h("id", "ev", "p", 1, kv, 1);
    assert_int_equal(pub_scan(ok.data, ok.len, &v, &e), MQ_OK);
    key[PUB_HEADER_KEY_MAX] = 'k';
    struct blob long_key = pub_blob_h("id", "ev", "p", 1, kv, 1);
    assert_int_equal(pub_scan(long_key.data, long_key.len, &v, &e),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "key must be 1..256 bytes"));
    key[PUB_HEADER_KEY_MAX] = '\0';
    value[PUB_HEADER_VALUE_MAX] = 'v';
    struct blob long_value = pub_blob_h("id", "ev", "p", 1, kv, 1);
    assert_int_equal(pub_scan(long_value.data, long_value.len, &v, &e),
                     MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "value must be at most 4096 bytes"));
    blob_free(&ok);
    blob_free(&long_key);
    blob_free(&long_value);
}

static void test_scan_header_unknown_field_and_malformed(void **state)
{
    (void)state;
    const uint8_t unknown[] = {0x1a, 3, 0x1a, 1, 'z', 0x22, 1, 'x'};
    const uint8_t cut[] = {0x1a, 2, 0x0a, 5, 0x22, 1, 'x'};
    const uint8_t varint_in[] = {0x1a, 2, 0x08, 1, 0x22, 1, 'x'};
    expect_protocol(unknown, sizeof unknown, "header 1 has unknown field 3");
    expect_protocol(cut, sizeof cut, "header 1 is malformed");
    expect_protocol(varint_in, sizeof varint_in, "header 1 is malformed");
}

static void test_scan_bad_id_and_event_are_invalid(void **state)
{
    (void)state;
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;
    struct blob bad_id = pub_blob_h("a b", "ev", "p", 1, NULL, 0);
    struct blob bad_ev = pub_blob_h("id", "a..b", "p", 1, NULL, 0);

    assert_int_equal(pub_scan(bad_id.data, bad_id.len, &v, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "message id"));
    assert_int_equal(pub_scan(bad_ev.data, bad_ev.len, &v, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "event name has an empty token"));
    blob_free(&bad_id);
    blob_free(&bad_ev);
}

static void test_scan_random_bytes_never_crash(void **state)
{
    (void)state;
    uint64_t seed = 42;
    struct blob good = pub_blob("id-1", "payload-bytes");
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(test_rand(&seed) % 48);
        uint8_t *buf = malloc(n ? n : 1);
        if (round % 2 == 0) {
            for (size_t i = 0; i < n; i++) {
                buf[i] = (uint8_t)test_rand(&seed);
            }
        } else { /* a valid message with a few bytes flipped */
            n = good.len;
            buf = realloc(buf, n);
            memcpy(buf, good.data, n);
            for (int k = 0; k < 3; k++) {
                buf[test_rand(&seed) % n] = (uint8_t)test_rand(&seed);
            }
        }
        struct pub_view v;
        struct errmsg e = ERRMSG_INIT;
        mq_err rv = pub_scan(buf, n, &v, &e);
        assert_true(rv == MQ_OK || rv == MQ_ERR_PROTOCOL ||
                    rv == MQ_ERR_INVALID);
        if (rv == MQ_OK) {
            assert_true(v.payload_len > 0);
            assert_true((size_t)v.id_off + v.id_len <= n);
            assert_true((size_t)v.event_off + v.event_len <= n);
        } else {
            assert_true(e.msg[0] != '\0');
        }
        free(buf);
    }
    blob_free(&good);
}

static void test_varint_round_trip_and_sizes(void **state)
{
    (void)state;
    const uint64_t vals[] = {0,          1,          127,           128,
                             300,        16383,      16384,         UINT32_MAX,
                             1ull << 56, UINT64_MAX, UINT64_MAX - 1};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        uint8_t buf[PB_VARINT_MAX];
        uint8_t *end = pb_put_varint(buf, vals[i]);
        assert_int_equal((size_t)(end - buf), pb_varint_size(vals[i]));
        const uint8_t *p = buf;
        uint64_t got;
        assert_int_equal(pb_get_varint(&p, end, &got), 0);
        assert_true(p == end);
        assert_true(got == vals[i]);
        /* Every shorter prefix is refused and leaves p unchanged. */
        for (const uint8_t *cut = buf; cut < end; cut++) {
            p = buf;
            assert_int_equal(pb_get_varint(&p, cut, &got), -1);
            assert_true(p == buf);
        }
    }
    assert_int_equal(pb_varint_size(UINT64_MAX), 10);
}

static void test_writers_match_protobuf_c(void **state)
{
    (void)state;
    /* A Delivery written with pb_put_* decodes with protobuf-c. */
    uint8_t buf[64];
    uint8_t *p = buf;
    p = pb_put_bytes(p, 1, "id", 2);
    p = pb_put_bytes(p, 4, "data", 4);
    p = pb_put_uint(p, 10, 123456789012ull);
    p = pb_put_uint(p, 12, 3);
    p = pb_put_bytes(p, 2, NULL, 0);
    Mq__V1__Delivery *d =
        mq__v1__delivery__unpack(NULL, (size_t)(p - buf), buf);
    assert_non_null(d);
    assert_string_equal(d->id, "id");
    assert_string_equal(d->event, "");
    assert_int_equal(d->payload.len, 4);
    assert_memory_equal(d->payload.data, "data", 4);
    assert_true(d->seq == 123456789012ull);
    assert_int_equal(d->attempt, 3);
    mq__v1__delivery__free_unpacked(d, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_packed_message_finds_every_field),
        cmocka_unit_test(
            test_scan_message_without_id_or_event_has_zero_lengths),
        cmocka_unit_test(test_scan_empty_payload_is_invalid),
        cmocka_unit_test(test_scan_duplicate_fields_are_protocol_errors),
        cmocka_unit_test(test_scan_unknown_fields_are_protocol_errors),
        cmocka_unit_test(test_scan_wrong_wire_types_are_protocol_errors),
        cmocka_unit_test(test_scan_truncated_input_is_protocol_error),
        cmocka_unit_test(test_scan_truncated_varints_and_lengths),
        cmocka_unit_test(test_scan_64_headers_accepted_65_refused),
        cmocka_unit_test(test_scan_header_without_key_is_invalid),
        cmocka_unit_test(test_scan_nul_in_header_is_invalid),
        cmocka_unit_test(test_scan_header_size_limits),
        cmocka_unit_test(test_scan_header_unknown_field_and_malformed),
        cmocka_unit_test(test_scan_bad_id_and_event_are_invalid),
        cmocka_unit_test(test_scan_random_bytes_never_crash),
        cmocka_unit_test(test_varint_round_trip_and_sizes),
        cmocka_unit_test(test_writers_match_protobuf_c),
    };
    return cmocka_run_group_tests_name("pbscan", tests, NULL, NULL);
}
