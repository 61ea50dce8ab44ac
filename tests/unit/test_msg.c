/* test_msg.c: stored messages and the deliveries made of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "fsm_helpers.h"
#include "mq.pb-c.h"
#include "msg.h"

static void test_msg_keeps_bytes_and_record(void **state)
{
    (void)state;
    struct blob b = pub_blob("order-1", "hello");
    struct pub_view v;
    assert_int_equal(pub_scan(b.data, b.len, &v, NULL), MQ_OK);
    struct msg *m = msg_new(b.data, b.len, &v, 42, 1000, 2000);
    assert_non_null(m);
    assert_memory_equal(m->blob, b.data, b.len);
    assert_memory_equal(m->blob + m->id_off, "order-1", m->id_len);
    size_t len;
    const uint8_t *rec = msg_record(m, &len);
    assert_int_equal(len, 32 + b.len);
    assert_memory_equal(rec + 32, b.data, b.len); /* header then blob */
    uint64_t seq;
    memcpy(&seq, rec, 8);
    assert_int_equal(seq, 42);
    assert_int_equal(msg_size(m), sizeof *m + b.len);
    msg_free(m);
    blob_free(&b);
}

static void test_msg_delivery_decodes_with_protobuf_c(void **state)
{
    (void)state;
    const char *kv[] = {"k", "v"};
    struct blob b = pub_blob_h("id-9", "a.b", "payload", 7, kv, 1);
    struct pub_view v;
    assert_int_equal(pub_scan(b.data, b.len, &v, NULL), MQ_OK);
    struct msg *m =
        msg_new(b.data, b.len, &v, UINT64_MAX - 1, 1ull << 50, 1ull << 50);
    size_t len = msg_delivery_size(m, UINT32_MAX);
    uint8_t *out = malloc(len);
    assert_true(msg_encode_delivery(m, UINT32_MAX, out) == out + len);
    Mq__V1__Delivery *d = mq__v1__delivery__unpack(NULL, len, out);
    assert_non_null(d);
    assert_string_equal(d->id, "id-9");
    assert_string_equal(d->event, "a.b");
    assert_int_equal(d->n_headers, 1);
    assert_string_equal(d->headers[0]->key, "k");
    assert_int_equal(d->payload.len, 7);
    assert_true(d->seq == UINT64_MAX - 1);
    assert_true(d->published_at_ms == 1ull << 50);
    assert_true(d->attempt == UINT32_MAX);
    mq__v1__delivery__free_unpacked(d, NULL);
    free(out);
    msg_free(m);
    blob_free(&b);
}

static void test_msg_new_oom_returns_null(void **state)
{
    (void)state;
    struct blob b = pub_blob("id", "x");
    struct pub_view v;
    assert_int_equal(pub_scan(b.data, b.len, &v, NULL), MQ_OK);
    test_alloc_fail_at(0);
    assert_null(msg_new(b.data, b.len, &v, 1, 1, 1));
    test_alloc_fail_at(-1);
    blob_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_keeps_bytes_and_record),
        cmocka_unit_test(test_msg_delivery_decodes_with_protobuf_c),
        cmocka_unit_test(test_msg_new_oom_returns_null),
    };
    return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
