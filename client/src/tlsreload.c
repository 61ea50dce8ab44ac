/* tlsreload.c: mq_node_reload_tls, a request to every node of the list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "conn.h"
#include "lasterr.h"

MQ_API mq_err mq_node_reload_tls(mq_client *c, mq_node_reply **out, size_t *n,
                                 uint32_t timeout_ms)
{
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__NodeReloadTlsRequest rr = MQ__V1__NODE_RELOAD_TLS_REQUEST__INIT;
    struct conn_answer *ans;
    mq_node_reply *list;
    mq_err first = MQ_OK;
    char msg[LASTERR_SIZE] = "";
    size_t count;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "reload TLS: %s is NULL",
                            c == NULL     ? "client"
                            : out == NULL ? "out"
                                          : "n");
    }
    *out = NULL;
    *n = 0;
    count = conn_user_count(c->conn);
    list = calloc(count, sizeof *list);
    ans = calloc(count, sizeof *ans);
    if (list == NULL || ans == NULL) {
        free(list);
        free(ans);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "reload TLS: out of memory");
    }
    req.body_case = MQ__V1__REQUEST__BODY_RELOAD_TLS;
    req.reload_tls = &rr;
    /* A reload reads files and swaps listeners: the whole call's time. */
    conn_ask_each(c->conn, &req, (uint32_t)client_timeout(c, timeout_ms), ans);
    for (size_t i = 0; i < count; i++) {
        mq_node_reply *r = &list[i];
        snprintf(r->url, sizeof r->url, "%s", conn_url(c->conn, i));
        r->err = ans[i].err;
        if (r->err == MQ_OK) {
            snprintf(r->detail, sizeof r->detail, "%s",
                     ans[i].reply->detail ? ans[i].reply->detail : "");
        } else {
            snprintf(r->detail, sizeof r->detail, "%s", ans[i].why);
            if (first == MQ_OK) {
                first = r->err;
                snprintf(msg, sizeof msg, "reload TLS: %s: %s", r->url,
                         ans[i].why);
            }
        }
        if (ans[i].reply != NULL) {
            mq__v1__reply__free_unpacked(ans[i].reply, NULL);
        }
    }
    free(ans);
    *out = list;
    *n = count;
    if (first != MQ_OK) {
        lasterr_set("%s", msg);
    }
    return first;
}

MQ_API void mq_node_replies_free(mq_node_reply *list)
{
    free(list);
}
