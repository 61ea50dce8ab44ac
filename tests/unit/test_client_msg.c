/* test_client_msg.c: received messages (client/src/msg.c): an mq_msg made
 * from a Delivery decoded off the wire, and its accessors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mq.h"
#include "mq.pb-c.h"
#include "msg.h"

#include <cmocka.h>

/* A Delivery as the node sends it: packed, then unpacked. */
static Mq__V1__Delivery *decoded_delivery(const void *payload, size_t len)
{
    Mq__V1__Delivery d = MQ__V1__DELIVERY__INIT;
    Mq__V1__Header h1 = MQ__V1__HEADER__INIT, h2 = MQ__V1__HEADER__INIT;
    Mq__V1__Header *hs[] = {&h1, &h2};
    uint8_t buf[512];
    size_t n;

    h1.key = "trace";
    h1.value = "t-1";
    h2.key = "tenant";
    h2.value = "";
    d.id = "order-17";
    d.event = "order.created";
    d.headers = hs;
    d.n_headers = 2;
    d.payload.data = (uint8_t *)payload;
    d.payload.len = len;
    d.seq = 42;
    d.published_at_ms = 1748779200123ULL;
    d.deliver_at_ms = 1748779260123ULL;
    d.attempt = 3;
    n = mq__v1__delivery__pack(&d, buf);
    assert_true(n < sizeof buf);
    return mq__v1__delivery__unpack(NULL, n, buf);
}

static void test_msg_from_delivery_has_every_field(void **state)
{
    Mq__V1__Delivery *d = decoded_delivery("hi\0there", 8);
    mq_msg *m = msg_new(d, "orders", "mailer");
    const mq_header *h;
    const char *p;
    size_t len;

    (void)state;
    mq__v1__delivery__free_unpacked(d, NULL); /* the message is a copy */
    assert_non_null(m);
    assert_string_equal(mq_msg_queue(m), "orders");
    assert_string_equal(mq_msg_sub(m), "mailer");
    assert_string_equal(mq_msg_id(m), "order-17");
    assert_string_equal(mq_msg_event(m), "order.created");
    assert_true(mq_msg_seq(m) == 42);
    assert_true(mq_msg_published_at(m) == 1748779200123ULL);
    assert_true(mq_msg_deliver_at(m) == 1748779260123ULL);
    assert_int_equal(mq_msg_attempt(m), 3);
    p = mq_msg_payload(m, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(p, "hi\0there", 8);
    assert_int_equal(p[8], '\0');                 /* NUL after the payload */
    assert_ptr_equal(mq_msg_payload(m, NULL), p); /* len may be NULL */
    assert_int_equal(mq_msg_header_count(m), 2);
    h = mq_msg_header_at(m, 1);
    assert_string_equal(h->key, "tenant");
    assert_string_equal(h->value, "");
    assert_null(mq_msg_header_at(m, 2));
    assert_string_equal(mq_msg_header(m, "trace"), "t-1");
    assert_null(mq_msg_header(m, "missing"));
    assert_null(mq_msg_header(m, NULL));
    mq_msg_free(m);
}

static void test_msg_without_headers_or_payload_is_empty(void **state)
{
    Mq__V1__Delivery d = MQ__V1__DELIVERY__INIT;
    mq_msg *m;
    size_t len = 99;

    (void)state;
    m = msg_new(&d, "q", "s");
    assert_non_null(m);
    assert_string_equal(mq_msg_id(m), "");
    assert_int_equal(mq_msg_header_count(m), 0);
    assert_string_equal(mq_msg_payload(m, &len), "");
    assert_int_equal(len, 0);
    mq_msg_free(m);
}

static void test_msg_not_delayed_is_due_when_published(void **state)
{
    Mq__V1__Delivery d = MQ__V1__DELIVERY__INIT;
    mq_msg *m;

    (void)state;
    d.published_at_ms = 5000; /* deliver_at_ms absent: 0 */
    m = msg_new(&d, "default/q", "");
    assert_non_null(m);
    assert_true(mq_msg_deliver_at(m) == 5000);
    assert_string_equal(mq_msg_sub(m), "");
    assert_int_equal(mq_msg_attempt(m), 0);
    mq_msg_free(m);
}

static void test_msg_array_copies_every_delivery(void **state)
{
    Mq__V1__Delivery *d = decoded_delivery("abc", 3);
    Mq__V1__Delivery *list[] = {d, d};
    mq_msg **msgs = NULL;

    (void)state;
    assert_int_equal(msg_array_new(list, 2, "default/q", "", &msgs), MQ_OK);
    mq__v1__delivery__free_unpacked(d, NULL);
    assert_string_equal(mq_msg_queue(msgs[1]), "default/q");
    assert_string_equal(mq_msg_id(msgs[0]), "order-17");
    assert_null(msgs[2]); /* one entry more, NULL */
    mq_msgs_free(msgs, 2);
    assert_int_equal(msg_array_new(NULL, 0, "q", "", &msgs), MQ_OK);
    assert_null(msgs[0]);
    mq_msgs_free(msgs, 0);
}

static void test_msgs_free_skips_entries_kept(void **state)
{
    Mq__V1__Delivery *d = decoded_delivery("x", 1);
    mq_msg **msgs = calloc(3, sizeof *msgs);
    mq_msg *kept;

    (void)state;
    for (int i = 0; i < 3; i++) {
        msgs[i] = msg_new(d, "q", "s");
    }
    mq__v1__delivery__free_unpacked(d, NULL);
    kept = msgs[1];
    msgs[1] = NULL;
    mq_msgs_free(msgs, 3); /* frees 0 and 2 and the array */
    assert_string_equal(mq_msg_id(kept), "order-17");
    mq_msg_free(kept);
    mq_msgs_free(NULL, 0);
    mq_msg_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_from_delivery_has_every_field),
        cmocka_unit_test(test_msg_without_headers_or_payload_is_empty),
        cmocka_unit_test(test_msg_not_delayed_is_due_when_published),
        cmocka_unit_test(test_msg_array_copies_every_delivery),
        cmocka_unit_test(test_msgs_free_skips_entries_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
