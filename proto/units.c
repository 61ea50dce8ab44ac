/* units.c: sizes and durations read and written (units.h). */
#include "units.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct unit {
    const char *name; /* lower case */
    uint64_t mul;
};

static const struct unit size_units[] = {
    {"b", 1},
    {"kb", 1000ull},
    {"mb", 1000000ull},
    {"gb", 1000000000ull},
    {"tb", 1000000000000ull},
    {"pb", 1000000000000000ull},
    {"kib", 1ull << 10},
    {"mib", 1ull << 20},
    {"gib", 1ull << 30},
    {"tib", 1ull << 40},
    {"pib", 1ull << 50},
};

/* Longest first where one is a prefix of another ("ms" before "m"). */
static const struct unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

#define N_UNITS(a) (sizeof(a) / sizeof(a)[0])

static int fail(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && why_len > 0) {
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A number at *p, "12" or "1.25": its whole part, its fraction's digits as
 * an integer and 10 to the number of those digits. Moves *p past it.
 * Returns 0, or -1 when there is none or it is too long. */
static int read_number(const char **p, uint64_t *whole, uint64_t *frac,
                       uint64_t *scale)
{
    const char *s = *p;

    *whole = 0;
    *frac = 0;
    *scale = 1;
    if (!is_digit(*s)) {
        return -1;
    }
    for (; is_digit(*s); s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (*whole > (UINT64_MAX - d) / 10) {
            return -1;
        }
        *whole = *whole * 10 + d;
    }
    if (*s == '.') {
        s++;
        if (!is_digit(*s)) {
            return -1;
        }
        for (; is_digit(*s); s++) {
            if (*scale >= 1000000000000000000ull) {
                return -1; /* more than 18 digits of fraction */
            }
            *frac = *frac * 10 + (uint64_t)(*s - '0');
            *scale *= 10;
        }
    }
    *p = s;
    return 0;
}

/* (@whole + @frac / @scale) * @mul into *out: -1 when it overflows, -2
 * when it is not a whole number. */
static int scale_by(uint64_t whole, uint64_t frac, uint64_t scale, uint64_t mul,
                    uint64_t *out)
{
    unsigned __int128 w = (unsigned __int128)whole * mul;
    unsigned __int128 f = (unsigned __int128)frac * mul;

    if (f % scale != 0) {
        return -2;
    }
    w += f / scale;
    if (w > UINT64_MAX) {
        return -1;
    }
    *out = (uint64_t)w;
    return 0;
}

/* The unit of @table whose name is the @len bytes at @s (any case). */
static const struct unit *find_unit(const struct unit *table, size_t n,
                                    const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        if (strlen(table[i].name) != len) {
            continue;
        }
        while (k < len && lower(s[k]) == table[i].name[k]) {
            k++;
        }
        if (k == len) {
            return &table[i];
        }
    }
    return NULL;
}

int units_size(const char *s, uint64_t *bytes, char *why, size_t why_len)
{
    uint64_t whole, frac, scale, v;
    const char *p = s;
    const struct unit *u;
    static const struct unit bare = {"", 1};

    if (s == NULL || *s == '\0') {
        return fail(why, why_len, "empty: say a size such as 64KiB or 1MB");
    }
    if (read_number(&p, &whole, &frac, &scale) != 0) {
        return fail(why, why_len,
                    "\"%s\" is not a size such as 512KiB, 1MB or 1.5GiB", s);
    }
    u = *p == '\0' ? &bare
                   : find_unit(size_units, N_UNITS(size_units), p, strlen(p));
    if (u == NULL) {
        if (strlen(p) == 1 && strchr("kKmMgGtTpP", *p) != NULL) {
            char unit[2] = {(char)(lower(*p) - 'a' + 'A'), '\0'};
            return fail(why, why_len,
                        "\"%s\": %s could mean a power of 1000 or of 1024: "
                        "say %sB or %siB",
                        s, unit, *p == 'k' || *p == 'K' ? "k" : unit, unit);
        }
        return fail(why, why_len,
                    "\"%s\": unknown unit (say B, kB, MB, GB, TB, KiB, MiB, "
                    "GiB or TiB)",
                    s);
    }
    switch (scale_by(whole, frac, scale, u->mul, &v)) {
    case -1:
        return fail(why, why_len, "\"%s\" is too large", s);
    case -2:
        return fail(why, why_len, "\"%s\" is not a whole number of bytes", s);
    }
    *bytes = v;
    return 0;
}

int units_duration_ms(const char *s, uint64_t bare_ms, uint64_t *ms, char *why,
                      size_t why_len)
{
    uint64_t total = 0, whole, frac, scale, v;
    const char *p = s;

    if (s == NULL || *s == '\0') {
        return fail(why, why_len,
                    "empty: say a duration such as 90s, 1.5h or 7d");
    }
    if (read_number(&p, &whole, &frac, &scale) == 0 && *p == '\0') {
        /* A number alone. */
        if (whole == 0 && frac == 0) {
            *ms = 0;
            return 0;
        }
        if (bare_ms == 0) {
            return fail(why, why_len,
                        "\"%s\" has no unit: say ms, s, m, h or d, as in 90s "
                        "or 1.5h",
                        s);
        }
        if (scale_by(whole, frac, scale, bare_ms, &v) != 0) {
            return fail(why, why_len,
                        "\"%s\" is too large or not a whole number of ms", s);
        }
        *ms = v;
        return 0;
    }
    p = s;
    while (*p != '\0') {
        const struct unit *u = NULL;
        size_t len = 0;
        if (read_number(&p, &whole, &frac, &scale) != 0) {
            return fail(why, why_len,
                        "\"%s\" is not a duration such as 90s, 1.5h, 7d or "
                        "1h30m",
                        s);
        }
        while (p[len] != '\0' && !is_digit(p[len])) {
            len++;
        }
        u = find_unit(duration_units, N_UNITS(duration_units), p, len);
        if (u == NULL) {
            return fail(why, why_len, "\"%s\": %s (say ms, s, m, h or d)", s,
                        len == 0 ? "a number has no unit" : "unknown unit");
        }
        switch (scale_by(whole, frac, scale, u->mul, &v)) {
        case -1:
            return fail(why, why_len, "\"%s\" is too large", s);
        case -2:
            return fail(why, why_len,
                        "\"%s\" is not a whole number of milliseconds", s);
        }
        if (v > UINT64_MAX - total) {
            return fail(why, why_len, "\"%s\" is too large", s);
        }
        total += v;
        p += len;
    }
    *ms = total;
    return 0;
}

void units_size_format(uint64_t bytes, char *buf, size_t len)
{
    /* Binary units first, largest first; then decimal ones. */
    static const size_t order[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

    if (bytes == 0) {
        snprintf(buf, len, "0");
        return;
    }
    for (size_t i = 0; i < N_UNITS(order); i++) {
        const struct unit *u = &size_units[order[i]];
        if (bytes % u->mul == 0) {
            char name[4];
            /* kB, KiB, MB, MiB ...: the case people write them in. */
            snprintf(name, sizeof name, "%s", u->name);
            name[0] = u->name[0] == 'k' && u->name[1] == 'b'
                          ? 'k'
                          : (char)(name[0] - 'a' + 'A');
            name[strlen(name) - 1] = 'B';
            snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / u->mul),
                     name);
            return;
        }
    }
    snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

void units_duration_format(uint64_t ms, char *buf, size_t len)
{
    size_t used = 0;

    if (ms == 0) {
        snprintf(buf, len, "0");
        return;
    }
    buf[0] = '\0';
    for (size_t i = N_UNITS(duration_units); i-- > 0;) {
        uint64_t n = ms / duration_units[i].mul;
        if (n == 0) {
            continue;
        }
        ms -= n * duration_units[i].mul;
        if (used < len) {
            used +=
                (size_t)snprintf(buf + used, len - used, "%llu%s",
                                 (unsigned long long)n, duration_units[i].name);
        }
    }
}
