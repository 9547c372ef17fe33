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
 *
 * Clusters (pgcl4, PAGE_MMUCOUNT frames per page) -- the two differ:
 *   kmap_atomic(page) maps the page's FIRST 4 KiB frame only: one fixmap slot
 *     per (CPU, type) keeps the fixmap at KM_TYPE_NR * NR_CPUS pages whatever
 *     the cluster size.  A caller that needs the other frames maps them one
 *     at a time with kmap_atomic_frame(page_to_frame(page) + i, type).
 *   kmap(page) maps the whole cluster, PAGE_MMUCOUNT consecutive pkmap
 *     entries, so page_address() of a kmapped page covers PAGE_SIZE bytes, as
 *     the direct-map address of a lowmem page does.  The pool therefore holds
 *     LAST_PKMAP_PAGES = LAST_PKMAP / PAGE_MMUCOUNT pages.
 */
#ifndef MM_HIGHMEM_H
#define MM_HIGHMEM_H
#include "mm/page.h"
#include "arch/fixmap.h"

/* Maps the first frame of page (HighMem), or returns its direct-map address. */
void *kmap_atomic(struct page *page, enum km_type type);
/* addr: what kmap_atomic or kmap_atomic_frame returned; type: the same type. */
void kunmap_atomic(void *addr, enum km_type type);
/*
 * Maps a 4 KiB hardware frame (e.g. one frame of a cluster, or a page table)
 * in the slot, lowmem or not: the result is always the slot's address.
 * (There is no kmap_atomic_pfn: in this tree a pfn numbers clusters, and
 * kmap_atomic(pfn_to_page(pfn)) already maps a cluster's first frame.)
 */
void *kmap_atomic_frame(u64 frame, enum km_type type);
/* The fixmap address of this CPU's slot for type (mapped or not). */
void *kmap_atomic_slot(enum km_type type);
/* "KM_PTE0" ...; "KM_?" for a value outside the enum. */
const char *km_type_name(enum km_type type);

/*
 * The debug checks, as functions that say what is wrong instead of
 * panicking, so the selftests can call them; the debug build's kmap_atomic,
 * kunmap_atomic and kmap_atomic_check_idle panic with the same text.  They
 * rely on debug kunmap_atomic clearing the slot's PTE (a present PTE is a
 * live slot), so outside debug builds they always return NULL.
 */
/* Why mapping type's slot now would be wrong (still live, not a type), or NULL. */
const char *kmap_atomic_map_check(enum km_type type);
/* Why kunmap_atomic(addr, type) would be wrong (another type's slot, not a
 * kmap_atomic address, not mapped, unbalanced), or NULL. */
const char *kmap_atomic_unmap_check(void *addr, enum km_type type);
/* Which slot of this CPU is still mapped, or NULL. */
const char *kmap_atomic_idle_check(void);
/* Panics ("<where>: ...") if a slot of this CPU is still mapped (debug
 * builds).  For the context-switch and return-to-user paths. */
void kmap_atomic_check_idle(const char *where);

/* Pages the pkmap pool holds at once (each takes PAGE_MMUCOUNT entries). */
#define LAST_PKMAP_PAGES (LAST_PKMAP >> PAGE_MMUSHIFT)

/* A persistent mapping of all of page; may wait (never call it in an atomic
 * section or with interrupts off).  Returns the address, never NULL. */
void *kmap(struct page *page);
/* Drops one kmap of page.  Never flushes; may be called from interrupts. */
void kunmap(struct page *page);
/* The kernel address of page: direct map, or its pkmap address if kmapped, else NULL. */
void *page_address(struct page *page);
/* Frees every pkmap entry nobody uses now, with one TLB flush if any was freed. */
void kmap_flush_unused(void);

/* Zeroes all PAGE_MMUCOUNT frames of page, HighMem or not. */
void clear_highpage(struct page *page);

/* Counters for tests and benchmarks. */
struct kmap_stats {
	u32 atomic_maps;   /* slot mappings (kmap_atomic of HighMem, kmap_atomic_frame) */
	u32 pkmap_maps;    /* pkmap entries filled for a page not already in the pool */
	u32 pkmap_flushes; /* whole-TLB flushes of the pool (once per wrap-around at most) */
	u32 pkmap_waits;   /* kmap calls that found the pool full and waited */
	u32 pkmap_reuses;  /* kmap calls served by the page's existing entry */
};
extern struct kmap_stats kmap_stats;

#endif
