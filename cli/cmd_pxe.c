/* `fleetcast pxe build|reset|seen`: the TFTP root that network-boots a lab into fleetcast-recv, and
 * putting imaged machines back on imaging. build checks the options, copies pxelinux and its
 * menu modules (BIOS) and Debian's signed shim and GRUB network image (UEFI, Secure Boot),
 * writes both menus (common/bootcfg.c), and runs pxe/mkinitramfs.sh for the kernel and
 * the initramfs (shell: it is a list of files to gather, which a script says more plainly than
 * C). The script is found by --pxe-dir, $FLEETCAST_PXE_DIR, or the source tree this binary was
 * built from (FC_PXE_DIR, set by cli/meson.build): the tree is where pxe/init is edited and
 * tested, and an installed copy just names its directory. reset sets machines back to deploy
 * through fleetcastd (cli/cmd_boot.c), which writes their files (server/pxecfg.c).
 * seen lists what fleetcastd's passive PXE watcher heard (GET /api/v1/pxe, docs/api.md). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "common/bootcfg.h"
#include "common/bytes.h"
#include "common/error.h"
#include "common/key.h"
#include "common/manifest.h"
#include "common/log.h"
#include "proto/wol.h"

#ifndef FC_PXE_DIR
#define FC_PXE_DIR "/usr/share/fleetcast/pxe"
#endif
#define PXELINUX_DIR "/usr/lib/PXELINUX"
#define SYSLINUX_BIOS_DIR "/usr/lib/syslinux/modules/bios"
/* UEFI with Secure Boot: Debian's signed chain, Microsoft-signed shim first. */
#define SHIM_SIGNED "/usr/lib/shim/shimx64.efi.signed"
#define GRUBNET_SIGNED "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"
#define MACHINES_MAX 1024

/* One --machine MAC:disk=DEV,image=HEX: that machine's own imaging settings. */
struct machine {
    char file[21]; /* 01-xx-xx-xx-xx-xx-xx */
    char disk[128], image[2 * FC_IMAGE_ID_LEN + 1];
};

struct pxe_opts {
    const char *outdir, *kernel, *server, *session, *key, *disk, *after, *recv, *pxe_dir;
    const char *append, *image_id;
    const char *firmware; /* --firmware DIR: a site's own firmware tree, into the initramfs */
    int insecure;
    const char *machine[MACHINES_MAX];
    int n_machines;
};

/* Kernel command-line words: no spaces, quotes or control characters. */
static int cmdline_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '"' || *s == '\'' || *s == 0x7f)
            return 0;
    return 1;
}

static int check_session(const char *s)
{
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    unsigned long long v;
    char *end;

    if (!strcmp(s, "auto"))
        return 0;
    errno = 0;
    v = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
    return errno || *end || end == s + (hex ? 2 : 0) || v == 0 || v > 0xffffffffull ? -1 : 0;
}

static int take_value(struct fc_args *a, const char *name, const char **dst, int *handled)
{
    if (!fc_opt_value(a, name, dst))
        return 0;
    *handled = 1;
    return *dst ? 0 : fc_usage_error("%s needs a value", name);
}

static int parse_opts(struct fc_args *a, struct pxe_opts *o)
{
    static const char *names[] = {"--kernel", "--server",   "--session", "--key",
                                  "--disk",   "--after",    "--recv",    "--pxe-dir",
                                  "--append", "--image-id", "--firmware"};
    const char **dst[] = {&o->kernel, &o->server,   &o->session, &o->key,
                          &o->disk,   &o->after,    &o->recv,    &o->pxe_dir,
                          &o->append, &o->image_id, &o->firmware};
    const char *v;

    while (a->pos < a->argc) {
        const char *arg = a->argv[a->pos];
        int handled = 0, rc = 0;
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]) && !handled && !rc; i++)
            rc = take_value(a, names[i], dst[i], &handled);
        if (rc)
            return rc;
        if (handled)
            continue;
        if (fc_opt_value(a, "--machine", &v)) {
            if (!v)
                return fc_usage_error("--machine needs MAC:disk=DEV,image=HEX");
            if (o->n_machines == MACHINES_MAX)
                return fc_usage_error("more than %d --machine entries", MACHINES_MAX);
            o->machine[o->n_machines++] = v;
        } else if (fc_opt_flag(a, "--insecure-any-signer"))
            o->insecure = 1;
        else if (arg[0] == '-' && arg[1])
            return fc_unknown_option(a, arg);
        else if (!o->outdir) {
            o->outdir = arg;
            a->pos++;
        } else
            return fc_usage_error("unexpected argument '%s'", arg);
    }
    return 0;
}

static int check_image_id(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!isxdigit((unsigned char)s[i]))
            return -1;
    return i == 2 * FC_IMAGE_ID_LEN ? 0 : -1;
}

/* "52:54:00:AB:cd:ef" or with dashes -> "01-52-54-00-ab-cd-ef" (pxelinux's file name). */
static int mac_file_name(const char *mac, char out[21])
{
    char dashed[FC_MAC_TEXT];

    if (fc_mac_normalize(mac, '-', dashed))
        return FC_EINVAL;
    snprintf(out, 21, "01-%s", dashed);
    return 0;
}

/* One setting of --machine: disk=DEV or image=HEX. */
static int parse_setting(const char *kv, size_t len, struct machine *m)
{
    char v[128];

    if (len >= sizeof(v) + 6)
        return -1;
    if (len > 5 && !strncmp(kv, "disk=", 5)) {
        snprintf(m->disk, sizeof(m->disk), "%.*s", (int)(len - 5), kv + 5);
        return m->disk[0] && cmdline_safe(m->disk) ? 0 : -1;
    }
    if (len > 6 && !strncmp(kv, "image=", 6)) {
        snprintf(v, sizeof(v), "%.*s", (int)(len - 6), kv + 6);
        if (check_image_id(v))
            return -1;
        memcpy(m->image, v, sizeof(m->image)); /* 32 digits and the NUL */
        return 0;
    }
    return -1;
}

/* MAC:disk=DEV,image=HEX (either setting, or both). */
static int parse_machine(const char *spec, struct machine *m)
{
    char mac[18];
    const char *p = spec + 18;

    memset(m, 0, sizeof(*m));
    if (strlen(spec) < 19 || spec[17] != ':')
        return FC_EINVAL;
    memcpy(mac, spec, 17);
    mac[17] = 0;
    if (mac_file_name(mac, m->file))
        return FC_EINVAL;
    while (*p) {
        size_t len = strcspn(p, ",");

        if (parse_setting(p, len, m))
            return FC_EINVAL;
        p += len + (p[len] == ',');
    }
    return 0;
}

static int check_machines(const struct pxe_opts *o)
{
    struct machine m;
    int i;

    for (i = 0; i < o->n_machines; i++)
        if (parse_machine(o->machine[i], &m))
            return fc_usage_error("--machine '%s': expected MAC:disk=DEV,image=HEX (either or "
                                  "both; HEX the 32 digits of `fleetcast image info`)",
                                  o->machine[i]);
    return 0;
}

/* Secure by default: machines that accept any signer can be imaged with anyone's system by
 * whichever host answers discovery first. */
static int check_trust_opts(const struct pxe_opts *o)
{
    if (o->key && o->insecure)
        return fc_usage_error("--key and --insecure-any-signer exclude each other");
    if (!o->key && !o->insecure)
        return fc_usage_error(
            "pxe build needs --key PUB: the public key whose images the machines accept. "
            "Without one, any host on the network could image them with its own system; "
            "--insecure-any-signer builds it anyway (tests and demos only)");
    if (o->insecure)
        fc_warn("--insecure-any-signer: the machines will write an image signed by ANY key, "
                "from whichever server answers first");
    return 0;
}

static int check_build_opts(const struct pxe_opts *o)
{
    uint8_t pk[FC_PUBKEY_LEN];
    int rc;

    if (!o->outdir)
        return fc_usage_error("pxe build needs OUTDIR (the TFTP root to write)");
    if ((rc = check_trust_opts(o)) || (rc = check_machines(o)))
        return rc;
    if (o->image_id && check_image_id(o->image_id))
        return fc_usage_error("--image-id takes the 32 hex digits of `fleetcast image info`");
    if (o->server && (!*o->server || !cmdline_safe(o->server)))
        return fc_usage_error("--server takes ADDR[:PORT]");
    if (o->session && check_session(o->session))
        return fc_usage_error("--session takes auto or a session id (decimal or 0x hex)");
    if (o->disk && (!*o->disk || !cmdline_safe(o->disk)))
        return fc_usage_error("--disk takes a device name like sda or /dev/nvme0n1");
    if (o->after && strcmp(o->after, "reboot") && strcmp(o->after, "poweroff") &&
        strcmp(o->after, "shell"))
        return fc_usage_error("--after takes reboot, poweroff or shell");
    if (o->append && strpbrk(o->append, "\n\r"))
        return fc_usage_error("--append takes one line of kernel arguments");
    if (o->key && fc_key_load_public(o->key, pk))
        return fc_exit_status(FC_EKEY); /* the key loader said why */
    return 0;
}

/* PATH if it is executable; the fleetcast-recv next to this binary (installed side by side),
 * or in the build tree (cli/ and client/ are siblings). */
static int find_recv(const char *given, char *out, size_t cap)
{
    static const char *rel[] = {"/fleetcast-recv", "/../client/fleetcast-recv"};
    char self[PATH_MAX];
    ssize_t n;
    size_t i;
    char *slash;

    if (given) {
        snprintf(out, cap, "%s", given);
        return access(out, X_OK) ? FC_EINVAL : 0;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return FC_EINVAL;
    self[n] = 0;
    slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        int n = snprintf(out, cap, "%s%s", self, rel[i]);

        if (n > 0 && (size_t)n < cap && !access(out, X_OK))
            return 0;
    }
    return FC_EINVAL;
}

/* --pxe-dir, FLEETCAST_PXE_DIR, the source tree this was built from while
 * it is there (a developer's build), else where meson installed pxe/. */
static const char *pxe_dir(const struct pxe_opts *o)
{
    const char *env = getenv("FLEETCAST_PXE_DIR");

    if (o->pxe_dir)
        return o->pxe_dir;
    if (env && *env)
        return env;
    return access(FC_PXE_DIR "/mkinitramfs.sh", R_OK) ? FC_PXE_DATADIR : FC_PXE_DIR;
}

static int copy_file(const char *src, const char *dir, const char *name, const char *pkg)
{
    char dst[PATH_MAX], tmp[PATH_MAX + 16], buf[65536];
    int in, out, rc = 0;
    ssize_t n;

    snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fc_error("cannot read %s: %s (package %s)", src, strerror(errno), pkg);
        return FC_EIO;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        fc_error("cannot create %s: %s", tmp, strerror(errno));
        close(in);
        return FC_EIO;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
    if (n < 0 || close(out) < 0 || rename(tmp, dst) < 0) {
        fc_error("cannot write %s: %s", dst, strerror(errno));
        unlink(tmp);
        rc = FC_EIO;
    }
    close(in);
    return rc;
}

/* pxelinux.0, its core module and the menu's modules (syslinux 6: menu.c32 needs libutil and
 * libcom32). */
static int copy_bootloader(const char *outdir)
{
    static const char *mods[] = {"ldlinux.c32", "menu.c32", "libutil.c32", "libcom32.c32"};
    char src[PATH_MAX];
    size_t i;
    int rc = copy_file(PXELINUX_DIR "/pxelinux.0", outdir, "pxelinux.0", "pxelinux");

    for (i = 0; !rc && i < sizeof(mods) / sizeof(mods[0]); i++) {
        snprintf(src, sizeof(src), "%s/%s", SYSLINUX_BIOS_DIR, mods[i]);
        rc = copy_file(src, outdir, mods[i], "syslinux-common");
    }
    return rc;
}

/* The UEFI tree beside the BIOS one: shimx64.efi (the boot file DHCP names for client-arch
 * 7/9) loads grubx64.efi from the same directory (a name built into shim), which is GRUB's
 * signed network image; it reads grub/grub.cfg (its built-in prefix). Both are copied
 * unchanged: a changed byte breaks their signatures. */
static int copy_uefi(const char *outdir)
{
    char dir[PATH_MAX];
    int rc = copy_file(SHIM_SIGNED, outdir, "shimx64.efi", "shim-signed");

    if (!rc)
        rc = copy_file(GRUBNET_SIGNED, outdir, "grubx64.efi", "grub-efi-amd64-signed");
    snprintf(dir, sizeof(dir), "%s/" FC_BOOTCFG_GRUB_DIR, outdir);
    if (!rc && mkdir(dir, 0755) && errno != EEXIST) {
        fc_error("cannot create %s: %s", dir, strerror(errno));
        rc = FC_EIO;
    }
    return rc;
}

/* The kernel command line of the imaging entry; disk and image are the machine's own (a
 * --machine entry) or the defaults. */
static void kernel_args(const struct pxe_opts *o, const char *disk, const char *image, char *buf,
                        size_t cap)
{
    int n = snprintf(buf, cap, "console=tty0 console=ttyS0,115200n8 quiet fleetcast.after=%s",
                     o->after ? o->after : "reboot");
    const char *k[] = {"fleetcast.server=", "fleetcast.session=",  "fleetcast.disk=",
                       "fleetcast.image=",  "fleetcast.insecure=", ""};
    const char *v[] = {o->server, o->session, disk, image, o->insecure ? "1" : NULL, o->append};
    size_t i;

    for (i = 0; i < sizeof(k) / sizeof(k[0]) && n > 0 && (size_t)n < cap; i++)
        if (v[i] && *v[i])
            n += snprintf(buf + n, cap - (size_t)n, " %s%s", k[i], v[i]);
}

/* The menu, for BIOS and UEFI: "image this machine" unattended after 5 s, or the local disk. */
static int write_menu(const struct pxe_opts *o, const char *outdir)
{
    char args[2048];
    struct fc_bootcfg b = {
        "# fleetcast PXE menu, written by `fleetcast pxe build` (docs/pxe.md). A machine\n"
        "# fleetcastd has imaged gets its own pxelinux.cfg/01-<mac> and\n"
        "# grub/grub.cfg-01-<mac> (boot the local disk); `fleetcast machines boot deploy MAC`\n"
        "# (or `pxe reset`) images it again.\n",
        args, FC_BOOT_DEPLOY};

    kernel_args(o, o->disk, o->image_id, args, sizeof(args));
    if (fc_bootcfg_write_menu(outdir, &b))
        return FC_EIO;
    printf("pxelinux.cfg/default and grub/grub.cfg: image this machine after 5 s, with: %s\n",
           args);
    return 0;
}

/* pxelinux.cfg/01-<mac> with the machine's own settings. A machine fleetcastd has already
 * imaged keeps booting its disk (its file is updated, not replaced: the new entry is what
 * `pxe reset` gives back); a file fleetcast did not write is left alone. */
static int write_machine(const struct pxe_opts *o, const char *outdir, const struct machine *m)
{
    char path[PATH_MAX], args[2048], old[4096], header[256];
    struct fc_bootcfg b = {header, args, FC_BOOT_DEPLOY};
    int rc;

    kernel_args(o, m->disk[0] ? m->disk : o->disk, m->image[0] ? m->image : o->image_id, args,
                sizeof(args));
    snprintf(path, sizeof(path), "%s/pxelinux.cfg/%s", outdir, m->file);
    snprintf(header, sizeof(header),
             FC_BOOTCFG_MARK_BUILD " machine %s: its own imaging settings (--machine).\n",
             m->file + 3);
    rc = fc_bootcfg_read(path, FC_BOOTCFG_MARK_SERVER, old, sizeof(old));
    if (rc == 1 && !fc_bootcfg_read_action(path, &b.action) && b.action == FC_BOOT_LOCAL) {
        /* fleetcastd's decision stands; the new entry is what deploy gives back. */
        snprintf(header, sizeof(header),
                 FC_BOOTCFG_MARK_SERVER " machine %s imaged: boot its local disk (kept by pxe "
                                        "build).\n# `fleetcast machines boot deploy %s` images it "
                                        "again.\n",
                 m->file + 3, m->file + 3);
    } else {
        b.action = FC_BOOT_DEPLOY;
    }
    if (fc_bootcfg_write_machine(outdir, m->file + 3, &b))
        return FC_EIO;
    printf("pxelinux.cfg/%s and grub/grub.cfg-%s: %s, with: %s\n", m->file, m->file,
           b.action == FC_BOOT_LOCAL ? "imaged already (boots its disk; `pxe reset` images it)"
                                     : "its own imaging entry",
           args);
    return 0;
}

/* Before the slow initramfs build: a --machine whose file (pxelinux's or GRUB's) someone else
 * wrote is refused now. */
static int check_machine_files(const struct pxe_opts *o, const char *outdir)
{
    static const char *const dirs[] = {"pxelinux.cfg/", FC_BOOTCFG_GRUB_DIR "/grub.cfg-"};
    char path[PATH_MAX], old[16];
    struct machine m;
    int i;
    size_t d;

    for (i = 0; i < o->n_machines; i++) {
        parse_machine(o->machine[i], &m); /* checked by check_build_opts */
        for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
            snprintf(path, sizeof(path), "%s/%s%s", outdir, dirs[d], m.file);
            if (fc_bootcfg_read(path, FC_BOOTCFG_MARK_SERVER, old, sizeof(old)) == 0 &&
                fc_bootcfg_read(path, FC_BOOTCFG_MARK_BUILD, old, sizeof(old)) != 1) {
                fc_error("%s was not written by fleetcast: left alone (remove it to use "
                         "--machine)",
                         path);
                return FC_ESTATE;
            }
        }
    }
    return 0;
}

static int write_machines(const struct pxe_opts *o, const char *outdir)
{
    struct machine m;
    int i, rc = 0;

    for (i = 0; i < o->n_machines && !rc; i++) {
        parse_machine(o->machine[i], &m); /* checked by check_build_opts */
        rc = write_machine(o, outdir, &m);
    }
    return rc;
}

static int run_script(const struct pxe_opts *o, const char *outdir, const char *recv)
{
    char script[PATH_MAX];
    const char *argv[16];
    int n = 0, status;
    pid_t pid;

    snprintf(script, sizeof(script), "%s/mkinitramfs.sh", pxe_dir(o));
    if (access(script, R_OK)) {
        fc_error("cannot find %s (--pxe-dir or FLEETCAST_PXE_DIR names the pxe/ directory)",
                 script);
        return FC_EINVAL;
    }
    argv[n++] = "bash";
    argv[n++] = script;
    argv[n++] = "--out";
    argv[n++] = outdir;
    argv[n++] = "--recv";
    argv[n++] = recv;
    if (o->kernel) {
        argv[n++] = "--kernel";
        argv[n++] = o->kernel;
    }
    if (o->key) {
        argv[n++] = "--key";
        argv[n++] = o->key;
    }
    if (o->firmware) {
        argv[n++] = "--firmware";
        argv[n++] = o->firmware;
    }
    argv[n] = NULL;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execvp("bash", (char *const *)argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return FC_EIO;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fc_error("building the initramfs failed (%s)", script);
        return FC_EIO;
    }
    return 0;
}

/* 1 if the PE image at PATH (an EFI-stub kernel) carries an Authenticode signature (its
 * certificate table is not empty), 0 if not or not a PE file. Only whether it is signed at all:
 * by whom is shim's business at boot. */
static int pe_signed(const char *path)
{
    uint8_t h[1024];
    uint32_t pe, dir;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    n = read(fd, h, sizeof(h));
    close(fd);
    if (n < 0x40 || h[0] != 'M' || h[1] != 'Z')
        return 0;
    pe = fc_get32(h + 0x3c);
    if (pe > (uint32_t)n - 24 - 2 || memcmp(h + pe, "PE\0\0", 4))
        return 0;
    /* Optional header: PE32+ (0x20b) has its data directories at 112, PE32 at 96; the
     * certificate table is the fifth (8 bytes each). */
    dir = pe + 24 + (fc_get16(h + pe + 24) == 0x20b ? 112 : 96) + 4 * 8;
    return dir + 8 <= (uint32_t)n && fc_get32(h + dir + 4) != 0;
}

static int pxe_build(struct fc_args *a)
{
    struct pxe_opts o = {0};
    char recv[PATH_MAX], dir[PATH_MAX];
    int rc = parse_opts(a, &o);

    if (rc || (rc = check_build_opts(&o)))
        return rc;
    if (find_recv(o.recv, recv, sizeof(recv))) {
        fc_error("fleetcast-recv not found%s%s (--recv PATH)", o.recv ? " at " : "",
                 o.recv ? o.recv : " next to this program");
        return fc_exit_status(FC_EINVAL);
    }
    snprintf(dir, sizeof(dir), "%s/pxelinux.cfg", o.outdir);
    if ((mkdir(o.outdir, 0755) && errno != EEXIST) || (mkdir(dir, 0755) && errno != EEXIST)) {
        fc_error("cannot create %s: %s", dir, strerror(errno));
        return fc_fail(FC_EIO, o.outdir);
    }
    rc = check_machine_files(&o, o.outdir);
    if (!rc)
        rc = copy_bootloader(o.outdir);
    if (!rc)
        rc = copy_uefi(o.outdir);
    if (!rc)
        rc = run_script(&o, o.outdir, recv);
    if (!rc)
        rc = write_menu(&o, o.outdir);
    if (!rc)
        rc = write_machines(&o, o.outdir);
    if (rc)
        return fc_fail(rc, "pxe build");
    snprintf(dir, sizeof(dir), "%s/vmlinuz", o.outdir);
    if (!pe_signed(dir))
        fc_warn("%s is not signed: UEFI machines with Secure Boot on will refuse it (shim "
                "boots only a signed kernel: Debian's from linux-image-amd64 is)",
                dir);
    printf("TFTP root %s ready: pxelinux.0 (DHCP boot file for BIOS, client-arch 0), "
           "shimx64.efi (UEFI, client-arch 7 and 9; Secure Boot), vmlinuz, initramfs.img\n",
           o.outdir);
    return 0;
}

/* ---- seen ---- */

static void seen_table(json_t *list)
{
    char when[32];
    size_t i;
    json_t *m;

    printf("%-17s %-12s %-12s %-11s %-8s %5s %-5s %s\n", "MAC", "ARCH", "MESSAGE", "MACHINE",
           "SEEN", "COUNT", "KNOWN", "VENDOR");
    json_array_foreach(list, i, m)
    {
        time_t t = (time_t)fc_jnum(m, "last_seen", 0);

        strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
        printf("%-17s %-12.12s %-12s %-11s %-8s %5.0f %-5s %s\n", fc_jstr(m, "mac"),
               fc_jnull(m, "arch") ? "-" : fc_jstr(m, "arch"), fc_jstr(m, "message"),
               fc_jstr(m, "machine"), when, fc_jnum(m, "count", 0),
               json_is_true(json_object_get(m, "known")) ? "yes" : "no", fc_jstr(m, "vendor"));
    }
}

static int pxe_seen(struct fc_args *a)
{
    struct fc_api_opts o = {0};
    json_t *out, *list;
    int rc = 0;

    while (a->pos < a->argc) { /* its --help: cli/help.c */
        const char *arg = a->argv[a->pos];

        if (fc_api_opt(a, &o, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        if (arg[0] == '-')
            return fc_unknown_option(a, arg);
        return fc_usage_error("pxe seen: unexpected argument '%s'", arg);
    }
    rc = fc_api_request(&o, "GET", "/api/v1/pxe", NULL, &out);
    if (rc)
        return rc;
    list = json_object_get(out, "machines");
    if (o.json)
        fc_api_print_json(out);
    else if (json_array_size(json_object_get(out, "watching")) == 0)
        printf("fleetcastd is not watching for PXE boots (start it with --watch-iface IF)\n");
    else if (json_array_size(list) == 0)
        printf("no machine seen PXE booting yet\n");
    else
        seen_table(list);
    json_decref(out);
    return 0;
}

int fc_cmd_pxe(struct fc_args *a)
{
    const char *sub = a->pos < a->argc ? a->argv[a->pos] : "";

    a->pos++;
    if (!strcmp(sub, "build"))
        return pxe_build(a);
    if (!strcmp(sub, "reset"))
        return fc_cmd_pxe_reset(a);
    if (!strcmp(sub, "seen"))
        return pxe_seen(a);
    return fc_usage_error("usage: fleetcast pxe build OUTDIR [options] | pxe reset MAC|--all | "
                          "pxe seen [--json]");
}
