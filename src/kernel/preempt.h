/*
 * The preemption count: how many reasons this CPU has not to switch tasks
 * right now (a kmap_atomic slot held, later spinlocks and interrupt
 * handlers).  Code that must not sleep or migrate raises it; code that may
 * sleep (kmap, which can wait for a free pkmap entry) checks that it is
 * zero.
 *
 * The count is kept in preempt and nopreempt variants alike, so that the
 * "may not sleep here" checks work everywhere; only preempt variants switch
 * tasks when it drops to zero (kernel/sched.c).
 *
 * The counters are per CPU and touched only by their own CPU.  An interrupt
 * handler that raises the count lowers it again before it returns, so an
 * increment interrupted between its load and its store still ends right.
 * The storage is defined in kernel/sched.c.
 */
#ifndef KERNEL_PREEMPT_H
#define KERNEL_PREEMPT_H
#include "lib/types.h"
#include "arch/fixmap.h" /* NR_CPUS */
#include "arch/smp.h"

extern int __preempt_count[NR_CPUS];

/* 0: this CPU may be preempted (or sleep); more: it is in an atomic section. */
static inline int preempt_count(void)
{
	return __preempt_count[smp_processor_id()];
}

static inline void preempt_disable(void)
{
	__preempt_count[smp_processor_id()]++;
	barrier(); /* the protected section starts after the increment */
}

/* kernel/sched.c: switches now if the tick asked for it meanwhile. */
void preempt_check_resched(void);

static inline void preempt_enable(void)
{
	barrier(); /* ... and ends before the decrement */
	if (--__preempt_count[smp_processor_id()] == 0 && CONFIG_PREEMPT)
		preempt_check_resched();
}

#endif
