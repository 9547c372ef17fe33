/*
 * Suite cluster: page clustering at this variant's PAGE_MMUSHIFT.
 *
 * One descriptor per PAGE_MMUCOUNT hardware frames: the conversions between
 * pfn, frame, physical address and descriptor must agree for every frame of
 * a cluster, in every zone and at the edges of every section; and the
 * descriptors must cost what the design promises, 32 bytes per PAGE_SIZE of
 * RAM: 8 MiB per GiB at 4 KiB pages, 2 MiB per GiB at 16 KiB.
 */
#include "selftest/ktest.h"
#include "arch/layout.h"
#include "lib/string.h"
#include "mm/lowmem.h"
#include "mm/memmap.h"
#include "mm/page_alloc.h"

/* The cleaned memory map of this boot (kernel/main.c). */

/* The sizes: PAGE_SIZE is MMUPAGE_SIZE << PAGE_MMUSHIFT, as the variant's name says. */
KTEST(cluster, sizes)
{
	u32 shift = strstr(CONFIG_VARIANT, "-pgcl4") ? 2 : 0;

	KT_ASSERT_EQ(MMUPAGE_SIZE, 4096);
	KT_ASSERT_EQ(PAGE_MMUSHIFT, shift);
	KT_ASSERT_EQ(PAGE_MMUCOUNT, 1u << shift);
	KT_ASSERT_EQ(PAGE_SHIFT, MMUPAGE_SHIFT + shift);
	KT_ASSERT_EQ(PAGE_SIZE, MMUPAGE_SIZE << PAGE_MMUSHIFT);
	KT_ASSERT_EQ(PAGE_SIZE, shift ? 16384 : 4096);
	KT_ASSERT_EQ(PAGE_MASK, ~(PAGE_SIZE - 1));
	KT_ASSERT_EQ(PFN_SECTION_SHIFT + PAGE_SHIFT, SECTION_SHIFT);
	KT_ASSERT_LE(sizeof(struct page), 32);
	/* The largest buddy block stays inside one section. */
	KT_ASSERT_LE(MAX_ORDER - 1, PFN_SECTION_SHIFT);
}

/* Which zone pfn must be in, from the boundaries alone. */
static enum zone_type expected_zone(u32 pfn)
{
	if (pfn_to_phys(pfn) < MIB(16))
		return ZONE_DMA;
	return pfn < max_low_pfn ? ZONE_NORMAL : ZONE_HIGHMEM;
}

/* Every conversion of pfn, through every frame and byte offset; returns failures. */
static int check_pfn(u32 pfn)
{
	int before = ktest_failures();
	struct page *p = pfn_to_page(pfn);
	u64 frame = pfn_to_frame(pfn);
	phys_addr_t pa = pfn_to_phys(pfn);

	KT_EXPECT(pfn_valid(pfn));
	KT_EXPECT_EQ(page_to_pfn(p), pfn);
	KT_EXPECT_EQ(page_section(p), pfn >> PFN_SECTION_SHIFT);
	KT_EXPECT_EQ(page_zonenum(p), expected_zone(pfn));
	KT_EXPECT_EQ(PageHighMem(p), expected_zone(pfn) == ZONE_HIGHMEM);
	KT_EXPECT_EQ(frame, (u64)pfn * PAGE_MMUCOUNT);
	KT_EXPECT_EQ(pa, frame * MMUPAGE_SIZE);
	KT_EXPECT_EQ(page_to_phys(p), pa);
	KT_EXPECT_EQ(page_to_frame(p), frame);
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		KT_EXPECT_EQ(frame_to_pfn(frame + i), pfn);
		KT_EXPECT(frame_to_page(frame + i) == p);
		KT_EXPECT(phys_to_page((frame + i) * MMUPAGE_SIZE + MMUPAGE_SIZE - 1) == p);
	}
	KT_EXPECT_EQ(phys_to_pfn(pa + PAGE_SIZE - 1), pfn);
	KT_EXPECT_EQ(phys_to_pfn(pa + PAGE_SIZE), pfn + 1);
	if (!PageHighMem(p)) {
		u8 *va = lowmem_page_address(p);
		KT_EXPECT_EQ(virt_to_phys(va), pa);
		KT_EXPECT(virt_to_page(va + PAGE_SIZE - 1) == p);
	}
	return ktest_failures() - before;
}

/*
 * Round trips for pfns at the edges of every section's span and of every
 * section, at both ends of every zone and of every usable region of the
 * memory map, and every 251st pfn in between.
 */
KTEST(cluster, round_trips)
{
	u32 checked = 0, zones_seen = 0;

	for (u32 s = 0; s < NR_SECTIONS; s++) {
		const struct mem_section *ms = &mem_sections[s];
		if (!ms->map)
			continue;
		u32 first = s << PFN_SECTION_SHIFT, last = first + (1u << PFN_SECTION_SHIFT) - 1;
		u32 edges[] = { ms->start_pfn, ms->start_pfn + 1, ms->end_pfn - 1, first, last };
		for (u32 i = 0; i < ARRAY_SIZE(edges); i++)
			if (pfn_valid(edges[i])) {
				KT_ASSERT_EQ(check_pfn(edges[i]), 0);
				checked++;
			}
		for (u32 pfn = ms->start_pfn; pfn < ms->end_pfn; pfn += 251) {
			KT_ASSERT_EQ(check_pfn(pfn), 0);
			checked++;
		}
		/* Just outside the span: no descriptor. */
		if (ms->start_pfn > first)
			KT_ASSERT(!pfn_valid(ms->start_pfn - 1));
		if (ms->end_pfn <= last)
			KT_ASSERT(!pfn_valid(ms->end_pfn));
	}
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zn = &zones[z];
		if (!zn->managed_pages)
			continue;
		zones_seen++;
		u32 edges[] = { zn->start_pfn, zn->end_pfn - 1 };
		for (u32 i = 0; i < ARRAY_SIZE(edges); i++)
			if (pfn_valid(edges[i])) {
				KT_ASSERT_EQ(page_zonenum(pfn_to_page(edges[i])), z);
				KT_ASSERT_EQ(check_pfn(edges[i]), 0);
				checked++;
			}
	}
	/* Both ends of every usable region, pfns computed without the helpers. */
	u64 limit = CONFIG_HIGHMEM ? MAX_PHYS_ADDR : LOWMEM_MAX, top = 0;
	for (int i = 0; i < boot_memmap.n; i++) {
		u64 b = MAX(boot_memmap.r[i].base, FIRST_MANAGED_PHYS);
		u64 e = MIN(boot_memmap.r[i].base + boot_memmap.r[i].len, limit);
		if (b >= e)
			continue;
		top = MAX(top, e);
		u32 edges[] = { (u32)(b / PAGE_SIZE), (u32)(e / PAGE_SIZE) - 1 };
		for (u32 k = 0; k < ARRAY_SIZE(edges); k++) {
			KT_ASSERT(pfn_valid(edges[k]));
			KT_ASSERT_EQ(check_pfn(edges[k]), 0);
			checked++;
		}
	}
	KT_ASSERT_EQ(max_pfn, top / PAGE_SIZE);
	KT_ASSERT(!pfn_valid(NR_SECTIONS << PFN_SECTION_SHIFT));
	KT_ASSERT_GE(zones_seen, 1);
	ktest_diag("%u pfns checked in %u zones, max_pfn %u, max_low_pfn %u", checked, zones_seen,
		   max_pfn, max_low_pfn);
}

/*
 * The lowmem cost of the descriptors: exactly sizeof(struct page) per
 * PAGE_SIZE of the section spans, and per GiB of RAM at most 2 MiB in
 * pgcl4 (mem_map_bytes * 512 <= RAM), 8 MiB in pgcl1 when the spans have
 * no holes.
 */
KTEST(cluster, mem_map_cost)
{
	u64 span_pages = 0, ram = managed_ram_below(&boot_memmap, pfn_to_phys(max_pfn));

	for (u32 s = 0; s < NR_SECTIONS; s++)
		if (mem_sections[s].map)
			span_pages += mem_sections[s].end_pfn - mem_sections[s].start_pfn;
	KT_ASSERT_EQ(mem_map_bytes, span_pages * sizeof(struct page));
	KT_ASSERT_GE(span_pages * PAGE_SIZE, ram);
	u64 per_gib = mem_map_bytes * GIB(1) / ram;
	u64 expected = (u64)sizeof(struct page) << (30 - PAGE_SHIFT);
	ktest_diag("mem_map %llu KiB for %llu MiB of RAM (%llu KiB in holes inside spans): "
		   "%llu bytes per GiB, %llu expected", mem_map_bytes >> 10, ram >> 20,
		   (span_pages * PAGE_SIZE - ram) >> 10, per_gib, expected);
	KT_ASSERT_LE(expected, PAGE_MMUSHIFT == 2 ? MIB(2) : MIB(8));
	if (PAGE_MMUSHIFT == 2)
		KT_ASSERT_LE(mem_map_bytes * 512, ram);
	KT_ASSERT_GE(per_gib, expected);
	KT_ASSERT_LE(per_gib, expected + expected / 64); /* holes cost under 1/64 */
}
