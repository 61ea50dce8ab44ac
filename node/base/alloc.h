/* alloc.h: the node's allocator. All node memory, raft's included (see
 * fsm/raft_heap.h), comes from here, so that a unit test can make
 * the Nth allocation fail and check that every failure is clean. */
#ifndef MQ_ALLOC_H
#define MQ_ALLOC_H

#include <stddef.h>

void *mq_malloc(size_t size);
void *mq_calloc(size_t n, size_t size);
void *mq_realloc(void *p, size_t size);
void mq_free(void *p);
char *mq_strdup(const char *s);
char *mq_strndup(const char *s, size_t n);
/* posix_memalign with the same failure point; freed with mq_free. */
void *mq_aligned_alloc(size_t alignment, size_t size);

/* Tests only: allocation number @n from now fails (0 is the next one);
 * -1: none fails. Not thread-safe: for single-threaded unit tests. */
void test_alloc_fail_at(long n);

#endif
