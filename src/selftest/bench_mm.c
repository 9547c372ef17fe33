/*
 * Benchmarks of user address spaces, in guest cycles (rdtsc: deterministic
 * under Bochs with clock: sync=none, not wall time anywhere).
 *
 * The fault costs are measured from the kernel: an address space made
 * current with switch_mm and written through copy_to_user, each copy
 * taking the page fault a ring-3 write would take (exception entry,
 * handle_mm_fault, return and retry) without the ring transition.  A fault
 * maps a whole cluster window, so the loops write one word per cluster;
 * the lines say how many KiB each fault maps, and the cost of the same
 * writes once nothing faults any more is subtracted.
 *
 *   mm_anon_fault   demand-zero faults (page-table allocation amortised in)
 *   mm_cow_fault    after dup_mm: the child's first write of each cluster
 *                   (a copy), then the parent's (the last sharer takes the
 *                   page back: no copy)
 *   mm_fork_exit    a ring-3 task with 16 MiB written forks children that
 *                   exit at once (src/user/bench_mm.c), timed from start to
 *                   reaping with and without the forks: cycles per fork +
 *                   exit + wait; and the address-space part alone, dup_mm
 *                   and the child's mmput of such an mm
 *   mm_pte_lowmem   1 GiB mapped, one word written per PTE table: the
 *                   tables, and the lowmem they cost (none with highpte)
 *
 * Debug builds pay for their checks (kunmap_atomic clears and invalidates
 * the slot): the lines say which build they come from.
 */
#include "selftest/bench.h"
#include "selftest/urun.h"
#include "arch/io.h"
#include "arch/uaccess.h"
#include "kernel/preempt.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "mm/mm.h"
#include "mm/page_alloc.h"
#include "mm/ptpool.h"

#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define FAULTS 1024u     /* clusters faulted per measurement */
#define FORK_MIB 16u
#define FORKS 8u

/* Cycles to write one word in each of n clusters from a; *failed counts
 * the copies that faulted for good. */
static u64 write_clusters(u32 a, u32 n, u32 *failed)
{
	u64 t0 = rdtsc();

	for (u32 i = 0; i < n; i++) {
		u32 v = i;
		*failed += copy_to_user(a + i * PAGE_SIZE, &v, sizeof(v)) != 0;
	}
	return rdtsc() - t0;
}

/* A fresh address space with n clusters mapped at *a, made current; NULL
 * (nothing left behind) if memory ran out. */
static struct mm_struct *enter_mm(u32 n, u32 *a)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return NULL;
	s32 r = do_mmap(mm, 0, n * PAGE_SIZE, RW, ANON);
	if (r < 0) {
		mmput(mm);
		return NULL;
	}
	*a = (u32)r;
	switch_mm(NULL, mm);
	return mm;
}

KBENCH(mm_anon_fault)
{
	u32 a, failed = 0;
	struct mm_struct *mm = enter_mm(FAULTS, &a);

	if (!mm) {
		bench_report("\"faults\": 0, \"cycles_per_anon_fault\": null");
		return;
	}
	u64 faulting = write_clusters(a, FAULTS, &failed);
	u64 settled = write_clusters(a, FAULTS, &failed);
	test_mm_leave(mm);
	bench_report("\"faults\": %u, \"kib_per_fault\": %u, \"debug\": %d, \"failed_writes\": %u, "
		     "\"cycles_per_anon_fault\": %llu, \"cycles_per_write_no_fault\": %llu",
		     FAULTS, PAGE_SIZE >> 10, CONFIG_DEBUG, failed, (faulting - settled) / FAULTS,
		     settled / FAULTS);
}

KBENCH(mm_cow_fault)
{
	u32 a, failed = 0;
	struct mm_struct *parent = enter_mm(FAULTS, &a), *child = NULL;

	if (parent) {
		write_clusters(a, FAULTS, &failed);
		child = dup_mm(parent);
		if (!child)
			test_mm_leave(parent);
	}
	if (!child) {
		bench_report("\"faults\": 0, \"cycles_per_cow_copy_fault\": null");
		return;
	}
	switch_mm(parent, child);
	u64 copy = write_clusters(a, FAULTS, &failed);
	u64 settled = write_clusters(a, FAULTS, &failed);
	switch_mm(child, parent);
	u64 reuse = write_clusters(a, FAULTS, &failed);
	switch_mm(parent, NULL);
	mmput(child);
	mmput(parent);
	bench_report("\"faults\": %u, \"kib_per_fault\": %u, \"debug\": %d, \"failed_writes\": %u, "
		     "\"cycles_per_cow_copy_fault\": %llu, \"cycles_per_cow_reuse_fault\": %llu",
		     FAULTS, PAGE_SIZE >> 10, CONFIG_DEBUG, failed, (copy - settled) / FAULTS,
		     (reuse - settled) / FAULTS);
}

/* Cycles from starting fork_exit_bench(arg) to reaping it; its exit code in *code. */
static u64 time_program(u32 arg, int *code)
{
	u64 t0 = rdtsc();
	struct task *t = user_task_create("fork_exit_bench", arg);
	int got;

	*code = -1;
	if (!t)
		return 0;
	while ((got = do_wait(code)) > 0 && got != t->pid)
		;
	return rdtsc() - t0;
}

/* dup_mm and the copy's mmput of an address space with mib MiB written. */
static bool time_dup_mm(u32 mib, u64 *dup, u64 *put)
{
	u32 a, failed = 0, n = (mib << 20) / PAGE_SIZE;
	struct mm_struct *mm = enter_mm(n, &a);

	if (!mm)
		return false;
	write_clusters(a, n, &failed);
	preempt_disable();
	u64 t0 = rdtsc();
	struct mm_struct *copy = dup_mm(mm);
	u64 t1 = rdtsc();
	if (copy)
		mmput(copy);
	u64 t2 = rdtsc();
	preempt_enable();
	test_mm_leave(mm);
	*dup = t1 - t0;
	*put = t2 - t1;
	return copy && !failed;
}

KBENCH(mm_fork_exit)
{
	int with_code, without_code;
	u64 dup = 0, put = 0;

	time_program(FORK_MIB | 1u << 8, &with_code); /* warm-up */
	u64 with = time_program(FORK_MIB | FORKS << 8, &with_code);
	u64 without = time_program(FORK_MIB, &without_code);
	bool mm_ok = time_dup_mm(FORK_MIB, &dup, &put);
	if (with_code || without_code || with < without || !mm_ok) {
		bench_report("\"mib_touched\": %u, \"forks\": %u, \"exit_codes\": [%d, %d], "
			     "\"cycles_per_fork_exit_wait\": null", FORK_MIB, FORKS, with_code,
			     without_code);
		return;
	}
	bench_report("\"mib_touched\": %u, \"forks\": %u, \"debug\": %d, "
		     "\"cycles_per_fork_exit_wait\": %llu, \"dup_mm_cycles\": %llu, "
		     "\"child_mmput_cycles\": %llu", FORK_MIB, FORKS, CONFIG_DEBUG,
		     (with - without) / FORKS, dup, put);
}

/* Free lowmem in bytes, the hot lists drained into the buddy lists. */
static u64 free_lowmem_now(void)
{
	preempt_disable();
	drain_all_pages();
	u64 bytes = free_lowmem_bytes();
	preempt_enable();
	return bytes;
}

KBENCH(mm_pte_lowmem)
{
	u32 top0 = pt_stats.in_use[PT_LOWMEM], a, failed = 0;
	struct mm_struct *mm = enter_mm(GIB(1) / PAGE_SIZE, &a);

	if (!mm) {
		bench_report("\"mapping_mib\": 1024, \"pte_tables\": null");
		return;
	}
	u32 top = pt_stats.in_use[PT_LOWMEM] - top0;
	u32 t0 = mm->pte_pages, h0 = mm->pte_pages_highmem;
	u64 low0 = free_lowmem_now();
	for (u64 off = 0; off < GIB(1); off += PMD_SIZE) {
		u32 v = (u32)off;
		failed += copy_to_user(a + (u32)off, &v, sizeof(v)) != 0;
	}
	u64 low1 = free_lowmem_now();
	u32 tables = mm->pte_pages - t0, high = mm->pte_pages_highmem - h0;
	test_mm_leave(mm);
	bench_report("\"mapping_mib\": 1024, \"failed_writes\": %u, \"pte_tables\": %u, "
		     "\"pte_tables_highmem\": %u, \"pte_table_lowmem_bytes\": %u, "
		     "\"top_level_lowmem_bytes\": %u, \"lowmem_drop_bytes\": %llu",
		     failed, tables, high, (tables - high) * MMUPAGE_SIZE, top * MMUPAGE_SIZE,
		     low0 - low1);
}
