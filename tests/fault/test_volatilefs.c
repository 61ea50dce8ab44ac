/* test_volatilefs.c: the power-loss file system keeps what the fault tests
 * rely on (volatilefs.c, mounted through tests/lib/volfs.h): after a power
 * cut, what was synced (fsync, fdatasync, writes through O_DSYNC handles)
 * is there, what was not is gone, a file extended by unsynced writes is
 * back at its synced size, and directory operations stay; a clean unmount
 * keeps nothing unsynced either.
 *
 * Needs root and /dev/fuse: without, prints why and exits 77 (skipped),
 * unless MQ_REQUIRE_FAULT_TESTS=1 (CI), which makes that a failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "volfs.h"

#define SKIP 77

static int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                        \
            printf(__VA_ARGS__);                                               \
            printf("\n");                                                      \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static void path_of(char *out, size_t len, const struct volfs *v,
                    const char *name)
{
    snprintf(out, len, "%s/%s", v->mnt, name);
}

/* Writes @text at @off of @name (created if missing); @flags added to the
 * open; @sync: fsync after. */
static int put(const struct volfs *v, const char *name, off_t off,
               const char *text, int flags, int sync)
{
    char p[600];
    int fd, rv = 0;

    path_of(p, sizeof p, v, name);
    if ((fd = open(p, O_WRONLY | O_CREAT | flags, 0644)) < 0) {
        return -1;
    }
    if (pwrite(fd, text, strlen(text), off) != (ssize_t)strlen(text) ||
        (sync && fsync(fd) != 0)) {
        rv = -1;
    }
    close(fd);
    return rv;
}

/* The content of @name, "" if it cannot be read, "<none>" if missing. */
static const char *get(const struct volfs *v, const char *name)
{
    static char buf[256];
    char p[600];
    int fd;
    ssize_t n;

    path_of(p, sizeof p, v, name);
    if ((fd = open(p, O_RDONLY)) < 0) {
        return errno == ENOENT ? "<none>" : "";
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void rm_tree(const char *root)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) {
        printf("could not remove %s\n", root);
    }
}

int main(void)
{
    const char *req = getenv("MQ_REQUIRE_FAULT_TESTS");
    char root[] = "/tmp/mqvfsXXXXXX", mnt[64], p[600], q[600];
    struct volfs v;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) != 0) {
        const char *why = geteuid() != 0 ? "mounting needs root"
                                         : "/dev/fuse cannot be opened here";
        if (req != NULL && strcmp(req, "1") == 0) {
            printf("FAILED: MQ_REQUIRE_FAULT_TESTS=1 and %s\n", why);
            return 1;
        }
        printf("SKIPPED: %s\n", why);
        return SKIP;
    }
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(mnt, sizeof mnt, "%s/d", root);
    if (volfs_mount(&v, mnt) != 0) {
        rm_tree(root);
        return 1;
    }

    /* Before the cut: everything reads back as written. */
    CHECK(put(&v, "synced", 0, "kept\n", 0, 1) == 0, "write synced");
    CHECK(put(&v, "synced", 5, "lost tail\n", 0, 0) == 0, "write tail");
    CHECK(put(&v, "dsync", 0, "through O_DSYNC\n", O_DSYNC, 0) == 0,
          "write O_DSYNC");
    CHECK(put(&v, "never", 0, "never synced\n", 0, 0) == 0, "write never");
    CHECK(put(&v, "over", 0, "old synced\n", 0, 1) == 0, "write over");
    CHECK(put(&v, "over", 0, "NEW", 0, 0) == 0, "overwrite");
    CHECK(strcmp(get(&v, "synced"), "kept\nlost tail\n") == 0,
          "synced before the cut: \"%s\"", get(&v, "synced"));
    CHECK(strcmp(get(&v, "over"), "NEW synced\n") == 0,
          "overwritten before the cut: \"%s\"", get(&v, "over"));
    path_of(p, sizeof p, &v, "sub");
    CHECK(mkdir(p, 0755) == 0, "mkdir");
    path_of(p, sizeof p, &v, "never");
    path_of(q, sizeof q, &v, "sub/renamed");
    CHECK(rename(p, q) == 0, "rename");
    CHECK(strcmp(get(&v, "sub/renamed"), "never synced\n") == 0,
          "renamed before the cut: \"%s\"", get(&v, "sub/renamed"));
    /* Written in order: unsynced, then a synced write through another
     * handle syncs the earlier one too. */
    CHECK(put(&v, "order", 0, "first ", 0, 0) == 0, "order 1");
    CHECK(put(&v, "order", 6, "second\n", O_DSYNC, 0) == 0, "order 2");

    CHECK(volfs_power_cut(&v) == 0, "power cut");

    CHECK(strcmp(get(&v, "synced"), "kept\n") == 0,
          "synced part after the cut: \"%s\"", get(&v, "synced"));
    CHECK(strcmp(get(&v, "dsync"), "through O_DSYNC\n") == 0,
          "O_DSYNC write after the cut: \"%s\"", get(&v, "dsync"));
    CHECK(strcmp(get(&v, "over"), "old synced\n") == 0,
          "unsynced overwrite after the cut: \"%s\"", get(&v, "over"));
    CHECK(strcmp(get(&v, "sub/renamed"), "") == 0,
          "never synced after the cut: \"%s\" (the name stays, empty)",
          get(&v, "sub/renamed"));
    CHECK(strcmp(get(&v, "order"), "first second\n") == 0,
          "written before a synced write: \"%s\"", get(&v, "order"));
    path_of(p, sizeof p, &v, "never");
    CHECK(access(p, F_OK) != 0, "the old name is gone");

    /* A clean unmount drops the unsynced too. */
    CHECK(put(&v, "synced", 0, "XXXX", 0, 0) == 0, "write before unmount");
    CHECK(volfs_unmount(&v) == 0, "unmount");
    CHECK(volfs_mount(&v, mnt) == 0, "mount again");
    CHECK(strcmp(get(&v, "synced"), "kept\n") == 0, "after an unmount: \"%s\"",
          get(&v, "synced"));
    CHECK(volfs_unmount(&v) == 0, "unmount at the end");
    rm_tree(root);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
