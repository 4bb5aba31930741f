/* Shared runner of the Check unit test programs: one suite of one test case,
 * CK_NORMAL output, exit status from the failure count. */
#ifndef FC_TEST_UNIT_H
#define FC_TEST_UNIT_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A shell command that must succeed (the tests that build filesystems with
 * mke2fs, mkntfs, ntfscp): the test fails naming it otherwise. */
__attribute__((format(printf, 1, 2))) static inline void fc_test_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static inline int fc_test_main(const char *name, const TTest *const *tests, size_t n)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("core");
    SRunner *sr;
    size_t i;
    int failed;

    tcase_set_timeout(tc, 60);
    for (i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define FC_TEST_MAIN(name, ...)                                                                    \
    int main(void)                                                                                 \
    {                                                                                              \
        const TTest *const tests[] = {__VA_ARGS__};                                                \
        return fc_test_main(name, tests, sizeof(tests) / sizeof(tests[0]));                        \
    }

#endif
