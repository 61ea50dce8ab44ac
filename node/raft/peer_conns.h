/* peer_conns.h: this node's connections to the other nodes: a PUSH socket
 * per node id, dialed (and redialed by nng) at the node's peer URL, with
 * mutual TLS when peer TLS is on (the cluster CA verifies the other node's
 * certificate, which must name the host of its URL; this node presents
 * its own). Each time a connection comes up, its first message is a hello
 * (peer_hello.h), signed when peer TLS is on: nng reports the connection
 * on its thread, the bridge hands the event to the loop (INBOUND_PEER_DIAL_UP),
 * and peer_conns_dial_up sends it. Messages queued before it go out first
 * on the new connection and are dropped by the receiver (raft sends
 * again).
 *
 * Loop thread, except the pipe callback (which only pushes the event). */
#ifndef MQ_PEER_CONNS_H
#define MQ_PEER_CONNS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge.h"
#include "config.h"
#include "errmsg.h"
#include "mq.h"
#include "peer_codec.h"
#include "tlsid.h"

struct peer_conn {
    struct peer_conns *pc;
    uint64_t id;
    char address[MQ_URL_MAX]; /* "" once closed */
    nng_socket sock;
    nng_dialer dialer;
    nng_tls_config *tls; /* our reference to the dialer's, or NULL */
};

struct peer_conns {
    const struct config *cfg;
    struct bridge *bridge;
    struct peer_self *self;
    struct tlsid *const *id; /* peer TLS identity (peer_auth's), or NULL */
    struct peer_conn **conns;
    size_t n;
    uint64_t hellos_sent, hello_failures;
};

/* Sets up @pc: @self and @id (may point at NULL: peer TLS off) are
 * borrowed for @pc's life. */
void peer_conns_init(struct peer_conns *pc, const struct config *cfg,
                     struct bridge *bridge, struct peer_self *self,
                     struct tlsid *const *id);

/* The connection to node @id at @address: made (and dialed) when there is
 * none, redialed when the node moved. NULL when it cannot be made (logged
 * once per cause). */
struct peer_conn *peer_conns_get(struct peer_conns *pc, uint64_t id,
                                 const char *address);

/* Sends the hello on node @id's connection, which just came up. */
void peer_conns_dial_up(struct peer_conns *pc, uint64_t id);

/* Gives every connection a client TLS configuration read from the files
 * again, for its next dial (open connections keep theirs). Returns MQ_OK,
 * or an error with @e (nothing changed). */
mq_err peer_conns_reload(struct peer_conns *pc, struct errmsg *e);

/* Closes every socket (io_close). */
void peer_conns_close(struct peer_conns *pc);

/* Frees what peer_conns_close left. */
void peer_conns_free(struct peer_conns *pc);

/* The peer TLS files of @cfg. */
struct tlsconf_files peer_conns_tls_files(const struct config *cfg);

#endif
