/* test_startup.c: what mqd says and does when it starts.
 *
 * A node whose peer (or client) address is taken stops before it writes a
 * new cluster's bootstrap into its empty data dir, naming the address, so
 * that a second try with the right address starts clean. A node restarted
 * on an existing data dir with a changed `members` says so (a WARN naming
 * both lists) instead of ignoring it silently. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"

/* A TCP socket listening on 127.0.0.1 (its port in *port). */
static int take_port(int *port)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Entries of directory @path other than . and .. */
static int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    while (d != NULL && (e = readdir(d)) != NULL) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (d != NULL) {
        closedir(d);
    }
    return n;
}

/* Runs mqd (bounded by `timeout`) on data dir @dir with the given URLs;
 * returns its exit code, its output in @out. */
static int run_mqd(const char *dir, const char *client_url,
                   const char *peer_url, char *out, size_t outlen)
{
    char members[128];
    snprintf(members, sizeof members, "1=%s", peer_url);
    char *const argv[] = {"timeout",
                          "20",
                          MQ_BIN_DIR "/mqd",
                          "--id",
                          "1",
                          "--data_dir",
                          (char *)dir,
                          "--client_url",
                          (char *)client_url,
                          "--peer_url",
                          (char *)peer_url,
                          "--members",
                          members,
                          NULL};
    return test_run(argv, out, outlen);
}

/* Clusters of tests take every port from test_free_port(): two calls must
 * never give one port, though the kernel may give a just-closed port to the
 * next bind (a cluster once started with two members on one peer URL). */
static void test_free_ports_differ(void **state)
{
    static int got[600];
    (void)state;
    for (size_t i = 0; i < sizeof got / sizeof *got; i++) {
        got[i] = test_free_port();
        assert_true(got[i] > 0);
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(got[i], got[j]);
        }
    }
}

static void test_taken_address_writes_no_bootstrap(void **state)
{
    char dir[] = "/tmp/mq-startup-XXXXXX";
    char client[64], peer[64], out[8192];
    int port, fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    /* The peer address is taken. */
    fd = take_port(&port);
    snprintf(peer, sizeof peer, "tcp://127.0.0.1:%d", port);
    snprintf(client, sizeof client, "tcp://127.0.0.1:%d", test_free_port());
    assert_int_equal(run_mqd(dir, client, peer, out, sizeof out), 1);
    if (strstr(out, "peer_url") == NULL || strstr(out, peer) == NULL) {
        fail_msg("mqd said: %s", out);
    }
    assert_int_equal(dir_entries(dir), 0);
    close(fd);

    /* The client address is taken. */
    fd = take_port(&port);
    snprintf(client, sizeof client, "tcp://127.0.0.1:%d", port);
    snprintf(peer, sizeof peer, "tcp://127.0.0.1:%d", test_free_port());
    assert_int_equal(run_mqd(dir, client, peer, out, sizeof out), 1);
    if (strstr(out, "client_url") == NULL) {
        fail_msg("mqd said: %s", out);
    }
    assert_int_equal(dir_entries(dir), 0);
    close(fd);
    rmdir(dir);
}

static void test_changed_members_are_said(void **state)
{
    struct cluster *c = *state;
    char members[sizeof c->members];

    CLUSTER_TEST_BEGIN(c);
    assert_false(cluster_log_has(c, 0, "differ from"));
    cluster_signal(c, 0, SIGTERM);
    snprintf(members, sizeof members, "%s", c->members);
    snprintf(c->members, sizeof c->members, "%s,9=tcp://127.0.0.1:1", members);
    assert_int_equal(cluster_restart(c, 0), 0);
    for (int i = 0; i < 100 && !cluster_log_has(c, 0, "differ from"); i++) {
        test_sleep_ms(50);
    }
    snprintf(c->members, sizeof c->members, "%s", members);
    assert_true(cluster_log_has(c, 0, "differ from"));
    assert_true(cluster_log_has(c, 0, "9=tcp://127.0.0.1:1"));
    /* The data dir's members are used: the cluster is as it was. */
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    CLUSTER_TEST_PASSED(c);
}

/* A node dying of a fatal signal (a library's assertion) prints the
 * signal and its stack in its log, then ends by that signal. */
static void test_fatal_signal_prints_stack(void **state)
{
    struct cluster *c = *state;
    struct rlimit none = {0, 0};

    CLUSTER_TEST_BEGIN(c);
    /* No core file of this on purpose. */
    assert_int_equal(prlimit(c->nodes[2].pid, RLIMIT_CORE, &none, NULL), 0);
    cluster_signal(c, 2, SIGABRT);
    assert_int_equal(cluster_wait_exit(c, 2, 10000), 128 + SIGABRT);
    assert_true(cluster_log_has(c, 2, "mqd: fatal signal 6, the stack:"));
    assert_true(cluster_log_has(c, 2, "mqd(+0x"));
    assert_int_equal(cluster_restart(c, 2), 0);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_ports_differ),
        cmocka_unit_test(test_taken_address_writes_no_bootstrap),
        cmocka_unit_test(test_changed_members_are_said),
        cmocka_unit_test(test_fatal_signal_prints_stack),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
