/*
 * printk: formatted messages to every console (COM1, port 0xE9, VGA).
 * A message carries a level; it is shown when its level is at most the
 * kernel command line's loglevel (default 6: everything but debug).
 */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H
#include "lib/types.h"

enum { LOG_EMERG = 0, LOG_ERR = 3, LOG_WARN = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };
#define LOGLEVEL_DEFAULT LOG_INFO

extern int console_loglevel;

/* Unconditional output (KTAP lines, the summary, panics). */
void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);
/* Output at a level, filtered by console_loglevel. */
void printk_level(int level, const char *fmt, ...) __printf(2, 3);

#define pr_err(...) printk_level(LOG_ERR, "error: " __VA_ARGS__)
#define pr_warn(...) printk_level(LOG_WARN, "warning: " __VA_ARGS__)
#define pr_notice(...) printk_level(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) printk_level(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk_level(LOG_DEBUG, __VA_ARGS__)

/*
 * Capture: while a capture buffer is set, console output goes to it instead
 * of the consoles (the selftests check what printk produced).
 */
void printk_capture_start(char *buf, size_t size);
size_t printk_capture_stop(void);

#endif
