/* join.c: asking a running cluster to add this node (NodeAddRequest over
 * nng REQ, as a client would). */
#include "join.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "log.h"
#include "mq.pb-c.h"

/* Adding waits for the new node to catch up, which may take a while. */
#define JOIN_REPLY_TIMEOUT_MS (10 * 60 * 1000)

struct joiner {
    const struct config *cfg;
    pthread_t thread;
    atomic_int stop;
    pthread_mutex_t mu; /* guards sock and sock_open */
    nng_socket sock;
    int sock_open;
};

/* One request to @url. Returns MQ_OK, or the error with @redirect set to
 * the leader's URL when one was named. */
static mq_err ask(struct joiner *j, const char *url, char *redirect,
                  size_t redirect_size)
{
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__NodeAddRequest add = MQ__V1__NODE_ADD_REQUEST__INIT;
    nng_msg *msg;
    mq_err rv = MQ_ERR_UNAVAILABLE;

    redirect[0] = '\0';
    add.id = j->cfg->id;
    add.peer_url = (char *)j->cfg->peer_url;
    req.body_case = MQ__V1__REQUEST__BODY_NODE_ADD;
    req.node_add = &add;
    pthread_mutex_lock(&j->mu);
    if (atomic_load(&j->stop) || nng_req0_open(&j->sock) != 0) {
        pthread_mutex_unlock(&j->mu);
        return MQ_ERR_UNAVAILABLE;
    }
    j->sock_open = 1;
    pthread_mutex_unlock(&j->mu);
    nng_socket_set_ms(j->sock, NNG_OPT_RECVTIMEO, JOIN_REPLY_TIMEOUT_MS);
    nng_socket_set_ms(j->sock, NNG_OPT_SENDTIMEO, 5000);
    nng_socket_set_ms(j->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_size(j->sock, NNG_OPT_RECVMAXSZ, 1 << 20);
    if (nng_dial(j->sock, url, NULL, 0) != 0 ||
        nng_msg_alloc(&msg, mq__v1__request__get_packed_size(&req)) != 0) {
        goto out;
    }
    mq__v1__request__pack(&req, nng_msg_body(msg));
    if (nng_sendmsg(j->sock, msg, 0) != 0) {
        nng_msg_free(msg);
        goto out;
    }
    if (nng_recvmsg(j->sock, &msg, 0) != 0) {
        goto out;
    }
    Mq__V1__Reply *reply =
        mq__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
    nng_msg_free(msg);
    if (reply == NULL) {
        rv = MQ_ERR_PROTOCOL;
        goto out;
    }
    rv = err_from_status(reply->status);
    if (rv != MQ_OK) {
        LOG_INFO("join via %s: %s: %s", url, mq_strerror(rv),
                 reply->detail ? reply->detail : "");
    }
    if (reply->leader_url && reply->leader_url[0]) {
        snprintf(redirect, redirect_size, "%s", reply->leader_url);
    }
    mq__v1__reply__free_unpacked(reply, NULL);
out:
    pthread_mutex_lock(&j->mu);
    if (j->sock_open) {
        nng_close(j->sock);
        j->sock_open = 0;
    }
    pthread_mutex_unlock(&j->mu);
    return rv;
}

static void *join_main(void *arg)
{
    struct joiner *j = arg;
    char urls[sizeof j->cfg->join];
    char redirect[MQ_URL_MAX];
    const char *next = NULL;

    snprintf(urls, sizeof urls, "%s", j->cfg->join);
    LOG_INFO("asking the cluster at %s to add node %llu at %s", urls,
             (unsigned long long)j->cfg->id, j->cfg->peer_url);
    while (!atomic_load(&j->stop)) {
        char list[sizeof j->cfg->join];
        char *save = NULL;
        snprintf(list, sizeof list, "%s", urls);
        for (char *u = strtok_r(list, ",", &save);
             u != NULL && !atomic_load(&j->stop);
             u = strtok_r(NULL, ",", &save)) {
            const char *url = next ? next : u;
            char target[MQ_URL_MAX];
            snprintf(target, sizeof target, "%s", url);
            next = NULL;
            mq_err rv = ask(j, target, redirect, sizeof redirect);
            if (rv == MQ_OK) {
                LOG_INFO("the cluster added node %llu as a voter",
                         (unsigned long long)j->cfg->id);
                return NULL;
            }
            if (rv == MQ_ERR_EXISTS || rv == MQ_ERR_INVALID) {
                LOG_ERROR("the cluster refuses to add node %llu: give it "
                          "another id or peer_url",
                          (unsigned long long)j->cfg->id);
                return NULL;
            }
            if (redirect[0] != '\0') {
                next = redirect;
            }
        }
        for (int i = 0; i < 10 && !atomic_load(&j->stop); i++) {
            nng_msleep(100);
        }
    }
    return NULL;
}

mq_err join_start(struct joiner **out, const struct config *cfg)
{
    struct joiner *j = mq_calloc(1, sizeof *j);
    if (j == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    j->cfg = cfg;
    atomic_init(&j->stop, 0);
    pthread_mutex_init(&j->mu, NULL);
    if (pthread_create(&j->thread, NULL, join_main, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        mq_free(j);
        return MQ_ERR_NO_MEMORY;
    }
    *out = j;
    return MQ_OK;
}

void join_stop(struct joiner *j)
{
    if (j == NULL) {
        return;
    }
    atomic_store(&j->stop, 1);
    pthread_mutex_lock(&j->mu);
    if (j->sock_open) {
        nng_close(j->sock); /* ends a wait for a reply */
        j->sock_open = 0;
    }
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_mutex_destroy(&j->mu);
    mq_free(j);
}
