/* test_pbconv.c: settings between protobuf and the C structs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pbconv.h"

static void test_pbconv_queue_round_trips(void **state)
{
    (void)state;
    Mq__V1__QueueConfig pb = MQ__V1__QUEUE_CONFIG__INIT, back;
    struct queue_config c;
    pb.name = "orders";
    pb.retention = MQ__V1__RETENTION__RETENTION_WORK;
    pb.discard = MQ__V1__DISCARD__DISCARD_REJECT;
    pb.max_messages = 1;
    pb.max_bytes = 2;
    pb.max_age_ms = 3;
    pb.max_message_bytes = 4;
    pb.duplicate_window_ms = 5;
    pb.ack_timeout_ms = 6;
    pb.max_deliveries = 7;
    pbconv_queue_from(&c, &pb);
    assert_string_equal(c.name, "orders");
    assert_int_equal(c.retention, MQ_RETENTION_WORK);
    assert_int_equal(c.discard, MQ_DISCARD_REJECT);
    pbconv_queue_to(&back, &c);
    assert_string_equal(back.name, "orders");
    assert_int_equal(back.max_messages, 1);
    assert_int_equal(back.max_bytes, 2);
    assert_int_equal(back.max_age_ms, 3);
    assert_int_equal(back.max_message_bytes, 4);
    assert_int_equal(back.duplicate_window_ms, 5);
    assert_int_equal(back.ack_timeout_ms, 6);
    assert_int_equal(back.max_deliveries, 7);
    assert_int_equal(back.retention, MQ__V1__RETENTION__RETENTION_WORK);
}

static void test_pbconv_long_name_refused_by_validation(void **state)
{
    (void)state;
    char name[MQ_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    Mq__V1__QueueConfig pb = MQ__V1__QUEUE_CONFIG__INIT;
    struct queue_config c;
    pb.name = name;
    pbconv_queue_from(&c, &pb);
    assert_int_equal(queue_config_normalize(&c, NULL), MQ_ERR_INVALID);
    /* Exactly MQ_NAME_MAX is kept whole. */
    name[MQ_NAME_MAX] = '\0';
    pbconv_queue_from(&c, &pb);
    assert_string_equal(c.name, name);
}

static void test_pbconv_null_gives_zero_settings(void **state)
{
    (void)state;
    struct queue_config c;
    struct sub_config s;
    memset(&c, 0xff, sizeof c);
    memset(&s, 0xff, sizeof s);
    pbconv_queue_from(&c, NULL);
    assert_int_equal(pbconv_sub_from(&s, NULL, NULL), MQ_OK);
    assert_string_equal(c.name, "");
    assert_int_equal(c.max_messages, 0);
    assert_string_equal(s.name, "");
    assert_int_equal(s.start_seq, 0);
}

static void test_pbconv_sub_round_trips(void **state)
{
    (void)state;
    Mq__V1__SubConfig pb = MQ__V1__SUB_CONFIG__INIT, back;
    struct sub_config c;
    pb.queue = "orders";
    pb.name = "billing";
    pb.start = MQ__V1__START_POSITION__START_SEQ;
    pb.start_seq = 42;
    pb.ack_timeout_ms = 9;
    pb.max_deliveries = 3;
    char *filters[SUB_MAX_FILTERS];
    const char *fl[] = {"order.*", "refund.>"};
    pb.filters = (char **)fl;
    pb.n_filters = 2;
    assert_int_equal(pbconv_sub_from(&c, &pb, NULL), MQ_OK);
    assert_int_equal(c.n_filters, 2);
    assert_string_equal(c.name, "billing");
    assert_int_equal(c.start, MQ_START_SEQ);
    pbconv_sub_to(&back, &c, "orders", filters);
    assert_int_equal(back.n_filters, 2);
    assert_string_equal(back.filters[0], "order.*");
    assert_string_equal(back.filters[1], "refund.>");
    assert_string_equal(back.queue, "orders");
    assert_string_equal(back.name, "billing");
    assert_int_equal(back.start_seq, 42);
    assert_int_equal(back.ack_timeout_ms, 9);
    assert_int_equal(back.max_deliveries, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pbconv_queue_round_trips),
        cmocka_unit_test(test_pbconv_long_name_refused_by_validation),
        cmocka_unit_test(test_pbconv_null_gives_zero_settings),
        cmocka_unit_test(test_pbconv_sub_round_trips),
    };
    return cmocka_run_group_tests_name("pbconv", tests, NULL, NULL);
}
