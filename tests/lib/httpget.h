/* httpget.h: a minimal HTTP/1.1 client for the tests of mqd's HTTP
 * listener and of a Prometheus server: one GET on 127.0.0.1, answered and
 * closed, within a deadline. Also raw requests, for the tests of the
 * listener's bounds. */
#ifndef MQ_TEST_HTTPGET_H
#define MQ_TEST_HTTPGET_H

#include <stddef.h>

/* GETs @path (with its query) from 127.0.0.1:@port. Returns the status
 * code and puts the body (NUL-terminated, cut to @len - 1 bytes) in @body
 * (may be NULL); -1 when no answer came within @timeout_ms (connection
 * refused, closed without an answer, too slow). */
int http_get(int port, const char *path, char *body, size_t len,
             int timeout_ms);

/* Sends the bytes @req (@req_len) to 127.0.0.1:@port and reads until the
 * server closes or @timeout_ms passes. Returns the bytes read (the whole
 * answer, head included, NUL-terminated in @out) or -1 when it could not
 * connect; *@closed is set to 1 if the server closed the connection
 * within the time. */
long http_raw(int port, const void *req, size_t req_len, char *out, size_t len,
              int timeout_ms, int *closed);

/* Opens a connection to 127.0.0.1:@port and returns its descriptor (-1 on
 * failure); for holding connections open. */
int http_connect(int port);

/* Percent-encodes @in into @out (for a query parameter). */
void http_urlencode(const char *in, char *out, size_t len);

#endif
