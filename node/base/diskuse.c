/* diskuse.c: sizes of the data dir's raft files. raft_uv names them
 * "open-N" (segments being written), "FIRST-LAST" (closed segments),
 * "snapshot-TERM-INDEX-TIME" and the same with ".meta", "metadata1" and
 * "metadata2". */
#include "diskuse.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static int all_digits(const char *s, size_t n)
{
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

int disk_file_kind(const char *name)
{
    const char *dash = strchr(name, '-');
    if (strncmp(name, "snapshot-", 9) == 0) {
        return 2;
    }
    if (strncmp(name, "open-", 5) == 0 &&
        all_digits(name + 5, strlen(name + 5))) {
        return 1;
    }
    if (dash != NULL && all_digits(name, (size_t)(dash - name)) &&
        all_digits(dash + 1, strlen(dash + 1))) {
        return 1;
    }
    return 0;
}

void disk_use_read(const char *dir, struct disk_use *u)
{
    struct statvfs vfs;
    DIR *d;
    struct dirent *ent;

    memset(u, 0, sizeof *u);
    if (statvfs(dir, &vfs) == 0) {
        u->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    }
    d = opendir(dir);
    if (d == NULL) {
        return;
    }
    while ((ent = readdir(d)) != NULL) {
        struct stat sb;
        int kind = disk_file_kind(ent->d_name);
        if (kind == 0 || fstatat(dirfd(d), ent->d_name, &sb, 0) != 0) {
            continue;
        }
        if (kind == 1) {
            u->log_bytes += (uint64_t)sb.st_size;
        } else {
            u->snapshot_bytes += (uint64_t)sb.st_size;
        }
    }
    closedir(d);
}
