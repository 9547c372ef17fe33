/*
 * Page reclaim: the LRU lists of user clusters and what takes memory back
 * from them when it runs short.
 *
 * Two lists, as in Linux 2.6: active and inactive.  A new anonymous
 * cluster (a demand-zero fault, a copy-on-write copy, a cluster read back
 * from swap) goes on the active list.  Private anonymous clusters only:
 * shared anonymous memory (MAP_SHARED) and the user image are never on a
 * list, never reclaimed.  Aging is driven by page_referenced (the Accessed
 * bits of every PTE that maps the cluster, found through the reverse map):
 *   - refill_inactive takes clusters from the active list's tail; a
 *     referenced one goes back to its head, the others to the inactive list;
 *   - shrink_inactive takes clusters from the inactive list's tail; a
 *     referenced one is activated, the others are paged out: a swap slot
 *     (the swap cache), try_to_unmap replacing every PTE by the swap entry,
 *     the cluster written whole, the cluster freed.
 * A cluster whose write fails stays in memory (in the swap cache, dirty):
 * the entries that replaced its PTEs lead back to it.
 *
 * When reclaim runs: at the entry of every page fault (balance_memory),
 * before the fault maps anything, when user allocations (GFP_HIGHUSER)
 * have fewer than a fault's few pages left above the low watermarks of the
 * zones they may use; it then frees clusters until a batch fits above the
 * high watermarks, or nothing more can be freed.  Not while the swap
 * device is full (there is nothing to gain).  Reclaim is direct and
 * synchronous, with no kernel thread: deterministic for the tests.  The
 * allocations themselves never reclaim: the fault path calls the page
 * allocator holding a user PTE table in KM_PTE0 and a window half done.
 * A fault whose allocation still fails ends in an out-of-memory kill of
 * the faulting task (oom_reason says why).
 *
 * The LRU holds no page reference: put_page removes a cluster from its
 * list when the last reference goes (page_alloc.c).
 *
 * Locking: lru_cache_add and lru_cache_del may be called on any CPU
 * without the kernel lock (lru_lock, vmscan.c).  try_to_free_pages,
 * balance_memory and swap_out_page: callers hold the kernel lock (the
 * reverse-map walks, pageout's slot counting, the anon_vmas' lifetime and
 * swap I/O rely on it) and preemption off; they hold
 * lru_lock only while isolating or putting back one cluster.  Reclaim uses
 * the KM_PTE0 slot (the reverse map) and KM_SWAP (I/O), so it runs only
 * where no kmap_atomic slot is held.
 */
#ifndef MM_VMSCAN_H
#define MM_VMSCAN_H
#include "mm/page.h"

/*
 * Defined in page_alloc.c: the pages an order-0 allocation with gfp may
 * still take (hot lists included) before every zone it may use is under
 * watermark wm -- zones it falls back to keep their lowmem reserve too, as
 * alloc_pages requires.  0 under the low watermark: time to reclaim.
 */
enum zone_watermark { WMARK_MIN, WMARK_LOW, WMARK_HIGH };
u32 alloc_headroom(u32 gfp, enum zone_watermark wm);

/* A new anonymous cluster goes on the active list. */
void lru_cache_add(struct page *page);
/* Off its list (put_page calls it for the last reference). */
void lru_cache_del(struct page *page);

/* Clusters on the lists now. */
extern u32 nr_active, nr_inactive;

/*
 * Reclaims up to nr clusters: ages the active list and pages out
 * unreferenced inactive clusters, scanning more of the lists at each of
 * a few priorities until nr were freed.  Returns how many were freed.
 */
u32 try_to_free_pages(u32 nr);
/* At a page fault's entry: reclaims if user allocations run under the low watermark. */
void balance_memory(void);
/* Would balance_memory reclaim now?  (A fault without the kernel lock takes
 * it first: reclaim still needs it.)  A hint: memory may change meanwhile. */
bool reclaim_wanted(void);

/*
 * Pages out one cluster now, referenced or not (tests): a swap slot,
 * try_to_unmap with the swap entry, the write, the free.  The caller
 * holds a reference (it is kept).  Returns 0 when the cluster left memory
 * and every mapping now holds the swap entry, or why not: -ENOENT (no
 * swap device), -ENOSPC (swap full), -EBUSY (a mapping the reverse map
 * could not reach), -EIO (the write failed: the cluster is kept), -EINVAL.
 */
int swap_out_page(struct page *page);

/* The kill report's reason for a fault that ran out of memory; prints the
 * out-of-memory report line (free pages, swap state) first. */
const char *oom_reason(u32 addr);

struct vmscan_stats {
	u32 balance_runs;   /* balance_memory found the low watermark crossed */
	u32 scanned;        /* inactive clusters looked at */
	u32 rotated;        /* active clusters found referenced: kept active */
	u32 deactivated;    /* active -> inactive */
	u32 activated;      /* inactive clusters found referenced */
	u32 reclaimed;      /* clusters freed */
	u32 unmap_busy;     /* try_to_unmap left a mapping */
	u32 swap_full;      /* no slot for a cluster */
	u32 oom;            /* faults that ended out of memory */
};
extern struct vmscan_stats vmscan_stats;

#endif
