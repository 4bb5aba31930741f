/* fc_strerror(), the mapping from error codes to process exit codes, and
 * fc_why() for a code with its reason. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *fc_strerror(int code)
{
    switch (code) {
    case FC_OK:
        return "success";
    case FC_EIO:
        return "input/output error";
    case FC_ENOMEM:
        return "out of memory";
    case FC_EINVAL:
        return "invalid argument";
    case FC_EFORMAT:
        return "not a valid fleetcast image or structure";
    case FC_ETRUNC:
        return "truncated input";
    case FC_EHASH:
        return "chunk hash mismatch";
    case FC_ESIG:
        return "manifest signature does not verify";
    case FC_EKEY:
        return "bad or wrong key";
    case FC_ETOOSMALL:
        return "target is smaller than the image's disk";
    case FC_ECOMPRESS:
        return "compression error";
    case FC_EVERSION:
        return "unsupported format version";
    case FC_EINTR:
        return "interrupted";
    case FC_EDIFFER:
        return "target differs from the image";
    case FC_EPROTO:
        return "malformed or inconsistent packet";
    case FC_ESTATE:
        return "invalid in the current state";
    case FC_ETIMEDOUT:
        return "timed out";
    case FC_EREFUSED:
        return "refused by peer";
    case FC_ECORRUPT:
        return "image chunk corrupt at the source (its signed hashes disagree)";
    case FC_EUNSAFE:
        return "filesystem not safe to capture (hibernated or not cleanly shut down)";
    }
    return "unknown error";
}

int fc_exit_status(int code)
{
    switch (code) {
    case FC_OK:
        return 0;
    case FC_EINVAL:
        return 2;
    case FC_EFORMAT:
    case FC_ETRUNC:
    case FC_EHASH:
    case FC_ESIG:
    case FC_EKEY:
    case FC_EVERSION:
    case FC_ECORRUPT:
        return 3;
    case FC_ETOOSMALL:
        return 4;
    case FC_EIO:
        return 5;
    case FC_EDIFFER:
        return 6;
    case FC_EINTR:
        return 130;
    default:
        return 1;
    }
}

int fc_why(char *why, size_t cap, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return code;
}
