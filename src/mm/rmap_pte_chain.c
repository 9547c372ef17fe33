/*
 * pte_chain reverse mapping (make RMAP=pte_chain; see rmap.h).  The
 * anon_vma scheme (rmap.c) is the default; this one is built for
 * comparison, behind the same interface.
 *
 * Every (address space, window) that maps a cluster is one entry: the
 * physical address of the window's first PTE (slot i of the window maps
 * frame i of the cluster, memory.c).  Physical, not virtual, because PTE
 * tables may be in HighMem (highpte): an entry is reached through
 * kmap_atomic of its table's frame.  Under PAE an entry is a u64 (36-bit
 * physical addresses), with 2-level paging a u32.
 *
 *   one mapping    PG_direct set, page->mapping holds the entry >> 3 (PAE)
 *                  or >> 2: no memory at all ("direct" optimisation).  An
 *                  entry that does not fit (a PTE table above 32 GiB) takes
 *                  a chain block instead.
 *   more           page->mapping points to a chain of 32-byte blocks (one
 *                  cache line of the P6 family) from the "pte_chain" slab
 *                  cache, in lowmem: the cost this scheme is measured by.
 *                  The head block may be partly used; every block after it
 *                  is full.  When one entry is left it goes back to direct.
 *
 * From an entry to its address space: the PTE table's descriptor says who
 * owns it (ptpool.h pt_owner: in this build a table cluster holds the
 * tables of one address space).  To its virtual address: page->index (the
 * window's address >> 12, the same in every address space: fork copies
 * windows in place and nothing moves them).
 *
 * Locking: the chains themselves are still under the kernel lock
 * (kernel/task.h; Linux used a bit of page->flags).  try_to_unmap and
 * page_referenced only TRY each entry's mm->page_table_lock (level
 * MM_LOCK_MM, mm/mm_locks.h), since the fault path holds it while it
 * changes chains: a busy address space is counted (rmap_stats.mm_busy) and
 * ends try_to_unmap's pass (-EBUSY: the page stays for a later one) or is
 * left out of page_referenced's count.
 */
#include "mm/rmap.h"
#include "mm/rmap_slot.h"
#include "mm/slab.h"
#include "mm/memory.h"
#include "mm/page_alloc.h"
#include "mm/ptpool.h"
#include "mm/highmem.h"
#include "kernel/audit.h"
#include "kernel/panic.h"
#include "mm/mm_locks.h"
#include "arch/smp.h"

#if CONFIG_RMAP_PTE_CHAIN

#if CONFIG_X86_PAE
typedef u64 pte_addr_t;
#define DIRECT_SHIFT 3 /* PTEs are 8 bytes under PAE (SDM 4.4.2) */
#else
typedef u32 pte_addr_t;
#define DIRECT_SHIFT 2 /* 4 bytes with 2-level paging (SDM 4.3) */
#endif

#define CHAIN_BYTES 32u
#define NRPTE ((CHAIN_BYTES - 2 * sizeof(u32)) / sizeof(pte_addr_t)) /* 3 PAE, 6 2-level */

struct pte_chain {
	struct pte_chain *next; /* every block after the head is full */
	u32 used;               /* entries in ptes[]: NRPTE except in the head */
	pte_addr_t ptes[NRPTE];
};
_Static_assert(sizeof(struct pte_chain) == CHAIN_BYTES, "a pte_chain block is one 32-byte line");

static struct kmem_cache *pte_chain_cache;
struct rmap_stats rmap_stats;

void rmap_init(void)
{
	pte_chain_cache = kmem_cache_create("pte_chain", sizeof(struct pte_chain), CHAIN_BYTES);
}

u32 rmap_metadata_bytes(void)
{
	return rmap_stats.chains * pte_chain_cache->size;
}

static inline struct pte_chain *page_chain(const struct page *page)
{
	return PageFlag(page, PG_direct) ? NULL : (struct pte_chain *)page->mapping;
}

static inline pte_addr_t page_direct(const struct page *page)
{
	return (pte_addr_t)(u32)page->mapping << DIRECT_SHIFT;
}

static bool direct_fits(pte_addr_t pa)
{
	return (u32)((u64)pa >> DIRECT_SHIFT >> 32) == 0;
}

static void set_direct(struct page *page, pte_addr_t pa)
{
	SetPageFlag(page, PG_direct);
	page->mapping = (void *)(u32)((u64)pa >> DIRECT_SHIFT);
	rmap_stats.direct++;
}

static void clear_direct(struct page *page)
{
	ClearPageFlag(page, PG_direct);
	page->mapping = NULL;
	rmap_stats.direct--;
}

/* The physical address of the first PTE of mm's window w (its table exists). */
static pte_addr_t window_pte_addr(struct mm_struct *mm, u32 w)
{
	pmd_t *pmd = user_pmd(mm->pgd, w);

	if (!pmd_present(*pmd))
		panic("pte_chain: no PTE table at %08x", w);
	return (pte_addr_t)(pmd_table_paddr(*pmd) + pte_index(w) * sizeof(pte_t));
}

u32 page_rmap_count(const struct page *page)
{
	if (PageFlag(page, PG_direct))
		return 1;
	u32 n = 0;
	for (struct pte_chain *c = page_chain(page); c; c = c->next)
		n += c->used;
	return n;
}

static bool chain_has(const struct page *page, pte_addr_t pa)
{
	if (PageFlag(page, PG_direct))
		return page_direct(page) == pa;
	for (struct pte_chain *c = page_chain(page); c; c = c->next)
		for (u32 i = 0; i < c->used; i++)
			if (c->ptes[i] == pa)
				return true;
	return false;
}

bool page_rmap_has(struct page *page, struct mm_struct *mm, u32 w)
{
	return chain_has(page, window_pte_addr(mm, w));
}

static struct pte_chain *chain_alloc(void)
{
	struct pte_chain *c = kmem_cache_alloc(pte_chain_cache, GFP_KERNEL);

	if (c) {
		c->next = NULL;
		c->used = 0;
		rmap_stats.chains++;
	}
	return c;
}

static void chain_free(struct pte_chain *c)
{
	kmem_cache_free(pte_chain_cache, c);
	rmap_stats.chains--;
}

int page_add_rmap(struct page *page, struct mm_struct *mm, u32 w)
{
	pte_addr_t pa = window_pte_addr(mm, w);
	bool none = !PageFlag(page, PG_direct) && !page->mapping;

	if (none) {
		page->index = w >> MMUPAGE_SHIFT;
	} else if (CONFIG_DEBUG) {
		/* (Duplicates are page_rmap_check's business: looking here would
		 * make fork quadratic in debug builds and skew the benchmarks.) */
		if (page->index != w >> MMUPAGE_SHIFT)
			panic("page_add_rmap: pfn %u at window %08x, mapped elsewhere at %08x",
			      page_to_pfn(page), w, page->index << MMUPAGE_SHIFT);
	}
	if (none && direct_fits(pa)) {
		set_direct(page, pa);
		return 0;
	}
	struct pte_chain *head = page_chain(page);
	if (PageFlag(page, PG_direct)) {
		/* The second mapping: the direct entry moves into a block. */
		head = chain_alloc();
		if (!head)
			return -ENOMEM;
		head->ptes[head->used++] = page_direct(page);
		clear_direct(page);
		page->mapping = head;
	} else if (!head || head->used == NRPTE) {
		struct pte_chain *c = chain_alloc();
		if (!c)
			return -ENOMEM;
		c->next = head;
		page->mapping = head = c;
	}
	head->ptes[head->used++] = pa;
	return 0;
}

/* Takes entry pa off page's chain: the head's last entry fills its place. */
static void chain_remove(struct page *page, pte_addr_t pa)
{
	if (PageFlag(page, PG_direct)) {
		if (page_direct(page) != pa)
			panic("page_remove_rmap: pfn %u: entry %llx is not its direct one",
			      page_to_pfn(page), (u64)pa);
		clear_direct(page);
		return;
	}
	struct pte_chain *head = page_chain(page);
	for (struct pte_chain *c = head; c; c = c->next)
		for (u32 i = 0; i < c->used; i++) {
			if (c->ptes[i] != pa)
				continue;
			c->ptes[i] = head->ptes[--head->used];
			if (!head->used) {
				page->mapping = head->next;
				chain_free(head);
			}
			/* One entry left: back to direct, the block goes. */
			head = page_chain(page);
			if (head && !head->next && head->used == 1 && direct_fits(head->ptes[0])) {
				pte_addr_t last = head->ptes[0];
				chain_free(head);
				page->mapping = NULL;
				set_direct(page, last);
			}
			return;
		}
	panic("page_remove_rmap: pfn %u: entry %llx is not on its chain", page_to_pfn(page), (u64)pa);
}

void page_remove_rmap(struct page *page, struct mm_struct *mm, u32 w)
{
	chain_remove(page, window_pte_addr(mm, w));
}

/* The first entry of page's chain (there is one). */
static pte_addr_t chain_first(const struct page *page)
{
	struct pte_chain *head = page_chain(page);
	return PageFlag(page, PG_direct) ? page_direct(page) : head->ptes[head->used - 1];
}

/* Maps the window at entry pa (KM_PTE0, as pte_offset_map would). */
static pte_t *map_entry(pte_addr_t pa)
{
	pte_t *table = kmap_atomic_frame((u64)pa >> MMUPAGE_SHIFT, KM_PTE0);
	return table + ((u32)pa & ~MMUPAGE_MASK) / sizeof(pte_t);
}

static void unmap_entry(pte_t *wp)
{
	kunmap_atomic((void *)((u32)wp & MMUPAGE_MASK), KM_PTE0);
}

static struct mm_struct *entry_mm(pte_addr_t pa)
{
	struct mm_struct *mm = pt_owner((u64)pa >> MMUPAGE_SHIFT);

	if (!mm)
		panic("pte_chain: PTE table %llx has no owner", (u64)pa >> MMUPAGE_SHIFT);
	return mm;
}

int try_to_unmap(struct page *page, u64 replacement)
{
	u32 w = page->index << MMUPAGE_SHIFT;

	if (!PageFlag(page, PG_anon))
		return -EINVAL;
	u32 flags = local_irq_save();
	int cpu = smp_processor_id();
	while (PageFlag(page, PG_direct) || page->mapping) {
		pte_addr_t pa = chain_first(page);
		struct mm_struct *mm = entry_mm(pa);
		if (!mm_trylock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu)) {
			rmap_stats.mm_busy++;
			break; /* the first entry is busy: the page waits for the next pass */
		}
		pte_t *wp = map_entry(pa);
		struct window_flush f = { w, 0 };
		rmap_stats.vmas_walked++;
		for (u32 i = 0; i < PAGE_MMUCOUNT; i++)
			if (rmap_slot_maps(wp[i], page, i))
				rmap_clear_slot(wp, i, page, replacement, &f);
		unmap_entry(wp);
		rmap_flush_window(mm, &f, page, true);
		if (!f.slots)
			panic("try_to_unmap: pfn %u: chain entry %llx (window %08x) maps no frame of it",
			      page_to_pfn(page), (u64)pa, w);
		chain_remove(page, pa);
		atomic_add_return(&page->mapcount, -1);
		mm->rss--;
		rmap_stats.windows_unmapped++;
		put_page(page);
		mm_unlock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
	}
	local_irq_restore(flags);
	return page->mapcount < 0 ? 0 : -EBUSY;
}

/* Calls fn on each entry of page's chain. */
static int chain_each(struct page *page, int (*fn)(struct page *, pte_addr_t))
{
	int n = 0;

	if (PageFlag(page, PG_direct))
		return fn(page, page_direct(page));
	for (struct pte_chain *c = page_chain(page); c; c = c->next)
		for (u32 i = 0; i < c->used; i++)
			n += fn(page, c->ptes[i]);
	return n;
}

static int referenced_one(struct page *page, pte_addr_t pa)
{
	u32 w = page->index << MMUPAGE_SHIFT;
	struct mm_struct *mm = entry_mm(pa);
	int referenced = 0, cpu = smp_processor_id();

	rmap_stats.vmas_walked++;
	if (!mm_trylock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu)) {
		rmap_stats.mm_busy++;
		return 0;
	}
	pte_t *wp = map_entry(pa);
	struct window_flush f = { w, 0 };
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		if (!rmap_slot_maps(wp[i], page, i) || !pte_young(wp[i]))
			continue;
		ptep_clear_young(&wp[i]); /* atomic: keeps a D bit set meanwhile */
		f.slots |= 1u << i;
		referenced++;
	}
	unmap_entry(wp);
	/* A cached translation would let accesses go unrecorded (SDM 4.8). */
	rmap_flush_window(mm, &f, page, false);
	mm_unlock_irqs_off(&mm->page_table_lock, MM_LOCK_MM, cpu);
	return referenced;
}

int page_referenced(struct page *page)
{
	if (!PageFlag(page, PG_anon))
		return 0;
	u32 flags = local_irq_save(); /* the mm locks' rule (mm/mm_locks.h) */
	int n = chain_each(page, referenced_one);
	local_irq_restore(flags);
	return n;
}

/* 1 if entry pa's window maps a frame of page, in the address space owning its table. */
static int entry_ok(struct page *page, pte_addr_t pa)
{
	struct mm_struct *mm = pt_owner((u64)pa >> MMUPAGE_SHIFT);
	u32 w = page->index << MMUPAGE_SHIFT;

	if (!mm || !pmd_present(*user_pmd(mm->pgd, w)) || window_pte_addr(mm, w) != pa)
		return 0;
	pte_t *wp = map_entry(pa);
	int ok = 0;
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++)
		ok |= rmap_slot_maps(wp[i], page, i);
	unmap_entry(wp);
	return ok;
}

const char *page_rmap_check(struct page *page)
{
	u32 n = page_rmap_count(page);

	if (n != (u32)(page->mapcount + 1))
		return "chain length is not mapcount + 1";
	if ((u32)chain_each(page, entry_ok) != n)
		return "a chain entry does not lead to a PTE of its address space that maps the page";
	for (struct pte_chain *c = page_chain(page); c; c = c->next) {
		if (c != page_chain(page) && c->used != NRPTE)
			return "a block after the head is not full";
		for (u32 i = 0; i < c->used; i++)
			for (struct pte_chain *d = c; d; d = d->next)
				for (u32 j = (d == c ? i + 1 : 0); j < d->used; j++)
					if (d->ptes[j] == c->ptes[i])
						return "an entry is on the chain twice";
	}
	if (n == 1 && !PageFlag(page, PG_direct) && direct_fits(chain_first(page)))
		return "one entry kept in a chain block instead of direct";
	return NULL;
}

#endif
