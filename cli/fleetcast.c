/* `fleetcast`: the operator's command. main() sets up logging and signals
 * and dispatches on the first word; each group lives in its own file. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "common/error.h"
#include "common/log.h"

volatile sig_atomic_t fc_cli_stop;

static void on_signal(int sig)
{
    (void)sig;
    fc_cli_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: fleetcast COMMAND ...\n"
               "\n"
               "  key gen [--out PREFIX] [--force]      make an Ed25519 signing key pair\n"
               "  image create SOURCE OUT [--key SECRET] [--level N] [--threads N]\n"
               "               [--chunk-size BYTES] [--quiet] [--json]\n"
               "  image info IMG [--json] [--extents] [--chunks]\n"
               "  image verify IMG [--pubkey PUB] [--json]\n"
               "  image restore IMG TARGET [--pubkey PUB] [--zero-free|--discard]\n"
               "               [--threads N] [--quiet] [--json]\n"
               "  image compare IMG TARGET [--pubkey PUB] [--quiet]\n"
               "  pxe build OUTDIR --key PUB|--insecure-any-signer [--kernel VMLINUZ]\n"
               "            [--server ADDR] [--session auto|ID] [--disk DEV] [--image-id HEX]\n"
               "            [--machine MAC:disk=DEV,image=HEX]... [--after reboot|poweroff|shell]\n"
               "            [--recv PATH] [--append ARGS] [--pxe-dir DIR]\n"
               "                                        a TFTP root that images PXE clients\n"
               "  pxe reset MAC|--all --tftp-root DIR   image those machines again\n"
               "  session create --image IMG --group 239.X.Y.Z:PORT --iface IF [--rate R]\n"
               "               [--min-receivers N] [--max-wait S] [--fec P] [--start-now]\n"
               "               [--readback]\n"
               "  session list | show ID | start ID | cancel ID\n"
               "  machines [--session ID]               machines of live sessions\n"
               "  machines list [--lab LAB] | add MAC [--name N] [--lab LAB] | remove MAC\n"
               "  machines import CSV                   the inventory (MAC,name,lab lines)\n"
               "  labs list | add NAME [--note TEXT] | remove NAME\n"
               "  report [SESSION | --since 18:00|'2026-12-01 02:00'|12h]\n"
               "         [--format text|json|html] [--out FILE]   what each session did\n"
               "  schedule create --lab LAB --image IMG --at '2026-12-01 02:00'|02:00|+10m\n"
               "           --group 239.X.Y.Z:PORT --iface IF [--every day|sun,wed] [--wake]\n"
               "           [--deadline 05:00] [--rate R] [--max-wait S] [--readback]\n"
               "  schedule list | cancel ID             a lab imaged at a time, woken first\n"
               "  watch [SESSION]                       live table of a session's machines\n"
               "  wake --iface IF [--addr A.B.C.D[:PORT]] MAC...\n"
               "                                        Wake-on-LAN from the server, 6 rounds\n"
               "  pxe seen                              machines fleetcastd saw PXE booting\n"
               "    (these take --server URL (default " FC_API_DEFAULT_SERVER "),\n"
               "    --token TOKEN or --token-file PATH, and --json)\n"
               "\n"
               "Environment: FLEETCAST_HOME (default ~/.fleetcast) holds the default key,\n"
               "the API token fleetcastd created (api.token) and cli.conf ('server = URL',\n"
               "'token-file = PATH'); FLEETCAST_SERVER and FLEETCAST_TOKEN override it.\n"
               "Exit status: 0 ok, 2 usage, 3 bad image or key, 4 target too small (image)\n"
               "or no such session (API), 5 I/O error, 6 target differs, 130 interrupted,\n"
               "1 other (API: refused or unreachable; watch: a machine not done).\n");
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

    fc_log_init("fleetcast", FC_LOG_INFO);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("fleetcast %s\n", FC_VERSION);
        return 0;
    }
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
    return fc_usage_error("unknown command '%s'", argv[1]);
}
