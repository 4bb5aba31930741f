/* Progress of long work on stderr: a bar redrawn in place with rate and ETA
 * on a terminal, a plain line every few seconds otherwise (logs, CI), and
 * nothing with quiet. Called from one thread only. */
#ifndef FC_PROGRESS_H
#define FC_PROGRESS_H

#include <stdint.h>

struct fc_progress {
    const char *label;
    uint64_t total;
    double t0;
    double last;
    int tty;
    int quiet;
    int drawn;
};

double fc_now(void); /* monotonic seconds */
void fc_progress_start(struct fc_progress *p, const char *label, uint64_t total, int quiet);
void fc_progress_update(struct fc_progress *p, uint64_t done);
void fc_progress_end(struct fc_progress *p, uint64_t done);
/* "1.5 GiB" style; buf of at least 16 bytes. */
const char *fc_human_bytes(uint64_t n, char *buf, unsigned cap);

#endif
