/*
 * SMP benchmarks (`make bench CPUS=4 VARIANT=<an smp variant>`):
 *
 *   smp_shootdown      cycles for flush_tlb_page of an mm that k other CPUs
 *                      have loaded, k = 0 .. online - 1 (IPI, the remote
 *                      INVLPG, every acknowledgment);
 *   smp_munmap_ipis    IPIs and shootdowns per munmap of N pages while the
 *                      other CPUs run in the mm;
 *   smp_lazy_tlb       flush IPIs for a series of munmaps while the other
 *                      CPUs hold the mm lazily (kernel threads on a borrowed
 *                      mm), when lazy CPUs leave the mm at the first flush
 *                      (the kernel's policy) and when they flush and stay
 *                      (tlb_lazy_policy_flush): the difference is what
 *                      lazy leaving saves.
 *   smp_mm_calls       scaling of a memory-call-heavy load: 1, 2, 4 ring-3
 *                      tasks (at most one per CPU) each doing MM_CALL_ROUNDS
 *                      rounds of mmap + touch 4 pages + munmap
 *                      (src/user/mm_calls.c mm_churn), total cycles from the
 *                      first start to the last exit and cycles per round,
 *                      with the memory calls under the kernel lock
 *                      (mm_calls_lockless off: as before stage 3) and
 *                      without it.
 *
 * The "other CPUs" are kernel threads pinned one per AP that load the mm,
 * let the kernel lock go and spin with interrupts on until told to stop.
 */
#include "selftest/bench.h"
#include "selftest/ktest.h"
#include "selftest/smp_helpers.h"
#include "selftest/urun.h"
#include "kernel/syscall.h"
#include "arch/io.h"
#include "arch/smpboot.h"
#include "arch/spinlock.h"
#include "arch/timer.h"
#include "arch/tlbflush.h"
#include "arch/uaccess.h"
#include "kernel/preempt.h"
#include "kernel/task.h"
#include "mm/memory.h"
#include "mm/mm.h"

#define FLUSH_ITERS 200u
#define MUNMAP_MAX_PAGES 64u
#define LAZY_MUNMAPS 32u
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* An mm with n pages mapped and present at *a (populated from this CPU). */
static struct mm_struct *populated_mm(u32 n, u32 *a)
{
	struct mm_struct *mm = mm_alloc();
	if (!mm)
		return NULL;
	s32 r = do_mmap(mm, 0, n * MMUPAGE_SIZE, RW, ANON);
	if (r < 0) {
		mmput(mm);
		return NULL;
	}
	*a = (u32)r;
	preempt_disable();
	switch_mm(NULL, mm);
	for (u32 i = 0; i < n; i++) {
		u32 v = i;
		copy_to_user(*a + i * MMUPAGE_SIZE, &v, 4);
	}
	switch_mm(mm, NULL);
	preempt_enable();
	return mm;
}

static u32 online(void)
{
	return CONFIG_SMP ? smp_info.online : 1;
}

KBENCH(smp_shootdown)
{
	u32 a;
	struct mm_struct *mm = populated_mm(1, &a);

	if (!mm)
		return;
	tlb_lazy_policy_flush = true; /* the helpers flush and stay */
	for (u32 k = 0; k < online(); k++) {
		if (!helpers_start(mm, k)) {
			helpers_stop_all();
			break;
		}
		struct tlb_stats s0 = tlb_stats;
		u32 flags = local_irq_save();
		u64 t0 = rdtsc();
		for (u32 i = 0; i < FLUSH_ITERS; i++)
			flush_tlb_page(mm, a);
		u64 cycles = rdtsc() - t0;
		local_irq_restore(flags);
		bench_report("\"cpus_online\": %u, \"target_cpus\": %u, \"flushes\": %u, "
			     "\"ipis\": %u, \"cycles_per_flush_page\": %llu",
			     online(), k, FLUSH_ITERS, tlb_stats.ipis - s0.ipis, cycles / FLUSH_ITERS);
		helpers_stop_all();
	}
	tlb_lazy_policy_flush = false;
	mmput(mm);
}

KBENCH(smp_munmap_ipis)
{
	static const u32 sizes[] = { 1, 4, 16, MUNMAP_MAX_PAGES };

	for (u32 i = 0; i < ARRAY_SIZE(sizes); i++) {
		u32 a, n = sizes[i];
		struct mm_struct *mm = populated_mm(n, &a);
		if (!mm)
			return;
		tlb_lazy_policy_flush = true;
		if (helpers_start(mm, online() - 1)) {
			struct tlb_stats s0 = tlb_stats;
			u64 t0 = rdtsc();
			do_munmap(mm, a, n * MMUPAGE_SIZE);
			u64 cycles = rdtsc() - t0;
			bench_report("\"cpus_online\": %u, \"pages\": %u, \"shootdowns\": %u, "
				     "\"ipis\": %u, \"cycles\": %llu",
				     online(), n, tlb_stats.shootdowns - s0.shootdowns,
				     tlb_stats.ipis - s0.ipis, cycles);
		}
		helpers_stop_all();
		tlb_lazy_policy_flush = false;
		mmput(mm);
	}
}

/* IPIs for LAZY_MUNMAPS one-page munmaps with the other CPUs lazy in mm. */
static u32 lazy_run(bool flush_policy, u32 *leaves)
{
	u32 a;
	struct mm_struct *mm = populated_mm(LAZY_MUNMAPS, &a);
	u32 ipis = 0;

	if (!mm)
		return 0;
	tlb_lazy_policy_flush = flush_policy;
	if (helpers_start(mm, online() - 1)) {
		struct tlb_stats s0 = tlb_stats;
		for (u32 i = 0; i < LAZY_MUNMAPS; i++)
			do_munmap(mm, a + i * MMUPAGE_SIZE, MMUPAGE_SIZE);
		ipis = tlb_stats.ipis - s0.ipis;
		*leaves = tlb_stats.lazy_leaves - s0.lazy_leaves;
	}
	helpers_stop_all();
	tlb_lazy_policy_flush = false;
	mmput(mm);
	return ipis;
}

KBENCH(smp_lazy_tlb)
{
	u32 leaves = 0, unused = 0;
	u32 with_leave = lazy_run(false, &leaves);
	u32 with_flush = lazy_run(true, &unused);

	bench_report("\"cpus_online\": %u, \"munmaps\": %u, \"ipis_lazy_leave\": %u, "
		     "\"ipis_lazy_flush\": %u, \"shootdown_ipis_avoided\": %u, \"lazy_leaves\": %u",
		     online(), LAZY_MUNMAPS, with_leave, with_flush,
		     with_flush > with_leave ? with_flush - with_leave : 0, leaves);
}

#define MM_CALL_ROUNDS 200u

/* n mm_churn tasks at once; guest cycles until the last one exited. */
static u64 mm_calls_run(u32 n, bool *ok, u32 *unlocked)
{
	int pids[4];
	struct mm_call_stats m0 = mm_call_stats;
	u64 t0 = rdtsc();

	for (u32 i = 0; i < n; i++)
		pids[i] = urun_start("mm_churn", MM_CALL_ROUNDS);
	for (u32 i = 0; i < n; i++)
		*ok &= pids[i] > 0;
	for (u32 i = 0; i < n; i++) { /* in whatever order they exit */
		int code, got = do_wait(&code);
		*ok &= got > 0 && code == 0;
	}
	u64 cycles = rdtsc() - t0;
	*unlocked = mm_call_stats.unlocked - m0.unlocked;
	return cycles;
}

KBENCH(smp_mm_calls)
{
	static const u32 tasks[] = { 1, 2, 4 };
	bool saved = mm_calls_lockless;

	for (int lockless = 0; lockless < 2; lockless++) {
		mm_calls_lockless = lockless;
		for (u32 i = 0; i < ARRAY_SIZE(tasks) && tasks[i] <= online(); i++) {
			bool ok = true;
			u32 unlocked = 0, n = tasks[i];
			u64 cycles = mm_calls_run(n, &ok, &unlocked);
			if (!ok) {
				ktest_diag("smp_mm_calls: a task failed");
				break;
			}
			bench_report("\"cpus_online\": %u, \"kernel_lock\": %s, \"tasks\": %u, "
				     "\"rounds_per_task\": %u, \"cycles\": %llu, \"cycles_per_round\": %llu, "
				     "\"calls_without_kernel_lock\": %u",
				     online(), lockless ? "false" : "true", n, MM_CALL_ROUNDS, cycles,
				     cycles / (n * MM_CALL_ROUNDS), unlocked);
		}
	}
	mm_calls_lockless = saved;
}
