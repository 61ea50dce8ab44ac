/* grants.c: matching a key's grants against a verb and a namespace. */
#include "grants.h"

#include <string.h>

#include "names.h"

mq_err grant_check(const struct grant *g, struct errmsg *e)
{
    size_t len = strnlen(g->ns, sizeof g->ns);

    if (len == 0 || len > GRANT_NS_MAX) {
        errmsg_set(e, "grant: namespace pattern must be 1..%d characters",
                   GRANT_NS_MAX);
        return MQ_ERR_INVALID;
    }
    if ((g->verbs & ~GRANT_VERBS) != 0 || g->verbs == 0) {
        errmsg_set(e,
                   "grant on %s: verbs must be some of publish, consume, "
                   "manage and admin",
                   g->ns);
        return MQ_ERR_INVALID;
    }
    if (g->deny > 1) {
        errmsg_set(e, "grant on %s: deny must be 0 or 1", g->ns);
        return MQ_ERR_INVALID;
    }
    if (strcmp(g->ns, "*") != 0) {
        size_t name_len = g->ns[len - 1] == '*' ? len - 1 : len;
        struct errmsg ne = ERRMSG_INIT;
        if (name_len > MQ_NAME_MAX ||
            name_check(g->ns, name_len, "namespace", &ne) != MQ_OK) {
            errmsg_set(e,
                       "grant: \"%s\" is not a namespace, a prefix followed "
                       "by '*' (\"team-*\"), or \"*\"",
                       g->ns);
            return MQ_ERR_INVALID;
        }
        if ((g->verbs & GRANT_ADMIN) != 0) {
            errmsg_set(e,
                       "grant on %s: admin is cluster-wide: grant or deny it "
                       "on namespace \"*\"",
                       g->ns);
            return MQ_ERR_INVALID;
        }
    }
    return MQ_OK;
}

int grant_match(const char *pattern, const char *ns)
{
    size_t len = strlen(pattern);
    if (len > 0 && pattern[len - 1] == '*') {
        return strncmp(pattern, ns, len - 1) == 0;
    }
    return strcmp(pattern, ns) == 0;
}

int grants_allow(const struct grant *grants, size_t n, unsigned verb,
                 const char *ns)
{
    int allowed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct grant *g = &grants[i];
        if ((g->verbs & verb) == 0) {
            continue;
        }
        if (g->deny) {
            /* Every namespace: any deny of the verb takes one away. */
            if (ns == NULL || grant_match(g->ns, ns)) {
                return 0;
            }
        } else if (ns == NULL ? strcmp(g->ns, "*") == 0
                              : grant_match(g->ns, ns)) {
            allowed = 1;
        }
    }
    return allowed;
}

const char *grant_verb_name(unsigned verb)
{
    switch (verb) {
    case GRANT_PUBLISH:
        return "publish";
    case GRANT_CONSUME:
        return "consume";
    case GRANT_MANAGE:
        return "manage";
    case GRANT_ADMIN:
        return "admin";
    default:
        return "?";
    }
}

unsigned grant_verb_parse(const char *s, size_t len)
{
    static const char *const names[] = {"publish", "consume", "manage",
                                        "admin"};
    for (unsigned i = 0; i < 4; i++) {
        if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0) {
            return 1u << i;
        }
    }
    return 0;
}
