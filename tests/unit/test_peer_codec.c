/* test_peer_codec.c: the peer codec refuses what no node could have sent,
 * naming why, and takes what one did. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peer_codec.h"

#define CLUSTER 7

/* @pm packed, from node 2 of cluster CLUSTER. */
static uint8_t *pack(Mq__V1__PeerMessage *pm, size_t *len)
{
    pm->cluster = CLUSTER;
    pm->from_id = 2;
    pm->from_address = "tcp://127.0.0.1:7002";
    pm->from_client_url = "tcp://127.0.0.1:7102";
    *len = mq__v1__peer_message__get_packed_size(pm);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    mq__v1__peer_message__pack(pm, buf);
    return buf;
}

/* Decodes @pm packed; returns whether it was accepted (*why if not). */
static int accepted(Mq__V1__PeerMessage *pm, const char **why)
{
    size_t len;
    uint8_t *buf = pack(pm, &len);
    struct raft_message m;
    *why = NULL;
    Mq__V1__PeerMessage *got = peer_decode(buf, len, CLUSTER, &m, why);
    free(buf);
    if (got == NULL) {
        assert_non_null(*why);
        return 0;
    }
    peer_message_release(&m);
    peer_decode_free(got);
    return 1;
}

static void test_peer_codec_notice_with_raft_message_refused(void **state)
{
    (void)state;
    Mq__V1__PeerMessage pm = MQ__V1__PEER_MESSAGE__INIT;
    Mq__V1__TimeoutNow tn = MQ__V1__TIMEOUT_NOW__INIT;
    const char *why;
    pm.not_member = 1;
    pm.config_index = 50;
    assert_true(accepted(&pm, &why)); /* what peer_encode_not_member sends */
    tn.term = 3;
    pm.body_case = MQ__V1__PEER_MESSAGE__BODY_TIMEOUT_NOW;
    pm.timeout_now = &tn;
    assert_false(accepted(&pm, &why));
    assert_non_null(strstr(why, "not-member notice"));
}

/* An InstallSnapshot as a leader sends it, for the tests to spoil. */
struct snap_msg {
    Mq__V1__PeerMessage pm;
    Mq__V1__InstallSnapshot is;
    Mq__V1__RaftServer srv, *srvp;
    uint8_t data[8];
};

static void snap_msg_init(struct snap_msg *s)
{
    mq__v1__peer_message__init(&s->pm);
    mq__v1__install_snapshot__init(&s->is);
    mq__v1__raft_server__init(&s->srv);
    s->srv.id = 1;
    s->srv.address = "tcp://127.0.0.1:7001";
    s->srv.role = RAFT_VOTER;
    s->srvp = &s->srv;
    memcpy(s->data, "MQSNAP01", 8);
    s->is.term = 3;
    s->is.last_index = 9;
    s->is.last_term = 2;
    s->is.conf = &s->srvp;
    s->is.n_conf = 1;
    s->is.conf_index = 1;
    s->is.data.data = s->data;
    s->is.data.len = sizeof s->data;
    s->pm.body_case = MQ__V1__PEER_MESSAGE__BODY_INSTALL_SNAPSHOT;
    s->pm.install_snapshot = &s->is;
}

static void test_peer_codec_install_snapshot_never_sent_refused(void **state)
{
    (void)state;
    struct snap_msg s;
    const char *why;
    snap_msg_init(&s);
    assert_true(accepted(&s.pm, &why));
    s.is.n_conf = 0; /* no configuration: raft would install it */
    assert_false(accepted(&s.pm, &why));
    assert_non_null(strstr(why, "malformed"));
    snap_msg_init(&s);
    s.is.conf_index = 10; /* a configuration from after the snapshot */
    assert_false(accepted(&s.pm, &why));
    snap_msg_init(&s);
    s.is.conf_index = 0;
    assert_false(accepted(&s.pm, &why));
    snap_msg_init(&s);
    s.is.last_term = 0;
    assert_false(accepted(&s.pm, &why));
}

static void test_peer_codec_sender_without_client_url_refused(void **state)
{
    (void)state;
    struct snap_msg s;
    const char *why;
    snap_msg_init(&s);
    size_t len;
    uint8_t *buf = pack(&s.pm, &len);
    free(buf);
    s.pm.from_client_url = ""; /* every node stamps its client URL */
    len = mq__v1__peer_message__get_packed_size(&s.pm);
    buf = malloc(len);
    assert_non_null(buf);
    mq__v1__peer_message__pack(&s.pm, buf);
    struct raft_message m;
    why = NULL;
    assert_null(peer_decode(buf, len, CLUSTER, &m, &why));
    assert_string_equal(why, "bad sender");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_codec_notice_with_raft_message_refused),
        cmocka_unit_test(test_peer_codec_install_snapshot_never_sent_refused),
        cmocka_unit_test(test_peer_codec_sender_without_client_url_refused),
    };
    return cmocka_run_group_tests_name("peer_codec", tests, NULL, NULL);
}
