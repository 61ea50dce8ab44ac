/* rawreq.h: many requests at once from a cluster test, over plain nng REQ
 * sockets instead of libmq: one socket (one connection to one node) with n
 * slots, each an nng context that sends one request and takes its reply on
 * nng's threads. A test keeps thousands of long polls waiting this way
 * without a thread each, and floods a node with requests that are sent
 * again as soon as they are answered.
 *
 * Resends are off (as in libmq): a request is sent once. Threads: one test
 * thread calls these functions; nng's threads only fill in the slots. */
#ifndef MQ_TEST_RAWREQ_H
#define MQ_TEST_RAWREQ_H

#include <stddef.h>
#include <stdint.h>

#include "mq.pb-c.h"

struct rawreq;

/* What became of a slot's request, once done. */
struct rawreq_slot_result {
    int nng_err;          /* 0, or nng's error (the socket closed, ...) */
    Mq__V1__Reply *reply; /* when nng_err is 0; owned by the slot */
    uint64_t ms;          /* from the send to the reply (or the failure) */
    uint64_t wall_ms;     /* when it was done, ms since the epoch */
};

/* Opens a REQ socket to @url with @n slots and waits up to 5 s for the
 * connection. Returns NULL after printing why. */
struct rawreq *rawreq_open(const char *url, size_t n);

/* Sends @req (packed now, borrowed) from slot @i, which must be idle or
 * done. With @repeat, the slot sends the same request again each time it
 * is answered, until rawreq_close (a flood). Returns 0 or -1. */
int rawreq_send(struct rawreq *r, size_t i, const Mq__V1__Request *req,
                int repeat);

/* Calls @cb(@arg, reply) on an nng thread for every reply received from
 * now on, repeated requests' included (the reply is borrowed for the
 * call). Set it before sending. */
typedef void (*rawreq_reply_cb)(void *arg, const Mq__V1__Reply *reply);
void rawreq_on_reply(struct rawreq *r, rawreq_reply_cb cb, void *arg);

/* Slots done (answered or failed) since they were last sent. */
size_t rawreq_done(struct rawreq *r);

/* Replies received in all, repeated requests included. */
uint64_t rawreq_replies(struct rawreq *r);

/* Waits until at least @n slots are done, up to @timeout_ms. Returns 0, or
 * -1 at the deadline. */
int rawreq_wait(struct rawreq *r, size_t n, int timeout_ms);

/* Slot @i's result, or NULL while it is not done. Lives until the slot is
 * sent again or @r is closed. */
const struct rawreq_slot_result *rawreq_result(struct rawreq *r, size_t i);

/* Stops repeating: each slot ends with its next reply. Waits up to
 * @timeout_ms until every slot is done, so that the connection carries no
 * request when it closes. Returns 0, or -1 at the deadline. */
int rawreq_drain(struct rawreq *r, int timeout_ms);

/* Closes the socket (requests still waiting fail; the node sees the
 * connection go) and frees @r. NULL does nothing. */
void rawreq_close(struct rawreq *r);

/* Packs nothing: helpers that fill a Request for a fetch, a status or a
 * publish of one small message, pointing into @storage (kept by the caller
 * for as long as the request is used). */
struct rawreq_storage {
    Mq__V1__FetchRequest fetch;
    Mq__V1__StatusRequest status;
    Mq__V1__PublishRequest publish;
    Mq__V1__PubMessage msg, *msgs[1];
};
void rawreq_fetch(Mq__V1__Request *req, struct rawreq_storage *st,
                  const char *queue, const char *sub, uint32_t max_messages,
                  uint32_t max_wait_ms);
void rawreq_status(Mq__V1__Request *req, struct rawreq_storage *st);
void rawreq_publish(Mq__V1__Request *req, struct rawreq_storage *st,
                    const char *queue, const char *payload);

/* Number of open descriptors of process @pid (entries of /proc/PID/fd), or
 * -1. */
int rawreq_count_fds(int pid);

/* Prints what each descriptor of process @pid is (for a failed test). */
void rawreq_print_fds(int pid);

/* Resident memory of process @pid in KiB (VmRSS), or -1. */
long rawreq_rss_kib(int pid);

#endif
