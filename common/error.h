/* fleetcast error codes: every fallible function returns 0 (or a size) on
 * success and a negative FC_E* code on failure; fc_strerror() names it.
 * The detail (which chunk, which file) is logged where the error is found. */
#ifndef FC_ERROR_H
#define FC_ERROR_H

enum fc_error {
    FC_OK = 0,
    FC_EIO = -1,        /* read/write/open failed (errno logged) */
    FC_ENOMEM = -2,     /* allocation failed */
    FC_EINVAL = -3,     /* bad argument or option */
    FC_EFORMAT = -4,    /* not an image, or malformed structure */
    FC_ETRUNC = -5,     /* input shorter than it claims */
    FC_EHASH = -6,      /* a chunk's hash does not match the manifest */
    FC_ESIG = -7,       /* manifest signature does not verify */
    FC_EKEY = -8,       /* key file missing or malformed, or wrong key */
    FC_ETOOSMALL = -9,  /* target smaller than the image's disk */
    FC_ECOMPRESS = -10, /* zstd failed */
    FC_EVERSION = -11,  /* format version we do not understand */
    FC_EINTR = -12,     /* interrupted by a signal */
    FC_EDIFFER = -13,   /* target differs from the image (compare) */
    FC_EPROTO = -14,    /* malformed or inconsistent packet */
    FC_ESTATE = -15,    /* operation not valid in the current state */
    FC_ETIMEDOUT = -16, /* peer silent for too long */
    FC_EREFUSED = -17,  /* peer refused the request */
    FC_ECORRUPT = -18,  /* signed hashes of a chunk disagree: bad at the source */
    FC_EUNSAFE = -19,   /* a filesystem not safe to capture (hibernated, dirty) */
};

const char *fc_strerror(int code);

/* Exit status the command-line programs use for an error code, so scripts
 * can tell "image is bad" (3) from "target too small" (4) from I/O (5). */
int fc_exit_status(int code);

#include <stddef.h>

/* code, with the reason formatted into why (cap bytes): for the functions
 * that return a code and say why in a buffer of the caller's. */
__attribute__((format(printf, 4, 5))) int fc_why(char *why, size_t cap, int code, const char *fmt,
                                                 ...);

#endif
