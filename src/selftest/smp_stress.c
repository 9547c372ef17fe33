/*
 * Suite "smp_stress": reclaim on one CPU against ring-3 readers on all the
 * others, with content checks that catch a read through a stale TLB entry.
 *
 * 2 x online-CPUs readers (src/user/smp_stress.c) stamp, check, munmap,
 * remap, fork and yield on every CPU; the kernel (task 0, CPU 0) meanwhile
 * picks a reader (one running on another CPU at that moment if there is
 * one) and one of its pages at random, pages that cluster out
 * with swap_out_page -- try_to_unmap clears the PTEs of every mm mapping it
 * and shoots the translations down on every CPU in the mm's cpu_mask --
 * drops it, and at once takes the freed frame back from its CPU's hot list
 * and fills it with poison, holding the last POISON_HELD such frames.  A
 * reader on another CPU that still translated the page to that frame would
 * read poison instead of its stamp and fail its check; a lazy CPU that kept
 * a reader's mm after an munmap elsewhere would hand it the old frame when
 * the reader comes back (no CR3 load), and so fail it too.
 *
 * The checks that make the run meaningful: some pages were paged out while
 * their reader was running on another CPU (live), the poisoned frames were
 * the freed ones (reused), readers ran on more than one CPU, and (unless the
 * build is BREAK=shootdown) shootdowns were sent; in anon_vma builds, the
 * readers' faults ran in the kernel on several CPUs at once (without the
 * kernel lock: fault_stats.concurrent counts faults that found another CPU
 * inside handle_mm_fault's mm lock at the same time), and their munmap and
 * mmap calls ran without the kernel lock, some beside another CPU's fault
 * or call (mm_call_stats).  make BREAK=shootdown
 * builds a kernel without the IPIs: this suite must then fail (ci/check.py).
 *
 * Needs two online CPUs and a swap device (swap=highmem is the default when
 * the machine has HighMem).  stress=N sets the page-out attempts (default
 * 20; make check also runs 200 under QEMU); seed=N the random choices.  Then the kernel writes the readers'
 * stop words (SR_CTRL) and collects them.
 */
#include "selftest/ktest.h"
#include "selftest/urun.h"
#include "arch/smpboot.h"
#include "arch/spinlock.h"
#include "arch/tlbflush.h"
#include "kernel/cmdline.h"
#include "kernel/preempt.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "lib/string.h"
#include "mm/highmem.h"
#include "mm/memory.h"
#include "mm/page_alloc.h"
#include "mm/rmap.h"
#include "mm/swap.h"
#include "mm/vmscan.h"
#include "user/smp_stress.h"

#define MAX_READERS (2 * NR_CPUS)
#define POISON_HELD 8
#define READER_ROUNDS 0 /* no limit: readers run until the kernel stops them, so
			  * none can finish before the page-outs begin */
#define READER_FORK_DEPTH 2
#define LIVE_TRIES 20 /* handoffs waiting for a reader to run on another CPU */

static u32 rng;

static u32 next_rand(void)
{
	rng ^= rng << 13; /* xorshift32 */
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void poison(struct page *page)
{
	for (u32 f = 0; f < PAGE_MMUCOUNT; f++) {
		u32 *va = kmap_atomic_frame(page_to_frame(page) + f, KM_USER0);
		for (u32 i = 0; i < MMUPAGE_SIZE / 4; i++)
			va[i] = SR_POISON | i;
		kunmap_atomic(va, KM_USER0);
	}
}

static bool alive(int pid)
{
	struct task *t = find_task(pid);
	return t && t->state != TASK_ZOMBIE && t->mm;
}

/* Writes 1 into the reader's stop word (its frame, through a kmap slot). */
static void stop_reader(int pid)
{
	struct task *t = find_task(pid);

	if (!t || t->state == TASK_ZOMBIE || !t->mm)
		return;
	preempt_disable();
	/* The mm lock: the reader's munmap runs without the kernel lock. */
	u32 flags = mm_lock_mm(t->mm);
	u64 frame = user_pte_frame(t->mm, SR_CTRL, NULL);
	if (frame) {
		volatile u32 *va = kmap_atomic_frame(frame, KM_USER0);
		*va = 1;
		kunmap_atomic((void *)va, KM_USER0);
	}
	mm_unlock_mm(t->mm, flags);
	preempt_enable();
}

/* Lets the kernel lock go for a moment: readers spinning for it in their
 * faults hold older tickets, so the FIFO ticket lock serves them before
 * this CPU gets it back, without this CPU switching tasks.  The short spin
 * is only time for other CPUs to move; a long one is slow under QEMU's
 * single-threaded TCG, where each PAUSE hands the host thread to another
 * vCPU (2000 of them per handoff made a 2-CPU run take minutes a step). */
static void handoff(void)
{
	unlock_kernel();
	for (int i = 0; i < 32; i++)
		cpu_relax();
	lock_kernel();
}

struct run_counts {
	u32 attempts, paged_out, live, reused, cpus_seen;
};

/* One page-out of a random reader's random page; the freed frame poisoned. */
static void page_out_one(const int *pids, int n, struct page **held, u32 *nheld,
			 struct run_counts *c)
{
	/* Prefer a reader that runs on another CPU right now: its TLB is live.
	 * Letting the kernel lock go gives them a chance to. */
	int live_pids[MAX_READERS], nl = 0;
	for (int tries = 0; tries < LIVE_TRIES && !nl; tries++) {
		if (tries)
			handoff();
		for (int i = 0; i < n; i++) {
			struct task *r = find_task(pids[i]);
			if (r && r->state != TASK_ZOMBIE && r->mm && r->cpu != smp_processor_id() &&
			    current_task[r->cpu] == r)
				live_pids[nl++] = pids[i];
		}
	}
	struct task *t = find_task(nl ? live_pids[next_rand() % nl] : pids[next_rand() % n]);
	u32 addr = SR_BASE + (next_rand() % SR_PAGES) * MMUPAGE_SIZE;

	if (!t || t->state == TASK_ZOMBIE || !t->mm)
		return;
	c->attempts++;
	c->cpus_seen |= t->cpus_ran;
	preempt_disable();
	/* The frame and a reference to it under the reader's mm lock: its munmap
	 * (no kernel lock) may free the cluster at any other moment. */
	u32 flags = mm_lock_mm(t->mm);
	u64 frame = user_pte_frame(t->mm, addr, NULL);
	if (frame)
		get_page(frame_to_page(frame));
	mm_unlock_mm(t->mm, flags);
	if (frame) {
		struct page *page = frame_to_page(frame);
		/* Running in ring 3 on another CPU right now: its TLB may hold addr. */
		bool live = t->cpu != smp_processor_id() && current_task[t->cpu] == t;
		int r = swap_out_page(page);
		put_page(page); /* freed when the page-out worked */
		if (r == 0) {
			c->paged_out++;
			c->live += live;
			struct page *np = alloc_page(GFP_HIGHUSER);
			if (np) {
				c->reused += np == page;
				poison(np);
				if (*nheld == POISON_HELD) {
					__free_page(held[0]);
					memmove(held, held + 1, sizeof(*held) * (POISON_HELD - 1));
					(*nheld)--;
				}
				held[(*nheld)++] = np;
			}
		}
	}
	preempt_enable();
}

KTEST(smp_stress, reclaim_against_readers_on_every_cpu)
{
	int pids[MAX_READERS], n = 0;
	struct page *held[POISON_HELD];
	u32 nheld = 0, steps = boot_opts.stress_steps ? boot_opts.stress_steps : 20;
	struct run_counts c = { 0 };

	if (!CONFIG_SMP || smp_info.online < 2)
		KT_SKIP(CONFIG_SMP ? "one CPU online (boot with CPUS=2 or more)" : "uniprocessor variant");
	if (!swap_active())
		KT_SKIP(swap_absent_reason());
	rng = boot_opts.seed_set && boot_opts.seed ? boot_opts.seed : 0x2545f491u;
	ktest_diag("seed 0x%08x, %u page-out attempts, %u CPUs", rng, steps, smp_info.online);
	user_test_reset();
	struct tlb_stats t0 = tlb_stats;
	struct fault_stats f0 = fault_stats;
	struct mm_call_stats m0 = mm_call_stats;
	for (u32 i = 0; i < 2 * smp_info.online && n < MAX_READERS; i++) {
		int pid = urun_start("smp_reader", READER_ROUNDS | READER_FORK_DEPTH << 16);
		if (pid > 0)
			pids[n++] = pid;
	}
	KT_ASSERT_GE(n, 2);
	for (u32 s = 0; s < steps; s++) {
		bool any = false;
		for (int i = 0; i < n; i++)
			any |= alive(pids[i]);
		if (!any)
			break;
		page_out_one(pids, n, held, &nheld, &c);
		if (s % 4 == 3)
			yield(); /* readers take turns on this CPU too */
		else
			handoff();
	}
	for (int i = 0; i < n; i++) {
		struct task *t = find_task(pids[i]);
		if (t)
			c.cpus_seen |= t->cpus_ran;
	}
	/* Until every reader has seen its stop word: one that has not run yet
	 * has no stop word to write (it maps it first thing). */
	for (bool any = true; any;) {
		any = false;
		for (int i = 0; i < n; i++) {
			if (alive(pids[i])) {
				stop_reader(pids[i]);
				any = true;
			}
		}
		if (any) {
			handoff(); /* readers in a system call need the kernel lock */
			yield();
		}
	}
	int failed = 0, code, got;
	while ((got = do_wait(&code)) > 0)
		for (int i = 0; i < n; i++)
			failed += got == pids[i] && code != 0;
	while (nheld)
		__free_page(held[--nheld]);
	u32 cpus = 0;
	for (u32 m = c.cpus_seen; m; m &= m - 1)
		cpus++;
	ktest_diag("%u attempts, %u paged out (%u live on another CPU), %u frames reused at once, "
		   "readers seen on %u CPUs; %u shootdowns, %u IPIs, %u lazy leaves",
		   c.attempts, c.paged_out, c.live, c.reused, cpus, tlb_stats.shootdowns - t0.shootdowns,
		   tlb_stats.ipis - t0.ipis, tlb_stats.lazy_leaves - t0.lazy_leaves);
	u32 unlocked = fault_stats.unlocked - f0.unlocked;
	u32 concurrent = fault_stats.concurrent - f0.concurrent;
	u32 beside = fault_stats.beside_kernel_lock - f0.beside_kernel_lock;
	ktest_diag("faults: %u without the kernel lock, %u of them while another CPU held it, "
		   "%u while another CPU was in a fault too, %u tried again with reclaim", unlocked,
		   beside, concurrent, fault_stats.retried - f0.retried);
	u32 calls = mm_call_stats.unlocked - m0.unlocked;
	u32 calls_concurrent = mm_call_stats.concurrent - m0.concurrent;
	ktest_diag("mm calls: %u without the kernel lock, %u of them while another CPU held it, "
		   "%u overlapping a fault or call on another CPU, %u took it (swap entries)",
		   calls, mm_call_stats.beside_kernel_lock - m0.beside_kernel_lock, calls_concurrent,
		   mm_call_stats.took_for_swap - m0.took_for_swap);
	KT_EXPECT_EQ(failed, 0);
	KT_EXPECT(urun_checks_ok());
	/* pte_chain builds: faults (arch/traps.c) and memory calls (kernel/syscall.c)
	 * keep the kernel lock. */
	if (!CONFIG_RMAP_PTE_CHAIN) {
		KT_EXPECT_GE(calls, 1);
		KT_EXPECT_GE(calls_concurrent, 1);
		/* In the kernel at once: a fault beside reclaim (which holds the
		 * kernel lock on CPU 0) or beside another fault.  (Two faults at
		 * once alone are too rare to expect in a 20-page-out run under
		 * QEMU's single TCG thread: 0 seen once.) */
		KT_EXPECT_GE(unlocked, 1);
		KT_EXPECT_GE(beside + concurrent, 1);
	}
	KT_EXPECT_GE(c.paged_out, 1);
	KT_EXPECT_GE(c.live, 1);
	KT_EXPECT_GE(c.reused, 1);
	KT_EXPECT_GE(cpus, 2);
	if (!CONFIG_BREAK_SHOOTDOWN)
		KT_EXPECT_GE(tlb_stats.shootdowns - t0.shootdowns, 1);
}

/*
 * mmap, munmap and mprotect of several address spaces at once on one
 * anon_vma (src/user/mm_calls.c mm_family: a parent and CPUs - 1 ... up to
 * 3 forked children, every round linking a VMA to it or unlinking one):
 * the members' stamps hold, the anon_vmas are all freed afterwards, and in
 * anon_vma builds the calls ran without the kernel lock (how many
 * overlapped another CPU's fault or call is printed).  Debug builds check the anon_vma's list
 * around every link and unlink (mm/rmap.c): make BREAK=anon-vma-lock (no
 * lock there) must make this fail.  Rounds per member: 20 x stress=N
 * (default 400; with quick 1 x stress=N, 20 by default: make check boots
 * every smp variant under Bochs with it, twice).
 */
KTEST(smp_stress, mm_calls_on_one_anon_vma)
{
	u32 rounds = (boot_opts.quick ? 1 : 20) * (boot_opts.stress_steps ? boot_opts.stress_steps : 20);

	if (!CONFIG_SMP || smp_info.online < 2)
		KT_SKIP(CONFIG_SMP ? "one CPU online (boot with CPUS=2 or more)" : "uniprocessor variant");
	if (rounds > 0xffff)
		rounds = 0xffff;
	u32 kids = MIN(smp_info.online, 4u) - 1;
	ktest_diag("%u members, %u rounds each", kids + 1, rounds);
	user_test_reset();
	struct mm_call_stats m0 = mm_call_stats;
	u32 anon_vmas = rmap_stats.anon_vmas, deferred = rmap_stats.anon_vmas_deferred;
	KT_EXPECT_EQ(urun_run("mm_family", rounds | kids << 16), 0);
	KT_EXPECT(urun_checks_ok());
	u32 calls = mm_call_stats.unlocked - m0.unlocked;
	u32 concurrent = mm_call_stats.concurrent - m0.concurrent;
	ktest_diag("mm calls: %u without the kernel lock, %u overlapping a fault or call on "
		   "another CPU; %u anon_vmas freed under the kernel lock afterwards", calls,
		   concurrent, rmap_stats.anon_vmas_deferred - deferred);
	KT_EXPECT_EQ(rmap_stats.anon_vmas, anon_vmas);
	/* Overlap is printed, not expected here: QEMU's single TCG thread often
	 * runs the members one after the other (2 of 2137 calls overlapped in
	 * one run); reclaim_against_readers expects it. */
	if (!CONFIG_RMAP_PTE_CHAIN)
		KT_EXPECT_GE(calls, 3 * (kids + 1) * (rounds / 3));
}
