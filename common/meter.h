/* Progress of long work on stderr: a bar redrawn in place with rate and ETA
 * on a terminal, a plain line every few seconds otherwise (logs, CI), and
 * nothing with quiet. Called from one thread only. */
#ifndef FC_METER_H
#define FC_METER_H

#include <stdint.h>

struct fc_meter {
    const char *label;
    uint64_t total;
    double t0;
    double last;
    int tty;
    int quiet;
    int drawn;
};

double fc_now(void); /* monotonic seconds */
void fc_meter_start(struct fc_meter *p, const char *label, uint64_t total, int quiet);
void fc_meter_update(struct fc_meter *p, uint64_t done);
void fc_meter_end(struct fc_meter *p, uint64_t done);
/* "1.5 GiB" style; buf of at least 16 bytes. */
const char *fc_human_bytes(uint64_t n, char *buf, unsigned cap);

#endif
