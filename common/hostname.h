/* Host names a clone is given (from the inventory, a session's --names file
 * or the kernel command line): checked the same way by the server, before it
 * hands one out, and by the receiver, before it writes one into a system. */
#ifndef FC_HOSTNAME_H
#define FC_HOSTNAME_H

/* Longest name taken: Linux's HOST_NAME_MAX (64) less its NUL. */
#define FC_HOSTNAME_MAX 63

/* 1 if name is a host name by RFC 1123: dot-separated labels of 1 to 63
 * letters, digits and hyphens, none starting or ending with a hyphen, at
 * most FC_HOSTNAME_MAX bytes in all; 0 otherwise (empty, "-a", "a..b",
 * "a_b", a trailing dot, anything longer). */
int fc_hostname_valid(const char *name);

#endif
