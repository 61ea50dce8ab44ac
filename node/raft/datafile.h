/* datafile.h: file operations on the data dir that the checks and repairs
 * of damaged data need, each durable when it returns (the file and the
 * directory entry fsynced). Names are relative to @dir. Each returns
 * MQ_OK, or MQ_ERR_INTERNAL with @e naming the file and the errno text
 * (MQ_ERR_NOT_FOUND where said). Any thread; the loop thread calls them
 * only where a short blocking write is the point (term and vote). */
#ifndef MQ_DATAFILE_H
#define MQ_DATAFILE_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "mq.h"

/* Reads the whole of @name into a new buffer (*out, freed with mq_free;
 * *len its size). MQ_ERR_NOT_FOUND if it does not exist; MQ_ERR_INVALID if
 * the read failed with EIO (the medium is damaged). */
mq_err datafile_read(const char *dir, const char *name, uint8_t **out,
                     size_t *len, struct errmsg *e);

/* Replaces @name with @len bytes of @data: writes "<name>.tmp", fsyncs
 * it, renames it over @name and fsyncs @dir. A crash leaves the old file
 * or the new one, never a mix. */
mq_err datafile_replace(const char *dir, const char *name, const void *data,
                        size_t len, struct errmsg *e);

/* Writes @len bytes at @offset of the existing @name and fsyncs it. */
mq_err datafile_pwrite(const char *dir, const char *name, uint64_t offset,
                       const void *data, size_t len, struct errmsg *e);

/* Cuts @name to @len bytes and fsyncs it. */
mq_err datafile_truncate(const char *dir, const char *name, uint64_t len,
                         struct errmsg *e);

/* Removes @name (nothing if it does not exist) and fsyncs @dir. */
mq_err datafile_remove(const char *dir, const char *name, struct errmsg *e);

/* Moves @name into the subdirectory @sub of @dir (same file system) and
 * fsyncs both directories. */
mq_err datafile_move(const char *dir, const char *name, const char *sub,
                     struct errmsg *e);

/* fsyncs the directory @dir. */
mq_err datafile_sync_dir(const char *dir, struct errmsg *e);

#endif
