/*
 * PAE paging: a 4-entry PDPT, page directories and page tables of 512
 * 64-bit entries (SDM vol. 3 4.4).  pgd_t is the PDPTE, pmd_t the PDE.
 * Included only through arch/pgtable.h.
 */
#ifndef ARCH_PGTABLE_3LEVEL_H
#define ARCH_PGTABLE_3LEVEL_H

typedef u64 pteval_t;
typedef struct { u32 pte_low, pte_high; } pte_t;
typedef struct { u32 pmd_low, pmd_high; } pmd_t;
typedef struct { u64 pgd; } pgd_t;

#define PGTABLE_LEVELS 3
#define PGDIR_SHIFT 30          /* a PDPTE maps 1 GiB (SDM 4.4.1) */
#define PMD_SHIFT 21            /* a PDE maps 2 MiB (SDM 4.4.2) */
#define PTRS_PER_PGD 4
#define PTRS_PER_PMD 512
#define PTRS_PER_PTE 512
#define PTE_ADDR_MASK 0x000ffffffffff000ull /* bits M-1:12, M <= 52 */
#define LARGE_PAGE_SHIFT 21     /* 2 MiB pages: PDE.PS, whatever CR4.PSE says (SDM 4.4.2) */

static inline u64 pte_val(pte_t p) { return ((u64)p.pte_high << 32) | p.pte_low; }
static inline pte_t __pte(u64 v) { return (pte_t){ (u32)v, (u32)(v >> 32) }; }
static inline u64 pmd_val(pmd_t p) { return ((u64)p.pmd_high << 32) | p.pmd_low; }
static inline pmd_t __pmd(u64 v) { return (pmd_t){ (u32)v, (u32)(v >> 32) }; }

/*
 * A 64-bit entry takes two 32-bit stores.  Making it present: the high half
 * first, then the low half that holds P, so the CPU never walks a present
 * entry with half an address (SDM 4.4; paging-rules "Writing a 64-bit entry").
 */
static inline void set_pte(pte_t *ptep, pte_t v)
{
	*(volatile u32 *)&ptep->pte_high = v.pte_high;
	barrier();
	*(volatile u32 *)&ptep->pte_low = v.pte_low;
}

/* Clearing: the low half (P) first, then the high half. */
static inline void pte_clear(pte_t *ptep)
{
	*(volatile u32 *)&ptep->pte_low = 0;
	barrier();
	*(volatile u32 *)&ptep->pte_high = 0;
}

/* xchg on the low half is atomic against the CPU's A/D updates (SDM 4.8);
 * once P is clear the CPU no longer writes the entry, so the high half is
 * read and cleared afterwards. */
static inline pte_t ptep_get_and_clear(pte_t *ptep)
{
	u32 low = 0;
	__asm__ __volatile__("xchgl %0, %1" : "+r"(low), "+m"(ptep->pte_low) : : "memory");
	pte_t old = { low, ptep->pte_high };
	*(volatile u32 *)&ptep->pte_high = 0;
	return old;
}

static inline void set_pmd(pmd_t *pmdp, pmd_t v)
{
	*(volatile u32 *)&pmdp->pmd_high = v.pmd_high;
	barrier();
	*(volatile u32 *)&pmdp->pmd_low = v.pmd_low;
}

/* The page directory a PDPTE points to (always in lowmem), entry for addr. */
static inline pmd_t *pmd_offset(pgd_t *pgd, u32 addr)
{
	return (pmd_t *)phys_to_virt((u32)(pgd->pgd & PTE_ADDR_MASK)) + ((addr >> PMD_SHIFT) & 511);
}

#endif
