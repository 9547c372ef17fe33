/* Lowmem accounting: the `# lowmem:` line every run prints before its tests. */
#ifndef MM_LOWMEM_H
#define MM_LOWMEM_H
#include "mm/memmap.h"

/* Physical memory at or above this is not directly mapped (HighMem). */
#define LOWMEM_LIMIT 0x38000000ull /* 896 MiB */

/*
 * Prints
 *   # lowmem: ram_kib=R lowmem_kib=L mem_map_kib=M free_lowmem_kib=F
 * R: usable RAM managed; L: the part below LOWMEM_LIMIT; M: page descriptors
 * and other per-page metadata; F: lowmem still free.
 */
void lowmem_report(const struct memmap *map);

#endif
