/* The one decision of how a machine boots from the network (bootcfg.h): its boot action, the
 * imaging arguments it keeps, and which files say so. fleetcastd calls it after a good write
 * (local), when the operator sets an action (`fleetcast machines boot`, `pxe reset`), and at
 * start for every machine of the inventory; nothing else writes a machine's boot files.
 *
 * A machine's own arguments are the fleetcast entry of its file, without the mode this
 * function adds; when they equal the menu's (pxelinux.cfg/default) it has none of its own,
 * and "deploy" then removes its files: the menu images it, with whatever `pxe build` last
 * wrote there. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/bootcfg.h"
#include "common/error.h"
#include "common/log.h"

#define ARGS_MAX 4096

/* Removes every blank-separated token of s that starts with prefix, in place. */
static void drop_tokens(char *s, const char *prefix)
{
    char out[ARGS_MAX] = "", *save = NULL, *tok;
    size_t n = 0;

    for (tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
        if (strncmp(tok, prefix, strlen(prefix)))
            n += (size_t)snprintf(out + n, n < sizeof(out) ? sizeof(out) - n : 0, "%s%s",
                                  n ? " " : "", tok);
    snprintf(s, ARGS_MAX, "%s", out);
}

static void add_token(char *s, const char *key, const char *val)
{
    size_t n = strlen(s);

    snprintf(s + n, ARGS_MAX - n, "%s%s%s", n ? " " : "", key, val);
}

/* The menu's arguments (without a mode), or FC_ESTATE when pxe build never ran here: said,
 * unless the action needs none (local: LOCALBOOT alone). */
static int menu_args(const char *root, enum fc_boot_action action, char *args)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/pxelinux.cfg/default", root);
    if (fc_bootcfg_read(path, FC_BOOTCFG_MARK_BUILD, args, ARGS_MAX) < 0 || !args[0]) {
        args[0] = 0;
        if (action == FC_BOOT_LOCAL)
            return 0;
        fc_error("%s has no fleetcast entry: run `fleetcast pxe build %s` first", path, root);
        return FC_ESTATE;
    }
    drop_tokens(args, "fleetcast.mode=");
    return 0;
}

/* The machine's own arguments into own (empty: none), or FC_ESTATE for a file that fleetcast
 * did not write. */
static int own_args(const char *root, const char *mac, const char *menu, char *own)
{
    int srv = fc_bootcfg_read_machine(root, mac, FC_BOOTCFG_MARK_SERVER, own, ARGS_MAX);
    char tmp[16];

    if (srv == 0 &&
        fc_bootcfg_read_machine(root, mac, FC_BOOTCFG_MARK_BUILD, tmp, sizeof(tmp)) != 1) {
        fc_error("%s/pxelinux.cfg/01-%s was not written by fleetcast: left alone (remove it to "
                 "let fleetcast decide how that machine boots)",
                 root, mac);
        return FC_ESTATE;
    }
    if (srv < 0)
        own[0] = 0; /* no file */
    drop_tokens(own, "fleetcast.mode=");
    if (!strcmp(own, menu))
        own[0] = 0;
    return 0;
}

int fc_boot_apply(const char *root, const char *mac, enum fc_boot_action action, const char *image,
                  const char *why)
{
    char menu[ARGS_MAX], own[ARGS_MAX], args[ARGS_MAX], header[512], when[32];
    struct fc_bootcfg b = {header, args, action};
    time_t now = time(NULL);
    int rc = menu_args(root, action, menu);

    if (!rc)
        rc = own_args(root, mac, menu, own);
    if (rc)
        return rc;
    snprintf(args, sizeof(args), "%s", own[0] ? own : menu);
    if (image && *image) {
        drop_tokens(args, "fleetcast.image=");
        if (strcmp(image, "none"))
            add_token(args, "fleetcast.image=", image);
        else
            image = NULL;
        if (!strcmp(args, menu))
            own[0] = 0; /* the pin was all it had of its own */
        else
            snprintf(own, sizeof(own), "%s", args);
    }
    if (action == FC_BOOT_DEPLOY && !own[0] && !(image && *image))
        return fc_bootcfg_remove_machine(root, mac);
    if (action == FC_BOOT_LOCAL && !own[0] && !(image && *image))
        b.append = NULL; /* nothing of its own to give back */
    if (action == FC_BOOT_CAPTURE || action == FC_BOOT_SHELL)
        add_token(args, "fleetcast.mode=", fc_boot_action_name(action));
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
    snprintf(header, sizeof(header),
             FC_BOOTCFG_MARK_SERVER " machine %s: %s (%s, %s).\n"
                                    "# `fleetcast machines boot deploy %s` images it again.\n",
             mac, fc_boot_action_name(action), why, when, mac);
    return fc_bootcfg_write_machine(root, mac, &b);
}
