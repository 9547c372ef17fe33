/*
 * The buddy allocator (see page_alloc.h).
 *
 * A free block of 1 << order pages starts at a pfn aligned to its size; its
 * head descriptor carries PG_buddy and private = order and sits on the zone's
 * free_area[order] list.  Its buddy starts at pfn ^ (1 << order); freeing
 * merges with the buddy while that is a free block of the same order in the
 * same zone.  Blocks never cross a zone (zones start on 16 MiB or larger
 * boundaries or are split by the free ranges at boot) nor a section's span.
 *
 * Single pages go through per-CPU hot lists: freed pages are reused while
 * cache-warm, and the buddy lists are touched in batches.
 *
 * Locking (page_alloc.h): zone->lock around the buddy lists and free_pages,
 * pcp->lock around a hot list, both with interrupts off; a hot list's lock
 * is taken before its zone's (mm/mm_locks.h checks the order in debug builds).
 */
#include "mm/page_alloc.h"
#include "mm/bootmem.h"
#include "mm/highmem.h"
#include "mm/memmap.h"
#include "mm/mm_locks.h"
#include "mm/vmscan.h"
#include "arch/smp.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "lib/string.h"

struct zone zones[MAX_NR_ZONES];
static const char *const zone_names[MAX_NR_ZONES] = { "DMA", "Normal", "HighMem" };

u32 mm_locks_held[NR_CPUS];

void mm_lock_order_panic(enum mm_lock_level want, u32 held)
{
	static const char *const names[MM_LOCK_NR] = { "an mm's page_table_lock", "an anon_vma's lock",
						       "swap_lock", "lru_lock", "a slab cache's lock", "pt_lock",
						       "a hot list's lock", "a zone's lock" };
	int top = 31 - __builtin_clz(held);
	panic("lock order: CPU %d takes %s while holding %s (mm/mm.h: mm -> anon_vma -> swap -> lru -> slab -> pt_lock -> "
	      "hot list -> zone)", smp_processor_id(), names[want], names[top]);
}

static struct zone *page_zone(const struct page *p)
{
	return &zones[page_zonenum(p)];
}

/* The zone's lock, interrupts off on cpu.  make BREAK=zone-lock leaves it
 * out (a deliberate bug suite smp_alloc must catch); interrupts still go off. */
static void zone_lock(struct zone *z, int cpu)
{
	if (!CONFIG_BREAK_ZONE_LOCK)
		mm_lock_irqs_off(&z->lock, MM_LOCK_ZONE, cpu);
}

static void zone_unlock(struct zone *z, int cpu)
{
	if (!CONFIG_BREAK_ZONE_LOCK)
		mm_unlock_irqs_off(&z->lock, MM_LOCK_ZONE, cpu);
}

/* What pcp_lock / zone_lock_irqsave saved: the flags to restore, the CPU. */
struct irq_guard {
	u32 flags;
	int cpu;
};

/* A hot list's lock with interrupts off (until pcp_unlock: the task cannot
 * migrate meanwhile); owner < 0 means this CPU's list. */
static struct per_cpu_pages *pcp_lock(struct zone *z, int owner, struct irq_guard *g)
{
	g->flags = local_irq_save();
	g->cpu = smp_processor_id();
	struct per_cpu_pages *pcp = &z->pcp[owner < 0 ? g->cpu : owner];
	mm_lock_irqs_off(&pcp->lock, MM_LOCK_PCP, g->cpu);
	return pcp;
}

static void pcp_unlock(struct per_cpu_pages *pcp, const struct irq_guard *g)
{
	mm_unlock_irqs_off(&pcp->lock, MM_LOCK_PCP, g->cpu);
	local_irq_restore(g->flags);
}

static void zone_lock_irqsave(struct zone *z, struct irq_guard *g)
{
	g->flags = local_irq_save();
	g->cpu = smp_processor_id();
	zone_lock(z, g->cpu);
}

static void zone_unlock_irqrestore(struct zone *z, const struct irq_guard *g)
{
	zone_unlock(z, g->cpu);
	local_irq_restore(g->flags);
}

/* Puts a free block on its list. */
static void add_free_block(struct zone *z, struct page *p, unsigned order)
{
	SetPageFlag(p, PG_buddy);
	p->private = order;
	list_add(&p->lru, &z->free_area[order].free_list);
	z->free_area[order].nr_free++;
}

static void del_free_block(struct zone *z, struct page *p, unsigned order)
{
	list_del(&p->lru);
	ClearPageFlag(p, PG_buddy);
	z->free_area[order].nr_free--;
}

/* Frees a block into the buddy lists, merging with free buddies. */
static void buddy_free(struct zone *z, struct page *page, unsigned order)
{
	u32 pfn = page_to_pfn(page);

	z->free_pages += 1u << order;
	while (order < MAX_ORDER - 1) {
		u32 bpfn = pfn ^ (1u << order);
		if (!pfn_valid(bpfn))
			break;
		struct page *buddy = pfn_to_page(bpfn);
		if (!PageFlag(buddy, PG_buddy) || buddy->private != order || page_zone(buddy) != z)
			break;
		del_free_block(z, buddy, order);
		pfn &= ~(1u << order);
		order++;
	}
	add_free_block(z, pfn_to_page(pfn), order);
}

/* Takes a block of the given order, splitting a larger one if needed. */
static struct page *buddy_alloc(struct zone *z, unsigned order)
{
	for (unsigned o = order; o < MAX_ORDER; o++) {
		struct free_area *fa = &z->free_area[o];
		if (list_empty(&fa->free_list))
			continue;
		struct page *p = list_first_entry(&fa->free_list, struct page, lru);
		del_free_block(z, p, o);
		/* Give back the upper halves. */
		while (o > order) {
			o--;
			add_free_block(z, p + (1u << o), o);
		}
		z->free_pages -= 1u << order;
		return p;
	}
	return NULL;
}

/*
 * May z give 1 << order pages and stay above its min watermark?  A request
 * that falls back into z from a higher zone (user pages into lowmem) must
 * also leave z's lowmem reserve, so HighMem users cannot starve the kernel.
 */
static bool zone_watermark_ok(const struct zone *z, unsigned order, gfp_t gfp, bool fallback)
{
	u32 min = (gfp & __GFP_ATOMIC) ? z->pages_min / 2 : z->pages_min;
	u32 want = 1u << order;

	if (fallback)
		min += z->lowmem_reserve;
	return z->free_pages >= want && z->free_pages - want >= min;
}

/* Moves up to batch pages from the buddy lists to the hot list (its lock
 * held, interrupts off on cpu).  Only an atomic request may dip into the
 * atomic reserve, and then for one page. */
static void pcp_refill(struct zone *z, struct per_cpu_pages *pcp, gfp_t gfp, bool fallback, int cpu)
{
	u32 batch = pcp->batch;

	zone_lock(z, cpu);
	if (!zone_watermark_ok(z, 0, gfp & ~__GFP_ATOMIC, fallback))
		batch = zone_watermark_ok(z, 0, gfp, fallback) ? 1 : 0;
	for (u32 i = 0; i < batch && zone_watermark_ok(z, 0, gfp, fallback); i++) {
		struct page *p = buddy_alloc(z, 0);
		if (!p)
			break;
		SetPageFlag(p, PG_pcp);
		list_add_tail(&p->lru, &pcp->list);
		pcp->count++;
	}
	zone_unlock(z, cpu);
	pcp->refills++;
}

/* Returns count pages from the tail (the coldest) of the hot list (its lock
 * held, interrupts off on cpu). */
static void pcp_drain(struct zone *z, struct per_cpu_pages *pcp, u32 count, int cpu)
{
	bool drained = false;

	if (!pcp->count)
		return;
	zone_lock(z, cpu);
	while (count-- && pcp->count) {
		struct page *p = list_entry(pcp->list.prev, struct page, lru);
		list_del(&p->lru);
		ClearPageFlag(p, PG_pcp);
		pcp->count--;
		buddy_free(z, p, 0);
		drained = true;
	}
	zone_unlock(z, cpu);
	if (drained)
		pcp->drains++;
}

static struct page *zone_alloc(struct zone *z, unsigned order, gfp_t gfp, bool fallback)
{
	struct page *p = NULL;
	struct irq_guard g;
	if (order == 0) {
		struct per_cpu_pages *pcp = pcp_lock(z, -1, &g);
		if (!pcp->count)
			pcp_refill(z, pcp, gfp, fallback, g.cpu);
		else
			pcp->hits++;
		if (pcp->count) {
			p = list_first_entry(&pcp->list, struct page, lru);
			list_del(&p->lru);
			ClearPageFlag(p, PG_pcp);
			pcp->count--;
		}
		pcp_unlock(pcp, &g);
		return p;
	}
	zone_lock_irqsave(z, &g);
	if (zone_watermark_ok(z, order, gfp, fallback))
		p = buddy_alloc(z, order);
	zone_unlock_irqrestore(z, &g);
	return p;
}

/* The zones gfp allows, best first; returns how many. */
static int zonelist(gfp_t gfp, enum zone_type *out)
{
	int n = 0;

	if (gfp & __GFP_DMA) {
		out[n++] = ZONE_DMA;
		return n;
	}
	if ((gfp & __GFP_HIGHMEM) && CONFIG_HIGHMEM)
		out[n++] = ZONE_HIGHMEM;
	out[n++] = ZONE_NORMAL;
	out[n++] = ZONE_DMA;
	return n;
}

static void prep_new_pages(struct page *p, unsigned order, gfp_t gfp)
{
	for (u32 i = 0; (CONFIG_DEBUG || (gfp & __GFP_ZERO)) && i < (1u << order); i++) {
		if (CONFIG_DEBUG && (PageFlag(&p[i], PG_allocated) || PageFlag(&p[i], PG_reserved)))
			panic("page allocator: handing out pfn %u, which is %s", page_to_pfn(&p[i]),
			      PageFlag(&p[i], PG_reserved) ? "reserved" : "already allocated");
		if (gfp & __GFP_ZERO)
			clear_highpage(&p[i]);
	}
	SetPageFlag(p, PG_allocated);
	p->count = 1;
	p->mapcount = -1;
	p->private = 0;
	p->mapping = NULL;
	p->index = 0;
	if (order) {
		SetPageFlag(p, PG_head);
		p[1].private = order; /* a tail page keeps the block's order */
	}
}

struct page *alloc_pages(gfp_t gfp, unsigned order)
{
	enum zone_type list[MAX_NR_ZONES];
	int n = zonelist(gfp, list);

	if (order >= MAX_ORDER)
		panic("alloc_pages: order %u >= MAX_ORDER", order);
	/* Second pass: the hot lists' pages count too (drained into the buddy lists). */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			struct zone *z = &zones[list[i]];
			if (!z->managed_pages)
				continue;
			struct page *p = zone_alloc(z, order, gfp, i > 0);
			if (p) {
				prep_new_pages(p, order, gfp);
				return p;
			}
			if (pass)
				atomic_inc(&z->alloc_fail);
		}
		drain_all_pages();
	}
	if (!(gfp & __GFP_NOWARN)) {
		pr_warn("page allocation failure: order %u, gfp 0x%x\n", order, gfp);
		show_free_areas();
	}
	return NULL;
}

/* What must hold for any reference dropped (page_free_check's first half). */
static const char *ref_check(const struct page *p)
{
	if (PageFlag(p, PG_buddy) || PageFlag(p, PG_pcp))
		return "double free: the page is already free";
	if (PageFlag(p, PG_reserved))
		return "freeing a reserved page that was never allocated";
	if (!PageFlag(p, PG_allocated))
		return "freeing a page that is not allocated (never allocated, or freed and merged)";
	if (p->count <= 0)
		return "freeing a page whose reference count is already zero";
	return NULL;
}

/* What must hold when the last reference goes; lru_ok: put_page takes the
 * page off its list itself. */
static const char *last_ref_check(const struct page *p, bool lru_ok)
{
	if ((PageFlag(p, PG_lru) && !lru_ok) || PageFlag(p, PG_slab))
		return "freeing a page still on an LRU list or owned by a slab cache";
	if (p->mapcount != -1)
		return "freeing a page that is still mapped by user page tables";
	return NULL;
}

const char *page_free_check(const struct page *p)
{
	const char *why = ref_check(p);
	return why || p->count != 1 ? why : last_ref_check(p, false);
}

static void free_pages_ok(struct page *page, unsigned order)
{
	struct zone *z = page_zone(page);

	ClearPageFlag(page, PG_allocated);
	ClearPageFlag(page, PG_head);
	/* What a user of the page left behind (slab and LRU were checked above). */
	page->flags &= ~((1u << PG_anon) | (1u << PG_dirty) | (1u << PG_referenced) |
			 (1u << PG_active) | (1u << PG_swapcache));
	page->mapping = NULL;
	page->mapcount = -1;
	struct irq_guard g;
	if (order == 0) {
		struct per_cpu_pages *pcp = pcp_lock(z, -1, &g);
		SetPageFlag(page, PG_pcp);
		list_add(&page->lru, &pcp->list);
		if (++pcp->count > pcp->high)
			pcp_drain(z, pcp, pcp->batch, g.cpu);
		pcp_unlock(pcp, &g);
		return;
	}
	zone_lock_irqsave(z, &g);
	buddy_free(z, page, order);
	zone_unlock_irqrestore(z, &g);
}

static __noreturn void free_panic(const struct page *page, unsigned order, const char *why)
{
	panic("__free_pages(pfn %u, order %u): %s", page_to_pfn(page), order, why);
}

/* Drops a reference (debug builds check it first); true if it was the last.
 * The checks of the last reference run after the count reached 0: then no
 * other CPU holds one, and two CPUs dropping the last two references at
 * once cannot both take theirs for "not the last". */
static bool drop_ref(struct page *page, unsigned order, bool lru_ok)
{
	const char *why = CONFIG_DEBUG ? ref_check(page) : NULL;
	if (why)
		free_panic(page, order, why);
	if (CONFIG_DEBUG && order != page_order(page))
		panic("__free_pages(pfn %u): order %u, but it was allocated with order %u",
		      page_to_pfn(page), order, page_order(page));
	if (atomic_add_return(&page->count, -1) != 0)
		return false;
	why = CONFIG_DEBUG ? last_ref_check(page, lru_ok) : NULL;
	if (why)
		free_panic(page, order, why);
	return true;
}

void __free_pages(struct page *page, unsigned order)
{
	if (drop_ref(page, order, false))
		free_pages_ok(page, order);
}

unsigned page_order(const struct page *p)
{
	return PageFlag(p, PG_head) ? p[1].private : 0;
}

/* The LRU holds no reference: the last one takes the page off its list
 * (after the count reached 0, so reclaim, which isolates only clusters
 * whose count is not 0, never holds it then). */
void put_page(struct page *p)
{
	if (drop_ref(p, 0, true)) {
		lru_cache_del(p);
		free_pages_ok(p, 0);
	}
}

void *get_free_pages(gfp_t gfp, unsigned order)
{
	struct page *p = alloc_pages(gfp & ~__GFP_HIGHMEM, order);
	return p ? lowmem_page_address(p) : NULL;
}

void free_pages(void *addr, unsigned order)
{
	__free_pages(virt_to_page(addr), order);
}

u32 zone_free_pages(const struct zone *z)
{
	u32 n = z->free_pages;
	for (int c = 0; c < (int)ARRAY_SIZE(z->pcp); c++)
		n += z->pcp[c].count;
	return n;
}

/* Pages allocatable before the zones gfp may use (in alloc_pages' order,
 * fallbacks with their reserve) fall under watermark wm (vmscan.h). */
u32 alloc_headroom(gfp_t gfp, enum zone_watermark wm)
{
	enum zone_type list[MAX_NR_ZONES];
	int n = zonelist(gfp, list);
	u32 room = 0;

	for (int i = 0; i < n; i++) {
		const struct zone *z = &zones[list[i]];
		if (!z->managed_pages)
			continue;
		u32 mark = wm == WMARK_MIN ? z->pages_min : wm == WMARK_LOW ? z->pages_low : z->pages_high;
		if (i > 0)
			mark += z->lowmem_reserve;
		room += z->pcp[smp_processor_id()].count; /* this CPU's hot list serves whatever the marks */
		if (z->free_pages > mark)
			room += z->free_pages - mark;
	}
	return room;
}

u32 nr_free_pages(void)
{
	u32 n = 0;
	for (int i = 0; i < MAX_NR_ZONES; i++)
		n += zone_free_pages(&zones[i]);
	return n;
}

u64 free_lowmem_bytes(void)
{
	return ((u64)zone_free_pages(&zones[ZONE_DMA]) + zone_free_pages(&zones[ZONE_NORMAL])) * PAGE_SIZE;
}

void drain_all_pages(void)
{
	/* Every CPU's lists, each under its lock: its owner may be allocating now. */
	for (int i = 0; i < MAX_NR_ZONES; i++)
		for (int c = 0; c < (int)ARRAY_SIZE(zones[i].pcp); c++) {
			struct irq_guard g;
			struct per_cpu_pages *pcp = pcp_lock(&zones[i], c, &g);
			pcp_drain(&zones[i], pcp, pcp->count, g.cpu);
			pcp_unlock(pcp, &g);
		}
}

void show_free_areas(void)
{
	for (int i = 0; i < MAX_NR_ZONES; i++) {
		const struct zone *z = &zones[i];
		printk("zone %-7s free %u of %u pages (min %u low %u high %u reserve %u), hot %u; blocks:",
		       z->name, zone_free_pages(z), z->managed_pages, z->pages_min, z->pages_low,
		       z->pages_high, z->lowmem_reserve, zone_free_pages(z) - z->free_pages);
		for (int o = 0; o < MAX_ORDER; o++)
			printk(" %u", z->free_area[o].nr_free);
		printk("\n");
	}
}

/* Frees [start, end) of one zone in the largest aligned blocks that fit. */
static void free_range(u32 start, u32 end)
{
	while (start < end) {
		unsigned order = MAX_ORDER - 1;
		while ((start & ((1u << order) - 1)) || start + (1u << order) > end)
			order--;
		struct page *p = pfn_to_page(start);
		struct zone *z = page_zone(p);
		for (u32 i = 0; i < (1u << order); i++)
			ClearPageFlag(&p[i], PG_reserved);
		z->managed_pages += 1u << order;
		buddy_free(z, p, order);
		start += 1u << order;
	}
}

/* Splits [start, end) at the zone boundaries and frees each part. */
static void free_usable(u32 start, u32 end)
{
	u32 bounds[] = { phys_to_pfn(MIB(16)), max_low_pfn };

	for (int i = 0; i < 2; i++)
		if (start < bounds[i] && end > bounds[i]) {
			free_range(start, bounds[i]);
			start = bounds[i];
		}
	free_range(start, end);
}

static void zone_setup(enum zone_type t, u32 start, u32 end)
{
	struct zone *z = &zones[t];

	z->name = zone_names[t];
	z->start_pfn = start;
	z->end_pfn = MAX(start, end);
	for (int o = 0; o < MAX_ORDER; o++)
		INIT_LIST_HEAD(&z->free_area[o].free_list);
	for (int c = 0; c < (int)ARRAY_SIZE(z->pcp); c++) {
		INIT_LIST_HEAD(&z->pcp[c].list);
		z->pcp[c].high = 64;
		z->pcp[c].batch = 16;
	}
}

/* Watermarks from the zone's size: min about 1/256 of it, low and high above. */
static void zone_watermarks(struct zone *z)
{
	z->pages_min = MIN(MAX(z->managed_pages / 256, 8u), 1024u);
	if (z->pages_min > z->managed_pages / 4)
		z->pages_min = z->managed_pages / 4;
	z->pages_low = z->pages_min + z->pages_min / 4;
	z->pages_high = z->pages_min + z->pages_min / 2;
	/* Kept from requests that fall back into this zone from a higher one. */
	z->lowmem_reserve = z == &zones[ZONE_HIGHMEM] ? 0 : z->managed_pages / 32;
}

/* Frees usable [start, end) except what boot memory handed out. */
static void free_usable_unused(u32 start, u32 end, const u32 *ustart, const u32 *uend, int nu)
{
	while (start < end) {
		u32 stop = end;
		bool skipped = false;
		for (int i = 0; i < nu; i++) {
			if (start >= ustart[i] && start < uend[i]) {
				start = uend[i]; /* inside a used range: jump past it */
				skipped = true;
				break;
			}
			if (ustart[i] > start && ustart[i] < stop)
				stop = ustart[i];
		}
		if (skipped)
			continue;
		free_usable(start, stop);
		start = stop;
	}
}

void page_alloc_init(const struct memmap *map, phys_addr_t kernel_end)
{
	phys_addr_t us[BOOTMEM_RANGES + 1], ue[BOOTMEM_RANGES + 1];
	u32 ustart[BOOTMEM_RANGES + 1], uend[BOOTMEM_RANGES + 1];
	int nu = bootmem_used(us, ue, BOOTMEM_RANGES);

	bootmem_retire();
	/* Everything below the kernel's end stays reserved too. */
	us[nu] = 0;
	ue[nu++] = kernel_end;
	for (int i = 0; i < nu; i++) {
		ustart[i] = phys_to_pfn(us[i]);
		uend[i] = phys_to_pfn(ALIGN_UP(ue[i], (phys_addr_t)PAGE_SIZE));
	}
	zone_setup(ZONE_DMA, 0, MIN(phys_to_pfn(MIB(16)), max_low_pfn));
	zone_setup(ZONE_NORMAL, phys_to_pfn(MIB(16)), max_low_pfn);
	zone_setup(ZONE_HIGHMEM, max_low_pfn, max_pfn);
	for (int i = 0; i < map->n; i++) {
		u32 start = MAX(phys_to_pfn(ALIGN_UP(map->r[i].base, (phys_addr_t)PAGE_SIZE)),
				phys_to_pfn(FIRST_MANAGED_PHYS));
		u32 end = MIN(phys_to_pfn(map->r[i].base + map->r[i].len), max_pfn);
		if (start < end)
			free_usable_unused(start, end, ustart, uend, nu);
	}
	for (int i = 0; i < MAX_NR_ZONES; i++)
		zone_watermarks(&zones[i]);
	pr_info("page_alloc: %u free pages of %u KiB: DMA %u, Normal %u, HighMem %u\n",
		nr_free_pages(), PAGE_SIZE >> 10, zones[ZONE_DMA].free_pages,
		zones[ZONE_NORMAL].free_pages, zones[ZONE_HIGHMEM].free_pages);
}
