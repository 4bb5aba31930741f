/* fc_run_tool: exit status and output tail of an outside program, stdin
 * empty, and the time bound that kills one that hangs. */
#include "tests/unit/unit.h"
#include <string.h>
#include <time.h>

#include "common/runtool.h"

static const struct {
    const char *script;
    unsigned timeout_s;
    int rc;
    const char *out; /* what out must end with */
} cases[] = {
    /* stdout and stderr together, lines joined */
    {"echo first; echo 'second line' >&2; exit 3", 10, 3, "first | second line"},
    /* a tool that asks a question reads end of file, never our terminal */
    {"read a || echo eof", 10, 0, "eof"},
    /* the end is kept, not the start */
    {"seq 1 1000; echo the reason", 10, 0, "999 | 1000 | the reason"},
    {"echo started; exec sleep 30", 1, -1, "started | stopped after 1 s"},
    {"kill -9 $$", 10, -1, "killed by signal 9"},
};

START_TEST(test_cases)
{
    char out[32];
    size_t i, n, m;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *const argv[] = {"sh", "-c", (char *)cases[i].script, NULL};
        time_t t0 = time(NULL);

        ck_assert_int_eq(fc_run_tool(argv, cases[i].timeout_s, out, sizeof(out)), cases[i].rc);
        ck_assert_int_le(time(NULL) - t0, cases[i].timeout_s + 4);
        n = strlen(out);
        m = strlen(cases[i].out);
        ck_assert_msg(n < sizeof(out) && n >= m && !strcmp(out + n - m, cases[i].out),
                      "case %zu: out \"%s\"", i, out);
    }
}
END_TEST

START_TEST(test_missing_program)
{
    char *const argv[] = {"fleetcast-no-such-tool", NULL};
    char out[80];

    ck_assert_int_eq(fc_run_tool(argv, 1, out, sizeof(out)), -1);
    ck_assert_ptr_nonnull(strstr(out, "cannot run fleetcast-no-such-tool"));
}
END_TEST

FC_TEST_MAIN("runtool", test_cases, test_missing_program)
