/*
 * Page reclaim (see vmscan.h): the LRU lists, aging through the reverse
 * map, paging out to swap.
 *
 * Page states seen from here:
 *   on a list          PG_lru, PG_active says which; no reference held
 *   isolated           off the lists while reclaim works on it, with a
 *                      reference of reclaim's own
 *   in the swap cache  PG_swapcache: a slot is bound to it (swap.c)
 * A cluster in the swap cache is never mapped writable: it is shared with
 * the windows that hold its swap entry (memory.c write-protects it), so
 * its contents change only after it left the cache, and PG_dirty (set when
 * it enters the cache, cleared by a successful write) says whether its
 * slot holds it.
 *
 * Locking: lru_lock (interrupts off) around the two lists, nr_active and
 * nr_inactive, PG_lru and PG_active of listed clusters; reclaim holds it only
 * while it isolates a cluster (off its list, with a reference of its own,
 * taken only if the count is not already 0: a cluster whose last reference
 * is going is left to put_page, which takes it off the list) and while it
 * puts one back, never across page_referenced, try_to_unmap or I/O.  The
 * statistics are atomic.  The reverse-map walks and the page-outs still rely
 * on the kernel lock (rmap.h): one reclaimer at a time, a slot's count
 * moves only under it (pageout adds what try_to_unmap gave out; an munmap
 * over swap entries takes it, mm/mmap.c), and an anon_vma found through
 * page->mapping stays allocated (rmap.c).  They map user PTE tables in
 * KM_PTE0, the I/O maps frames in KM_SWAP.
 */
#include "mm/vmscan.h"
#include "mm/swap.h"
#include "mm/rmap.h"
#include "mm/highpte.h"
#include "mm/page_alloc.h"
#include "mm/mm.h"
#include "mm/mm_locks.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "lib/printf.h"

#define SWAP_CLUSTER_MAX 32u /* clusters reclaim aims to free per call */
#define DEF_PRIORITY 3       /* first pass scans 1/8 of the lists, the last one all */
#define FAULT_PAGES 8u       /* more than one fault allocates (a cluster, a PTE table, a copy) */

static struct list_head active_list = LIST_HEAD_INIT(active_list);
static struct list_head inactive_list = LIST_HEAD_INIT(inactive_list);
u32 nr_active, nr_inactive;
struct vmscan_stats vmscan_stats;
static spinlock_t lru_lock = SPINLOCK_INIT;

#define vm_stat_inc(field) atomic_inc(&vmscan_stats.field)

void lru_cache_add(struct page *page)
{
	u32 flags = mm_lock(&lru_lock, MM_LOCK_LRU);
	if (PageFlag(page, PG_lru))
		panic("lru_cache_add: pfn %u is already on a list", page_to_pfn(page));
	SetPageFlag(page, PG_lru);
	SetPageFlag(page, PG_active);
	list_add(&page->lru, &active_list);
	nr_active++;
	mm_unlock(&lru_lock, MM_LOCK_LRU, flags);
}

/* Off its list (lru_lock held). */
static void __lru_cache_del(struct page *page)
{
	list_del(&page->lru);
	if (PageFlag(page, PG_active))
		nr_active--;
	else
		nr_inactive--;
	ClearPageFlag(page, PG_lru);
	ClearPageFlag(page, PG_active);
}

void lru_cache_del(struct page *page)
{
	if (!PageFlag(page, PG_lru))
		return;
	u32 flags = mm_lock(&lru_lock, MM_LOCK_LRU);
	if (PageFlag(page, PG_lru)) /* again: reclaim may have isolated it meanwhile */
		__lru_cache_del(page);
	mm_unlock(&lru_lock, MM_LOCK_LRU, flags);
}

/* Back on a list after reclaim looked at it: the head of the active or inactive one. */
static void putback(struct page *page, bool active)
{
	u32 flags = mm_lock(&lru_lock, MM_LOCK_LRU);
	SetPageFlag(page, PG_lru);
	if (active) {
		SetPageFlag(page, PG_active);
		list_add(&page->lru, &active_list);
		nr_active++;
	} else {
		list_add(&page->lru, &inactive_list);
		nr_inactive++;
	}
	mm_unlock(&lru_lock, MM_LOCK_LRU, flags);
}

/* Takes the cluster at list's tail off it, with a reference of reclaim's own,
 * each look costing one of *budget; NULL when the list is empty or the budget
 * spent.  One whose count already reached 0 (put_page is freeing it, and
 * will take it off the list) moves to the head instead. */
static struct page *isolate_tail(struct list_head *list, u32 *budget)
{
	while (*budget) {
		struct page *page = NULL;
		bool empty;
		(*budget)--;
		u32 flags = mm_lock(&lru_lock, MM_LOCK_LRU);
		empty = list_empty(list);
		if (!empty) {
			page = list_entry(list->prev, struct page, lru);
			if (atomic_inc_not_zero(&page->count)) {
				__lru_cache_del(page);
			} else {
				list_del(&page->lru);
				list_add(&page->lru, list);
				page = NULL;
			}
		}
		mm_unlock(&lru_lock, MM_LOCK_LRU, flags);
		if (page || empty)
			return page;
	}
	return NULL;
}

/*
 * The windows (one per address space) that hold entry e, found through
 * page's anon_vma as try_to_unmap finds mappings.  A window lying across
 * two VMAs of one address space is counted by the VMA that holds its first
 * entry slot only.  pte_chain: the chain went with the mappings, so the
 * count is the slot's earlier holders plus the windows try_to_unmap
 * emptied (unmapped), which the caller compares with the mapcount.
 */
#if CONFIG_RMAP_PTE_CHAIN
static u32 windows_holding(struct page *page, swp_entry_t e, u32 unmapped)
{
	return swap_count(e) + unmapped;
}
#else
/* -1 when an address space was busy (its mm lock held: it cannot be looked at). */
static u32 windows_holding(struct page *page, swp_entry_t e, u32 unmapped)
{
	return (u32)rmap_windows_holding(page, pte_val(swp_entry_to_pte(e)));
}
#endif

/*
 * Takes an isolated anonymous cluster out of memory.  The caller holds one
 * reference besides the address spaces' and the swap cache's.  Steps: a
 * slot (the swap cache) unless it has one; try_to_unmap puts the swap
 * entry in every PTE that mapped it, and each window that now holds the
 * entry is counted on the slot; the write, if the slot does not hold the
 * cluster yet; then the cluster leaves the cache, and the caller's put
 * frees it.  Returns 0 or why not (see swap_out_page).
 */
static int pageout(struct page *page)
{
	if (!PageFlag(page, PG_anon) || !page_rmapped(page) || PageFlag(page, PG_reserved))
		return -EINVAL;
	if (!PageFlag(page, PG_swapcache)) {
		if (!swap_active())
			return -ENOENT;
		swp_entry_t e = get_swap_slot();
		if (!e.val) {
			vm_stat_inc(swap_full);
			return -ENOSPC;
		}
		add_to_swap_cache(page, e);
	}
	swp_entry_t e = page_swp_entry(page);
	/* What try_to_unmap emptied and which windows it gave the entry, counted
	 * by it: page->mapcount may drop meanwhile (a copy-on-write fault or an
	 * munmap of another address space runs without the kernel lock); every
	 * try_to_unmap caller holds it.  The slot's count does not move
	 * meanwhile: whatever frees or duplicates an entry in a window holds the
	 * kernel lock (a lockless munmap takes it for a range with swap entries:
	 * mm/mmap.c). */
	u32 before = swap_count(e), unmapped = rmap_stats.windows_unmapped;
	u32 given = rmap_stats.windows_given;
	int r = try_to_unmap(page, pte_val(swp_entry_to_pte(e)));
	u32 mms = unmapped = rmap_stats.windows_unmapped - unmapped;
	/* pte_chain: a chain entry is a whole window, the emptied ones are the new holders. */
	given = CONFIG_RMAP_PTE_CHAIN ? mms : rmap_stats.windows_given - given;
	/* Debug builds count the holders through the reverse map; (u32)-1: an
	 * address space was busy (another CPU in its mm lock), no exact count.
	 * The count itself is before + given: others skip the walk. */
	u32 holders = CONFIG_DEBUG ? windows_holding(page, e, unmapped) : before + given;
	if (holders != (u32)-1 && holders != before + given)
		panic("pageout: pfn %u: %u windows hold slot %u, which had %u, and %u address spaces "
		      "were unmapped, %u windows given the entry (try_to_unmap: %d)", page_to_pfn(page),
		      holders, swp_offset(e), before, mms, given, r);
	for (u32 i = 0; i < given; i++)
		swap_duplicate(e);
	if (r) {
		vm_stat_inc(unmap_busy);
		/* Every mm was busy (faulting on another CPU: try_to_unmap skipped it):
		 * no window holds the slot, so no swap_free would ever take the
		 * cluster out of the cache -- it leaves now, as if never added. */
		if (!(before + given))
			delete_from_swap_cache(page);
		return -EBUSY; /* stays in the cache: the unmapped windows find it there */
	}
	if (PageFlag(page, PG_dirty) && swap_writepage(page))
		return -EIO; /* kept in the cache, dirty: the slot does not hold it */
	if (page->count != 2)
		return -EBUSY; /* someone else holds it: it stays, clean, in the cache */
	delete_from_swap_cache(page);
	return 0;
}

int swap_out_page(struct page *page)
{
	bool listed = PageFlag(page, PG_lru);

	lru_cache_del(page);
	int r = pageout(page);
	if (r == 0)
		vm_stat_inc(reclaimed);
	else if (listed)
		putback(page, true);
	return r;
}

/* Moves up to n clusters from the active list's tail: referenced ones back
 * to its head, the others to the inactive list. */
static void refill_inactive(u32 n)
{
	struct page *page;

	while ((page = isolate_tail(&active_list, &n))) {
		bool referenced = page_referenced(page);
		putback(page, referenced);
		if (referenced)
			vm_stat_inc(rotated);
		else
			vm_stat_inc(deactivated);
		put_page(page);
	}
}

/*
 * Looks at up to n clusters from the inactive list's tail and pages out
 * the unreferenced ones until want were freed.  Stops early when no swap
 * slot is left: nothing else could be freed.  Returns the number freed.
 */
static u32 shrink_inactive(u32 n, u32 want)
{
	u32 freed = 0;
	struct page *page;

	while (freed < want && (page = isolate_tail(&inactive_list, &n))) {
		vm_stat_inc(scanned);
		if (page_referenced(page)) {
			putback(page, true);
			vm_stat_inc(activated);
			put_page(page);
			continue;
		}
		int r = pageout(page);
		if (r == 0) {
			freed++;
			vm_stat_inc(reclaimed);
		} else {
			putback(page, r != -EINVAL);
		}
		put_page(page); /* the last reference when it was paged out */
		if (r == -ENOSPC || r == -ENOENT)
			break;
	}
	return freed;
}

u32 try_to_free_pages(u32 nr)
{
	u32 freed = 0;

	for (int prio = DEF_PRIORITY; prio >= 0 && freed < nr; prio--) {
		refill_inactive(MAX(nr_active >> prio, SWAP_CLUSTER_MAX));
		freed += shrink_inactive(MAX(nr_inactive >> prio, SWAP_CLUSTER_MAX), nr - freed);
		if (swap_active() && swap_active()->inuse >= swap_active()->nr_slots)
			break; /* full: only clusters already in the cache could go, and they went */
	}
	return freed;
}

bool reclaim_wanted(void)
{
	struct swap_info *si = swap_active();

	/* Hot-list pages count as free whatever the watermarks: ask for a few. */
	if (!si || alloc_headroom(GFP_HIGHUSER, WMARK_LOW) >= FAULT_PAGES)
		return false;
	/* swap full: nothing to gain, and scanning every fault would cost */
	return si->inuse < si->nr_slots;
}

void balance_memory(void)
{
	if (!reclaim_wanted())
		return;
	/* Reclaim maps PTE tables in KM_PTE0: never under a caller that holds a slot. */
	if (kmap_atomic_idle_check())
		return;
	vm_stat_inc(balance_runs);
	while (alloc_headroom(GFP_HIGHUSER, WMARK_HIGH) < SWAP_CLUSTER_MAX)
		if (!try_to_free_pages(SWAP_CLUSTER_MAX))
			break;
}

const char *oom_reason(u32 addr)
{
	static char why[48];
	struct swap_info *si = swap_active();
	const char *what = !si ? "no swap"
			   : si->inuse >= si->nr_slots ? "swap full" : "nothing reclaimable";

	vm_stat_inc(oom);
	printk("oom: task %d (%s) out of memory at %08x: %s; %u pages free, swap %u of %u slots "
	       "used, %u active and %u inactive clusters\n", current->pid, current->name, addr,
	       what, nr_free_pages(), si ? si->inuse : 0, si ? si->nr_slots : 0, nr_active,
	       nr_inactive);
	snprintf(why, sizeof(why), "out of memory (%s)", what);
	return why;
}
