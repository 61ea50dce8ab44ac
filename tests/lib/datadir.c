/* datadir.c: see datadir.h. */
#include "datadir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long size;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        if (f) {
            fclose(f);
        }
        return NULL;
    }
    buf = malloc((size_t)size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

int datadir_batches(const char *path, struct datadir_batches *b)
{
    size_t len = 0, off = 8;
    uint8_t *buf = read_all(path, &len);
    memset(b, 0, sizeof *b);
    if (buf == NULL) {
        return -1;
    }
    b->file_len = len;
    while (off + 16 <= len && b->n < DATADIR_MAX_BATCHES) {
        uint64_t n = get64(buf + off + 8), data = 0;
        if (n == 0 || n > 262144 || off + 16 + 16 * n > len) {
            break;
        }
        for (uint64_t k = 0; k < n; k++) {
            const uint8_t *e = buf + off + 16 + 16 * k;
            data += (uint64_t)e[12] | (uint64_t)e[13] << 8 |
                    (uint64_t)e[14] << 16 | (uint64_t)e[15] << 24;
        }
        if (off + 16 + 16 * n + data > len) {
            break;
        }
        b->at[b->n++] = off;
        off += 16 + 16 * n + data;
    }
    b->end = b->n > 0 ? off : 8;
    free(buf);
    return 0;
}

void datadir_path(struct cluster *c, int i, const char *name, char *out,
                  size_t len)
{
    snprintf(out, len, "%s/%s", c->nodes[i].dir, name);
}

static int is_open_segment(const char *name)
{
    unsigned long long n;
    int used = 0;
    return sscanf(name, "open-%llu%n", &n, &used) == 1 &&
           used == (int)strlen(name);
}

int datadir_is_closed_segment(const char *name)
{
    unsigned long long a, b;
    char rest;
    return sscanf(name, "%llu-%llu%c", &a, &b, &rest) == 2;
}

int datadir_is_snapshot_data(const char *name)
{
    size_t l = strlen(name);
    return strncmp(name, "snapshot-", 9) == 0 &&
           !(l > 5 && strcmp(name + l - 5, ".meta") == 0);
}

/* Calls @fn for every file of node @i's dir; keeps the name with the
 * highest score (>= 0). */
static int best_file(struct cluster *c, int i,
                     long (*score)(const char *path, const char *name,
                                   void *arg),
                     void *arg, char *out, size_t len)
{
    DIR *d = opendir(c->nodes[i].dir);
    struct dirent *e;
    long best = -1;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        datadir_path(c, i, e->d_name, path, sizeof path);
        long s = score(path, e->d_name, arg);
        if (s > best) {
            best = s;
            snprintf(out, len, "%s", e->d_name);
        }
    }
    closedir(d);
    return best < 0 ? -1 : 0;
}

static long score_open(const char *path, const char *name, void *arg)
{
    size_t min = *(size_t *)arg;
    static struct datadir_batches b;
    if (!is_open_segment(name) || datadir_batches(path, &b) != 0 || b.n < min) {
        return -1;
    }
    return (long)b.n;
}

int datadir_open_segment(struct cluster *c, int i, size_t min_batches,
                         char *out, size_t len)
{
    return best_file(c, i, score_open, &min_batches, out, len);
}

static long score_unused(const char *path, const char *name, void *arg)
{
    uint8_t word[8];
    FILE *f;
    (void)arg;
    if (!is_open_segment(name) || (f = fopen(path, "rb")) == NULL) {
        return -1;
    }
    size_t n = fread(word, 1, 8, f);
    fclose(f);
    return n == 8 && get64(word) == 0 ? 1 : -1;
}

int datadir_unused_open_segment(struct cluster *c, int i, char *out, size_t len)
{
    return best_file(c, i, score_unused, NULL, out, len);
}

static long score_size(const char *path, const char *name, void *arg)
{
    int (*want)(const char *) = (int (*)(const char *))arg;
    struct stat sb;
    if (!want(name) || stat(path, &sb) != 0) {
        return -1;
    }
    return (long)sb.st_size;
}

int datadir_find(struct cluster *c, int i, int (*want)(const char *name),
                 char *out, size_t len)
{
    return best_file(c, i, score_size, (void *)want, out, len);
}

void datadir_flip(const char *path, size_t offset, uint8_t mask)
{
    FILE *f = fopen(path, "r+b");
    int ch;
    if (f == NULL || fseek(f, (long)offset, SEEK_SET) != 0 ||
        (ch = fgetc(f)) == EOF || fseek(f, (long)offset, SEEK_SET) != 0) {
        fprintf(stderr, "datadir_flip: %s at %zu: cannot\n", path, offset);
        abort();
    }
    fputc(ch ^ mask, f);
    fclose(f);
}

int datadir_meta_read(struct cluster *c, int i, int n, struct datadir_meta *m)
{
    char name[16], path[1024];
    size_t len = 0;
    uint8_t *buf;
    snprintf(name, sizeof name, "metadata%d", n);
    datadir_path(c, i, name, path, sizeof path);
    buf = read_all(path, &len);
    memset(m, 0, sizeof *m);
    if (buf == NULL || len < 32) {
        free(buf);
        return -1;
    }
    m->format = get64(buf);
    m->version = get64(buf + 8);
    m->term = get64(buf + 16);
    m->vote = get64(buf + 24);
    free(buf);
    return 0;
}

void datadir_meta_write(struct cluster *c, int i, int n,
                        const struct datadir_meta *m)
{
    char name[16], path[1024];
    uint8_t buf[32];
    FILE *f;
    snprintf(name, sizeof name, "metadata%d", n);
    datadir_path(c, i, name, path, sizeof path);
    put64(buf, m->format);
    put64(buf + 8, m->version);
    put64(buf + 16, m->term);
    put64(buf + 24, m->vote);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, 32, f) != 32 || fclose(f) != 0) {
        fprintf(stderr, "datadir_meta_write: %s: cannot\n", path);
        abort();
    }
}

int datadir_meta_current(struct cluster *c, int i)
{
    struct datadir_meta m1, m2;
    int ok1 = datadir_meta_read(c, i, 1, &m1) == 0;
    int ok2 = datadir_meta_read(c, i, 2, &m2) == 0;
    if (ok1 && (!ok2 || m1.version > m2.version)) {
        return 1;
    }
    return ok2 ? 2 : -1;
}

void datadir_copy(const char *from, const char *to)
{
    size_t len = 0;
    uint8_t *buf = read_all(from, &len);
    FILE *f = fopen(to, "wb");
    if (buf == NULL || f == NULL || fwrite(buf, 1, len, f) != len) {
        fprintf(stderr, "datadir_copy: %s to %s: cannot\n", from, to);
        abort();
    }
    fclose(f);
    free(buf);
}

long datadir_log_mark(struct cluster *c, int i)
{
    struct stat sb;
    return stat(c->nodes[i].log, &sb) == 0 ? (long)sb.st_size : 0;
}

int datadir_log_has_since(struct cluster *c, int i, long mark,
                          const char *needle)
{
    FILE *f = fopen(c->nodes[i].log, "r");
    char line[4096];
    int found = 0;
    if (f == NULL || fseek(f, mark, SEEK_SET) != 0) {
        if (f) {
            fclose(f);
        }
        return 0;
    }
    while (!found && fgets(line, sizeof line, f)) {
        found = strstr(line, needle) != NULL;
    }
    fclose(f);
    return found;
}

int datadir_node_status(struct cluster *c, int i, uint64_t *term, char *role,
                        size_t role_len, uint64_t *applied)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;
    mq_node_status *st = NULL;
    size_t n = 0;
    int rv = -1;
    o.urls = c->nodes[i].client_url;
    if (mq_client_open(&cl, &o) != MQ_OK) {
        return -1;
    }
    if (mq_cluster_status(cl, &st, &n, 2000) == MQ_OK && n == 1 &&
        st[0].err == MQ_OK) {
        if (term) {
            *term = st[0].term;
        }
        if (role) {
            snprintf(role, role_len, "%s", st[0].role);
        }
        if (applied) {
            *applied = st[0].applied_index;
        }
        rv = 0;
    }
    mq_status_free(st);
    mq_client_close(cl);
    return rv;
}

/* Whether the leader lists @n members, all voters. */
static int all_voters(mq_client *cl, size_t n)
{
    mq_member *m = NULL;
    size_t got = 0;
    int ok = 0;
    if (mq_members(cl, &m, &got, 2000) == MQ_OK && got == n) {
        ok = 1;
        for (size_t k = 0; k < got; k++) {
            ok = ok && strcmp(m[k].role, "voter") == 0;
        }
    }
    mq_members_free(m);
    return ok;
}

int datadir_full_strength(struct cluster *c, size_t n, int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms;
    mq_client *cl = cluster_client(c);
    int ok = 0;
    if (cl == NULL) {
        return -1;
    }
    while (!ok && test_now_ms() < end) {
        ok = all_voters(cl, n);
        if (!ok) {
            test_sleep_ms(100);
        }
    }
    mq_client_close(cl);
    if (!ok) {
        return -1;
    }
    int left = (int)(end > test_now_ms() ? end - test_now_ms() : 1);
    return cluster_settle(c, left);
}
