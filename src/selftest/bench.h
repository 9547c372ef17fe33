/*
 * Benchmarks: functions registered with KBENCH(name) into the .benches
 * section, run after the tests when the kernel command line says `bench`.
 * Each prints its results as one or more lines
 *   # bench: {"name": "...", ...}
 * through bench_report().  Costs are guest cycles (rdtsc): deterministic under
 * Bochs with clock: sync=none, and labelled "cycles" so nobody takes them for
 * time.  Benchmarks assert nothing; tests do.
 */
#ifndef SELFTEST_BENCH_H
#define SELFTEST_BENCH_H
#include "lib/types.h"

struct kbench {
	const char *name;
	void (*fn)(void);
};

#define KBENCH(name)                                                            \
	static void kbench_##name(void);                                        \
	static const struct kbench kbench_desc_##name                           \
		__attribute__((used, section(".benches"), aligned(4))) = {      \
			#name, kbench_##name };                                 \
	static void kbench_##name(void)

/* Prints `# bench: {"name": "<bench>", <fields>}`; fields is JSON members
 * without braces, e.g. "\"order\": %u, \"cycles\": %llu". */
void bench_report(const char *fields, ...) __printf(1, 2);
/* Runs every benchmark whose name matches the globs ("" = all). */
int bench_run_all(const char *globs);

#endif
