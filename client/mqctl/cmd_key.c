/* cmd_key.c: mqctl key create|update|list|info|rotate|revoke: the keys of
 * a cluster with authentication on (docs/security.md). create and rotate
 * print the new token once ("token: mqk_..."): the cluster keeps only its
 * hash. rotate adds a second secret; rotate --retire-old drops every
 * secret but the newest.
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

#include "args.h"
#include "output.h"

static const char usage_create[] =
    "mqctl key create NAME [--allow NS:VERBS]... [--deny NS:VERBS]... "
    "[--expires-in DUR]";
static const char usage_update[] =
    "mqctl key update NAME [--allow NS:VERBS]... [--deny NS:VERBS]...\n"
    "         [--expires-in DUR | --no-expiry]";
static const char usage_group[] =
    "mqctl key create|update|list|info|rotate|revoke ... (mqctl --help for "
    "details)";

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
static int parse_grants(const struct args *a, const char *usage, mq_grant *g,
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
            out_usage(usage, "at most %d grants", MQ_KEY_GRANTS_MAX);
            return -1;
        }
        if (args_grant(a->flags[i].value, ns[*n], sizeof ns[*n],
                       &g[*n].verbs) != 0) {
            out_usage(usage,
                      "%s %s is not NS:VERBS (prd:publish,consume; "
                      "team-*:consume; *:admin)",
                      deny ? "--deny" : "--allow", a->flags[i].value);
            return -1;
        }
        g[*n].ns = ns[*n];
        g[*n].deny = deny;
        (*n)++;
    }
    return 0;
}

static int key_create(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--allow", "--deny", "--expires-in",
                                         NULL};
    mq_key_config cfg = MQ_KEY_CONFIG_INIT;
    mq_grant grants[MQ_KEY_GRANTS_MAX];
    char ns[MQ_KEY_GRANTS_MAX][MQ_NAME_MAX + 2];
    char token[MQ_TOKEN_MAX + 1];
    mq_key_info info;
    struct args a;
    char err[128];
    const char *s;
    mq_client *c;

    if (args_split(argc, argv, valued, NULL, &a, err, sizeof err) != 0) {
        return out_usage(usage_create, "key create: %s", err);
    }
    if (a.n_pos != 1) {
        return out_usage(usage_create, "key create takes a NAME");
    }
    cfg.name = a.pos[0];
    if (parse_grants(&a, usage_create, grants, ns, &cfg.n_grants) != 0) {
        return 2;
    }
    cfg.grants = grants;
    if ((s = args_get(&a, "--expires-in")) != NULL &&
        (args_duration_ms(s, &cfg.expires_in_ms) != 0 ||
         cfg.expires_in_ms == 0)) {
        return out_usage(usage_create,
                         "--expires-in %s is not a duration such as 30d", s);
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

static int key_update(struct mqctl *m, int argc, char **argv)
{
    static const char *const valued[] = {"--allow", "--deny", "--expires-in",
                                         NULL};
    static const char *const plain[] = {"--no-expiry", NULL};
    mq_key_config cfg = MQ_KEY_CONFIG_INIT;
    mq_grant grants[MQ_KEY_GRANTS_MAX];
    char ns[MQ_KEY_GRANTS_MAX][MQ_NAME_MAX + 2];
    mq_key_info info;
    unsigned flags = 0;
    struct args a;
    char err[128];
    const char *s;
    mq_client *c;

    if (args_split(argc, argv, valued, plain, &a, err, sizeof err) != 0) {
        return out_usage(usage_update, "key update: %s", err);
    }
    if (a.n_pos != 1) {
        return out_usage(usage_update, "key update takes a NAME");
    }
    cfg.name = a.pos[0];
    if (parse_grants(&a, usage_update, grants, ns, &cfg.n_grants) != 0) {
        return 2;
    }
    cfg.grants = grants;
    if (cfg.n_grants > 0) {
        flags |= MQ_KEY_SET_GRANTS;
    }
    if ((s = args_get(&a, "--expires-in")) != NULL) {
        if (args_has(&a, "--no-expiry")) {
            return out_usage(usage_update,
                             "give --expires-in or --no-expiry, not both");
        }
        if (args_duration_ms(s, &cfg.expires_in_ms) != 0 ||
            cfg.expires_in_ms == 0) {
            return out_usage(usage_update,
                             "--expires-in %s is not a duration such as 30d",
                             s);
        }
        flags |= MQ_KEY_SET_EXPIRY;
    } else if (args_has(&a, "--no-expiry")) {
        flags |= MQ_KEY_SET_EXPIRY;
    }
    if (flags == 0) {
        return out_usage(usage_update,
                         "key update: nothing to change (give grants or an "
                         "expiry)");
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

static int key_list(struct mqctl *m, int argc, char **argv)
{
    static const char *const head[] = {"NAME",    "GRANTS",    "EXPIRES",
                                       "SECRETS", "LAST USED", "BOOTSTRAP"};
    mq_key_info *list;
    size_t n;
    mq_client *c;

    (void)argv;
    if (argc != 0) {
        return out_usage("mqctl key list", "key list takes no arguments");
    }
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

static int key_info(struct mqctl *m, int argc, char **argv)
{
    mq_key_info info;
    mq_client *c;

    if (argc != 1 || argv[0][0] == '-') {
        return out_usage("mqctl key info NAME", "key info takes a NAME");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_key_info_get(c, argv[0], &info, 0) != MQ_OK) {
        return out_fail("key info", argv[0]);
    }
    show_key(m, &info, NULL);
    return 0;
}

static int key_rotate(struct mqctl *m, int argc, char **argv)
{
    static const char *const plain[] = {"--retire-old", NULL};
    static const char usage[] = "mqctl key rotate NAME [--retire-old]";
    char token[MQ_TOKEN_MAX + 1];
    mq_key_info info;
    struct args a;
    char err[128];
    mq_client *c;
    mq_err rv;

    if (args_split(argc, argv, NULL, plain, &a, err, sizeof err) != 0) {
        return out_usage(usage, "key rotate: %s", err);
    }
    if (a.n_pos != 1) {
        return out_usage(usage, "key rotate takes a NAME");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (args_has(&a, "--retire-old")) {
        rv = mq_key_retire_old(c, a.pos[0], &info, 0);
    } else {
        rv = mq_key_rotate(c, a.pos[0], &info, token, sizeof token, 0);
    }
    if (rv != MQ_OK) {
        return out_fail("key rotate", a.pos[0]);
    }
    show_key(m, &info, args_has(&a, "--retire-old") ? NULL : token);
    memset(token, 0, sizeof token);
    return 0;
}

static int key_revoke(struct mqctl *m, int argc, char **argv)
{
    mq_client *c;

    if (argc != 1 || argv[0][0] == '-') {
        return out_usage("mqctl key revoke NAME", "key revoke takes a NAME");
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_key_revoke(c, argv[0], 0) != MQ_OK) {
        return out_fail("key revoke", argv[0]);
    }
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_str(&j, "revoked", argv[0]);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("revoked key %s: every node refuses it from now on\n", argv[0]);
    }
    return 0;
}

int cmd_key(struct mqctl *m, int argc, char **argv)
{
    if (argc == 0) {
        return out_usage(usage_group, "key needs a subcommand");
    }
    if (strcmp(argv[0], "create") == 0) {
        return key_create(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "update") == 0) {
        return key_update(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "list") == 0) {
        return key_list(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "info") == 0) {
        return key_info(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "rotate") == 0) {
        return key_rotate(m, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "revoke") == 0) {
        return key_revoke(m, argc - 1, argv + 1);
    }
    return out_usage(usage_group, "key %s: unknown subcommand", argv[0]);
}
