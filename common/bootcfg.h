/* How a machine boots from the network: the one place that writes its boot files.
 * `fleetcast pxe build` writes the menu (pxelinux.cfg/default) and per-machine imaging
 * entries (01-<mac> with that machine's kernel arguments); every later change of a machine's
 * boot goes through fc_boot_apply() (common/bootaction.c), which decides the files from the
 * machine's boot action and writes them with fc_bootcfg_write_machine(): pxelinux's
 * pxelinux.cfg/01-<mac> and, where the TFTP root has the UEFI tree, GRUB's per-MAC config
 * from the same struct. A machine's own imaging arguments (pxe build --machine) stay in its
 * file across actions, so that setting it back to deploy gives them back. The first line of
 * a file says who wrote it (FC_BOOTCFG_MARK_*): fleetcast never touches a file it did not
 * write. */
#ifndef FC_BOOTCFG_H
#define FC_BOOTCFG_H

#include <stddef.h>

#define FC_BOOTCFG_MARK_SERVER "# fleetcastd:"
#define FC_BOOTCFG_MARK_BUILD "# fleetcast pxe build:"
/* The UEFI tree's directory under the TFTP root: grub.cfg (the menu) and grub.cfg-01-<mac>. */
#define FC_BOOTCFG_GRUB_DIR "grub"

/* A machine's boot action, as the inventory keeps it (docs/pxe.md). */
enum fc_boot_action {
    FC_BOOT_DEPLOY = 0, /* the menu: image this machine after 5 s (or pick the local disk) */
    FC_BOOT_LOCAL,      /* boot the local disk at once (after a good write) */
    FC_BOOT_CAPTURE,    /* straight into the initramfs with fleetcast.mode=capture */
    FC_BOOT_SHELL,      /* straight into the initramfs with fleetcast.mode=shell */
};
#define FC_BOOT_ACTIONS "deploy|local|capture|shell"

const char *fc_boot_action_name(enum fc_boot_action a);
/* 0 and *a set for one of FC_BOOT_ACTIONS, FC_EINVAL otherwise. */
int fc_boot_action_parse(const char *s, enum fc_boot_action *a);

struct fc_bootcfg {
    const char *header; /* comment lines, each "# ...\n"; the first is the mark */
    const char *append; /* kernel arguments of the fleetcast entry, or NULL: no such entry */
    enum fc_boot_action action;
};

/* Writes path atomically (a temporary file renamed), in pxelinux's format. */
int fc_bootcfg_write(const char *path, const struct fc_bootcfg *b);
/* The menu under ROOT: pxelinux.cfg/default and, when ROOT has the UEFI tree, GRUB's
 * grub/grub.cfg, which first hands a machine to its own grub/grub.cfg-01-<mac>. */
int fc_bootcfg_write_menu(const char *root, const struct fc_bootcfg *b);
/* The APPEND line of the fleetcast entry of an existing file into buf (empty if
 * it has none); returns 1 if the file's first line starts with mark, 0 if
 * not, FC_EIO if it cannot be read (ENOENT: absent). */
int fc_bootcfg_read(const char *path, const char *mark, char *append, size_t cap);

/* The action a pxelinux file says (its DEFAULT and mode), or FC_EIO if it cannot be read. */
int fc_bootcfg_read_action(const char *path, enum fc_boot_action *a);

/* A machine's files under the TFTP root ROOT; MAC is pxelinux's spelling, "52-54-00-ab-cd-ef".
 * write: pxelinux.cfg/01-<mac>, and GRUB's grub/grub.cfg-01-<mac> when ROOT has the UEFI tree
 * (ROOT/grub: `pxe build`); a GRUB file fleetcast did not write is left alone (FC_ESTATE,
 * nothing written). GRUB's local boot chainloads the disk's own boot loader (bootcfg.c).
 * remove: both, where fleetcast wrote them (0 when absent). read: fc_bootcfg_read of the
 * pxelinux file (the GRUB file says the same, it is never read back). */
int fc_bootcfg_write_machine(const char *root, const char *mac, const struct fc_bootcfg *b);
int fc_bootcfg_remove_machine(const char *root, const char *mac);
int fc_bootcfg_read_machine(const char *root, const char *mac, const char *mark, char *append,
                            size_t cap);

/* The one decision of how a machine boots (common/bootaction.c): from ACTION, the machine's
 * own imaging arguments kept in its file (else the menu's, pxelinux.cfg/default), and IMAGE
 * (a fleetcast.image= pin, kept across actions until another is given; "none" drops it; NULL
 * keeps what the file has), writes or removes its files. WHY goes
 * into the header ("imaged by session 1a2b3c4d", "set by the operator"). */
int fc_boot_apply(const char *root, const char *mac, enum fc_boot_action action, const char *image,
                  const char *why);

#endif
