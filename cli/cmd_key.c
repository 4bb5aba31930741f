/* `fleetcast key gen`: signing key pairs. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/key.h"

static int key_gen(struct fc_args *a)
{
    const char *out = NULL;
    char prefix[4096];
    char fpr[FC_FPR_LEN + 1];
    struct fc_keypair kp;
    int force = 0, rc;

    while (a->pos < a->argc) {
        if (fc_opt_value(a, "--out", &out)) {
            if (!out)
                return fc_usage_error("--out needs a path prefix");
        } else if (fc_opt_flag(a, "--force")) {
            force = 1;
        } else if (a->argv[a->pos][0] == '-') {
            return fc_unknown_option(a, a->argv[a->pos]);
        } else {
            return fc_usage_error("unexpected argument '%s'", a->argv[a->pos]);
        }
    }
    if (!out) {
        if (fc_key_default_prefix(prefix, sizeof(prefix)))
            return fc_fail(FC_EINVAL, "default key path");
        out = prefix;
    }
    rc = fc_key_generate(out, force, &kp);
    if (rc)
        return fc_fail(rc, rc == FC_EINVAL ? "key exists (use --force to replace it)"
                                           : "key generation");
    fc_key_fingerprint(kp.pk, fpr);
    printf("secret key: %s.key (keep it private)\npublic key: %s.pub\nfingerprint: %s\n", out, out,
           fpr);
    return 0;
}

int fc_cmd_key(struct fc_args *a)
{
    if (a->pos < a->argc && !strcmp(a->argv[a->pos], "gen")) {
        a->pos++;
        return key_gen(a);
    }
    return fc_usage_error("usage: fleetcast key gen [--out PREFIX] [--force]");
}
