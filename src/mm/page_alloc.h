/*
 * The page allocator: a buddy allocator per zone, in PAGE_SIZE units
 * (clusters), with per-CPU hot lists for single pages.
 *
 * Zones: DMA (below 16 MiB), NORMAL (the rest of lowmem, directly mapped),
 * HIGHMEM (above lowmem; kmap to touch).  A request tries the zones its gfp
 * flags allow, highest first:
 *   __GFP_HIGHMEM: HIGHMEM, NORMAL, DMA      (user pages, user page tables)
 *   (none):        NORMAL, DMA               (kernel memory)
 *   __GFP_DMA:     DMA
 * A zone serves a request only while its free pages stay above its min
 * watermark after the allocation (__GFP_ATOMIC may dip to half of it); a
 * request that falls back into a lower zone must also leave that zone's
 * lowmem_reserve.  Before failing, the per-CPU hot lists are drained.
 *
 * Locking: callable on every CPU at once, with or without the kernel lock.
 * Each zone's buddy lists, free_pages and watermark checks are under
 * zone->lock (a ticket spinlock, interrupts off); each CPU's hot list of a
 * zone under its pcp->lock, taken with interrupts off by the CPU that owns
 * the list (uncontended but for drain_all_pages, which takes every CPU's
 * lists back synchronously: exact free counts need no cross-CPU call).
 * Order: pcp->lock, then zone->lock (mm/mm.h).  page->count is atomic.
 * Statistics (hits, refills, drains) are under the list's lock, alloc_fail
 * atomic; readers of the counts (nr_free_pages) see a moment's snapshot.
 */
#ifndef MM_PAGE_ALLOC_H
#define MM_PAGE_ALLOC_H
#include "mm/page.h"
#include "arch/spinlock.h"

typedef u32 gfp_t;
#define __GFP_DMA 0x01u
#define __GFP_HIGHMEM 0x02u
#define __GFP_ZERO 0x04u   /* zero the page(s); HighMem ones through kmap_atomic */
#define __GFP_ATOMIC 0x08u /* may use half of the min reserve */
#define __GFP_NOWARN 0x10u /* no message when the allocation fails */

#define GFP_KERNEL 0u
#define GFP_ATOMIC __GFP_ATOMIC
#define GFP_DMA __GFP_DMA
#define GFP_HIGHUSER __GFP_HIGHMEM

#define MAX_ORDER 11 /* orders 0..10: up to 1024 pages in one block */

struct free_area {
	struct list_head free_list;
	u32 nr_free; /* blocks of this order */
};

/* A CPU's hot list of single pages for one zone. */
struct per_cpu_pages {
	spinlock_t lock;                 /* the list and its counters */
	struct list_head list;
	u32 count, high, batch;
	u32 hits, refills, drains; /* statistics */
};

struct zone {
	spinlock_t lock;                 /* free_area, free_pages */
	const char *name;
	u32 start_pfn, end_pfn;          /* span */
	u32 managed_pages;               /* given to the allocator at boot */
	u32 free_pages;                  /* free in the buddy lists (not the hot lists) */
	u32 pages_min, pages_low, pages_high; /* watermarks */
	u32 lowmem_reserve;              /* extra free pages fallback requests must leave */
	struct free_area free_area[MAX_ORDER];
	struct per_cpu_pages pcp[8];     /* per CPU (NR_CPUS) */
	u32 alloc_fail;                  /* requests this zone could not serve */
};
extern struct zone zones[MAX_NR_ZONES];

/* Gives every usable page of map above boot memory to the buddy lists and
 * retires boot memory. */
struct memmap;
void page_alloc_init(const struct memmap *map, phys_addr_t kernel_end);
/* Why freeing p would be wrong (double free, never allocated), or NULL. */
const char *page_free_check(const struct page *p);

/* 1 << order contiguous pages, or NULL (with a message unless __GFP_NOWARN). */
struct page *alloc_pages(gfp_t gfp, unsigned order);
static inline struct page *alloc_page(gfp_t gfp) { return alloc_pages(gfp, 0); }
void __free_pages(struct page *page, unsigned order);
static inline void __free_page(struct page *page) { __free_pages(page, 0); }

/* Lowmem only: the direct-map address of new pages, or NULL. */
void *get_free_pages(gfp_t gfp, unsigned order);
void free_pages(void *addr, unsigned order);

/* References: a page is freed when its count drops to zero.  put_page is
 * for single pages; blocks are freed with __free_pages and their order. */
static inline void get_page(struct page *p) { atomic_inc((volatile u32 *)&p->count); }
/* The order an allocated block was allocated with. */
unsigned page_order(const struct page *p);
void put_page(struct page *p);

/* Free pages of all zones (buddy lists and hot lists), in PAGE_SIZE units. */
u32 nr_free_pages(void);
u32 zone_free_pages(const struct zone *z);
/* Free lowmem (DMA + NORMAL) in bytes, for the `# lowmem:` line. */
u64 free_lowmem_bytes(void);
/* Returns every page on every CPU's hot lists to the buddy lists (exact free counts). */
void drain_all_pages(void);
/* One line per zone: free/managed pages, watermarks, free blocks per order. */
void show_free_areas(void);

#endif
