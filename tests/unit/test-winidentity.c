/* A Windows clone's computer name (common/winidentity.c): the name rules,
 * the answer file edits as text, and the edit in NTFS volume files made
 * here with mkntfs, directories by fc-ntfs-mkdir (tests/tools), files by
 * ntfscp; read back with ntfscat and checked with ntfsfix -n. */
#include "tests/unit/unit.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/winidentity.h"

#define SPECIALIZE_HEAD "<settings pass=\"specialize\">"

START_TEST(test_winname_rules)
{
    static const char *bad[] = {
        "abcdefghijklmnop", "12345", "007.lab", "pc_07", "pc 07", "", "-pc"};
    char name[FC_WINNAME_MAX + 1], why[160];
    size_t i;

    ck_assert_int_eq(fc_winname("LAB-07", name, why, sizeof(why)), 0);
    ck_assert_str_eq(name, "LAB-07");
    ck_assert_int_eq(fc_winname("pc-07.lab.example", name, why, sizeof(why)), 0);
    ck_assert_str_eq(name, "pc-07");
    ck_assert_int_eq(fc_winname("abcdefghijklmno", name, why, sizeof(why)), 0); /* 15 */
    ck_assert_int_eq(fc_winname("7up", name, why, sizeof(why)), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(fc_winname(bad[i], name, why, sizeof(why)) == FC_EINVAL, "%s taken", bad[i]);
    fc_winname("abcdefghijklmnop", name, why, sizeof(why));
    ck_assert_ptr_nonnull(strstr(why, "at most 15"));
    fc_winname("12345", name, why, sizeof(why));
    ck_assert_ptr_nonnull(strstr(why, "only digits"));
}
END_TEST

/* fc_unattend_set of in, as a string (freed by the caller). */
static char *edited(const char *in, const char *name)
{
    char *out, *s, why[256];
    size_t len;

    ck_assert_int_eq(fc_unattend_set(in, in ? strlen(in) : 0, name, &out, &len, why, sizeof(why)),
                     0);
    s = malloc(len + 1);
    memcpy(s, out, len);
    s[len] = 0;
    free(out);
    return s;
}

static int count(const char *s, const char *what)
{
    int n = 0;

    for (; (s = strstr(s, what)); s++)
        n++;
    return n;
}

START_TEST(test_unattend_new)
{
    char *s = edited(NULL, "LAB-07");

    ck_assert_ptr_nonnull(strstr(s, "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">"));
    ck_assert_int_eq(count(s, SPECIALIZE_HEAD), 1);
    ck_assert_ptr_nonnull(strstr(s, "<component name=\"Microsoft-Windows-Shell-Setup\" "
                                    "processorArchitecture=\"amd64\""));
    ck_assert_ptr_nonnull(strstr(s, "<ComputerName>LAB-07</ComputerName>"));
    ck_assert(strstr(s, "<ComputerName>") > strstr(s, SPECIALIZE_HEAD));
    ck_assert(strstr(s, "</settings>") < strstr(s, "</unattend>"));
    free(s);
}
END_TEST

#define OOBE                                                                                       \
    "  <settings pass=\"oobeSystem\">\n"                                                           \
    "    <component name=\"Microsoft-Windows-Shell-Setup\" processorArchitecture=\"x86\">\n"       \
    "      <TimeZone>W. Europe Standard Time</TimeZone>\n"                                         \
    "    </component>\n"                                                                           \
    "  </settings>\n"

START_TEST(test_unattend_edits)
{
    /* the name replaced, everything else byte for byte, the processed mark
     * dropped; a comment that looks like settings is not taken */
    const char *in =
        "<?xml version=\"1.0\"?>\n<!-- <settings pass=\"specialize\"> -->\n"
        "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n"
        "  <settings pass=\"specialize\" wasPassProcessed=\"true\">\n"
        "    <component name=\"Microsoft-Windows-Shell-Setup\" a='>'>\n"
        "      <ComputerName>MASTER</ComputerName>\n      <RegisteredOwner>Lab</RegisteredOwner>\n"
        "    </component>\n  </settings>\n" OOBE "</unattend>\n";
    const char *want =
        "<?xml version=\"1.0\"?>\n<!-- <settings pass=\"specialize\"> -->\n"
        "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n"
        "  <settings pass=\"specialize\">\n"
        "    <component name=\"Microsoft-Windows-Shell-Setup\" a='>'>\n"
        "      <ComputerName>LAB-07</ComputerName>\n      <RegisteredOwner>Lab</RegisteredOwner>\n"
        "    </component>\n  </settings>\n" OOBE "</unattend>\n";
    char *s = edited(in, "LAB-07");

    ck_assert_str_eq(s, want);
    free(s);
    /* no ComputerName in the component: added; an empty element: filled */
    s = edited("<unattend><settings pass=\"specialize\"><component "
               "name=\"Microsoft-Windows-Shell-Setup\"><X/></component></settings></unattend>",
               "pc-1");
    ck_assert_str_eq(s, "<unattend><settings pass=\"specialize\"><component "
                        "name=\"Microsoft-Windows-Shell-Setup\">\n            "
                        "<ComputerName>pc-1</ComputerName><X/></component></settings></unattend>");
    free(s);
    s = edited("<u:unattend><u:settings pass='specialize'><u:component "
               "name='Microsoft-Windows-Shell-Setup'><u:ComputerName/></u:component></u:settings>"
               "</u:unattend>",
               "pc-2");
    ck_assert_ptr_nonnull(strstr(s, "<ComputerName>pc-2</ComputerName></u:component>"));
    free(s);
    /* no specialize pass: one added, the oobeSystem pass kept, its
     * architecture taken */
    s = edited("<unattend>\n" OOBE "</unattend>\n", "pc-3");
    ck_assert_ptr_nonnull(strstr(s, OOBE));
    ck_assert_int_eq(count(s, SPECIALIZE_HEAD), 1);
    ck_assert_ptr_nonnull(strstr(s, "processorArchitecture=\"x86\""));
    ck_assert_int_eq(count(s, "<ComputerName>pc-3</ComputerName>"), 1);
    free(s);
    /* specialize without Shell-Setup, and an empty one */
    s = edited("<unattend><settings pass=\"specialize\"><component name=\"Other\"/></settings>"
               "</unattend>",
               "pc-4");
    ck_assert_ptr_nonnull(strstr(s, "<component name=\"Other\"/></settings>"));
    ck_assert_int_eq(count(s, "<ComputerName>pc-4</ComputerName>"), 1);
    free(s);
    s = edited("<unattend><settings pass=\"specialize\"/></unattend>", "pc-5");
    ck_assert_int_eq(count(s, "<ComputerName>pc-5</ComputerName>"), 1);
    ck_assert_int_eq(count(s, "</settings></unattend>"), 1);
    free(s);
}
END_TEST

START_TEST(test_unattend_refused)
{
    static const char *bad[] = {"<notunattend/>",
                                "<unattend><settings pass=\"specialize\">",
                                "<unattend/>",
                                "plain text",
                                "<unattend><!-- open </unattend>",
                                "<unattend a=\"x></unattend>"};
    char *out = NULL, why[256];
    size_t i, len;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(fc_unattend_set(bad[i], strlen(bad[i]), "pc", &out, &len, why, sizeof(why)) ==
                          FC_EFORMAT,
                      "%s taken", bad[i]);
    /* UTF-16 */
    ck_assert_int_eq(fc_unattend_set("\xff\xfe<\0u\0", 6, "pc", &out, &len, why, sizeof(why)),
                     FC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(why, "UTF-16"));
}
END_TEST

/* ---- NTFS volume files made by the test ---- */

struct vol {
    char dir[64], img[80];
};

/* A 16 MiB NTFS volume at byte off of a file; windows: with
 * \Windows\System32\config\SYSTEM; answer: the master's
 * \Windows\Panther\unattend.xml (NULL: none). */
static void make_vol(struct vol *v, uint64_t off, int windows, const char *answer)
{
    const char *mk = getenv("FC_NTFS_MKDIR");

    ck_assert_msg(mk && *mk, "FC_NTFS_MKDIR unset (run through meson test)");
    snprintf(v->dir, sizeof(v->dir), "/tmp/fc-winid-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(v->dir));
    snprintf(v->img, sizeof(v->img), "%s/part", v->dir);
    fc_test_sh("truncate -s 16M %s/part && mkntfs -q -F -Q %s/part >/dev/null 2>&1", v->dir,
               v->dir);
    fc_test_sh(
        "mkdir -p %s/data && echo keep > %s/data/readme.txt && ntfscp %s/part %s/data/readme.txt "
        "readme.txt >/dev/null",
        v->dir, v->dir, v->dir, v->dir);
    if (windows) {
        fc_test_sh("%s %s/part Windows/System32/config >/dev/null", mk, v->dir);
        fc_test_sh("head -c 8192 /dev/urandom > %s/data/SYSTEM && ntfscp %s/part %s/data/SYSTEM "
                   "Windows/System32/config/SYSTEM >/dev/null",
                   v->dir, v->dir, v->dir);
    }
    if (answer) {
        FILE *f;
        char path[128];
        snprintf(path, sizeof(path), "%s/data/unattend.xml", v->dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(answer, f);
        fclose(f);
        fc_test_sh("%s %s/part Windows/Panther >/dev/null && ntfscp %s/part %s "
                   "Windows/Panther/unattend.xml "
                   ">/dev/null",
                   mk, v->dir, v->dir, path);
    }
    fc_test_sh("ntfsfix -n %s/part >/dev/null 2>&1", v->dir);
    if (off) {
        fc_test_sh(
            "truncate -s %llu %s/disk && dd if=%s/part of=%s/disk bs=4096 seek=%llu conv=notrunc "
            "status=none && truncate -s +1M %s/disk",
            (unsigned long long)off, v->dir, v->dir, v->dir, (unsigned long long)(off / 4096),
            v->dir);
        snprintf(v->img, sizeof(v->img), "%s/disk", v->dir);
    }
}

/* The volume alone again, for ntfsfix and ntfscat. */
static void cut(const struct vol *v, uint64_t off)
{
    if (off)
        fc_test_sh("dd if=%s/disk of=%s/part bs=4096 skip=%llu count=4096 status=none", v->dir,
                   v->dir, (unsigned long long)(off / 4096));
    fc_test_sh("ntfsfix -n %s/part >/dev/null 2>&1", v->dir);
}

/* ntfscat's output of path, NUL-terminated (freed by the caller). */
static char *cat(const struct vol *v, const char *path)
{
    char cmd[512], *out = calloc(1, 65536);
    FILE *p;

    snprintf(cmd, sizeof(cmd), "ntfscat %s/part %s 2>/dev/null", v->dir, path);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    fread(out, 1, 65535, p);
    pclose(p);
    return out;
}

static void drop_vol(struct vol *v)
{
    fc_test_sh("rm -rf %s", v->dir);
}

START_TEST(test_ntfs_new_answer_file)
{
    const uint64_t off = 1024 * 1024;
    struct vol v;
    char why[256], *s;

    make_vol(&v, off, 1, NULL);
    ck_assert_int_eq(fc_identity_ntfs(v.img, off, 16 << 20, "LAB-07", why, sizeof(why)), 1);
    cut(&v, off);
    s = cat(&v, "Windows/Panther/unattend.xml");
    ck_assert_int_eq(count(s, "<ComputerName>LAB-07</ComputerName>"), 1);
    ck_assert_int_eq(count(s, SPECIALIZE_HEAD), 1);
    free(s);
    s = cat(&v, "readme.txt");
    ck_assert_str_eq(s, "keep\n");
    free(s);
    /* again, another name: the file is now the master's, edited */
    ck_assert_int_eq(fc_identity_ntfs(v.img, off, 16 << 20, "LAB-08", why, sizeof(why)), 1);
    cut(&v, off);
    s = cat(&v, "Windows/Panther/unattend.xml");
    ck_assert_int_eq(count(s, "<ComputerName>"), 1);
    ck_assert_int_eq(count(s, "<ComputerName>LAB-08</ComputerName>"), 1);
    free(s);
    drop_vol(&v);
}
END_TEST

START_TEST(test_ntfs_existing_answer_file)
{
    /* longer than the result: the file is cut to its new length */
    const char *in = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                     "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n"
                     "  <settings pass=\"specialize\">\n"
                     "    <component name=\"Microsoft-Windows-Shell-Setup\">\n"
                     "      <ComputerName>A-VERY-LONG-MASTER-NAME-THAT-GOES-AWAY</ComputerName>\n"
                     "      <RegisteredOrganization>Lab</RegisteredOrganization>\n"
                     "    </component>\n  </settings>\n" OOBE "</unattend>\n";
    struct vol v;
    char why[256], *s;

    make_vol(&v, 0, 1, in);
    ck_assert_int_eq(fc_identity_ntfs(v.img, 0, 16 << 20, "pc-07", why, sizeof(why)), 1);
    cut(&v, 0);
    s = cat(&v, "Windows/Panther/unattend.xml");
    ck_assert_int_eq(count(s, "<ComputerName>pc-07</ComputerName>\n      "
                              "<RegisteredOrganization>Lab</RegisteredOrganization>"),
                     1);
    ck_assert_ptr_nonnull(strstr(s, OOBE "</unattend>\n"));
    ck_assert_ptr_null(strstr(s, "MASTER"));
    ck_assert_int_eq(strlen(s), strlen(in) - strlen("A-VERY-LONG-MASTER-NAME-THAT-GOES-AWAY") +
                                    strlen("pc-07"));
    free(s);
    drop_vol(&v);
}
END_TEST

START_TEST(test_ntfs_not_windows_untouched)
{
    struct vol v;
    char why[256];

    make_vol(&v, 0, 0, NULL);
    fc_test_sh("cp %s/part %s/before", v.dir, v.dir);
    ck_assert_int_eq(fc_identity_ntfs(v.img, 0, 16 << 20, "pc-07", why, sizeof(why)), 0);
    fc_test_sh("cmp -s %s/part %s/before", v.dir, v.dir);
    drop_vol(&v);
}
END_TEST

START_TEST(test_ntfs_refuses)
{
    struct fc_manifest m;
    struct vol v;
    char why[256];
    uint32_t part = 9;

    /* a bad name on a Windows volume fails, naming the rule, and writes nothing */
    make_vol(&v, 0, 1, NULL);
    fc_test_sh("cp %s/part %s/before", v.dir, v.dir);
    memset(&m, 0, sizeof(m));
    m.n_parts = 1;
    m.parts = calloc(1, sizeof(*m.parts));
    m.parts[0] = (struct fc_part){.index = 1, .start = 0, .size = 16 << 20, .fs = FC_FS_NTFS};
    ck_assert_int_eq(fc_identity_windows(v.img, &m, "pc-with-a-long-name", &part, why, sizeof(why)),
                     FC_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "partition 1"));
    ck_assert_ptr_nonnull(strstr(why, "at most 15"));
    fc_test_sh("cmp -s %s/part %s/before", v.dir, v.dir);
    /* a good one: counted, its index given */
    ck_assert_int_eq(fc_identity_windows(v.img, &m, "pc-07.lab", &part, why, sizeof(why)), 1);
    ck_assert_uint_eq(part, 0);
    cut(&v, 0);
    free(m.parts);
    drop_vol(&v);
}
END_TEST

FC_TEST_MAIN("winidentity", test_winname_rules, test_unattend_new, test_unattend_edits,
             test_unattend_refused, test_ntfs_new_answer_file, test_ntfs_existing_answer_file,
             test_ntfs_not_windows_untouched, test_ntfs_refuses)
