/*
 * Suite page_alloc: the buddy allocator, its zones and hot lists.
 *
 * Most tests compare the allocator's free counts before and after: a
 * snapshot (taken after drain_all_pages, so every free page is in the
 * buddy lists) records each zone's free pages and its free blocks per order.
 * The buddy lists of a given set of free pages are unique once every pair of
 * free buddies has merged, so after a test frees all it took, the snapshot
 * must match the one taken at its start block for block.
 *
 * Exhausting a zone: grab() takes blocks of the largest order until the
 * allocator refuses, then the next order down, to order 0.  The allocator
 * refuses an order-0 request when the zone would drop below its min
 * watermark, so afterwards the zone holds exactly pages_min free pages (or
 * fewer if it started with fewer).  The test keeps the blocks on a list
 * through the head page's lru and their order in its index field.
 */
#include "selftest/ktest.h"
#include "arch/layout.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/highmem.h"
#include "mm/page_alloc.h"

struct snapshot {
	u32 total;                             /* nr_free_pages() */
	u32 free[MAX_NR_ZONES];                /* zone->free_pages */
	u32 blocks[MAX_NR_ZONES][MAX_ORDER];   /* free_area[order].nr_free */
};

/* Drains the hot lists and records the free counts. */
static void snap(struct snapshot *s)
{
	drain_all_pages();
	s->total = nr_free_pages();
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		s->free[z] = zones[z].free_pages;
		for (int o = 0; o < MAX_ORDER; o++)
			s->blocks[z][o] = zones[z].free_area[o].nr_free;
	}
}

/* How many counts differ between a and b; each difference is printed. */
static int snap_diff(const struct snapshot *a, const struct snapshot *b)
{
	int n = 0;

	if (a->total != b->total) {
		ktest_diag("nr_free_pages %u, was %u", b->total, a->total);
		n++;
	}
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		if (a->free[z] != b->free[z]) {
			ktest_diag("zone %d: %u free pages, was %u", z, b->free[z], a->free[z]);
			n++;
		}
		for (int o = 0; o < MAX_ORDER; o++)
			if (a->blocks[z][o] != b->blocks[z][o]) {
				ktest_diag("zone %d order %d: %u free blocks, was %u", z, o,
					   b->blocks[z][o], a->blocks[z][o]);
				n++;
			}
	}
	return n;
}

static void hold(struct list_head *held, struct page *p, unsigned order)
{
	p->index = order;
	list_add_tail(&p->lru, held);
}

/*
 * Takes every block gfp can get, largest first, onto held; returns the
 * number of pages.  only_zone >= 0: stop at the first block from another
 * zone (it is given back), i.e. exhaust that zone but do not fall back.
 */
static u32 grab(gfp_t gfp, int only_zone, struct list_head *held)
{
	u32 pages = 0;

	for (int order = MAX_ORDER - 1; order >= 0; order--) {
		struct page *p;
		while ((p = alloc_pages(gfp | __GFP_NOWARN, order))) {
			if (only_zone >= 0 && (int)page_zonenum(p) != only_zone) {
				__free_pages(p, order);
				break;
			}
			hold(held, p, order);
			pages += 1u << order;
		}
	}
	return pages;
}

/* Frees every block on held. */
static void release(struct list_head *held)
{
	while (!list_empty(held)) {
		struct page *p = list_first_entry(held, struct page, lru);
		list_del(&p->lru);
		__free_pages(p, p->index);
	}
}

/* Every order: the block is aligned to its size and lies in one zone. */
KTEST(page_alloc, orders_aligned)
{
	static const gfp_t gfps[] = { GFP_KERNEL, GFP_HIGHUSER };
	struct snapshot base, now;

	snap(&base);
	for (u32 g = 0; g < ARRAY_SIZE(gfps); g++)
		for (unsigned order = 0; order < MAX_ORDER; order++) {
			struct page *p = alloc_pages(gfps[g], order);
			KT_ASSERT(p != NULL);
			u32 pfn = page_to_pfn(p), n = 1u << order;
			KT_EXPECT_EQ(pfn & (n - 1), 0);
			KT_EXPECT_EQ(page_zonenum(p), page_zonenum(pfn_to_page(pfn + n - 1)));
			KT_EXPECT_EQ(page_to_pfn(pfn_to_page(pfn + n - 1)), pfn + n - 1);
			KT_EXPECT_EQ(p->count, 1);
			KT_EXPECT(page_free_check(p) == NULL);
			__free_pages(p, order);
		}
	snap(&now);
	KT_ASSERT_EQ(snap_diff(&base, &now), 0);
}

/* GFP_KERNEL: Normal or DMA, directly mapped, never HighMem. */
KTEST(page_alloc, zone_kernel)
{
	struct list_head held = LIST_HEAD_INIT(held);
	u32 pages = 0;

	for (unsigned order = 0; order < 4; order++)
		for (int i = 0; i < 16; i++) {
			struct page *p = alloc_pages(GFP_KERNEL, order);
			KT_ASSERT(p != NULL);
			hold(&held, p, order);
			pages += 1u << order;
			KT_EXPECT(page_zonenum(p) == ZONE_NORMAL || page_zonenum(p) == ZONE_DMA);
			KT_EXPECT(!PageHighMem(p));
			KT_EXPECT(page_to_pfn(p) + (1u << order) <= max_low_pfn);
			u8 *va = lowmem_page_address(p);
			KT_EXPECT(virt_to_page(va) == p);
			va[0] = 1; /* directly mapped: no fault */
			va[(PAGE_SIZE << order) - 1] = 2;
		}
	release(&held);
	KT_EXPECT_EQ(pages, 16 * (1 + 2 + 4 + 8));
}

/* __GFP_DMA: every page the DMA zone gives lies below 16 MiB. */
KTEST(page_alloc, zone_dma)
{
	struct list_head held = LIST_HEAD_INIT(held);
	struct snapshot base, now;
	const struct zone *z = &zones[ZONE_DMA];
	struct list_head *l;

	if (!z->managed_pages)
		KT_SKIP("the DMA zone is empty: boot memory took all of the first 16 MiB");
	snap(&base);
	u32 pages = grab(GFP_DMA, -1, &held);
	list_for_each(l, &held) {
		struct page *p = list_entry(l, struct page, lru);
		KT_EXPECT_EQ(page_zonenum(p), ZONE_DMA);
		KT_EXPECT(pfn_to_phys(page_to_pfn(p) + (1u << p->index)) <= MIB(16));
	}
	KT_EXPECT_EQ(z->free_pages, MIN(base.free[ZONE_DMA], z->pages_min));
	KT_EXPECT_EQ(pages, base.free[ZONE_DMA] - z->free_pages);
	KT_EXPECT(alloc_pages(GFP_DMA | __GFP_NOWARN, 0) == NULL);
	release(&held);
	snap(&now);
	KT_ASSERT_EQ(snap_diff(&base, &now), 0);
}

/* GFP_HIGHUSER: HighMem first, when the variant and the guest have it. */
KTEST(page_alloc, zone_highuser)
{
	if (!CONFIG_HIGHMEM)
		KT_SKIP("nohighmem variant: no HighMem zone");
	if (!zones[ZONE_HIGHMEM].managed_pages)
		KT_SKIP("no RAM above lowmem in this guest");
	struct page *p = alloc_pages(GFP_HIGHUSER, 0);
	KT_ASSERT(p != NULL);
	KT_EXPECT_EQ(page_zonenum(p), ZONE_HIGHMEM);
	KT_EXPECT(PageHighMem(p));
	KT_EXPECT(page_to_pfn(p) >= max_low_pfn);
	KT_EXPECT(lowmem_page_address(p) == NULL);
	__free_page(p);
}

/* HighMem exhausted down to its reserve: GFP_HIGHUSER falls back to Normal. */
KTEST(page_alloc, highmem_fallback)
{
	struct list_head held = LIST_HEAD_INIT(held);
	struct snapshot base, now;
	const struct zone *hz = &zones[ZONE_HIGHMEM];

	if (!CONFIG_HIGHMEM)
		KT_SKIP("nohighmem variant: no HighMem zone");
	if (!hz->managed_pages)
		KT_SKIP("no RAM above lowmem in this guest");
	snap(&base);
	u32 pages = grab(GFP_HIGHUSER, ZONE_HIGHMEM, &held);
	KT_EXPECT_EQ(hz->free_pages, MIN(base.free[ZONE_HIGHMEM], hz->pages_min));
	KT_EXPECT_EQ(hz->pcp[0].count, 0);
	KT_EXPECT_EQ(pages, base.free[ZONE_HIGHMEM] - hz->free_pages);
	ktest_diag("took %u HighMem pages; %u stay as the min reserve", pages, hz->free_pages);
	for (unsigned order = 0; order < 3; order++) {
		struct page *p = alloc_pages(GFP_HIGHUSER, order);
		KT_ASSERT(p != NULL);
		KT_EXPECT_EQ(page_zonenum(p), ZONE_NORMAL);
		KT_EXPECT(!PageHighMem(p));
		__free_pages(p, order);
	}
	release(&held);
	snap(&now);
	KT_ASSERT_EQ(snap_diff(&base, &now), 0);
}

/*
 * All of lowmem taken: each lowmem zone stops at its min watermark,
 * GFP_ATOMIC then gets half the reserve, and freeing everything restores
 * every count.
 */
KTEST(page_alloc, exhaust_and_recover)
{
	struct list_head held = LIST_HEAD_INIT(held);
	struct snapshot base, now;
	u32 expect = 0, expect_atomic = 0;

	snap(&base);
	u32 pages = grab(GFP_KERNEL, -1, &held);
	/* GFP_KERNEL prefers Normal and falls back into DMA, which keeps its
	 * lowmem reserve on top of min from fallback requests. */
	u32 floor[2], min[2];
	for (int t = ZONE_DMA; t <= ZONE_NORMAL; t++) {
		const struct zone *z = &zones[t];
		min[t] = MIN(base.free[t], z->pages_min);
		floor[t] = MIN(base.free[t], z->pages_min + (t == ZONE_DMA ? z->lowmem_reserve : 0));
		KT_EXPECT_EQ(z->free_pages, floor[t]);
		KT_EXPECT_EQ(z->pcp[0].count, 0);
		expect += base.free[t] - floor[t];
	}
	KT_EXPECT_EQ(pages, expect);
	KT_EXPECT(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) == NULL);
	/* DMA is GFP_DMA's own zone: its requests may use the reserve, down to min. */
	u32 dma = grab(GFP_DMA, -1, &held);
	KT_EXPECT_EQ(dma, floor[ZONE_DMA] - min[ZONE_DMA]);
	KT_EXPECT(alloc_pages(GFP_DMA | __GFP_NOWARN, 0) == NULL);
	/* GFP_ATOMIC may go down to half of min in Normal; in DMA, a fallback,
	 * to half of min plus the reserve. */
	const struct zone *zd = &zones[ZONE_DMA];
	u32 dma_atomic_floor = zd->pages_min / 2 + zd->lowmem_reserve;
	expect_atomic = min[ZONE_NORMAL] - MIN(min[ZONE_NORMAL], zones[ZONE_NORMAL].pages_min / 2) +
			(min[ZONE_DMA] > dma_atomic_floor ? min[ZONE_DMA] - dma_atomic_floor : 0);
	u32 atomic = grab(GFP_ATOMIC, -1, &held);
	KT_EXPECT_EQ(atomic, expect_atomic);
	ktest_diag("took %u lowmem pages, then %u more with GFP_ATOMIC", pages, atomic);
	release(&held);
	snap(&now);
	KT_ASSERT_EQ(snap_diff(&base, &now), 0);
}

#define FRAG_PAGES 256
static u32 frag_pfn[FRAG_PAGES];

static void sort_u32(u32 *a, u32 n)
{
	for (u32 i = 1; i < n; i++) {
		u32 v = a[i], j = i;
		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/* Does [pfn, pfn + n) contain one of the holes (odd pfns freed from pairs)? */
static bool covers_hole(u32 pfn, u32 n, const u32 *pairs, u32 npairs)
{
	for (u32 i = 0; i < npairs; i++)
		if (pairs[i] + 1 >= pfn && pairs[i] + 1 < pfn + n)
			return true;
	return false;
}

/*
 * Every other page freed: of the order-0 pages taken, those whose buddy is
 * also held form pairs (even pfn, even pfn + 1); freeing the odd one leaves
 * a hole that cannot merge.  The holes add exactly one order-0 block each
 * and nothing above; larger requests never land on them; freeing the even
 * ones merges everything back to the starting blocks.
 */
KTEST(page_alloc, fragmentation)
{
	struct snapshot base, held, holes, now;
	u32 npairs = 0, per_zone[MAX_NR_ZONES] = { 0 };

	snap(&base);
	for (u32 i = 0; i < FRAG_PAGES; i++) {
		struct page *p = alloc_page(GFP_KERNEL);
		KT_ASSERT(p != NULL);
		frag_pfn[i] = page_to_pfn(p);
	}
	sort_u32(frag_pfn, FRAG_PAGES);
	/* Keep the pairs (compacted to the front of frag_pfn), free the rest. */
	for (u32 i = 0; i < FRAG_PAGES; i++) {
		u32 pfn = frag_pfn[i];
		if (!(pfn & 1) && i + 1 < FRAG_PAGES && frag_pfn[i + 1] == pfn + 1) {
			frag_pfn[npairs++] = pfn;
			i++;
		} else {
			__free_page(pfn_to_page(pfn));
		}
	}
	KT_ASSERT_GE(npairs, 16);
	snap(&held);
	for (u32 i = 0; i < npairs; i++) {
		struct page *odd = pfn_to_page(frag_pfn[i] + 1);
		per_zone[page_zonenum(odd)]++;
		__free_page(odd);
	}
	snap(&holes);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		KT_EXPECT_EQ(holes.free[z], held.free[z] + per_zone[z]);
		KT_EXPECT_EQ(holes.blocks[z][0], held.blocks[z][0] + per_zone[z]);
		for (int o = 1; o < MAX_ORDER; o++)
			KT_EXPECT_EQ(holes.blocks[z][o], held.blocks[z][o]);
	}
	/* npairs free pages, but not one block of order 1 or more among them. */
	for (unsigned order = 1; order <= 4; order++) {
		struct page *p = alloc_pages(GFP_KERNEL, order);
		KT_ASSERT(p != NULL);
		KT_EXPECT(!covers_hole(page_to_pfn(p), 1u << order, frag_pfn, npairs));
		__free_pages(p, order);
		snap(&now);
		for (int z = 0; z < MAX_NR_ZONES; z++)
			KT_EXPECT_EQ(now.blocks[z][0], holes.blocks[z][0]);
	}
	KT_ASSERT_EQ(snap_diff(&holes, &now), 0);
	for (u32 i = 0; i < npairs; i++)
		__free_page(pfn_to_page(frag_pfn[i]));
	snap(&now);
	ktest_diag("%u pairs; %u holes made %u order-0 blocks", npairs, npairs,
		   holes.blocks[ZONE_NORMAL][0] - held.blocks[ZONE_NORMAL][0]);
	KT_ASSERT_EQ(snap_diff(&base, &now), 0);
}

/* Fills every frame of p (HighMem or not) with byte v. */
static void fill_page(struct page *p, u8 v)
{
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		void *va = kmap_atomic_frame(page_to_frame(p) + i, KM_TEST);
		memset(va, v, MMUPAGE_SIZE);
		kunmap_atomic(va, KM_TEST);
	}
}

/* How many bytes of p differ from v. */
static u32 count_not(struct page *p, u8 v)
{
	u32 bad = 0;

	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		const u8 *va = kmap_atomic_frame(page_to_frame(p) + i, KM_TEST);
		for (u32 b = 0; b < MMUPAGE_SIZE; b++)
			bad += va[b] != v;
		kunmap_atomic((void *)va, KM_TEST);
	}
	return bad;
}

/* __GFP_ZERO clears every frame of the page, HighMem ones too. */
KTEST(page_alloc, gfp_zero)
{
	static const gfp_t gfps[] = { GFP_KERNEL, GFP_HIGHUSER };

	for (u32 g = 0; g < ARRAY_SIZE(gfps); g++) {
		struct page *p = alloc_page(gfps[g]);
		KT_ASSERT(p != NULL);
		fill_page(p, 0xa5);
		__free_page(p);
		struct page *q = alloc_page(gfps[g] | __GFP_ZERO);
		KT_ASSERT(q != NULL);
		KT_EXPECT(q == p); /* the hot list gives the dirty page back */
		KT_EXPECT_EQ(count_not(q, 0), 0);
		if (g == 1 && CONFIG_HIGHMEM && zones[ZONE_HIGHMEM].managed_pages)
			KT_EXPECT(PageHighMem(q));
		__free_page(q);
	}
	/* A block: each of its pages. */
	struct page *b = alloc_pages(GFP_HIGHUSER, 2);
	KT_ASSERT(b != NULL);
	for (u32 i = 0; i < 4; i++)
		fill_page(b + i, 0x5a);
	__free_pages(b, 2);
	b = alloc_pages(GFP_HIGHUSER | __GFP_ZERO, 2);
	KT_ASSERT(b != NULL);
	for (u32 i = 0; i < 4; i++)
		KT_EXPECT_EQ(count_not(b + i, 0), 0);
	__free_pages(b, 2);
}

/* page_free_check names a double free and a page never allocated. */
KTEST(page_alloc, free_check)
{
	struct page *p = alloc_page(GFP_KERNEL);
	const char *why;

	KT_ASSERT(p != NULL);
	KT_EXPECT(page_free_check(p) == NULL);
	__free_page(p);
	why = page_free_check(p); /* on the hot list */
	KT_ASSERT(why != NULL);
	KT_EXPECT(strstr(why, "double free") != NULL);
	drain_all_pages();
	why = page_free_check(p); /* in the buddy lists, maybe merged */
	KT_ASSERT(why != NULL);
	ktest_diag("after the drain: %s", why);

	struct page *b = alloc_pages(GFP_KERNEL, 1);
	KT_ASSERT(b != NULL);
	KT_EXPECT(page_free_check(b) == NULL);
	why = page_free_check(b + 1); /* the tail of a block was never handed out */
	KT_ASSERT(why != NULL);
	KT_EXPECT(strstr(why, "never allocated") != NULL);
	__free_pages(b, 1);

	why = page_free_check(virt_to_page(__text_start)); /* the kernel image */
	KT_ASSERT(why != NULL);
	KT_EXPECT(strstr(why, "reserved") != NULL);
}

/* A freed page is the next one handed out (LIFO), from the hot list. */
KTEST(page_alloc, hot_list_lifo)
{
	struct page *a = alloc_page(GFP_KERNEL), *b = alloc_page(GFP_KERNEL);

	KT_ASSERT(a && b);
	KT_ASSERT_EQ(page_zonenum(a), page_zonenum(b));
	struct per_cpu_pages *pcp = &zones[page_zonenum(a)].pcp[0];
	__free_page(a);
	__free_page(b);
	u32 hits = pcp->hits, refills = pcp->refills;
	struct page *first = alloc_page(GFP_KERNEL), *second = alloc_page(GFP_KERNEL);
	KT_EXPECT(first == b);
	KT_EXPECT(second == a);
	KT_EXPECT_EQ(pcp->hits, hits + 2);
	KT_EXPECT_EQ(pcp->refills, refills);
	__free_page(first);
	__free_page(second);
	/* After a drain the list is refilled from the buddy lists. */
	drain_all_pages();
	KT_EXPECT_EQ(pcp->count, 0);
	struct page *c = alloc_page(GFP_KERNEL);
	KT_ASSERT(c != NULL);
	KT_EXPECT_EQ(pcp->refills, refills + 1);
	KT_EXPECT_EQ(pcp->count, pcp->batch - 1);
	__free_page(c);
}

/* The hot list never holds more than high pages: it gives back batch at a time. */
KTEST(page_alloc, hot_list_bounded)
{
	struct list_head held = LIST_HEAD_INIT(held);
	struct snapshot base, now;
	u32 count[MAX_NR_ZONES], drains[MAX_NR_ZONES];

	snap(&base);
	for (u32 i = 0; i < 3 * zones[ZONE_NORMAL].pcp[0].high; i++) {
		struct page *p = alloc_page(GFP_KERNEL);
		KT_ASSERT(p != NULL);
		hold(&held, p, 0);
	}
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		count[z] = zones[z].pcp[0].count;
		drains[z] = zones[z].pcp[0].drains;
	}
	/* Model: each free adds one; going over high gives back batch. */
	while (!list_empty(&held)) {
		struct page *p = list_first_entry(&held, struct page, lru);
		int z = page_zonenum(p);
		const struct per_cpu_pages *pcp = &zones[z].pcp[0];
		list_del(&p->lru);
		__free_page(p);
		if (++count[z] > pcp->high) {
			count[z] -= MIN(pcp->batch, count[z]);
			drains[z]++;
		}
		KT_ASSERT_EQ(pcp->count, count[z]);
		KT_ASSERT_EQ(pcp->drains, drains[z]);
		KT_ASSERT_LE(pcp->count, pcp->high);
	}
	snap(&now);
	KT_ASSERT_EQ(snap_diff(&base, &now), 0);
}

/* The value written to word w of frame f: different for every frame. */
static u32 frame_word(u64 frame, u32 w)
{
	return (u32)frame * 0x9e3779b1u + w * 0x85ebca6bu + 1;
}

/* Words of each frame the above-4-GiB test writes (all of them for a few frames). */
static const u32 probe_words[] = { 0, 341, 682, MMUPAGE_SIZE / 4 - 1 };

/* Writes (pass 0) or checks (pass 1) frame f through slot type; returns mismatches. */
static u32 frame_pass(u64 f, bool whole, int pass, enum km_type type)
{
	u32 *va = kmap_atomic_frame(f, type), bad = 0;
	u32 n = whole ? MMUPAGE_SIZE / 4 : ARRAY_SIZE(probe_words);

	for (u32 i = 0; i < n; i++) {
		u32 w = whole ? i : probe_words[i];
		if (pass == 0)
			va[w] = frame_word(f, w);
		else
			bad += va[w] != frame_word(f, w);
	}
	kunmap_atomic(va, type);
	return bad;
}

/* At most this many pages above 4 GiB are written: a guest of 64 GiB must
 * not make the emulator commit all of its RAM on the host (which backs each
 * touched 2 MiB of guest RAM with a transparent huge page). */
#define PROBE_PAGES 256

/*
 * RAM above 4 GiB (PAE only): take all of HighMem, then write a pattern
 * into every frame of the pages above 4 GiB through KM_USER0 (every word of
 * the first 16 pages and of the highest one, four words elsewhere; one page
 * in stride when there are more than PROBE_PAGES), and read it all back
 * through KM_TEST.  A lost high half of a PTE would alias those frames onto
 * frames below 4 GiB and the per-frame pattern would not survive.
 */
KTEST(page_alloc, highmem_above_4g)
{
	struct list_head held = LIST_HEAD_INIT(held);
	struct snapshot base, now;
	struct list_head *l;
	u32 four_g = phys_to_pfn(GIB(4)), top = 0, above = 0, frames = 0, bad = 0;

	if (!CONFIG_X86_PAE)
		KT_SKIP("2-level paging: physical addresses stop at 4 GiB");
	if (max_pfn <= four_g)
		KT_SKIP("no RAM above 4 GiB in this guest (QEMU -m 6144, Bochs MEM=4608)");
	snap(&base);
	grab(GFP_HIGHUSER, ZONE_HIGHMEM, &held);
	list_for_each(l, &held) {
		struct page *p = list_entry(l, struct page, lru);
		u32 end = page_to_pfn(p) + (1u << p->index);
		top = MAX(top, end - 1);
		if (end > four_g)
			above += end - MAX(page_to_pfn(p), four_g);
	}
	u32 stride = (above + PROBE_PAGES - 1) / PROBE_PAGES;
	for (int pass = 0; pass < 2; pass++) {
		u32 nth = 0;
		list_for_each(l, &held) {
			struct page *p = list_entry(l, struct page, lru);
			u32 end = page_to_pfn(p) + (1u << p->index);
			for (u32 pfn = page_to_pfn(p); pfn < end; pfn++) {
				if (pfn < four_g || (nth++ % stride && pfn != top))
					continue;
				bool whole = nth <= 16 || pfn == top;
				for (u32 f = 0; f < PAGE_MMUCOUNT; f++)
					bad += frame_pass(pfn_to_frame(pfn) + f, whole, pass,
							  pass ? KM_TEST : KM_USER0);
				frames += pass ? 0 : PAGE_MMUCOUNT;
			}
		}
	}
	ktest_diag("%u frames above 4 GiB written and read back (one page in %u), "
		   "highest pfn %u (%llu MiB)", frames, stride, top, pfn_to_phys(top + 1) >> 20);
	KT_EXPECT(frames > 0);
	KT_EXPECT(pfn_to_phys(top) >= GIB(4));
	KT_EXPECT_EQ(bad, 0);
	release(&held);
	snap(&now);
	KT_ASSERT_EQ(snap_diff(&base, &now), 0);
}
