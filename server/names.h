/* A session's host names: which name each machine (by MAC) is given in its
 * JOIN_ACK, for the receiver to write into the clone (docs/identity.md).
 * From the session's own list (`fleetcast session create --names FILE`:
 * "MAC,hostname" lines, the API's "names") and the inventory (the machines
 * table: name and lab), read once when the session is created so the loop
 * never waits on the store; the session's list wins over the inventory. */
#ifndef FC_SERVER_NAMES_H
#define FC_SERVER_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/packet.h"
#include "proto/wol.h"
#include <jansson.h>

#define FC_NAMES_TEXT_MAX (1024 * 1024)
#define FC_NAMES_MAX 4096 /* machines of one session: a big site's whole inventory */

struct fc_name {
    uint8_t mac[FC_MAC_LEN];
    char hostname[FC_GRANT_TEXT_MAX + 1];
    char lab[FC_GRANT_TEXT_MAX + 1];
    uint8_t from_list; /* the session's list, not the inventory */
};

struct fc_names {
    struct fc_name *e;
    uint32_t n;
};

/* Checks a "MAC,hostname" list (blank lines, "#" comments and a
 * "mac,hostname" header line allowed): 0, or FC_EINVAL with the line and
 * what is wrong in why. out may be NULL (only checking). */
int fc_names_parse(const char *csv, struct fc_names *out, char *why, size_t cap);
/* The session's table: csv (may be NULL), then the inventory's machines
 * (fc_store_machines' array, may be NULL) whose name is a valid host name. */
int fc_names_load(struct fc_names *nm, const char *csv, const json_t *inventory, char *why,
                  size_t cap);
const struct fc_name *fc_names_find(const struct fc_names *nm, const uint8_t mac[FC_MAC_LEN]);
void fc_names_free(struct fc_names *nm);

#endif
