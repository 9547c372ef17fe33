/*
 * Page-table frames.  A page-table page is one 4 KiB hardware frame, but the
 * page allocator hands out PAGE_SIZE clusters (16 KiB in pgcl4): a cluster
 * is carved into PAGE_MMUCOUNT tables, its descriptor marked PG_pgtable
 * with a bitmap of the frames in use in page->private.  Two pools: user PTE
 * tables (HighMem in the highpte variants) and lowmem tables (page
 * directories, PAE page directories of user space).
 */
#ifndef MM_PTPOOL_H
#define MM_PTPOOL_H
#include "mm/page.h"

enum pt_pool { PT_USER_PTE, PT_LOWMEM, PT_NR_POOLS };

/* A zeroed 4 KiB table frame from the pool, or 0 if memory ran out. */
u64 pt_alloc(enum pt_pool pool);
/*
 * The same for a user PTE table of address space owner.  The pte_chain
 * reverse map (RMAP=pte_chain) finds the address space of a PTE from its
 * table's descriptor (pt_owner), so there a cluster holds the tables of one
 * address space only (page->mapping = owner); otherwise owner is ignored.
 */
u64 pt_alloc_owned(enum pt_pool pool, void *owner);
/* Returns a table frame (it need not be zero). */
void pt_free(u64 frame);
/* Table frames in use, per pool, and how many of the user ones are HighMem. */
struct pt_stats {
	u32 in_use[PT_NR_POOLS];
	u32 highmem_frames;
	u32 clusters;
};
extern struct pt_stats pt_stats;

static inline void *pt_owner(u64 frame)
{
	return frame_to_page(frame)->mapping;
}

#endif
