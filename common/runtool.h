/* Running an outside program (e2fsck, resize2fs, ntfsresize, ntfsfix: the
 * grow step's tools, which have no library) bounded in time, with what it
 * printed kept for the error line instead of mixed into ours. */
#ifndef FC_RUNTOOL_H
#define FC_RUNTOOL_H

#include <stddef.h>

/* Runs argv (looked up in PATH) with stdin from /dev/null and stdout and
 * stderr together into a buffer; after timeout_s seconds it is killed.
 * Returns its exit status, or -1 when it could not run, was killed or ran
 * out of time (out then says which). out (cap > 0) receives the last lines
 * it printed, joined by " | ", for the caller's error line. */
int fc_run_tool(char *const argv[], unsigned timeout_s, char *out, size_t cap);

#endif
