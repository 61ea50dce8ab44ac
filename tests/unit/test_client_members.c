/* test_client_members.c: the mapping of mq.proto's MembersReply to
 * mq_member, and when a leadership transfer counts as done
 * (client/src/members.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "members.h"
#include "mq.h"

#include <cmocka.h>

static void test_member_maps_fields_and_marks_the_leader(void **state)
{
    Mq__V1__Member pb = MQ__V1__MEMBER__INIT;
    mq_member m;

    (void)state;
    pb.id = 4;
    pb.peer_url = "tcp://10.0.0.4:7100";
    pb.client_url = "tcp://10.0.0.4:7001";
    pb.role = "standby";
    members_member_from_pb(&m, &pb, 4);
    assert_int_equal(m.id, 4);
    assert_string_equal(m.peer_url, "tcp://10.0.0.4:7100");
    assert_string_equal(m.client_url, "tcp://10.0.0.4:7001");
    assert_string_equal(m.role, "standby");
    assert_int_equal(m.leader, 1);
    members_member_from_pb(&m, &pb, 2);
    assert_int_equal(m.leader, 0);
}

static void test_member_without_role_or_urls_is_a_voter(void **state)
{
    Mq__V1__Member pb = MQ__V1__MEMBER__INIT;
    mq_member m;

    (void)state;
    pb.id = 1;
    members_member_from_pb(&m, &pb, 0); /* no leader known */
    assert_string_equal(m.role, "voter");
    assert_string_equal(m.peer_url, "");
    assert_string_equal(m.client_url, "");
    assert_int_equal(m.leader, 0);
}

static void test_member_long_strings_are_cut_to_their_fields(void **state)
{
    Mq__V1__Member pb = MQ__V1__MEMBER__INIT;
    char url[2 * MQ_URL_MAX];
    mq_member m;

    (void)state;
    memset(url, 'a', sizeof url - 1);
    url[sizeof url - 1] = '\0';
    pb.id = 1;
    pb.peer_url = url;
    pb.role = "a-role-longer-than-sixteen-bytes";
    members_member_from_pb(&m, &pb, 1);
    assert_int_equal(strlen(m.peer_url), MQ_URL_MAX - 1);
    assert_int_equal(strlen(m.role), sizeof m.role - 1);
}

static void test_members_reply_becomes_an_array(void **state)
{
    Mq__V1__Member a = MQ__V1__MEMBER__INIT, b = MQ__V1__MEMBER__INIT;
    Mq__V1__Member *ms[] = {&a, &b};
    Mq__V1__MembersReply pb = MQ__V1__MEMBERS_REPLY__INIT;
    mq_member *list;
    size_t n;

    (void)state;
    a.id = 1;
    a.role = "voter";
    b.id = 2;
    b.role = "spare";
    pb.members = ms;
    pb.n_members = 2;
    pb.leader_id = 2;
    assert_int_equal(members_from_pb(&pb, &list, &n), MQ_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, 1);
    assert_int_equal(list[0].leader, 0);
    assert_string_equal(list[1].role, "spare");
    assert_int_equal(list[1].leader, 1);
    mq_members_free(list);
    /* No members: an empty array, not NULL. */
    pb.n_members = 0;
    assert_int_equal(members_from_pb(&pb, &list, &n), MQ_OK);
    assert_non_null(list);
    assert_int_equal(n, 0);
    mq_members_free(list);
    mq_members_free(NULL);
}

static void test_transfer_is_done_when_the_target_leads(void **state)
{
    (void)state;
    assert_true(members_transfer_done(3, 1, 3));
    assert_false(members_transfer_done(3, 1, 1));
    assert_false(members_transfer_done(3, 1, 0));
    assert_false(members_transfer_done(3, 1, 2)); /* elsewhere: go on */
    /* Target 0: any leader but the first, once one is known. */
    assert_true(members_transfer_done(0, 1, 2));
    assert_false(members_transfer_done(0, 1, 1));
    assert_false(members_transfer_done(0, 1, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_maps_fields_and_marks_the_leader),
        cmocka_unit_test(test_member_without_role_or_urls_is_a_voter),
        cmocka_unit_test(test_member_long_strings_are_cut_to_their_fields),
        cmocka_unit_test(test_members_reply_becomes_an_array),
        cmocka_unit_test(test_transfer_is_done_when_the_target_leads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
