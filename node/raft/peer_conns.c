/* peer_conns.c: the PUSH sockets to the other nodes (peer_conns.h). */
#include "peer_conns.h"

#include <nng/protocol/pipeline0/push.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "peer_hello.h"
#include "pemfile.h"
#include "tlsconf.h"
#include "wallclock.h"

struct tlsconf_files peer_conns_tls_files(const struct config *cfg)
{
    return (struct tlsconf_files){.cert_key = "peer_tls_cert_file",
                                  .cert_file = cfg->peer_tls_cert_file,
                                  .key_key = "peer_tls_key_file",
                                  .key_file = cfg->peer_tls_key_file,
                                  .ca_key = "peer_tls_ca_file",
                                  .ca_file = cfg->peer_tls_ca_file};
}

void peer_conns_init(struct peer_conns *pc, const struct config *cfg,
                     struct bridge *bridge, struct peer_self *self,
                     struct tlsid *const *id)
{
    memset(pc, 0, sizeof *pc);
    pc->cfg = cfg;
    pc->bridge = bridge;
    pc->self = self;
    pc->id = id;
}

static void dial_cb(nng_pipe p, nng_pipe_ev ev, void *arg) /* nng thread */
{
    struct peer_conn *c = arg;
    (void)p;
    if (ev == NNG_PIPE_EV_ADD_POST) {
        bridge_push_peer_event(c->pc->bridge, INBOUND_PEER_DIAL_UP,
                               (uint32_t)c->id);
    }
}

/* A client TLS configuration for the node at @address. */
static mq_err client_tls(const struct peer_conns *pc, const char *address,
                         nng_tls_config **out, struct errmsg *e)
{
    struct tlsconf_files f = peer_conns_tls_files(pc->cfg);
    char host[256];
    pemfile_url_host(address, host, sizeof host);
    return tlsconf_client(out, &f, host, e);
}

static void conn_shut(struct peer_conn *c)
{
    if (c->address[0]) {
        nng_close(c->sock);
        c->address[0] = '\0';
    }
    if (c->tls != NULL) {
        nng_tls_config_free(c->tls);
        c->tls = NULL;
    }
}

/* Opens @c's socket and dials @address. */
static mq_err conn_open(struct peer_conns *pc, struct peer_conn *c,
                        const char *address, struct errmsg *e)
{
    int rv;

    if (strlen(address) >= sizeof c->address) {
        errmsg_set(e, "URL too long");
        return MQ_ERR_INVALID;
    }
    if (tlsconf_is_tls_url(address)) {
        mq_err err = client_tls(pc, address, &c->tls, e);
        if (err != MQ_OK) {
            return err;
        }
    }
    if ((rv = nng_push0_open(&c->sock)) != 0) {
        errmsg_set(e, "open: %s", nng_strerror(rv));
        return MQ_ERR_INTERNAL;
    }
    strcpy(c->address, address);
    /* Guard (6) of peer.c: without a send buffer a PUSH socket cannot
     * queue. */
    nng_socket_set_int(c->sock, NNG_OPT_SENDBUF,
                       (int)pc->cfg->peer_send_buffer);
    nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, 1024);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 500);
    nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, dial_cb, c);
    if ((rv = nng_dialer_create(&c->dialer, c->sock, address)) != 0 ||
        (c->tls != NULL && (rv = nng_dialer_set_ptr(
                                c->dialer, NNG_OPT_TLS_CONFIG, c->tls)) != 0) ||
        (rv = nng_dialer_start(c->dialer, NNG_FLAG_NONBLOCK)) != 0) {
        errmsg_set(e, "dial %s: %s", address, nng_strerror(rv));
        /* the socket stays: sends to it are dropped until it is redone */
    }
    return MQ_OK;
}

struct peer_conn *peer_conns_get(struct peer_conns *pc, uint64_t id,
                                 const char *address)
{
    struct errmsg e = ERRMSG_INIT;
    struct peer_conn *c = NULL;

    for (size_t i = 0; i < pc->n; i++) {
        if (pc->conns[i]->id == id) {
            c = pc->conns[i];
            break;
        }
    }
    if (c != NULL && strcmp(c->address, address) == 0) {
        return c;
    }
    if (c != NULL) { /* the node moved, or its socket failed: reconnect */
        conn_shut(c);
    } else {
        struct peer_conn **conns =
            mq_realloc(pc->conns, (pc->n + 1) * sizeof *conns);
        if (conns == NULL) {
            return NULL;
        }
        pc->conns = conns;
        if ((c = mq_calloc(1, sizeof *c)) == NULL) {
            return NULL;
        }
        c->pc = pc;
        c->id = id;
        pc->conns[pc->n++] = c;
    }
    if (conn_open(pc, c, address, &e) != MQ_OK) {
        LOG_WARN("peer %llu at %s: %s", (unsigned long long)id, address, e.msg);
        conn_shut(c);
        return NULL;
    }
    if (e.msg[0] != '\0') {
        LOG_WARN("peer %llu: %s", (unsigned long long)id, e.msg);
    }
    return c;
}

void peer_conns_dial_up(struct peer_conns *pc, uint64_t id)
{
    struct errmsg e = ERRMSG_INIT;
    nng_msg *msg = NULL;

    for (size_t i = 0; i < pc->n; i++) {
        struct peer_conn *c = pc->conns[i];
        if (c->id != id || c->address[0] == '\0') {
            continue;
        }
        pc->self->now_ms = wallclock_ms();
        if (peer_hello_encode(pc->self, pc->cfg->cluster_name, id, *pc->id,
                              &msg, &e) != MQ_OK ||
            nng_sendmsg(c->sock, msg, NNG_FLAG_NONBLOCK) != 0) {
            if (msg != NULL) {
                nng_msg_free(msg);
            }
            pc->hello_failures++;
            LOG_WARN("peer %llu: hello not sent: %s; the connection is "
                     "redialed",
                     (unsigned long long)id, e.msg[0] ? e.msg : "send failed");
            /* Without its hello the connection is useless: start anew. */
            char address[MQ_URL_MAX];
            strcpy(address, c->address);
            conn_shut(c);
            (void)peer_conns_get(pc, id, address);
            return;
        }
        pc->hellos_sent++;
        return;
    }
}

mq_err peer_conns_reload(struct peer_conns *pc, struct errmsg *e)
{
    nng_tls_config **next;
    mq_err rv = MQ_OK;

    if (pc->n == 0) {
        return MQ_OK;
    }
    if ((next = mq_calloc(pc->n, sizeof *next)) == NULL) {
        errmsg_set(e, "out of memory");
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < pc->n && rv == MQ_OK; i++) {
        if (pc->conns[i]->tls != NULL) {
            rv = client_tls(pc, pc->conns[i]->address, &next[i], e);
        }
    }
    for (size_t i = 0; i < pc->n; i++) {
        struct peer_conn *c = pc->conns[i];
        if (rv == MQ_OK && next[i] != NULL) {
            nng_dialer_set_ptr(c->dialer, NNG_OPT_TLS_CONFIG, next[i]);
            nng_tls_config_free(c->tls);
            c->tls = next[i];
        } else if (next[i] != NULL) {
            nng_tls_config_free(next[i]);
        }
    }
    mq_free(next);
    return rv;
}

void peer_conns_close(struct peer_conns *pc)
{
    for (size_t i = 0; i < pc->n; i++) {
        conn_shut(pc->conns[i]);
    }
}

void peer_conns_free(struct peer_conns *pc)
{
    peer_conns_close(pc);
    for (size_t i = 0; i < pc->n; i++) {
        mq_free(pc->conns[i]);
    }
    mq_free(pc->conns);
    pc->conns = NULL;
    pc->n = 0;
}
