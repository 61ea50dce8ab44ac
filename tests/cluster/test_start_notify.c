/* test_start_notify.c: how mqd tells a supervisor and a log collector what
 * it does.
 * - With $NOTIFY_SOCKET set (systemd's Type=notify), each node sends
 *   READY=1 with its MAINPID once it serves, and STOPPING=1 when told to
 *   stop; a supervisor needs nothing else (no libsystemd).
 * - With log_format json, every line a node writes is one JSON object
 *   with time, level, node, role, term, file, line and msg. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"

/* Collects datagrams on @fd for up to @ms until @n of them contain @what;
 * the pids they name (MAINPID=) go to @pids. Returns how many came. */
static int collect(int fd, const char *what, int n, int ms, long *pids)
{
    uint64_t deadline = test_now_ms() + (uint64_t)ms;
    int got = 0;
    while (got < n && test_now_ms() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        char buf[512];
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        ssize_t len = recv(fd, buf, sizeof buf - 1, 0);
        if (len <= 0) {
            continue;
        }
        buf[len] = '\0';
        if (strstr(buf, what) == NULL) {
            continue;
        }
        const char *m = strstr(buf, "MAINPID=");
        if (pids != NULL) {
            pids[got] = m ? strtol(m + 8, NULL, 10) : -1;
        }
        got++;
    }
    return got;
}

static int has_pid(const long *pids, int n, long pid)
{
    for (int i = 0; i < n; i++) {
        if (pids[i] == pid) {
            return 1;
        }
    }
    return 0;
}

/* Checks that every line of node @i's log is a JSON object of a log line;
 * returns how many lines. */
static int check_json_log(struct cluster *c, int i, int *leader_lines)
{
    FILE *f = fopen(c->nodes[i].log, "r");
    char line[4096];
    int n = 0;
    static const char *const fields[] = {
        "{\"time\":\"", "\",\"level\":\"", "\",\"node\":", ",\"role\":\"",
        "\",\"term\":", ",\"file\":\"",    "\",\"line\":", ",\"msg\":\""};
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        size_t len = strlen(line);
        const char *at = line;
        assert_true(len > 2 && line[len - 1] == '\n');
        line[len - 1] = '\0';
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
            at = strstr(at, fields[k]);
            if (at == NULL) {
                fail_msg("node %d: log line without %s: %s", i + 1, fields[k],
                         line);
            }
        }
        if (strcmp(line + len - 3, "\"}") != 0) {
            fail_msg("node %d: log line not closed: %s", i + 1, line);
        }
        *leader_lines += strstr(line, "\"msg\":\"became leader of term") != 0;
        n++;
    }
    fclose(f);
    return n;
}

/* The cluster of the test, for the teardown when an assertion left the
 * test early (its logs are then printed). */
static struct cluster *live;

static int stop_live(void **state)
{
    (void)state;
    if (live != NULL) {
        cluster_stop(live);
        live = NULL;
    }
    return 0;
}

static void test_ready_stopping_and_json_logs(void **state)
{
    static struct cluster c;
    struct sockaddr_un a;
    char dir[] = "/tmp/mqnotify-XXXXXX";
    long pids[8];
    int leader_lines = 0;
    (void)state;

    assert_non_null(mkdtemp(dir));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s/notify", dir);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    setenv("NOTIFY_SOCKET", a.sun_path, 1);
    live = &c;
    int rv = cluster_start(&c, 3, "--log_format json");
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(rv, 0);
    CLUSTER_TEST_BEGIN(&c);

    assert_int_equal(collect(fd, "READY=1", 3, 10000, pids), 3);
    for (int i = 0; i < 3; i++) {
        if (!has_pid(pids, 3, (long)c.nodes[i].pid)) {
            fail_msg("no READY=1 with MAINPID=%ld", (long)c.nodes[i].pid);
        }
    }
    for (int i = 0; i < 3; i++) {
        assert_true(check_json_log(&c, i, &leader_lines) >= 3);
    }
    assert_true(leader_lines >= 1);

    CLUSTER_TEST_PASSED(&c);
    live = NULL;
    assert_int_equal(cluster_stop(&c), 0);
    assert_int_equal(collect(fd, "STOPPING=1", 3, 5000, NULL), 3);
    close(fd);
    unlink(a.sun_path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ready_stopping_and_json_logs, stop_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
