/* pxelinux and GRUB config files (see bootcfg.h): the menu, a machine's own imaging
 * entry, "boot the local disk" and the direct capture/shell entries all come
 * from one struct written by write_body() (pxelinux) and grub_body() (GRUB), so the
 * kernel, initramfs and labels are named in one place for both firmwares. */
#include "common/bootcfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

/* The imaging entry: LABEL fleetcast, the name `pxe/init` is booted by. */
static void write_image_entry(FILE *f, const char *append, int menu)
{
    fprintf(f, "LABEL fleetcast\n");
    if (menu)
        fprintf(f, "  MENU LABEL ^Image this machine (fleetcast)\n  MENU DEFAULT\n");
    fprintf(f, "  KERNEL vmlinuz\n  INITRD initramfs.img\n  APPEND %s\n", append);
}

static const char *const action_names[] = {"deploy", "local", "capture", "shell"};

const char *fc_boot_action_name(enum fc_boot_action a)
{
    return (unsigned)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

int fc_boot_action_parse(const char *s, enum fc_boot_action *a)
{
    unsigned i;

    for (i = 0; s && i < sizeof(action_names) / sizeof(action_names[0]); i++)
        if (!strcmp(s, action_names[i])) {
            *a = (enum fc_boot_action)i;
            return 0;
        }
    return FC_EINVAL;
}

static void write_body(FILE *f, const struct fc_bootcfg *b)
{
    if (b->action == FC_BOOT_CAPTURE || b->action == FC_BOOT_SHELL) {
        /* No menu and no timeout: the operator asked for this mode on purpose. */
        fprintf(f, "SERIAL 0 115200\nDEFAULT fleetcast\nPROMPT 0\nTIMEOUT 0\n");
        write_image_entry(f, b->append ? b->append : "", 0);
        return;
    }
    if (b->action == FC_BOOT_LOCAL) {
        /* No menu: the machine boots its disk unattended. The imaging entry,
         * when kept, is reachable by typing "fleetcast" at pxelinux's prompt
         * (Shift held at boot) and is what `pxe reset` restores. */
        fprintf(f, "DEFAULT local\nPROMPT 0\nTIMEOUT 0\nLABEL local\n  LOCALBOOT 0\n");
        if (b->append)
            write_image_entry(f, b->append, 0);
        return;
    }
    fprintf(f, "SERIAL 0 115200\n"
               "UI menu.c32\n"
               "PROMPT 0\n"
               "TIMEOUT 50\n"
               "ONTIMEOUT fleetcast\n"
               "MENU TITLE fleetcast network boot\n"
               "\n");
    write_image_entry(f, b->append ? b->append : "", 1);
    fprintf(f, "\nLABEL local\n  MENU LABEL Boot the ^local disk\n  LOCALBOOT 0\n");
}

typedef void (*body_fn)(FILE *f, const struct fc_bootcfg *b);

/* PATH atomically (a temporary file renamed): the header, then BODY's lines. */
static int write_file(const char *path, const struct fc_bootcfg *b, body_fn body)
{
    char tmp[4200];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        fc_error("cannot create %s: %s", tmp, strerror(errno));
        return FC_EIO;
    }
    fputs(b->header, f);
    body(f, b);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        fc_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return FC_EIO;
    }
    return 0;
}

int fc_bootcfg_write(const char *path, const struct fc_bootcfg *b)
{
    return write_file(path, b, write_body);
}

/* ---- GRUB (UEFI: shim -> grubnetx64 -> the same kernel and initramfs) ----
 * The same struct in grub.cfg syntax. Kernel arguments are single-quoted one by one: GRUB
 * expands $ and splits on ; and | in a bare word, pxelinux passes them as they are. */
static void grub_quoted(FILE *f, const char *word, size_t len)
{
    size_t i;

    fputs(" '", f);
    for (i = 0; i < len; i++)
        if (word[i] == '\'')
            fputs("'\\''", f);
        else
            fputc(word[i], f);
    fputc('\'', f);
}

static void grub_image_entry(FILE *f, const char *append)
{
    const char *p = append;

    fprintf(f, "menuentry 'Image this machine (fleetcast)' --id fleetcast {\n"
               "  echo 'fleetcast: loading the kernel and the initramfs'\n"
               "  linux /vmlinuz");
    while (*p) {
        size_t n = strcspn(p, " \t");

        if (n)
            grub_quoted(f, p, n);
        p += n + strspn(p + n, " \t");
    }
    fprintf(f, "\n  initrd /initramfs.img\n}\n");
}

/* GRUB's `exit` hands EFI_SUCCESS back to the firmware, and OVMF (like the UEFI spec allows)
 * then shows its boot menu instead of trying the next entry: so the local disk's own boot
 * loader is chainloaded (checked by shim under Secure Boot, as the firmware would), and
 * `exit` is only the last resort. The firmware's own entries name these same files. */
static void grub_local_entry(FILE *f)
{
    fprintf(f, "menuentry 'Boot the local disk' --id local {\n"
               "  for f in /EFI/Microsoft/Boot/bootmgfw.efi /EFI/debian/shimx64.efi "
               "/EFI/ubuntu/shimx64.efi /EFI/fedora/shimx64.efi /EFI/redhat/shimx64.efi "
               "/EFI/rocky/shimx64.efi /EFI/opensuse/shim.efi /EFI/BOOT/BOOTX64.EFI; do\n"
               "    if search --no-floppy --file --set=root $f; then\n"
               "      echo \"fleetcast: booting the local disk: ($root)$f\"\n"
               "      chainloader $f\n"
               "      boot\n"
               "    fi\n"
               "  done\n"
               "  echo 'fleetcast: no boot loader found on a local disk: back to the firmware'\n"
               "  exit\n"
               "}\n");
}

static void grub_body(FILE *f, const struct fc_bootcfg *b)
{
    /* No `serial`/`terminal_output serial`: UEFI firmware redirects its console to the serial
     * port itself where it is set up to, and GRUB's own would print every line twice. */
    if (b->action == FC_BOOT_CAPTURE || b->action == FC_BOOT_SHELL) {
        fprintf(f, "set timeout=0\nset default=fleetcast\n");
        grub_image_entry(f, b->append ? b->append : "");
        return;
    }
    if (b->action == FC_BOOT_LOCAL) {
        fprintf(f, "set timeout=0\nset default=local\n");
        grub_local_entry(f);
        if (b->append) /* kept, as in pxelinux's file: what `pxe reset` gives back */
            grub_image_entry(f, b->append);
        return;
    }
    fprintf(f, "set timeout=5\nset default=fleetcast\n");
    grub_image_entry(f, b->append ? b->append : "");
    grub_local_entry(f);
}

/* The menu's grub.cfg first sends a machine to its own file, named as GRUB's own search
 * names it (grub.cfg-01-<mac, dashes>): Debian's grubnetx64 runs grub/grub.cfg directly and
 * never searches, and its MAC variable has colons. `-s`: `-e` is always false over TFTP. */
static void grub_menu_body(FILE *f, const struct fc_bootcfg *b)
{
    fprintf(f, "regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 "
               "'^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):"
               "([0-9a-f]{2})$' \"$net_default_mac\"\n"
               "set fc_mine=\"$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6\"\n"
               "if [ -s \"$fc_mine\" ]; then\n"
               "  configfile \"$fc_mine\"\n"
               "fi\n");
    grub_body(f, b);
}

/* 1 if ROOT has the UEFI tree (`pxe build` made ROOT/grub). */
static int has_grub(const char *root)
{
    char dir[4096];
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/" FC_BOOTCFG_GRUB_DIR, root);
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int fc_bootcfg_write_menu(const char *root, const struct fc_bootcfg *b)
{
    char path[4096];
    int rc;

    snprintf(path, sizeof(path), "%s/pxelinux.cfg/default", root);
    rc = write_file(path, b, write_body);
    if (rc || !has_grub(root))
        return rc;
    snprintf(path, sizeof(path), "%s/" FC_BOOTCFG_GRUB_DIR "/grub.cfg", root);
    return write_file(path, b, grub_menu_body);
}

/* Strips leading blanks and the trailing newline in place. */
static char *trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static void machine_path(char *buf, size_t cap, const char *root, const char *mac)
{
    snprintf(buf, cap, "%s/pxelinux.cfg/01-%s", root, mac);
}

static void grub_path(char *buf, size_t cap, const char *root, const char *mac)
{
    snprintf(buf, cap, "%s/" FC_BOOTCFG_GRUB_DIR "/grub.cfg-01-%s", root, mac);
}

/* 1 if PATH's first line is one of fleetcast's marks, 0 if not, FC_EIO if unreadable. */
static int ours(const char *path)
{
    char append[16];
    int rc = fc_bootcfg_read(path, FC_BOOTCFG_MARK_SERVER, append, sizeof(append));

    return rc == 0 ? fc_bootcfg_read(path, FC_BOOTCFG_MARK_BUILD, append, sizeof(append)) : rc;
}

int fc_bootcfg_write_machine(const char *root, const char *mac, const struct fc_bootcfg *b)
{
    char path[4096], grub[4096];
    int rc, uefi = has_grub(root);

    grub_path(grub, sizeof(grub), root, mac);
    if (uefi && ours(grub) == 0) {
        fc_error("%s was not written by fleetcast: left alone (remove it to let fleetcast "
                 "decide how that machine boots)",
                 grub);
        return FC_ESTATE;
    }
    machine_path(path, sizeof(path), root, mac);
    rc = fc_bootcfg_write(path, b);
    return rc || !uefi ? rc : write_file(grub, b, grub_body);
}

static int remove_ours(const char *path)
{
    if (ours(path) != 1)
        return 0; /* absent, or not ours */
    if (unlink(path) < 0 && errno != ENOENT) {
        fc_error("cannot remove %s: %s", path, strerror(errno));
        return FC_EIO;
    }
    return 0;
}

int fc_bootcfg_remove_machine(const char *root, const char *mac)
{
    char path[4096];
    int rc;

    machine_path(path, sizeof(path), root, mac);
    rc = remove_ours(path);
    grub_path(path, sizeof(path), root, mac);
    return remove_ours(path) ? FC_EIO : rc;
}

int fc_bootcfg_read_machine(const char *root, const char *mac, const char *mark, char *append,
                            size_t cap)
{
    char path[4096];

    machine_path(path, sizeof(path), root, mac);
    return fc_bootcfg_read(path, mark, append, cap);
}

int fc_bootcfg_read(const char *path, const char *mark, char *append, size_t cap)
{
    char line[4096];
    int first = 1, marked = 0, in_image = 0;
    FILE *f = fopen(path, "r");

    append[0] = 0;
    if (!f)
        return FC_EIO;
    while (fgets(line, sizeof(line), f)) {
        char *s = trim(line);

        if (first)
            marked = !strncmp(s, mark, strlen(mark));
        first = 0;
        if (!strncmp(s, "LABEL ", 6))
            in_image = !strcmp(trim(s + 6), "fleetcast");
        else if (in_image && !strncmp(s, "APPEND ", 7))
            snprintf(append, cap, "%s", trim(s + 7));
    }
    fclose(f);
    return marked;
}

int fc_bootcfg_read_action(const char *path, enum fc_boot_action *a)
{
    char line[4096], *mode;
    FILE *f = fopen(path, "r");

    if (!f)
        return FC_EIO;
    *a = FC_BOOT_DEPLOY;
    while (fgets(line, sizeof(line), f)) {
        char *s = trim(line);

        if (!strcmp(s, "DEFAULT local"))
            *a = FC_BOOT_LOCAL;
        else if (!strncmp(s, "APPEND ", 7) && *a == FC_BOOT_DEPLOY &&
                 (mode = strstr(s, " fleetcast.mode="))) {
            mode[16 + strcspn(mode + 16, " ")] = 0;
            fc_boot_action_parse(mode + 16, a);
        }
    }
    fclose(f);
    return 0;
}
