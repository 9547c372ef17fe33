/*
 * The kernel command line (documented in README, "Kernel command line").
 * Words are separated by spaces.  The first word is skipped when it is the
 * kernel's file name (Multiboot loaders put it there: it contains '/' or ends
 * in ".elf").
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H
#include "lib/types.h"

enum inject {
	INJECT_NONE,
	INJECT_FAIL,   /* a failing test joins the run */
	INJECT_HANG,   /* spin forever with interrupts off */
	INJECT_PANIC,  /* NULL dereference outside any fixup */
	INJECT_TRIPLE, /* empty IDT, then an exception */
	INJECT_OVERFLOW, /* unbounded recursion: the stack guard page, a double fault */
	INJECT_DOUBLE_FREE, /* a page freed twice: the page allocator's debug check */
};

#define CMDLINE_TESTS_MAX 256

struct boot_options {
	char tests[CMDLINE_TESTS_MAX]; /* comma-separated globs; "" = all */
	bool bench;                    /* run the benchmarks */
	int loglevel;                  /* 0..7 */
	enum inject inject;
};

/*
 * Parses cmdline into opts (defaults first).  On bad input returns false and
 * writes one message naming the offending word into err.
 */
bool cmdline_parse(const char *cmdline, struct boot_options *opts, char *err, size_t errlen);

#endif
