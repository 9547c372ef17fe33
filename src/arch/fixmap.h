/*
 * The fixmap: virtual pages at fixed addresses at the top of the address
 * space whose physical target is set at run time, and the pkmap window
 * below it (see the diagram in layout.h).  Their page tables are kernel
 * page tables, allocated in lowmem at boot, so setting a slot never
 * allocates.
 */
#ifndef ARCH_FIXMAP_H
#define ARCH_FIXMAP_H
#include "arch/pgtable.h"

#include "arch/smp.h" /* NR_CPUS */

/*
 * kmap_atomic slot types.  Users that may nest get their own type, so an
 * interrupt that maps a page never clobbers the slot the code it
 * interrupted holds: PTE0/PTE1 for page tables (two at once when copying
 * at fork), USER0/USER1 for copying between two pages, IRQ0/IRQ1 for
 * interrupt context, SWAP for swap I/O, TEST for the selftests.
 */
enum km_type {
	KM_PTE0,
	KM_PTE1,
	KM_USER0,
	KM_USER1,
	KM_IRQ0,
	KM_IRQ1,
	KM_SWAP,
	KM_TEST,
	KM_TYPE_NR,
};

enum fixed_addresses {
	FIX_HOLE,      /* the last page stays unmapped */
	FIX_APIC_BASE, /* local APIC registers */
	FIX_IO_APIC,
	FIX_KMAP_BEGIN,
	FIX_KMAP_END = FIX_KMAP_BEGIN + KM_TYPE_NR * NR_CPUS - 1,
	__end_of_fixed_addresses,
};

#define FIXADDR_TOP 0xfffff000u
#define FIXADDR_SIZE ((u32)__end_of_fixed_addresses << MMUPAGE_SHIFT)
#define FIXADDR_START (FIXADDR_TOP - FIXADDR_SIZE + MMUPAGE_SIZE)
#define __fix_to_virt(i) (FIXADDR_TOP - ((u32)(i) << MMUPAGE_SHIFT))

static inline u32 fix_to_virt(enum fixed_addresses idx)
{
	return __fix_to_virt(idx);
}

static inline enum fixed_addresses virt_to_fix(u32 vaddr)
{
	return (enum fixed_addresses)((FIXADDR_TOP - (vaddr & MMUPAGE_MASK)) >> MMUPAGE_SHIFT);
}

/* The pkmap window: one whole page table, in the PMD below the fixmap's. */
#define LAST_PKMAP PTRS_PER_PTE
#define PKMAP_BASE ((FIXADDR_START & PMD_MASK) - PMD_SIZE)
#define PKMAP_ADDR(nr) (PKMAP_BASE + ((u32)(nr) << MMUPAGE_SHIFT))
#define PKMAP_NR(vaddr) (((vaddr) - PKMAP_BASE) >> MMUPAGE_SHIFT)
#define VMALLOC_END (PKMAP_BASE - 2 * MMUPAGE_SIZE)

_Static_assert(FIXADDR_START >= (FIXADDR_TOP & PMD_MASK), "the fixmap must fit in one page table");

#endif
