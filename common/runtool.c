/* Outside programs bounded in time (see runtool.h). Their output goes to a
 * memfd, not a pipe: a tool that prints a lot can never block on a pipe
 * nobody reads while we wait for it, and the tail is read once at the end. */
#include "common/runtool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS (50 * 1000 * 1000L)

extern char **environ;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for pid up to timeout_s; kills it then. Its wait status, or -1
 * when it ran out of time (*late set). */
static int wait_bounded(pid_t pid, unsigned timeout_s, int *late)
{
    struct timespec nap = {0, POLL_NS};
    double end = now_s() + timeout_s;
    pid_t r;
    int st = 0;

    *late = 0;
    for (;;) {
        r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_s() >= end)
            break;
        nanosleep(&nap, NULL);
    }
    *late = 1;
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

/* The end of what the tool printed, newlines turned into " | " and blank
 * ends trimmed, its last cap - 1 bytes into out. */
static void output_tail(int fd, char *out, size_t cap)
{
    char raw[1024], joined[3 * sizeof(raw) + 1];
    struct stat sb;
    size_t o = 0, i;
    off_t from;
    ssize_t n;

    out[0] = 0;
    if (fstat(fd, &sb) || sb.st_size <= 0)
        return;
    from = sb.st_size > (off_t)sizeof(raw) ? sb.st_size - (off_t)sizeof(raw) : 0;
    n = pread(fd, raw, (size_t)(sb.st_size - from), from);
    for (i = 0; n > 0 && i < (size_t)n; i++) {
        if (raw[i] != '\n' && raw[i] != '\r')
            joined[o++] = raw[i];
        else if (o && joined[o - 1] != ' ')
            o += (size_t)snprintf(joined + o, sizeof(joined) - o, " | ");
    }
    while (o && (joined[o - 1] == ' ' || joined[o - 1] == '|'))
        o--;
    joined[o] = 0;
    snprintf(out, cap, "%s", o >= cap ? joined + o - (cap - 1) : joined);
}

int fc_run_tool(char *const argv[], unsigned timeout_s, char *out, size_t cap)
{
    posix_spawn_file_actions_t fa;
    int mfd = memfd_create("fc-tool", MFD_CLOEXEC), rc = -1, st, late = 0;
    pid_t pid;

    out[0] = 0;
    if (mfd < 0) {
        snprintf(out, cap, "no memfd: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, mfd, 1);
    posix_spawn_file_actions_adddup2(&fa, mfd, 2);
    st = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (st) {
        snprintf(out, cap, "cannot run %s: %s", argv[0], strerror(st));
        goto out;
    }
    st = wait_bounded(pid, timeout_s, &late);
    output_tail(mfd, out, cap);
    if (late) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%sstopped after %u s", len ? " | " : "", timeout_s);
    } else if (st >= 0 && WIFEXITED(st)) {
        rc = WEXITSTATUS(st);
    } else if (st >= 0 && WIFSIGNALED(st)) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%skilled by signal %d", len ? " | " : "", WTERMSIG(st));
    }
out:
    close(mfd);
    return rc;
}
