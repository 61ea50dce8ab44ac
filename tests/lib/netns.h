/* netns.h: network namespaces for the fault tests. Each node gets its own
 * namespace with one address; a bridge in a namespace of its own ("hub")
 * joins them, and the test process in the root namespace reaches every node
 * as a client through one more veth into the bridge:
 *
 *   root ns: mqf<pid>h 10.200.X.254 ──┐
 *                                      ├─ hub ns mqf<pid>sw: bridge br0
 *   ns mqf<pid>n<i>: eth0 10.200.X.i ─┘
 *
 * X is chosen from the pid among the subnets no local address uses. The
 * bridge lives outside the root namespace so that the host's firewall
 * (br_netfilter, a FORWARD policy of drop) never sees node traffic.
 *
 * Partitions are nftables rules in the node namespaces that drop packets
 * from the nodes on other sides; packets from the root namespace (clients)
 * always pass, so an isolated node still receives client requests.
 *
 * Everything is created with names holding this process's pid, and
 * netns_teardown removes exactly that. Not thread-safe: one thread drives
 * it. Needs root, iproute2 and nftables. */
#ifndef MQ_TEST_NETNS_H
#define MQ_TEST_NETNS_H

#include <stddef.h>

#define NETNS_MAX 5

struct netns {
    int n;                        /* node namespaces */
    int subnet;                   /* X of 10.200.X.0/24, 0 before setup */
    int hub_made, host_if_made;   /* what teardown has to remove */
    int ns_made[NETNS_MAX];       /* node namespaces created */
    char hub[24];                 /* namespace holding the bridge */
    char host_if[16];             /* root namespace's veth into the bridge */
    char host_addr[16];           /* its address */
    char ns[NETNS_MAX][24];       /* node i's namespace */
    char addr[NETNS_MAX][16];     /* node i's address */
    char launcher[NETNS_MAX][64]; /* "ip netns exec <ns>": runs a command
                                     in node i's namespace */
};

/* NULL when this process can build namespaces (root, `ip` and `nft` found),
 * else a sentence saying why not. */
const char *netns_unavailable(void);

/* Creates the hub, @n node namespaces (1..NETNS_MAX) with their addresses,
 * and an empty nftables table in each node namespace. First removes what
 * earlier runs left behind if their process is gone (names mqf<pid>...).
 * Returns 0, or -1 with @why set (what is made stays for netns_teardown). */
int netns_setup(struct netns *nn, int n, char *why, size_t whylen);

/* Removes whatever netns_setup made (idempotent). */
void netns_teardown(struct netns *nn);

/* Cuts the nodes into sides: @side[i] is node i's side; two nodes on
 * different sides exchange no packets (dropped on arrival, both ways).
 * Replaces any earlier partition. Returns 0 or -1 after printing why. */
int netns_partition(struct netns *nn, const int *side);

/* Removes every partition. Returns 0 or -1 after printing why. */
int netns_heal(struct netns *nn);

#endif
