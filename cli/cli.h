/* Shared pieces of the `fleetcast` operator command: argument scanning,
 * the error line and exit code, and the subcommand entry points. */
#ifndef FC_CLI_H
#define FC_CLI_H

#include <signal.h>
#include <stdio.h>
#include <time.h>

struct fc_args {
    int argc;
    char **argv;
    int pos; /* next argument to look at */
};

/* Option scanning: returns 1 and sets *val if argv[pos] is --name (with a
 * value: "--name V" or "--name=V"), advancing pos. */
int fc_opt_flag(struct fc_args *a, const char *name);
int fc_opt_value(struct fc_args *a, const char *name, const char **val);
/* An unknown option or a missing operand: one line and exit code 2. */
int fc_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An option no command knows: "unknown option --foo" (without its =value)
 * and the command's --help to see; returns FC_EXIT_UNKNOWN_OPTION. */
#define FC_EXIT_UNKNOWN_OPTION 64
int fc_unknown_option(const struct fc_args *a, const char *arg);
/* argv[pos], which no option of the command took: an unknown option is
 * refused by name; else it becomes *operand if want and none was given yet,
 * or is an unexpected argument. Returns 0 (pos advanced) or an exit status. */
int fc_take_operand(struct fc_args *a, const char **operand, int want);
/* help.c: `fleetcast --help`; `--help`/`--version` after a command (1 and
 * the exit status in *rc, 0 if neither was given); `--list-commands`. */
void fc_cli_usage(FILE *f);
int fc_cli_help(int argc, char **argv, int *rc);
void fc_cli_list_commands(void);
/* Prints "fleetcast: error: WHAT: REASON" and returns the exit status. */
int fc_fail(int code, const char *what);

/* Set by SIGINT/SIGTERM so long operations stop and clean up. */
extern volatile sig_atomic_t fc_cli_stop;

int fc_cmd_key(struct fc_args *a);
int fc_cmd_image(struct fc_args *a);
/* fleetcastd's API (cmd_session.c, cmd_watch.c) */
int fc_cmd_session(struct fc_args *a);
int fc_cmd_machines(struct fc_args *a);
int fc_cmd_watch(struct fc_args *a);
int fc_cmd_pxe(struct fc_args *a);
/* the inventory and the report, from fleetcastd's store (cmd_inventory.c,
 * cmd_report.c); 1 and *rc if `machines SUB` is an inventory subcommand */
int fc_cmd_inventory_machines(struct fc_args *a, int *rc);
/* cmd_capture.c: captures over the network through fleetcastd */
int fc_cmd_capture(struct fc_args *a);
/* cmd_boot.c: boot actions through fleetcastd */
int fc_cmd_machines_boot(struct fc_args *a);
int fc_cmd_pxe_reset(struct fc_args *a);
int fc_cmd_labs(struct fc_args *a);
int fc_cmd_report(struct fc_args *a);
/* Wake-on-LAN through fleetcastd (cmd_wake.c) */
int fc_cmd_wake(struct fc_args *a);
int fc_cmd_schedule(struct fc_args *a);

/* A time typed by the operator (when.c), unix seconds or -1: "2026-12-01
 * 02:00", "02:00" (ahead: the next such time, else the last), "+10m" (ahead)
 * or "12h" / "2d" (ago), or unix seconds. */
long long fc_cli_time(const char *v, time_t now, int ahead);

#endif
