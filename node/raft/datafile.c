/* datafile.c: see datafile.h. Plain POSIX calls; every write ends in an
 * fsync of the file and, where a name changed, of its directory. */
#include "datafile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

static void path_of(const char *dir, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static mq_err fail(struct errmsg *e, const char *what, const char *name)
{
    errmsg_set(e, "%s %s: %s", what, name, strerror(errno));
    return MQ_ERR_INTERNAL;
}

mq_err datafile_sync_dir(const char *dir, struct errmsg *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return fail(e, "open directory", dir);
    }
    if (fsync(fd) != 0) {
        close(fd);
        return fail(e, "fsync directory", dir);
    }
    close(fd);
    return MQ_OK;
}

mq_err datafile_read(const char *dir, const char *name, uint8_t **out,
                     size_t *len, struct errmsg *e)
{
    char path[1024];
    struct stat sb;
    uint8_t *buf;
    size_t got = 0;
    int fd;

    *out = NULL;
    *len = 0;
    path_of(dir, name, path, sizeof path);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT) {
            errmsg_set(e, "%s: no such file", name);
            return MQ_ERR_NOT_FOUND;
        }
        return fail(e, "open", name);
    }
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return fail(e, "stat", name);
    }
    buf = mq_malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
    if (buf == NULL) {
        close(fd);
        errmsg_set(e, "read %s: out of memory", name);
        return MQ_ERR_NO_MEMORY;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = n < 0 ? errno : 0;
            mq_free(buf);
            close(fd);
            if (err == 0) {
                errmsg_set(e, "read %s: it shrank while being read", name);
                return MQ_ERR_INTERNAL;
            }
            errno = err;
            fail(e, "read", name);
            return err == EIO ? MQ_ERR_INVALID : MQ_ERR_INTERNAL;
        }
        got += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = got;
    return MQ_OK;
}

static mq_err write_all(int fd, const void *data, size_t len, uint64_t off)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return MQ_ERR_INTERNAL;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return MQ_OK;
}

mq_err datafile_replace(const char *dir, const char *name, const void *data,
                        size_t len, struct errmsg *e)
{
    char tmp_name[512], tmp[1024], path[1024];
    int fd;

    snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
    path_of(dir, tmp_name, tmp, sizeof tmp);
    path_of(dir, name, path, sizeof path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        return fail(e, "create", tmp_name);
    }
    if (write_all(fd, data, len, 0) != MQ_OK) {
        close(fd);
        return fail(e, "write", tmp_name);
    }
    if (fsync(fd) != 0) {
        close(fd);
        return fail(e, "fsync", tmp_name);
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        return fail(e, "rename to", name);
    }
    return datafile_sync_dir(dir, e);
}

mq_err datafile_pwrite(const char *dir, const char *name, uint64_t offset,
                       const void *data, size_t len, struct errmsg *e)
{
    char path[1024];
    int fd;

    path_of(dir, name, path, sizeof path);
    fd = open(path, O_WRONLY);
    if (fd < 0) {
        return fail(e, "open", name);
    }
    if (write_all(fd, data, len, offset) != MQ_OK) {
        close(fd);
        return fail(e, "write", name);
    }
    if (fsync(fd) != 0) {
        close(fd);
        return fail(e, "fsync", name);
    }
    close(fd);
    return MQ_OK;
}

mq_err datafile_truncate(const char *dir, const char *name, uint64_t len,
                         struct errmsg *e)
{
    char path[1024];
    int fd;

    path_of(dir, name, path, sizeof path);
    fd = open(path, O_WRONLY);
    if (fd < 0) {
        return fail(e, "open", name);
    }
    if (ftruncate(fd, (off_t)len) != 0) {
        close(fd);
        return fail(e, "truncate", name);
    }
    if (fsync(fd) != 0) {
        close(fd);
        return fail(e, "fsync", name);
    }
    close(fd);
    return MQ_OK;
}

mq_err datafile_remove(const char *dir, const char *name, struct errmsg *e)
{
    char path[1024];

    path_of(dir, name, path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT) {
        return fail(e, "remove", name);
    }
    return datafile_sync_dir(dir, e);
}

mq_err datafile_move(const char *dir, const char *name, const char *sub,
                     struct errmsg *e)
{
    char from[1024], to_dir[1024], to[1536];

    path_of(dir, name, from, sizeof from);
    path_of(dir, sub, to_dir, sizeof to_dir);
    snprintf(to, sizeof to, "%s/%s", to_dir, name);
    if (rename(from, to) != 0) {
        return fail(e, "move", name);
    }
    mq_err rv = datafile_sync_dir(to_dir, e);
    return rv == MQ_OK ? datafile_sync_dir(dir, e) : rv;
}
