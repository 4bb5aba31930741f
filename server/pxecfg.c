/* Per-machine pxelinux configs. With --tftp-root DIR, once a machine's disk is written and
 * verified fleetcastd writes DIR/pxelinux.cfg/01-<mac> (pxelinux asks for that file before
 * "default"), which boots the local disk: the machine's next network boot does not image it
 * again. `fleetcast pxe reset` (cli/cmd_pxe.c) removes these files, and only these: it knows
 * them by their first line, FC_BOOTCFG_MARK_SERVER (common/bootcfg.h).
 *
 * The MAC: from the kernel's ARP table for the receiver's address (receivers.c records it on
 * the first PROGRESS; looked up again here if that failed), which needs the machine on the
 * server's own link. Never the machine's name: that is the receiver's own claim. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bootcfg.h"
#include "common/error.h"
#include "common/log.h"
#include "proto/wol.h"
#include "server/server.h"

int fc_pxecfg_check_root(const char *root)
{
    char dir[4096];
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/pxelinux.cfg", root);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) < 0) {
        fc_error("--tftp-root %s: %s is not a writable directory (`fleetcast pxe build` makes it)",
                 root, dir);
        return FC_EINVAL;
    }
    return 0;
}

static int machine_mac(struct fc_rx *r, char out[18])
{
    if (!r->mac[0])
        fc_netio_mac_of(r->addr.sin_addr, r->mac);
    /* Never from the name: the name is the receiver's own claim, and a
     * JOIN named after another machine's MAC must not set its boot. */
    if (r->mac[0] && !fc_mac_normalize(r->mac, '-', out))
        return 0;
    return FC_EINVAL;
}

int fc_pxecfg_machine_done(struct fc_session *s, struct fc_rx *r)
{
    const char *root = s->d ? s->d->cfg.tftp_root : NULL;
    char mac[18], why[64];

    if (!root)
        return 0;
    if (machine_mac(r, mac)) {
        fc_warn("session %08x machine %s: MAC unknown (not on this link, name not a MAC): no "
                "pxelinux.cfg file; it images again at its next network boot",
                s->session_id, r->name);
        return FC_EINVAL;
    }
    snprintf(why, sizeof(why), "imaged by session %08x", s->session_id);
    if (fc_boot_apply(root, mac, FC_BOOT_LOCAL, NULL, why)) {
        fc_error("session %08x machine %s: cannot set its boot to local under %s (above)",
                 s->session_id, r->name, root);
        return FC_EIO;
    }
    fc_info("session %08x machine %s: boot action local (%s/pxelinux.cfg/01-%s): it boots its "
            "local disk from now on",
            s->session_id, r->name, root, mac);
    return 0;
}
