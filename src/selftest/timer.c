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

/* Ten ticks take about 100 ms: the TSC advances by a consistent amount per tick. */
KTEST(timer, tsc_per_tick_consistent)
{
	if (!boot_cpu.tsc)
		KT_SKIP("this CPU has no TSC");
	u32 j = jiffies;
	while (jiffies == j)
		hlt();
	u64 t0 = rdtsc();
	j = jiffies;
	while (jiffies - j < 5)
		hlt();
	u64 t1 = rdtsc();
	j = jiffies;
	while (jiffies - j < 5)
		hlt();
	u64 t2 = rdtsc();
	u64 a = t1 - t0, b = t2 - t1;
	ktest_diag("tsc cycles per 5 ticks: %llu, %llu", a, b);
	KT_ASSERT_GT(a, 0);
	/* The two halves agree within 10%. */
	KT_ASSERT_LT(a > b ? a - b : b - a, a / 10 + 1);
}
