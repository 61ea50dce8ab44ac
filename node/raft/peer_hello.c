/* peer_hello.c: the signed hello of a peer connection (peer_hello.h). */
#include "peer_hello.h"

#include <string.h>
#include <sys/random.h>

#define HELLO_TAG "mq-peer-hello-1"
/* The signed bytes: tag, name, ids, time, nonce and two URLs. */
#define SIGNED_MAX                                                             \
    (sizeof HELLO_TAG + 64 + 3 * 8 + PEER_HELLO_NONCE + 2 * MQ_URL_MAX + 8)

static size_t put_str(uint8_t *buf, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s) + 1; /* with its NUL: no two lists sign alike */
    if (at + n > cap) {
        return cap + 1;
    }
    memcpy(buf + at, s, n);
    return at + n;
}

static size_t put_u64(uint8_t *buf, size_t at, size_t cap, uint64_t v)
{
    if (at + 8 > cap) {
        return cap + 1;
    }
    for (int i = 0; i < 8; i++) {
        buf[at + i] = (uint8_t)(v >> (8 * i));
    }
    return at + 8;
}

/* The bytes signed; 0 when they do not fit. */
static size_t signed_bytes(const char *cluster_name, uint64_t from_id,
                           uint64_t to_id, uint64_t sent_at_ms,
                           const uint8_t *nonce, const char *from_address,
                           const char *from_client_url, uint8_t *buf,
                           size_t cap)
{
    size_t at = put_str(buf, 0, cap, HELLO_TAG);
    if (at <= cap) {
        at = put_str(buf, at, cap, cluster_name);
    }
    if (at <= cap) {
        at = put_u64(buf, at, cap, from_id);
    }
    if (at <= cap) {
        at = put_u64(buf, at, cap, to_id);
    }
    if (at <= cap) {
        at = put_u64(buf, at, cap, sent_at_ms);
    }
    if (at + PEER_HELLO_NONCE <= cap) {
        memcpy(buf + at, nonce, PEER_HELLO_NONCE);
        at += PEER_HELLO_NONCE;
    } else {
        at = cap + 1;
    }
    if (at <= cap) {
        at = put_str(buf, at, cap, from_address);
    }
    if (at <= cap) {
        at = put_str(buf, at, cap, from_client_url);
    }
    return at <= cap ? at : 0;
}

mq_err peer_hello_encode(const struct peer_self *self, const char *cluster_name,
                         uint64_t to_id, struct tlsid *id, nng_msg **out,
                         struct errmsg *e)
{
    Mq__V1__PeerMessage pm = MQ__V1__PEER_MESSAGE__INIT;
    Mq__V1__PeerHello h = MQ__V1__PEER_HELLO__INIT;
    ProtobufCBinaryData certs[TLSID_CHAIN_MAX];
    uint8_t nonce[PEER_HELLO_NONCE];
    uint8_t data[SIGNED_MAX];
    uint8_t sig[TLSID_SIG_MAX];
    size_t n = 0, len, sig_len = 0;
    mq_err rv;

    *out = NULL;
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) {
        errmsg_set(e, "peer hello: no randomness");
        return MQ_ERR_INTERNAL;
    }
    len = signed_bytes(cluster_name, self->id, to_id, self->now_ms, nonce,
                       self->peer_url, self->client_url, data, sizeof data);
    if (len == 0) {
        errmsg_set(e, "peer hello: names too long");
        return MQ_ERR_INVALID;
    }
    if (id != NULL &&
        (rv = tlsid_sign(id, data, len, sig, &sig_len, e)) != MQ_OK) {
        return rv;
    }
    for (const uint8_t *c; id != NULL && n < TLSID_CHAIN_MAX &&
                           (c = tlsid_cert(id, n, &certs[n].len)) != NULL;
         n++) {
        certs[n].data = (uint8_t *)c;
    }
    h.to_id = to_id;
    h.nonce.data = nonce;
    h.nonce.len = sizeof nonce;
    h.n_certs = n;
    h.certs = certs;
    h.signature.data = sig;
    h.signature.len = sig_len;
    pm.cluster = self->cluster;
    pm.from_id = self->id;
    pm.from_address = (char *)self->peer_url;
    pm.from_client_url = (char *)self->client_url;
    pm.sent_at_ms = self->now_ms;
    pm.body_case = MQ__V1__PEER_MESSAGE__BODY_HELLO;
    pm.hello = &h;
    len = mq__v1__peer_message__get_packed_size(&pm);
    if (nng_msg_alloc(out, len) != 0) {
        errmsg_set(e, "peer hello: out of memory");
        return MQ_ERR_NO_MEMORY;
    }
    mq__v1__peer_message__pack(&pm, nng_msg_body(*out));
    return MQ_OK;
}

const char *peer_hello_shape(const Mq__V1__PeerHello *h)
{
    if (h->to_id == 0) {
        return "hello names no receiver";
    }
    if (h->nonce.len != PEER_HELLO_NONCE) {
        return "hello's nonce is not 16 bytes";
    }
    if (h->n_certs == 0 && h->signature.len == 0) {
        return NULL; /* a plain hello: peer TLS is off */
    }
    if (h->n_certs == 0 || h->n_certs > TLSID_CHAIN_MAX) {
        return "hello carries no certificate, or too many";
    }
    for (size_t i = 0; i < h->n_certs; i++) {
        if (h->certs[i].len == 0 || h->certs[i].len > TLSID_CERT_MAX) {
            return "hello's certificate is empty or too large";
        }
    }
    if (h->signature.len == 0 || h->signature.len > TLSID_SIG_MAX) {
        return "hello's signature is empty or too large";
    }
    return NULL;
}

/* Whether @nonce was seen; remembers it when not. */
static int seen_before(struct peer_hello_seen *s, const uint8_t *nonce)
{
    for (size_t i = 0; i < s->n; i++) {
        if (memcmp(s->nonce[i], nonce, PEER_HELLO_NONCE) == 0) {
            return 1;
        }
    }
    return 0;
}

static void remember(struct peer_hello_seen *s, const uint8_t *nonce)
{
    memcpy(s->nonce[s->next], nonce, PEER_HELLO_NONCE);
    s->next = (s->next + 1) % PEER_HELLO_SEEN;
    if (s->n < PEER_HELLO_SEEN) {
        s->n++;
    }
}

mq_err peer_hello_verify(const Mq__V1__PeerMessage *pm,
                         const struct peer_hello_ctx *ctx, struct errmsg *e)
{
    const Mq__V1__PeerHello *h = pm->hello;
    const uint8_t *certs[TLSID_CHAIN_MAX];
    size_t lens[TLSID_CHAIN_MAX];
    uint8_t data[SIGNED_MAX];
    uint64_t age, max_age = PEER_HELLO_MAX_AGE_MS + ctx->max_skew_ms;
    const char *why;
    size_t len;
    mq_err rv;

    if (pm->body_case != MQ__V1__PEER_MESSAGE__BODY_HELLO || h == NULL) {
        errmsg_set(e, "not a hello");
        return MQ_ERR_INVALID;
    }
    if ((why = peer_hello_shape(h)) != NULL) {
        errmsg_set(e, "%s", why);
        return MQ_ERR_INVALID;
    }
    if (h->n_certs == 0) {
        errmsg_set(e, "hello is not signed (is peer TLS off on that node?)");
        return MQ_ERR_INVALID;
    }
    if (h->to_id != ctx->self_id) {
        errmsg_set(e, "hello is addressed to node %llu, not this node",
                   (unsigned long long)h->to_id);
        return MQ_ERR_INVALID;
    }
    age = pm->sent_at_ms > ctx->now_ms ? pm->sent_at_ms - ctx->now_ms
                                       : ctx->now_ms - pm->sent_at_ms;
    if (age > max_age) {
        errmsg_set(e, "hello is %llu ms off this node's clock (more than %llu)",
                   (unsigned long long)age, (unsigned long long)max_age);
        return MQ_ERR_INVALID;
    }
    if (seen_before(ctx->seen, h->nonce.data)) {
        errmsg_set(e, "hello replayed (its nonce was seen before)");
        return MQ_ERR_INVALID;
    }
    len = signed_bytes(ctx->cluster_name, pm->from_id, h->to_id, pm->sent_at_ms,
                       h->nonce.data, pm->from_address, pm->from_client_url,
                       data, sizeof data);
    if (len == 0) {
        errmsg_set(e, "hello's names are too long");
        return MQ_ERR_INVALID;
    }
    for (size_t i = 0; i < h->n_certs; i++) {
        certs[i] = h->certs[i].data;
        lens[i] = h->certs[i].len;
    }
    rv = tlsid_verify(ctx->id, certs, lens, h->n_certs, ctx->host, data, len,
                      h->signature.data, h->signature.len, e);
    if (rv != MQ_OK) {
        return rv;
    }
    remember(ctx->seen, h->nonce.data);
    return MQ_OK;
}
