/* Progress display. */
#include "common/meter.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define TTY_INTERVAL 0.2
#define PLAIN_INTERVAL 5.0
#define BAR_WIDTH 30

double fc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *fc_human_bytes(uint64_t n, char *buf, unsigned cap)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int u = 0;

    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

void fc_meter_start(struct fc_meter *p, const char *label, uint64_t total, int quiet)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = fc_now();
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->drawn = 0;
}

static void eta_text(double secs, char *buf, unsigned cap)
{
    unsigned s = secs > 0 && secs < 360000 ? (unsigned)secs : 0;

    if (secs <= 0 || secs >= 360000)
        snprintf(buf, cap, "--:--");
    else if (s >= 3600)
        snprintf(buf, cap, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, cap, "%02u:%02u", s / 60, s % 60);
}

static void draw(struct fc_meter *p, uint64_t done, double now, int final)
{
    double el = now - p->t0, rate = el > 0 ? (double)done / el : 0;
    double frac = p->total ? (double)done / (double)p->total : 1;
    char d[16], t[16], r[16], eta[16], bar[BAR_WIDTH + 1];
    int i, fill = (int)(frac * BAR_WIDTH);

    if (frac > 1)
        frac = 1;
    fc_human_bytes(done, d, sizeof(d));
    fc_human_bytes(p->total, t, sizeof(t));
    fc_human_bytes((uint64_t)rate, r, sizeof(r));
    eta_text(rate > 0 ? (double)(p->total - (done < p->total ? done : p->total)) / rate : 0, eta,
             sizeof(eta));
    if (p->tty) {
        for (i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = 0;
        fprintf(stderr, "\r%s [%s] %5.1f%% %s/%s %s/s ETA %s\033[K%s", p->label, bar, frac * 100, d,
                t, r, final ? "done" : eta, final ? "\n" : "");
    } else if (final) {
        fprintf(stderr, "%s: done, %s in %.1f s, %s/s\n", p->label, d, el, r);
    } else {
        fprintf(stderr, "%s: %5.1f%% %s of %s, %s/s, ETA %s\n", p->label, frac * 100, d, t, r, eta);
    }
    fflush(stderr);
    p->drawn = 1;
}

void fc_meter_update(struct fc_meter *p, uint64_t done)
{
    double now;

    if (p->quiet)
        return;
    now = fc_now();
    if (now - p->last < (p->tty ? TTY_INTERVAL : PLAIN_INTERVAL))
        return;
    p->last = now;
    draw(p, done, now, 0);
}

void fc_meter_end(struct fc_meter *p, uint64_t done)
{
    if (p->quiet)
        return;
    draw(p, done, fc_now(), 1);
}
