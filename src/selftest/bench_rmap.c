/*
 * Benchmarks of the reverse map, the same workload for both schemes: build
 * with RMAP=pte_chain for the other one (the lines say which, "rmap").
 * Costs are guest cycles (rdtsc: deterministic under Bochs with clock:
 * sync=none, not wall time anywhere); sizes are bytes of lowmem.
 *
 * The "tasks" are address spaces forked with dup_mm (fork's address-space
 * copy) from kernel code, without scheduler tasks: N of them share the
 * clusters of an M MiB private mapping, written once by the first before
 * the forks (so every cluster has N mappings, copy-on-write).
 *
 *   rmap_lowmem     for M in {4, 64, 256} MiB and N in {1, 2, 4, ... 64}:
 *                   the reverse map's own lowmem (anon_vma structures, or
 *                   pte_chain blocks: slab objects at their stride), per
 *                   mapping (one cluster in one address space) and per
 *                   VMA; the VMA fields only anon_vma uses (its pointer and
 *                   list node, 12 bytes) are counted apart; the cycles of
 *                   each dup_mm that made the tree grow, and of every
 *                   mmput at the end (exit)
 *   rmap_unmap_maps try_to_unmap of one cluster mapped by N address spaces
 *                   (N = 1 .. 64), average of 16 clusters
 *   rmap_unmap_vmas try_to_unmap of one cluster in one address space whose
 *                   mapping was cut into V VMAs by mprotect (all on one
 *                   anon_vma), V = 1 .. 512: what anon_vma walks, and
 *                   pte_chain does not
 *
 * Debug builds pay for their checks (kunmap_atomic clears and invalidates
 * the slot): the lines say which build they come from.
 */
#include "selftest/bench.h"
#include "arch/io.h"
#include "arch/uaccess.h"
#include "kernel/preempt.h"
#include "mm/mm.h"
#include "mm/rmap.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"

#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define MAX_TASKS 64
#define UNMAP_SAMPLES 16u
#define RMAP_NAME (CONFIG_RMAP_PTE_CHAIN ? "pte_chain" : "anon_vma")
/* The VMA fields of the anon_vma scheme: its pointer and its list node. */
#define ANON_VMA_VMA_BYTES (sizeof(struct anon_vma *) + sizeof(struct list_head))

static struct mm_struct *tasks[MAX_TASKS];

/* One word written in each of n clusters from a (mm current); false if a write faulted for good. */
static bool touch(u32 a, u32 n)
{
	u32 failed = 0;

	for (u32 i = 0; i < n; i++) {
		u32 v = i;
		failed += copy_to_user(a + i * PAGE_SIZE, &v, sizeof(v)) != 0;
	}
	return !failed;
}

/* A new address space with n clusters written at *a; NULL if memory ran out. */
static struct mm_struct *first_task(u32 n, u32 *a)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return NULL;
	s32 r = do_mmap(mm, 0, n * PAGE_SIZE, RW, ANON);
	switch_mm(NULL, mm);
	bool ok = r >= 0 && touch((u32)r, n);
	switch_mm(mm, NULL);
	if (!ok) {
		mmput(mm);
		return NULL;
	}
	*a = (u32)r;
	return mm;
}

/* Grows the fork tree from have to want address spaces (task i forks from
 * task i / 2, a binary tree); the cycles of the dup_mm calls, or 0 when
 * memory ran out (*have says how far it got). */
static u64 grow(u32 *have, u32 want)
{
	u64 cycles = 0;

	for (; *have < want; (*have)++) {
		u64 t0 = rdtsc();
		tasks[*have] = dup_mm(tasks[*have / 2]);
		cycles += rdtsc() - t0;
		if (!tasks[*have])
			return 0;
	}
	return cycles;
}

/* mmput of the n address spaces, newest first; their cycles. */
static u64 teardown(u32 n)
{
	u64 t0 = rdtsc();

	while (n--)
		if (tasks[n])
			mmput(tasks[n]);
	return rdtsc() - t0;
}

static u32 vmas_with_anon_vma(u32 n)
{
	u32 v = 0;

	for (u32 i = 0; i < n; i++) {
		struct list_head *l;
		list_for_each(l, &tasks[i]->mmap)
			v += list_entry(l, struct vm_area_struct, vm_list)->anon_vma != NULL;
	}
	return v;
}

static void lowmem_for(u32 mib)
{
	u32 clusters = (mib << 20) / PAGE_SIZE, a, have = 1;
	u32 base = rmap_metadata_bytes();

	preempt_disable();
	tasks[0] = first_task(clusters, &a);
	if (!tasks[0]) {
		preempt_enable();
		bench_report("\"rmap\": \"%s\", \"m_mib\": %u, \"tasks\": null", RMAP_NAME, mib);
		return;
	}
	for (u32 n = 1; n <= MAX_TASKS; n *= 2) {
		u32 prev = have;
		u64 fork = grow(&have, n);
		if (have < n) {
			bench_report("\"rmap\": \"%s\", \"m_mib\": %u, \"tasks\": %u, \"out_of_memory\": true",
				     RMAP_NAME, mib, n);
			break;
		}
		u32 bytes = rmap_metadata_bytes() - base, vmas = 0;
		for (u32 i = 0; i < n; i++)
			vmas += tasks[i]->map_count;
		u32 vma_fields = CONFIG_RMAP_PTE_CHAIN ? 0 : vmas_with_anon_vma(n) * ANON_VMA_VMA_BYTES;
		u64 mappings = (u64)clusters * n;
		bench_report("\"rmap\": \"%s\", \"variant_kib_per_cluster\": %u, \"debug\": %d, "
			     "\"m_mib\": %u, \"tasks\": %u, \"clusters\": %u, \"mappings\": %llu, "
			     "\"vmas\": %u, \"rmap_bytes\": %u, \"rmap_vma_field_bytes\": %u, "
			     "\"milli_bytes_per_mapping\": %llu, \"milli_bytes_per_4k_mapping\": %llu, "
			     "\"bytes_per_vma\": %u, \"fork_cycles_per_task\": %llu",
			     RMAP_NAME, PAGE_SIZE >> 10, CONFIG_DEBUG, mib, n, clusters, mappings, vmas,
			     bytes, vma_fields, (u64)(bytes + vma_fields) * 1000 / mappings,
			     (u64)(bytes + vma_fields) * 1000 / (mappings * PAGE_MMUCOUNT),
			     (bytes + vma_fields) / vmas, n > prev ? fork / (n - prev) : 0);
	}
	u64 exit = teardown(have);
	preempt_enable();
	bench_report("\"rmap\": \"%s\", \"m_mib\": %u, \"tasks\": %u, \"exit_cycles_per_task\": %llu, "
		     "\"rmap_bytes_left\": %u", RMAP_NAME, mib, have, exit / have,
		     rmap_metadata_bytes() - base);
}

KBENCH(rmap_lowmem)
{
	static const u32 mibs[] = { 4, 64, 256 };

	for (u32 i = 0; i < ARRAY_SIZE(mibs); i++)
		lowmem_for(mibs[i]);
}

/* try_to_unmap of UNMAP_SAMPLES clusters from first (each has a reference
 * of ours meanwhile); the average cycles, *walked the walk steps per call. */
static u64 unmap_cost(struct mm_struct *mm, u32 first, u32 *walked, bool *ok)
{
	u64 cycles = 0;
	u32 w0 = rmap_stats.vmas_walked;

	for (u32 i = 0; i < UNMAP_SAMPLES; i++) {
		u64 frame = user_pte_frame(mm, first + i * PAGE_SIZE, NULL);
		if (!frame) {
			*ok = false;
			continue;
		}
		struct page *page = frame_to_page(frame);
		get_page(page);
		u64 t0 = rdtsc();
		*ok &= try_to_unmap(page, 0) == 0;
		cycles += rdtsc() - t0;
		put_page(page);
	}
	*walked = (rmap_stats.vmas_walked - w0) / UNMAP_SAMPLES;
	return cycles / UNMAP_SAMPLES;
}

KBENCH(rmap_unmap_maps)
{
	u32 a, have = 1, next = 0;
	u32 clusters = 8 * UNMAP_SAMPLES;

	preempt_disable();
	tasks[0] = first_task(clusters, &a);
	for (u32 n = 1; tasks[0] && n <= MAX_TASKS; n *= 2) {
		u32 walked;
		bool ok = true;
		grow(&have, n);
		if (have < n)
			break;
		u64 c = unmap_cost(tasks[0], a + next * PAGE_SIZE, &walked, &ok);
		next += UNMAP_SAMPLES;
		bench_report("\"rmap\": \"%s\", \"debug\": %d, \"kib_per_cluster\": %u, \"mappings\": %u, "
			     "\"walk_steps\": %u, \"unmapped_all\": %s, \"cycles_per_try_to_unmap\": %llu",
			     RMAP_NAME, CONFIG_DEBUG, PAGE_SIZE >> 10, n, walked, ok ? "true" : "false", c);
	}
	if (tasks[0])
		teardown(have);
	preempt_enable();
}

KBENCH(rmap_unmap_vmas)
{
	for (u32 v = 1; v <= 512; v *= 4) {
		u32 a, clusters = 2 * v + UNMAP_SAMPLES, walked;
		bool ok = true;
		preempt_disable();
		struct mm_struct *mm = first_task(clusters, &a);
		if (!mm) {
			preempt_enable();
			break;
		}
		/* Every other cluster of the first 2v read-only: 2v VMAs, one anon_vma. */
		for (u32 i = 1; i < 2 * v; i += 2)
			do_mprotect(mm, a + i * PAGE_SIZE, PAGE_SIZE, PROT_READ);
		u64 c = unmap_cost(mm, a + 2 * v * PAGE_SIZE, &walked, &ok);
		bench_report("\"rmap\": \"%s\", \"debug\": %d, \"vmas\": %u, \"walk_steps\": %u, "
			     "\"unmapped_all\": %s, \"cycles_per_try_to_unmap\": %llu", RMAP_NAME,
			     CONFIG_DEBUG, mm->map_count, walked, ok ? "true" : "false", c);
		mmput(mm);
		preempt_enable();
	}
}
