/* A small text file read whole (a session's names list, by the CLI that
 * sends it and by fleetcastd --names). */
#ifndef FC_TEXTFILE_H
#define FC_TEXTFILE_H

#include <stddef.h>

/* path's bytes, NUL-terminated, into *out (malloc'd): 0; FC_EIO when it
 * cannot be opened or read (errno says why), FC_EFORMAT when it is over max
 * bytes, FC_ENOMEM. */
int fc_read_text(const char *path, size_t max, char **out);

#endif
