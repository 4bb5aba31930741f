/* One line per event on stderr: "fleetcast: LEVEL: [context] message".
 * Programs set a program name and an optional context (session/machine)
 * once; the rest of the code only calls the macros. */
#ifndef FC_LOG_H
#define FC_LOG_H

enum fc_log_level { FC_LOG_DEBUG, FC_LOG_INFO, FC_LOG_WARN, FC_LOG_ERROR };

void fc_log_init(const char *progname, enum fc_log_level min_level);
void fc_log_set_level(enum fc_log_level min_level);
/* From now on each line carries the seconds since this call, as the kernel's
 * log does ("prog: [   12.345] info: ..."): a receiver's steps on a PXE
 * console or in a test log can then be timed. Call before any thread exists. */
void fc_log_show_elapsed(void);
void fc_log(enum fc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Error lines logged so far: a program prints its own summary error line
 * only when nothing more precise was said already. */
unsigned fc_log_error_count(void);

#define fc_debug(...) fc_log(FC_LOG_DEBUG, __VA_ARGS__)
#define fc_info(...) fc_log(FC_LOG_INFO, __VA_ARGS__)
#define fc_warn(...) fc_log(FC_LOG_WARN, __VA_ARGS__)
#define fc_error(...) fc_log(FC_LOG_ERROR, __VA_ARGS__)

#endif
