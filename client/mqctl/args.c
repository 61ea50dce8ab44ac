/* args.c: flags, durations and numbers of mqctl's command line. */
#include "args.h"

#include <stdio.h>
#include <string.h>

static int listed(const char *const *list, const char *name, size_t len)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0) {
            return 1;
        }
    }
    return 0;
}

int args_split(int argc, char **argv, const char *const *valued,
               const char *const *plain, struct args *out, char *err,
               size_t err_len)
{
    int only_pos = 0;

    memset(out, 0, sizeof *out);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] == '\0') {
            if (out->n_pos == ARGS_MAX) {
                snprintf(err, err_len, "too many arguments");
                return -1;
            }
            out->pos[out->n_pos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_pos = 1;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t len = eq != NULL ? (size_t)(eq - s) : strlen(s);
        struct args_flag f = {s, NULL};
        if (listed(valued, s, len)) {
            if (eq != NULL) {
                f.value = eq + 1;
            } else if (i + 1 < argc) {
                f.value = argv[++i];
            } else {
                snprintf(err, err_len, "%s needs a value", s);
                return -1;
            }
            f.name = s;
        } else if (eq == NULL && listed(plain, s, len)) {
            f.name = s;
        } else {
            snprintf(err, err_len, "unknown flag %.*s", (int)len, s);
            return -1;
        }
        if (out->n_flags == ARGS_MAX) {
            snprintf(err, err_len, "too many flags");
            return -1;
        }
        out->flags[out->n_flags++] = f;
    }
    return 0;
}

static int flag_is(const struct args_flag *f, const char *name)
{
    size_t len = strlen(name);

    return strncmp(f->name, name, len) == 0 &&
           (f->name[len] == '\0' || f->name[len] == '=');
}

const char *args_get(const struct args *a, const char *name)
{
    const char *v = NULL;

    for (size_t i = 0; i < a->n_flags; i++) {
        if (flag_is(&a->flags[i], name)) {
            v = a->flags[i].value;
        }
    }
    return v;
}

int args_has(const struct args *a, const char *name)
{
    for (size_t i = 0; i < a->n_flags; i++) {
        if (flag_is(&a->flags[i], name)) {
            return 1;
        }
    }
    return 0;
}

int args_uint(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t n = 0;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        if (n > (max - (uint64_t)(*s - '0')) / 10) {
            return -1;
        }
        n = n * 10 + (uint64_t)(*s - '0');
    }
    *v = n;
    return 0;
}

int args_duration_ms(const char *s, uint64_t *ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    uint64_t total = 0;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    while (*s != '\0') {
        uint64_t n = 0, mul = 0;
        size_t ulen = 0;
        if (*s < '0' || *s > '9') {
            return -1;
        }
        for (; *s >= '0' && *s <= '9'; s++) {
            if (n > (UINT64_MAX - 9) / 10) {
                return -1;
            }
            n = n * 10 + (uint64_t)(*s - '0');
        }
        /* Longest unit first: "ms" before "m". */
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t len = strlen(units[i].unit);
            if (strncmp(s, units[i].unit, len) == 0 && len > ulen &&
                (s[len] == '\0' || (s[len] >= '0' && s[len] <= '9'))) {
                mul = units[i].ms;
                ulen = len;
            }
        }
        if (mul == 0 || n > (UINT64_MAX - total) / mul) {
            return -1;
        }
        total += n * mul;
        s += ulen;
    }
    *ms = total;
    return 0;
}
