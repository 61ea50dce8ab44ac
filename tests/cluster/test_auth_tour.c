/* test_auth_tour.c: a cluster started with auth_bootstrap_key_file: the
 * README's tour works with the bootstrap secret as mqctl's token (status
 * says authentication is on, and with which key); a request without a key
 * or with a wrong one is refused UNAUTHENTICATED and changes nothing; a
 * key made by mqctl key create works at once; a follower killed and
 * restarted (its keys from its snapshot and log) refuses and accepts as
 * before; a node started with join gets in with the bootstrap secret, one
 * with another secret is refused and stops asking, then gets in when an
 * admin adds it; the audit lines are logged; and no secret or token is anywhere
 * in the data dirs (log segments, snapshots) or the logs. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cluster.h"

static const char secret[] = "tour-bootstrap-secret-0123456789-abcdef";

static struct cluster cl_;

static int setup(void **state)
{
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    o.auth_secret = secret;
    /* Snapshots early, so that the keys are in them too. */
    o.extra = "--snapshot_threshold 8 --snapshot_trailing 2";
    if (cluster_start_opts(&cl_, 3, &o) != 0) {
        cluster_stop(&cl_);
        return -1;
    }
    *state = &cl_;
    return 0;
}

static int teardown(void **state)
{
    if (cluster_stop(*state) != 0) {
        fprintf(stderr, "cluster: a node did not stop cleanly\n");
        exit(1);
    }
    return 0;
}

/* mqctl with @args (NULL-terminated); its exit code, output in @out. */
static int mqctl(struct cluster *c, char *out, size_t len, char **args)
{
    return cluster_mqctlv(c, out, len, args);
}

/* Whether @needle (@n bytes) is in any file under @path. */
static int found_under(const char *path, const void *needle, size_t n)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        return 0;
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *ent;
        int found = 0;
        while (d != NULL && !found && (ent = readdir(d)) != NULL) {
            char sub[1024];
            if (strcmp(ent->d_name, ".") == 0 ||
                strcmp(ent->d_name, "..") == 0 ||
                strcmp(ent->d_name, "bootstrap.key") == 0) {
                continue;
            }
            snprintf(sub, sizeof sub, "%s/%s", path, ent->d_name);
            found = found_under(sub, needle, n);
        }
        if (d != NULL) {
            closedir(d);
        }
        return found;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
        return 0;
    }
    FILE *f = fopen(path, "rb");
    char *buf = malloc((size_t)sb.st_size);
    size_t got = f && buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
    int found = got >= n && memmem(buf, got, needle, n) != NULL;
    if (found && n > 8) {
        fprintf(stderr, "secret found in %s\n", path);
    }
    free(buf);
    if (f) {
        fclose(f);
    }
    return found;
}

/* Checks that neither @token, nor its secret in hex or as bytes, is under
 * the cluster's directory (the bootstrap secret's own file aside). */
static void assert_nowhere(struct cluster *c, const char *token)
{
    assert_false(found_under(c->root, token, strlen(token)));
    const char *hex = strrchr(token, '_');
    if (strncmp(token, "mqk_", 4) == 0 && hex != NULL &&
        strlen(hex + 1) == 64) {
        uint8_t raw[32];
        for (int i = 0; i < 32; i++) {
            unsigned v;
            sscanf(hex + 1 + 2 * i, "%2x", &v);
            raw[i] = (uint8_t)v;
        }
        assert_false(found_under(c->root, hex + 1, 64));
        assert_false(found_under(c->root, raw, sizeof raw));
    }
}

static void test_tour_with_an_admin_key(void **state)
{
    struct cluster *c = *state;
    char out[16384];
    char token[256] = "";
    CLUSTER_TEST_BEGIN(c);

    char *status[] = {"status", NULL};
    if (mqctl(c, out, sizeof out, status) != 0) {
        fail_msg("mqctl status: %s", out);
    }
    assert_non_null(strstr(out, "auth: on (key admin)"));

    /* The tour of the README, with MQ_TOKEN set to the bootstrap secret. */
    char *tour[][12] = {
        {"queue", "create", "orders", NULL},
        {"sub", "create", "orders", "billing", "--start", "first", NULL},
        {"sub", "create", "orders", "audit", "--start", "first", NULL},
        {"publish", "orders", "order.created", "{\"id\": 42}", "--id",
         "order-42", "--header", "source=web", NULL},
        {"publish", "orders", "order.created", "{\"id\": 42}", "--id",
         "order-42", NULL},
        {"publish", "orders", "order.paid", "{\"id\": 42}", NULL},
        {"consume", "orders", "billing", "--count", "2", NULL},
        {"consume", "orders", "audit", "--wait", "2s", NULL},
        {"queue", "info", "orders", NULL},
        {"sub", "list", "orders", NULL},
        {"--json", "status", NULL},
    };
    for (size_t i = 0; i < sizeof tour / sizeof tour[0]; i++) {
        if (mqctl(c, out, sizeof out, tour[i]) != 0) {
            fail_msg("mqctl %s %s: %s", tour[i][0], tour[i][1], out);
        }
        if (i == 4) {
            assert_non_null(strstr(out, "duplicate"));
        }
    }
    assert_non_null(strstr(out, "\"auth\":\"on\""));

    /* No key, a wrong one: refused, and nothing changes. */
    char *no_key[] = {"--token=", "queue", "delete", "orders", NULL};
    assert_int_equal(mqctl(c, out, sizeof out, no_key), 1);
    assert_non_null(strstr(out, "carries no key"));
    char *wrong[] = {"--token", "tour-bootstrap-secret-0123456789-abcdeX",
                     "queue",   "purge",
                     "orders",  NULL};
    assert_int_equal(mqctl(c, out, sizeof out, wrong), 1);
    assert_non_null(strstr(out, "key admin: wrong secret"));
    assert_null(strstr(out, "abcdeX"));
    char *not_a_token[] = {"--token=mqk_admin_nothex", "status", NULL};
    assert_int_equal(mqctl(c, out, sizeof out, not_a_token), 1);
    assert_non_null(strstr(out, "is not mqk_<key name>_<64 hex digits>"));
    char *status_no_key[] = {"--token=", "status", NULL};
    assert_int_equal(mqctl(c, out, sizeof out, status_no_key), 1);
    char *info[] = {"--json", "queue", "info", "orders", NULL};
    assert_int_equal(mqctl(c, out, sizeof out, info), 0);
    assert_non_null(strstr(out, "\"messages\":2"));

    /* A key made now works at once, on every node. */
    char *create[] = {
        "key",     "create",          "svc", "--allow", "default:publish",
        "--allow", "default:consume", NULL};
    assert_int_equal(mqctl(c, out, sizeof out, create), 0);
    char *t = strstr(out, "token: ");
    assert_non_null(t);
    sscanf(t + 7, "%255s", token);
    assert_int_equal(strncmp(token, "mqk_svc_", 8), 0);
    for (int i = 0; i < c->n; i++) {
        char *read[] = {"-s",         c->nodes[i].client_url,
                        "--token",    token,
                        "--any-node", "read",
                        "orders",     NULL};
        /* cluster_mqctlv puts -s first; this one wins as the later. */
        if (mqctl(c, out, sizeof out, read) != 0) {
            fail_msg("read on node %d: %s", i + 1, out);
        }
    }
    char *svc_delete[] = {"--token", token, "queue", "delete", "orders", NULL};
    assert_int_equal(mqctl(c, out, sizeof out, svc_delete), 1);
    assert_non_null(strstr(out, "may not manage in namespace default"));

    /* A follower killed and restarted keeps refusing and accepting. */
    int leader = cluster_wait_leader(c, 10000);
    int f = (leader + 1) % c->n;
    cluster_signal(c, f, SIGKILL);
    assert_int_equal(cluster_restart(c, f), 0);
    uint64_t end = test_now_ms() + 20000;
    char *on_f[] = {
        "-s", c->nodes[f].client_url, "--any-node", "read", "orders", NULL};
    while (mqctl(c, out, sizeof out, on_f) != 0 && test_now_ms() < end) {
        test_sleep_ms(100);
    }
    assert_int_equal(mqctl(c, out, sizeof out, on_f), 0);
    char *on_f_no_key[] = {"-s",       c->nodes[f].client_url,
                           "--token=", "--any-node",
                           "read",     "orders",
                           NULL};
    assert_int_equal(mqctl(c, out, sizeof out, on_f_no_key), 1);
    assert_non_null(strstr(out, "carries no key"));

    /* A node started with join asks with the bootstrap secret of its
     * auth_bootstrap_key_file, and becomes a voter. */
    int fresh = cluster_add_node(c, 4);
    assert_true(fresh >= 0);
    mq_client *admin = cluster_client(c);
    int voter = 0;
    end = test_now_ms() + 30000;
    while (!voter && test_now_ms() < end) {
        mq_member *m = NULL;
        size_t n = 0;
        if (mq_members(admin, &m, &n, 2000) == MQ_OK) {
            for (size_t k = 0; k < n; k++) {
                voter |= m[k].id == 4 && strcmp(m[k].role, "voter") == 0;
            }
        }
        mq_members_free(m);
        if (!voter) {
            test_sleep_ms(200);
        }
    }
    mq_client_close(admin);
    assert_true(voter);
    char *on_new[] = {
        "-s", c->nodes[fresh].client_url, "--any-node", "read", "orders", NULL};
    end = test_now_ms() + 10000;
    while (mqctl(c, out, sizeof out, on_new) != 0 && test_now_ms() < end) {
        test_sleep_ms(100);
    }
    assert_int_equal(mqctl(c, out, sizeof out, on_new), 0);

    /* A node whose bootstrap secret is not the cluster's is refused, stops
     * asking and says so; added with mqctl node add, it gets in. */
    char main_file[sizeof c->auth_file];
    snprintf(main_file, sizeof main_file, "%s", c->auth_file);
    snprintf(c->auth_file, sizeof c->auth_file, "%s/other.key", c->root);
    FILE *kf = fopen(c->auth_file, "w");
    assert_non_null(kf);
    fputs("another-bootstrap-secret-0123456789-xyz\n", kf);
    fclose(kf);
    int stray = cluster_add_node(c, 5);
    snprintf(c->auth_file, sizeof c->auth_file, "%s", main_file);
    assert_true(stray >= 0);
    end = test_now_ms() + 20000;
    while (!cluster_log_has(c, stray, "refuses node 5's request to join") &&
           test_now_ms() < end) {
        test_sleep_ms(100);
    }
    assert_true(cluster_log_has(c, stray, "refuses node 5's request to join"));
    char *add[] = {
        "--timeout", "60s", "node", "add", "5", c->nodes[stray].peer_url, NULL};
    if (mqctl(c, out, sizeof out, add) != 0) {
        fail_msg("node add 5: %s", out);
    }

    /* Audit lines: the changes on the leader, the refusals where made. */
    int changes = 0, refusals = 0;
    for (int i = 0; i < c->n; i++) {
        changes += cluster_log_count(c, i,
                                     "audit: queue create: key=admin "
                                     "verb=manage target=default/orders");
        changes += cluster_log_count(c, i,
                                     "audit: key create: key=admin "
                                     "verb=admin target=key svc");
        refusals += cluster_log_count(c, i,
                                      "audit: refused queue delete: "
                                      "key=svc verb=manage");
        refusals += cluster_log_count(c, i,
                                      "audit: refused queue purge: "
                                      "key=admin");
    }
    assert_int_equal(changes, 2);
    assert_int_equal(refusals, 2);

    /* Neither secret is stored or logged anywhere. */
    assert_true(cluster_log_has(c, 0, "bootstrap key admin") ||
                cluster_log_has(c, 1, "bootstrap key admin") ||
                cluster_log_has(c, 2, "bootstrap key admin"));
    /* The keys are in the snapshots (as hashes). */
    assert_true(found_under(c->nodes[leader].dir, "MQKEYS01", 8));
    assert_nowhere(c, secret);
    assert_nowhere(c, token);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tour_with_an_admin_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
