/* raft_heap.c: libraft's struct raft_heap forwarding to mq_malloc. */
#include "raft_heap.h"

#include "alloc.h"

#include <raft.h>

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
    (void)data;
    return mq_aligned_alloc(alignment, size);
}

static void heap_aligned_free(void *data, size_t alignment, void *ptr)
{
    (void)data;
    (void)alignment;
    mq_free(ptr);
}

void raft_heap_install(void)
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
