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
	INJECT_LOCK_ORDER, /* a slab cache's lock under a zone's: the lock-order check (mm/mm_locks.h) */
};

/* swap=: which swap device (mm/swap.h); auto: a swap disk, else HighMem, else none. */
enum swap_mode {
	SWAP_AUTO,
	SWAP_ATA,     /* an ATA disk with the swap signature */
	SWAP_HIGHMEM, /* an area of HighMem */
	SWAP_NONE,
};

/*
 * model_bug=: one rule the paging conformance suite's software model breaks
 * on purpose (selftest/paging_model.h, enum pm_bug, same values), so that
 * make check can require the suite to fail.
 */
enum model_bug {
	MODEL_BUG_NONE,
	MODEL_BUG_WP,     /* CR0.WP ignored */
	MODEL_BUG_USER,   /* U/S from the leaf entry only */
	MODEL_BUG_DIRTY,  /* D set on reads too */
	MODEL_BUG_RSVD,   /* reserved bits never fault */
	MODEL_BUG_GLOBAL, /* MOV to CR3 drops global translations */
};

#define CMDLINE_TESTS_MAX 256
#define CMDLINE_SWAP_MIB_MAX 65536u
#define CMDLINE_STRESS_MAX 100000000u

struct boot_options {
	char tests[CMDLINE_TESTS_MAX]; /* comma-separated globs; "" = all */
	bool bench;                    /* run the benchmarks */
	int loglevel;                  /* 0..7 */
	enum inject inject;
	enum swap_mode swap;           /* swap=ata|highmem|none (default auto) */
	u32 swap_mib;                  /* swap_mib=N: size limit in MiB; 0 = the device's default */
	bool seed_set;                 /* seed=N was given: the stress suite's seed */
	u32 seed;
	u32 stress_steps;              /* stress=N: the stress suite's steps; 0 = its default */
	u32 swap_stress;               /* swap_stress=N: swap-outs swap.swap_out_stress makes; 0 = skip it */
	enum model_bug model_bug;      /* model_bug=: the conformance model's deliberate bug */
	bool audit;                    /* audit: the TLB audit points may stop at the debugger */
	bool quick;                    /* quick: conformance.access_rights and swap.reclaim_pressure sample */
};

/* The options of this boot (kernel/main.c parses them into it). */
extern struct boot_options boot_opts;

/*
 * Parses cmdline into opts (defaults first).  On bad input returns false and
 * writes one message naming the offending word into err.
 */
bool cmdline_parse(const char *cmdline, struct boot_options *opts, char *err, size_t errlen);

#endif
