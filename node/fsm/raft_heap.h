/* raft_heap.h: libraft's heap on the node's allocator (base/alloc.h), so
 * that buffers pass between the state machine and raft without copies
 * (raft frees with raft_free what the FSM allocated) and a unit test's
 * failure injection reaches raft's allocations too. */
#ifndef MQ_RAFT_HEAP_H
#define MQ_RAFT_HEAP_H

/* Makes libraft allocate through mq_malloc. Call once at start, before any
 * raft_malloc. */
void raft_heap_install(void);

#endif
