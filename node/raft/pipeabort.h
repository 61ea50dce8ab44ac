/* pipeabort.h: closing a connection that nng is reading from, without
 * nng 1.5.2's stranded receive.
 *
 * In nng 1.5.2 (Debian 12's) nng_pipe_close of a TCP or TLS connection
 * whose read has just completed can leave that read unfinished for good
 * (the transport resubmits it on an aio that the close has stopped, which
 * nng then never completes; fixed in nng 1.6.0). The pipe is never freed,
 * and nng's reaper, which frees pipes one after the other, frees no closed
 * connection of the process any more: descriptors and memory grow with
 * every connection after, and closing the socket at stop waits forever.
 * A peer that keeps sending (junk on the peer port) while the node closes
 * its connection makes that likely.
 *
 * pipe_abort ends the connection the way a remote close does: it finds the
 * TCP socket under the pipe (by its two addresses, among the process's
 * descriptors) and shuts it down in both directions; nng's next read sees
 * the end (or a reset, if the peer sends more) and nng closes the pipe
 * from its own read path, which has no such race. Where the socket is not
 * found (not TCP, or already gone), it falls back to nng_pipe_close.
 *
 * Cost: one getsockname and getpeername per open descriptor of the
 * process; for the rare closes of connections that misbehave (a peer
 * connection with no member's hello, a failed hello), not for every one. */
#ifndef MQ_PIPEABORT_H
#define MQ_PIPEABORT_H

#include <nng/nng.h>

/* Ends @p's connection as above. Any thread. Returns 1 when the socket was
 * shut down, 0 when nng_pipe_close was used instead. */
int pipe_abort(nng_pipe p);

#endif
