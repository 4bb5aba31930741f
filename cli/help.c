/* `fleetcast`'s help: one table of commands, from which `fleetcast --help`,
 * `fleetcast COMMAND [SUB] --help` and `--list-commands` are printed, so a
 * command cannot have a synopsis without its help or the reverse. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"

#define API_OPTS                                                                                   \
    "  --server URL        fleetcastd's console (default " FC_API_DEFAULT_SERVER ")\n"             \
    "  --token TOKEN, --token-file PATH   the API token (default: FLEETCAST_TOKEN,\n"              \
    "                      cli.conf, $FLEETCAST_HOME/api.token, then the service's\n"              \
    "                      " FC_STATE_DIR "/api.token, readable by the fleetcast group)\n"         \
    "  --json              print the API's JSON\n"

struct cmd_help {
    const char *group, *sub; /* sub NULL: a command of one word */
    const char *synopsis;    /* after "fleetcast ", continuation lines indented */
    const char *text;        /* what it does and its options */
};

static const struct cmd_help cmds[] = {
    {"key", "gen", "key gen [--out PREFIX] [--force]",
     "Makes an Ed25519 signing key pair: PREFIX.key (0600) and PREFIX.pub.\n"
     "  --out PREFIX        where (default $FLEETCAST_HOME/signing)\n"
     "  --force             replace an existing pair\n"},
    {"image", "create",
     "image create SOURCE OUT [--key SECRET] [--level N] [--threads N]\n"
     "               [--chunk-size BYTES] [--force] [--quiet] [--json]",
     "Captures a disk or raw disk image SOURCE into the signed image file OUT.\n"
     "  --key SECRET        signing key (default $FLEETCAST_HOME/signing.key, made\n"
     "                      on first use)\n"
     "  --level N           zstd level 1-19 (default 3)\n"
     "  --threads N         compression threads (default: all cores)\n"
     "  --chunk-size BYTES  a multiple of 4096 (default about 4 MiB)\n"
     "  --force             capture a hibernated or dirty NTFS as it is (else\n"
     "                      refused: shut Windows down with fast start-up off)\n"
     "  --quiet, --json     no progress; a JSON summary\n"},
    {"image", "info", "image info IMG [--json] [--extents] [--chunks]",
     "Partitions, filesystems, sizes, compression and signer of IMG.\n"
     "  --json              as JSON\n"
     "  --extents, --chunks every stored extent, every chunk\n"},
    {"image", "verify", "image verify IMG [--pubkey PUB] [--json]",
     "Checks the signature and every chunk's hashes; names the first bad chunk.\n"
     "  --pubkey PUB        the signer must be this key (else: integrity only)\n"},
    {"image", "restore",
     "image restore IMG TARGET [--pubkey PUB] [--zero-free|--discard]\n"
     "               [--grow] [--grow-part N] [--threads N] [--quiet] [--json]",
     "Writes IMG to TARGET (a block device, or a file made at the disk size).\n"
     "A bigger target gets its backup GPT at its own end.\n"
     "  --pubkey PUB        the signer must be this key\n"
     "  --zero-free         zero what the image does not store\n"
     "  --discard           discard it instead\n"
     "  --grow              the last partition and its ext2/3/4 or swap fill the disk\n"
     "  --grow-part N       partition N instead of the last (implies --grow)\n"
     "  --threads N, --quiet, --json\n"},
    {"image", "compare", "image compare IMG TARGET [--pubkey PUB] [--quiet]",
     "Hashes what TARGET holds in every region IMG stores; exit 6 if one differs.\n"},
    {"pxe", "build",
     "pxe build OUTDIR --key PUB|--insecure-any-signer [--kernel VMLINUZ]\n"
     "            [--server ADDR] [--session auto|ID] [--disk DEV] [--image-id HEX]\n"
     "            [--machine MAC:disk=DEV,image=HEX]... [--after reboot|poweroff|shell]\n"
     "            [--recv PATH] [--append ARGS] [--pxe-dir DIR] [--firmware DIR]",
     "Makes OUTDIR a TFTP root that images PXE clients (docs/pxe.md): pxelinux and\n"
     "its menu for BIOS, signed shim and GRUB and GRUB's menu for UEFI (Secure Boot\n"
     "on or off), Debian's signed kernel and an initramfs with fleetcast-recv.\n"
     "  --key PUB           machines write only images signed by this key\n"
     "  --firmware DIR      a site's own firmware tree (as /lib/firmware) added to\n"
     "                      the initramfs, besides Debian's free firmware\n"
     "  --pxe-dir DIR       the pxe/ scripts (default: the source tree this was\n"
     "                      built from if it is there, else " FC_PXE_DATADIR ")\n"
     "  --machine MAC:disk=DEV,image=HEX   one machine's own disk and image\n"},
    {"capture", "create", "capture create --mac MAC --out IMG [--level N] [--overwrite]",
     "Arms a capture over the network: the machine's boot action becomes capture,\n"
     "it PXE-boots, reads its disk and uploads it to fleetcastd, which checks every\n"
     "chunk, signs the image (--capture-key, default STATE_DIR/capture.key) and\n"
     "writes it to IMG in its capture directory; then the boot action is local.\n"
     "  --mac MAC           the machine\n"
     "  --out IMG           the image's name, or a relative path, in fleetcastd's\n"
     "                      capture directory (--capture-dir, default\n"
     "                      STATE_DIR/images); no '..', no symbolic links\n"
     "  --overwrite         replace an image of that name (else refused)\n"
     "  --level N           zstd level the machine compresses with (default 3)\n" API_OPTS},
    {"capture", "list", "capture list",
     "Armed, running and ended captures: state, chunks, bytes, rate, error.\n" API_OPTS},
    {"capture", "cancel", "capture cancel MAC",
     "Cancels an armed or running capture (a partial image is removed); the\n"
     "machine's boot action becomes local.\n" API_OPTS},
    {"pxe", "reset", "pxe reset MAC|--all",
     "Sets a machine (or every machine set to local) back to deploy: it is imaged\n"
     "again at its next network boot. Same as `machines boot deploy MAC`.\n" API_OPTS},
    {"pxe", "seen", "pxe seen",
     "The machines fleetcastd's PXE watcher (--watch-iface) heard booting, newest\n"
     "first: MAC, firmware, last DHCP message, state, whether the inventory knows it.\n" API_OPTS},
    {"session", "create",
     "session create --image IMG --group 239.X.Y.Z:PORT --iface IF [--rate R]\n"
     "               [--min-receivers N] [--max-wait S] [--fec P] [--start-now]\n"
     "               [--readback] [--names FILE] [--grow] [--grow-part N]",
     "Creates a session on fleetcastd and prints its id. Settings not given are\n"
     "the daemon's defaults (its config file). --names FILE: \"MAC,hostname\" lines,\n"
     "the host name each machine's clone gets (before the inventory's name).\n"
     "--grow: on a disk bigger than the image's, each machine grows its last\n"
     "partition (--grow-part N: partition N, 1-31) and its ext2/3/4 or swap to\n"
     "fill the disk.\n" API_OPTS},
    {"session", "list", "session list", "Live sessions, then the ended ones.\n" API_OPTS},
    {"session", "show", "session show ID", "One session and its machines.\n" API_OPTS},
    {"session", "start", "session start ID",
     "Starts a waiting session now, whoever has joined.\n" API_OPTS},
    {"session", "cancel", "session cancel ID", "Aborts a session.\n" API_OPTS},
    {"machines", NULL, "machines [--session ID]",
     "The machines of every live session, or of one.\n" API_OPTS},
    {"machines", "list", "machines list [--lab LAB]",
     "The inventory: every machine fleetcastd knows (MAC, name, lab, last IP, last\n"
     "image and result, first and last seen), or a lab's.\n" API_OPTS},
    {"machines", "add", "machines add MAC [--name NAME] [--lab LAB]",
     "Adds a machine to the inventory, or changes its name or lab.\n" API_OPTS},
    {"machines", "boot",
     "machines boot deploy|local|capture|shell MAC...|--lab LAB\n"
     "               [--image ID|none]",
     "How the machines boot from the network next time (their boot action in the\n"
     "inventory); fleetcastd --tftp-root writes their pxelinux (and GRUB) files.\n"
     "  deploy              the menu: imaged after 5 s (a good write sets local)\n"
     "  local               boot the local disk\n"
     "  capture, shell      straight into the initramfs in that mode\n"
     "  --image ID|none     pin the image it deploys (kept until changed)\n" API_OPTS},
    {"machines", "remove", "machines remove MAC",
     "Removes a machine from the inventory.\n" API_OPTS},
    {"machines", "import", "machines import CSV",
     "Adds the machines of a CSV file, one 'MAC,name,lab' line each: all or none.\n" API_OPTS},
    {"labs", "list", "labs list",
     "The labs: rooms or sets of machines imaged together.\n" API_OPTS},
    {"labs", "add", "labs add NAME [--note TEXT]", "Adds a lab, or changes its note.\n" API_OPTS},
    {"labs", "remove", "labs remove NAME", "Removes a lab.\n" API_OPTS},
    {"report", NULL,
     "report [SESSION | --since 18:00|'2026-12-01 02:00'|12h]\n"
     "         [--format text|json|html] [--out FILE]",
     "The morning report from fleetcastd's store: per session a summary line, then\n"
     "per machine its result, time, rate, repairs, host name, identity (what was\n"
     "set where: docs/identity.md) and error.\n"
     "  --since WHEN        the sessions since then (a time today, a date and time,\n"
     "                      or hours back)\n"
     "  --format F          text (default), json or html\n"
     "  --out FILE          write it there instead of stdout\n" API_OPTS},
    {"schedule", "create",
     "schedule create --lab LAB --image IMG --at '2026-12-01 02:00'|02:00|+10m\n"
     "           --group 239.X.Y.Z:PORT --iface IF [--every day|sun,wed] [--wake]\n"
     "           [--deadline 05:00] [--rate R] [--max-wait S] [--readback]\n"
     "           [--grow] [--grow-part N]",
     "Images a lab at a time, once or every given weekday: its machines woken\n"
     "first (--wake), the session starting when they all joined or --max-wait\n"
     "after the first join, what is unfinished failed at --deadline.\n" API_OPTS},
    {"schedule", "list", "schedule list", "The schedules and their last runs.\n" API_OPTS},
    {"schedule", "cancel", "schedule cancel ID", "Cancels a schedule.\n" API_OPTS},
    {"wake", NULL, "wake --iface IF [--addr A.B.C.D[:PORT]] MAC...",
     "fleetcastd sends each MAC's Wake-on-LAN magic packet on its interface IF to\n"
     "IF's IPv4 broadcast address, UDP port 9 (or to --addr), 6 times over a\n"
     "minute. MACs as 52:54:00:ab:cd:ef or with dashes, any case.\n" API_OPTS},
    {"watch", NULL, "watch [SESSION]",
     "A live table of a session's machines until it ends (exit 0: all done).\n" API_OPTS},
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

void fc_cli_usage(FILE *f)
{
    size_t i;

    fputs("usage: fleetcast COMMAND ...   (fleetcast COMMAND [SUB] --help: its options)\n\n", f);
    for (i = 0; i < N_CMDS; i++)
        fprintf(f, "  %s\n", cmds[i].synopsis);
    fputs("  (session, machines, labs, report, schedule, watch and wake take\n"
          "   --server URL, --token TOKEN or --token-file PATH, and --json)\n"
          "\n"
          "Environment: FLEETCAST_HOME (default ~/.fleetcast) holds the default key,\n"
          "cli.conf ('server = URL', 'token-file = PATH') and the token of a\n"
          "fleetcastd you run yourself (api.token); the service keeps its token in\n" FC_STATE_DIR
          "/api.token for the fleetcast group. FLEETCAST_SERVER and\n"
          "FLEETCAST_TOKEN override them.\n"
          "Exit status: 0 ok, 2 usage, 3 bad image or key, 4 target too small (image)\n"
          "or no such session (API), 5 I/O error, 6 target differs, 64 unknown option,\n"
          "130 interrupted, 1 other (API: refused or unreachable; watch: a machine not\n"
          "done).\n",
          f);
}

/* GROUP SUB's entry, else GROUP's own (a command of one word that may
 * also have subcommands: `machines` and `machines list`). */
static const struct cmd_help *find(const char *group, const char *sub)
{
    const struct cmd_help *own = NULL;
    size_t i;

    for (i = 0; i < N_CMDS; i++) {
        if (strcmp(cmds[i].group, group))
            continue;
        if (!cmds[i].sub)
            own = &cmds[i];
        else if (sub && !strcmp(cmds[i].sub, sub))
            return &cmds[i];
    }
    return own;
}

static int group_has_subs(const char *group)
{
    size_t i;

    for (i = 0; i < N_CMDS; i++)
        if (!strcmp(cmds[i].group, group) && cmds[i].sub)
            return 1;
    return 0;
}

/* `fleetcast GROUP --help`: the group's commands. 0 if GROUP is none. */
static int group_help(const char *group)
{
    size_t i;
    int n = 0;

    for (i = 0; i < N_CMDS; i++)
        if (!strcmp(cmds[i].group, group))
            n += printf("%s  %s\n", n ? "" : "usage:\n", cmds[i].synopsis) > 0;
    if (n)
        printf("(fleetcast %s SUB --help: its options)\n", group);
    return n;
}

int fc_cli_help(int argc, char **argv, int *rc)
{
    const struct cmd_help *c;
    int i, help = 0, version = 0;

    for (i = 2; i < argc; i++) {
        help |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
        version |= !strcmp(argv[i], "--version");
    }
    *rc = 0;
    if (version && !help) {
        printf("fleetcast %s\n", FC_VERSION);
        return 1;
    }
    if (!help && argc > 2 && argv[2][0] == '-' && find(argv[1], NULL) == NULL &&
        group_has_subs(argv[1])) {
        struct fc_args a = {argc, argv, 2};
        *rc = fc_unknown_option(&a, argv[2]);
        return 1;
    }
    if (!help)
        return 0;
    c = find(argv[1], argc > 2 ? argv[2] : NULL);
    if (c) {
        printf("usage: fleetcast %s\n\n%s", c->synopsis, c->text);
        /* `machines` is a command and a group: its subcommands too */
        if (!c->sub && group_has_subs(c->group)) {
            putchar('\n');
            group_help(c->group);
        }
        return 1;
    }
    if (group_help(argv[1]))
        return 1;
    *rc = fc_usage_error("unknown command '%s'", argv[1]);
    return 1;
}

void fc_cli_list_commands(void)
{
    size_t i;

    for (i = 0; i < N_CMDS; i++)
        printf("%s%s%s\n", cmds[i].group, cmds[i].sub ? " " : "", cmds[i].sub ? cmds[i].sub : "");
}

int fc_unknown_option(const struct fc_args *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *group = a->argc > 1 && a->argv[1][0] != '-' ? a->argv[1] : "";
    const char *sub = a->argc > 2 && a->argv[2][0] != '-' ? a->argv[2] : NULL;
    const struct cmd_help *c = find(group, sub);

    fprintf(stderr, "fleetcast: usage error: unknown option %.*s (see fleetcast %s%s%s%s--help)\n",
            eq ? (int)(eq - arg) : (int)strlen(arg), arg, group, c && c->sub ? " " : "",
            c && c->sub ? c->sub : "", *group ? " " : "");
    return FC_EXIT_UNKNOWN_OPTION;
}
