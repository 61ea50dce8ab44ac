/* args.c: flags, durations, numbers and times of mqctl's command line. */
#include "args.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mq.h"

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
    uint64_t v;

    /* libmq's parser, which mqd's configuration uses too. */
    if (mq_duration_parse(s, &v) != MQ_OK) {
        return -1;
    }
    *ms = v;
    return 0;
}

void args_size_text(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"PiB", "TiB", "GiB", "MiB", "KiB"};

    for (int i = 0; i < 5 && bytes != 0; i++) {
        uint64_t mul = 1ull << (10 * (5 - i));
        if (bytes % mul == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / mul),
                     units[i]);
            return;
        }
    }
    snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

int args_rate(const char *s, uint64_t max, uint64_t *v)
{
    char num[24];
    size_t len = s != NULL ? strlen(s) : 0;
    uint64_t n;

    if (len > 2 && strcmp(s + len - 2, "/s") == 0) {
        len -= 2;
    }
    if (len == 0 || len >= sizeof num) {
        return -1;
    }
    memcpy(num, s, len);
    num[len] = '\0';
    if (args_uint(num, max, &n) != 0 || n == 0) {
        return -1;
    }
    *v = n;
    return 0;
}

/* Reads exactly @n digits at *p into *v and moves *p past them. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9') {
            return -1;
        }
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

/* Reads character @c at *p (either case when a letter). */
static int expect(const char **p, char c)
{
    if (**p != c && !(c >= 'A' && c <= 'Z' && **p == c - 'A' + 'a')) {
        return -1;
    }
    (*p)++;
    return 0;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int parse_rfc3339(const char *p, uint64_t *ms)
{
    int year, mon, day, hour, min, sec, oh = 0, om = 0, frac_ms = 0;
    long long offset_s = 0, t;
    struct tm tm = {0}, back;
    time_t secs;

    if (digits(&p, 4, &year) != 0 || expect(&p, '-') != 0 ||
        digits(&p, 2, &mon) != 0 || expect(&p, '-') != 0 ||
        digits(&p, 2, &day) != 0 || expect(&p, 'T') != 0 ||
        digits(&p, 2, &hour) != 0 || expect(&p, ':') != 0 ||
        digits(&p, 2, &min) != 0 || expect(&p, ':') != 0 ||
        digits(&p, 2, &sec) != 0) {
        return -1;
    }
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            if (n < 3) {
                frac_ms = frac_ms * 10 + (*p - '0');
            }
        }
        if (n == 0) {
            return -1;
        }
        for (; n < 3; n++) {
            frac_ms *= 10;
        }
    }
    if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 2, &oh) != 0 || expect(&p, ':') != 0 ||
            digits(&p, 2, &om) != 0 || oh > 23 || om > 59) {
            return -1;
        }
        offset_s = sign * (oh * 3600LL + om * 60LL);
    } else if (expect(&p, 'Z') != 0) {
        return -1;
    }
    if (*p != '\0' || year < 1970 || mon < 1 || mon > 12 || day < 1 ||
        day > 31 || hour > 23 || min > 59 || sec > 60) {
        return -1;
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec == 60 ? 59 : sec; /* a leap second: its last ms */
    secs = timegm(&tm);
    /* timegm moves Feb 30 to Mar 2: such a date does not exist. */
    if (secs == (time_t)-1 || gmtime_r(&secs, &back) == NULL ||
        back.tm_mday != day || back.tm_mon != mon - 1) {
        return -1;
    }
    t = (long long)secs - offset_s;
    if (t < 0) {
        return -1;
    }
    *ms = (uint64_t)t * 1000 + (uint64_t)(sec == 60 ? 999 : frac_ms);
    return 0;
}

int args_time_ms(const char *s, uint64_t now_ms, uint64_t *ms)
{
    uint64_t v;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    if (s[0] == '-') {
        if (args_duration_ms(s + 1, &v) != 0 || v > now_ms) {
            return -1;
        }
        *ms = now_ms - v;
        return 0;
    }
    if (strchr(s, '-') == NULL) {
        return args_uint(s, UINT64_MAX, ms);
    }
    return parse_rfc3339(s, ms);
}

int args_grant(const char *s, char *ns, size_t ns_len, unsigned *verbs)
{
    static const char *const names[] = {"publish", "consume", "manage",
                                        "admin"};
    const char *colon = strrchr(s, ':');
    size_t len;

    *verbs = 0;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= ns_len) {
        return -1;
    }
    memcpy(ns, s, (size_t)(colon - s));
    ns[colon - s] = '\0';
    for (const char *p = colon + 1;; p += len + 1) {
        unsigned bit = 0;
        len = strcspn(p, ",");
        for (unsigned i = 0; i < 4; i++) {
            if (strlen(names[i]) == len && strncmp(p, names[i], len) == 0) {
                bit = MQ_VERB_PUBLISH << i;
            }
        }
        if (bit == 0) {
            return -1;
        }
        *verbs |= bit;
        if (p[len] == '\0') {
            return 0;
        }
    }
}
