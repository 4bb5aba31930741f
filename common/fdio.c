/* See fdio.h. */
#include "common/fdio.h"

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"

int fc_fd_recv_full(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;

    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? FC_ETRUNC : FC_EIO;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int fc_fd_send_full(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;

    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FC_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
