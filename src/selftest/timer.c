/* Suite "timer": the PIT really interrupts, at a rate the TSC agrees with. */
#include "selftest/ktest.h"
#include "arch/io.h"
#include "arch/timer.h"
#include "arch/cpu.h"

KTEST(timer, ticks_advance)
{
	u32 start = jiffies;
	u32 spins = 0;

	KT_ASSERT(read_eflags() & (1 << 9)); /* IF: interrupts are on */
	while (jiffies - start < 5 && spins < 1000)
		hlt(), spins++;
	KT_ASSERT_GE(jiffies - start, 5);
	KT_ASSERT_LT(spins, 1000); /* hlt woke up on ticks, not on something else each time */
}

/* The TSC keeps counting across timer ticks (no rate is asserted: under an
 * emulator guest time is not wall time). */
KTEST(timer, tsc_advances_across_ticks)
{
	if (!boot_cpu.tsc)
		KT_SKIP("this CPU has no TSC");
	u64 t0 = rdtsc();
	u32 j = jiffies;
	while (jiffies - j < 2)
		hlt();
	u64 t1 = rdtsc();
	ktest_diag("tsc cycles per 2 ticks: %llu", t1 - t0);
	KT_ASSERT_GT(t1, t0);
}
