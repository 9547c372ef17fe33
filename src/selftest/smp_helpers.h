/* Kernel threads that hold an mm loaded on other CPUs (suite smp, bench_smp). */
#ifndef SELFTEST_SMP_HELPERS_H
#define SELFTEST_SMP_HELPERS_H
#include "lib/types.h"

struct mm_struct;

/* k threads, pinned to CPUs 1..k, load mm (borrowing it, as a lazy kernel
 * thread would), let the kernel lock go and spin with interrupts on until
 * helpers_stop_all.  False if they did not all start within 5 s. */
bool helpers_start(struct mm_struct *mm, u32 k);
/* Ends them and reaps them (and any other child of the caller). */
void helpers_stop_all(void);

#endif
