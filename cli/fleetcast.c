/* `fleetcast`: the operator's command. main() sets up logging and signals
 * and dispatches on the first word; each group lives in its own file. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/log.h"

volatile sig_atomic_t fc_cli_stop;

static void on_signal(int sig)
{
    (void)sig;
    fc_cli_stop = 1;
}

int fc_opt_flag(struct fc_args *a, const char *name)
{
    if (a->pos < a->argc && strcmp(a->argv[a->pos], name) == 0) {
        a->pos++;
        return 1;
    }
    return 0;
}

int fc_opt_value(struct fc_args *a, const char *name, const char **val)
{
    size_t n = strlen(name);
    const char *arg;

    if (a->pos >= a->argc)
        return 0;
    arg = a->argv[a->pos];
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *val = arg + n + 1;
        a->pos++;
        return 1;
    }
    if (arg[n] != 0)
        return 0;
    if (a->pos + 1 >= a->argc) {
        *val = NULL;
        a->pos++;
        return 1;
    }
    *val = a->argv[a->pos + 1];
    a->pos += 2;
    return 1;
}

int fc_take_operand(struct fc_args *a, const char **operand, int want)
{
    const char *arg = a->argv[a->pos];

    if (arg[0] == '-' && arg[1])
        return fc_unknown_option(a, arg);
    if (!want || *operand)
        return fc_usage_error("unexpected argument '%s'", arg);
    *operand = arg;
    a->pos++;
    return 0;
}

int fc_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("fleetcast: usage error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see fleetcast --help)\n", stderr);
    return 2;
}

int fc_fail(int code, const char *what)
{
    /* One error line per failure: the precise one if it was logged. */
    if (fc_log_error_count() == 0)
        fprintf(stderr, "fleetcast: error: %s: %s\n", what, fc_strerror(code));
    return fc_exit_status(code);
}

int main(int argc, char **argv)
{
    struct fc_args a = {argc, argv, 2};
    struct sigaction sa;
    int rc;

    fc_log_init("fleetcast", FC_LOG_INFO);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fc_cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("fleetcast %s\n", FC_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--list-commands")) {
        fc_cli_list_commands();
        return 0;
    }
    if (argv[1][0] == '-')
        return fc_unknown_option(&a, argv[1]);
    if (fc_cli_help(argc, argv, &rc))
        return rc;
    if (!strcmp(argv[1], "key"))
        return fc_cmd_key(&a);
    if (!strcmp(argv[1], "image"))
        return fc_cmd_image(&a);
    if (!strcmp(argv[1], "session"))
        return fc_cmd_session(&a);
    if (!strcmp(argv[1], "machines"))
        return fc_cmd_machines(&a);
    if (!strcmp(argv[1], "labs"))
        return fc_cmd_labs(&a);
    if (!strcmp(argv[1], "report"))
        return fc_cmd_report(&a);
    if (!strcmp(argv[1], "schedule"))
        return fc_cmd_schedule(&a);
    if (!strcmp(argv[1], "watch"))
        return fc_cmd_watch(&a);
    if (!strcmp(argv[1], "pxe"))
        return fc_cmd_pxe(&a);
    if (!strcmp(argv[1], "wake"))
        return fc_cmd_wake(&a);
    if (!strcmp(argv[1], "capture"))
        return fc_cmd_capture(&a);
    return fc_usage_error("unknown command '%s'", argv[1]);
}
