/* Boot actions (common/bootaction.c, bootcfg.c): what each action writes for a machine with
 * and without its own imaging arguments, that deploy gives back exactly what it had, that a
 * mode or image never sticks to the own arguments, that a file fleetcast did not write is
 * left alone, and that nothing is decided without the menu. GRUB's side: its per-MAC file is
 * written with pxelinux's exactly when the root has the UEFI tree (grub/), says the same action
 * (local: chainload the disk's boot loader; capture: straight in with the mode), quotes kernel
 * arguments for GRUB, goes with pxelinux's, and a GRUB file fleetcast did not write stops the
 * write before anything is written; the GRUB menu sends a machine to its own file first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bootcfg.h"
#include "common/error.h"
#include "tests/unit/unit.h"

#define MAC "52-54-00-ab-cd-ef"
#define MENU_ARGS "console=ttyS0 fleetcast.after=reboot fleetcast.server=10.0.0.1"
#define IMAGE "0123456789abcdef0123456789abcdef"

static char root[64], file[128];

static void setup_root(int with_menu)
{
    char path[128];
    struct fc_bootcfg menu = {FC_BOOTCFG_MARK_BUILD " menu\n", MENU_ARGS, FC_BOOT_DEPLOY};

    snprintf(root, sizeof(root), "/tmp/fc-bootcfg.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(path, sizeof(path), "%s/pxelinux.cfg", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(file, sizeof(file), "%s/pxelinux.cfg/01-" MAC, root);
    if (with_menu) {
        snprintf(path, sizeof(path), "%s/pxelinux.cfg/default", root);
        ck_assert_int_eq(fc_bootcfg_write(path, &menu), 0);
    }
}

static void cleanup_root(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* The fleetcast entry's arguments and the action, as read back from the file. */
static enum fc_boot_action file_action(char *append, size_t cap)
{
    enum fc_boot_action a = (enum fc_boot_action) - 1;

    ck_assert_int_eq(fc_bootcfg_read(file, FC_BOOTCFG_MARK_SERVER, append, cap), 1);
    ck_assert_int_eq(fc_bootcfg_read_action(file, &a), 0);
    return a;
}

START_TEST(test_action_names)
{
    enum fc_boot_action a;
    static const char *names[] = {"deploy", "local", "capture", "shell"};
    int i;

    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(fc_boot_action_parse(names[i], &a), 0);
        ck_assert_int_eq(a, i);
        ck_assert_str_eq(fc_boot_action_name(a), names[i]);
    }
    ck_assert_int_eq(fc_boot_action_parse("Local", &a), FC_EINVAL);
    ck_assert_int_eq(fc_boot_action_parse("", &a), FC_EINVAL);
    ck_assert_int_eq(fc_boot_action_parse(NULL, &a), FC_EINVAL);
}
END_TEST

START_TEST(test_menu_machine)
{
    char append[4096];

    setup_root(1);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, NULL, "t"), 0);
    ck_assert_int_ne(access(file, F_OK), 0); /* the menu images it: no file */
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "imaged by session 1"), 0);
    ck_assert_int_eq(file_action(append, sizeof(append)), FC_BOOT_LOCAL);
    ck_assert_str_eq(append, ""); /* nothing of its own to keep */
    ck_assert_ptr_nonnull(strstr(slurp(file), "LOCALBOOT 0"));
    ck_assert_ptr_nonnull(strstr(slurp(file), "imaged by session 1"));
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_CAPTURE, NULL, "t"), 0);
    ck_assert_int_eq(file_action(append, sizeof(append)), FC_BOOT_CAPTURE);
    ck_assert_str_eq(append, MENU_ARGS " fleetcast.mode=capture");
    ck_assert_ptr_null(strstr(slurp(file), "MENU")); /* straight in, no menu */
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_SHELL, NULL, "t"), 0);
    ck_assert_int_eq(file_action(append, sizeof(append)), FC_BOOT_SHELL);
    ck_assert_str_eq(append, MENU_ARGS " fleetcast.mode=shell"); /* one mode, not two */
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, NULL, "t"), 0);
    ck_assert_int_ne(access(file, F_OK), 0); /* back to the menu */
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, IMAGE, "t"), 0);
    ck_assert_int_eq(file_action(append, sizeof(append)), FC_BOOT_DEPLOY);
    ck_assert_str_eq(append, MENU_ARGS " fleetcast.image=" IMAGE);
    ck_assert_ptr_nonnull(strstr(slurp(file), "ONTIMEOUT fleetcast"));
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "t"), 0);
    file_action(append, sizeof(append));
    ck_assert_str_eq(append, MENU_ARGS " fleetcast.image=" IMAGE); /* the pin stays */
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, "none", "t"), 0);
    ck_assert_int_ne(access(file, F_OK), 0); /* unpinned: nothing of its own, the menu */
    cleanup_root();
}
END_TEST

START_TEST(test_own_args_kept)
{
    char append[4096];
    struct fc_bootcfg own = {FC_BOOTCFG_MARK_BUILD " machine\n",
                             MENU_ARGS " fleetcast.disk=/dev/sdb", FC_BOOT_DEPLOY};

    setup_root(1);
    ck_assert_int_eq(fc_bootcfg_write_machine(root, MAC, &own), 0);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "t"), 0);
    ck_assert_int_eq(file_action(append, sizeof(append)), FC_BOOT_LOCAL);
    ck_assert_str_eq(append, own.append); /* kept for deploy to give back */
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_CAPTURE, NULL, "t"), 0);
    ck_assert_int_eq(file_action(append, sizeof(append)), FC_BOOT_CAPTURE);
    ck_assert_str_eq(append, MENU_ARGS " fleetcast.disk=/dev/sdb fleetcast.mode=capture");
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, NULL, "t"), 0);
    ck_assert_int_eq(file_action(append, sizeof(append)), FC_BOOT_DEPLOY);
    ck_assert_str_eq(append, own.append);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, IMAGE, "t"), 0);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, IMAGE, "t"), 0);
    file_action(append, sizeof(append));
    ck_assert_str_eq(append, MENU_ARGS " fleetcast.disk=/dev/sdb fleetcast.image=" IMAGE);
    cleanup_root();
}
END_TEST

START_TEST(test_foreign_and_no_menu)
{
    char before[8192];
    FILE *f;

    setup_root(1);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("DEFAULT windows\nLABEL windows\n  KERNEL wds.0\n", f);
    fclose(f);
    snprintf(before, sizeof(before), "%s", slurp(file));
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "t"), FC_ESTATE);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, NULL, "t"), FC_ESTATE);
    ck_assert_str_eq(slurp(file), before); /* untouched */
    ck_assert_int_eq(fc_bootcfg_remove_machine(root, MAC), 0);
    ck_assert_int_eq(access(file, F_OK), 0); /* not ours: not removed */
    cleanup_root();

    /* No menu: nothing to image with, but the local disk needs none. */
    setup_root(0);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, IMAGE, "t"), FC_ESTATE);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_CAPTURE, NULL, "t"), FC_ESTATE);
    ck_assert_int_ne(access(file, F_OK), 0);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "t"), 0);
    ck_assert_ptr_nonnull(strstr(slurp(file), "LOCALBOOT 0"));
    cleanup_root();
}
END_TEST

/* A root with the UEFI tree and both menus, whose arguments GRUB must quote. */
static void setup_uefi_root(void)
{
    char path[128];
    struct fc_bootcfg menu = {FC_BOOTCFG_MARK_BUILD " menu\n", "console=ttyS0 quiet it's $x",
                              FC_BOOT_DEPLOY};

    setup_root(0);
    snprintf(path, sizeof(path), "%s/grub", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(fc_bootcfg_write_menu(root, &menu), 0);
}

static char *grub_file(void)
{
    static char path[128];

    snprintf(path, sizeof(path), "%s/grub/grub.cfg-01-" MAC, root);
    return path;
}

START_TEST(test_bios_only_root)
{
    char path[128];

    setup_root(1);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "t"), 0);
    ck_assert_ptr_nonnull(strstr(slurp(file), "LOCALBOOT 0"));
    ck_assert_int_ne(access(grub_file(), F_OK), 0); /* no UEFI tree: pxelinux's only */
    snprintf(path, sizeof(path), "%s/grub", root);
    ck_assert_int_ne(access(path, F_OK), 0);
    cleanup_root();
}
END_TEST

START_TEST(test_grub_menu)
{
    char path[128];
    const char *s;

    setup_uefi_root();
    snprintf(path, sizeof(path), "%s/grub/grub.cfg", root);
    s = slurp(path);
    ck_assert(!strncmp(s, FC_BOOTCFG_MARK_BUILD, strlen(FC_BOOTCFG_MARK_BUILD)));
    ck_assert_ptr_nonnull(strstr(s, "\"$net_default_mac\"\n"));
    ck_assert_ptr_nonnull(strstr(s, "set fc_mine=\"$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6\""));
    ck_assert_ptr_nonnull(strstr(s, "configfile \"$fc_mine\""));
    ck_assert(strstr(s, "configfile") < strstr(s, "menuentry")); /* its own file first */
    ck_assert_ptr_nonnull(strstr(s, "set timeout=5\nset default=fleetcast\n"));
    ck_assert_ptr_nonnull(strstr(s, "linux /vmlinuz 'console=ttyS0' 'quiet' 'it'\\''s' '$x'\n"));
    ck_assert_ptr_nonnull(strstr(s, "initrd /initramfs.img\n"));
    ck_assert_ptr_nonnull(strstr(s, "--id local {"));
    snprintf(path, sizeof(path), "%s/pxelinux.cfg/default", root);
    ck_assert_ptr_nonnull(strstr(slurp(path), "APPEND console=ttyS0 quiet it's $x\n"));
    cleanup_root();
}
END_TEST

START_TEST(test_grub_actions)
{
    const char *s;

    setup_uefi_root();
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "imaged by session 1"), 0);
    s = slurp(grub_file());
    ck_assert(!strncmp(s, FC_BOOTCFG_MARK_SERVER " machine " MAC ": local (imaged by session 1",
                       strlen(FC_BOOTCFG_MARK_SERVER) + 40));
    ck_assert_ptr_nonnull(strstr(s, "set timeout=0\nset default=local\n"));
    ck_assert_ptr_nonnull(strstr(s, "search --no-floppy --file --set=root $f"));
    ck_assert_ptr_nonnull(strstr(s, "chainloader $f\n"));
    ck_assert_ptr_nonnull(strstr(s, "/EFI/BOOT/BOOTX64.EFI"));
    ck_assert_ptr_null(strstr(s, "linux /vmlinuz")); /* nothing of its own to keep */
    ck_assert_ptr_nonnull(strstr(slurp(file), "LOCALBOOT"));
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_CAPTURE, NULL, "t"), 0);
    s = slurp(grub_file());
    ck_assert_ptr_nonnull(strstr(s, "set timeout=0\nset default=fleetcast\n"));
    ck_assert_ptr_nonnull(strstr(s, "'fleetcast.mode=capture'\n"));
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_DEPLOY, NULL, "t"), 0);
    ck_assert_int_ne(access(grub_file(), F_OK), 0); /* back to the menu: both gone */
    ck_assert_int_ne(access(file, F_OK), 0);
    cleanup_root();
}
END_TEST

START_TEST(test_grub_foreign)
{
    FILE *f;

    setup_uefi_root();
    f = fopen(grub_file(), "w");
    ck_assert_ptr_nonnull(f);
    fputs("set default=mine\n", f);
    fclose(f);
    ck_assert_int_eq(fc_boot_apply(root, MAC, FC_BOOT_LOCAL, NULL, "t"), FC_ESTATE);
    ck_assert_int_ne(access(file, F_OK), 0); /* nothing half written */
    ck_assert_int_eq(fc_bootcfg_remove_machine(root, MAC), 0);
    ck_assert_str_eq(slurp(grub_file()), "set default=mine\n");
    cleanup_root();
}
END_TEST

FC_TEST_MAIN("bootcfg", test_action_names, test_menu_machine, test_own_args_kept,
             test_foreign_and_no_menu, test_bios_only_root, test_grub_menu, test_grub_actions,
             test_grub_foreign)
