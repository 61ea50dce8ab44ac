/* peer_auth.h: who may speak on the peer port.
 *
 * Every connection to the peer port (an nng pipe of the PULL socket) is
 * bound to one member id before its messages reach raft:
 * - with peer TLS, by a signed hello (peer_hello.h): messages that come
 *   before it are dropped, a hello that fails is logged and its
 *   connection closed;
 * - without, by a plain hello or the first message from a member (the
 *   sender's word: without TLS the peer port must sit on a trusted
 *   network).
 * Then only messages from that id are taken on it (another id closes it).
 * Messages from ids outside raft's configuration are dropped, except a
 * RequestVote (the node is told it is not a member, peer.c) and an
 * AppendEntries or InstallSnapshot of the current term or later (a leader
 * of a configuration this node has not seen yet: a lagging follower must
 * still hear the leader that added it); a node whose configuration is
 * empty (joining) takes what the hello or the sender says.
 * A connection bound to nobody after peer_hello_timeout_ms is closed, and
 * the bridge closes connections past peer_max_pending_conns unbound ones
 * from one address (bridge_peer_watch). Drops are counted and logged at
 * most once per LOG_EVERY_MS per reason.
 *
 * Client URLs: with peer TLS, a node's client URL is taken from its signed
 * hello only; without, from a member's first message, and never changed
 * by a later one (a URL changes through the membership: remove and add the
 * node again, at another peer URL, or restart this node). See peer.c's
 * learn.
 *
 * Loop thread only. */
#ifndef MQ_PEER_AUTH_H
#define MQ_PEER_AUTH_H

#include <raft.h>
#include <stdint.h>

#include "bridge.h"
#include "config.h"
#include "hmap.h"
#include "peer_hello.h"
#include "raft.pb-c.h"
#include "tlsid.h"

struct peer_auth {
    const struct config *cfg;
    struct bridge *bridge;
    struct tlsid *id;  /* peer TLS: hellos signed and required; or NULL */
    struct hmap pipes; /* pipe id -> struct peer_pipe */
    struct peer_hello_seen seen;
    uint64_t hellos_ok, hellos_failed, dropped_before_hello, dropped_not_member,
        closed, timed_out;
    uint64_t logged_ms[5]; /* last log per reason (loop time) */
};

enum peer_verdict {
    PEER_ADMIT,           /* hand the message to raft */
    PEER_DROP,            /* dropped (counted, logged) or consumed */
    PEER_TELL_NOT_MEMBER, /* a RequestVote from a non-member */
};

/* @id (taken over; NULL: peer TLS off). */
void peer_auth_init(struct peer_auth *a, const struct config *cfg,
                    struct bridge *bridge, struct tlsid *id);
void peer_auth_close(struct peer_auth *a);

/* Replaces the identity (a reload): takes over @id, frees the old one. */
void peer_auth_set_id(struct peer_auth *a, struct tlsid *id);

/* A connection to the peer port opened or closed (bridge events). */
void peer_auth_pipe_added(struct peer_auth *a, uint32_t pipe, uint64_t now);
void peer_auth_pipe_removed(struct peer_auth *a, uint32_t pipe);

/* Judges the decoded message @pm (@m its raft message; type 0 for a hello
 * or a not-member notice) that came on @pipe, against @conf and @term;
 * @now is the loop's time, @wall_ms the wall clock. On PEER_ADMIT or a
 * hello accepted, *learn_url is the client URL the sender may be known by
 * (NULL: none to learn). */
enum peer_verdict peer_auth_admit(struct peer_auth *a,
                                  const struct raft_configuration *conf,
                                  uint64_t term, uint32_t pipe,
                                  const Mq__V1__PeerMessage *pm,
                                  const struct raft_message *m, uint64_t now,
                                  uint64_t wall_ms, const char **learn_url);

/* Closes the connections bound to nobody for peer_hello_timeout_ms. */
void peer_auth_sweep(struct peer_auth *a, uint64_t now);

/* Open connections to the peer port, and those bound to a member. */
void peer_auth_counts(const struct peer_auth *a, uint64_t *open,
                      uint64_t *bound);

#endif
