/* The `# lowmem:` line (see lowmem.h). */
#include "mm/lowmem.h"
#include "kernel/printk.h"
#include "arch/layout.h"

/* Usable bytes of map below limit. */
static u64 usable_below(const struct memmap *map, u64 limit)
{
	u64 sum = 0;

	for (int i = 0; i < map->n; i++) {
		u64 b = map->r[i].base, e = b + map->r[i].len;
		if (b < limit)
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
	u64 ram = usable_below(map, ~0ull);
	u64 low = usable_below(map, LOWMEM_MAX);
	u64 kernel = (u64)(u32)__kernel_phys_end - (u64)(u32)__kernel_phys_start;
	u64 mem_map = 0; /* no page descriptors yet */

	if (!CONFIG_HIGHMEM && ram > low)
		pr_warn("nohighmem variant: %llu MiB of RAM above lowmem left unused\n",
			(ram - low) >> 20);
	printk("# lowmem: ram_kib=%llu lowmem_kib=%llu mem_map_kib=%llu free_lowmem_kib=%llu\n",
	       (CONFIG_HIGHMEM ? ram : low) >> 10, low >> 10, mem_map >> 10,
	       (low - kernel - mem_map) >> 10);
}
