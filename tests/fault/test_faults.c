/* test_faults.c: three mqd nodes in network namespaces of their own, under
 * a workload of producers and consumers (workload.h), while faults are
 * injected on a schedule: the leader cut off from the majority, a 1/2 split
 * with the leader on the minority side and a 2/1 split with it on the
 * majority side, kill -9 of the leader, of a follower and of all three,
 * SIGSTOP of the leader for longer than the election timeout, and power
 * losses of the leader and of all three (the nodes' data dirs are mounts
 * of volatilefs, which keeps writes in its memory until they are synced:
 * a power loss is kill -9 of the node and of its file system). After the
 * last fault the nodes heal, the subscription is drained and the checker
 * (checker.h) fails the test on any acknowledged publish lost, any value
 * delivered and never consumed (no ack of it returned OK), any value
 * delivered that was never published, any seq carrying two values or a
 * value under a seq other than its publish's, and any publish that failed
 * with a definite error but was delivered; it prints a line per fault and
 * totals. A node that exits by itself, or a schedule whose faults made no
 * node install a snapshot, fails the test too.
 *
 *   test_faults [--short]        each fault once, about a minute (CI)
 *   test_faults --long [--rounds N] [--seed S]
 *                                N rounds (default 10) of every fault in a
 *                                shuffled order with random durations
 *   test_faults --failover N     kill -9 the leader N times under one
 *                                producer; prints the time from each kill to
 *                                the first successful publish started after
 *                                it, then the median and the worst
 *   test_faults --damage N       N times: kill -9 one node (any), damage
 *                                its data files (damage.h), start it again;
 *                                the nodes run with auto_repair, and the
 *                                cluster must be back at full strength
 *                                (three voters, caught up) without help
 *   --election-ms MS             the nodes' election timeout (default 600,
 *                                heartbeat a tenth of it)
 *
 * Not a cmocka test: one scenario with a report. Exit code 0 pass, 1 fail,
 * 77 skipped (not root, or namespaces cannot be made here; with
 * MQ_REQUIRE_FAULT_TESTS=1 in the environment, as in CI, that is a failure
 * instead). Needs iproute2 and nftables (deploy/deps.sh). Logs are kept
 * when it fails. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checker.h"
#include "cluster.h"
#include "damage.h"
#include "datadir.h"
#include "netns.h"
#include "workload.h"

#define N_NODES 3
#define MAX_FAULTS 512
#define SKIP 77
#define SNAPSHOT_EVERY 1024
#define SNAPSHOT_TRAILING 32

enum fault_kind {
    ISOLATE_LEADER, /* the leader alone, the other two together */
    SPLIT_LEADER_MINORITY,
    SPLIT_LEADER_MAJORITY,
    KILL_LEADER,
    KILL_FOLLOWER,
    KILL_ALL,
    PAUSE_LEADER,
    POWER_LEADER, /* kill -9 and drop what it did not sync */
    POWER_ALL,
    N_KINDS,
    DAMAGE_NODE = N_KINDS, /* --damage only */
};

static const char *const kind_names[N_KINDS + 1] = {
    "isolate-leader", "split-1/2-leader-min", "split-2/1-leader-maj",
    "kill-9-leader",  "kill-9-follower",      "kill-9-all",
    "sigstop-leader", "power-loss-leader",    "power-loss-all",
    "damage-node",
};

struct env {
    struct netns nn;
    struct cluster c;
    struct workload w;
    struct fault_rec faults[MAX_FAULTS];
    size_t n_faults;
    int election_ms;
    int auto_repair; /* the nodes run with auto_repair 1 */
    int power;       /* data dirs on volatilefs: the power-loss faults */
    int anomaly;     /* something failed besides the checker's verdict */
    unsigned long long seed;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static uint64_t t0;

/* One progress line, stamped with seconds since the start. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    printf("[%7.1f s] ", (double)(test_now_ms() - t0) / 1000.0);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Paces the schedule (never waits for a state); cut short by SIGINT. */
static void pace(int ms)
{
    uint64_t end = test_now_ms() + (uint64_t)ms;
    while (!interrupted && test_now_ms() < end) {
        uint64_t left = end - test_now_ms();
        test_sleep_ms(left < 50 ? (int)left : 50);
    }
}

static unsigned long long rnd(struct env *e)
{
    /* xorshift64*: reproducible with --seed */
    e->seed ^= e->seed >> 12;
    e->seed ^= e->seed << 25;
    e->seed ^= e->seed >> 27;
    return e->seed * 2685821657736338717ULL;
}

static int rnd_between(struct env *e, int lo, int hi)
{
    return lo + (int)(rnd(e) % (unsigned long long)(hi - lo + 1));
}

/* A node that ended without being told to is a crash: recorded, and the
 * test fails. */
static void check_alive(struct env *e)
{
    for (int i = 0; i < e->c.n; i++) {
        if (e->c.nodes[i].pid > 0) {
            int st = cluster_wait_exit(&e->c, i, 0);
            if (st >= 0) {
                say("ANOMALY: node n%d exited by itself with status %d", i + 1,
                    st);
                e->anomaly = 1;
                cluster_restart(&e->c, i);
            }
        }
    }
}

/* Kills node @i with SIGKILL and reaps it. A node that had already ended by
 * itself (in the instant since check_alive looked) is not the fault's
 * doing: its exit status says so, and it is recorded as a crash. */
static void kill_node(struct env *e, int i)
{
    cluster_signal(&e->c, i, SIGKILL);
    if (e->c.nodes[i].exit_status != 128 + SIGKILL) {
        say("ANOMALY: node n%d had exited by itself with status %d before "
            "the kill",
            i + 1, e->c.nodes[i].exit_status);
        e->anomaly = 1;
    }
}

/* Waits until every node runs, a leader answers and every node has
 * applied its commit index. Returns the leader's index (*term set), or -1
 * after @timeout_ms. */
static int wait_steady(struct env *e, int timeout_ms, uint64_t *term)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    int leader = -1;

    check_alive(e);
    if (cluster_settle(&e->c, timeout_ms) != 0) {
        return -1;
    }
    /* The monitors see the leader within a few of their polls. */
    while (!interrupted && test_now_ms() < end &&
           (leader = workload_leader(&e->w, term)) < 0) {
        test_sleep_ms(20);
    }
    return leader;
}

/* Waits until a publish started at or after @from_ms succeeded. Returns 0,
 * or -1 after @timeout_ms. */
static int wait_publish_ok(struct env *e, uint64_t from_ms, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;

    workload_probe(&e->w, from_ms);
    while (!interrupted && workload_probe_end(&e->w) == 0) {
        if (test_now_ms() >= end) {
            return -1;
        }
        test_sleep_ms(10);
    }
    return interrupted ? -1 : 0;
}

static int follower_of(struct env *e, int leader)
{
    int f = (leader + 1 + (int)(rnd(e) % (N_NODES - 1))) % N_NODES;
    return f == leader ? (leader + 1) % N_NODES : f;
}

static void partition_alone(struct env *e, int alone)
{
    int side[N_NODES] = {0};
    side[alone] = 1;
    if (netns_partition(&e->nn, side) != 0) {
        e->anomaly = 1;
    }
}

/* Records the start of a fault of @kind with @leader leading: the next
 * record, which also ends the one before. */
static struct fault_rec *fault_begin(struct env *e, enum fault_kind kind,
                                     int leader)
{
    struct fault_rec *f = &e->faults[e->n_faults];
    memset(f, 0, sizeof *f);
    f->kind = kind_names[kind];
    f->leader_before = leader;
    f->election_ms = -1;
    f->start_ms = test_now_ms();
    if (e->n_faults > 0) {
        e->faults[e->n_faults - 1].end_ms = f->start_ms;
    }
    e->n_faults++;
    return f;
}

/* Injects one fault of @kind held @hold_ms, heals it, and waits until
 * publishing works again; then lets the load run @after_ms. Returns 0, or
 * -1 if the cluster did not come back (the test fails). */
static int run_fault(struct env *e, enum fault_kind kind, int hold_ms,
                     int after_ms)
{
    struct fault_rec *f;
    uint64_t term = 0, elected;
    int leader, victim, node = -1;

    if (e->n_faults == MAX_FAULTS) {
        return -1;
    }
    leader = wait_steady(e, 30000, &term);
    if (leader < 0) {
        say("ANOMALY: no steady leader before %s", kind_names[kind]);
        e->anomaly = 1;
        return -1;
    }
    /* Right before the fault: a node that crashed by itself since the
     * wait must not pass for one the fault stopped. */
    check_alive(e);
    f = fault_begin(e, kind, leader);
    victim = kind == KILL_FOLLOWER || kind == SPLIT_LEADER_MAJORITY
                 ? follower_of(e, leader)
                 : leader;
    switch (kind) {
    case ISOLATE_LEADER:
    case SPLIT_LEADER_MINORITY:
    case SPLIT_LEADER_MAJORITY:
        say("%s: n%d cut off from the others for %d ms (term %llu)", f->kind,
            victim + 1, hold_ms, (unsigned long long)term);
        partition_alone(e, victim);
        pace(hold_ms);
        if (netns_heal(&e->nn) != 0) {
            e->anomaly = 1;
        }
        break;
    case KILL_LEADER:
    case KILL_FOLLOWER:
        say("%s: kill -9 n%d, restart after %d ms (term %llu)", f->kind,
            victim + 1, hold_ms, (unsigned long long)term);
        kill_node(e, victim);
        pace(hold_ms);
        cluster_restart(&e->c, victim);
        break;
    case KILL_ALL:
        say("%s: kill -9 every node, restart after %d ms (term %llu)", f->kind,
            hold_ms, (unsigned long long)term);
        for (int i = 0; i < N_NODES; i++) {
            kill(e->c.nodes[i].pid, SIGKILL); /* all at once */
        }
        for (int i = 0; i < N_NODES; i++) {
            kill_node(e, i); /* reaps it */
        }
        pace(hold_ms);
        for (int i = 0; i < N_NODES; i++) {
            cluster_restart(&e->c, i);
        }
        break;
    case POWER_LEADER:
        say("%s: n%d loses power (kill -9, unsynced writes dropped), "
            "restart after %d ms (term %llu)",
            f->kind, victim + 1, hold_ms, (unsigned long long)term);
        kill_node(e, victim);
        if (cluster_power_cut(&e->c, victim) != 0) {
            e->anomaly = 1;
        }
        pace(hold_ms);
        cluster_restart(&e->c, victim);
        break;
    case POWER_ALL:
        say("%s: every node loses power at once (kill -9, unsynced writes "
            "dropped), restart after %d ms (term %llu)",
            f->kind, hold_ms, (unsigned long long)term);
        for (int i = 0; i < N_NODES; i++) {
            kill(e->c.nodes[i].pid, SIGKILL); /* all at once */
        }
        for (int i = 0; i < N_NODES; i++) {
            kill_node(e, i); /* reaps it */
            if (cluster_power_cut(&e->c, i) != 0) {
                e->anomaly = 1;
            }
        }
        pace(hold_ms);
        for (int i = 0; i < N_NODES; i++) {
            cluster_restart(&e->c, i);
        }
        break;
    default:
        say("%s: SIGSTOP n%d for %d ms (term %llu)", f->kind, victim + 1,
            hold_ms, (unsigned long long)term);
        kill(e->c.nodes[victim].pid, SIGSTOP);
        pace(hold_ms);
        kill(e->c.nodes[victim].pid, SIGCONT);
        break;
    }
    f->heal_ms = test_now_ms();
    if (wait_publish_ok(e, f->heal_ms, 30000) != 0) {
        say("ANOMALY: no successful publish within 30 s after %s healed",
            f->kind);
        e->anomaly = 1;
        return -1;
    }
    pace(after_ms);
    f->leader_after = workload_leader(&e->w, NULL);
    elected = workload_elected(&e->w, f->start_ms, term, &node);
    if (elected != 0) {
        f->election_ms = (int64_t)(elected - f->start_ms);
    }
    say("%s: healed after %llu ms; leader n%d -> n%d, %s%lld ms", f->kind,
        (unsigned long long)(f->heal_ms - f->start_ms), f->leader_before + 1,
        f->leader_after + 1, elected ? "new term's leader after " : "no new ",
        elected ? (long long)f->election_ms : 0LL);
    return 0;
}

static void shuffle(struct env *e, int *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rnd(e) % (unsigned long long)(i + 1));
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* The schedules. Hold times are several election timeouts, so that every
 * partition and pause outlasts an election. */
static int schedule_short(struct env *e)
{
    int et = e->election_ms;
    for (int k = 0; k < N_KINDS && !interrupted; k++) {
        int hold = k == KILL_ALL || k == POWER_ALL ? 1000 : 5 * et + 1000;
        if (run_fault(e, (enum fault_kind)k, hold, 2000) != 0) {
            return -1;
        }
    }
    return 0;
}

static int schedule_long(struct env *e, int rounds)
{
    int et = e->election_ms;
    for (int r = 0; r < rounds && !interrupted; r++) {
        int order[N_KINDS];
        for (int k = 0; k < N_KINDS; k++) {
            order[k] = k;
        }
        shuffle(e, order, N_KINDS);
        say("round %d of %d", r + 1, rounds);
        for (int k = 0; k < N_KINDS && !interrupted; k++) {
            int all = order[k] == KILL_ALL || order[k] == POWER_ALL;
            int hold =
                all ? rnd_between(e, 200, 3000) : rnd_between(e, et, 10 * et);
            if (run_fault(e, (enum fault_kind)order[k], hold,
                          rnd_between(e, 500, 3000)) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* kill -9 one node, damage its files, start it again: it repairs them and
 * the cluster comes back at full strength by itself. */
static int schedule_damage(struct env *e, int rounds)
{
    for (int r = 0; r < rounds && !interrupted; r++) {
        uint64_t term = 0;
        char what[256];
        int leader = wait_steady(e, 30000, &term);
        if (leader < 0) {
            say("ANOMALY: no steady leader before damage %d", r + 1);
            e->anomaly = 1;
            return -1;
        }
        if (e->n_faults == MAX_FAULTS) {
            return -1;
        }
        pace(rnd_between(e, 500, 2000)); /* the load writes a while */
        int victim = (int)(rnd(e) % N_NODES);
        struct fault_rec *f = fault_begin(e, DAMAGE_NODE, leader);
        cluster_signal(&e->c, victim, SIGKILL);
        if (damage_node(&e->c, victim, rnd(e), what, sizeof what) != 0) {
            snprintf(what, sizeof what, "nothing to damage");
        }
        say("damage %d: n%d%s killed; %s; restarting it", r + 1, victim + 1,
            victim == leader ? " (the leader)" : "", what);
        long mark = datadir_log_mark(&e->c, victim);
        cluster_restart(&e->c, victim);
        f->heal_ms = test_now_ms();
        if (datadir_full_strength(&e->c, N_NODES, 90000) != 0) {
            say("ANOMALY: not back at full strength within 90 s after "
                "damage %d",
                r + 1);
            e->anomaly = 1;
            return -1;
        }
        if (!damage_noticed(&e->c, victim, mark)) {
            say("ANOMALY: n%d did not say it found the damage", victim + 1);
            e->anomaly = 1;
        }
        if (wait_publish_ok(e, f->heal_ms, 30000) != 0) {
            say("ANOMALY: no successful publish within 30 s after damage %d",
                r + 1);
            e->anomaly = 1;
            return -1;
        }
        f->leader_after = workload_leader(&e->w, NULL);
        say("damage %d: three voters again, caught up, %llu ms after the "
            "restart",
            r + 1, (unsigned long long)(test_now_ms() - f->heal_ms));
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median of the @n sorted values of @v (the mean of the middle two when
 * @n is even). */
static unsigned long long median(const uint64_t *v, int n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* kill -9 the leader @n times; prints the time from each kill to the
 * first successful publish started after it. */
static int schedule_failover(struct env *e, int n)
{
    uint64_t took[MAX_FAULTS], elect[MAX_FAULTS], client[MAX_FAULTS];
    int done = 0, not_counted = 0;

    for (int i = 0; i < n && i < MAX_FAULTS && !interrupted; i++) {
        uint64_t term = 0, kill_ms, end_ms = 0, elected;
        if (e->n_faults == MAX_FAULTS) {
            break;
        }
        int leader = wait_steady(e, 30000, &term);
        if (leader < 0) {
            say("ANOMALY: no steady leader before kill %d", i + 1);
            e->anomaly = 1;
            return -1;
        }
        pace(1000); /* the load runs through the leader a while */
        check_alive(e);
        struct fault_rec *f = fault_begin(e, KILL_LEADER, leader);
        /* The clock starts once the leader is dead (kill_node reaps it): a
         * publish started just before that, in the instant between reading
         * the clock and the signal landing, may still be answered by the
         * old leader and is not a failover. */
        kill_node(e, leader);
        kill_ms = test_now_ms();
        workload_probe(&e->w, kill_ms);
        while (!interrupted && (end_ms = workload_probe_end(&e->w)) == 0 &&
               test_now_ms() < kill_ms + 30000) {
            test_sleep_ms(2);
        }
        f->heal_ms = test_now_ms();
        cluster_restart(&e->c, leader);
        if (end_ms == 0) {
            say("ANOMALY: no successful publish within 30 s of kill %d", i + 1);
            e->anomaly = 1;
            return -1;
        }
        elected = workload_elected(&e->w, kill_ms, term, NULL);
        f->election_ms = elected ? (int64_t)(elected - kill_ms) : -1;
        f->leader_after = workload_leader(&e->w, NULL);
        if (!elected) {
            /* No new term: leadership had moved between the check and the
             * kill, so a follower was killed. Not a sample; kill again. (Or
             * no new leader yet, should a publish succeed without one.) */
            say("kill %d: n%d was no longer the leader when killed (no new "
                "term followed): not counted",
                i + 1, leader + 1);
            if (++not_counted > n) {
                say("ANOMALY: %d kills missed the leader", not_counted);
                e->anomaly = 1;
                return -1;
            }
            i--;
            continue;
        }
        took[done] = end_ms - kill_ms;
        elect[done] = elected - kill_ms;
        /* What the client adds: from the new leader's first answer to the
         * publish's success. */
        client[done] = end_ms > elected ? end_ms - elected : 0;
        done++;
        say("kill %d: n%d killed; first successful publish after %llu ms, "
            "new leader answered after %lld ms",
            i + 1, leader + 1, (unsigned long long)(end_ms - kill_ms),
            (long long)f->election_ms);
    }
    if (done == 0) {
        return -1;
    }
    qsort(took, (size_t)done, sizeof took[0], cmp_u64);
    qsort(elect, (size_t)done, sizeof elect[0], cmp_u64);
    qsort(client, (size_t)done, sizeof client[0], cmp_u64);
    printf("\nfailover over %d kills, election timeout %d ms (median / "
           "worst / best):\n"
           "  kill -9 of the leader to the first successful publish: "
           "%llu / %llu / %llu ms\n"
           "  kill -9 to a new leader's first status answer:        "
           "%llu / %llu / %llu ms\n"
           "  that answer to the publish's success:                 "
           "%llu / %llu / %llu ms\n",
           done, e->election_ms, median(took, done),
           (unsigned long long)took[done - 1], (unsigned long long)took[0],
           median(elect, done), (unsigned long long)elect[done - 1],
           (unsigned long long)elect[0], median(client, done),
           (unsigned long long)client[done - 1], (unsigned long long)client[0]);
    return 0;
}

/* Each node's pid must be mqd's, so that signals reach it. */
static int check_pids(struct env *e)
{
    for (int i = 0; i < N_NODES; i++) {
        char path[64], comm[64] = "";
        FILE *f;
        snprintf(path, sizeof path, "/proc/%d/comm", (int)e->c.nodes[i].pid);
        f = fopen(path, "r");
        if (f != NULL) {
            if (fgets(comm, sizeof comm, f) == NULL) {
                comm[0] = '\0';
            }
            fclose(f);
        }
        if (strncmp(comm, "mqd", 3) != 0) {
            fprintf(stderr, "faults: node %d's pid %d is \"%s\", not mqd\n",
                    i + 1, (int)e->c.nodes[i].pid, comm);
            return -1;
        }
    }
    return 0;
}

static int start_cluster(struct env *e)
{
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    char extra[256];

    /* Later flags win: these replace the harness's 600 / 60. A snapshot
     * every SNAPSHOT_EVERY entries (about a second of the load) with
     * SNAPSHOT_TRAILING entries kept behind it, so that a node cut off or
     * down for a fault's hold time falls behind the leader's log and is
     * sent a snapshot (finish() requires at least one install), and a
     * restart loads few entries: libraft 0.15 grows the array of loaded
     * entries one batch at a time, which is quadratic where realloc copies
     * (AddressSanitizer's does: a restart after 15,000 entries took 46 s
     * there, and the schedule's waits ran out). */
    snprintf(extra, sizeof extra,
             "--election_timeout_ms %d --heartbeat_timeout_ms %d "
             "--snapshot_threshold %d --snapshot_trailing %d%s",
             e->election_ms, e->election_ms / 10, SNAPSHOT_EVERY,
             SNAPSHOT_TRAILING, e->auto_repair ? " --auto_repair 1" : "");
    o.extra = extra;
    o.client_port = 7001;
    o.peer_port = 7101;
    o.die_with_test = 1;
    o.volatile_fs = e->power;
    for (int i = 0; i < N_NODES; i++) {
        o.host[i] = e->nn.addr[i];
        o.launcher[i] = e->nn.launcher[i];
    }
    if (cluster_start_opts(&e->c, N_NODES, &o) != 0) {
        return -1;
    }
    return check_pids(e);
}

static int start_workload(struct env *e, int producers, int consumers,
                          uint32_t publish_timeout_ms)
{
    struct workload *w = &e->w;

    w->urls = e->c.urls;
    w->n_nodes = N_NODES;
    for (int i = 0; i < N_NODES; i++) {
        w->node_urls[i] = e->c.nodes[i].client_url;
    }
    w->queue = "faults";
    w->sub = "checker";
    w->n_producers = producers;
    w->n_consumers = consumers;
    w->publish_timeout_ms = publish_timeout_ms;
    w->max_values = (size_t)1 << 22;
    /* Ack timeout 2 s: a delivery whose ack was lost comes again soon. */
    if (workload_start(w, 2000) != 0) {
        return -1;
    }
    t0 = w->t0;
    /* Warm up: the load runs before the first fault. */
    if (wait_publish_ok(e, w->t0, 20000) != 0) {
        fprintf(stderr, "faults: no successful publish within 20 s\n");
        return -1;
    }
    pace(1000);
    return 0;
}

/* Counts the snapshots the nodes installed from a leader (their logs) and
 * prints them. */
static int count_installs(struct env *e)
{
    int n[N_NODES], total = 0;

    for (int i = 0; i < N_NODES; i++) {
        n[i] = cluster_snapshot_installs(&e->c, i);
        total += n[i];
    }
    say("snapshot installs: n1 %d, n2 %d, n3 %d", n[0], n[1], n[2]);
    return total;
}

/* After the schedule: the load runs on a moment, the producers stop, the
 * consumers drain the subscription; then the verdict. @need_install: the
 * schedule's faults must have made at least one node install a snapshot
 * (the faults are to meet installs; without one, they did not). Returns 0
 * if the checker passes. */
static int finish(struct env *e, int need_install)
{
    struct verdict v;
    int drained;

    check_alive(e);
    pace(1000);
    workload_stop_producers(&e->w);
    if (e->n_faults > 0) {
        e->faults[e->n_faults - 1].end_ms = test_now_ms();
    }
    say("producers stopped; draining");
    if (wait_steady(e, 60000, NULL) < 0) {
        say("ANOMALY: no steady leader after the faults");
        e->anomaly = 1;
    }
    drained = checker_drain(&e->w, 60000) == 0;
    workload_stop(&e->w);
    checker_faults(&e->w, e->faults, e->n_faults);
    checker_verdict(&e->w, drained, &v);
    for (int i = 0; i < e->w.n_consumers; i++) {
        say("consumer %d: %llu failed fetches, %llu failed acks", i + 1,
            (unsigned long long)e->w.cons[i].fetch_errors,
            (unsigned long long)e->w.cons[i].ack_errors);
    }
    checker_report(stdout, &e->w, e->faults, e->n_faults, &v);
    if (count_installs(e) == 0 && need_install) {
        say("ANOMALY: no node installed a snapshot: the faults never met a "
            "snapshot install");
        e->anomaly = 1;
    }
    if (e->anomaly) {
        printf("anomalies above (ANOMALY lines): the test fails\n");
    }
    fflush(stdout);
    return v.pass && !e->anomaly ? 0 : -1;
}

/* The test cannot run here: a skip (exit 77), or a failure where the
 * fault tests are required (MQ_REQUIRE_FAULT_TESTS=1, as CI sets: it runs
 * as root, and a skip there would hide that they never ran). */
static int skip(const char *why)
{
    const char *req = getenv("MQ_REQUIRE_FAULT_TESTS");

    if (req != NULL && strcmp(req, "1") == 0) {
        printf("FAILED: the fault tests cannot run here, and "
               "MQ_REQUIRE_FAULT_TESTS=1 requires them: %s\n",
               why);
        return 1;
    }
    printf("SKIPPED: %s\n", why);
    return SKIP;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--short | --long [--rounds N] [--seed S] | "
            "--failover N | --damage N [--seed S]] [--election-ms MS]\n",
            prog);
    return 2;
}

int main(int argc, char **argv)
{
    static struct env e;
    const char *why;
    char err[1024];
    int mode = 0, rounds = 10, kills = 20, rv;
    struct sigaction sa;

    e.election_ms = 600;
    e.seed = (unsigned long long)time(NULL) * 2654435761ULL + 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--short") == 0) {
            mode = 0;
        } else if (strcmp(argv[i], "--long") == 0) {
            mode = 1;
        } else if (strcmp(argv[i], "--failover") == 0 && i + 1 < argc) {
            mode = 2;
            kills = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--damage") == 0 && i + 1 < argc) {
            mode = 3;
            rounds = atoi(argv[++i]);
            e.auto_repair = 1;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            e.seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--election-ms") == 0 && i + 1 < argc) {
            e.election_ms = atoi(argv[++i]);
        } else {
            return usage(argv[0]);
        }
    }
    /* The schedules with power cuts run the nodes on volatilefs. */
    e.power = mode == 0 || mode == 1;
    if (kills < 1 || rounds < 1 || e.election_ms < 100 || e.seed == 0) {
        return usage(argv[0]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if ((why = netns_unavailable()) != NULL) {
        return skip(why);
    }
    if (e.power && access("/dev/fuse", R_OK | W_OK) != 0) {
        return skip("the power-loss faults mount volatilefs, and /dev/fuse "
                    "cannot be opened here (the fuse module is not loaded)");
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    t0 = test_now_ms();
    if (netns_setup(&e.nn, N_NODES, err, sizeof err) != 0) {
        netns_teardown(&e.nn);
        char why2[1100];
        snprintf(why2, sizeof why2, "cannot make network namespaces here: %s",
                 err);
        return skip(why2);
    }
    printf("namespaces %s..%s on 10.200.%d.0/24, seed %llu\n", e.nn.ns[0],
           e.nn.ns[N_NODES - 1], e.nn.subnet, e.seed);
    rv = -1;
    if (start_cluster(&e) == 0 &&
        start_workload(&e, mode == 2 ? 1 : 4, mode == 2 ? 1 : 2,
                       mode == 2 ? 30000 : 1000) == 0) {
        int sched = mode == 0   ? schedule_short(&e)
                    : mode == 1 ? schedule_long(&e, rounds)
                    : mode == 3 ? schedule_damage(&e, rounds)
                                : schedule_failover(&e, kills);
        if (sched != 0 || interrupted) {
            e.anomaly = 1;
            if (netns_heal(&e.nn) != 0) {
                e.anomaly = 1;
            }
            for (int i = 0; i < N_NODES; i++) {
                if (e.c.nodes[i].pid > 0) {
                    kill(e.c.nodes[i].pid, SIGCONT);
                }
            }
        }
        rv = finish(&e, mode != 2);
    }
    workload_stop(&e.w);
    workload_free(&e.w);
    if (rv != 0) {
        cluster_fail(&e.c);
    }
    if (cluster_stop(&e.c) != 0) {
        rv = -1;
    }
    netns_teardown(&e.nn);
    printf("%s\n", rv == 0 ? "PASSED" : "FAILED");
    return rv == 0 ? 0 : 1;
}
