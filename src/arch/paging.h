/* Building and switching to the kernel's page tables. */
#ifndef ARCH_PAGING_H
#define ARCH_PAGING_H
#include "arch/fixmap.h"
#include "mm/memmap.h"

/* What paging_init chose, for the boot log and the selftests. */
struct paging_info {
	bool pse, pge, nx;     /* large pages, global pages, no-execute in use */
	u32 lowmem_end;        /* physical end of the direct map */
	u32 large_pages, small_pages; /* direct-map entries of each size */
	u32 table_pages;       /* kernel page-table pages allocated */
};
extern struct paging_info paging_info;

/*
 * Builds the kernel page tables in lowmem (boot memory): the direct map of
 * physical [0, lowmem_end) at PAGE_OFFSET (large pages where the CPU allows,
 * 4 KiB pages around the kernel image so text is read-only and data is
 * non-executable), and the page tables of the vmalloc, pkmap and fixmap
 * ranges; then loads them (switching to PAE in the 64g variants) and turns
 * on global pages.  The boot tables' identity map is gone afterwards.
 */
void paging_init(u32 lowmem_end);
/* Maps (on) or unmaps (off) physical 0 at virtual 0 with one large page in
 * the kernel's tables, for the AP trampoline; false if the CPU has no large
 * pages to do it with. */
bool identity_map_low(bool on);
/* Points a fixmap slot at a 4 KiB frame (prot: PAGE_KERNEL...); no flush. */
void set_fixmap_pte(enum fixed_addresses idx, u64 frame, u64 prot);

#endif
