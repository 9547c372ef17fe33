/*
 * Benchmarks of the allocators, in guest cycles (rdtsc), and the lowmem
 * cost of the page descriptors.
 *
 * Each measurement times one alloc+free pair with rdtsc around it, many
 * times over; the median is reported (the timer interrupt lands in a few
 * samples), with the mean beside it.  rdtsc_cycles is the cost of an empty
 * measurement, included in every sample.  Debug builds poison and check
 * slab objects and run page_free_check on every free: "debug" says which.
 */
#include "selftest/bench.h"
#include "arch/io.h"
#include "mm/lowmem.h"
#include "mm/memmap.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"

#define MAX_SAMPLES 512
static u32 samples[MAX_SAMPLES];

/* The cleaned memory map of this boot (kernel/main.c). */

struct summary {
	u32 median, mean;
};

/* Sorts the n samples and summarizes them. */
static struct summary summarize(u32 n)
{
	u64 sum = 0;

	for (u32 i = 1; i < n; i++) {
		u32 v = samples[i], j = i;
		for (; j > 0 && samples[j - 1] > v; j--)
			samples[j] = samples[j - 1];
		samples[j] = v;
	}
	for (u32 i = 0; i < n; i++)
		sum += samples[i];
	return (struct summary){ samples[n / 2], (u32)(sum / n) };
}

static u32 rdtsc_cycles(void)
{
	for (u32 i = 0; i < 64; i++) {
		u64 t0 = rdtsc();
		samples[i] = (u32)(rdtsc() - t0);
	}
	return summarize(64).median;
}

/* alloc_pages + __free_pages of one order, GFP_KERNEL. */
KBENCH(page_alloc_order)
{
	static const u32 orders[] = { 0, 1, 2, 3, 5, 8, 10 };
	u32 overhead = rdtsc_cycles();

	for (u32 k = 0; k < ARRAY_SIZE(orders); k++) {
		u32 order = orders[k], n = order <= 3 ? 512 : order <= 5 ? 256 : 64;
		static u32 alloc_only[MAX_SAMPLES];
		bool failed = false;

		__free_pages(alloc_pages(GFP_KERNEL, order), order); /* warm up */
		for (u32 i = 0; i < n && !failed; i++) {
			u64 t0 = rdtsc();
			struct page *p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
			u64 t1 = rdtsc();
			if (!p) {
				failed = true;
				break;
			}
			__free_pages(p, order);
			u64 t2 = rdtsc();
			samples[i] = (u32)(t2 - t0);
			alloc_only[i] = (u32)(t1 - t0);
		}
		if (failed) {
			bench_report("\"order\": %u, \"error\": \"allocation failed\"", order);
			continue;
		}
		struct summary pair = summarize(n);
		for (u32 i = 0; i < n; i++)
			samples[i] = alloc_only[i];
		struct summary alloc = summarize(n);
		bench_report("\"order\": %u, \"page_kib\": %u, \"iterations\": %u, "
			     "\"alloc_free_cycles_median\": %u, \"alloc_free_cycles_mean\": %u, "
			     "\"alloc_cycles_median\": %u, \"rdtsc_cycles\": %u, \"debug\": %d",
			     order, PAGE_SIZE >> 10, n, pair.median, pair.mean, alloc.median,
			     overhead, CONFIG_DEBUG);
	}
}

/* Order-0 pairs served by the hot list, and the same after draining it. */
KBENCH(page_alloc_hot_list)
{
	const u32 n = 256;
	struct summary hit, drained;

	__free_page(alloc_page(GFP_KERNEL));
	for (u32 i = 0; i < n; i++) {
		u64 t0 = rdtsc();
		struct page *p = alloc_page(GFP_KERNEL);
		__free_page(p);
		samples[i] = (u32)(rdtsc() - t0);
	}
	hit = summarize(n);
	for (u32 i = 0; i < n; i++) {
		drain_all_pages();
		u64 t0 = rdtsc();
		struct page *p = alloc_page(GFP_KERNEL); /* refills a batch from the buddy lists */
		__free_page(p);
		samples[i] = (u32)(rdtsc() - t0);
	}
	drained = summarize(n);
	bench_report("\"iterations\": %u, \"batch\": %u, \"hit_cycles_median\": %u, "
		     "\"hit_cycles_mean\": %u, \"drained_cycles_median\": %u, "
		     "\"drained_cycles_mean\": %u, \"debug\": %d",
		     n, zones[ZONE_NORMAL].pcp[0].batch, hit.median, hit.mean, drained.median,
		     drained.mean, CONFIG_DEBUG);
}

/* kmem_cache_alloc + kmem_cache_free of a 64-byte object, and kmalloc + kfree of 64 bytes. */
KBENCH(slab_alloc_free)
{
	const u32 n = 512;
	struct kmem_cache *c = kmem_cache_create("bench-64", 64, 0);
	struct summary cache, km;

	if (!c) {
		bench_report("\"error\": \"no memory for the cache\"");
		return;
	}
	kmem_cache_free(c, kmem_cache_alloc(c, GFP_KERNEL)); /* the slab stays, empty */
	for (u32 i = 0; i < n; i++) {
		u64 t0 = rdtsc();
		void *o = kmem_cache_alloc(c, GFP_KERNEL);
		kmem_cache_free(c, o);
		samples[i] = (u32)(rdtsc() - t0);
	}
	cache = summarize(n);
	kfree(kmalloc(64, GFP_KERNEL));
	for (u32 i = 0; i < n; i++) {
		u64 t0 = rdtsc();
		void *o = kmalloc(64, GFP_KERNEL);
		kfree(o);
		samples[i] = (u32)(rdtsc() - t0);
	}
	km = summarize(n);
	kmem_cache_destroy(c);
	bench_report("\"object_bytes\": 64, \"iterations\": %u, "
		     "\"cache_alloc_free_cycles_median\": %u, \"cache_alloc_free_cycles_mean\": %u, \"kmalloc_kfree_cycles_median\": %u, "
		     "\"kmalloc_kfree_cycles_mean\": %u, \"debug\": %d",
		     n, cache.median, cache.mean, km.median, km.mean, CONFIG_DEBUG);
}

/* Lowmem bytes of per-page metadata (the descriptors) per GiB of managed RAM. */
KBENCH(mem_map_per_gib)
{
	u64 ram = managed_ram_below(&boot_memmap, pfn_to_phys(max_pfn));
	bench_report("\"page_bytes\": %u, \"struct_page_bytes\": %u, \"ram_kib\": %llu, "
		     "\"mem_map_kib\": %llu, \"mem_map_bytes_per_gib\": %llu",
		     PAGE_SIZE, (u32)sizeof(struct page), ram >> 10, mem_map_bytes >> 10,
		     ram ? mem_map_bytes * GIB(1) / ram : 0);
}
