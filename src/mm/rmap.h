/*
 * Reverse mapping: from a page to the PTEs that map it.
 *
 * anon_vma (the default): an anonymous cluster's descriptor points to an
 * anon_vma (page->mapping, tagged with bit 0) and records its linear offset
 * (page->index, in 4 KiB frames: the window's address >> 12 for anonymous
 * memory, since its vm_pgoff is its address).  The anon_vma lists every VMA
 * that may map the page: VMAs join at their first fault (anon_vma_prepare),
 * at fork (the child's VMA joins its parent's), when split; they leave at
 * munmap and exit; an anon_vma is freed when its list empties.  To find the
 * PTEs, walk the list, compute the address from page->index, walk the page
 * tables.  Memory costs per VMA, not per mapping.
 *
 * Locking: the kernel lock (kernel/task.h) serializes the anon_vma lists.
 * Ring-3 code on other CPUs may set A/D bits in the PTEs meanwhile, so PTEs
 * are cleared with atomic exchanges and A is cleared with a locked BTR.
 */
#ifndef MM_RMAP_H
#define MM_RMAP_H
#include "mm/mm.h"

#define PAGE_MAPPING_ANON 1u

struct anon_vma {
	struct list_head head; /* VMAs, through vm_area_struct.anon_vma_node */
	u32 nr_vmas;
};

void rmap_init(void);
/* Gives vma an anon_vma (its neighbour's if mergeable, else a new one). */
int anon_vma_prepare(struct vm_area_struct *vma);
/* vma->anon_vma is set (fork, split): put vma on its list. */
void anon_vma_link(struct vm_area_struct *vma);
/* vma goes away: leave the list; the last VMA frees the anon_vma. */
void anon_vma_unlink(struct vm_area_struct *vma);

static inline struct anon_vma *page_anon_vma(const struct page *p)
{
	u32 m = (u32)p->mapping;
	return (m & PAGE_MAPPING_ANON) ? (struct anon_vma *)(m & ~PAGE_MAPPING_ANON) : NULL;
}
/* A new anonymous cluster at window w of vma. */
void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma, u32 w);

/* The address of page's window in vma (may lie outside the VMA). */
static inline u32 vma_address(const struct page *page, const struct vm_area_struct *vma)
{
	return vma->vm_start + ((page->index - vma->vm_pgoff) << MMUPAGE_SHIFT);
}

/*
 * Unmaps an anonymous cluster from every address space that maps it: each of
 * its PTEs is cleared (with the invalidation the hardware needs) and replaced
 * by replacement (a swap entry; 0 leaves it empty); Dirty bits found go to
 * PG_dirty.  The caller holds a reference.  Returns 0 when no mapping is
 * left, -EBUSY when one is, -EINVAL for a page without an anon_vma.
 */
int try_to_unmap(struct page *page, u64 replacement);
/* Number of mappings whose Accessed bit was set; clears them. */
int page_referenced(struct page *page);

/* Statistics for the tests and benchmarks. */
struct rmap_stats {
	u32 anon_vmas;       /* live anon_vma structures */
	u32 vmas_walked;     /* by try_to_unmap / page_referenced */
	u32 ptes_unmapped;
};
extern struct rmap_stats rmap_stats;

/* Number of VMAs on an anon_vma's list (tests). */
u32 anon_vma_count(const struct anon_vma *av);

#endif
