/* The receiver's post-write step (docs/identity.md): once the disk is
 * written and its check value matches, the clone gets its own identity
 * (common/identity.c: host name, machine-id, SSH host keys in its Linux
 * root; common/winidentity.c: the computer name in the answer file of its
 * Windows system volumes), then the image's hooks (fetched from the server,
 * checked against the hash sealed in JOIN_ACK, unpacked) and the site's hook
 * scripts run, in name order, each with a time bound. It runs on a thread of
 * its own, so the network loop keeps
 * reporting to the server meanwhile; the loop reads the outcome once
 * fc__identity_done() says so. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/recv.h"
#include "common/error.h"
#include "common/hostname.h"
#include "common/identity.h"
#include "common/ustar.h"
#include "common/winidentity.h"
#include "proto/wol.h"

#define HOOK_ENV_MAX 16

struct fc_identity_job {
    struct fc_recv *r;
    pthread_t th;
    atomic_int finished;
    int rc;        /* 0, or failed: why says so (the ABORT's text) */
    uint8_t flags; /* FC_DONE_IDENTITY, FC_DONE_ID_SKIPPED or 0 */
    char why[FC_ABORT_TEXT_MAX + 1];
    char detail[FC_ABORT_TEXT_MAX + 1]; /* what was done, for DONE */
};

/* The server's name (sealed in JOIN_ACK) before the kernel command line's
 * (fleetcast.hostname=, given as --hostname). */
static const char *hostname_of(const struct fc_recv *r)
{
    if (r->granted.hostname[0])
        return r->granted.hostname;
    return r->o.hostname;
}

/* What was done, for DONE and the server's Machine (identity_detail). */
__attribute__((format(printf, 2, 3))) static void detail_add(struct fc_identity_job *j,
                                                             const char *fmt, ...)
{
    size_t len = strlen(j->detail);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(j->detail + len, sizeof(j->detail) - len, fmt, ap);
    va_end(ap);
}

/* The Linux root (common/identity.c): 1 set, 0 none, < 0 failed (j->why). */
static int set_linux(struct fc_identity_job *j, const char *host)
{
    struct fc_recv *r = j->r;
    char why[256];
    uint32_t part = 0;
    int rc = fc_identity_linux(r->o.target, &r->m, host, &part, why, sizeof(why));

    if (rc < 0)
        snprintf(j->why, sizeof(j->why), "identity: %.110s", why);
    if (rc == 1) {
        RLOG(r, FC_LOG_INFO,
             "identity: host name %s set in partition %u; machine-id emptied, SSH host keys "
             "removed (both made anew at first boot)",
             host, r->m.parts[part].index);
        detail_add(j, "linux: hostname %s (partition %u)", host, r->m.parts[part].index);
    }
    return rc;
}

/* Every Windows system volume (common/winidentity.c): the number named, or
 * < 0 failed (j->why). */
static int set_windows(struct fc_identity_job *j, const char *host)
{
    struct fc_recv *r = j->r;
    char why[256], name[FC_WINNAME_MAX + 1];
    uint32_t part = 0;
    int rc = fc_identity_windows(r->o.target, &r->m, host, &part, why, sizeof(why));

    if (rc < 0)
        snprintf(j->why, sizeof(j->why), "identity: windows: %.100s", why);
    if (rc > 0) {
        fc_winname(host, name, why, sizeof(why));
        RLOG(r, FC_LOG_INFO,
             "identity: Windows computer name %s set in \\Windows\\Panther\\unattend.xml of "
             "partition %u%s (applied by Windows setup's specialize pass at first boot)",
             name, r->m.parts[part].index, rc > 1 ? " and the other Windows volumes" : "");
        detail_add(j, "%swindows: unattend ComputerName=%s (partition %u%s)",
                   j->detail[0] ? "; " : "", name, r->m.parts[part].index,
                   rc > 1 ? " and more" : "");
    }
    return rc;
}

static int set_identity(struct fc_identity_job *j, const char *host)
{
    struct fc_recv *r = j->r;
    int lin, win;

    if (!fc_hostname_valid(host)) {
        snprintf(j->why, sizeof(j->why), "identity: '%.60s' is not a valid host name", host);
        return FC_EINVAL;
    }
    lin = set_linux(j, host);
    if (lin < 0)
        return lin;
    win = set_windows(j, host);
    if (win < 0)
        return win;
    if (!lin && !win) {
        j->flags = FC_DONE_ID_SKIPPED;
        RLOG(r, FC_LOG_WARN,
             "identity: no Linux root (ext2/3/4 with /etc/os-release or /etc/fstab) and no "
             "Windows system volume (NTFS with \\Windows\\System32\\config\\SYSTEM) found: "
             "host name %s not set",
             host);
        return 0;
    }
    j->flags = FC_DONE_IDENTITY;
    return 0;
}

/* run-parts' rule: a hook is a regular, executable file named with
 * letters, digits, '-' and '_' only (no editor backups, no .disabled). */
static int hook_name_ok(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    size_t i;

    for (i = 0; name[i]; i++)
        if (!(name[i] == '-' || name[i] == '_' || (name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z')))
            return 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return i > 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

struct hook_env {
    char v[HOOK_ENV_MAX][FC_ABORT_TEXT_MAX + 4200];
    char *envp[HOOK_ENV_MAX + 1];
    int n;
};

__attribute__((format(printf, 2, 3))) static void env_add(struct hook_env *e, const char *fmt, ...)
{
    va_list ap;

    if (e->n == HOOK_ENV_MAX)
        return;
    va_start(ap, fmt);
    vsnprintf(e->v[e->n], sizeof(e->v[e->n]), fmt, ap);
    va_end(ap);
    e->envp[e->n] = e->v[e->n];
    e->envp[++e->n] = NULL;
}

/* The machine's record as the server knows it, the disk, and PATH: built
 * before fork, so the child only calls execve. */
static void hook_env(struct fc_identity_job *j, struct hook_env *e)
{
    const struct fc_recv *r = j->r;
    static const uint8_t zero[FC_GRANT_MAC_LEN];
    char mac[FC_MAC_TEXT] = "", id[2 * FC_ID_LEN + 1];
    const char *host = hostname_of(r);
    size_t i;

    if (memcmp(r->granted.mac, zero, sizeof(zero)))
        fc_mac_format(r->granted.mac, ':', mac);
    for (i = 0; i < FC_ID_LEN; i++)
        snprintf(id + 2 * i, 3, "%02x", r->m.image_id[i]);
    e->n = 0;
    env_add(e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env_add(e, "FC_DISK=%s", r->o.target);
    env_add(e, "FC_MAC=%s", mac);
    env_add(e, "FC_HOSTNAME=%s", host ? host : "");
    env_add(e, "FC_LAB=%s", r->granted.lab);
    env_add(e, "FC_SESSION=%08x", r->s.session);
    env_add(e, "FC_IMAGE=%s", id);
    env_add(e, "FC_IDENTITY=%s",
            j->flags & FC_DONE_IDENTITY     ? "done"
            : j->flags & FC_DONE_ID_SKIPPED ? "skipped"
                                            : "none");
}

/* One hook, in its own process group (a timeout kills what it started too):
 * 0, or nonzero with the reason in j->why. */
static int run_hook(struct fc_identity_job *j, const char *dir, const char *name,
                    struct hook_env *e)
{
    double limit = j->r->o.hook_timeout, t0 = fc__now();
    char path[4096];
    int status;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    RLOG(j->r, FC_LOG_INFO, "hook %s: running (at most %.0f s)", name, limit);
    pid = fork();
    if (pid < 0)
        return snprintf(j->why, sizeof(j->why), "hook %s: cannot fork", name), FC_EIO;
    if (pid == 0) {
        char *argv[] = {path, NULL};
        setpgid(0, 0);
        execve(path, argv, e->envp);
        _exit(126);
    }
    setpgid(pid, pid);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (fc__now() - t0 > limit || *j->r->stop) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(j->why, sizeof(j->why), "hook %s %s after %.0f s", name,
                     *j->r->stop ? "interrupted" : "timed out", fc__now() - t0);
            return FC_ETIMEDOUT;
        }
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(j->why, sizeof(j->why), "hook %s exited %d", name, WEXITSTATUS(status));
    else
        snprintf(j->why, sizeof(j->why), "hook %s killed by signal %d", name,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return FC_EIO;
}

static int run_hooks(struct fc_identity_job *j, const char *dir)
{
    struct dirent **list = NULL;
    struct hook_env *e;
    int i, n, rc = 0, ran = 0;

    n = scandir(dir, &list, NULL, alphasort);
    if (n < 0) {
        snprintf(j->why, sizeof(j->why), "hooks: cannot read %.90s: %s", dir, strerror(errno));
        return FC_EIO;
    }
    e = malloc(sizeof(*e));
    if (!e)
        rc = FC_ENOMEM;
    else
        hook_env(j, e);
    for (i = 0; i < n; i++) {
        if (!rc && hook_name_ok(dir, list[i]->d_name)) {
            rc = run_hook(j, dir, list[i]->d_name, e);
            ran++;
        }
        free(list[i]);
    }
    free(list);
    free(e);
    if (!rc)
        RLOG(j->r, FC_LOG_INFO, "hooks: %d run from %s, all exited 0", ran, dir);
    return rc;
}

static int has_image_hooks(const struct fc_recv *r)
{
    static const uint8_t zero[FC_HOOKS_HASH_LEN];

    return memcmp(r->granted.hooks_hash, zero, FC_HOOKS_HASH_LEN) != 0;
}

/* The unpacked image hooks go away with the run: a flat directory. */
static void remove_flat(const char *dir)
{
    struct dirent **list = NULL;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int i, n = dfd < 0 ? -1 : scandir(dir, &list, NULL, NULL);

    for (i = 0; i < n; i++) {
        if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, ".."))
            unlinkat(dfd, list[i]->d_name, 0);
        free(list[i]);
    }
    free(list);
    if (dfd >= 0)
        close(dfd);
    rmdir(dir);
}

/* The hooks tar from the server we joined, checked against the hash sealed
 * in our JOIN_ACK before a byte of it is unpacked: whoever answers the TCP
 * fetch (a rogue on the path) cannot change what runs. */
static int fetch_image_hooks(struct fc_identity_job *j, uint8_t **tar, size_t *len)
{
    uint8_t h[FC_HOOKS_HASH_LEN];
    int status, rc = fc__fetch_hooks(j->r, tar, len, &status);

    if (rc) {
        snprintf(j->why, sizeof(j->why), "image hooks: cannot fetch them from the server: %s",
                 rc == FC_EREFUSED ? fc__reason_text((uint8_t)status) : fc_strerror(rc));
        return rc;
    }
    crypto_generichash(h, sizeof(h), *tar, *len, NULL, 0);
    if (sodium_memcmp(h, j->r->granted.hooks_hash, sizeof(h)) == 0)
        return 0;
    snprintf(j->why, sizeof(j->why),
             "image hooks: the tar received does not match the hash sealed in JOIN_ACK "
             "(tampered with); none run");
    return FC_EHASH;
}

/* The image's own hooks (IMG.hooks/ on the server), unpacked into a fresh
 * directory and run there. */
static int run_image_hooks(struct fc_identity_job *j)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096], err[160];
    uint8_t *tar = NULL;
    size_t len = 0;
    int rc = fetch_image_hooks(j, &tar, &len);

    if (rc)
        goto out;
    snprintf(dir, sizeof(dir), "%s/fleetcast-hooks-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(j->why, sizeof(j->why), "image hooks: cannot make %.80s: %s", dir,
                 strerror(errno));
        rc = FC_EIO;
        goto out;
    }
    rc = fc_ustar_unpack(tar, len, dir, err, sizeof(err));
    if (rc < 0) {
        snprintf(j->why, sizeof(j->why), "image hooks: %.100s", err);
    } else {
        RLOG(j->r, FC_LOG_INFO, "image hooks: %d files, %zu-byte tar matches its sealed hash", rc,
             len);
        rc = run_hooks(j, dir);
    }
    remove_flat(dir);
out:
    free(tar);
    return rc;
}

static void *job_main(void *arg)
{
    struct fc_identity_job *j = arg;
    const char *host = hostname_of(j->r);

    j->rc = host ? set_identity(j, host) : 0;
    if (!host)
        RLOG(j->r, FC_LOG_INFO,
             "identity: no host name given (server or fleetcast.hostname=): "
             "the clone keeps the master's");
    /* The image's hooks first (they belong to what was written), then the
     * site's from the command line. */
    if (!j->rc && has_image_hooks(j->r))
        j->rc = run_image_hooks(j);
    if (!j->rc && j->r->o.hooks)
        j->rc = run_hooks(j, j->r->o.hooks);
    atomic_store(&j->finished, 1);
    return NULL;
}

int fc__identity_needed(const struct fc_recv *r)
{
    return hostname_of(r) || r->o.hooks || has_image_hooks(r);
}

int fc__identity_start(struct fc_recv *r, struct fc_identity_job **out)
{
    struct fc_identity_job *j = calloc(1, sizeof(*j));

    if (!j)
        return FC_ENOMEM;
    j->r = r;
    if (pthread_create(&j->th, NULL, job_main, j)) {
        free(j);
        return FC_ENOMEM;
    }
    *out = j;
    return 0;
}

int fc__identity_done(struct fc_identity_job *j, uint8_t *flags, char *text, size_t cap)
{
    int rc;

    if (!atomic_load(&j->finished))
        return 1;
    pthread_join(j->th, NULL);
    *flags = j->flags;
    snprintf(text, cap, "%s", j->rc ? j->why : j->detail);
    rc = j->rc;
    free(j);
    return rc;
}
