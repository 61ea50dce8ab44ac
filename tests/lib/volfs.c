/* volfs.c: mounting and cutting the power of volatilefs (see volfs.h). */
#include "volfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* 1 once @v->mnt is a mount of its own (another device than its
 * parent's). */
static int mounted(const struct volfs *v)
{
    char parent[sizeof v->mnt + 4];
    struct stat a, b;

    snprintf(parent, sizeof parent, "%s/..", v->mnt);
    return stat(v->mnt, &a) == 0 && stat(parent, &b) == 0 &&
           a.st_dev != b.st_dev;
}

/* Reaps the process if it ended (its wait status in *@st); 1 if it
 * did. */
static int reaped(struct volfs *v, int *st)
{
    if (v->pid > 0 && waitpid(v->pid, st, WNOHANG) == v->pid) {
        v->pid = 0;
        return 1;
    }
    return v->pid == 0;
}

static void print_log(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        return;
    }
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f) != NULL) {
        fputs(line, stderr);
    }
    fclose(f);
}

static int start(struct volfs *v)
{
    pid_t pid = fork();

    if (pid < 0) {
        perror("volfs: fork");
        return -1;
    }
    if (pid == 0) {
        int fd = open(v->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* not outliving the test */
        execl(MQ_BIN_DIR "/volatilefs", "volatilefs", v->disk, v->mnt,
              (char *)NULL);
        _exit(127);
    }
    v->pid = pid;
    for (int waited = 0; waited < WAIT_MS; waited += 10) {
        int st;
        if (mounted(v)) {
            return 0;
        }
        if (reaped(v, &st)) {
            fprintf(stderr,
                    "volfs: volatilefs %s ended before mounting (see "
                    "%s)\n",
                    v->mnt, v->log);
            return -1;
        }
        nap_ms(10);
    }
    fprintf(stderr, "volfs: %s not mounted within %d ms\n", v->mnt, WAIT_MS);
    kill(v->pid, SIGKILL);
    waitpid(v->pid, NULL, 0);
    v->pid = 0;
    umount2(v->mnt, MNT_DETACH);
    return -1;
}

int volfs_mount(struct volfs *v, const char *mnt)
{
    memset(v, 0, sizeof *v);
    snprintf(v->mnt, sizeof v->mnt, "%s", mnt);
    snprintf(v->disk, sizeof v->disk, "%s.disk", mnt);
    snprintf(v->log, sizeof v->log, "%s.fs.log", mnt);
    if ((mkdir(v->mnt, 0755) != 0 && errno != EEXIST) ||
        (mkdir(v->disk, 0755) != 0 && errno != EEXIST)) {
        fprintf(stderr, "volfs: mkdir %s: %s\n", v->mnt, strerror(errno));
        return -1;
    }
    return start(v);
}

int volfs_power_cut(struct volfs *v)
{
    if (v->pid > 0) {
        kill(v->pid, SIGKILL);
        waitpid(v->pid, NULL, 0);
        v->pid = 0;
    }
    /* The kernel keeps the dead mount until it is detached. */
    if (umount2(v->mnt, MNT_DETACH) != 0 && errno != EINVAL) {
        fprintf(stderr, "volfs: detach %s: %s\n", v->mnt, strerror(errno));
        return -1;
    }
    return start(v);
}

int volfs_unmount(struct volfs *v)
{
    int st = 0;

    if (v->pid == 0) {
        return 0;
    }
    if (umount2(v->mnt, 0) != 0) {
        umount2(v->mnt, MNT_DETACH);
    }
    for (int waited = 0; waited < WAIT_MS && !reaped(v, &st); waited += 10) {
        nap_ms(10);
    }
    if (v->pid > 0) {
        fprintf(stderr, "volfs: volatilefs %s did not end: killed\n", v->mnt);
        kill(v->pid, SIGKILL);
        waitpid(v->pid, NULL, 0);
        v->pid = 0;
        umount2(v->mnt, MNT_DETACH);
        print_log(v->log);
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "volfs: volatilefs %s ended with wait status %d\n",
                v->mnt, st);
        print_log(v->log);
        return -1;
    }
    return 0;
}
