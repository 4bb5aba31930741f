/* common/ustar: the hooks archive is the same bytes for the same files
 * (whatever their times), reads back to the same files and modes, is a
 * tar GNU tar lists, and neither end takes anything but plain files. */
#include "tests/unit/unit.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/ustar.h"

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(p, mode), 0);
}

static void mkdir_tmp(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/fc-ustar-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_rf(const char *dir)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void sample(char *dir, size_t cap)
{
    mkdir_tmp(dir, cap);
    put(dir, "20-second", "#!/bin/sh\necho two\n", 0755);
    put(dir, "10-first", "#!/bin/sh\necho one\n", 0700);
    put(dir, "README", "not a hook\n", 0644);
}

START_TEST(test_deterministic)
{
    char a[64], b[64], why[200], p[128];
    uint8_t *ta, *tb;
    size_t la, lb;

    sample(a, sizeof(a));
    sample(b, sizeof(b));
    snprintf(p, sizeof(p), "%s/10-first", b);
    ck_assert_int_eq(utimes(p, (struct timeval[2]){{1000, 0}, {1000, 0}}), 0);
    ck_assert_int_eq(fc_ustar_pack_dir(a, 1 << 20, &ta, &la, why, sizeof(why)), 0);
    ck_assert_int_eq(fc_ustar_pack_dir(b, 1 << 20, &tb, &lb, why, sizeof(why)), 0);
    ck_assert_uint_eq(la, lb);
    ck_assert_uint_eq(la % 512, 0);
    ck_assert_uint_eq(la, 3 * 1024 + 1024); /* three one-block files, two end blocks */
    ck_assert_mem_eq(ta, tb, la);
    ck_assert_str_eq((const char *)ta, "10-first"); /* names in byte order */
    ck_assert_str_eq((const char *)ta + 1024, "20-second");
    ck_assert_str_eq((const char *)ta + 2048, "README");
    free(ta);
    free(tb);
    rm_rf(a);
    rm_rf(b);
}
END_TEST

START_TEST(test_roundtrip_and_gnu_tar)
{
    char a[64], out[64], why[200], p[128], cmd[256];
    uint8_t *t;
    size_t len;
    struct stat st;
    FILE *f;

    sample(a, sizeof(a));
    mkdir_tmp(out, sizeof(out));
    ck_assert_int_eq(fc_ustar_pack_dir(a, 1 << 20, &t, &len, why, sizeof(why)), 0);
    ck_assert_int_eq(fc_ustar_unpack(t, len, out, why, sizeof(why)), 3);
    snprintf(p, sizeof(p), "%s/10-first", out);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    snprintf(p, sizeof(p), "%s/README", out);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);
    snprintf(cmd, sizeof(cmd), "diff -r '%s' '%s'", a, out);
    ck_assert_int_eq(system(cmd), 0);
    /* A real ustar: GNU tar reads it and finds the same three names. */
    snprintf(p, sizeof(p), "%s.tar", out);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(t, 1, len, f), len);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "test \"$(tar -tf '%s' | tr '\\n' ' ')\" = '10-first 20-second README '", p);
    ck_assert_int_eq(system(cmd), 0);
    unlink(p);
    free(t);
    rm_rf(a);
    rm_rf(out);
}
END_TEST

START_TEST(test_pack_refuses_links_dirs_and_size)
{
    char a[64], why[200], p[128];
    uint8_t *t = NULL;
    size_t len;

    sample(a, sizeof(a));
    ck_assert_int_eq(fc_ustar_pack_dir(a, 2048, &t, &len, why, sizeof(why)), FC_EINVAL);
    snprintf(p, sizeof(p), "%s/30-link", a);
    ck_assert_int_eq(symlink("/etc/passwd", p), 0);
    ck_assert_int_eq(fc_ustar_pack_dir(a, 1 << 20, &t, &len, why, sizeof(why)), FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "30-link"));
    unlink(p);
    snprintf(p, sizeof(p), "%s/sub", a);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    ck_assert_int_eq(fc_ustar_pack_dir(a, 1 << 20, &t, &len, why, sizeof(why)), FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "sub"));
    rm_rf(a);
}
END_TEST

/* A tar from elsewhere (here GNU tar's) with a path, or a link, or a
 * damaged header, writes nothing outside the directory. */
START_TEST(test_unpack_refuses_paths_links_damage)
{
    char a[64], out[64], why[200], cmd[512];
    uint8_t *t;
    size_t len;
    FILE *f;
    char tarp[128];

    sample(a, sizeof(a));
    mkdir_tmp(out, sizeof(out));
    snprintf(tarp, sizeof(tarp), "%s.tar", a);
    snprintf(cmd, sizeof(cmd), "tar --format=ustar -C / -cf '%s' etc/hostname", tarp);
    ck_assert_int_eq(system(cmd), 0);
    f = fopen(tarp, "r");
    ck_assert_ptr_nonnull(f);
    t = malloc(1 << 16);
    len = fread(t, 1, 1 << 16, f);
    fclose(f);
    ck_assert_int_eq(fc_ustar_unpack(t, len, out, why, sizeof(why)), FC_EFORMAT);
    free(t);
    snprintf(cmd, sizeof(cmd),
             "ln -s /etc/passwd '%s/ln' && tar --format=ustar -C '%s' -cf '%s' ln", out, out, tarp);
    ck_assert_int_eq(system(cmd), 0);
    unlink(strcat(strcpy(cmd, out), "/ln"));
    f = fopen(tarp, "r");
    t = malloc(1 << 16);
    len = fread(t, 1, 1 << 16, f);
    fclose(f);
    ck_assert_int_eq(fc_ustar_unpack(t, len, out, why, sizeof(why)), FC_EFORMAT);
    free(t);
    ck_assert_int_eq(fc_ustar_pack_dir(a, 1 << 20, &t, &len, why, sizeof(why)), 0);
    t[10] ^= 1; /* a header's byte: its checksum no longer holds */
    ck_assert_int_eq(fc_ustar_unpack(t, len, out, why, sizeof(why)), FC_EFORMAT);
    t[10] ^= 1;
    ck_assert_int_eq(fc_ustar_unpack(t, len - 512, out, why, sizeof(why)), FC_EFORMAT);
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", out);
    ck_assert_int_eq(system(cmd), 0); /* nothing was written */
    free(t);
    unlink(tarp);
    rm_rf(a);
    rm_rf(out);
}
END_TEST

FC_TEST_MAIN("ustar", test_deterministic, test_roundtrip_and_gnu_tar,
             test_pack_refuses_links_dirs_and_size, test_unpack_refuses_paths_links_damage)
