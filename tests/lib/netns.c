/* netns.c: namespaces, bridge and partitions for the fault tests (see
 * netns.h). Every change runs `ip` or `nft` as a child process, with its
 * output captured for the error message.
 *
 * Happy path: setup makes the hub with its bridge, the root namespace's
 * veth into it, then each node namespace with its veth, address and an
 * nftables table whose input chain is empty; partition fills the chains,
 * heal empties them; teardown deletes the namespaces (their veths go with
 * them) and the root veth if it is still there.
 *
 * Failure modes: a command that fails stops setup with its output in @why;
 * teardown keeps going past failures, so that it removes all it can. */
#include "netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"

#define NFT_TABLE "inet mqfault"

/* Runs the command given as a NULL-terminated list of words. Returns 0, or
 * -1 with "<command>: <its output>" in @why. */
static int run(char *why, size_t whylen, const char *arg0, ...)
{
    char *argv[32];
    char out[1024];
    int k = 0;
    va_list ap;

    argv[k++] = (char *)arg0;
    va_start(ap, arg0);
    while (k < 31 && (argv[k] = va_arg(ap, char *)) != NULL) {
        k++;
    }
    va_end(ap);
    argv[k] = NULL;
    if (test_run(argv, out, sizeof out) == 0) {
        return 0;
    }
    size_t n = 0;
    for (int i = 0; i < k && n + 1 < whylen; i++) {
        n += (size_t)snprintf(why + n, whylen - n, "%s%s", i ? " " : "",
                              argv[i]);
    }
    out[strcspn(out, "\n")] = '\0';
    if (n + 1 < whylen) {
        snprintf(why + n, whylen - n, ": %s", out[0] ? out : "failed");
    }
    return -1;
}

const char *netns_unavailable(void)
{
    char out[256];
    char *ip[] = {"ip", "netns", "list", NULL};
    char *nft[] = {"nft", "--version", NULL};

    if (geteuid() != 0) {
        return "network namespaces need root; run as root (sudo ctest -L "
               "fault) to run the fault tests";
    }
    if (test_run(ip, out, sizeof out) != 0) {
        return "`ip netns list` fails: install iproute2 (deploy/deps.sh) "
               "and run where network namespaces may be made";
    }
    if (test_run(nft, out, sizeof out) != 0) {
        return "`nft` is missing: install nftables (deploy/deps.sh)";
    }
    return NULL;
}

/* The pid in a name "mqf<pid><suffix>", or -1. */
static long owner_of(const char *name, const char **suffix)
{
    char *end;
    long pid;

    if (strncmp(name, "mqf", 3) != 0 || name[3] < '0' || name[3] > '9') {
        return -1;
    }
    pid = strtol(name + 3, &end, 10);
    *suffix = end;
    return pid > 0 ? pid : -1;
}

static int gone(long pid)
{
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes namespaces and root veths that runs of this harness left behind
 * when they were killed (their pid no longer exists). */
static void sweep_leftovers(void)
{
    char why[512];
    DIR *d = opendir("/run/netns");
    struct dirent *e;
    struct if_nameindex *ifs;
    const char *suffix;

    while (d != NULL && (e = readdir(d)) != NULL) {
        long pid = owner_of(e->d_name, &suffix);
        if (pid > 0 && gone(pid) &&
            (strcmp(suffix, "sw") == 0 ||
             (suffix[0] == 'n' && suffix[1] >= '1' && suffix[1] <= '9' &&
              suffix[2] == '\0'))) {
            fprintf(stderr, "netns: removing %s, left by process %ld\n",
                    e->d_name, pid);
            if (run(why, sizeof why, "ip", "netns", "del", e->d_name, NULL)) {
                fprintf(stderr, "netns: %s\n", why);
            }
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    ifs = if_nameindex();
    for (size_t i = 0; ifs != NULL && ifs[i].if_index != 0; i++) {
        long pid = owner_of(ifs[i].if_name, &suffix);
        if (pid > 0 && gone(pid) && strcmp(suffix, "h") == 0) {
            fprintf(stderr, "netns: removing %s, left by process %ld\n",
                    ifs[i].if_name, pid);
            run(why, sizeof why, "ip", "link", "del", ifs[i].if_name, NULL);
        }
    }
    if (ifs != NULL) {
        if_freenameindex(ifs);
    }
}

/* Whether a local address is in 10.200.@x.0/24. */
static int subnet_used(int x)
{
    struct ifaddrs *all, *a;
    int used = 0;

    if (getifaddrs(&all) != 0) {
        return 0;
    }
    for (a = all; a != NULL; a = a->ifa_next) {
        if (a->ifa_addr != NULL && a->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const void *)a->ifa_addr;
            uint32_t ip = ntohl(in->sin_addr.s_addr);
            if ((ip >> 8) == ((10u << 16) | (200u << 8) | (unsigned)x)) {
                used = 1;
            }
        }
    }
    freeifaddrs(all);
    return used;
}

static int setup_hub(struct netns *nn, char *why, size_t whylen)
{
    const char *hub = nn->hub;
    char cidr[32];
    int rv;

    if (run(why, whylen, "ip", "netns", "add", hub, NULL) != 0) {
        return -1;
    }
    nn->hub_made = 1;
    rv = run(why, whylen, "ip", "-n", hub, "link", "set", "lo", "up", NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "-n", hub, "link", "add", "br0", "type",
                  "bridge", NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "-n", hub, "link", "set", "br0", "up",
                  NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "link", "add", nn->host_if, "type", "veth",
                  "peer", "name", "host", "netns", hub, NULL);
    if (rv != 0) {
        return -1;
    }
    nn->host_if_made = 1;
    snprintf(cidr, sizeof cidr, "%s/24", nn->host_addr);
    rv = run(why, whylen, "ip", "-n", hub, "link", "set", "host", "master",
             "br0", "up", NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "addr", "add", cidr, "dev", nn->host_if,
                  NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "link", "set", nn->host_if, "up", NULL);
    return rv ? -1 : 0;
}

static int setup_node(struct netns *nn, int i, char *why, size_t whylen)
{
    const char *ns = nn->ns[i], *hub = nn->hub;
    char port[16], cidr[32];
    int rv;

    if (run(why, whylen, "ip", "netns", "add", ns, NULL) != 0) {
        return -1;
    }
    nn->ns_made[i] = 1;
    snprintf(port, sizeof port, "n%d", i + 1);
    snprintf(cidr, sizeof cidr, "%s/24", nn->addr[i]);
    rv = run(why, whylen, "ip", "-n", ns, "link", "set", "lo", "up", NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "-n", hub, "link", "add", port, "type",
                  "veth", "peer", "name", "eth0", "netns", ns, NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "-n", hub, "link", "set", port, "master",
                  "br0", "up", NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "-n", ns, "addr", "add", cidr, "dev",
                  "eth0", NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "-n", ns, "link", "set", "eth0", "up",
                  NULL);
    rv = rv ? rv
            : run(why, whylen, "ip", "netns", "exec", ns, "nft",
                  "add table " NFT_TABLE "; add chain " NFT_TABLE
                  " input { type filter hook input priority 0; "
                  "policy accept; }",
                  NULL);
    return rv ? -1 : 0;
}

int netns_setup(struct netns *nn, int n, char *why, size_t whylen)
{
    long pid = (long)getpid();
    int x = 0;

    memset(nn, 0, sizeof *nn);
    if (n < 1 || n > NETNS_MAX) {
        snprintf(why, whylen, "netns: %d nodes, 1..%d are allowed", n,
                 NETNS_MAX);
        return -1;
    }
    sweep_leftovers();
    for (int k = 0; k < 250 && x == 0; k++) {
        int cand = 1 + (int)((pid + k) % 250);
        x = subnet_used(cand) ? 0 : cand;
    }
    if (x == 0) {
        snprintf(why, whylen, "netns: every subnet 10.200.1-250.0/24 is used");
        return -1;
    }
    nn->n = n;
    nn->subnet = x;
    snprintf(nn->hub, sizeof nn->hub, "mqf%ldsw", pid);
    snprintf(nn->host_if, sizeof nn->host_if, "mqf%ldh", pid);
    snprintf(nn->host_addr, sizeof nn->host_addr, "10.200.%d.254", x);
    for (int i = 0; i < n; i++) {
        snprintf(nn->ns[i], sizeof nn->ns[i], "mqf%ldn%d", pid, i + 1);
        snprintf(nn->addr[i], sizeof nn->addr[i], "10.200.%d.%d", x, i + 1);
        snprintf(nn->launcher[i], sizeof nn->launcher[i], "ip netns exec %s",
                 nn->ns[i]);
    }
    if (setup_hub(nn, why, whylen) != 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (setup_node(nn, i, why, whylen) != 0) {
            return -1;
        }
    }
    return 0;
}

void netns_teardown(struct netns *nn)
{
    char why[512];

    for (int i = 0; i < nn->n; i++) {
        if (nn->ns_made[i]) {
            if (run(why, sizeof why, "ip", "netns", "del", nn->ns[i], NULL)) {
                fprintf(stderr, "netns: %s\n", why);
            }
            nn->ns_made[i] = 0;
        }
    }
    if (nn->hub_made) {
        if (run(why, sizeof why, "ip", "netns", "del", nn->hub, NULL)) {
            fprintf(stderr, "netns: %s\n", why);
        }
        nn->hub_made = 0;
    }
    /* Deleting the hub took the veth's other end, and with it this end;
     * delete it only if it is still there. */
    if (nn->host_if_made && if_nametoindex(nn->host_if) != 0) {
        if (run(why, sizeof why, "ip", "link", "del", nn->host_if, NULL)) {
            fprintf(stderr, "netns: %s\n", why);
        }
    }
    nn->host_if_made = 0;
}

/* Sets node @i's input chain: drop what comes from the nodes in @drop
 * (a bit per node index), nothing if none. */
static int set_drops(struct netns *nn, int i, unsigned drop)
{
    char script[512], why[1024];
    size_t len;

    len = (size_t)snprintf(script, sizeof script, "flush chain %s input",
                           NFT_TABLE);
    if (drop != 0) {
        len += (size_t)snprintf(script + len, sizeof script - len,
                                "; add rule %s input ip saddr { ", NFT_TABLE);
        for (int j = 0, first = 1; j < nn->n; j++) {
            if (drop & (1u << j)) {
                len += (size_t)snprintf(script + len, sizeof script - len,
                                        "%s%s", first ? "" : ", ", nn->addr[j]);
                first = 0;
            }
        }
        snprintf(script + len, sizeof script - len, " } drop");
    }
    if (run(why, sizeof why, "ip", "netns", "exec", nn->ns[i], "nft", script,
            NULL)) {
        fprintf(stderr, "netns: %s\n", why);
        return -1;
    }
    return 0;
}

int netns_partition(struct netns *nn, const int *side)
{
    int rv = 0;

    for (int i = 0; i < nn->n; i++) {
        unsigned drop = 0;
        for (int j = 0; j < nn->n; j++) {
            if (side[j] != side[i]) {
                drop |= 1u << j;
            }
        }
        rv |= set_drops(nn, i, drop);
    }
    return rv;
}

int netns_heal(struct netns *nn)
{
    int rv = 0;

    for (int i = 0; i < nn->n; i++) {
        rv |= set_drops(nn, i, 0);
    }
    return rv;
}
