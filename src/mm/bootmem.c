/* Boot memory (see bootmem.h). */
#include "mm/bootmem.h"
#include "kernel/panic.h"
#include "lib/string.h"

struct range {
	phys_addr_t start, end;
};

static const struct memmap *bm_map;
static struct range bm_used[BOOTMEM_RANGES];
static int bm_nr;
static phys_addr_t bm_start, bm_floor, bm_limit;
static bool bm_retired;

void bootmem_init(const struct memmap *map, phys_addr_t start)
{
	bm_map = map;
	bm_start = bm_floor = start;
	bm_limit = LOWMEM_MAX;
	bm_nr = 0;
}

void bootmem_set_limit(phys_addr_t limit)
{
	bm_limit = limit;
}

void bootmem_set_floor(phys_addr_t floor)
{
	bm_floor = floor;
}

/* The used range overlapping [at, at + size), or NULL. */
static const struct range *bootmem_overlap(phys_addr_t at, u32 size)
{
	for (int i = 0; i < bm_nr; i++)
		if (at < bm_used[i].end && at + size > bm_used[i].start)
			return &bm_used[i];
	return NULL;
}

/* The lowest address >= at where size bytes fit in one usable region below
 * the limit, clear of everything handed out so far. */
static bool bootmem_fit(phys_addr_t at, u32 size, u32 align, phys_addr_t *out)
{
	for (int i = 0; i < bm_map->n; i++) {
		const struct mem_region *r = &bm_map->r[i];
		phys_addr_t end = MIN(r->base + r->len, bm_limit);
		phys_addr_t b = ALIGN_UP(MAX(at, r->base), (phys_addr_t)align);
		const struct range *u;
		while (b + size <= end && (u = bootmem_overlap(b, size)))
			b = ALIGN_UP(u->end, (phys_addr_t)align);
		if (b + size <= end) {
			*out = b;
			return true;
		}
	}
	return false;
}

/* Records [at, at+size): extends the range it continues, else starts one. */
static void bootmem_record(phys_addr_t at, u32 size)
{
	for (int i = 0; i < bm_nr; i++)
		if (bm_used[i].end <= at && at - bm_used[i].end < MMUPAGE_SIZE) {
			bm_used[i].end = at + size;
			return;
		}
	if (bm_nr == BOOTMEM_RANGES)
		panic("bootmem: more than %d separate ranges", BOOTMEM_RANGES);
	bm_used[bm_nr++] = (struct range){ at, at + size };
}

void *bootmem_alloc(u32 size, u32 align)
{
	phys_addr_t at;

	if (bm_retired)
		panic("bootmem_alloc(%u) after the page allocator took over", size);
	align = MAX(align, 4u);
	/* Above the floor if RAM allows, else anywhere above the kernel. */
	if (!bootmem_fit(bm_floor, size, align, &at) && !bootmem_fit(bm_start, size, align, &at))
		panic("out of boot memory: %u bytes wanted below %llu MiB", size, bm_limit >> 20);
	bootmem_record(at, size);
	void *va = phys_to_virt((u32)at);
	memset(va, 0, size);
	return va;
}

int bootmem_used(phys_addr_t *start, phys_addr_t *end, int max)
{
	int n = MIN(bm_nr, max);
	for (int i = 0; i < n; i++) {
		start[i] = bm_used[i].start;
		end[i] = bm_used[i].end;
	}
	return n;
}

u64 bootmem_bytes(void)
{
	u64 sum = 0;
	for (int i = 0; i < bm_nr; i++)
		sum += bm_used[i].end - bm_used[i].start;
	return sum;
}

void bootmem_retire(void)
{
	bm_retired = true;
}
