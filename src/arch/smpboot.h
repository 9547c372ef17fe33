/*
 * Starting the application processors: the firmware's MP table lists the
 * CPUs (Intel MultiProcessor Specification 1.4, chapter 4); each AP gets
 * INIT, STARTUP, STARTUP (SDM vol. 3 8.4.4) and runs the trampoline into
 * ap_entry, which brings it online, waits for smp_init to finish, starts its
 * local APIC timer and enters its idle task (kernel/sched.c), which runs
 * tasks from the shared run queue.
 */
#ifndef ARCH_SMPBOOT_H
#define ARCH_SMPBOOT_H
#include "lib/types.h"
#include "arch/smp.h"

struct smp_info {
	u32 listed;          /* CPUs the firmware lists (enabled ones) */
	volatile u32 online; /* CPUs running, the boot CPU included */
	u8 apic_id[NR_CPUS]; /* by CPU number */
	const char *source;  /* "MP table", or why there is none */
	volatile u32 ipi_count[NR_CPUS]; /* VEC_IPI_TEST interrupts taken, per CPU */
};
extern struct smp_info smp_info;

/* Starts every listed AP (SMP variants); prints `# cpus: listed=N online=M`. */
void smp_init(void);
/* Panics: halts every other online CPU (interrupts off), so that only the
 * panicking one prints and exits. */
void smp_stop_others(void);
/* Sends VEC_IPI_TEST to CPU cpu; false if the IPI could not be sent. */
bool smp_send_test_ipi(int cpu);

#endif
