/* A clone's identity (common/identity.c, common/hostname.c): host name
 * rules, the /etc/hosts edit, and the edits in small ext4 filesystems made
 * here with mke2fs -d from a directory tree, read back with debugfs and
 * checked with e2fsck. */
#include "tests/unit/unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/hostname.h"
#include "common/identity.h"

START_TEST(test_hostname_rules)
{
    static const char *good[] = {"pc-07", "a", "PC7", "lab-a.example.org", "0day", "x-1.y-2"};
    static const char *bad[] = {"",       "-pc",   "pc-", "a..b", ".a",    "a.",    "a_b", "pc 07",
                                "pc\n07", "pc/07", "é",   "a.-b", "$(id)", "pc;rm", NULL};
    char longest[FC_HOSTNAME_MAX + 2];
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(fc_hostname_valid(good[i]), "%s refused", good[i]);
    for (i = 0; bad[i]; i++)
        ck_assert_msg(!fc_hostname_valid(bad[i]), "%s taken", bad[i]);
    ck_assert(!fc_hostname_valid(NULL));
    memset(longest, 'a', sizeof(longest));
    longest[FC_HOSTNAME_MAX] = 0;
    ck_assert(fc_hostname_valid(longest)); /* 63: one full label */
    longest[FC_HOSTNAME_MAX] = 'a';
    longest[FC_HOSTNAME_MAX + 1] = 0;
    ck_assert(!fc_hostname_valid(longest));
}
END_TEST

static void hosts_is(const char *in, const char *name, const char *want)
{
    char out[512];
    int n = fc_hosts_set(in, strlen(in), name, out, sizeof(out));

    ck_assert_int_ge(n, 0);
    out[n] = 0;
    ck_assert_str_eq(out, want);
}

START_TEST(test_hosts_edit)
{
    char small[8];

    hosts_is("127.0.0.1\tlocalhost\n127.0.1.1\tmaster\n::1 localhost\n", "pc-07",
             "127.0.0.1\tlocalhost\n127.0.1.1\tpc-07\n::1 localhost\n");
    /* missing: after 127.0.0.1 */
    hosts_is("127.0.0.1 localhost\n::1 localhost\n", "pc-07",
             "127.0.0.1 localhost\n127.0.1.1\tpc-07\n::1 localhost\n");
    /* no 127.0.0.1 either, or empty: first */
    hosts_is("::1 localhost", "pc-07", "127.0.1.1\tpc-07\n::1 localhost\n");
    hosts_is("", "pc-07", "127.0.1.1\tpc-07\n");
    /* a second 127.0.1.1 line goes; 127.0.1.10 is another address */
    hosts_is("  127.0.1.1 old\n127.0.1.10 x\n127.0.1.1 again\n", "pc.lab",
             "127.0.1.1\tpc.lab pc\n127.0.1.10 x\n");
    ck_assert_int_eq(fc_hosts_set("", 0, "pc-07", small, sizeof(small)), FC_EINVAL);
}
END_TEST

/* ---- ext4 filesystems made by the test ---- */

struct fsimg {
    char dir[64], img[80];
};

/* A root tree like a Debian master's, at byte offset off of a file. */
/* root: 0 none, 1 /etc/os-release, 2 /etc/fstab alone */
static void make_fs(struct fsimg *f, uint64_t off, int with_etc_files, int root)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/fc-idtest-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->img, sizeof(f->img), "%s.img", f->dir);
    fc_test_sh("mkdir -p %s/etc/ssh %s/usr/bin", f->dir, f->dir);
    if (root == 1)
        fc_test_sh("echo 'ID=debian' > %s/etc/os-release", f->dir);
    if (root == 2)
        fc_test_sh("echo '/dev/sda1 / ext4 defaults 0 1' > %s/etc/fstab", f->dir);
    if (with_etc_files) {
        fc_test_sh("echo master > %s/etc/hostname", f->dir);
        fc_test_sh("printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\tmaster\\n' > %s/etc/hosts", f->dir);
        fc_test_sh("echo 0123456789abcdef0123456789abcdef > %s/etc/machine-id", f->dir);
        fc_test_sh(
            "cd %s/etc/ssh && for t in rsa ecdsa ed25519; do head -c 3000 /dev/urandom > "
            "ssh_host_${t}_key; echo pub > ssh_host_${t}_key.pub; done; echo keep > sshd_config",
            f->dir);
    }
    fc_test_sh(
        "truncate -s %llu %s && mke2fs -q -F -t ext4 -b 1024 -d %s -E offset=%llu %s 8M >/dev/null",
        (unsigned long long)(off + 8 * 1024 * 1024), f->img, f->dir, (unsigned long long)off,
        f->img);
}

static void drop_fs(struct fsimg *f)
{
    fc_test_sh("rm -rf %s %s %s.part", f->dir, f->img, f->img);
}

/* A copy of the filesystem alone, for debugfs and e2fsck. */
static void cut(const struct fsimg *f, uint64_t off)
{
    fc_test_sh("dd if=%s of=%s.part bs=1024 skip=%llu status=none", f->img, f->img,
               (unsigned long long)(off / 1024));
}

static void cat_is(const struct fsimg *f, const char *path, const char *want)
{
    char cmd[512], out[4096];
    size_t n;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "debugfs -R 'cat %s' %s.part 2>/dev/null", path, f->img);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    pclose(p);
    out[n] = 0;
    ck_assert_str_eq(out, want);
}

static int ls_has(const struct fsimg *f, const char *dir, const char *name)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "debugfs -R 'ls -l %s' %s.part 2>/dev/null | grep -q ' %s$'", dir,
             f->img, name);
    return system(cmd) == 0;
}

static void fsck_clean(const struct fsimg *f)
{
    fc_test_sh("e2fsck -fn %s.part >/dev/null 2>&1", f->img);
}

static void check_identity(struct fsimg *f, uint64_t off)
{
    cut(f, off);
    fsck_clean(f);
    cat_is(f, "/etc/hostname", "pc-07\n");
    cat_is(f, "/etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tpc-07\n");
    cat_is(f, "/etc/machine-id", "");
    ck_assert(ls_has(f, "/etc", "machine-id"));
    ck_assert(!ls_has(f, "/etc/ssh", "ssh_host_rsa_key"));
    ck_assert(!ls_has(f, "/etc/ssh", "ssh_host_ed25519_key.pub"));
    ck_assert(ls_has(f, "/etc/ssh", "sshd_config"));
}

START_TEST(test_ext_identity)
{
    struct fsimg f;
    char why[256];

    make_fs(&f, 0, 1, 1);
    ck_assert_int_eq(fc_identity_ext(f.img, 0, "pc-07", why, sizeof(why)), 1);
    check_identity(&f, 0);
    /* again: the same result (a machine imaged twice) */
    ck_assert_int_eq(fc_identity_ext(f.img, 0, "pc-07", why, sizeof(why)), 1);
    check_identity(&f, 0);
    drop_fs(&f);
}
END_TEST

START_TEST(test_ext_identity_at_offset_missing_files)
{
    const uint64_t off = 1024 * 1024;
    struct fsimg f;
    char why[256];

    /* /etc/fstab alone makes a root; hostname and hosts are created */
    make_fs(&f, off, 0, 2);
    ck_assert_int_eq(fc_identity_ext(f.img, off, "pc-07", why, sizeof(why)), 1);
    cut(&f, off);
    fsck_clean(&f);
    cat_is(&f, "/etc/hostname", "pc-07\n");
    cat_is(&f, "/etc/hosts", "127.0.1.1\tpc-07\n");
    cat_is(&f, "/etc/machine-id", "");
    drop_fs(&f);
}
END_TEST

START_TEST(test_ext_not_a_root)
{
    struct fsimg f;
    char why[256];

    make_fs(&f, 0, 1, 0); /* /etc without os-release or fstab: a data disk */
    ck_assert_int_eq(fc_identity_ext(f.img, 0, "pc-07", why, sizeof(why)), 0);
    cut(&f, 0);
    cat_is(&f, "/etc/hostname", "master\n"); /* untouched */
    ck_assert(ls_has(&f, "/etc/ssh", "ssh_host_rsa_key"));
    drop_fs(&f);
}
END_TEST

START_TEST(test_ext_links_not_followed)
{
    struct fsimg f;
    char why[256];

    make_fs(&f, 0, 1, 1);
    /* machine-id a link out of the filesystem: replaced, never followed */
    fc_test_sh("rm %s/etc/machine-id && ln -s /tmp/fc-idtest-outside %s/etc/machine-id && rm %s",
               f.dir, f.dir, f.img);
    fc_test_sh("echo outside > /tmp/fc-idtest-outside");
    fc_test_sh("mke2fs -q -F -t ext4 -b 1024 -d %s %s 8M >/dev/null", f.dir, f.img);
    ck_assert_int_eq(fc_identity_ext(f.img, 0, "pc-07", why, sizeof(why)), 1);
    check_identity(&f, 0);
    fc_test_sh("grep -qx outside /tmp/fc-idtest-outside && rm /tmp/fc-idtest-outside");
    drop_fs(&f);
    /* /etc itself a link: refused */
    make_fs(&f, 0, 0, 0);
    fc_test_sh(
        "rm -r %s/etc && ln -s /etc %s/etc && rm %s && mke2fs -q -F -t ext4 -b 1024 -d %s %s 8M "
        ">/dev/null",
        f.dir, f.dir, f.img, f.dir, f.img);
    ck_assert_int_eq(fc_identity_ext(f.img, 0, "pc-07", why, sizeof(why)), FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "not a directory"));
    drop_fs(&f);
}
END_TEST

START_TEST(test_ext_refuses_bad_name)
{
    char why[256];

    ck_assert_int_eq(fc_identity_ext("/nonexistent", 0, "pc;reboot", why, sizeof(why)), FC_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "not a valid host name"));
}
END_TEST

FC_TEST_MAIN("identity", test_hostname_rules, test_hosts_edit, test_ext_identity,
             test_ext_identity_at_offset_missing_files, test_ext_not_a_root,
             test_ext_links_not_followed, test_ext_refuses_bad_name)
