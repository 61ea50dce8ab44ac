/* alloc.c: malloc with a failure-injection point for tests. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1;

static int should_fail(void)
{
    if (fail_countdown < 0) {
        return 0;
    }
    if (fail_countdown == 0) {
        fail_countdown = -1;
        return 1;
    }
    fail_countdown--;
    return 0;
}

void test_alloc_fail_at(long n)
{
    fail_countdown = n;
}

void *mq_malloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(size == 0 ? 1 : size);
}

void *mq_calloc(size_t n, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
}

void *mq_realloc(void *p, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, size == 0 ? 1 : size);
}

void mq_free(void *p)
{
    free(p);
}

char *mq_strndup(const char *s, size_t n)
{
    char *d = mq_malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *mq_strdup(const char *s)
{
    return mq_strndup(s, strlen(s));
}

void *mq_aligned_alloc(size_t alignment, size_t size)
{
    void *p = NULL;
    if (should_fail()) {
        return NULL;
    }
    if (posix_memalign(&p, alignment, size) != 0) {
        return NULL;
    }
    return p;
}
