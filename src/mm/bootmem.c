/* Boot memory (see bootmem.h). */
#include "mm/bootmem.h"
#include "kernel/panic.h"
#include "lib/string.h"

static const struct memmap *bm_map;
static phys_addr_t bm_start, bm_cursor, bm_limit;
static bool bm_retired;

void bootmem_init(const struct memmap *map, phys_addr_t start)
{
	bm_map = map;
	bm_start = bm_cursor = ALIGN_UP(start, (phys_addr_t)PAGE_SIZE);
	bm_limit = LOWMEM_MAX;
}

void bootmem_set_limit(phys_addr_t limit)
{
	bm_limit = limit;
}

/* The first address >= at where [at, at+size) fits in one usable region below the limit. */
static bool bootmem_fit(phys_addr_t at, u32 size, u32 align, phys_addr_t *out)
{
	for (int i = 0; i < bm_map->n; i++) {
		const struct mem_region *r = &bm_map->r[i];
		phys_addr_t b = ALIGN_UP(MAX(at, r->base), (phys_addr_t)align);
		phys_addr_t end = MIN(r->base + r->len, bm_limit);
		if (b + size <= end) {
			*out = b;
			return true;
		}
	}
	return false;
}

void *bootmem_alloc(u32 size, u32 align)
{
	phys_addr_t at;

	if (bm_retired)
		panic("bootmem_alloc(%u) after the page allocator took over", size);
	if (!bootmem_fit(bm_cursor, size, MAX(align, 4u), &at))
		panic("out of boot memory: %u bytes wanted below %llu MiB, cursor at %llu KiB",
		      size, bm_limit >> 20, bm_cursor >> 10);
	bm_cursor = at + size;
	void *va = phys_to_virt((u32)at);
	memset(va, 0, size);
	return va;
}

phys_addr_t bootmem_cursor(void)
{
	return bm_cursor;
}

phys_addr_t bootmem_start(void)
{
	return bm_start;
}

void bootmem_retire(void)
{
	bm_retired = true;
}
