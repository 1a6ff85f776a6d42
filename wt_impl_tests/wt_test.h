/* wt_test.h - a very small test runner: WT_TEST(name) { CHECK(...); } */
#ifndef WT_TEST_H
#define WT_TEST_H
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct wt_test_case {
    const char *name;
    void (*fn)(void);
} wt_test_case;

#define WT_TEST_MAX 512
extern wt_test_case wt_test_cases[WT_TEST_MAX];
extern int wt_test_count;
extern int wt_test_failed_checks;

#define WT_TEST(name)                                                        \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void register_##name(void) {        \
        if (wt_test_count < WT_TEST_MAX)                                     \
            wt_test_cases[wt_test_count++] = (wt_test_case){#name, test_##name}; \
    }                                                                        \
    static void test_##name(void)

/* CHECK records a failure and goes on; REQUIRE also leaves the test. */
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            wt_test_failed_checks++;                                         \
            printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)
#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            wt_test_failed_checks++;                                         \
            printf("    %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            return;                                                          \
        }                                                                    \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                   \
    do {                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                \
        if (va_ != vb_) {                                                    \
            wt_test_failed_checks++;                                         \
            printf("    %s:%d: %s == %s failed (%lld vs %lld)\n", __FILE__, __LINE__, #a, #b, va_, vb_); \
        }                                                                    \
    } while (0)
/* A name is run when it contains one of the arguments (or there are none
   but exclusions) and none of the "-substring" arguments. */
static inline int wt_test_selected(const char *name, int argc, char **argv) {
    int i, any = 0, hit = 0;
    for (i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            if (strstr(name, argv[i] + 1)) return 0;
        } else {
            any = 1;
            if (strstr(name, argv[i])) hit = 1;
        }
    }
    return !any || hit;
}


/* Runs the selected tests in order, after_each (if any) after each one;
   prints a line per test and "N passed, N failed". Returns main's status. */
static inline int wt_test_run(int argc, char **argv, void (*after_each)(void)) {
    int i, passed = 0, failed = 0;
    for (i = 0; i < wt_test_count; i++) {
        struct timespec t0, t1;
        int before = wt_test_failed_checks;
        if (!wt_test_selected(wt_test_cases[i].name, argc, argv)) continue;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        wt_test_cases[i].fn();
        if (after_each) after_each();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (wt_test_failed_checks == before) {
            passed++;
            printf("ok   %s (%.0f ms)\n", wt_test_cases[i].name,
                   (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
        } else {
            failed++;
            printf("FAIL %s\n", wt_test_cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
