/*
 * Boot memory: a bump allocator for what the kernel needs before the page
 * allocator exists (kernel page tables, page descriptors, the allocator's own
 * tables).  It hands out lowmem upward from a floor, in at most a few
 * contiguous ranges; whatever it handed out stays reserved for good, and the
 * page allocator takes the rest.
 *
 * The page tables come first, below 16 MiB (the boot tables map only that);
 * then the floor moves to 16 MiB so the page descriptors, by far the largest
 * allocation, do not eat the DMA zone.
 */
#ifndef MM_BOOTMEM_H
#define MM_BOOTMEM_H
#include "mm/page.h"
#include "mm/memmap.h"

#define BOOTMEM_RANGES 4

void bootmem_init(const struct memmap *map, phys_addr_t start);
/* Allocations stay below limit. */
void bootmem_set_limit(phys_addr_t limit);
/* Later allocations start at floor or above where RAM allows (else anywhere). */
void bootmem_set_floor(phys_addr_t floor);
/* size bytes aligned to align, zeroed, direct-mapped; panics when lowmem runs out. */
void *bootmem_alloc(u32 size, u32 align);
/* The ranges handed out, each [start, end); returns how many. */
int bootmem_used(phys_addr_t *start, phys_addr_t *end, int max);
/* Bytes handed out so far. */
u64 bootmem_bytes(void);
/* The page allocator has taken over: later bootmem_alloc calls panic. */
void bootmem_retire(void);

#endif
