/* test_client_admin.c: the mapping of queue and subscription settings
 * between mq.h and mq.proto (client/src/admin.c, subadmin.c) and their
 * local checks, namespaces included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "admin.h"
#include "mq.h"
#include "subadmin.h"

#include <cmocka.h>

static void assert_msg_has(const char *words)
{
    if (strstr(mq_errmsg(), words) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", mq_errmsg(), words);
    }
}

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
        .delay_ms = 14,
        .max_delay_ms = 15,
        .dead_letter_queue = "orders-dead",
        .status_ttl_ms = 16,
        .status_max = 17,
    };
    Mq__V1__QueueConfig pb;
    Mq__V1__QueueInfo qi = MQ__V1__QUEUE_INFO__INIT;
    struct admin_names names;
    mq_queue_info info;

    (void)state;
    assert_int_equal(admin_queue_config_check(&c, "prd", &names), MQ_OK);
    admin_queue_config_to_pb(&pb, &c, &names);
    assert_string_equal(pb.name, "prd/orders");
    assert_int_equal(pb.retention, MQ__V1__RETENTION__RETENTION_WORK);
    assert_int_equal(pb.discard, MQ__V1__DISCARD__DISCARD_REJECT);
    assert_int_equal(pb.max_messages, 1);
    assert_int_equal(pb.max_bytes, 2);
    assert_int_equal(pb.max_age_ms, 3);
    assert_int_equal(pb.max_message_bytes, 4);
    assert_int_equal(pb.duplicate_window_ms, 5);
    assert_int_equal(pb.ack_timeout_ms, 6);
    assert_int_equal(pb.max_deliveries, 7);
    assert_int_equal(pb.delay_ms, 14);
    assert_int_equal(pb.max_delay_ms, 15);
    assert_string_equal(pb.dead_letter_queue, "prd/orders-dead");
    assert_int_equal(pb.status_ttl_ms, 16);
    assert_int_equal(pb.status_max, 17);

    qi.config = &pb;
    qi.messages = 8;
    qi.bytes = 9;
    qi.first_seq = 10;
    qi.last_seq = 11;
    qi.subscriptions = 12;
    qi.created_at_ms = 13;
    qi.scheduled = 18;
    qi.remembered_ids = 19;
    admin_queue_info_from_pb(&info, &qi);
    assert_string_equal(info.name, "prd/orders");
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
    assert_int_equal(info.delay_ms, 14);
    assert_int_equal(info.max_delay_ms, 15);
    assert_string_equal(info.dead_letter_queue, "prd/orders-dead");
    assert_int_equal(info.status_ttl_ms, 16);
    assert_int_equal(info.status_max, 17);
    assert_int_equal(info.scheduled, 18);
    assert_int_equal(info.remembered_ids, 19);
}

static void test_queue_names_keep_or_take_a_namespace(void **state)
{
    mq_queue_config c = {.name = "stg/orders"};
    struct admin_names names;
    Mq__V1__QueueConfig pb;

    (void)state;
    /* A name with a namespace keeps it; none given: sent as is. */
    assert_int_equal(admin_queue_config_check(&c, "prd", &names), MQ_OK);
    assert_string_equal(names.queue, "stg/orders");
    assert_string_equal(names.dlq, "");
    admin_queue_config_to_pb(&pb, &c, &names);
    assert_string_equal(pb.dead_letter_queue, ""); /* the node's default */
    c.name = "orders";
    c.dead_letter_queue = "ops/dead";
    assert_int_equal(admin_queue_config_check(&c, NULL, &names), MQ_OK);
    assert_string_equal(names.queue, "orders");
    assert_string_equal(names.dlq, "ops/dead");
}

static void test_queue_info_without_config_is_zero(void **state)
{
    Mq__V1__QueueInfo qi = MQ__V1__QUEUE_INFO__INIT;
    mq_queue_info info;

    (void)state;
    memset(&info, 0xff, sizeof info);
    qi.messages = 3;
    qi.oldest_age_ms = 1200;
    admin_queue_info_from_pb(&info, &qi);
    assert_string_equal(info.name, "");
    assert_string_equal(info.dead_letter_queue, "");
    assert_int_equal(info.max_bytes, 0);
    assert_int_equal(info.messages, 3);
    assert_int_equal(info.oldest_age_ms, 1200);
}

static void test_sub_config_and_info_map_field_for_field(void **state)
{
    const char *filters[] = {"order.*", "invoice.>"};
    mq_sub_config c = {
        .queue = "orders",
        .name = "mailer",
        .start = MQ_START_SEQ,
        .start_seq = 100,
        .ack_timeout_ms = 1500,
        .max_deliveries = 5,
        .filters = filters,
        .n_filters = 2,
    };
    char qname[MQ_QNAME_MAX + 1];
    Mq__V1__SubConfig pb;
    Mq__V1__SubInfo si = MQ__V1__SUB_INFO__INIT;
    mq_sub_info info;

    (void)state;
    assert_int_equal(subadmin_config_check(&c, "prd", qname), MQ_OK);
    assert_string_equal(qname, "prd/orders");
    subadmin_config_to_pb(&pb, &c, qname);
    assert_string_equal(pb.queue, "prd/orders");
    assert_string_equal(pb.name, "mailer");
    assert_int_equal(pb.start, MQ__V1__START_POSITION__START_SEQ);
    assert_int_equal(pb.start_seq, 100);
    assert_int_equal(pb.ack_timeout_ms, 1500);
    assert_int_equal(pb.max_deliveries, 5);
    assert_int_equal(pb.n_filters, 2);
    assert_string_equal(pb.filters[1], "invoice.>");
    c.start = MQ_START_FIRST;
    subadmin_config_to_pb(&pb, &c, qname);
    assert_int_equal(pb.start, MQ__V1__START_POSITION__START_FIRST);
    c.start = MQ_START_TIME;
    c.start_time_ms = 1795464000000ULL;
    subadmin_config_to_pb(&pb, &c, qname);
    assert_int_equal(pb.start, MQ__V1__START_POSITION__START_TIME);
    assert_true(pb.start_time_ms == 1795464000000ULL);

    si.config = &pb;
    si.next_seq = 1;
    si.ack_floor = 2;
    si.pending = 3;
    si.in_flight = 4;
    si.delivered = 5;
    si.acked = 6;
    si.created_at_ms = 7;
    si.dead_lettered = 8;
    si.scheduled = 9;
    si.lag = 16;
    si.lag_ms = 4500;
    subadmin_info_from_pb(&info, &si);
    assert_string_equal(info.queue, "prd/orders");
    assert_string_equal(info.name, "mailer");
    assert_string_equal(info.filters, "order.*,invoice.>");
    assert_int_equal(info.ack_timeout_ms, 1500);
    assert_int_equal(info.max_deliveries, 5);
    assert_int_equal(info.next_seq, 1);
    assert_int_equal(info.ack_floor, 2);
    assert_int_equal(info.pending, 3);
    assert_int_equal(info.in_flight, 4);
    assert_int_equal(info.delivered, 5);
    assert_int_equal(info.acked, 6);
    assert_int_equal(info.created_at_ms, 7);
    assert_int_equal(info.dead_lettered, 8);
    assert_int_equal(info.scheduled, 9);
    assert_int_equal(info.lag, 16);
    assert_int_equal(info.lag_ms, 4500);
}

static void test_sub_info_filters_too_long_end_with_dots(void **state)
{
    char f[10][MQ_EVENT_MAX + 1];
    char *list[10];
    Mq__V1__SubConfig pb = MQ__V1__SUB_CONFIG__INIT;
    Mq__V1__SubInfo si = MQ__V1__SUB_INFO__INIT;
    mq_sub_info info;
    size_t len;

    (void)state;
    for (int i = 0; i < 10; i++) {
        memset(f[i], 'a' + i, MQ_EVENT_MAX);
        f[i][MQ_EVENT_MAX] = '\0';
        list[i] = f[i];
    }
    pb.filters = list;
    pb.n_filters = 10;
    si.config = &pb;
    subadmin_info_from_pb(&info, &si);
    len = strlen(info.filters);
    assert_true(len < sizeof info.filters);
    assert_string_equal(info.filters + len - 4, ",...");
    assert_memory_equal(info.filters, f[0], MQ_EVENT_MAX); /* whole ones */
    assert_int_equal(info.filters[MQ_EVENT_MAX], ',');
    /* Four of 127 and three commas fill the field exactly: no dots. */
    for (int i = 0; i < 4; i++) {
        f[i][127] = '\0';
    }
    pb.n_filters = 4;
    subadmin_info_from_pb(&info, &si);
    assert_int_equal(strlen(info.filters), sizeof info.filters - 1);
    assert_null(strstr(info.filters, "..."));
    assert_int_equal(info.filters[sizeof info.filters - 2], 'd');
}

static void test_configs_with_bad_values_are_refused(void **state)
{
    const char *bad_filters[] = {"order.*", "order.>.x"};
    const char *null_filter[] = {NULL};
    mq_queue_config q = {.name = "orders"};
    mq_sub_config s = {.queue = "orders", .name = "mailer"};
    struct admin_names names;
    char qname[MQ_QNAME_MAX + 1];

    (void)state;
    assert_int_equal(admin_queue_config_check(&q, NULL, &names), MQ_OK);
    q.retention = (mq_retention)7;
    assert_int_equal(admin_queue_config_check(&q, NULL, &names),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "retention 7 is unknown");
    q.retention = MQ_RETENTION_LIMITS;
    q.discard = (mq_discard)-1;
    assert_int_equal(admin_queue_config_check(&q, NULL, &names),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "discard -1 is unknown");
    q.discard = MQ_DISCARD_OLD;
    q.delay_ms = 2000;
    q.max_delay_ms = 1000;
    assert_int_equal(admin_queue_config_check(&q, NULL, &names),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "delay_ms 2000 is over max_delay_ms 1000");
    q.max_delay_ms = 0; /* the node's default max: its check */
    assert_int_equal(admin_queue_config_check(&q, NULL, &names), MQ_OK);
    q.dead_letter_queue = "bad name";
    assert_int_equal(admin_queue_config_check(&q, NULL, &names),
                     MQ_ERR_INVALID);
    assert_msg_has("dead-letter queue name has a character");
    q.dead_letter_queue = NULL;
    q.name = "";
    assert_int_equal(admin_queue_config_check(&q, NULL, &names),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "queue name is empty");
    q.name = "-x/orders";
    assert_int_equal(admin_queue_config_check(&q, NULL, &names),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(),
                        "namespace must start with a letter or digit");

    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_OK);
    s.start = MQ_START_SEQ;
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_ERR_INVALID);
    assert_msg_has("start_seq must be at least 1");
    s.start_seq = 1;
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_OK);
    s.start = (mq_start)9;
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "start 9 is unknown");
    s.start = MQ_START_TIME; /* time 0: from the first */
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_OK);
    s.filters = bad_filters;
    s.n_filters = 2;
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(),
                        "filter \"order.>.x\": '>' must be the last token");
    s.filters = null_filter;
    s.n_filters = 1;
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_ERR_INVALID);
    assert_msg_has("filter must be 1..128 characters, not 0");
    s.filters = NULL;
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "1 filters but filters is NULL");
    s.n_filters = 0;
    s.name = "a b";
    assert_int_equal(subadmin_config_check(&s, NULL, qname), MQ_ERR_INVALID);
    assert_msg_has("subscription name has a character");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_config_maps_field_for_field),
        cmocka_unit_test(test_queue_names_keep_or_take_a_namespace),
        cmocka_unit_test(test_queue_info_without_config_is_zero),
        cmocka_unit_test(test_sub_config_and_info_map_field_for_field),
        cmocka_unit_test(test_sub_info_filters_too_long_end_with_dots),
        cmocka_unit_test(test_configs_with_bad_values_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
