/* pxelinux config files (see bootcfg.h): the menu, a machine's own imaging
 * entry, "boot the local disk" and the direct capture/shell entries all come
 * from fc_bootcfg_write(), so the kernel, initramfs and labels are named in
 * one place. */
#include "common/bootcfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
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

int fc_bootcfg_write(const char *path, const struct fc_bootcfg *b)
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
    write_body(f, b);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        fc_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return FC_EIO;
    }
    return 0;
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

int fc_bootcfg_write_machine(const char *root, const char *mac, const struct fc_bootcfg *b)
{
    char path[4096];

    machine_path(path, sizeof(path), root, mac);
    return fc_bootcfg_write(path, b);
}

int fc_bootcfg_remove_machine(const char *root, const char *mac)
{
    char path[4096], append[16];

    machine_path(path, sizeof(path), root, mac);
    if (fc_bootcfg_read(path, FC_BOOTCFG_MARK_SERVER, append, sizeof(append)) != 1 &&
        fc_bootcfg_read(path, FC_BOOTCFG_MARK_BUILD, append, sizeof(append)) != 1)
        return 0; /* absent, or not ours */
    if (unlink(path) < 0 && errno != ENOENT) {
        fc_error("cannot remove %s: %s", path, strerror(errno));
        return FC_EIO;
    }
    return 0;
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
