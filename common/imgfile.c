/* The image file sink (see imgfile.h). */
#include "common/imgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/disk.h"
#include "common/error.h"
#include "common/image.h"
#include "common/log.h"

int fc_imgfile_openat(struct fc_imgfile *f, int dir, const char *out, int keep)
{
    static const uint8_t zero_hdr[FC_HEADER_SIZE];
    int nofollow = dir == AT_FDCWD ? 0 : O_NOFOLLOW;

    f->out = out;
    f->dir = dir;
    f->keep = keep;
    f->end = FC_HEADER_SIZE;
    snprintf(f->tmp, sizeof(f->tmp), "%s.partial-%ld", out, (long)getpid());
    f->fd = openat(dir, f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | nofollow, 0644);
    if (f->fd < 0) {
        fc_error("cannot create %s: %s", f->tmp, strerror(errno));
        f->tmp[0] = '\0';
        return FC_EIO;
    }
    return fc_pwrite_full(f->fd, zero_hdr, sizeof(zero_hdr), 0);
}

int fc_imgfile_open(struct fc_imgfile *f, const char *out)
{
    return fc_imgfile_openat(f, AT_FDCWD, out, 0);
}

/* renameat2's RENAME_NOREPLACE when the OUT already there must stay: an
 * image another capture (or the operator) put there since it was armed. */
static int rename_out(const struct fc_imgfile *f)
{
    if (f->keep)
        return (int)syscall(SYS_renameat2, f->dir, f->tmp, f->dir, f->out, RENAME_NOREPLACE);
    return renameat(f->dir, f->tmp, f->dir, f->out);
}

int fc_imgfile_put(struct fc_imgfile *f, const struct fc_chunk *meta, const uint8_t *comp)
{
    int rc;

    if (meta->file_off != f->end)
        return FC_EINVAL;
    rc = fc_pwrite_full(f->fd, comp, meta->comp_size, f->end);
    if (rc) {
        fc_error("writing %s: %s", f->tmp, strerror(errno));
        return rc;
    }
    f->end += meta->comp_size;
    return 0;
}

/* Manifest, signature block, then the real header: last, so that a file cut
 * short anywhere before never carries a valid header. */
static int write_tail(struct fc_imgfile *f, const struct fc_manifest *m,
                      const struct fc_keypair *key)
{
    struct fc_image_header h;
    uint8_t hdr[FC_HEADER_SIZE], sb[FC_SIGBLOCK_SIZE], sig[FC_SIG_LEN];
    uint8_t *man = NULL;
    size_t man_len = 0;
    int rc;

    rc = fc_manifest_encode(m, &man, &man_len);
    if (rc)
        return rc;
    fc_sign(key, man, man_len, sig);
    fc_sigblock_encode(key->pk, sig, sb);
    memcpy(h.image_id, m->image_id, FC_IMAGE_ID_LEN);
    h.manifest_off = f->end;
    h.manifest_len = man_len;
    h.sig_off = f->end + man_len;
    fc_image_header_encode(&h, hdr);
    rc = fc_pwrite_full(f->fd, man, man_len, h.manifest_off);
    if (!rc)
        rc = fc_pwrite_full(f->fd, sb, sizeof(sb), h.sig_off);
    if (!rc && fdatasync(f->fd) < 0)
        rc = FC_EIO;
    if (!rc)
        rc = fc_pwrite_full(f->fd, hdr, sizeof(hdr), 0);
    if (!rc && fsync(f->fd) < 0)
        rc = FC_EIO;
    if (rc)
        fc_error("writing %s: %s", f->tmp, strerror(errno));
    f->end = h.sig_off + FC_SIGBLOCK_SIZE;
    free(man);
    return rc;
}

int fc_imgfile_commit(struct fc_imgfile *f, const struct fc_manifest *m,
                      const struct fc_keypair *key, uint64_t *size)
{
    int rc = write_tail(f, m, key);

    if (!rc && rename_out(f) < 0) {
        fc_error("cannot rename %s to %s: %s", f->tmp, f->out,
                 errno == EEXIST ? "an image of that name is there already" : strerror(errno));
        rc = FC_EIO;
    }
    if (rc) {
        fc_imgfile_abort(f);
        return rc;
    }
    close(f->fd);
    f->fd = -1;
    f->tmp[0] = '\0';
    *size = f->end;
    return 0;
}

void fc_imgfile_abort(struct fc_imgfile *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp[0])
        unlinkat(f->dir, f->tmp, 0); /* never leave anything that could pass for an image */
    f->tmp[0] = '\0';
}
