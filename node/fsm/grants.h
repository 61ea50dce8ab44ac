/* grants.h: what a key may do. A grant allows, or with deny forbids, a set
 * of verbs on the namespaces its pattern matches: a namespace ("prd"), a
 * prefix followed by "*" ("team-*"), or "*" (every namespace). A request
 * is allowed when a grant allows its verb on its namespace and no deny
 * entry matches: deny beats allow, and no grant means no. Admin is
 * cluster-wide: it is granted or denied on "*" only. Pure functions. */
#ifndef MQ_GRANTS_H
#define MQ_GRANTS_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"

/* Verbs, as bits (mq.proto's Grant.verbs). */
#define GRANT_PUBLISH 1u /* publish, cancel */
#define GRANT_CONSUME 2u /* fetch, ack, nack, touch, term, read, info */
#define GRANT_MANAGE 4u  /* queues and subscriptions, purge, redrive */
#define GRANT_ADMIN 8u   /* keys, membership, leadership */
#define GRANT_VERBS 15u

/* Longest pattern: a namespace name and a "*". */
#define GRANT_NS_MAX (MQ_NAME_MAX + 1)

struct grant {
    uint8_t deny;  /* 1: forbids the verbs */
    uint8_t verbs; /* GRANT_* bits, at least one */
    char ns[GRANT_NS_MAX + 1];
};

/* Checks @g: a pattern as above (1..GRANT_NS_MAX characters; a prefix
 * made of a name's characters, starting with a letter or digit), verbs a
 * non-empty subset of GRANT_VERBS, and admin only on "*". Returns MQ_OK or
 * MQ_ERR_INVALID with @e naming the pattern. */
mq_err grant_check(const struct grant *g, struct errmsg *e);

/* Whether pattern @pattern matches namespace @ns. */
int grant_match(const char *pattern, const char *ns);

/* Whether @grants (@n) allow @verb (one GRANT_* bit) on namespace @ns; @ns
 * NULL asks for every namespace at once (a request that reaches them all,
 * or a cluster-wide one): an allow on "*" and no deny of @verb at all. */
int grants_allow(const struct grant *grants, size_t n, unsigned verb,
                 const char *ns);

/* "publish", "consume", "manage" or "admin" for one GRANT_* bit; "?"
 * otherwise. */
const char *grant_verb_name(unsigned verb);

/* Parses a verb name; 0 when it is none of them. */
unsigned grant_verb_parse(const char *s, size_t len);

#endif
