/* filter.c: matching events against subscription filters, token by token. */
#include "filter.h"

#include <string.h>

int filter_match(const char *f, const char *ev, size_t len)
{
    size_t i = 0; /* position in ev */
    for (;;) {
        const char *fend = strchr(f, '.');
        size_t ftok = fend ? (size_t)(fend - f) : strlen(f);
        if (ftok == 1 && f[0] == '>') {
            return i < len; /* one or more tokens left */
        }
        if (i >= len) {
            return 0;
        }
        size_t j = i;
        while (j < len && ev[j] != '.') {
            j++;
        }
        if (!(ftok == 1 && f[0] == '*') &&
            (ftok != j - i || memcmp(f, ev + i, ftok) != 0)) {
            return 0;
        }
        if (fend == NULL) {
            return j == len;
        }
        if (j == len) {
            return 0; /* the filter has more tokens than the event */
        }
        f = fend + 1;
        i = j + 1;
    }
}

int filter_match_any(const char *list, size_t n, const char *ev, size_t len)
{
    if (n == 0) {
        return 1;
    }
    for (size_t k = 0; k < n; k++) {
        if (filter_match(list, ev, len)) {
            return 1;
        }
        list += strlen(list) + 1;
    }
    return 0;
}
