/* A Windows clone's computer name in its answer file (winidentity.h): the
 * answer file edited as text (a small tag scanner: the rest of the file
 * stays byte for byte as the master's), written through libntfs-3g on the
 * partition, never through a mount of the host's. */
#include "common/winidentity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

#include "common/error.h"
#include "common/hostname.h"
#include "common/ntfsdev.h"

#define SHELL_SETUP "Microsoft-Windows-Shell-Setup"
#define EDIT_ROOM 2048 /* what an edit adds at most: a settings block */

int fc_winname(const char *hostname, char out[FC_WINNAME_MAX + 1], char *why, size_t cap)
{
    size_t n = strcspn(hostname, ".");

    if (!fc_hostname_valid(hostname))
        return fc_why(why, cap, FC_EINVAL, "'%.63s' is not a valid host name", hostname);
    /* Windows' ComputerName: 15 bytes (NetBIOS), none of { | } ~ [ \ ] ^ '
     * : ; < = > ? @ ! " # $ % ` ( ) + / . , * & or space (a host name's
     * label has none), and not only digits (DnsValidateName refuses it). */
    if (n > FC_WINNAME_MAX)
        return fc_why(why, cap, FC_EINVAL,
                      "'%.*s' is %zu characters: a Windows computer name has at most %d", (int)n,
                      hostname, n, FC_WINNAME_MAX);
    if (strspn(hostname, "0123456789") >= n)
        return fc_why(why, cap, FC_EINVAL,
                      "'%.*s' is only digits: Windows refuses such a computer name", (int)n,
                      hostname);
    memcpy(out, hostname, n);
    out[n] = 0;
    return 0;
}

/* ---- the answer file, as text ---- */

struct tag {
    size_t at, end;   /* its '<', and one past its '>' */
    size_t name_end;  /* one past its name */
    const char *name; /* local name, after any prefix */
    size_t name_len;
    int close, empty; /* </x>, <x/> */
};

static int starts(const char *s, size_t left, const char *with)
{
    size_t n = strlen(with);

    return left >= n && !memcmp(s, with, n);
}

/* Past the end of a comment, CDATA, processing instruction or declaration
 * starting at s[at]; 0 when s[at] opens none of them, (size_t)-1 when it is
 * not closed. */
static size_t skip_markup(const char *s, size_t len, size_t at)
{
    static const char *const open[] = {"<!--", "<![CDATA[", "<?", "<!"};
    static const char *const close[] = {"-->", "]]>", "?>", ">"};
    size_t i;

    for (i = 0; i < 4; i++) {
        if (starts(s + at, len - at, open[i])) {
            const char *e = memmem(s + at + strlen(open[i]), len - at - strlen(open[i]), close[i],
                                   strlen(close[i]));
            return e ? (size_t)(e - s) + strlen(close[i]) : (size_t)-1;
        }
    }
    return 0;
}

/* The next element tag at or after pos: 1, 0 none, FC_EFORMAT unclosed. */
static int next_tag(const char *s, size_t len, size_t pos, struct tag *t)
{
    while (pos < len) {
        const char *lt = memchr(s + pos, '<', len - pos);
        size_t at, i, skip;
        char q = 0;

        if (!lt)
            return 0;
        at = (size_t)(lt - s);
        skip = skip_markup(s, len, at);
        if (skip == (size_t)-1)
            return FC_EFORMAT;
        if (skip) {
            pos = skip;
            continue;
        }
        i = at + 1;
        t->close = i < len && s[i] == '/';
        i += (size_t)t->close;
        t->name = s + i;
        while (i < len && !strchr(" \t\r\n/>", s[i]))
            if (s[i++] == ':')
                t->name = s + i;
        t->name_end = i;
        t->name_len = (size_t)(s + i - t->name);
        for (; i < len && (q || s[i] != '>'); i++)
            q = q ? (s[i] == q ? 0 : q) : (s[i] == '"' || s[i] == '\'') ? s[i] : 0;
        if (i >= len || !t->name_len)
            return FC_EFORMAT;
        t->empty = !t->close && s[i - 1] == '/';
        t->at = at;
        t->end = i + 1;
        return 1;
    }
    return 0;
}

static int is(const struct tag *t, const char *name)
{
    return t->name_len == strlen(name) && !memcmp(t->name, name, t->name_len);
}

/* An attribute of tag t: 1 with its value's span (and, in *from, where the
 * whitespace before its name starts), 0 if it has none. */
static int attr(const char *s, const struct tag *t, const char *name, size_t *from, size_t *val,
                size_t *vlen)
{
    size_t i = t->name_end, n = strlen(name);

    while (i < t->end - 1) {
        size_t ws = i, a, q;
        while (i < t->end && strchr(" \t\r\n", s[i]))
            i++;
        for (a = i; i < t->end && !strchr(" \t\r\n=/>", s[i]); i++)
            ;
        while (i < t->end && strchr(" \t\r\n=", s[i]))
            i++;
        if (i >= t->end - 1 || (s[i] != '"' && s[i] != '\''))
            return 0;
        q = i + 1;
        for (i = q; i < t->end && s[i] != s[q - 1]; i++)
            ;
        if (q - 1 > a && !memcmp(s + a, name, n) && strchr(" \t\r\n=", s[a + n])) {
            *from = ws, *val = q, *vlen = i - q;
            return 1;
        }
        i++;
    }
    return 0;
}

static int attr_is(const char *s, const struct tag *t, const char *name, const char *value)
{
    size_t from, val, vlen;

    return attr(s, t, name, &from, &val, &vlen) && vlen == strlen(value) &&
           !memcmp(s + val, value, vlen);
}

/* The close tag of the element t opens (an empty one: a zero-length
 * "close" at its end), or FC_EFORMAT. */
static int element_end(const char *s, size_t len, const struct tag *t, struct tag *close)
{
    size_t pos = t->end;
    int depth = 1, rc;

    if (t->empty) {
        *close = *t;
        close->at = close->end = t->end;
        return 0;
    }
    while ((rc = next_tag(s, len, pos, close)) == 1) {
        depth += close->close ? -1 : !close->empty;
        if (!depth)
            return 0;
        pos = close->end;
    }
    return FC_EFORMAT;
}

/* The first child element of [from, to) named name (with attribute a equal
 * to v, when a is given): 1 with its open and close tags, 0 none. */
static int child(const char *s, size_t from, size_t to, const char *name, const char *a,
                 const char *v, struct tag *open, struct tag *close)
{
    int rc;

    while ((rc = next_tag(s, to, from, open)) == 1 && !open->close) {
        if ((rc = element_end(s, to, open, close)) < 0)
            return rc;
        if (is(open, name) && (!a || attr_is(s, open, a, v)))
            return 1;
        from = close->end;
    }
    return rc < 0 ? rc : 0;
}

/* The processor architecture the file's components name (an x86 or arm64
 * answer file stays one); amd64 when none does. */
static void architecture(const char *s, size_t len, char *arch, size_t cap)
{
    static const char *const known[] = {"amd64", "x86", "arm64", "arm", "ia64"};
    struct tag t;
    size_t pos = 0, from, val, vlen, i;

    snprintf(arch, cap, "amd64");
    while (next_tag(s, len, pos, &t) == 1) {
        pos = t.end;
        if (!is(&t, "component") || !attr(s, &t, "processorArchitecture", &from, &val, &vlen))
            continue;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (vlen == strlen(known[i]) && !memcmp(s + val, known[i], vlen))
                snprintf(arch, cap, "%s", known[i]);
        return;
    }
}

static void component_text(char *buf, size_t cap, const char *arch, const char *name)
{
    snprintf(buf, cap,
             "\n        <component name=\"" SHELL_SETUP "\" processorArchitecture=\"%s\""
             " publicKeyToken=\"31bf3856ad364e35\" language=\"neutral\" versionScope=\"nonSxS\""
             " xmlns:wcm=\"http://schemas.microsoft.com/WMIConfig/2002/State\""
             " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
             "            <ComputerName>%s</ComputerName>\n"
             "        </component>",
             arch, name);
}

struct edit {
    char *p;
    size_t len, cap;
};

/* Bytes [at, at + del) replaced by ins. */
static void replace_at(struct edit *e, size_t at, size_t del, const char *ins)
{
    size_t n = strlen(ins);

    memmove(e->p + at + n, e->p + at + del, e->len - at - del);
    memcpy(e->p + at, ins, n);
    e->len = e->len - del + n;
}

/* The ComputerName in a Shell-Setup component [c, cc]. */
static int set_in_component(struct edit *e, const struct tag *c, const struct tag *cc,
                            const char *name)
{
    struct tag n, nc;
    char text[96];
    int rc = child(e->p, c->end, cc->at, "ComputerName", NULL, NULL, &n, &nc);

    if (rc < 0 || c->empty)
        return FC_EFORMAT;
    if (rc == 1 && !n.empty) {
        replace_at(e, n.end, nc.at - n.end, name);
        return 0;
    }
    snprintf(text, sizeof(text), "%s<ComputerName>%s</ComputerName>", rc ? "" : "\n            ",
             name);
    if (rc == 1)
        replace_at(e, n.at, n.end - n.at, text);
    else
        replace_at(e, c->end, 0, text);
    return 0;
}

/* The name set in the specialize settings [st, stc] (a component added if
 * it has none), its wasPassProcessed mark dropped. */
static int set_in_settings(struct edit *e, const struct tag *st, const struct tag *stc,
                           const char *name)
{
    struct tag c, cc;
    char arch[16], text[600];
    size_t from, val, vlen;
    int rc = child(e->p, st->end, stc->at, "component", "name", SHELL_SETUP, &c, &cc);

    if (rc < 0)
        return rc;
    if (rc == 1) {
        rc = set_in_component(e, &c, &cc, name);
    } else {
        architecture(e->p, e->len, arch, sizeof(arch));
        component_text(text, sizeof(text), arch, name);
        if (st->empty) {
            /* <settings pass="specialize"/>: opened, given the component, closed */
            replace_at(e, st->end, 0, "\n    </settings>");
            replace_at(e, st->end, 0, text);
            e->p[st->end - 2] = ' ';
        } else {
            replace_at(e, st->end, 0, text);
        }
    }
    if (!rc && attr(e->p, st, "wasPassProcessed", &from, &val, &vlen))
        replace_at(e, from, val + vlen + 1 - from, "");
    return rc;
}

static int set_name(struct edit *e, const char *name)
{
    struct tag root, rootc, st, stc;
    char arch[16], comp[600], text[800];
    int rc = next_tag(e->p, e->len, 0, &root);

    if (rc == 1 && (!is(&root, "unattend") || root.close || root.empty))
        rc = 0;
    if (rc == 0)
        return FC_EFORMAT;
    if (rc < 0 || (rc = element_end(e->p, e->len, &root, &rootc)) < 0)
        return rc;
    rc = child(e->p, root.end, rootc.at, "settings", "pass", "specialize", &st, &stc);
    if (rc == 1)
        return set_in_settings(e, &st, &stc, name);
    if (rc < 0)
        return rc;
    architecture(e->p, e->len, arch, sizeof(arch));
    component_text(comp, sizeof(comp), arch, name);
    snprintf(text, sizeof(text), "    <settings pass=\"specialize\">%s\n    </settings>\n", comp);
    replace_at(e, rootc.at, 0, text);
    return 0;
}

int fc_unattend_set(const char *in, size_t len, const char *name, char **out, size_t *out_len,
                    char *why, size_t cap)
{
    static const char minimal[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                                  "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n"
                                  "</unattend>\n";
    struct edit e;
    int rc;

    if (!in || !len)
        in = minimal, len = sizeof(minimal) - 1;
    if (len > FC_UNATTEND_MAX)
        return fc_why(why, cap, FC_EFORMAT, "the answer file is over %d bytes", FC_UNATTEND_MAX);
    if (memchr(in, 0, len))
        return fc_why(why, cap, FC_EFORMAT,
                      "the answer file is not UTF-8 (UTF-16?): save it as UTF-8 in the master");
    e.cap = len + EDIT_ROOM;
    e.len = len;
    e.p = malloc(e.cap);
    if (!e.p)
        return fc_why(why, cap, FC_ENOMEM, "out of memory");
    memcpy(e.p, in, len);
    rc = set_name(&e, name);
    if (rc) {
        free(e.p);
        return fc_why(why, cap, rc,
                      "the answer file is not one Windows setup reads (no <unattend> "
                      "element, or a tag left open)");
    }
    *out = e.p;
    *out_len = e.len;
    return 0;
}

/* ---- the volume ---- */

struct vol {
    ntfs_volume *vol;
    char *why;
    size_t cap;
};

static int is_dir(const ntfs_inode *ni)
{
    return !!(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY);
}

/* dir's entry name (case as Windows matches it): 1 with it open, 0 when
 * missing. A reparse point is an error: it would be resolved against this
 * host, not the clone. */
static int open_child(struct vol *v, ntfs_inode *dir, const char *name, ntfs_inode **out)
{
    /* one name, no separator: ntfs_pathname_to_inode looks it up in dir
     * alone, as Windows matches names (case-insensitively) */
    errno = 0;
    *out = ntfs_pathname_to_inode(v->vol, dir, name);
    if (!*out)
        return errno == ENOENT
                   ? 0
                   : fc_why(v->why, v->cap, FC_EIO, "cannot look up %s: %s", name, strerror(errno));
    if ((*out)->flags & FILE_ATTR_REPARSE_POINT) {
        ntfs_inode_close(*out);
        *out = NULL;
        return fc_why(v->why, v->cap, FC_EFORMAT,
                      "%s is a reparse point (junction or link): not followed", name);
    }
    return 1;
}

/* The directories of path from the root, each a real directory: 1 with the
 * last open, 0 if one is missing. */
static int open_dirs(struct vol *v, const char *const *path, size_t n, ntfs_inode **out)
{
    ntfs_inode *ni = ntfs_inode_open(v->vol, FILE_root), *next;
    size_t i;
    int rc = ni ? 1 : fc_why(v->why, v->cap, FC_EIO, "cannot open the root directory");

    for (i = 0; rc == 1 && i < n; i++) {
        rc = open_child(v, ni, path[i], &next);
        if (rc == 1 && !is_dir(next)) {
            ntfs_inode_close(next);
            rc = fc_why(v->why, v->cap, FC_EFORMAT, "\\%s is not a directory", path[i]);
        }
        ntfs_inode_close(ni);
        ni = rc == 1 ? next : NULL;
    }
    *out = ni;
    return rc;
}

/* \Windows\System32\config\SYSTEM, the registry's system hive, a file. */
static int is_windows(struct vol *v)
{
    static const char *const dirs[] = {"Windows", "System32", "config"};
    ntfs_inode *config, *hive;
    int rc = open_dirs(v, dirs, 3, &config);

    if (rc == 1) {
        rc = open_child(v, config, "SYSTEM", &hive);
        if (rc == 1 && is_dir(hive))
            rc = 0;
        if (hive)
            ntfs_inode_close(hive);
        ntfs_inode_close(config);
    }
    return rc;
}

static ntfs_inode *create(struct vol *v, ntfs_inode *dir, const char *name, mode_t type)
{
    ntfschar *u = NULL;
    int n = ntfs_mbstoucs(name, &u);
    ntfs_inode *ni = n > 0 ? ntfs_create(dir, const_cpu_to_le32(0), u, (u8)n, type) : NULL;

    if (!ni)
        fc_why(v->why, v->cap, FC_EIO, "cannot create %s: %s", name, strerror(errno));
    free(u);
    return ni;
}

/* The answer file's $DATA: its bytes read into *in (malloc'd; NULL, 0 for a
 * new file). */
static int read_data(struct vol *v, ntfs_attr *na, char **in, size_t *len)
{
    *in = NULL;
    *len = 0;
    if (na->data_size > FC_UNATTEND_MAX)
        return fc_why(v->why, v->cap, FC_EFORMAT,
                      "the master's unattend.xml is over %d bytes: not edited", FC_UNATTEND_MAX);
    if (!na->data_size)
        return 0;
    *in = malloc((size_t)na->data_size);
    if (!*in)
        return fc_why(v->why, v->cap, FC_ENOMEM, "out of memory");
    if (ntfs_attr_pread(na, 0, na->data_size, *in) != na->data_size)
        return fc_why(v->why, v->cap, FC_EIO, "cannot read unattend.xml: %s", strerror(errno));
    *len = (size_t)na->data_size;
    return 0;
}

/* unattend.xml in Panther: read, edited, written back at its new length. */
static int write_answer(struct vol *v, ntfs_inode *ni, const char *name)
{
    ntfs_attr *na;
    char *in = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    int rc;

    if (is_dir(ni) || ni->flags & FILE_ATTR_ENCRYPTED)
        return fc_why(v->why, v->cap, FC_EFORMAT,
                      "\\Windows\\Panther\\unattend.xml is a directory or encrypted");
    na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
    if (!na)
        return fc_why(v->why, v->cap, FC_EIO, "cannot open unattend.xml's data: %s",
                      strerror(errno));
    rc = read_data(v, na, &in, &len);
    if (!rc)
        rc = fc_unattend_set(in, len, name, &out, &out_len, v->why, v->cap);
    if (!rc && (ntfs_attr_pwrite(na, 0, (s64)out_len, out) != (s64)out_len ||
                ntfs_attr_truncate(na, (s64)out_len)))
        rc = fc_why(v->why, v->cap, FC_EIO, "cannot write unattend.xml: %s", strerror(errno));
    ntfs_attr_close(na);
    free(in);
    free(out);
    return rc;
}

/* \Windows\Panther (made if missing) and its unattend.xml (made if
 * missing). */
static int set_answer(struct vol *v, const char *name)
{
    static const char *const win[] = {"Windows"};
    ntfs_inode *windows = NULL, *panther = NULL, *file = NULL;
    int rc = open_dirs(v, win, 1, &windows);

    if (rc == 1)
        rc = open_child(v, windows, "Panther", &panther);
    if (rc == 0 && windows && !(panther = create(v, windows, "Panther", S_IFDIR)))
        rc = FC_EIO;
    else if (rc == 1 && !is_dir(panther))
        rc = fc_why(v->why, v->cap, FC_EFORMAT, "\\Windows\\Panther is not a directory");
    if (rc >= 0)
        rc = open_child(v, panther, "unattend.xml", &file);
    if (rc == 0 && !(file = create(v, panther, "unattend.xml", S_IFREG)))
        rc = FC_EIO;
    if (rc >= 0)
        rc = write_answer(v, file, name);
    /* each closed through its open directory, as ntfs-3g's own driver does:
     * a plain close would open the directory again to update the file's
     * entry in it, and fail (EBUSY) while it is open here */
    if (file && ntfs_inode_close_in_dir(file, panther) && rc >= 0)
        rc = fc_why(v->why, v->cap, FC_EIO, "cannot close unattend.xml: %s", strerror(errno));
    if (panther && ntfs_inode_close_in_dir(panther, windows) && rc >= 0)
        rc = fc_why(v->why, v->cap, FC_EIO, "cannot close \\Windows\\Panther: %s", strerror(errno));
    if (windows)
        ntfs_inode_close(windows);
    return rc;
}

/* Mounted by libntfs-3g on our device (read-only unless rw), checked and
 * maybe named, unmounted: 1 named, 0 not Windows, < 0 an error. */
static int on_volume(int fd, uint64_t off, uint64_t size, const char *name, int rw, char *why,
                     size_t cap)
{
    struct fc_ntfs_part p;
    struct ntfs_device *dev = fc_ntfs_part_dev(&p, fd, off, size, rw);
    struct vol v = {NULL, why, cap};
    int rc;

    if (!dev)
        return fc_why(why, cap, FC_ENOMEM, "out of memory");
    v.vol = ntfs_device_mount(dev, rw ? NTFS_MNT_NONE : NTFS_MNT_RDONLY);
    if (!v.vol) {
        rc = fc_why(why, cap, FC_EFORMAT,
                    "libntfs-3g cannot open the NTFS volume%s: %s (hibernated, or not shut down "
                    "cleanly? shut Windows down with fast start-up off before capturing)",
                    rw ? " read-write" : "", strerror(errno));
        ntfs_device_free(dev);
        return rc;
    }
    rc = is_windows(&v);
    if (rc == 1 && rw)
        rc = set_answer(&v, name);
    if (rc >= 0 && rw)
        rc = 1;
    /* unmounted even after an error: what was changed stays consistent */
    if (ntfs_umount(v.vol, FALSE) && rc >= 0)
        rc = fc_why(why, cap, FC_EIO, "cannot write the NTFS volume back: %s", strerror(errno));
    return rc;
}

int fc_identity_ntfs(const char *path, uint64_t off, uint64_t size, const char *name, char *why,
                     size_t cap)
{
    int fd, rc;

    why[0] = 0;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return fc_why(why, cap, FC_EIO, "cannot open %s: %s", path, strerror(errno));
    /* Looked at read-only first: a read-write mount resets the journal,
     * and a volume that is not Windows stays untouched. */
    rc = on_volume(fd, off, size, name, 0, why, cap);
    if (rc == 1 && name)
        rc = on_volume(fd, off, size, name, 1, why, cap);
    if (rc == 1 && fsync(fd))
        rc = fc_why(why, cap, FC_EIO, "cannot sync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int fc_identity_windows(const char *path, const struct fc_manifest *m, const char *hostname,
                        uint32_t *part, char *why, size_t cap)
{
    char name[FC_WINNAME_MAX + 1], bad[160], w[256];
    /* checked where a Windows volume would take it: a name too long for
     * Windows is fine for an image without one */
    int bad_rc = fc_winname(hostname, name, bad, sizeof(bad)), rc, named = 0;
    uint32_t i;

    why[0] = 0;
    for (i = 0; i < m->n_parts; i++) {
        const struct fc_part *p = &m->parts[i];
        if (p->fs != FC_FS_NTFS)
            continue;
        rc = fc_identity_ntfs(path, p->start, p->size, bad_rc ? NULL : name, w, sizeof(w));
        if (rc == 1 && bad_rc)
            rc = bad_rc, snprintf(w, sizeof(w), "%s", bad);
        if (rc < 0)
            return fc_why(why, cap, rc, "partition %u: %s", p->index, w);
        if (rc == 1 && !named++)
            *part = i;
    }
    return named;
}
