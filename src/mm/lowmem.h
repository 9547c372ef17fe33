/* Lowmem accounting: the `# lowmem:` line every run prints before its tests. */
#ifndef MM_LOWMEM_H
#define MM_LOWMEM_H
#include "mm/memmap.h"

/* Usable bytes of map in [FIRST_MANAGED_PHYS, limit): the RAM that has
 * descriptors, up to limit. */
u64 managed_ram_below(const struct memmap *map, u64 limit);

/* The end of the direct map: the end of usable RAM, at most LOWMEM_MAX. */
u32 lowmem_end(const struct memmap *map);

/*
 * Prints
 *   # lowmem: ram_kib=R lowmem_kib=L mem_map_kib=M free_lowmem_kib=F
 * R: usable RAM managed (from 1 MiB up; all of it in highmem variants, the
 * lowmem part in nohighmem ones); L: the part below LOWMEM_MAX; M: page
 * descriptors and any other per-page metadata; F: lowmem the page allocator
 * still has free.
 */
void lowmem_report(const struct memmap *map);

#endif
