/* test_prometheus.c: a real Prometheus server (Debian's prometheus
 * package) scrapes a real three-node cluster, with mq's alert rules
 * loaded, and its HTTP API answers what mqctl answers: a subscription's
 * lag in messages, on every node, before and after more messages are
 * acked. The rules load without error, every node is up, and every query
 * of the Grafana dashboard runs. The server listens on 127.0.0.1 with its
 * config and data in the test's directory, and is stopped by its PID;
 * every wait is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "httpget.h"

#define BODY (1u << 20)

/* What the test started, for the teardown when an assertion left it
 * early: the cluster (its logs are then printed) and the server. */
static struct cluster *live;
static pid_t live_prom;

/* Starts prometheus scraping @c's nodes every second; returns its pid. */
static pid_t prometheus_start(struct cluster *c, int port)
{
    char cfg[600], data[600], logf[600], arg_cfg[700], arg_data[700],
        arg_listen[64];
    snprintf(cfg, sizeof cfg, "%s/prometheus.yml", c->root);
    snprintf(data, sizeof data, "%s/prometheus-data", c->root);
    snprintf(logf, sizeof logf, "%s/prometheus.log", c->root);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f,
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "rule_files:\n  - %s/deploy/prometheus/mq-alerts.yml\n"
            "scrape_configs:\n  - job_name: mq\n    scrape_timeout: 900ms\n"
            "    static_configs:\n      - targets:\n",
            MQ_SOURCE_DIR);
    for (int i = 0; i < c->n; i++) {
        fprintf(f, "          - 127.0.0.1:%d\n", c->nodes[i].http_port);
    }
    fclose(f);
    snprintf(arg_cfg, sizeof arg_cfg, "--config.file=%s", cfg);
    snprintf(arg_data, sizeof arg_data, "--storage.tsdb.path=%s", data);
    snprintf(arg_listen, sizeof arg_listen, "--web.listen-address=127.0.0.1:%d",
             port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0);
        execlp("prometheus", "prometheus", arg_cfg, arg_data, arg_listen,
               "--log.level=warn", "--storage.tsdb.retention.time=1h",
               (char *)NULL);
        fprintf(stderr, "cannot run prometheus: %s\n", strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

static void prometheus_stop(pid_t pid)
{
    int st;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            return;
        }
        test_sleep_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

/* Runs instant query @q; returns the HTTP status, the JSON in @body. */
static int query(int port, const char *q, char *body, size_t len)
{
    char enc[4096], path[4200];
    http_urlencode(q, enc, sizeof enc);
    snprintf(path, sizeof path, "/api/v1/query?query=%s", enc);
    return http_get(port, path, body, len, 5000);
}

/* The sample values of a vector result, in @vals; returns how many. */
static int values(const char *json, double *vals, int max)
{
    int n = 0;
    const char *p = json;
    if (strstr(json, "\"status\":\"success\"") == NULL) {
        return -1;
    }
    while (n < max && (p = strstr(p, "\"value\":[")) != NULL) {
        p = strchr(p, ',');
        if (p == NULL || p[1] != '"') {
            return -1;
        }
        vals[n++] = strtod(p + 2, NULL);
    }
    return n;
}

/* Waits (up to 40 s) until @q gives @n samples, each @want. */
static int wait_for(int port, const char *q, int n, double want, char *body)
{
    uint64_t deadline = test_now_ms() + 40000;
    double v[16];
    int got = -1;
    while (test_now_ms() < deadline) {
        if (query(port, q, body, BODY) == 200 &&
            (got = values(body, v, 16)) == n) {
            int all = 1;
            for (int i = 0; i < n; i++) {
                all &= v[i] == want;
            }
            if (all) {
                return 0;
            }
        }
        test_sleep_ms(250);
    }
    fprintf(stderr, "query %s: wanted %d samples of %g, last answer: %s\n", q,
            n, want, body);
    return -1;
}

/* What mqctl sub info says the lag is: pending + in flight + scheduled. */
static long mqctl_lag(struct cluster *c)
{
    char out[4096];
    long pending, in_flight, scheduled;
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "--json sub info orders workers"), 0);
    const char *p = strstr(out, "\"pending\":");
    const char *f = strstr(out, "\"in_flight\":");
    const char *s = strstr(out, "\"scheduled\":");
    assert_non_null(p);
    assert_non_null(f);
    assert_non_null(s);
    pending = strtol(p + 10, NULL, 10);
    in_flight = strtol(f + 12, NULL, 10);
    scheduled = strtol(s + 12, NULL, 10);
    return pending + in_flight + scheduled;
}

/* Runs every "expr" of the Grafana dashboard ($job: mq). */
static void dashboard_queries_run(int port, char *body)
{
    FILE *f = fopen(MQ_SOURCE_DIR "/deploy/grafana/mq-dashboard.json", "r");
    char line[4096];
    int n = 0;
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = strstr(line, "\"expr\": \"");
        char expr[2048];
        size_t k = 0;
        if (p == NULL) {
            continue;
        }
        for (p += 9; *p && *p != '"' && k + 4 < sizeof expr; p++) {
            if (*p == '\\') {
                p++;
            }
            if (strncmp(p, "$job", 4) == 0) {
                memcpy(expr + k, "mq", 2);
                k += 2;
                p += 3;
                continue;
            }
            expr[k++] = *p;
        }
        expr[k] = '\0';
        if (query(port, expr, body, BODY) != 200 ||
            strstr(body, "\"status\":\"success\"") == NULL) {
            fail_msg("dashboard query %s: %s", expr, body);
        }
        n++;
    }
    fclose(f);
    assert_true(n >= 20);
}

static void test_prometheus_sees_the_lag_mqctl_reports(void **state)
{
    static struct cluster c;
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    char *body = malloc(BODY);
    char out[4096];
    const char *lag = "mq_subscription_lag_messages{queue=\"default/orders\","
                      "subscription=\"workers\"}";
    (void)state;
    o.http = 1;
    live = &c;
    assert_int_equal(cluster_start_opts(&c, 3, &o), 0);
    CLUSTER_TEST_BEGIN(&c);
    assert_int_equal(cluster_mqctl(&c, out, sizeof out, "queue create orders"),
                     0);
    assert_int_equal(
        cluster_mqctl(&c, out, sizeof out, "sub create orders workers"), 0);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(
            cluster_mqctl(&c, out, sizeof out, "publish orders created m%d", i),
            0);
    }
    assert_int_equal(
        cluster_mqctl(&c, out, sizeof out, "consume orders workers --count 2"),
        0);
    assert_int_equal(cluster_settle(&c, 10000), 0);
    assert_int_equal(mqctl_lag(&c), 5);

    int port = test_free_port();
    assert_true(port > 0);
    pid_t prom = prometheus_start(&c, port);
    live_prom = prom;
    uint64_t deadline = test_now_ms() + 30000;
    while (http_get(port, "/-/ready", body, BODY, 2000) != 200) {
        if (test_now_ms() > deadline) {
            fail_msg("prometheus not ready within 30 s (see %s/prometheus.log)",
                     c.root);
        }
        test_sleep_ms(200);
    }
    /* Every node up, and each says what mqctl says. */
    assert_int_equal(wait_for(port, "up{job=\"mq\"}", 3, 1, body), 0);
    assert_int_equal(wait_for(port, lag, 3, 5, body), 0);
    char q[512];
    snprintf(q, sizeof q, "count(mq_subscription_lag_seconds > 0)");
    assert_int_equal(wait_for(port, q, 1, 3, body), 0);

    /* More acked: Prometheus follows. */
    assert_int_equal(
        cluster_mqctl(&c, out, sizeof out, "consume orders workers --count 3"),
        0);
    assert_int_equal(cluster_settle(&c, 10000), 0);
    assert_int_equal(mqctl_lag(&c), 2);
    assert_int_equal(wait_for(port, lag, 3, 2, body), 0);

    /* The alert rules loaded and evaluate without error; none fires on a
     * healthy cluster. */
    assert_int_equal(http_get(port, "/api/v1/rules", body, BODY, 5000), 200);
    assert_non_null(strstr(body, "\"name\":\"MqQuorumAtRisk\""));
    assert_non_null(strstr(body, "\"name\":\"MqNoLeader\""));
    assert_null(strstr(body, "\"health\":\"err\""));
    assert_int_equal(http_get(port, "/api/v1/alerts", body, BODY, 5000), 200);
    assert_non_null(strstr(body, "\"alerts\":[]"));

    dashboard_queries_run(port, body);

    prometheus_stop(prom);
    live_prom = 0;
    CLUSTER_TEST_PASSED(&c);
    live = NULL;
    assert_int_equal(cluster_stop(&c), 0);
    free(body);
}

static int stop_live(void **state)
{
    (void)state;
    if (live_prom > 0) {
        prometheus_stop(live_prom);
        live_prom = 0;
    }
    if (live != NULL) {
        cluster_stop(live);
        live = NULL;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_prometheus_sees_the_lag_mqctl_reports,
                                  stop_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
