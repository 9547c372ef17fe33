/* The `# lowmem:` line (see lowmem.h). */
#include "mm/lowmem.h"
#include "kernel/printk.h"
#include "arch/layout.h"
#include "mm/page.h"
#include "mm/page_alloc.h"

u64 managed_ram_below(const struct memmap *map, u64 limit)
{
	u64 sum = 0;

	for (int i = 0; i < map->n; i++) {
		u64 b = MAX(map->r[i].base, FIRST_MANAGED_PHYS), e = map->r[i].base + map->r[i].len;
		if (b < MIN(e, limit))
			sum += MIN(e, limit) - b;
	}
	return sum;
}

u32 lowmem_end(const struct memmap *map)
{
	u64 end = 0;

	for (int i = 0; i < map->n; i++)
		end = MAX(end, map->r[i].base + map->r[i].len);
	return (u32)MIN(end, (u64)LOWMEM_MAX);
}

void lowmem_report(const struct memmap *map)
{
	u64 ram = managed_ram_below(map, ~0ull);
	u64 low = managed_ram_below(map, LOWMEM_MAX);

	if (!CONFIG_HIGHMEM && ram > low)
		pr_warn("nohighmem variant: %llu MiB of RAM above lowmem left unused\n",
			(ram - low) >> 20);
	printk("# lowmem: ram_kib=%llu lowmem_kib=%llu mem_map_kib=%llu free_lowmem_kib=%llu\n",
	       (CONFIG_HIGHMEM ? ram : low) >> 10, low >> 10, mem_map_bytes >> 10,
	       free_lowmem_bytes() >> 10);
}
