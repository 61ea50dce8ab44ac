/* test_fuzz_corpus.c: replays the fuzz targets' seed corpus (fuzz/corpus/
 * <target>/) through the targets' own entry points, built here without
 * libFuzzer. A target's failed check aborts, which fails the test. Also
 * replays fuzz/corpus/<target>/regressions/ if present: inputs that once
 * found a bug. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fuzz.h"

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

/* Runs @fn on every regular file under @dir (one level of subdirectories);
 * returns how many. */
static int replay_dir(const char *dir, fuzz_fn fn)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int n = 0;
    if (d == NULL) {
        return 0;
    }
    while ((ent = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (ent->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (stat(path, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            n += replay_dir(path, fn);
            continue;
        }
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        size_t len = fread(buf, 1, (size_t)st.st_size, fp);
        fclose(fp);
        assert_int_equal(len, (size_t)st.st_size);
        /* An exact-size copy, so the sanitizer build sees any overread. */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, buf, len);
        free(buf);
        assert_int_equal(fn(exact, len), 0);
        free(exact);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *target, fuzz_fn fn)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", MQ_FUZZ_CORPUS, target);
    int n = replay_dir(dir, fn);
    assert_true(n >= 3); /* the seeds are there */
}

static void test_fuzz_corpus_pub_scan_seeds_run_clean(void **state)
{
    (void)state;
    replay("pub_scan", fuzz_pub_scan_one);
}

static void test_fuzz_corpus_fsm_apply_seeds_run_clean(void **state)
{
    (void)state;
    replay("fsm_apply", fuzz_fsm_apply_one);
}

static void test_fuzz_corpus_fsm_restore_seeds_run_clean(void **state)
{
    (void)state;
    replay("fsm_restore", fuzz_fsm_restore_one);
}

static void test_fuzz_corpus_peer_decode_seeds_run_clean(void **state)
{
    (void)state;
    replay("peer_decode", fuzz_peer_decode_one);
}

static void test_fuzz_corpus_peer_hello_seeds_run_clean(void **state)
{
    (void)state;
    replay("peer_hello", fuzz_peer_hello_one);
}

static void test_fuzz_corpus_storeseg_seeds_run_clean(void **state)
{
    (void)state;
    replay("storeseg", fuzz_storeseg_one);
}

static void test_fuzz_corpus_segscan_seeds_run_clean(void **state)
{
    (void)state;
    replay("segscan", fuzz_segscan_one);
}

static void test_fuzz_corpus_token_seeds_run_clean(void **state)
{
    (void)state;
    replay("token", fuzz_token_one);
}

static void test_fuzz_corpus_http_request_seeds_run_clean(void **state)
{
    (void)state;
    replay("http_request", fuzz_http_request_one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_corpus_pub_scan_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_fsm_apply_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_fsm_restore_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_peer_decode_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_peer_hello_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_segscan_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_storeseg_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_token_seeds_run_clean),
        cmocka_unit_test(test_fuzz_corpus_http_request_seeds_run_clean),
    };
    return cmocka_run_group_tests_name("fuzz_corpus", tests, NULL, NULL);
}
