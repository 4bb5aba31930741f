/* The daemon's side of boot actions (common/bootaction.c decides the files). A machine's
 * boot action lives in the inventory (the store); fleetcastd sets it when the operator asks
 * (POST /api/v1/boot: `fleetcast machines boot`, `fleetcast pxe reset`), when a schedule
 * sends a lab to imaging (deploy), and when a machine's disk is written and verified (local),
 * and with --tftp-root writes the machine's boot files from it, then and for every machine of
 * the inventory at start (a TFTP root that `pxe build` made again gets them back).
 *
 * The MAC: from the kernel's ARP table for the receiver's address (receivers.c records it on
 * the first PROGRESS; looked up again here if that failed), which needs the machine on the
 * server's own link. Never the machine's name: that is the receiver's own claim. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bootcfg.h"
#include "common/error.h"
#include "common/log.h"
#include "server/store.h"
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
    /* The UEFI tree, when there is one, gets each machine's GRUB file in the same call: found
     * read-only only after a session, a UEFI machine would image again at its next boot. */
    snprintf(dir, sizeof(dir), "%s/" FC_BOOTCFG_GRUB_DIR, root);
    if (stat(dir, &st) == 0 && (!S_ISDIR(st.st_mode) || access(dir, W_OK) < 0)) {
        fc_error("--tftp-root %s: %s (UEFI machines' boot files) is not a writable directory", root,
                 dir);
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

static int set_boot(struct fc_daemon *d, const char *mac, enum fc_boot_action action,
                    const char *image, const char *why, int remember, char *err, size_t cap)
{
    char colons[18], dashes[18];
    const char *root = d->cfg.tftp_root;

    if (fc_mac_normalize(mac, ':', colons) || fc_mac_normalize(mac, '-', dashes))
        return snprintf(err, cap, "bad MAC address '%s' (want 52:54:00:ab:cd:ef)", mac), FC_EINVAL;
    if (root && fc_boot_apply(root, dashes, action, image, why))
        return snprintf(err, cap,
                        "machine %s: its boot files under %s cannot be written (fleetcastd's "
                        "log says why); its boot action is unchanged",
                        colons, root),
               FC_ESTATE;
    fc_store_put_boot(d->store, colons, fc_boot_action_name(action), image && *image ? image : NULL,
                      remember);
    fc_info("machine %s: boot action %s%s%s (%s)%s", colons, fc_boot_action_name(action),
            image && *image ? ", image " : "", image && *image ? image : "", why,
            root ? "" : ": no --tftp-root, no boot files written");
    return 0;
}

int fc_pxecfg_set(struct fc_daemon *d, const char *mac, enum fc_boot_action action,
                  const char *image, const char *why, char *err, size_t cap)
{
    return set_boot(d, mac, action, image, why, 0, err, cap);
}

int fc_pxecfg_lab_deploy(struct fc_daemon *d, const json_t *machines, const char *why)
{
    char err[256];
    const json_t *m;
    size_t i;
    int bad = 0;

    json_array_foreach(machines, i, m)
    {
        const char *mac = json_string_value(json_object_get(m, "mac"));

        if (set_boot(d, mac ? mac : "", FC_BOOT_DEPLOY, NULL, why, 1, err, sizeof(err))) {
            fc_error("%s: %s", why, err);
            bad++;
        }
    }
    return bad ? FC_ESTATE : 0;
}

void fc_pxecfg_absent(struct fc_session *s, const json_t *m)
{
    const char *mac = json_string_value(json_object_get(m, "mac"));
    const char *before = json_string_value(json_object_get(m, "boot_before"));
    enum fc_boot_action a;
    char why[96], err[256];

    /* Only what a schedule changed: its disk was never touched, so it boots as it did. */
    if (!mac || !before || fc_boot_action_parse(before, &a))
        return;
    snprintf(why, sizeof(why), "never joined session %s: as before it", s->id_text);
    if (set_boot(s->d, mac, a, json_string_value(json_object_get(m, "boot_image")), why, 0, err,
                 sizeof(err)))
        fc_error("session %s machine %s: %s", s->id_text, mac, err);
}

/* 1 if the inventory list has MAC (any spelling) with a boot action decided. */
static int listed(const json_t *list, const char *mac)
{
    char a[18], b[18];
    const json_t *m;
    size_t i;

    if (fc_mac_normalize(mac, ':', a))
        return 0;
    json_array_foreach(list, i, m)
    {
        if (!fc_mac_normalize(json_string_value(json_object_get(m, "mac")), ':', b) &&
            !strcmp(a, b))
            return json_is_string(json_object_get(m, "boot_action"));
    }
    return 0;
}

/* Files fleetcastd wrote for machines whose action the inventory does not know (a one-shot
 * fleetcastd has no store; a store or TFTP root from before boot actions): their action goes
 * into the inventory, so that `pxe reset --all` and the console see them, and an imaged
 * machine is not sent back to imaging by an upgrade. */
static void adopt_files(struct fc_daemon *d, const json_t *list)
{
    char dir[4096], path[4400], mac[18], append[16];
    enum fc_boot_action a;
    struct dirent *e;
    DIR *dp;

    snprintf(dir, sizeof(dir), "%s/pxelinux.cfg", d->cfg.tftp_root);
    if (!(dp = opendir(dir)))
        return;
    while ((e = readdir(dp)) != NULL) {
        if (strncmp(e->d_name, "01-", 3) || fc_mac_normalize(e->d_name + 3, ':', mac) ||
            listed(list, mac))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (fc_bootcfg_read(path, FC_BOOTCFG_MARK_SERVER, append, sizeof(append)) == 1 &&
            !fc_bootcfg_read_action(path, &a)) {
            fc_store_put_boot(d->store, mac, fc_boot_action_name(a), NULL, 0);
            fc_info("machine %s: boot action %s, from %s (not in the inventory before)", mac,
                    fc_boot_action_name(a), path);
        }
    }
    closedir(dp);
}

void fc_pxecfg_sync(struct fc_daemon *d)
{
    struct fc_store_reader *r;
    json_t *list, *m;
    enum fc_boot_action a;
    size_t i, n = 0;
    char dashes[18];

    if (!d->cfg.tftp_root || !d->store || !(r = fc_store_reader_open(d->store)))
        return;
    list = fc_store_machines(r, NULL);
    fc_store_reader_close(r);
    json_array_foreach(list, i, m)
    {
        const char *mac = json_string_value(json_object_get(m, "mac"));

        /* NULL: never decided here; adopt_files takes it from its file. */
        if (!mac || fc_mac_normalize(mac, '-', dashes) ||
            fc_boot_action_parse(json_string_value(json_object_get(m, "boot_action")), &a))
            continue;
        if (!fc_boot_apply(d->cfg.tftp_root, dashes, a,
                           json_string_value(json_object_get(m, "boot_image")),
                           "the inventory's, at fleetcastd's start"))
            n++;
    }
    fc_info("boot files: %zu of %zu machines of the inventory written under %s", n,
            json_array_size(list), d->cfg.tftp_root);
    adopt_files(d, list);
    json_decref(list);
}

int fc_pxecfg_machine_done(struct fc_session *s, struct fc_rx *r)
{
    char mac[18], why[128], err[256];

    if (!s->d)
        return 0;
    if (machine_mac(r, mac)) {
        if (s->d->cfg.tftp_root)
            fc_warn("session %08x machine %s: MAC unknown (not on this link, name not a MAC): "
                    "its boot action stays as it was; it images again at its next network boot",
                    s->session_id, r->name);
        return FC_EINVAL;
    }
    /* The receiver's name too: its own claim, but the file is under the ARP MAC. */
    snprintf(why, sizeof(why), "imaged by session %08x as machine %.64s", s->session_id, r->name);
    if (fc_pxecfg_set(s->d, mac, FC_BOOT_LOCAL, NULL, why, err, sizeof(err))) {
        fc_error("session %08x machine %s: %s", s->session_id, r->name, err);
        return FC_EIO;
    }
    return 0;
}

/* {"macs": [...], "action": "deploy|local|capture|shell", "image": ID}: image optional,
 * anything else refused. Every MAC is checked before any is changed. */
static int boot_request(const json_t *body, enum fc_boot_action *a, const char **image, char *why,
                        size_t cap)
{
    const json_t *macs = json_object_get(body, "macs"), *img = json_object_get(body, "image"), *v;
    char mac[18];
    const char *key;
    size_t i;

    json_object_foreach((json_t *)body, key, v)
    {
        if (strcmp(key, "macs") && strcmp(key, "action") && strcmp(key, "image"))
            return snprintf(why, cap, "unknown field \"%.32s\"", key), FC_EINVAL;
    }
    if (fc_boot_action_parse(json_string_value(json_object_get(body, "action")), a))
        return snprintf(why, cap, "action must be one of " FC_BOOT_ACTIONS), FC_EINVAL;
    *image = json_string_value(img);
    if (img && !json_is_null(img) && (!*image || strpbrk(*image, " \t\n") || !**image))
        return snprintf(why, cap, "image must be an image id (no blanks)"), FC_EINVAL;
    if (!json_is_array(macs) || !json_array_size(macs) || json_array_size(macs) > 4096)
        return snprintf(why, cap, "macs must be an array of 1 to 4096 MACs"), FC_EINVAL;
    json_array_foreach(macs, i, v)
    {
        if (fc_mac_normalize(json_string_value(v), ':', mac))
            return snprintf(why, cap, "macs[%zu] is not a MAC (52:54:00:ab:cd:ef)", i), FC_EINVAL;
    }
    return 0;
}

int fc_pxecfg_request(struct fc_daemon *d, const json_t *body, json_t **out, char *why, size_t cap)
{
    enum fc_boot_action a;
    const char *image;
    json_t *done, *v;
    char mac[18];
    size_t i;
    int rc = boot_request(body, &a, &image, why, cap);

    if (rc)
        return rc;
    done = json_array();
    json_array_foreach(json_object_get(body, "macs"), i, v)
    {
        fc_mac_normalize(json_string_value(v), ':', mac);
        rc = fc_pxecfg_set(d, mac, a, image, "set by the operator", why, cap);
        if (rc)
            break;
        json_array_append_new(done, json_pack("{s:s, s:s, s:s?}", "mac", mac, "boot_action",
                                              fc_boot_action_name(a), "boot_image", image));
    }
    *out = json_pack("{s:o, s:s?}", "machines", done, "files",
                     d->cfg.tftp_root ? d->cfg.tftp_root : NULL);
    return rc;
}
