/* Whole reads and writes on a stream socket, for the threads that use
 * blocking sockets (the capture upload: client/capture.c, server/capture.c).
 * A timeout set with SO_RCVTIMEO/SO_SNDTIMEO bounds each call. */
#ifndef FC_FDIO_H
#define FC_FDIO_H

#include <stddef.h>

/* 0, FC_ETRUNC if the peer closed first, FC_EIO on an error or timeout. */
int fc_fd_recv_full(int fd, void *buf, size_t n);
/* 0, or FC_EIO (never SIGPIPE). */
int fc_fd_send_full(int fd, const void *buf, size_t n);

#endif
