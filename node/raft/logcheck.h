/* logcheck.h: the closed log segments and the latest snapshot of a data
 * dir, read the way raft_uv 0.15 loads them but without raft_uv, so that
 * repair (repair.h) knows before raft starts whether they are intact.
 *
 * A closed segment ("FIRST-LAST") must hold format 1 and valid batches up
 * to its end, LAST - FIRST + 1 entries in all (segscan.h). The latest
 * snapshot (greatest term, index, time among "snapshot-T-I-TS.meta" whose
 * data file exists and is not empty, as raft_uv picks it) must have a
 * metadata file that passes raft_uv's checks (format 1, a configuration of
 * 1 byte to 1 MiB, raft's CRC-32 over index, length and configuration) and
 * a data file ending in mq's CRC-32C trailer (snapfile.h). Open segments
 * are segcheck.h's. What raft_uv checks beyond this (segments contiguous
 * from the snapshot on) it still checks when it loads. */
#ifndef MQ_LOGCHECK_H
#define MQ_LOGCHECK_H

#include "errmsg.h"
#include "mq.h"

/* Returns MQ_OK when every closed segment and the latest snapshot of @dir
 * are intact; MQ_ERR_INVALID with @e naming the first damaged file and what
 * is wrong (an I/O error reading it counts); MQ_ERR_INTERNAL or
 * MQ_ERR_NO_MEMORY when the check itself cannot run. */
mq_err logcheck_run(const char *dir, struct errmsg *e);

#endif
