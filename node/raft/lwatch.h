/* lwatch.h: brings back a listener that nng 1.5.2 stopped accepting on.
 *
 * In nng 1.5.2 (Debian 12's; fixed upstream in 1.6.0, nng issue 1518) a
 * connection that closes while its SP header exchange is under way can end
 * that exchange with NNG_ECLOSED, which the transport passes up to the
 * socket's accept; the socket takes it for its own listener being closed
 * and never accepts again. From then on, new connections to the port
 * complete TCP, TLS and the header exchange and then wait forever: no
 * request of theirs is read. Any client can cause it (one that gives up
 * at the wrong moment), with TLS above all.
 *
 * The watch probes each listener from a thread of its own, every
 * LWATCH_EVERY_MS: it dials the listener's port as a client of the
 * listener's socket would (TLS when the URL is tls+tcp://, presenting the
 * given certificate, verifying nothing), exchanges SP headers, and waits up
 * to LWATCH_ACCEPT_MS for the listener's "accept" count (nng's statistics)
 * to move. A listener that completed the exchange and accepted nothing is
 * stuck: on the loop thread, the owner's restart callback closes it and
 * listens again on the same socket and URL (its open connections are
 * dropped with it; clients and peers dial again). A probe that cannot
 * complete the exchange (refused, a certificate the listener does not
 * accept) proves nothing and changes nothing. */
#ifndef MQ_LWATCH_H
#define MQ_LWATCH_H

#include <nng/nng.h>
#include <stdint.h>
#include <uv.h>

#include "errmsg.h"
#include "mq.h"

#define LWATCH_EVERY_MS 2000
#define LWATCH_ACCEPT_MS 2000
#define LWATCH_MAX 4
/* SP protocol numbers of the dialing side (nng's req0 and push0). */
#define LWATCH_PROTO_REQ 0x30
#define LWATCH_PROTO_PUSH 0x50

/* Called on the loop thread for a stuck listener: closes it and listens
 * again, setting *l to the new listener. Returns MQ_OK; MQ_ERR_NOT_DONE
 * with @e when it is better left as it is for now (the watch says so once
 * and probes again); another error with @e (logged; tried again after
 * LWATCH_EVERY_MS). */
typedef mq_err (*lwatch_restart_cb)(void *arg, nng_listener *l,
                                    struct errmsg *e);

/* What is watched. Strings are copied. */
struct lwatch_target {
    const char *what;      /* the config key, for logs: "client_url" */
    const char *url;       /* as configured (host, port) */
    nng_listener listener; /* started */
    uint16_t proto;        /* SP protocol number of the listener's peers */
    const char *cert_file; /* presented by a TLS probe; NULL or "": none */
    const char *key_file;
    lwatch_restart_cb restart;
    void *arg;
};

struct lwatch;

/* Starts the watch on @loop (its thread and a uv_async_t). Returns MQ_OK;
 * MQ_ERR_NO_MEMORY or MQ_ERR_INTERNAL with @e. Loop thread. */
mq_err lwatch_start(struct lwatch **out, uv_loop_t *loop, struct errmsg *e);

/* Adds a listener to watch (at most LWATCH_MAX). Loop thread. */
mq_err lwatch_add(struct lwatch *w, const struct lwatch_target *t,
                  struct errmsg *e);

/* Listeners brought back so far. Any thread. */
uint64_t lwatch_restarts(const struct lwatch *w);

/* Stops the thread (waits for a probe under way: at most a few seconds)
 * and closes the async handle; @w is freed once the loop has closed it.
 * Call before the watched listeners close. NULL is a no-op. Loop thread. */
void lwatch_stop(struct lwatch *w);
#endif
