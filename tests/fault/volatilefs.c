/* volatilefs.c: a FUSE file system for power-loss tests. It shows the
 * files of a backing directory and keeps what is written to them in its
 * own memory until the file is synced: a write through a handle opened
 * with O_SYNC or O_DSYNC, fsync and fdatasync reach the backing file (and
 * its disk) in the order written; any other write only lives in this
 * process. Killing the process with SIGKILL is then a power cut: the
 * backing directory holds exactly what was synced, and mounting it again
 * shows that.
 *
 *   volatilefs BACKING MOUNTPOINT [fuse options]
 *
 * Runs in the foreground, single-threaded; unmounting (fusermount3 -u, or
 * umount as root) ends it cleanly, which syncs nothing either.
 *
 * What it models, and what not: lost data writes and lost file growth
 * (a file extended by unsynced writes is back at its synced size). The
 * directory operations (create, unlink, rename, mkdir, rmdir), truncate
 * and fallocate are durable at once; a truncate or fallocate first syncs
 * the file's unsynced writes, keeping their order. Real file systems can
 * lose directory operations that were not followed by an fsync of the
 * directory; this one never does, so it finds missing file syncs, not
 * missing directory syncs. Data that was synced is never damaged (no torn
 * sectors). */
#define FUSE_USE_VERSION 35
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

/* One unsynced write. */
struct chunk {
    off_t off;
    size_t len, cap;
    struct chunk *next;
    unsigned char *data;
};

/* The unsynced writes of one backing file, by inode, so that renames keep
 * them. */
struct vfile {
    dev_t dev;
    ino_t ino;
    struct chunk *head, *tail;
    off_t end;    /* the end of the furthest unsynced write */
    int refs;     /* open handles */
    int unlinked; /* its last name went while open: freed at last close */
    struct vfile *next;
};

/* An open file: its backing descriptor and whether writes are synced. */
struct handle {
    int fd;
    int sync;
    struct vfile *vf;
};

static int backing_dir = -1; /* descriptor of BACKING */
static struct vfile *files;

/* Printed at unmount (a power cut prints nothing). */
static struct {
    unsigned long long sync_writes, kept_writes, syncs, dropped_bytes;
} stats;

/* A path of the mount ("/a/b") as one relative to BACKING ("a/b", or "."
 * for the root). */
static const char *rel(const char *path)
{
    while (*path == '/') {
        path++;
    }
    return *path ? path : ".";
}

static struct vfile *vfile_find(dev_t dev, ino_t ino)
{
    for (struct vfile *v = files; v != NULL; v = v->next) {
        if (v->dev == dev && v->ino == ino && !v->unlinked) {
            return v;
        }
    }
    return NULL;
}

static struct vfile *vfile_get(int fd)
{
    struct stat st;
    struct vfile *v;

    if (fstat(fd, &st) != 0) {
        return NULL;
    }
    if ((v = vfile_find(st.st_dev, st.st_ino)) != NULL) {
        return v;
    }
    if ((v = calloc(1, sizeof *v)) == NULL) {
        return NULL;
    }
    v->dev = st.st_dev;
    v->ino = st.st_ino;
    v->next = files;
    files = v;
    return v;
}

static void chunks_free(struct vfile *v)
{
    struct chunk *c = v->head;
    while (c != NULL) {
        struct chunk *next = c->next;
        stats.dropped_bytes += c->len;
        free(c->data);
        free(c);
        c = next;
    }
    v->head = v->tail = NULL;
    v->end = 0;
}

static void vfile_free(struct vfile *v)
{
    for (struct vfile **p = &files; *p != NULL; p = &(*p)->next) {
        if (*p == v) {
            *p = v->next;
            break;
        }
    }
    chunks_free(v);
    free(v);
}

/* Forgets the unsynced writes of the inode (a file whose last name went),
 * at its last close if it is open. */
static void vfile_drop(dev_t dev, ino_t ino)
{
    struct vfile *v = vfile_find(dev, ino);

    if (v != NULL && v->refs > 0) {
        v->unlinked = 1;
    } else if (v != NULL) {
        vfile_free(v);
    }
}

static int pwrite_all(int fd, const unsigned char *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Writes @v's unsynced writes to @fd in their order and syncs it. */
static int vfile_sync(struct vfile *v, int fd)
{
    for (struct chunk *c = v ? v->head : NULL; c != NULL; c = c->next) {
        int rv = pwrite_all(fd, c->data, c->len, c->off);
        if (rv != 0) {
            return rv;
        }
    }
    if (v != NULL) {
        v->end = 0;
        for (struct chunk *c = v->head; c != NULL;) {
            struct chunk *next = c->next;
            free(c->data);
            free(c);
            c = next;
        }
        v->head = v->tail = NULL;
    }
    stats.syncs++;
    return fdatasync(fd) == 0 ? 0 : -errno;
}

/* Keeps a write in memory, appended to the last one when it continues
 * it. */
static int vfile_add(struct vfile *v, const char *buf, size_t len, off_t off)
{
    struct chunk *t = v->tail;

    if (t != NULL && t->off + (off_t)t->len == off) {
        if (t->len + len > t->cap) {
            size_t cap = t->cap * 2 > t->len + len ? t->cap * 2 : t->len + len;
            unsigned char *d = realloc(t->data, cap);
            if (d == NULL) {
                return -ENOMEM;
            }
            t->data = d;
            t->cap = cap;
        }
        memcpy(t->data + t->len, buf, len);
        t->len += len;
    } else {
        struct chunk *c = calloc(1, sizeof *c);
        if (c == NULL || (c->data = malloc(len ? len : 1)) == NULL) {
            free(c);
            return -ENOMEM;
        }
        memcpy(c->data, buf, len);
        c->off = off;
        c->len = c->cap = len;
        if (t != NULL) {
            t->next = c;
        } else {
            v->head = c;
        }
        v->tail = c;
    }
    if (off + (off_t)len > v->end) {
        v->end = off + (off_t)len;
    }
    return 0;
}

static int vfs_getattr(const char *path, struct stat *st,
                       struct fuse_file_info *fi)
{
    struct vfile *v;

    if (fi != NULL) {
        if (fstat(((struct handle *)(uintptr_t)fi->fh)->fd, st) != 0) {
            return -errno;
        }
    } else if (fstatat(backing_dir, rel(path), st, AT_SYMLINK_NOFOLLOW) != 0) {
        return -errno;
    }
    if (S_ISREG(st->st_mode) &&
        (v = vfile_find(st->st_dev, st->st_ino)) != NULL &&
        v->end > st->st_size) {
        st->st_size = v->end;
    }
    return 0;
}

static int vfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
                       off_t off, struct fuse_file_info *fi,
                       enum fuse_readdir_flags flags)
{
    int fd = openat(backing_dir, rel(path), O_RDONLY | O_DIRECTORY);
    DIR *d;
    struct dirent *e;

    (void)off;
    (void)fi;
    (void)flags;
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
        }
        return -err;
    }
    while ((e = readdir(d)) != NULL) {
        if (fill(buf, e->d_name, NULL, 0, 0) != 0) {
            break;
        }
    }
    closedir(d);
    return 0;
}

static int vfs_mkdir(const char *path, mode_t mode)
{
    return mkdirat(backing_dir, rel(path), mode) == 0 ? 0 : -errno;
}

static int vfs_rmdir(const char *path)
{
    return unlinkat(backing_dir, rel(path), AT_REMOVEDIR) == 0 ? 0 : -errno;
}

static int vfs_unlink(const char *path)
{
    struct stat st;
    int had = fstatat(backing_dir, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;

    if (unlinkat(backing_dir, rel(path), 0) != 0) {
        return -errno;
    }
    /* Kept while open elsewhere; mqd and raft do not write to a file
     * after its last name is gone. */
    if (had && st.st_nlink <= 1) {
        vfile_drop(st.st_dev, st.st_ino);
    }
    return 0;
}

static int vfs_rename(const char *from, const char *to, unsigned int flags)
{
    struct stat st;
    int had;

    if (flags != 0) {
        return -EINVAL;
    }
    had = fstatat(backing_dir, rel(to), &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (renameat(backing_dir, rel(from), backing_dir, rel(to)) != 0) {
        return -errno;
    }
    if (had && S_ISREG(st.st_mode) && st.st_nlink <= 1) {
        vfile_drop(st.st_dev, st.st_ino); /* replaced */
    }
    return 0;
}

/* Opens the backing file; the handle remembers whether writes are synced
 * (O_SYNC, O_DSYNC) and drops flags the backing file must not get. */
static int open_handle(const char *path, int flags, mode_t mode, int create,
                       struct fuse_file_info *fi)
{
    struct handle *h = calloc(1, sizeof *h);
    int bflags = flags & ~(O_DIRECT | O_SYNC | O_DSYNC | O_APPEND);

    if (h == NULL) {
        return -ENOMEM;
    }
    h->sync = (flags & (O_SYNC | O_DSYNC)) != 0;
    h->fd = create ? openat(backing_dir, rel(path), bflags | O_CREAT, mode)
                   : openat(backing_dir, rel(path), bflags);
    if (h->fd < 0) {
        int err = errno;
        free(h);
        return -err;
    }
    if ((h->vf = vfile_get(h->fd)) == NULL) {
        close(h->fd);
        free(h);
        return -ENOMEM;
    }
    h->vf->refs++;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static int vfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return open_handle(path, fi->flags, mode, 1, fi);
}

static int vfs_open(const char *path, struct fuse_file_info *fi)
{
    return open_handle(path, fi->flags, 0, 0, fi);
}

static int vfs_read(const char *path, char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct handle *h = (struct handle *)(uintptr_t)fi->fh;
    struct stat st;
    off_t end;
    size_t got = 0;

    (void)path;
    if (fstat(h->fd, &st) != 0) {
        return -errno;
    }
    end = st.st_size > h->vf->end ? st.st_size : h->vf->end;
    if (off >= end) {
        return 0;
    }
    if ((off_t)size > end - off) {
        size = (size_t)(end - off);
    }
    while (got < size) {
        ssize_t n = pread(h->fd, buf + got, size - got, off + (off_t)got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    memset(buf + got, 0, size - got); /* past the backing file's end */
    for (struct chunk *c = h->vf->head; c != NULL; c = c->next) {
        off_t lo = c->off > off ? c->off : off;
        off_t hi = c->off + (off_t)c->len < off + (off_t)size
                       ? c->off + (off_t)c->len
                       : off + (off_t)size;
        if (lo < hi) {
            memcpy(buf + (lo - off), c->data + (lo - c->off),
                   (size_t)(hi - lo));
        }
    }
    return (int)size;
}

static int vfs_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct handle *h = (struct handle *)(uintptr_t)fi->fh;
    int rv;

    (void)path;
    if (h->sync) {
        stats.sync_writes++;
        /* Earlier unsynced writes first: they were written before. */
        if ((rv = vfile_sync(h->vf, h->fd)) != 0 ||
            (rv = pwrite_all(h->fd, (const unsigned char *)buf, size, off)) !=
                0 ||
            (rv = fdatasync(h->fd) == 0 ? 0 : -errno) != 0) {
            return rv;
        }
        return (int)size;
    }
    stats.kept_writes++;
    rv = vfile_add(h->vf, buf, size, off);
    return rv != 0 ? rv : (int)size;
}

static int vfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    struct handle *h = (struct handle *)(uintptr_t)fi->fh;

    (void)path;
    (void)datasync;
    return vfile_sync(h->vf, h->fd);
}

static int vfs_fsyncdir(const char *path, int datasync,
                        struct fuse_file_info *fi)
{
    int fd = openat(backing_dir, rel(path), O_RDONLY | O_DIRECTORY);
    int rv;

    (void)datasync;
    (void)fi;
    if (fd < 0) {
        return -errno;
    }
    rv = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rv;
}

static int vfs_release(const char *path, struct fuse_file_info *fi)
{
    struct handle *h = (struct handle *)(uintptr_t)fi->fh;

    (void)path;
    close(h->fd); /* closing syncs nothing */
    if (--h->vf->refs == 0 && h->vf->unlinked) {
        vfile_free(h->vf);
    }
    free(h);
    return 0;
}

/* A truncate or an allocation syncs the unsynced writes first (see the
 * head comment). */
static int with_file(const char *path, struct fuse_file_info *fi, int *fd,
                     struct vfile **v)
{
    if (fi != NULL) {
        struct handle *h = (struct handle *)(uintptr_t)fi->fh;
        *fd = h->fd;
        *v = h->vf;
        return 0;
    }
    if ((*fd = openat(backing_dir, rel(path), O_WRONLY)) < 0) {
        return -errno;
    }
    *v = vfile_get(*fd);
    return 1;
}

static int vfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct vfile *v;
    int fd, own = with_file(path, fi, &fd, &v), rv;

    if (own < 0) {
        return own;
    }
    rv = vfile_sync(v, fd);
    if (rv == 0 && ftruncate(fd, size) != 0) {
        rv = -errno;
    }
    if (rv == 0 && fdatasync(fd) != 0) {
        rv = -errno;
    }
    if (own) {
        close(fd);
    }
    return rv;
}

static int vfs_fallocate(const char *path, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
    struct vfile *v;
    int fd, own = with_file(path, fi, &fd, &v), rv;

    if (own < 0) {
        return own;
    }
    rv = vfile_sync(v, fd);
    if (rv == 0 && fallocate(fd, mode, off, len) != 0) {
        rv = -errno;
    }
    if (rv == 0 && fdatasync(fd) != 0) {
        rv = -errno;
    }
    if (own) {
        close(fd);
    }
    return rv;
}

static int vfs_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    return fstatvfs(backing_dir, st) == 0 ? 0 : -errno;
}

static int vfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    (void)fi;
    return fchmodat(backing_dir, rel(path), mode, 0) == 0 ? 0 : -errno;
}

static int vfs_utimens(const char *path, const struct timespec tv[2],
                       struct fuse_file_info *fi)
{
    (void)fi;
    return utimensat(backing_dir, rel(path), tv, AT_SYMLINK_NOFOLLOW) == 0
               ? 0
               : -errno;
}

static int vfs_access(const char *path, int mask)
{
    return faccessat(backing_dir, rel(path), mask, 0) == 0 ? 0 : -errno;
}

static void vfs_destroy(void *data)
{
    (void)data;
    while (files != NULL) {
        struct vfile *v = files;
        files = v->next;
        chunks_free(v); /* an unmount syncs nothing either */
        free(v);
    }
    fprintf(stderr,
            "volatilefs: unmounted: %llu writes synced as made (O_SYNC, "
            "O_DSYNC), %llu kept until a sync, %llu syncs, %llu bytes "
            "never synced dropped\n",
            stats.sync_writes, stats.kept_writes, stats.syncs,
            stats.dropped_bytes);
}

static const struct fuse_operations ops = {
    .getattr = vfs_getattr,
    .readdir = vfs_readdir,
    .mkdir = vfs_mkdir,
    .rmdir = vfs_rmdir,
    .unlink = vfs_unlink,
    .rename = vfs_rename,
    .create = vfs_create,
    .open = vfs_open,
    .read = vfs_read,
    .write = vfs_write,
    .fsync = vfs_fsync,
    .fsyncdir = vfs_fsyncdir,
    .release = vfs_release,
    .truncate = vfs_truncate,
    .fallocate = vfs_fallocate,
    .statfs = vfs_statfs,
    .chmod = vfs_chmod,
    .utimens = vfs_utimens,
    .access = vfs_access,
    .destroy = vfs_destroy,
};

int main(int argc, char **argv)
{
    char *fargv[32];
    int fargc = 0;

    if (argc < 3 || argc > 24) {
        fprintf(stderr,
                "usage: volatilefs BACKING MOUNTPOINT [fuse options]\n");
        return 2;
    }
    if ((backing_dir = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0) {
        fprintf(stderr, "volatilefs: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    fargv[fargc++] = argv[0];
    fargv[fargc++] = "-f"; /* foreground */
    fargv[fargc++] = "-s"; /* one thread: no locking needed */
    for (int i = 3; i < argc; i++) {
        fargv[fargc++] = argv[i];
    }
    fargv[fargc++] = argv[2];
    fargv[fargc] = NULL;
    int rv = fuse_main(fargc, fargv, &ops, NULL);
    close(backing_dir);
    return rv;
}
