/* test_tls.c: TLS for clients and mutual TLS between nodes, with
 * certificates made by the openssl command (tests/lib/make_certs.sh) and
 * openssl s_client as a client independent of nng.
 *
 * One three-node cluster with tls+tcp:// client and peer URLs serves the
 * tests in order: the tour through libmq and mqctl with a CA; what the
 * client port presents and refuses (TLS 1.1, plain TCP); a reload (SIGHUP
 * and mqctl node reload-tls) that new connections see while an open one
 * stays up; the reasons libmq names for an expired certificate, a name
 * mismatch and an untrusted CA; and a node whose peer certificate comes
 * from another CA, which can neither join nor get one raft message to the
 * others. */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "httpget.h"
#include "mq.pb-c.h"

static char certs[300];

/* Copies tls_dir file @from over @to (cp), for a reload. */
static void copy_cert(struct cluster *c, const char *from, const char *to)
{
    char src[400], dst[400];
    snprintf(src, sizeof src, "%s/%s", c->tls_dir, from);
    snprintf(dst, sizeof dst, "%s/%s", c->tls_dir, to);
    char *argv[] = {"cp", src, dst, NULL};
    assert_int_equal(test_run(argv, NULL, 0), 0);
}

/* Runs openssl s_client against node @i's client port with @extra flags
 * (one word or NULL); its output into @out. Returns its exit code. */
static int s_client_port(struct cluster *c, int port, const char *send,
                         const char *extra, char *out, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "printf '%s' | timeout 10 openssl s_client -connect "
             "127.0.0.1:%d -CAfile %s %s 2>&1 | tr -d '\\000'",
             send, port, c->tls_ca, extra ? extra : "");
    char *argv[] = {"sh", "-c", cmd, NULL};
    return test_run(argv, out, len);
}

static int s_client(struct cluster *c, int i, const char *extra, char *out,
                    size_t len)
{
    return s_client_port(c, c->nodes[i].client_port, "\\n", extra, out, len);
}

/* The subject line s_client printed, into @subj. */
static void subject_of(const char *out, char *subj, size_t len)
{
    const char *s = strstr(out, "subject=");
    assert_non_null(s);
    size_t n = strcspn(s, "\n");
    snprintf(subj, len, "%.*s", (int)n, s);
}

static int group_setup(void **state)
{
    static struct cluster c;
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    const char *tmp = getenv("TMPDIR");
    char cmd[600];

    snprintf(certs, sizeof certs, "%s/mqcerts-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(certs) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof cmd, "%s/tests/lib/make_certs.sh %s", MQ_SOURCE_DIR,
             certs);
    char *argv[] = {"sh", "-c", cmd, NULL};
    char out[2048];
    if (test_run(argv, out, sizeof out) != 0) {
        fprintf(stderr, "make_certs.sh: %s\n", out);
        return -1;
    }
    o.tls_dir = certs;
    o.client_tls = 1;
    o.peer_tls = 1;
    o.extra = "--member_catchup_timeout_ms 3000";
    o.http = 1;
    o.https = 1;
    if (cluster_start_opts(&c, 3, &o) != 0) {
        cluster_stop(&c);
        return -1;
    }
    *state = &c;
    return 0;
}

static int group_teardown(void **state)
{
    struct cluster *c = *state;
    char cmd[400];
    int rv = cluster_stop(c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", certs);
    char *argv[] = {"sh", "-c", cmd, NULL};
    test_run(argv, NULL, 0);
    if (rv != 0) {
        exit(1);
    }
    return 0;
}

/* The tour: queue, subscription, publish, consume and ack, through libmq
 * with a CA file and through mqctl --tls-ca; the nodes replicate over
 * mutual TLS (every node applied the writes). */
static void test_tour_over_tls(void **state)
{
    struct cluster *c = *state;
    char out[4096];
    CLUSTER_TEST_BEGIN(c);

    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue create orders"),
                     0);
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "sub create orders billing"), 0);
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "publish orders order.created hello"),
        0);

    mq_client *cl = cluster_client(c);
    assert_non_null(cl);
    mq_pub m = {0};
    mq_pub_result res;
    m.event = "order.paid";
    m.payload = "paid";
    m.payload_len = 4;
    assert_int_equal(mq_publish(cl, "orders", &m, &res, 10000), MQ_OK);
    mq_msg **msgs = NULL;
    size_t n = 0;
    assert_int_equal(mq_fetch(cl, "orders", "billing", 10, 2000, &msgs, &n),
                     MQ_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mq_ack(cl, msgs[i], 10000), MQ_OK);
    }
    mq_msgs_free(msgs, n);
    mq_client_close(cl);

    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "publish orders order.created two"),
        0);
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "consume orders billing --count 1"),
        0);
    assert_non_null(strstr(out, "two"));
    assert_int_equal(cluster_settle(c, 10000), 0);
    for (int i = 0; i < 3; i++) { /* replicated over mutual TLS */
        assert_true(cluster_log_has(c, i, "authenticated as node"));
    }
    /* mqctl check sees when the certificates the nodes show expire (the
     * test's are valid 30 days): fine for 14 days, not for 60. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "check"), 0);
    assert_non_null(strstr(out, "ok    certificates  6 certificates; the "
                                "first expires in"));
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "check --min-cert-validity 60d"), 1);
    assert_non_null(strstr(out, "mqctl: check: stage certificates failed: "
                                "node "));
    assert_non_null(strstr(out, "expires in"));
    CLUSTER_TEST_PASSED(c);
}

/* openssl s_client sees the configured certificate over TLS 1.2; TLS 1.1
 * is refused; a plain TCP client (mqctl on tcp://) fails cleanly and the
 * node keeps serving. */
static void test_client_port_presents_and_refuses(void **state)
{
    struct cluster *c = *state;
    char out[16384], subj[256], url[64];
    CLUSTER_TEST_BEGIN(c);

    assert_int_equal(s_client(c, 0, NULL, out, sizeof out), 0);
    subject_of(out, subj, sizeof subj);
    assert_non_null(strstr(subj, "CN = 127.0.0.1"));
    assert_null(strstr(subj, "second"));
    if (strstr(out, "Verify return code: 0 (ok)") == NULL ||
        strstr(out, "TLSv1.2") == NULL) {
        fail_msg("s_client said: %s", out);
    }

    s_client(c, 0, "-tls1_1", out, sizeof out);
    assert_non_null(strstr(out, "alert protocol version"));
    assert_non_null(strstr(out, "Cipher is (NONE)"));

    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", c->nodes[0].client_port);
    char *argv[] = {MQ_BIN_DIR "/mqctl",
                    "-s",
                    url,
                    "--timeout",
                    "2s",
                    "queue",
                    "list",
                    NULL};
    assert_int_equal(test_run(argv, out, sizeof out), 1);
    assert_non_null(strstr(out, "not connected"));
    /* ... and the node still serves TLS clients. */
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue list"), 0);
    assert_non_null(strstr(out, "orders"));
    CLUSTER_TEST_PASSED(c);
}

/* http_url https://: the endpoints answer over TLS 1.2 with the client
 * certificate (openssl s_client verifies it against the CA); a client in
 * clear gets nothing. */
static void test_https_endpoints(void **state)
{
    struct cluster *c = *state;
    char out[16384], subj[256];
    CLUSTER_TEST_BEGIN(c);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s_client_port(c, c->nodes[i].http_port,
                                       "GET /readyz HTTP/1.1\\r\\nConnection: "
                                       "close\\r\\n\\r\\n",
                                       "-quiet -verify_return_error", out,
                                       sizeof out),
                         0);
        if (strstr(out, "HTTP/1.1 200 ") == NULL ||
            strstr(out, "ready") == NULL) {
            fail_msg("node %d: %s", i + 1, out);
        }
    }
    assert_int_equal(
        s_client_port(c, c->nodes[0].http_port, "\\n", NULL, out, sizeof out),
        0);
    subject_of(out, subj, sizeof subj);
    assert_non_null(strstr(subj, "CN = 127.0.0.1"));
    assert_non_null(strstr(out, "TLSv1.2"));
    char body[256];
    assert_true(http_get(c->nodes[0].http_port, "/readyz", body, sizeof body,
                         2000) != 200);
    CLUSTER_TEST_PASSED(c);
}

static int pipes_added;
static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)arg;
    if (ev == NNG_PIPE_EV_ADD_POST) {
        __atomic_add_fetch(&pipes_added, 1, __ATOMIC_SEQ_CST);
    }
}

/* One status request on @s; returns 0 when answered. */
static int status_on(nng_socket s)
{
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__StatusRequest sr = MQ__V1__STATUS_REQUEST__INIT;
    nng_msg *msg;
    req.body_case = MQ__V1__REQUEST__BODY_STATUS;
    req.status = &sr;
    if (nng_msg_alloc(&msg, mq__v1__request__get_packed_size(&req)) != 0) {
        return -1;
    }
    mq__v1__request__pack(&req, nng_msg_body(msg));
    if (nng_sendmsg(s, msg, 0) != 0) {
        nng_msg_free(msg);
        return -1;
    }
    if (nng_recvmsg(s, &msg, 0) != 0) {
        return -1;
    }
    nng_msg_free(msg);
    return 0;
}

/* A reload (SIGHUP on node 1, mqctl node reload-tls on node 2): new
 * connections get the new certificate at once, an open connection stays
 * up (its next request is answered on it, without a reconnect); node 3,
 * not reloaded, still presents the old one. */
static void test_reload_new_connections_get_the_new_certificate(void **state)
{
    struct cluster *c = *state;
    char out[16384], subj[256], url[64], ca[400];
    nng_socket s;
    nng_tls_config *tc;
    nng_dialer d;
    CLUSTER_TEST_BEGIN(c);

    /* An open connection to node 1 (nng's own TLS client). */
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d",
             c->nodes[0].client_port);
    snprintf(ca, sizeof ca, "%s", c->tls_ca);
    assert_int_equal(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
    nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, pipe_cb, NULL);
    assert_int_equal(nng_tls_config_alloc(&tc, NNG_TLS_MODE_CLIENT), 0);
    assert_int_equal(nng_tls_config_ca_file(tc, ca), 0);
    assert_int_equal(nng_tls_config_server_name(tc, "127.0.0.1"), 0);
    assert_int_equal(nng_dialer_create(&d, s, url), 0);
    assert_int_equal(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tc), 0);
    assert_int_equal(nng_dialer_start(d, 0), 0);
    assert_int_equal(status_on(s), 0);
    assert_int_equal(__atomic_load_n(&pipes_added, __ATOMIC_SEQ_CST), 1);

    copy_cert(c, "node.crt", "node1.crt.bak");
    copy_cert(c, "node.key", "node1.key.bak");
    copy_cert(c, "node2.crt", "node.crt");
    copy_cert(c, "node2.key", "node.key");
    kill(c->nodes[0].pid, SIGHUP);
    for (int k = 0; k < 100 && !cluster_log_has(c, 0,
                                                "SIGHUP: client "
                                                "certificate");
         k++) {
        test_sleep_ms(50);
    }
    assert_true(cluster_log_has(c, 0, "SIGHUP: client certificate"));
    assert_true(cluster_log_has(c, 0, "HTTPS certificate"));
    assert_int_equal(s_client(c, 0, NULL, out, sizeof out), 0);
    subject_of(out, subj, sizeof subj);
    assert_non_null(strstr(subj, "second"));
    /* ... and so does its HTTPS listener. */
    assert_int_equal(
        s_client_port(c, c->nodes[0].http_port, "\\n", NULL, out, sizeof out),
        0);
    subject_of(out, subj, sizeof subj);
    assert_non_null(strstr(subj, "second"));
    /* Node 3 was not reloaded. */
    assert_int_equal(s_client(c, 2, NULL, out, sizeof out), 0);
    subject_of(out, subj, sizeof subj);
    assert_null(strstr(subj, "second"));

    /* The open connection is still up: answered without a new pipe. */
    assert_int_equal(status_on(s), 0);
    assert_int_equal(__atomic_load_n(&pipes_added, __ATOMIC_SEQ_CST), 1);
    nng_close(s);
    nng_tls_config_free(tc);

    /* mqctl node reload-tls on node 2 alone. */
    char *argv[] = {MQ_BIN_DIR "/mqctl", "-s",      c->nodes[1].client_url,
                    "--tls-ca",          c->tls_ca, "node",
                    "reload-tls",        NULL};
    if (test_run(argv, out, sizeof out) != 0) {
        fail_msg("node reload-tls: %s", out);
    }
    assert_non_null(strstr(out, "client certificate"));
    assert_non_null(strstr(out, "peer certificate"));
    assert_int_equal(s_client(c, 1, NULL, out, sizeof out), 0);
    subject_of(out, subj, sizeof subj);
    assert_non_null(strstr(subj, "second"));

    /* A file that does not load: refused, naming it; the old one stays. */
    copy_cert(c, "ca.crt", "node.key");
    assert_int_equal(test_run(argv, out, sizeof out), 1);
    assert_non_null(strstr(out, "tls_key_file"));
    assert_int_equal(s_client(c, 1, NULL, out, sizeof out), 0);
    subject_of(out, subj, sizeof subj);
    assert_non_null(strstr(subj, "second"));

    /* Back to the first certificate for the tests after. */
    copy_cert(c, "node1.crt.bak", "node.crt");
    copy_cert(c, "node1.key.bak", "node.key");
    char *all[] = {MQ_BIN_DIR "/mqctl", "-s",   c->urls,      "--tls-ca",
                   c->tls_ca,           "node", "reload-tls", NULL};
    assert_int_equal(test_run(all, out, sizeof out), 0);
    CLUSTER_TEST_PASSED(c);
}

/* mqctl against node 3 restarted with a bad certificate, or with the wrong
 * CA: the error names the reason. */
static void expect_reason(struct cluster *c, const char *ca, const char *reason)
{
    char out[4096];
    char *argv[] = {MQ_BIN_DIR "/mqctl",
                    "-s",
                    c->nodes[2].client_url,
                    "--tls-ca",
                    (char *)ca,
                    "--timeout",
                    "3s",
                    "queue",
                    "list",
                    NULL};
    assert_int_equal(test_run(argv, out, sizeof out), 1);
    if (strstr(out, reason) == NULL || strstr(out, "TLS handshake") == NULL) {
        fail_msg("mqctl said \"%s\", not \"%s\"", out, reason);
    }
}

static void test_bad_certificates_are_named(void **state)
{
    struct cluster *c = *state;
    char other[400], out[4096];
    CLUSTER_TEST_BEGIN(c);

    snprintf(other, sizeof other, "%s/other-ca.crt", c->tls_dir);
    expect_reason(c, other, "peer certificate not trusted");

    copy_cert(c, "node.crt", "node3.crt.bak");
    copy_cert(c, "node.key", "node3.key.bak");
    copy_cert(c, "expired.crt", "node.crt");
    copy_cert(c, "expired.key", "node.key");
    char *reload[] = {MQ_BIN_DIR "/mqctl", "-s",      c->nodes[2].client_url,
                      "--tls-ca",          c->tls_ca, "node",
                      "reload-tls",        NULL};
    assert_int_equal(test_run(reload, out, sizeof out), 0);
    expect_reason(c, c->tls_ca, "certificate verify failed: expired");

    copy_cert(c, "wrongname.crt", "node.crt");
    copy_cert(c, "wrongname.key", "node.key");
    kill(c->nodes[2].pid, SIGHUP);
    for (int k = 0; k < 100 && cluster_log_count(c, 2, "SIGHUP") < 1; k++) {
        test_sleep_ms(50);
    }
    expect_reason(c, c->tls_ca, "name mismatch");

    copy_cert(c, "node3.crt.bak", "node.crt");
    copy_cert(c, "node3.key.bak", "node.key");
    kill(c->nodes[2].pid, SIGHUP);
    for (int k = 0; k < 100 && cluster_log_count(c, 2, "SIGHUP") < 2; k++) {
        test_sleep_ms(50);
    }
    char *ok[] = {MQ_BIN_DIR "/mqctl",
                  "-s",
                  c->nodes[2].client_url,
                  "--tls-ca",
                  c->tls_ca,
                  "queue",
                  "list",
                  NULL};
    assert_int_equal(test_run(ok, out, sizeof out), 0);
    CLUSTER_TEST_PASSED(c);
}

/* The term each of the three nodes reports (all three must answer).
 * Status asks each node once, for at most the client's attempt timeout
 * (1 s), and a first TLS handshake under the sanitizers may take longer:
 * asked again, within 15 s, until all three answer in one round. */
static void terms(struct cluster *c, uint64_t term[3])
{
    mq_client *cl = cluster_client(c);
    mq_node_status *st = NULL;
    size_t n = 0;
    int all = 0;
    assert_non_null(cl);
    uint64_t end = test_now_ms() + 15000;
    while (!all && test_now_ms() < end) {
        if (mq_cluster_status(cl, &st, &n, 5000) != MQ_OK) {
            test_sleep_ms(200);
            continue;
        }
        all = n >= 3; /* the first three: node 4 may follow */
        for (size_t i = 0; i < 3 && i < n; i++) {
            all &= st[i].err == MQ_OK;
            term[i] = st[i].term;
        }
        mq_status_free(st);
    }
    mq_client_close(cl);
    assert_true(all);
}

/* Whether "node list" shows node 4 as a voter. */
static int node4_voter(struct cluster *c)
{
    char out[4096];
    if (cluster_mqctl(c, out, sizeof out, "node list") != 0) {
        return 0;
    }
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "4 ", 2) == 0 && strstr(line, "voter") != NULL) {
            return 1;
        }
    }
    return 0;
}

/* A node whose peer certificate is signed by another CA asks to join: it
 * is added, but no raft message passes between it and the others (their
 * TLS refuses its certificate), so it never catches up and the add is
 * abandoned. Started again with a configuration of its own that lists the
 * three, it stands for election again and again: not one of its messages
 * reaches the others (none tells it that it is not a member, none
 * authenticates it) and their term does not move. */
static void test_node_of_another_ca_cannot_join(void **state)
{
    struct cluster *c = *state;
    uint64_t before[3], after[3];
    char members[sizeof c->members];
    CLUSTER_TEST_BEGIN(c);

    terms(c, before);
    int r = cluster_add_node(c, 4);
    assert_true(r == 3);
    cluster_signal(c, r, SIGKILL); /* started with node.crt: again with */
    cluster_wipe(c, r);            /* the other CA's */
    snprintf(c->nodes[r].peer_cert, sizeof c->nodes[r].peer_cert, "rogue");
    assert_int_equal(cluster_restart(c, r), 0);

    /* member_catchup_timeout_ms 3000: the add is abandoned. */
    uint64_t end = test_now_ms() + 40000;
    int abandoned = 0;
    while (test_now_ms() < end && !abandoned) {
        test_sleep_ms(250);
        assert_false(node4_voter(c));
        for (int i = 0; i < 3; i++) {
            abandoned |= cluster_log_has(c, i, "add of node 4 abandoned");
        }
    }
    assert_true(abandoned);
    cluster_signal(c, r, SIGKILL);

    /* Its own cluster of four: it campaigns (election timeout 600 ms). */
    cluster_wipe(c, r);
    snprintf(members, sizeof members, "%s", c->members);
    snprintf(c->members + strlen(c->members),
             sizeof c->members - strlen(c->members), ",4=%s",
             c->nodes[r].peer_url);
    c->nodes[r].join[0] = '\0';
    assert_int_equal(cluster_restart(c, r), 0);
    snprintf(c->members, sizeof c->members, "%s", members);
    end = test_now_ms() + 20000;
    while (test_now_ms() < end &&
           !cluster_log_has(c, r, "may stand for election")) {
        test_sleep_ms(200);
    }
    assert_true(cluster_log_has(c, r, "may stand for election"));
    test_sleep_ms(3000); /* several rounds of its (pre-)votes */
    terms(c, after);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(after[i], before[i]);
        assert_false(cluster_log_has(c, i, "authenticated as node 4"));
        assert_false(cluster_log_has(c, i, "told node 4"));
    }
    cluster_signal(c, r, SIGKILL);
    c->n--; /* the harness stops the three others */
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tour_over_tls),
        cmocka_unit_test(test_client_port_presents_and_refuses),
        cmocka_unit_test(test_https_endpoints),
        cmocka_unit_test(test_reload_new_connections_get_the_new_certificate),
        cmocka_unit_test(test_bad_certificates_are_named),
        cmocka_unit_test(test_node_of_another_ca_cannot_join),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
