/* client.c: mq_client_open and mq_client_close, options, namespace and
 * version.
 *
 * Close order matters: new asynchronous publishes are refused first, then
 * the sockets close (so that every call in progress on libmq's threads ends
 * at once with MQ_ERR_CANCELED), then subscriber and sender threads are
 * joined, and the publishes still queued get their MQ_ERR_CANCELED
 * callback. */
#include "client.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async.h"
#include "check.h"
#include "lasterr.h"
#include "subscribe.h"
#include "tlsdiag.h"
#include "urls.h"

MQ_API const char *mq_version(void)
{
    return MQ_VERSION_STRING;
}

int client_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int rv;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rv = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rv;
}

static void default_u32(uint32_t *v, uint32_t def)
{
    if (*v == 0) {
        *v = def;
    }
}

mq_err client_opts_resolve(mq_client_opts *o)
{
    default_u32(&o->timeout_ms, CLIENT_TIMEOUT_MS);
    default_u32(&o->attempt_timeout_ms, CLIENT_ATTEMPT_TIMEOUT_MS);
    default_u32(&o->batch_max_messages, CLIENT_BATCH_MAX_MESSAGES);
    default_u32(&o->batch_max_bytes, CLIENT_BATCH_MAX_BYTES);
    /* linger_ms: 0 is a value (no linger), not "the default". */
    default_u32(&o->max_inflight_batches, CLIENT_MAX_INFLIGHT_BATCHES);
    default_u32(&o->max_pending_messages, CLIENT_MAX_PENDING_MESSAGES);
    if (o->batch_max_messages > MQ_MAX_BATCH) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "batch_max_messages is %u, at most %d are "
                            "allowed",
                            o->batch_max_messages, MQ_MAX_BATCH);
    }
    if (o->max_inflight_batches > CLIENT_MAX_INFLIGHT_LIMIT) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "max_inflight_batches is %u, at most %d are "
                            "allowed",
                            o->max_inflight_batches, CLIENT_MAX_INFLIGHT_LIMIT);
    }
    return MQ_OK;
}

mq_err client_qname(const mq_client *c, const char *s, const char *what,
                    char out[MQ_QNAME_MAX + 1])
{
    return check_qname(s, c->opts.ns, what, out);
}

mq_err client_sub_check(const mq_client *c, const char *queue, const char *sub,
                        char qname[MQ_QNAME_MAX + 1])
{
    mq_err rv = client_qname(c, queue, "queue name", qname);

    if (rv == MQ_OK) {
        rv = check_name(sub, "subscription name");
    }
    return rv;
}

/* Copies the token @s (@len bytes) to @out after checking it. */
static mq_err token_set(const char *s, size_t len, const char *where,
                        char out[CLIENT_TOKEN_MAX + 1])
{
    if (len > CLIENT_TOKEN_MAX) {
        return lasterr_fail(MQ_ERR_INVALID,
                            "%s: the token is %zu characters, at most %d",
                            where, len, CLIENT_TOKEN_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return lasterr_fail(MQ_ERR_INVALID,
                                "%s: the token has a character that is not "
                                "printable ASCII at position %zu",
                                where, i + 1);
        }
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return MQ_OK;
}

mq_err client_token(const mq_client_opts *opts, char out[CLIENT_TOKEN_MAX + 1])
{
    char buf[CLIENT_TOKEN_MAX + 2];
    size_t len;
    FILE *f;
    mq_err rv;

    out[0] = '\0';
    if (opts->token_file == NULL || opts->token_file[0] == '\0') {
        if (opts->token == NULL) {
            return MQ_OK;
        }
        return token_set(opts->token, strlen(opts->token), "token", out);
    }
    if (opts->token != NULL && opts->token[0] != '\0') {
        return lasterr_fail(MQ_ERR_INVALID,
                            "give token or token_file, not both");
    }
    f = fopen(opts->token_file, "r");
    if (f == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "token file %s: %s",
                            opts->token_file, strerror(errno));
    }
    if (fgets(buf, sizeof buf, f) == NULL) {
        buf[0] = '\0';
    }
    fclose(f);
    len = strcspn(buf, "\r\n");
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t')) {
        len--;
    }
    size_t start = strspn(buf, " \t");
    if (start >= len) {
        rv = lasterr_fail(MQ_ERR_INVALID, "token file %s is empty",
                          opts->token_file);
    } else {
        char where[300];
        snprintf(where, sizeof where, "token file %s", opts->token_file);
        rv = token_set(buf + start, len - start, where, out);
    }
    explicit_bzero(buf, sizeof buf);
    return rv;
}

/* Copies the namespace of @opts into @c (none when NULL or ""). */
static mq_err client_ns_set(mq_client *c, const char *ns)
{
    mq_err rv;

    c->opts.ns = NULL;
    if (ns == NULL || ns[0] == '\0') {
        return MQ_OK;
    }
    if ((rv = check_name(ns, "namespace")) != MQ_OK) {
        return rv;
    }
    snprintf(c->ns, sizeof c->ns, "%s", ns);
    c->opts.ns = c->ns;
    return MQ_OK;
}

MQ_API mq_err mq_client_open(mq_client **out, const mq_client_opts *opts)
{
    mq_client *c;
    char **urls;
    size_t n;
    mq_err rv;

    if (out == NULL || opts == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "open client: %s is NULL",
                            out == NULL ? "out" : "opts");
    }
    *out = NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        return lasterr_fail(MQ_ERR_NO_MEMORY, "open client: out of memory");
    }
    c->opts = *opts;
    c->opts.urls = NULL;
    /* Read at open (conn_new copies them); not kept. */
    c->opts.tls_ca_file = c->opts.tls_cert_file = c->opts.tls_key_file = NULL;
    rv = client_opts_resolve(&c->opts);
    if (rv == MQ_OK) {
        rv = client_ns_set(c, opts->ns);
    }
    if (rv == MQ_OK) {
        rv = urls_parse(opts->urls, &urls, &n);
    }
    struct tlsdiag_files tls;
    if (rv == MQ_OK) {
        rv = tlsdiag_files_set(&tls, opts->tls_ca_file, opts->tls_cert_file,
                               opts->tls_key_file);
        if (rv != MQ_OK) {
            urls_free(urls, n);
        }
    }
    if (rv == MQ_OK) {
        rv = conn_new(&c->conn, urls, n, c->opts.attempt_timeout_ms, &tls);
        urls_free(urls, n);
    }
    if (rv == MQ_OK) {
        char token[CLIENT_TOKEN_MAX + 1];
        rv = client_token(opts, token);
        if (rv == MQ_OK) {
            rv = conn_set_token(c->conn, token);
        }
        explicit_bzero(token, sizeof token);
    }
    c->opts.token = NULL; /* the conn's copy is the one */
    c->opts.token_file = NULL;
    if (rv == MQ_OK) {
        c->opts.urls = strdup(opts->urls);
        if (c->opts.urls == NULL) {
            rv = lasterr_fail(MQ_ERR_NO_MEMORY, "out of memory");
        }
    }
    if (rv != MQ_OK) {
        conn_free(c->conn);
        free(c);
        lasterr_wrap("open client");
        return rv;
    }
    ids_init(&c->ids);
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return MQ_OK;
}

MQ_API void mq_client_close(mq_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->async != NULL) {
        async_close_begin(c->async);
    }
    conn_shutdown(c->conn);
    subscribe_stop_all(c);
    if (c->async != NULL) {
        async_free(c->async);
    }
    conn_free(c->conn);
    pthread_mutex_destroy(&c->lock);
    free((char *)c->opts.urls);
    free(c);
}
