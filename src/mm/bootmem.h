/*
 * Boot memory: a bump allocator for what the kernel needs before the page
 * allocator exists (kernel page tables, page descriptors, the allocator's own
 * tables).  It hands out lowmem upward from the end of the kernel image;
 * everything below its cursor stays reserved for good.
 */
#ifndef MM_BOOTMEM_H
#define MM_BOOTMEM_H
#include "mm/page.h"
#include "mm/memmap.h"

void bootmem_init(const struct memmap *map, phys_addr_t start);
/* Allocations stay below limit (the early page tables map only 16 MiB). */
void bootmem_set_limit(phys_addr_t limit);
/* size bytes aligned to align, zeroed, direct-mapped; panics when lowmem runs out. */
void *bootmem_alloc(u32 size, u32 align);
/* The cursor: physical memory from the kernel's end up to here is in use. */
phys_addr_t bootmem_cursor(void);
phys_addr_t bootmem_start(void);
/* The page allocator has taken over: later bootmem_alloc calls panic. */
void bootmem_retire(void);

#endif
