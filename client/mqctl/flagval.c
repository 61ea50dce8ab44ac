/* flagval.c: values of flags and arguments (flagval.h). Sizes and
 * durations are read by libmq (mq_size_parse, mq_duration_parse), the
 * parser mqd's configuration uses too. */
#include "flagval.h"

#include <string.h>

#include "help.h"
#include "main.h"

static int is_unlimited(unsigned opts, const char *s)
{
    return (opts & FV_UNLIMITED) != 0 && strcmp(s, "unlimited") == 0;
}

int flag_size(const struct cmd *c, const struct args *a, const char *name,
              unsigned opts, uint64_t max, uint64_t *v)
{
    const char *s = args_get(a, name);
    uint64_t n;

    if (s == NULL) {
        return 0;
    }
    if (is_unlimited(opts, s)) {
        *v = 0;
        return 0;
    }
    if (mq_size_parse(s, &n) != MQ_OK) {
        return usage_error(c, "%s: %s", name, mq_errmsg());
    }
    if (n > max) {
        char lim[32];
        args_size_text(max, lim, sizeof lim);
        return usage_error(c, "%s: %s is more than %s", name, s, lim);
    }
    *v = n;
    return 0;
}

int flag_duration(const struct cmd *c, const struct args *a, const char *name,
                  unsigned opts, uint64_t *v)
{
    const char *s = args_get(a, name);

    if (s == NULL) {
        return 0;
    }
    if (is_unlimited(opts, s)) {
        *v = 0;
        return 0;
    }
    if (mq_duration_parse(s, v) != MQ_OK) {
        return usage_error(c, "%s: %s", name, mq_errmsg());
    }
    return 0;
}

int flag_count(const struct cmd *c, const struct args *a, const char *name,
               unsigned opts, uint64_t min, uint64_t max, uint64_t *v)
{
    const char *s = args_get(a, name);

    if (s == NULL) {
        return 0;
    }
    if (is_unlimited(opts, s)) {
        *v = 0;
        return 0;
    }
    return pos_count(c, name, s, min, max, v);
}

int pos_count(const struct cmd *c, const char *what, const char *s,
              uint64_t min, uint64_t max, uint64_t *v)
{
    uint64_t n;

    if (args_uint(s, max, &n) != 0 || n < min) {
        return usage_error(c, "%s: \"%s\" is not a whole number in %llu..%llu",
                           what, s, (unsigned long long)min,
                           (unsigned long long)max);
    }
    *v = n;
    return 0;
}

int flag_time(const struct cmd *c, const struct args *a, const char *name,
              uint64_t *v)
{
    const char *s = args_get(a, name);

    if (s == NULL) {
        return 0;
    }
    if (args_time_ms(s, mqctl_now_ms(), v) != 0) {
        return usage_error(c,
                           "%s: \"%s\" is not a time such as "
                           "2026-11-23T20:00:00Z, ms since the epoch or -5m",
                           name, s);
    }
    return 0;
}

int flag_choice(const struct cmd *c, const struct args *a, const char *name,
                const char *const *choices, int *idx)
{
    const char *s = args_get(a, name);
    char list[128] = "";
    size_t used = 0;

    if (s == NULL) {
        return 0;
    }
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(s, choices[i]) == 0) {
            *idx = i;
            return 0;
        }
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                 i == 0           ? ""
                                 : choices[i + 1] ? ", "
                                                  : " or ",
                                 choices[i]);
        if (used >= sizeof list) {
            used = sizeof list - 1;
        }
    }
    return usage_error(c, "%s: \"%s\": say %s", name, s, list);
}
