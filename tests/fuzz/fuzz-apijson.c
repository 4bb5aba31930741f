/* libFuzzer harness of the HTTP API's session-create body: the bytes are
 * parsed as http.c does (jansson, duplicates refused) and given to
 * fc_config_from_json() (server/config.c), which api.c calls for POST
 * /api/sessions. Properties: no crash, leak or UB; a body accepted gives a
 * configuration fc_session_config_check() accepts, with an image, a group in
 * 239/8 and an interface, and values inside the flags' ranges. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "tests/fuzz/fuzz.h"

/* pxecfg.c, linked for config.c's --tftp-root check, refers to netio.c's
 * MAC lookup, which nothing reached from config.c calls. */
int fc_netio_mac_of(struct in_addr ip, char out[18])
{
    (void)ip, (void)out;
    abort();
}

static void write_seeds(void)
{
    static const char *const seeds[][2] = {
        {"create.json", "{\"image\": \"/srv/images/lab.fci\", \"group\": \"239.255.1.1:9000\", "
                        "\"iface\": \"eth0\", \"rate\": \"900M\", \"min_receivers\": 5, "
                        "\"max_wait\": 600, \"fec\": 5, \"start\": \"policy\"}"},
        {"rate-number.json", "{\"image\": \"a\", \"group\": \"239.0.0.1:1\", \"iface\": \"lo\", "
                             "\"rate\": 100000000, \"start\": \"now\"}"},
        {"bad-group.json", "{\"image\": \"a\", \"group\": \"10.0.0.1:9000\", \"iface\": \"lo\"}"},
        {"unknown.json", "{\"image\": \"a\", \"k\": 300, \"nested\": {\"x\": [1, 2]}}"},
        {"empty.json", "{}"},
    };

    fuzz_seed_texts(seeds, sizeof(seeds) / sizeof(seeds[0]));
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fc_session_config c;
    json_error_t err;
    char why[256];
    json_t *body;

    fuzz_quiet();
    body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
    if (!body)
        return 0;
    memset(&c, 0, sizeof(c));
    if (json_is_object(body) && fc_config_from_json(&c, NULL, body, why, sizeof(why)) == 0) {
        FUZZ_ASSERT(fc_session_config_check(&c, why, sizeof(why)) == 0);
        FUZZ_ASSERT(c.image_path && c.iface && c.data_port);
        FUZZ_ASSERT((ntohl(c.group.s_addr) >> 24) == 239);
        FUZZ_ASSERT(c.rate_bps >= 64e3 && c.rate_bps <= 100e9);
        FUZZ_ASSERT(c.min_receivers >= 1 && c.min_receivers <= FC_MAX_RECEIVERS);
        FUZZ_ASSERT(c.k_max >= 1 && c.k_max <= FC_FEC_MAX_K);
    }
    /* the strings a request gives are the caller's to free, success or not */
    free((char *)c.image_path);
    free((char *)c.iface);
    free((char *)c.lab);
    json_decref(body);
    return 0;
}
