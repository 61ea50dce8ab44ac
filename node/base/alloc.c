/* alloc.c: malloc with a failure-injection point for tests, and libraft's
 * heap hooked onto it. */
#include "alloc.h"

#include <raft.h>
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

static void *heap_malloc(void *data, size_t size)
{
    (void)data;
    return mq_malloc(size);
}

static void heap_free(void *data, void *ptr)
{
    (void)data;
    mq_free(ptr);
}

static void *heap_calloc(void *data, size_t n, size_t size)
{
    (void)data;
    return mq_calloc(n, size);
}

static void *heap_realloc(void *data, void *ptr, size_t size)
{
    (void)data;
    return mq_realloc(ptr, size);
}

static void *heap_aligned_alloc(void *data, size_t alignment, size_t size)
{
    void *p = NULL;
    (void)data;
    if (should_fail()) {
        return NULL;
    }
    if (posix_memalign(&p, alignment, size) != 0) {
        return NULL;
    }
    return p;
}

static void heap_aligned_free(void *data, size_t alignment, void *ptr)
{
    (void)data;
    (void)alignment;
    free(ptr);
}

void alloc_install_raft_heap(void)
{
    static struct raft_heap heap = {
        .malloc = heap_malloc,
        .free = heap_free,
        .calloc = heap_calloc,
        .realloc = heap_realloc,
        .aligned_alloc = heap_aligned_alloc,
        .aligned_free = heap_aligned_free,
    };
    raft_heap_set(&heap);
}
