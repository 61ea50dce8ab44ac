/* test_client_check.c: local validation (client/src/check.c and the calls
 * that use it): names and namespaces, ids, events, filters, delays and
 * messages. Bad input is refused with MQ_ERR_INVALID and a message naming
 * the field, before anything is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "mq.h"

#include <cmocka.h>

#define PUB(pl)                                                                \
    {                                                                          \
        NULL, "order.created", NULL, 0, pl, sizeof pl - 1, 0                   \
    }

static void assert_msg_has(const char *words)
{
    if (strstr(mq_errmsg(), words) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", mq_errmsg(), words);
    }
}

static void test_check_valid_message_passes(void **state)
{
    mq_header h[] = {{"trace", "abc"}, {"k", ""}};
    mq_pub m = PUB("hello");

    (void)state;
    m.id = "order-17/v1";
    m.headers = h;
    m.n_headers = 2;
    assert_int_equal(check_pub(&m), MQ_OK);
    m.event = NULL; /* defaults to "message" */
    assert_int_equal(check_pub(&m), MQ_OK);
    m.event = "";
    assert_int_equal(check_pub(&m), MQ_OK);
}

static void test_check_empty_payload_is_invalid(void **state)
{
    mq_pub m = PUB("");

    (void)state;
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "payload is empty");
}

static void test_check_bad_ids_are_invalid(void **state)
{
    char longid[MQ_ID_MAX + 2];
    mq_pub m = PUB("x");

    (void)state;
    m.id = "";
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("message id is empty");
    m.id = "order 17";
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("at position 6");
    m.id = "caf\xc3\xa9";
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("not printable ASCII");
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    m.id = longid;
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("129 bytes, at most 128");
    longid[MQ_ID_MAX] = '\0';
    assert_int_equal(check_pub(&m), MQ_OK);
}

static void test_check_bad_events_are_invalid(void **state)
{
    static const struct {
        const char *event, *words;
    } cases[] = {
        {"order..created", "empty token at position 7"},
        {".order", "empty token at position 1"},
        {"order.", "ends with an empty token"},
        {"order created", "at position 6"},
        {"order.*", "at position 7"},
    };
    mq_pub m = PUB("x");

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m.event = cases[i].event;
        assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
        assert_msg_has(cases[i].words);
    }
    m.event = "order_v2.created-now.x";
    assert_int_equal(check_pub(&m), MQ_OK);
}

static void test_check_bad_headers_are_invalid(void **state)
{
    static mq_header many[CHECK_HEADERS_MAX + 1];
    mq_header h[1];
    char big[CHECK_HEADER_VALUE_MAX + 2];
    mq_pub m = PUB("x");

    (void)state;
    m.headers = h;
    m.n_headers = 1;
    h[0] = (mq_header){"", "v"};
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("header 1: key must be 1..256 bytes");
    h[0] = (mq_header){"k", NULL};
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("header 1 (k): value is NULL");
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    h[0] = (mq_header){"k", big};
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("longer than 4096 bytes");
    for (size_t i = 0; i < CHECK_HEADERS_MAX + 1; i++) {
        many[i] = (mq_header){"k", "v"};
    }
    m.headers = many;
    m.n_headers = CHECK_HEADERS_MAX + 1;
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("65 headers, at most 64");
    m.headers = NULL;
    m.n_headers = 2;
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("headers is NULL");
}

static void test_check_names_follow_node_rules(void **state)
{
    (void)state;
    assert_int_equal(check_name("orders.eu-1_a", "queue name"), MQ_OK);
    assert_int_equal(check_name("", "queue name"), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "queue name is empty");
    assert_int_equal(check_name(NULL, "queue name"), MQ_ERR_INVALID);
    assert_int_equal(check_name("-orders", "subscription name"),
                     MQ_ERR_INVALID);
    assert_msg_has("subscription name must start with a letter or digit");
    assert_int_equal(check_name("a/b", "queue name"), MQ_ERR_INVALID);
    assert_msg_has("at position 2");
    assert_int_equal(
        check_name("a1234567890123456789012345678901234567890123456789012345"
                   "678901234",
                   "queue name"),
        MQ_ERR_INVALID);
    assert_msg_has("65 characters, at most 64");
}

static void test_check_qname_takes_the_client_namespace(void **state)
{
    char out[MQ_QNAME_MAX + 1], full[MQ_QNAME_MAX + 1];
    char longest[MQ_QNAME_MAX + 2];

    (void)state;
    assert_int_equal(check_qname("orders", "prd", "queue name", out), MQ_OK);
    assert_string_equal(out, "prd/orders");
    assert_int_equal(check_qname("orders", NULL, "queue name", out), MQ_OK);
    assert_string_equal(out, "orders"); /* the node's "default" */
    check_qname_full(out, full);
    assert_string_equal(full, "default/orders");
    assert_int_equal(check_qname("stg/orders", "prd", "queue name", out),
                     MQ_OK);
    assert_string_equal(out, "stg/orders");
    check_qname_full(out, full);
    assert_string_equal(full, "stg/orders");
    /* Both parts at their longest: MQ_QNAME_MAX. */
    memset(longest, 'n', MQ_NAME_MAX);
    longest[MQ_NAME_MAX] = '/';
    memset(longest + MQ_NAME_MAX + 1, 'q', MQ_NAME_MAX);
    longest[MQ_QNAME_MAX] = '\0';
    assert_int_equal(check_qname(longest, NULL, "queue name", out), MQ_OK);
    assert_int_equal(strlen(out), MQ_QNAME_MAX);
}

static void test_check_qname_refuses_bad_parts(void **state)
{
    static const struct {
        const char *name, *words;
    } cases[] = {
        {"/orders", "namespace is empty"},
        {"prd/", "queue name is empty"},
        {"prd/a/b", "queue name has a character other than letters, digits, "
                    "'_', '-' and '.' at position 2"},
        {"p d/orders", "namespace has a character"},
        {".prd/orders", "namespace must start with a letter or digit"},
        {"prd/-orders", "queue name must start with a letter or digit"},
        {"a1234567890123456789012345678901234567890123456789012345678901234/"
         "q",
         "namespace of queue name is 65 characters, at most 64"},
        {NULL, "queue name is empty"},
    };
    char out[MQ_QNAME_MAX + 1];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(check_qname(cases[i].name, "prd", "queue name", out),
                         MQ_ERR_INVALID);
        assert_msg_has(cases[i].words);
    }
}

static void test_check_filters_follow_node_rules(void **state)
{
    static const char *const good[] = {
        "order.created", "order.*", "order.>", "*", ">",
        "*.created",     "a.*.c.>", "x_1-y",
    };
    static const struct {
        const char *filter, *words;
    } bad[] = {
        {"", "filter must be 1..128 characters, not 0"},
        {"order..x", "filter \"order..x\" has an empty token at position 7"},
        {".order", "empty token at position 1"},
        {"order.", "empty token at position 7"},
        {"order.>.x", "'>' must be the last token"},
        {">.x", "'>' must be the last token"},
        {"order.cr*", "at position 9"},
        {"order.>x", "at position 7"},
        {"order created", "at position 6"},
        {"**", "at position 1"},
    };
    char longest[MQ_EVENT_MAX + 2];

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (check_filter(good[i]) != MQ_OK) {
            fail_msg("\"%s\" refused: %s", good[i], mq_errmsg());
        }
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(check_filter(bad[i].filter), MQ_ERR_INVALID);
        assert_msg_has(bad[i].words);
    }
    assert_int_equal(check_filter(NULL), MQ_ERR_INVALID);
    memset(longest, 'a', MQ_EVENT_MAX + 1);
    longest[MQ_EVENT_MAX + 1] = '\0';
    assert_int_equal(check_filter(longest), MQ_ERR_INVALID);
    assert_msg_has("not 129");
    longest[MQ_EVENT_MAX] = '\0';
    assert_int_equal(check_filter(longest), MQ_OK);
}

static void test_check_delay_refuses_only_absurd_values(void **state)
{
    mq_pub m = PUB("x");

    (void)state;
    m.delay_ms = 90ull * 24 * 3600 * 1000; /* past 30 days: the node's say */
    assert_int_equal(check_pub(&m), MQ_OK);
    m.delay_ms = CHECK_DELAY_MAX_MS;
    assert_int_equal(check_pub(&m), MQ_OK);
    m.delay_ms = (uint64_t)-1000; /* a negative number, cast */
    assert_int_equal(check_pub(&m), MQ_ERR_INVALID);
    assert_msg_has("more than 100 years");
}

/* The public calls refuse bad input without sending: the client's only
 * node has no listener, and the answer still comes at once. (A batch with
 * valid messages left sends them: test_client_node.c.) */
static void test_publish_bad_input_fails_before_sending(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_pub ok = PUB("x"), bad = PUB("");
    mq_pub batch[3] = {PUB("a"), PUB(""), PUB("c")};
    mq_pub all_bad[2] = {PUB(""), PUB("")};
    mq_pub_result res[3];
    mq_client *c;

    (void)state;
    o.urls = "tcp://127.0.0.1:1";
    o.timeout_ms = 60000;
    assert_int_equal(mq_client_open(&c, &o), MQ_OK);
    assert_int_equal(mq_publish(c, "orders", &bad, NULL, 0), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "publish to orders: payload is empty");
    assert_int_equal(mq_publish(c, "bad name", &ok, NULL, 0), MQ_ERR_INVALID);
    assert_msg_has("publish: queue name has a character");
    /* All or nothing: one bad message fails the batch, nothing sent. */
    batch[0].id = "a-1";
    assert_int_equal(mq_publish_batch_flags(c, "orders", batch, 3,
                                            MQ_PUBLISH_ATOMIC, res, 0),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(),
                        "publish to orders: message 2: payload is empty");
    assert_int_equal(res[0].err, MQ_ERR_INVALID);
    assert_string_equal(res[0].id, "a-1");
    assert_int_equal(res[1].err, MQ_ERR_INVALID);
    assert_int_equal(res[2].err, MQ_ERR_INVALID);
    assert_string_equal(res[2].id, ""); /* none made: nothing sent */
    /* Without the flag, a batch with nothing valid left fails too. */
    assert_int_equal(mq_publish_batch(c, "orders", all_bad, 2, res, 0),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(),
                        "publish to orders: message 1: payload is empty");
    assert_int_equal(res[1].err, MQ_ERR_INVALID);
    assert_int_equal(mq_publish_batch(c, "orders", batch, 0, res, 0),
                     MQ_ERR_INVALID);
    assert_msg_has("0 messages, 1..10000 are allowed");
    assert_int_equal(mq_publish_async(c, "orders", &bad, NULL, NULL),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "publish to orders: payload is empty");
    assert_int_equal(mq_publish_batch_flags(c, "orders", &ok, 1, 4, res, 0),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "publish to orders: flags 0x4 are "
                                     "unknown");
    mq_client_close(c);
}

static void test_new_calls_refuse_bad_input_before_sending(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_msg_status *st = (mq_msg_status *)1;
    mq_msg **msgs = (mq_msg **)1;
    mq_read_info info = {.node_id = 9};
    uint64_t seq = 9, left = 9;
    uint32_t moved = 9;
    size_t n = 9;
    mq_client *c;

    (void)state;
    o.urls = "tcp://127.0.0.1:1";
    o.timeout_ms = 60000;
    o.ns = "prd";
    assert_int_equal(mq_client_open(&c, &o), MQ_OK);
    ro.max_messages = MQ_MAX_BATCH + 1;
    assert_int_equal(mq_read(c, "orders", &ro, &msgs, &n, &info, 0),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "read prd/orders: max_messages is "
                                     "10001, at most 10000 are allowed");
    assert_null(msgs);
    assert_int_equal(n, 0);
    assert_int_equal(info.node_id, 0);
    assert_int_equal(mq_read(c, "a b", NULL, &msgs, &n, NULL, 0),
                     MQ_ERR_INVALID);
    assert_msg_has("read: queue name has a character");
    assert_int_equal(mq_message_status(c, "order 1", NULL, &st, &n, 0),
                     MQ_ERR_INVALID);
    assert_msg_has("message status: message id has a character");
    assert_null(st);
    assert_int_equal(mq_message_status(c, "o-1", "x/y/z", &st, &n, 0),
                     MQ_ERR_INVALID);
    assert_msg_has("message status: queue name has a character");
    assert_int_equal(mq_cancel(c, NULL, NULL, &seq, 0), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "cancel: message id is NULL");
    assert_int_equal(seq, 0);
    assert_int_equal(mq_queue_purge(c, "", 0), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "purge queue: queue name is empty");
    assert_int_equal(
        mq_queue_redrive(c, "orders.dlq", "orders", 0, &moved, &left, 0),
        MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "redrive prd/orders.dlq to prd/orders: "
                                     "max is 0, 1..10000 are allowed");
    assert_int_equal(moved, 0);
    assert_int_equal(left, 0);
    assert_int_equal(mq_queue_redrive(c, "orders.dlq", "-x", 10, NULL, NULL, 0),
                     MQ_ERR_INVALID);
    assert_msg_has("redrive: queue name must start with a letter or digit");
    mq_client_close(c);
}

static void test_client_open_refuses_bad_options(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *c = (mq_client *)1;

    (void)state;
    assert_int_equal(mq_client_open(&c, &o), MQ_ERR_INVALID);
    assert_null(c);
    assert_string_equal(mq_errmsg(), "open client: no node URLs given");
    o.urls = "nosuch://x:1";
    assert_int_equal(mq_client_open(&c, &o), MQ_ERR_INVALID);
    assert_msg_has("open client: URL nosuch://x:1:");
    o.urls = "tcp://127.0.0.1:1";
    o.batch_max_messages = MQ_MAX_BATCH + 1;
    assert_int_equal(mq_client_open(&c, &o), MQ_ERR_INVALID);
    assert_msg_has("batch_max_messages is 10001");
    o.batch_max_messages = 0;
    o.ns = "prd/x";
    assert_int_equal(mq_client_open(&c, &o), MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "open client: namespace has a character "
                                     "other than letters, digits, '_', '-' "
                                     "and '.' at position 4");
    o.ns = ""; /* none */
    assert_int_equal(mq_client_open(&c, &o), MQ_OK);
    mq_client_close(c);
}

/* Zero options take their defaults, except linger_ms: 0 is "no
 * linger", a value of its own. */
static void test_check_options_defaults_keep_linger_zero(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;

    (void)state;
    o.urls = "tcp://127.0.0.1:1";
    assert_int_equal(client_opts_resolve(&o), MQ_OK);
    assert_int_equal(o.linger_ms, 0);
    assert_true(o.timeout_ms > 0);
    assert_true(o.batch_max_messages > 0);
    assert_true(o.max_inflight_batches > 0);
    o.linger_ms = 5;
    assert_int_equal(client_opts_resolve(&o), MQ_OK);
    assert_int_equal(o.linger_ms, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_options_defaults_keep_linger_zero),
        cmocka_unit_test(test_check_valid_message_passes),
        cmocka_unit_test(test_check_empty_payload_is_invalid),
        cmocka_unit_test(test_check_bad_ids_are_invalid),
        cmocka_unit_test(test_check_bad_events_are_invalid),
        cmocka_unit_test(test_check_bad_headers_are_invalid),
        cmocka_unit_test(test_check_names_follow_node_rules),
        cmocka_unit_test(test_check_qname_takes_the_client_namespace),
        cmocka_unit_test(test_check_qname_refuses_bad_parts),
        cmocka_unit_test(test_check_filters_follow_node_rules),
        cmocka_unit_test(test_check_delay_refuses_only_absurd_values),
        cmocka_unit_test(test_publish_bad_input_fails_before_sending),
        cmocka_unit_test(test_new_calls_refuse_bad_input_before_sending),
        cmocka_unit_test(test_client_open_refuses_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
