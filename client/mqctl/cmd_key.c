/* cmd_key.c: mqctl key create|update|list|info|rotate|revoke: the keys of
 * a cluster with authentication on (docs/security.md). create and rotate
 * print the new token once ("token: mqk_..."): the cluster keeps only its
 * hash. rotate adds a second secret; rotate --retire-old drops every
 * secret but the newest. Flags: cmds.c.
 *
 * --json: create and rotate print {"key": {...}, "token": "..."}; update,
 * info and retire print {"key": {...}}; list prints {"keys": [...]};
 * revoke prints {"revoked": "NAME"}. A key is {"name", "grants": [{"deny",
 * "ns", "verbs": ["publish", ...]}], "expires_at_ms" (0: never),
 * "created_at_ms", "last_used_ms" (0: not yet), "secrets_created_at_ms":
 * [...], "bootstrap"}. */
#include "cmd_key.h"

#include <stdio.h>
#include <string.h>

#include "flagval.h"
#include "help.h"
#include "output.h"

static const char *const verb_names[] = {"publish", "consume", "manage",
                                         "admin"};

static void verbs_text(unsigned verbs, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 4; i++) {
        if ((verbs & (1u << i)) != 0 && at < len) {
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? "," : "",
                                   verb_names[i]);
        }
    }
}

static void json_key(struct json *j, const char *key, const mq_key_info *k)
{
    json_obj_open(j, key);
    json_str(j, "name", k->name);
    json_arr_open(j, "grants");
    for (size_t i = 0; i < k->n_grants; i++) {
        json_obj_open(j, NULL);
        json_bool(j, "deny", k->grants[i].deny);
        json_str(j, "ns", k->grants[i].ns);
        json_arr_open(j, "verbs");
        for (unsigned v = 0; v < 4; v++) {
            if ((k->grants[i].verbs & (1u << v)) != 0) {
                json_str(j, NULL, verb_names[v]);
            }
        }
        json_arr_close(j);
        json_obj_close(j);
    }
    json_arr_close(j);
    json_u64(j, "expires_at_ms", k->expires_at_ms);
    json_u64(j, "created_at_ms", k->created_at_ms);
    json_u64(j, "last_used_ms", k->last_used_ms);
    json_arr_open(j, "secrets_created_at_ms");
    for (size_t i = 0; i < k->n_secrets; i++) {
        json_u64(j, NULL, k->secret_created_at_ms[i]);
    }
    json_arr_close(j);
    json_bool(j, "bootstrap", k->bootstrap);
    json_obj_close(j);
}

static void print_time(const char *label, uint64_t ms, const char *zero)
{
    char buf[40];
    if (ms == 0) {
        printf("%-14s %s\n", label, zero);
        return;
    }
    out_time(ms, buf, sizeof buf);
    printf("%-14s %s\n", label, buf);
}

static void print_key(const mq_key_info *k)
{
    printf("%-14s %s%s\n", "name:", k->name,
           k->bootstrap ? " (bootstrap)" : "");
    for (size_t i = 0; i < k->n_grants; i++) {
        char verbs[64];
        verbs_text(k->grants[i].verbs, verbs, sizeof verbs);
        printf("%-14s %s %s %s\n", i == 0 ? "grants:" : "",
               k->grants[i].deny ? "deny " : "allow", k->grants[i].ns, verbs);
    }
    if (k->n_grants == 0) {
        printf("%-14s none (it may do nothing)\n", "grants:");
    }
    print_time("expires:", k->expires_at_ms, "never");
    print_time("created:", k->created_at_ms, "-");
    print_time("last used:", k->last_used_ms, "not yet");
    for (size_t i = 0; i < k->n_secrets; i++) {
        char at[40];
        out_time(k->secret_created_at_ms[i], at, sizeof at);
        printf("%-14s made %s%s\n", i == 0 ? "secrets:" : "", at,
               k->n_secrets > 1 && i == 0 ? " (old: retire it with rotate "
                                            "--retire-old)"
                                          : "");
    }
}

/* Prints @k, and @token when not NULL. */
static void show_key(const struct mqctl *m, const mq_key_info *k,
                     const char *token)
{
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_key(&j, "key", k);
        if (token != NULL) {
            json_str(&j, "token", token);
        }
        json_obj_close(&j);
        json_end(&j);
        return;
    }
    if (token != NULL) {
        printf("token: %s\n", token);
        printf("(shown this once: the cluster keeps only its hash)\n");
    }
    print_key(k);
}

/* Collects --allow and --deny of @a into @g (@grants: their patterns). */
static int parse_grants(const struct cmd *c, const struct args *a, mq_grant *g,
                        char (*ns)[MQ_NAME_MAX + 2], size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < a->n_flags; i++) {
        const char *name = a->flags[i].name;
        int deny = strncmp(name, "--deny", 6) == 0;
        if (!deny && strncmp(name, "--allow", 7) != 0) {
            continue;
        }
        if (*n == MQ_KEY_GRANTS_MAX) {
            return usage_error(c, "at most %d grants", MQ_KEY_GRANTS_MAX);
        }
        if (args_grant(a->flags[i].value, ns[*n], sizeof ns[*n],
                       &g[*n].verbs) != 0) {
            return usage_error(c,
                               "%s: \"%s\" is not NS:VERBS (prd:publish,"
                               "consume; team-*:consume; *:admin)",
                               deny ? "--deny" : "--allow", a->flags[i].value);
        }
        g[*n].ns = ns[*n];
        g[*n].deny = deny;
        (*n)++;
    }
    return 0;
}

int run_key_create(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    mq_key_config cfg = MQ_KEY_CONFIG_INIT;
    mq_grant grants[MQ_KEY_GRANTS_MAX];
    char ns[MQ_KEY_GRANTS_MAX][MQ_NAME_MAX + 2];
    char token[MQ_TOKEN_MAX + 1];
    mq_key_info info;
    mq_client *c;
    int rv;

    cfg.name = a->pos[0];
    if ((rv = parse_grants(cmd, a, grants, ns, &cfg.n_grants)) != 0) {
        return rv;
    }
    cfg.grants = grants;
    if ((rv = flag_duration(cmd, a, "--expires-in", 0, &cfg.expires_in_ms)) !=
        0) {
        return rv;
    }
    if (args_has(a, "--expires-in") && cfg.expires_in_ms == 0) {
        return usage_error(cmd, "--expires-in: say a duration such as 30d");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_key_create(c, &cfg, &info, token, sizeof token, 0) != MQ_OK) {
        return out_fail("key create", cfg.name);
    }
    show_key(m, &info, token);
    memset(token, 0, sizeof token);
    return 0;
}

int run_key_update(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    mq_key_config cfg = MQ_KEY_CONFIG_INIT;
    mq_grant grants[MQ_KEY_GRANTS_MAX];
    char ns[MQ_KEY_GRANTS_MAX][MQ_NAME_MAX + 2];
    mq_key_info info;
    unsigned flags = 0;
    mq_client *c;
    int rv;

    cfg.name = a->pos[0];
    if ((rv = parse_grants(cmd, a, grants, ns, &cfg.n_grants)) != 0) {
        return rv;
    }
    cfg.grants = grants;
    if (cfg.n_grants > 0) {
        flags |= MQ_KEY_SET_GRANTS;
    }
    if (args_has(a, "--expires-in")) {
        if (args_has(a, "--no-expiry")) {
            return usage_error(cmd,
                               "give --expires-in or --no-expiry, not both");
        }
        if ((rv = flag_duration(cmd, a, "--expires-in", 0,
                                &cfg.expires_in_ms)) != 0) {
            return rv;
        }
        if (cfg.expires_in_ms == 0) {
            return usage_error(cmd, "--expires-in: say a duration such as 30d");
        }
        flags |= MQ_KEY_SET_EXPIRY;
    } else if (args_has(a, "--no-expiry")) {
        flags |= MQ_KEY_SET_EXPIRY;
    }
    if (flags == 0) {
        return usage_error(cmd, "nothing to change (give grants or an expiry)");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_key_update(c, &cfg, flags, &info, 0) != MQ_OK) {
        return out_fail("key update", cfg.name);
    }
    show_key(m, &info, NULL);
    return 0;
}

int run_key_list(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    static const char *const head[] = {"NAME",    "GRANTS",    "EXPIRES",
                                       "SECRETS", "LAST USED", "BOOTSTRAP"};
    mq_key_info *list;
    size_t n;
    mq_client *c;

    (void)cmd;
    (void)a;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_key_list(c, &list, &n, 0) != MQ_OK) {
        return out_fail("key list", NULL);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_arr_open(&j, "keys");
        for (size_t i = 0; i < n; i++) {
            json_key(&j, NULL, &list[i]);
        }
        json_arr_close(&j);
        json_obj_close(&j);
        json_end(&j);
    } else {
        struct table t;
        table_init(&t, 6, head);
        for (size_t i = 0; i < n; i++) {
            char grants[512] = "", when[40];
            size_t at = 0;
            for (size_t g = 0; g < list[i].n_grants && at < sizeof grants;
                 g++) {
                char verbs[64];
                verbs_text(list[i].grants[g].verbs, verbs, sizeof verbs);
                at += (size_t)snprintf(grants + at, sizeof grants - at,
                                       "%s%s%s:%s", g ? " " : "",
                                       list[i].grants[g].deny ? "!" : "",
                                       list[i].grants[g].ns, verbs);
            }
            table_cell(&t, "%s", list[i].name);
            table_cell(&t, "%s", grants[0] ? grants : "-");
            if (list[i].expires_at_ms != 0) {
                out_time(list[i].expires_at_ms, when, sizeof when);
                table_cell(&t, "%s", when);
            } else {
                table_cell(&t, "never");
            }
            table_cell(&t, "%zu", list[i].n_secrets);
            if (list[i].last_used_ms != 0) {
                out_time(list[i].last_used_ms, when, sizeof when);
                table_cell(&t, "%s", when);
            } else {
                table_cell(&t, "-");
            }
            table_cell(&t, "%s", list[i].bootstrap ? "yes" : "-");
        }
        table_print(&t, stdout);
    }
    mq_key_list_free(list);
    return 0;
}

int run_key_info(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    mq_key_info info;
    mq_client *c;

    (void)cmd;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_key_info_get(c, a->pos[0], &info, 0) != MQ_OK) {
        return out_fail("key info", a->pos[0]);
    }
    show_key(m, &info, NULL);
    return 0;
}

int run_key_rotate(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    char token[MQ_TOKEN_MAX + 1];
    mq_key_info info;
    mq_client *c;
    mq_err rv;

    (void)cmd;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (args_has(a, "--retire-old")) {
        rv = mq_key_retire_old(c, a->pos[0], &info, 0);
    } else {
        rv = mq_key_rotate(c, a->pos[0], &info, token, sizeof token, 0);
    }
    if (rv != MQ_OK) {
        return out_fail("key rotate", a->pos[0]);
    }
    show_key(m, &info, args_has(a, "--retire-old") ? NULL : token);
    memset(token, 0, sizeof token);
    return 0;
}

int run_key_revoke(struct mqctl *m, const struct cmd *cmd, const struct args *a)
{
    const char *name = a->pos[0];
    mq_client *c;

    (void)cmd;
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_key_revoke(c, name, 0) != MQ_OK) {
        return out_fail("key revoke", name);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, "revoked", name);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("revoked key %s: every node refuses it from now on\n", name);
    }
    return 0;
}
