/* rpc_auth.h: the request path's checks of keys (docs/security.md): which
 * verb and namespace each request needs, identifying its key
 * (node/auth/auth.h), refusing it (UNAUTHENTICATED, PERMISSION_DENIED
 * naming the verb and namespace), the audit lines, and the lists that show
 * only what the key may see. Loop thread only. */
#ifndef MQ_RPC_AUTH_H
#define MQ_RPC_AUTH_H

#include "auth.h"
#include "call.h"

/* Checks every request of @r with @a (borrowed for @r's life) from now on,
 * and starts the key work of the leader (rpc_keys.h). Returns MQ_OK or
 * MQ_ERR_NO_MEMORY. */
mq_err rpc_auth_start(struct rpc *r, struct auth *a, uv_loop_t *loop);

/* Stops the key work (closes its handles). The node closes @a itself. */
void rpc_auth_stop(struct rpc *r);

/* The request path, after decoding @call: returns 1 when @call may go on
 * now; 0 when it was answered (refused) or waits for the check of a
 * bootstrap secret (it goes on through rpc_route later, or is refused). */
int rpc_auth_check(struct call *call);

/* The end of a parked call's key check (auth_resume_cb's work, for a
 * call): goes on with it, or refuses it. */
void rpc_auth_resume(void *arg, mq_err err, const char *why);

/* The HTTP listener's key check (http.h's struct http_auth, @arg the
 * struct rpc): @authorization is the request's Authorization header
 * ("Bearer <key>"). Any valid key may read the figures, as it may ask for
 * status. Returns MQ_OK (also when authentication is off); MQ_ERR_NOT_DONE
 * with *@parked 1 (the bootstrap secret's slow check runs: the answer
 * comes through auth's resume callback with @ask); or refuses with
 * *@status 401 (no key, a malformed or unknown one, a wrong secret, an
 * expired key) or 503 (the bootstrap key is not applied yet) and @why.
 * Tokens are never put in @why. */
mq_err rpc_auth_http(void *arg, const char *authorization, void *ask,
                     int *parked, int *status, char *why, size_t why_len);

/* Logs the audit line of a manage or admin request about to be handled
 * (on the node that carries it out). */
void rpc_auth_audit(const struct call *call);

/* Whether @call's key may @verb (GRANT_* bit) in the namespace of queue
 * @qname (a full name): 1 when authentication is off. For lists. */
int rpc_auth_may(const struct call *call, unsigned verb, const char *qname);

#endif
