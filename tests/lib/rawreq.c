/* rawreq.c: many requests at once over plain nng REQ sockets (rawreq.h).
 *
 * Each slot cycles: send (nng thread) -> receive (nng thread) -> done. A
 * repeating slot goes from its reply straight to sending again. The test
 * thread reads only what a slot published with the release store of
 * `done`. */
#include "rawreq.h"

#include <dirent.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"

enum { SLOT_IDLE, SLOT_SEND, SLOT_RECV };

struct rawreq_slot {
    struct rawreq *r;
    nng_ctx ctx;
    nng_aio *aio;
    int state; /* nng thread, while the slot is busy */
    int repeat;
    void *packed;
    size_t len;
    uint64_t start_ms;
    _Atomic int done;
    struct rawreq_slot_result res;
};

struct rawreq {
    nng_socket sock;
    size_t n;
    struct rawreq_slot *slots;
    _Atomic size_t n_done;
    _Atomic uint64_t replies;
    _Atomic int closing;
    _Atomic int draining;
    rawreq_reply_cb on_reply;
    void *on_reply_arg;
};

static void slot_finish(struct rawreq_slot *s, int err, nng_msg *m)
{
    s->res.nng_err = err;
    s->res.ms = test_now_ms() - s->start_ms;
    s->res.wall_ms = test_wall_ms();
    if (m != NULL) {
        s->res.reply =
            mq__v1__reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
        nng_msg_free(m);
        if (s->res.reply == NULL) {
            s->res.nng_err = NNG_EPROTO;
        }
    }
    atomic_store_explicit(&s->done, 1, memory_order_release);
    atomic_fetch_add(&s->r->n_done, 1);
}

static int slot_start(struct rawreq_slot *s)
{
    nng_msg *m;

    if (nng_msg_alloc(&m, s->len) != 0) {
        return -1;
    }
    memcpy(nng_msg_body(m), s->packed, s->len);
    s->start_ms = test_now_ms();
    s->state = SLOT_SEND;
    nng_aio_set_msg(s->aio, m);
    nng_ctx_send(s->ctx, s->aio);
    return 0;
}

/* Takes the message out of @aio (NULL if none). */
static nng_msg *take_msg(nng_aio *aio)
{
    nng_msg *m = nng_aio_get_msg(aio);
    nng_aio_set_msg(aio, NULL);
    return m;
}

static void slot_cb(void *arg) /* nng thread */
{
    struct rawreq_slot *s = arg;
    int rv = nng_aio_result(s->aio);

    if (s->state == SLOT_SEND) {
        if (rv != 0) {
            nng_msg *m = take_msg(s->aio);
            if (m != NULL) {
                nng_msg_free(m);
            }
            slot_finish(s, rv, NULL);
            return;
        }
        s->state = SLOT_RECV;
        nng_ctx_recv(s->ctx, s->aio);
        return;
    }
    if (rv != 0) {
        slot_finish(s, rv, NULL);
        return;
    }
    atomic_fetch_add(&s->r->replies, 1);
    if (s->r->on_reply != NULL) {
        nng_msg *m = nng_aio_get_msg(s->aio);
        Mq__V1__Reply *rep =
            mq__v1__reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
        if (rep != NULL) {
            s->r->on_reply(s->r->on_reply_arg, rep);
            mq__v1__reply__free_unpacked(rep, NULL);
        }
    }
    if (s->repeat && !atomic_load(&s->r->closing) &&
        !atomic_load(&s->r->draining)) {
        nng_msg_free(take_msg(s->aio));
        if (slot_start(s) == 0) {
            return;
        }
        slot_finish(s, NNG_ENOMEM, NULL);
        return;
    }
    slot_finish(s, 0, take_msg(s->aio));
}

struct rawreq *rawreq_open(const char *url, size_t n)
{
    struct rawreq *r = calloc(1, sizeof *r);
    int rv;

    if (r == NULL || (r->slots = calloc(n, sizeof *r->slots)) == NULL) {
        free(r);
        fprintf(stderr, "rawreq: out of memory\n");
        return NULL;
    }
    r->n = n;
    if ((rv = nng_req0_open(&r->sock)) != 0 ||
        (rv = nng_socket_set_ms(r->sock, NNG_OPT_REQ_RESENDTIME,
                                NNG_DURATION_INFINITE)) != 0 ||
        (rv = nng_socket_set_size(r->sock, NNG_OPT_RECVMAXSZ, 0)) != 0) {
        fprintf(stderr, "rawreq: socket: %s\n", nng_strerror(rv));
        free(r->slots);
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct rawreq_slot *s = &r->slots[i];
        s->r = r;
        if ((rv = nng_aio_alloc(&s->aio, slot_cb, s)) != 0 ||
            (rv = nng_ctx_open(&s->ctx, r->sock)) != 0) {
            fprintf(stderr, "rawreq: context: %s\n", nng_strerror(rv));
            r->n = i + (s->aio != NULL);
            rawreq_close(r);
            return NULL;
        }
    }
    /* A blocking dial returns once connected (or failed). */
    if ((rv = nng_dial(r->sock, url, NULL, 0)) != 0) {
        fprintf(stderr, "rawreq: dial %s: %s\n", url, nng_strerror(rv));
        rawreq_close(r);
        return NULL;
    }
    return r;
}

int rawreq_send(struct rawreq *r, size_t i, const Mq__V1__Request *req,
                int repeat)
{
    struct rawreq_slot *s = &r->slots[i];

    if (s->state != SLOT_IDLE && !atomic_load(&s->done)) {
        return -1;
    }
    if (atomic_load(&s->done)) {
        atomic_store(&s->done, 0);
        atomic_fetch_sub(&r->n_done, 1);
    }
    if (s->res.reply != NULL) {
        mq__v1__reply__free_unpacked(s->res.reply, NULL);
    }
    memset(&s->res, 0, sizeof s->res);
    free(s->packed);
    s->len = mq__v1__request__get_packed_size(req);
    if ((s->packed = malloc(s->len ? s->len : 1)) == NULL) {
        return -1;
    }
    mq__v1__request__pack(req, s->packed);
    s->repeat = repeat;
    return slot_start(s);
}

void rawreq_on_reply(struct rawreq *r, rawreq_reply_cb cb, void *arg)
{
    r->on_reply = cb;
    r->on_reply_arg = arg;
}

size_t rawreq_done(struct rawreq *r)
{
    return atomic_load(&r->n_done);
}

uint64_t rawreq_replies(struct rawreq *r)
{
    return atomic_load(&r->replies);
}

int rawreq_wait(struct rawreq *r, size_t n, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;

    while (rawreq_done(r) < n) {
        if (test_now_ms() >= end) {
            return -1;
        }
        test_sleep_ms(5);
    }
    return 0;
}

const struct rawreq_slot_result *rawreq_result(struct rawreq *r, size_t i)
{
    struct rawreq_slot *s = &r->slots[i];
    if (!atomic_load_explicit(&s->done, memory_order_acquire)) {
        return NULL;
    }
    return &s->res;
}

int rawreq_drain(struct rawreq *r, int timeout_ms)
{
    atomic_store(&r->draining, 1);
    return rawreq_wait(r, r->n, timeout_ms);
}

void rawreq_close(struct rawreq *r)
{
    if (r == NULL) {
        return;
    }
    atomic_store(&r->closing, 1);
    /* Stop every aio first (a callback then starts nothing new: nng 1.5.2
     * can crash on a context operation that races with the socket's
     * close), then close. */
    for (size_t i = 0; i < r->n; i++) {
        nng_aio_stop(r->slots[i].aio);
    }
    nng_close(r->sock);
    for (size_t i = 0; i < r->n; i++) {
        struct rawreq_slot *s = &r->slots[i];
        if (s->aio != NULL) {
            nng_msg *m = take_msg(s->aio); /* a send that never began */
            if (m != NULL) {
                nng_msg_free(m);
            }
            nng_aio_free(s->aio);
        }
        if (s->res.reply != NULL) {
            mq__v1__reply__free_unpacked(s->res.reply, NULL);
        }
        free(s->packed);
    }
    free(r->slots);
    free(r);
}

void rawreq_fetch(Mq__V1__Request *req, struct rawreq_storage *st,
                  const char *queue, const char *sub, uint32_t max_messages,
                  uint32_t max_wait_ms)
{
    mq__v1__request__init(req);
    mq__v1__fetch_request__init(&st->fetch);
    st->fetch.queue = (char *)queue;
    st->fetch.sub = (char *)sub;
    st->fetch.max_messages = max_messages;
    st->fetch.max_wait_ms = max_wait_ms;
    req->body_case = MQ__V1__REQUEST__BODY_FETCH;
    req->fetch = &st->fetch;
}

void rawreq_status(Mq__V1__Request *req, struct rawreq_storage *st)
{
    mq__v1__request__init(req);
    mq__v1__status_request__init(&st->status);
    req->body_case = MQ__V1__REQUEST__BODY_STATUS;
    req->status = &st->status;
}

void rawreq_publish(Mq__V1__Request *req, struct rawreq_storage *st,
                    const char *queue, const char *payload)
{
    mq__v1__request__init(req);
    mq__v1__publish_request__init(&st->publish);
    mq__v1__pub_message__init(&st->msg);
    st->msg.event = "load";
    st->msg.payload.data = (uint8_t *)payload;
    st->msg.payload.len = strlen(payload);
    st->msgs[0] = &st->msg;
    st->publish.queue = (char *)queue;
    st->publish.messages = st->msgs;
    st->publish.n_messages = 1;
    req->body_case = MQ__V1__REQUEST__BODY_PUBLISH;
    req->publish = &st->publish;
}

int rawreq_count_fds(int pid)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    if ((d = opendir(path)) == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

void rawreq_print_fds(int pid)
{
    char path[64], target[256];
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    if ((d = opendir(path)) == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char fd[300];
        ssize_t n;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(fd, sizeof fd, "%s/%s", path, e->d_name);
        n = readlink(fd, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
    }
    closedir(d);
}

long rawreq_rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if ((f = fopen(path, "r")) == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return kib;
}
