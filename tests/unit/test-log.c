/* The log line's shape: "prog: LEVEL: message", and with the elapsed time on,
 * "prog: [   S.mmm] LEVEL: message" (one write per line). */
#include "tests/unit/unit.h"
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* The line fc_log writes for `msg` at `level`, caught from stderr through a pipe. */
static void log_line(enum fc_log_level level, const char *msg, char *out, size_t size)
{
    int fds[2], saved;
    ssize_t n;

    ck_assert_int_eq(pipe(fds), 0);
    saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fds[1], STDERR_FILENO), 0);
    fc_log(level, "%s", msg);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    close(fds[1]);
    n = read(fds[0], out, size - 1);
    close(fds[0]);
    out[n > 0 ? n : 0] = '\0';
}

static int matches(const char *re, const char *s)
{
    regex_t rx;
    int ok;

    ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

START_TEST(test_plain_and_elapsed)
{
    char line[1200];
    double secs;

    fc_log_init("fc-test", FC_LOG_INFO);
    log_line(FC_LOG_INFO, "hello", line, sizeof(line));
    ck_assert_str_eq(line, "fc-test: info: hello\n");
    log_line(FC_LOG_DEBUG, "hidden", line, sizeof(line));
    ck_assert_str_eq(line, "");

    fc_log_show_elapsed();
    usleep(20000);
    log_line(FC_LOG_WARN, "later", line, sizeof(line));
    ck_assert_msg(matches("^fc-test: \\[ +[0-9]+\\.[0-9]{3}\\] warning: later\n$", line), "got: %s",
                  line);
    /* At least the 20 ms slept; the upper bound is loose, as a loaded host
     * may take long to wake us (a 20-99 ms window failed there). */
    ck_assert_int_eq(sscanf(strchr(line, '[') + 1, "%lf", &secs), 1);
    ck_assert_msg(secs >= 0.020 && secs < 10.0, "elapsed %.3f s", secs);
}
END_TEST

START_TEST(test_long_line_is_cut_to_one_line)
{
    char msg[3000], line[1200];

    memset(msg, 'x', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    fc_log_init("fc-test", FC_LOG_INFO);
    fc_log_show_elapsed();
    log_line(FC_LOG_ERROR, msg, line, sizeof(line));
    ck_assert_uint_eq(strlen(line), 1023);
    ck_assert_ptr_eq(strchr(line, '\n'), line + 1022); /* one line, its end kept */
}
END_TEST

FC_TEST_MAIN("log", test_plain_and_elapsed, test_long_line_is_cut_to_one_line)
