/*
 * Benchmarks of the temporary mappings, in guest cycles (rdtsc: deterministic
 * under Bochs with clock: sync=none, not wall time anywhere).
 *
 *   kmap_atomic   map + touch one word + unmap, a HighMem page and, for
 *                 comparison, a lowmem page (the direct map: no PTE, no invlpg)
 *   kmap          kmap + touch + kunmap of one page again and again (the
 *                 page's entry is reused) and of a new page each time (a new
 *                 entry, the flush amortised over a turn of the pool)
 *   kmap_flushes  TLB flushes per million kmap calls over several turns of
 *                 the pool; one per wrap-around means 10^6 / LAST_PKMAP_PAGES
 *
 * Debug builds do more per unmap (checks, clearing the slot, invlpg): the
 * lines say which build they come from.  Pages the run cannot get (no
 * HighMem) are reported as null.
 */
#include "selftest/bench.h"
#include "mm/highmem.h"
#include "mm/page_alloc.h"
#include "arch/io.h"
#include "lib/printf.h"

#define ATOMIC_ITERS 20000u
#define KMAP_ITERS 20000u

/* Enough pages that each kmap of the cycle needs a new entry. */
static struct page *bp[LAST_PKMAP_PAGES + 1];

/* One more HighMem page than the pool holds, or false (none kept). */
static bool get_pages(void)
{
	for (u32 i = 0; i < ARRAY_SIZE(bp); i++) {
		struct page *p = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
		if (!p || !PageHighMem(p)) {
			if (p)
				__free_page(p);
			while (i)
				__free_page(bp[--i]);
			return false;
		}
		bp[i] = p;
	}
	return true;
}

static void put_pages(void)
{
	for (u32 i = 0; i < ARRAY_SIZE(bp); i++)
		__free_page(bp[i]);
}

static void touch(void *va)
{
	(*(volatile u32 *)va)++;
}

/* Cycles per kmap_atomic + touch + kunmap_atomic of page. */
static u64 atomic_cycles(struct page *page)
{
	for (u32 i = 0; i < 100; i++) { /* warm up the code and the slot's page table */
		void *va = kmap_atomic(page, KM_USER0);
		touch(va);
		kunmap_atomic(va, KM_USER0);
	}
	u64 t0 = rdtsc();
	for (u32 i = 0; i < ATOMIC_ITERS; i++) {
		void *va = kmap_atomic(page, KM_USER0);
		touch(va);
		kunmap_atomic(va, KM_USER0);
	}
	return (rdtsc() - t0) / ATOMIC_ITERS;
}

KBENCH(kmap_atomic)
{
	struct page *hi = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
	struct page *lo = alloc_page(GFP_KERNEL);
	char hi_cycles[24] = "null";

	if (hi && PageHighMem(hi))
		snprintf(hi_cycles, sizeof(hi_cycles), "%llu", atomic_cycles(hi));
	u64 lo_cycles = lo ? atomic_cycles(lo) : 0;
	bench_report("\"iterations\": %u, \"debug\": %d, "
		     "\"highmem_cycles_per_map_touch_unmap\": %s, "
		     "\"lowmem_cycles_per_map_touch_unmap\": %llu",
		     ATOMIC_ITERS, CONFIG_DEBUG, hi_cycles, lo_cycles);
	if (hi)
		__free_page(hi);
	if (lo)
		__free_page(lo);
}

KBENCH(kmap)
{
	if (!get_pages()) {
		bench_report("\"iterations\": 0, \"reuse_cycles_per_kmap_touch_kunmap\": null, "
			     "\"new_entry_cycles_per_kmap_touch_kunmap\": null");
		return;
	}
	struct page *one = bp[0];
	for (u32 i = 0; i < 100; i++) {
		touch(kmap(one));
		kunmap(one);
	}
	u64 t0 = rdtsc();
	for (u32 i = 0; i < KMAP_ITERS; i++) {
		touch(kmap(one));
		kunmap(one);
	}
	u64 reuse = (rdtsc() - t0) / KMAP_ITERS;

	t0 = rdtsc();
	for (u32 i = 0; i < KMAP_ITERS; i++) {
		struct page *p = bp[i % ARRAY_SIZE(bp)];
		touch(kmap(p));
		kunmap(p);
	}
	u64 fresh = (rdtsc() - t0) / KMAP_ITERS;
	put_pages();
	bench_report("\"iterations\": %u, \"debug\": %d, \"pool_pages\": %u, "
		     "\"reuse_cycles_per_kmap_touch_kunmap\": %llu, "
		     "\"new_entry_cycles_per_kmap_touch_kunmap\": %llu",
		     KMAP_ITERS, CONFIG_DEBUG, LAST_PKMAP_PAGES, reuse, fresh);
}

KBENCH(kmap_flushes)
{
	const u32 calls = 8 * LAST_PKMAP_PAGES + 1;

	if (!get_pages()) {
		bench_report("\"kmap_calls\": 0, \"tlb_flushes_per_million_kmaps\": null");
		return;
	}
	u32 flushes0 = kmap_stats.pkmap_flushes;
	u64 t0 = rdtsc();
	for (u32 i = 0; i < calls; i++) {
		struct page *p = bp[i % ARRAY_SIZE(bp)];
		kmap(p);
		kunmap(p);
	}
	u64 cycles = rdtsc() - t0;
	u32 flushes = kmap_stats.pkmap_flushes - flushes0;
	put_pages();
	bench_report("\"kmap_calls\": %u, \"pool_pages\": %u, \"tlb_flushes\": %u, "
		     "\"tlb_flushes_per_million_kmaps\": %llu, \"cycles_per_kmap_kunmap\": %llu",
		     calls, LAST_PKMAP_PAGES, flushes, (u64)flushes * 1000000u / calls,
		     cycles / calls);
}
