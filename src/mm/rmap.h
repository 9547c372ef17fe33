/*
 * Reverse mapping: from a page to the PTEs that map it.  Two schemes behind
 * one interface, chosen at build time (make RMAP=...):
 *
 * anon_vma (the default, rmap.c): an anonymous cluster's descriptor points
 * to an anon_vma (page->mapping, tagged with bit 0) and records its linear
 * offset (page->index, in 4 KiB frames: the window's address >> 12 for
 * anonymous memory, since its vm_pgoff is its address).  The anon_vma lists
 * every VMA that may map the page: VMAs join at their first fault
 * (anon_vma_prepare), at fork (the child's VMA joins its parent's), when
 * split; they leave at munmap and exit; an anon_vma is freed when its list
 * empties.  To find the PTEs, walk the list, compute the address from
 * page->index, walk the page tables.  Memory costs per VMA, not per mapping.
 *
 * pte_chain (RMAP=pte_chain, rmap_pte_chain.c): every (address space,
 * window) that maps a cluster is recorded by the physical address of the
 * window's first PTE (so it works with PTE tables in HighMem): a page
 * mapped once keeps it in page->mapping (PG_direct); a shared one points
 * to a chain of blocks from a lowmem slab cache.  The entries are added and
 * removed where mappings are made and dropped (page_add_rmap and
 * page_remove_rmap, from memory.c's cluster_map and cluster_unmap).  Memory
 * costs per mapping, nothing per VMA.
 *
 * Both: one event per cluster and address space -- all the 4 KiB PTEs of a
 * window are handled together.
 *
 * Locking: anon_vma->lock guards an anon_vma's list (rmap.c); the kernel lock
 * (kernel/task.h) the chains and the lookups through page->mapping.  Ring-3 code on other CPUs may set A/D bits in the PTEs
 * meanwhile, so PTEs are cleared with atomic exchanges and A is cleared with
 * a locked BTR.
 */
#ifndef MM_RMAP_H
#define MM_RMAP_H
#include "mm/mm.h"

void rmap_init(void);

#if !CONFIG_RMAP_PTE_CHAIN
#define PAGE_MAPPING_ANON 1u

struct anon_vma {
	spinlock_t lock;       /* head, nr_vmas, and page->mapping of its pages (MM_LOCK_ANON) */
	struct list_head head; /* VMAs, through vm_area_struct.anon_vma_node */
	union {
		u32 nr_vmas;
		/* Once nr_vmas is 0 and it waits for the kernel lock to be freed
		 * (rmap.c): the next one waiting.  head stays an empty list, since
		 * reclaim may still walk it. */
		struct anon_vma *next_deferred;
	};
};

/* Gives vma an anon_vma (its neighbour's if mergeable, else a new one). */
int anon_vma_prepare(struct vm_area_struct *vma);
/* vma->anon_vma is set (fork, split): put vma on its list. */
void anon_vma_link(struct vm_area_struct *vma);
/* vma goes away: leave the list; the last VMA frees the anon_vma (without
 * the kernel lock: puts it on a list that anon_vma_free_deferred frees). */
void anon_vma_unlink(struct vm_area_struct *vma);
/* Frees the anon_vmas lockless calls emptied, under the kernel lock; for a
 * caller that holds no mm lock. */
void anon_vma_free_deferred(void);

static inline struct anon_vma *page_anon_vma(const struct page *p)
{
	u32 m = (u32)p->mapping;
	return (m & PAGE_MAPPING_ANON) ? (struct anon_vma *)(m & ~PAGE_MAPPING_ANON) : NULL;
}
/* A new anonymous cluster at window w of vma. */
void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma, u32 w);
/* The anon_vma scheme finds mappings through VMAs: nothing per mapping. */
static inline int page_add_rmap(struct page *page, struct mm_struct *mm, u32 w) { return 0; }
static inline void page_remove_rmap(struct page *page, struct mm_struct *mm, u32 w) {}
/* Does the reverse map reach a cluster's new slots in vma?  Only if vma
 * leads to it: the same anon_vma. */
static inline bool page_rmap_reaches(const struct page *page, const struct vm_area_struct *vma)
{
	return page_anon_vma(page) == vma->anon_vma;
}
/* Is page on the reverse map at all (reclaim can unmap it)? */
static inline bool page_rmapped(const struct page *page) { return page_anon_vma(page) != NULL; }
/* A copy-on-write copy: same anon_vma, same offset. */
static inline void page_copy_anon_rmap(struct page *copy, const struct page *old)
{
	copy->mapping = old->mapping;
	copy->index = old->index;
}
#else /* CONFIG_RMAP_PTE_CHAIN */
/* No per-VMA structure: VMAs never join anything. */
static inline int anon_vma_prepare(struct vm_area_struct *vma) { return 0; }
static inline void anon_vma_link(struct vm_area_struct *vma) {}
static inline void anon_vma_unlink(struct vm_area_struct *vma) {}
static inline void anon_vma_free_deferred(void) {}
/* A new anonymous cluster at window w: records its linear offset only (its
 * window's address >> 12, the same in every address space). */
static inline void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma, u32 w)
{
	page->index = vma->vm_pgoff + ((w - vma->vm_start) >> MMUPAGE_SHIFT);
}
/*
 * mm maps page at window w (its first PTE appeared): the window's first
 * PTE's physical address joins the page's chain.  Returns -ENOMEM when a
 * chain block could not be allocated (nothing changed then).
 */
int page_add_rmap(struct page *page, struct mm_struct *mm, u32 w);
/* mm's window w no longer maps page (its last PTE went): its entry leaves. */
void page_remove_rmap(struct page *page, struct mm_struct *mm, u32 w);
/* Every window holding a cluster is on its chain, whatever VMA it lies in. */
static inline bool page_rmap_reaches(const struct page *page, const struct vm_area_struct *vma)
{
	return true;
}
static inline bool page_rmapped(const struct page *page) { return PageFlag(page, PG_anon); }
static inline void page_copy_anon_rmap(struct page *copy, const struct page *old)
{
	copy->index = old->index;
}
/* The number of entries on page's chain (direct: 1; none: 0). */
u32 page_rmap_count(const struct page *page);
/*
 * Debug check (tests): every entry of page's chain leads to a PTE table of
 * an address space that maps page at the window page->index names, no entry
 * twice, and there are mapcount + 1 of them.  Returns NULL or what is wrong.
 */
const char *page_rmap_check(struct page *page);
/* Does page's chain hold mm's window w? */
bool page_rmap_has(struct page *page, struct mm_struct *mm, u32 w);
#endif

#if !CONFIG_RMAP_PTE_CHAIN
/* The address of page's window in vma (may lie outside the VMA). */
static inline u32 vma_address(const struct page *page, const struct vm_area_struct *vma)
{
	return vma->vm_start + ((page->index - vma->vm_pgoff) << MMUPAGE_SHIFT);
}
#endif

/*
 * Unmaps an anonymous cluster from every address space that maps it: each of
 * its PTEs is cleared (with the invalidation the hardware needs) and replaced
 * by replacement (a swap entry; 0 leaves it empty); Dirty bits found go to
 * PG_dirty.  The caller holds a reference.  Returns 0 when no mapping is
 * left, -EBUSY when one is, -EINVAL for a page without an anon_vma.
 */
int try_to_unmap(struct page *page, u64 replacement);
#if !CONFIG_RMAP_PTE_CHAIN
/* Debug check: the windows (one per address space, counted in the VMA that
 * holds the first slot with it) that hold entry, found through page's
 * anon_vma; -1 if an address space was busy (its mm lock held). */
int rmap_windows_holding(struct page *page, u64 entry);
#endif
/* Number of mappings whose Accessed bit was set; clears them. */
int page_referenced(struct page *page);

/* Statistics for the tests and benchmarks. */
struct rmap_stats {
	u32 anon_vmas;       /* live anon_vma structures */
	u32 vmas_walked;     /* by try_to_unmap / page_referenced (pte_chain: entries walked) */
	u32 ptes_unmapped;
	u32 windows_unmapped; /* (address space, window) pairs try_to_unmap emptied */
	u32 windows_given;   /* ... windows that got the replacement entry and held none before */
	u32 anon_vmas_deferred; /* freed later, under the kernel lock (anon_vma_unlink) */
	u32 chains;          /* live pte_chain blocks */
	u32 direct;          /* pages with a direct PTE address */
	u32 mm_busy;         /* address spaces try_to_unmap / page_referenced skipped:
			      * their page_table_lock was held (trylock failed) */
};
extern struct rmap_stats rmap_stats;

/* Lowmem bytes the reverse map spends on its own structures (slab objects:
 * anon_vmas or chain blocks; not the VMA and page fields both schemes have). */
u32 rmap_metadata_bytes(void);

#if !CONFIG_RMAP_PTE_CHAIN
/* Number of VMAs on an anon_vma's list (tests). */
u32 anon_vma_count(const struct anon_vma *av);
#endif

#endif
