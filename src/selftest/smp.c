/*
 * Suite "smp": the application processors the firmware lists came up, each
 * with its own APIC ID, and each answers an inter-processor interrupt; kernel
 * threads run on every CPU; each AP's local APIC timer ticks; a TLB flush
 * reaches the CPU that has the mm loaded, and a lazy CPU leaves the mm.
 */
#include "selftest/ktest.h"
#include "arch/apic.h"
#include "arch/io.h"
#include "arch/smpboot.h"
#include "arch/timer.h"
#include "arch/spinlock.h"
#include "arch/tlbflush.h"
#include "kernel/preempt.h"
#include "kernel/task.h"
#include "mm/memory.h"
#include "mm/mm.h"
#include "selftest/smp_helpers.h"

KTEST(smp, every_listed_cpu_online)
{
	if (!CONFIG_SMP)
		KT_SKIP("uniprocessor variant");
	ktest_diag("%u CPUs listed (%s), %u online", smp_info.listed, smp_info.source, smp_info.online);
	KT_ASSERT_GE(smp_info.listed, 1);
	KT_ASSERT_EQ(smp_info.online, smp_info.listed);
	KT_ASSERT_EQ(smp_processor_id(), 0); /* the tests run on the boot CPU */
	for (u32 i = 0; i < smp_info.listed; i++)
		for (u32 j = i + 1; j < smp_info.listed; j++)
			KT_ASSERT_NE(smp_info.apic_id[i], smp_info.apic_id[j]);
}

/* A fixed IPI to each AP runs its handler there, and only there. */
KTEST(smp, ipi_reaches_every_cpu)
{
	if (!CONFIG_SMP || smp_info.online < 2)
		KT_SKIP(CONFIG_SMP ? "one CPU in this machine (boot with CPUS=2)" : "uniprocessor variant");
	for (u32 cpu = 1; cpu < smp_info.online; cpu++) {
		u32 before[NR_CPUS];
		for (u32 c = 0; c < smp_info.online; c++)
			before[c] = smp_info.ipi_count[c];
		KT_ASSERT(smp_send_test_ipi(cpu));
		u32 start = jiffies;
		while (smp_info.ipi_count[cpu] == before[cpu] && jiffies - start < 50)
			hlt();
		KT_ASSERT_EQ(smp_info.ipi_count[cpu], before[cpu] + 1);
		for (u32 c = 0; c < smp_info.online; c++)
			if (c != cpu)
				KT_ASSERT_EQ(smp_info.ipi_count[c], before[c]);
	}
}

/* ---- scheduling on every CPU, local APIC timers, shootdowns, lazy TLB ---- */

static struct mm_struct *helper_mm;
static volatile u32 helpers_ready, helpers_stop;

static int helper_fn(void *arg)
{
	preempt_disable();
	switch_mm(NULL, helper_mm);
	current->active_mm = helper_mm;
	preempt_enable();
	atomic_xadd(&helpers_ready, 1);
	unlock_kernel(); /* spins without it: task 0 works meanwhile */
	while (!helpers_stop)
		cpu_relax();
	lock_kernel();
	return 0;
}

bool helpers_start(struct mm_struct *mm, u32 k)
{
	helper_mm = mm;
	helpers_ready = helpers_stop = 0;
	for (u32 cpu = 1; cpu <= k; cpu++)
		if (!kthread_create_on("tlb-helper", helper_fn, NULL, (int)cpu))
			return false;
	u32 start = jiffies;
	while (helpers_ready < k && jiffies - start < 5 * HZ)
		yield();
	return helpers_ready == k;
}

void helpers_stop_all(void)
{
	helpers_stop = 1;
	while (do_wait(NULL) > 0)
		;
}

#define NEED_CPUS(n)                                                                      \
	do {                                                                              \
		if (!CONFIG_SMP || smp_info.online < (n))                                 \
			KT_SKIP(CONFIG_SMP ? "too few CPUs online (boot with CPUS=2 or more)" \
					   : "uniprocessor variant");                     \
	} while (0)

static volatile u32 ran_on;

static int where_fn(void *arg)
{
	u32 all = (1u << smp_info.online) - 1;
	for (int i = 0; i < 200 && ran_on != all; i++) {
		atomic_or(&ran_on, 1u << smp_processor_id());
		yield();
	}
	return 0;
}

/* Kernel threads that may run anywhere end up on every CPU (one run queue). */
KTEST(smp, threads_run_on_every_cpu)
{
	NEED_CPUS(2);
	u32 all = (1u << smp_info.online) - 1;
	ran_on = 0;
	for (int round = 0; round < 20 && ran_on != all; round++) {
		int n = 0;
		for (u32 i = 0; i < 2 * smp_info.online; i++)
			n += kthread_create("where", where_fn, NULL) != NULL;
		KT_ASSERT_EQ(n, (int)(2 * smp_info.online));
		while (do_wait(NULL) > 0)
			;
	}
	ktest_diag("threads ran on CPUs 0x%x of 0x%x; %u migrations so far", ran_on, all,
		   sched_stats.migrations);
	KT_EXPECT_EQ(ran_on, all);
}

/* Each AP's local APIC timer ticks at about HZ (calibrated against the PIT). */
KTEST(smp, apic_timer_ticks_on_every_ap)
{
	NEED_CPUS(2);
	u32 before[NR_CPUS], start = jiffies;
	for (u32 c = 0; c < smp_info.online; c++)
		before[c] = sched_stats.apic_ticks[c];
	while (jiffies - start < 20)
		yield();
	u32 elapsed = jiffies - start;
	ktest_diag("%u APIC timer counts per tick", apic_timer_count_per_tick);
	for (u32 c = 1; c < smp_info.online; c++) {
		u32 ticks = sched_stats.apic_ticks[c] - before[c];
		ktest_diag("CPU %u: %u local timer ticks in %u PIT ticks", c, ticks, elapsed);
		KT_EXPECT_GE(ticks, elapsed / 2);
		KT_EXPECT_LE(ticks, elapsed * 2 + 2);
	}
}

/*
 * A flush of an mm reaches the CPU that has it loaded: with the flush
 * policy it stays in the mm's cpu_mask and acknowledges every request; with
 * lazy leaving it leaves at the first one (kernel tables loaded, out of the
 * mask) and later flushes send no IPI at all.
 */
KTEST(smp, shootdown_and_lazy_leave)
{
	NEED_CPUS(2);
	struct mm_struct *mm = mm_alloc();
	KT_ASSERT(mm != NULL);
	tlb_lazy_policy_flush = true;
	bool started = helpers_start(mm, 1);
	u32 in_mask = mm->cpu_mask & 2;
	struct tlb_stats s0 = tlb_stats;
	for (int i = 0; i < 5; i++)
		flush_tlb_page(mm, 0x40000000u);
	struct tlb_stats s1 = tlb_stats;
	tlb_lazy_policy_flush = false;
	flush_tlb_page(mm, 0x40000000u);
	flush_tlb_page(mm, 0x40000000u);
	struct tlb_stats s2 = tlb_stats;
	bool left = !(mm->cpu_mask & 2) && current_mm_of_cpu[1] != mm;
	helpers_stop_all();
	mmput(mm);

	KT_ASSERT(started);
	KT_EXPECT(in_mask);
	KT_EXPECT_EQ(s1.ipis - s0.ipis, 5);
	KT_EXPECT_EQ(s1.received[1] - s0.received[1], 5);
	KT_EXPECT_EQ(s2.ipis - s1.ipis, 1);            /* the first: the CPU leaves */
	KT_EXPECT_EQ(s2.lazy_leaves - s1.lazy_leaves, 1);
	KT_EXPECT(left);
}
