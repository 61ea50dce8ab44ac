/* test_client_admin.c: the mapping of queue and subscription settings
 * between mq.h and mq.proto (client/src/admin.c) and their local checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "admin.h"
#include "mq.h"

#include <cmocka.h>

static void test_queue_config_maps_field_for_field(void **state)
{
    mq_queue_config c = {
        .name = "orders",
        .retention = MQ_RETENTION_WORK,
        .discard = MQ_DISCARD_REJECT,
        .max_messages = 1,
        .max_bytes = 2,
        .max_age_ms = 3,
        .max_message_bytes = 4,
        .duplicate_window_ms = 5,
        .ack_timeout_ms = 6,
        .max_deliveries = 7,
    };
    Mq__V1__QueueConfig pb;
    Mq__V1__QueueInfo qi = MQ__V1__QUEUE_INFO__INIT;
    mq_queue_info info;

    (void)state;
    admin_queue_config_to_pb(&pb, &c);
    assert_string_equal(pb.name, "orders");
    assert_int_equal(pb.retention, MQ__V1__RETENTION__RETENTION_WORK);
    assert_int_equal(pb.discard, MQ__V1__DISCARD__DISCARD_REJECT);
    assert_int_equal(pb.max_messages, 1);
    assert_int_equal(pb.max_bytes, 2);
    assert_int_equal(pb.max_age_ms, 3);
    assert_int_equal(pb.max_message_bytes, 4);
    assert_int_equal(pb.duplicate_window_ms, 5);
    assert_int_equal(pb.ack_timeout_ms, 6);
    assert_int_equal(pb.max_deliveries, 7);

    qi.config = &pb;
    qi.messages = 8;
    qi.bytes = 9;
    qi.first_seq = 10;
    qi.last_seq = 11;
    qi.subscriptions = 12;
    qi.created_at_ms = 13;
    admin_queue_info_from_pb(&info, &qi);
    assert_string_equal(info.name, "orders");
    assert_int_equal(info.retention, MQ_RETENTION_WORK);
    assert_int_equal(info.discard, MQ_DISCARD_REJECT);
    assert_int_equal(info.max_messages, 1);
    assert_int_equal(info.max_bytes, 2);
    assert_int_equal(info.max_age_ms, 3);
    assert_int_equal(info.max_message_bytes, 4);
    assert_int_equal(info.duplicate_window_ms, 5);
    assert_int_equal(info.ack_timeout_ms, 6);
    assert_int_equal(info.max_deliveries, 7);
    assert_int_equal(info.messages, 8);
    assert_int_equal(info.bytes, 9);
    assert_int_equal(info.first_seq, 10);
    assert_int_equal(info.last_seq, 11);
    assert_int_equal(info.subscriptions, 12);
    assert_int_equal(info.created_at_ms, 13);
}

static void test_queue_info_without_config_is_zero(void **state)
{
    Mq__V1__QueueInfo qi = MQ__V1__QUEUE_INFO__INIT;
    mq_queue_info info;

    (void)state;
    memset(&info, 0xff, sizeof info);
    qi.messages = 3;
    admin_queue_info_from_pb(&info, &qi);
    assert_string_equal(info.name, "");
    assert_int_equal(info.max_bytes, 0);
    assert_int_equal(info.messages, 3);
}

static void test_sub_config_and_info_map_field_for_field(void **state)
{
    mq_sub_config c = {
        .queue = "orders",
        .name = "mailer",
        .start = MQ_START_SEQ,
        .start_seq = 100,
        .ack_timeout_ms = 1500,
        .max_deliveries = 5,
    };
    Mq__V1__SubConfig pb;
    Mq__V1__SubInfo si = MQ__V1__SUB_INFO__INIT;
    mq_sub_info info;

    (void)state;
    admin_sub_config_to_pb(&pb, &c);
    assert_string_equal(pb.queue, "orders");
    assert_string_equal(pb.name, "mailer");
    assert_int_equal(pb.start, MQ__V1__START_POSITION__START_SEQ);
    assert_int_equal(pb.start_seq, 100);
    assert_int_equal(pb.ack_timeout_ms, 1500);
    assert_int_equal(pb.max_deliveries, 5);
    c.start = MQ_START_FIRST;
    admin_sub_config_to_pb(&pb, &c);
    assert_int_equal(pb.start, MQ__V1__START_POSITION__START_FIRST);

    si.config = &pb;
    si.next_seq = 1;
    si.ack_floor = 2;
    si.pending = 3;
    si.in_flight = 4;
    si.delivered = 5;
    si.acked = 6;
    si.created_at_ms = 7;
    admin_sub_info_from_pb(&info, &si);
    assert_string_equal(info.queue, "orders");
    assert_string_equal(info.name, "mailer");
    assert_int_equal(info.ack_timeout_ms, 1500);
    assert_int_equal(info.max_deliveries, 5);
    assert_int_equal(info.next_seq, 1);
    assert_int_equal(info.ack_floor, 2);
    assert_int_equal(info.pending, 3);
    assert_int_equal(info.in_flight, 4);
    assert_int_equal(info.delivered, 5);
    assert_int_equal(info.acked, 6);
    assert_int_equal(info.created_at_ms, 7);
}

static void test_configs_with_bad_values_are_refused(void **state)
{
    mq_queue_config q = {.name = "orders"};
    mq_sub_config s = {.queue = "orders", .name = "mailer"};

    (void)state;
    assert_int_equal(admin_queue_config_check(&q), MQ_OK);
    q.retention = (mq_retention)7;
    assert_int_equal(admin_queue_config_check(&q), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "retention 7 is unknown");
    q.retention = MQ_RETENTION_LIMITS;
    q.discard = (mq_discard)-1;
    assert_int_equal(admin_queue_config_check(&q), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "discard -1 is unknown");
    q.name = "";
    assert_int_equal(admin_queue_config_check(&q), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "queue name is empty");

    assert_int_equal(admin_sub_config_check(&s), MQ_OK);
    s.start = MQ_START_SEQ;
    assert_int_equal(admin_sub_config_check(&s), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "start_seq must be at least 1"));
    s.start_seq = 1;
    assert_int_equal(admin_sub_config_check(&s), MQ_OK);
    s.name = "a b";
    assert_int_equal(admin_sub_config_check(&s), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "subscription name has a character"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_config_maps_field_for_field),
        cmocka_unit_test(test_queue_info_without_config_is_zero),
        cmocka_unit_test(test_sub_config_and_info_map_field_for_field),
        cmocka_unit_test(test_configs_with_bad_values_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
