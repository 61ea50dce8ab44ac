/* sppush.h: raw TCP connections to a node's peer port that speak just
 * enough of the SP protocol to become nng pipes (a PUSH socket's header)
 * and then send messages nng frames but the node cannot decode: a flood a
 * stranger can make, for the peer-port tests. Sockets are non-blocking. */
#ifndef MQ_TEST_SPPUSH_H
#define MQ_TEST_SPPUSH_H

#include <stddef.h>

/* A non-blocking TCP connection to 127.0.0.1:@port, or -1. */
int sppush_tcp(int port);

/* sppush_tcp plus the SP header of a PUSH socket, or -1. */
int sppush_open(int port);

/* Sends one framed message of @len bytes of @body on @fd. Returns 1 when
 * sent (or partly: the socket was full), 0 when the socket was full before
 * anything went, -1 when the connection is gone (closed by the node:
 * close @fd and open another). */
int sppush_send(int fd, const void *body, size_t len);

/* Whether the node closed @fd (a read sees the end or an error). */
int sppush_closed(int fd);

#endif
