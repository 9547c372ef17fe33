/*
 * Reaching user PTEs.  In the highpte variants user PTE pages live in
 * HighMem, so a pointer to a user PTE exists only between pte_offset_map()
 * and pte_unmap(): the PTE page is mapped with kmap_atomic in this CPU's
 * KM_PTE0 slot (KM_PTE1 for the _nested pair, when two tables are needed at
 * once, as fork copies them).  In the other variants the same calls cost a
 * direct-map pointer and nothing else.  There is deliberately no plain
 * pte_offset: code that was not converted does not compile.
 */
#ifndef MM_HIGHPTE_H
#define MM_HIGHPTE_H
#include "arch/pgtable.h"
#include "mm/highmem.h"

static inline pte_t *__pte_map(pmd_t *pmd, u32 addr, enum km_type type)
{
	u64 table = pmd_table_paddr(*pmd);
#if CONFIG_HIGHPTE
	return (pte_t *)kmap_atomic_frame(table >> MMUPAGE_SHIFT, type) + pte_index(addr);
#else
	(void)type;
	return (pte_t *)phys_to_virt((u32)table) + pte_index(addr);
#endif
}

static inline void __pte_unmap(pte_t *pte, enum km_type type)
{
#if CONFIG_HIGHPTE
	kunmap_atomic((void *)((u32)pte & MMUPAGE_MASK), type);
#else
	(void)pte;
	(void)type;
#endif
}

#define pte_offset_map(pmd, addr) __pte_map(pmd, addr, KM_PTE0)
#define pte_offset_map_nested(pmd, addr) __pte_map(pmd, addr, KM_PTE1)
#define pte_unmap(pte) __pte_unmap(pte, KM_PTE0)
#define pte_unmap_nested(pte) __pte_unmap(pte, KM_PTE1)

#endif
