/*
 * Page descriptors, per 64 MiB section (see page.h).  A section gets
 * descriptors only for the span of pfns that its usable regions cover, so
 * the cost is 32 bytes per cluster of RAM (plus what small holes inside a
 * span cost), never per cluster of physical address space.
 */
#include "mm/page.h"
#include "mm/bootmem.h"
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "lib/string.h"

struct mem_section mem_sections[NR_SECTIONS];
u64 mem_map_bytes;
u32 max_pfn, max_low_pfn;

static enum zone_type pfn_zone(u32 pfn)
{
	if (pfn_to_phys(pfn) < MIB(16))
		return ZONE_DMA; /* ISA DMA reaches 16 MiB (8237A datasheet: 24 address bits) */
	return pfn < max_low_pfn ? ZONE_NORMAL : ZONE_HIGHMEM;
}

/* Widens section s's span to cover [start, end). */
static void section_cover(u32 s, u32 start, u32 end)
{
	struct mem_section *ms = &mem_sections[s];

	if (ms->end_pfn == ms->start_pfn) { /* empty so far */
		ms->start_pfn = start;
		ms->end_pfn = end;
		return;
	}
	ms->start_pfn = MIN(ms->start_pfn, start);
	ms->end_pfn = MAX(ms->end_pfn, end);
}

/* Records the usable pfns of map, clipped at limit_pfn, in the section spans. */
static void collect_spans(const struct memmap *map, u32 limit_pfn)
{
	for (int i = 0; i < map->n; i++) {
		u32 start = phys_to_pfn(MAX(map->r[i].base, FIRST_MANAGED_PHYS));
		u32 end = MIN(phys_to_pfn(map->r[i].base + map->r[i].len), limit_pfn);
		for (u32 pfn = start; pfn < end;) {
			u32 s = pfn >> PFN_SECTION_SHIFT;
			u32 sec_end = MIN((s + 1) << PFN_SECTION_SHIFT, end);
			section_cover(s, pfn, sec_end);
			pfn = sec_end;
		}
		if (end > max_pfn)
			max_pfn = end;
	}
}

static void init_section(u32 s)
{
	struct mem_section *ms = &mem_sections[s];
	u32 n = ms->end_pfn - ms->start_pfn;
	struct page *pages = bootmem_alloc(n * sizeof(struct page), sizeof(struct page));

	mem_map_bytes += (u64)n * sizeof(struct page);
	ms->map = pages - ms->start_pfn;
	for (u32 pfn = ms->start_pfn; pfn < ms->end_pfn; pfn++) {
		struct page *p = &ms->map[pfn];
		enum zone_type z = pfn_zone(pfn);
		p->flags = (1u << PG_reserved) | (s << PAGE_SECTION_SHIFT) | ((u32)z << PAGE_ZONE_SHIFT);
		if (z == ZONE_HIGHMEM)
			SetPageFlag(p, PG_highmem);
		p->mapcount = -1;
		INIT_LIST_HEAD(&p->lru);
	}
}

void mem_map_init(const struct memmap *map)
{
	u32 limit = CONFIG_HIGHMEM ? ~0u : phys_to_pfn(LOWMEM_MAX);

	max_low_pfn = phys_to_pfn(LOWMEM_MAX);
	collect_spans(map, limit);
	if (max_low_pfn > max_pfn)
		max_low_pfn = max_pfn;
	for (u32 s = 0; s < NR_SECTIONS; s++)
		if (mem_sections[s].end_pfn > mem_sections[s].start_pfn)
			init_section(s);
	pr_info("mem_map: %u KiB of page descriptors (%u bytes each, %u KiB pages)\n",
		(u32)(mem_map_bytes >> 10), (u32)sizeof(struct page), PAGE_SIZE >> 10);
}
