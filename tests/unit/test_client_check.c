/* test_client_check.c: local validation of publishes (client/src/check.c,
 * publish.c, async.c): bad input is refused with MQ_ERR_INVALID and a
 * message naming the field, before anything is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "mq.h"

#include <cmocka.h>

#define PUB(pl)                                                                \
    {                                                                          \
        NULL, "order.created", NULL, 0, pl, sizeof pl - 1                      \
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

/* The public calls refuse bad input without sending: the client's only
 * node has no listener, and the answer still comes at once. */
static void test_publish_bad_input_fails_before_sending(void **state)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_pub ok = PUB("x"), bad = PUB("");
    mq_pub batch[3] = {PUB("a"), PUB(""), PUB("c")};
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
    assert_int_equal(mq_publish_batch(c, "orders", batch, 3, res, 0),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(),
                        "publish to orders: message 2: payload is empty");
    assert_int_equal(res[0].err, MQ_ERR_INVALID);
    assert_int_equal(res[2].err, MQ_ERR_INVALID);
    assert_int_equal(mq_publish_batch(c, "orders", batch, 0, res, 0),
                     MQ_ERR_INVALID);
    assert_msg_has("0 messages, 1..10000 are allowed");
    assert_int_equal(mq_publish_async(c, "orders", &bad, NULL, NULL),
                     MQ_ERR_INVALID);
    assert_string_equal(mq_errmsg(), "publish to orders: payload is empty");
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_valid_message_passes),
        cmocka_unit_test(test_check_empty_payload_is_invalid),
        cmocka_unit_test(test_check_bad_ids_are_invalid),
        cmocka_unit_test(test_check_bad_events_are_invalid),
        cmocka_unit_test(test_check_bad_headers_are_invalid),
        cmocka_unit_test(test_check_names_follow_node_rules),
        cmocka_unit_test(test_publish_bad_input_fails_before_sending),
        cmocka_unit_test(test_client_open_refuses_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
