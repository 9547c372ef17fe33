/*
 * Reaching pages: lowmem pages through the direct map, HighMem pages through
 * temporary kernel mappings.
 *
 * kmap_atomic(page, type): maps page in this CPU's fixmap slot for type and
 *   returns its address.  Never sleeps; disables preemption until
 *   kunmap_atomic.  The slot's previous translation is invalidated (invlpg)
 *   when the slot is mapped; kunmap_atomic flushes nothing, except in debug
 *   builds, where it clears the PTE and invalidates so a use after unmap
 *   faults, and checks that the type matches and that no slot is left mapped.
 * kmap(page): a persistent mapping from the pkmap pool (one page table);
 *   may wait for a free entry; kunmap never flushes; the pool is flushed once
 *   each time its allocator wraps around ("lazy flush").
 * For lowmem pages both return the direct-map address and touch no page table.
 */
#ifndef MM_HIGHMEM_H
#define MM_HIGHMEM_H
#include "mm/page.h"
#include "arch/fixmap.h"

void *kmap_atomic(struct page *page, enum km_type type);
void kunmap_atomic(void *addr, enum km_type type);
/* Maps a 4 KiB hardware frame (e.g. one frame of a cluster, or a page table). */
void *kmap_atomic_frame(u64 frame, enum km_type type);

void *kmap(struct page *page);
void kunmap(struct page *page);
/* The kernel address of page: direct map, or its pkmap address if kmapped, else NULL. */
void *page_address(struct page *page);

/* Zeroes all PAGE_MMUCOUNT frames of page, HighMem or not. */
void clear_highpage(struct page *page);

/* Counters for tests and benchmarks. */
struct kmap_stats {
	u32 atomic_maps, pkmap_maps, pkmap_flushes, pkmap_waits;
};
extern struct kmap_stats kmap_stats;

#endif
