/* fleetcastd's settings (server/config.c): an unknown flag is refused before
 * the next argument is taken as its value; the numeric settings keep their
 * ranges and scales; the config file's yes/no and unknown lines; the
 * defaults API sessions start from; and a reload (SIGHUP) that applies what
 * it can, leaves the rest, and keeps everything when the file is bad. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "server/server.h"
#include "tests/unit/unit.h"

/* pxecfg.c, linked for config.c's --tftp-root check, refers to netio.c's MAC
 * lookup, which nothing reached from config.c calls. */
int fc_netio_mac_of(struct in_addr ip, char out[18])
{
    (void)ip, (void)out;
    abort();
}

static int parse(struct fc_daemon_config *dc, struct fc_session_config *c, int argc,
                 const char **argv)
{
    int has_session;

    return fc_config_parse(dc, c, &has_session, argc, (char **)argv);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_unknown_flag_takes_nothing)
{
    struct fc_daemon_config dc;
    struct fc_session_config c;
    const char *a1[] = {"fleetcastd", "--daemon", "--no-such", "--rate", "900M"};
    const char *a2[] = {"fleetcastd", "--daemon", "--rate", "900M", "--no-such=1"};
    const char *a3[] = {"fleetcastd", "--daemon=yes"};
    const char *a4[] = {"fleetcastd", "--daemon", "--rate"};

    ck_assert_int_ne(parse(&dc, &c, 5, a1), 0);
    ck_assert_int_ne(parse(&dc, &c, 5, a2), 0);
    ck_assert_int_ne(parse(&dc, &c, 2, a3), 0);
    ck_assert_int_ne(parse(&dc, &c, 3, a4), 0);
}
END_TEST

START_TEST(test_numbers_and_scales)
{
    struct fc_daemon_config dc;
    struct fc_session_config c;
    const char *ok[] = {
        "fleetcastd", "--daemon", "--drop-loss", "20", "--repair-budget", "7", "--k", "100",
        "--payload",  "1000",     "--max-wait",  "30", "--min-receivers", "12"};
    const char *bad[] = {"fleetcastd", "--daemon", "--k", "0"};

    ck_assert_int_eq(parse(&dc, &c, 14, ok), 0);
    ck_assert(c.drop_loss > 0.19999 && c.drop_loss < 0.20001);
    ck_assert(c.repair_budget > 0.06999 && c.repair_budget < 0.07001);
    ck_assert_uint_eq(c.k_max, 100);
    ck_assert_uint_eq(c.payload, 1000);
    ck_assert(c.max_wait == 30);
    ck_assert_uint_eq(c.min_receivers, 12);
    ck_assert_str_eq(dc.http, FC_HTTP_DEFAULT);
    ck_assert_int_ne(parse(&dc, &c, 4, bad), 0);
}
END_TEST

START_TEST(test_config_file_lines)
{
    char path[] = "/tmp/fc-test-config.XXXXXX";
    int fd = mkstemp(path);
    struct fc_daemon_config dc;
    struct fc_session_config c;
    const char *argv[] = {"fleetcastd", "--daemon", "--config", path};

    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(path, "# a comment\n\nrate = 200M\nreadback = yes\nverbose = no\n");
    ck_assert_int_eq(parse(&dc, &c, 4, argv), 0);
    ck_assert(c.rate_bps == 200e6);
    ck_assert_int_eq(c.readback, 1);
    ck_assert_str_eq(dc.config_path, path);
    fc_config_free(&dc);
    write_file(path, "readback = perhaps\n");
    ck_assert_int_ne(parse(&dc, &c, 4, argv), 0);
    fc_config_free(&dc);
    write_file(path, "no-such-setting = 1\n");
    ck_assert_int_ne(parse(&dc, &c, 4, argv), 0);
    fc_config_free(&dc);
    write_file(path, "config = /etc/passwd\n");
    ck_assert_int_ne(parse(&dc, &c, 4, argv), 0);
    fc_config_free(&dc);
    unlink(path);
}
END_TEST

START_TEST(test_session_defaults_and_json)
{
    struct fc_daemon_config dc;
    struct fc_session_config c, d, s;
    const char *argv[] = {"fleetcastd", "--daemon", "--rate",         "300M",    "--image",
                          "/x.fcimg",   "--group",  "239.1.1.1:9000", "--iface", "eth0"};
    json_t *body = json_pack("{s:s, s:s, s:s, s:i}", "image", "/y.fcimg", "group", "239.1.1.2:9001",
                             "iface", "eth1", "max_wait", 60);
    char why[128];

    ck_assert_int_eq(parse(&dc, &c, 10, argv), 0);
    fc_config_session_defaults(&d, &c);
    ck_assert_ptr_null(d.image_path);
    ck_assert_ptr_null(d.iface);
    ck_assert_uint_eq(d.data_port, 0);
    ck_assert(d.rate_bps == 300e6);
    ck_assert_int_eq(fc_config_from_json(&s, &d, body, why, sizeof(why)), 0);
    ck_assert(s.rate_bps == 300e6); /* from the defaults */
    ck_assert(s.max_wait == 60);    /* from the request */
    ck_assert_str_eq(s.image_path, "/y.fcimg");
    free((char *)s.image_path);
    free((char *)s.iface);
    ck_assert_int_eq(fc_config_from_json(&s, NULL, body, why, sizeof(why)), 0);
    ck_assert(s.rate_bps == 100e6); /* the built-in default */
    ck_assert_int_eq(s.grow, 0);
    free((char *)s.image_path);
    free((char *)s.iface);
    json_decref(body);
}
END_TEST

/* --grow / grow_part, as the readback flag flows: API body, back to JSON
 * (what the store keeps), and a partition the ANNOUNCE cannot carry refused. */
START_TEST(test_session_grow)
{
    struct fc_session_config s;
    json_t *body = json_pack("{s:s, s:s, s:s, s:b, s:i}", "image", "/y.fcimg", "group",
                             "239.1.1.2:9001", "iface", "eth1", "grow", 1, "grow_part", 3),
           *back;
    char why[128];

    ck_assert_int_eq(fc_config_from_json(&s, NULL, body, why, sizeof(why)), 0);
    ck_assert_int_eq(s.grow, 1);
    ck_assert_uint_eq(s.grow_part, 3);
    back = fc_config_to_json(&s);
    ck_assert(json_is_true(json_object_get(back, "grow")));
    ck_assert_int_eq(json_integer_value(json_object_get(back, "grow_part")), 3);
    json_decref(back);
    fc_config_free_strings(&s);
    /* The caller frees a config's strings whatever the result (as api.c does). */
    json_object_set_new(body, "grow_part", json_integer(32));
    ck_assert_int_eq(fc_config_from_json(&s, NULL, body, why, sizeof(why)), FC_EINVAL);
    fc_config_free_strings(&s);
    json_object_set_new(body, "grow_part", json_integer(2));
    json_object_set_new(body, "grow", json_string("yes"));
    ck_assert_int_eq(fc_config_from_json(&s, NULL, body, why, sizeof(why)), FC_EINVAL);
    fc_config_free_strings(&s);
    ck_assert_str_eq(why, "grow must be true or false");
    json_decref(body);
}
END_TEST

START_TEST(test_reload)
{
    char path[] = "/tmp/fc-test-config.XXXXXX", root[] = "/tmp/fc-test-tftp.XXXXXX";
    char pxe[64], text[256];
    int fd = mkstemp(path);
    struct fc_daemon_config dc;
    struct fc_session_config c, d;
    const char *argv[] = {"fleetcastd", "--daemon", "--config", path};

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(pxe, sizeof(pxe), "%s/pxelinux.cfg", root);
    ck_assert_int_eq(mkdir(pxe, 0755), 0);
    write_file(path, "rate = 200M\nhttp = 127.0.0.1:7680\n");
    ck_assert_int_eq(parse(&dc, &c, 4, argv), 0);
    fc_config_session_defaults(&d, &c);
    /* applied: the rate of new sessions, tftp-root; not: the console address */
    snprintf(text, sizeof(text),
             "rate = 400M\nhttp = 127.0.0.1:7681\ntftp-root = %s\n"
             "notify-url = http://10.0.0.9/hook\n",
             root);
    write_file(path, text);
    ck_assert_int_eq(fc_config_reload(&dc, &d), 0);
    ck_assert(d.rate_bps == 400e6);
    ck_assert_str_eq(dc.http, "127.0.0.1:7680");
    ck_assert_str_eq(dc.tftp_root, root);
    ck_assert_str_eq(dc.notify_url, "http://10.0.0.9/hook");
    /* a bad file: nothing changes */
    write_file(path, "rate = 900M\nbogus = 1\n");
    ck_assert_int_ne(fc_config_reload(&dc, &d), 0);
    ck_assert(d.rate_bps == 400e6);
    ck_assert_str_eq(dc.tftp_root, root);
    /* a trusted key that cannot be read is refused at the reload */
    write_file(path, "trusted-key = /nonexistent/lab.pub\n");
    ck_assert_int_ne(fc_config_reload(&dc, &d), 0);
    ck_assert_ptr_null(dc.trusted_key);
    fc_config_free(&dc);
    ck_assert_ptr_null(dc.owned);
    unlink(path);
    rmdir(pxe);
    rmdir(root);
}
END_TEST

/* A session's names list (server/names.c): lines, header, comments, case
 * and separators of MACs; the list before the inventory; bad lines named. */
START_TEST(test_names_list)
{
    static const uint8_t m1[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56},
                         m2[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x57};
    json_t *inv =
        json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:n}]", "mac", "52:54:00:12:34:56",
                  "name", "inv-1", "lab", "lab-a", "mac", "52:54:00:12:34:57", "name", "inv-2",
                  "lab", "lab-b", "mac", "52:54:00:12:34:58", "name", "PC 8", "lab");
    const struct fc_name *n;
    struct fc_names nm;
    char why[256];

    ck_assert_int_eq(fc_names_load(&nm,
                                   "mac,hostname\r\n# a comment\n\n 52-54-00-12-34-57 , pc-2\n",
                                   inv, why, sizeof(why)),
                     0);
    n = fc_names_find(&nm, m2);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->hostname, "pc-2"); /* the list wins */
    n = fc_names_find(&nm, m1);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->hostname, "inv-1");
    ck_assert_str_eq(n->lab, "lab-a");
    n = fc_names_find(&nm, (const uint8_t[6]){0x52, 0x54, 0, 0x12, 0x34, 0x58});
    ck_assert(!n || !n->hostname[0]); /* "PC 8" is no host name: none given */
    fc_names_free(&nm);
    json_decref(inv);

    ck_assert_int_eq(
        fc_names_parse("52:54:00:12:34:56,pc-1\n52:54:00:12:34:56 pc-2\n", NULL, why, sizeof(why)),
        FC_EINVAL);
    ck_assert_str_eq(why, "names line 2: want MAC,hostname");
    ck_assert_int_eq(fc_names_parse("ff:ff:ff:ff:ff:ff,pc-1\n", NULL, why, sizeof(why)), FC_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "line 1: bad MAC"));
    ck_assert_int_eq(fc_names_parse("52:54:00:12:34:56,pc_1\n", NULL, why, sizeof(why)), FC_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "not a host name"));
}
END_TEST

FC_TEST_MAIN("config", test_unknown_flag_takes_nothing, test_numbers_and_scales,
             test_config_file_lines, test_session_defaults_and_json, test_reload, test_names_list,
             test_session_grow)
