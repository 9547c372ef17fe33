/*
 * 32-bit (2-level) paging: 1024-entry page directory and page tables of
 * 32-bit entries (SDM vol. 3 4.3).  The PMD level is folded into the PGD:
 * a pmd_t is the PDE itself.  Included only through arch/pgtable.h.
 */
#ifndef ARCH_PGTABLE_2LEVEL_H
#define ARCH_PGTABLE_2LEVEL_H

typedef u32 pteval_t;
typedef struct { u32 pte; } pte_t;
typedef struct { u32 pmd; } pmd_t;
typedef struct { u32 pgd; } pgd_t;

#define PGTABLE_LEVELS 2
#define PGDIR_SHIFT 22          /* a PDE maps 4 MiB (SDM 4.3) */
#define PMD_SHIFT 22
#define PTRS_PER_PGD 1024
#define PTRS_PER_PMD 1
#define PTRS_PER_PTE 1024
#define PTE_ADDR_MASK 0xfffff000ull /* bits 31:12 */
#define LARGE_PAGE_SHIFT 22     /* 4 MiB pages with CR4.PSE (SDM 4.3) */

static inline u64 pte_val(pte_t p) { return p.pte; }
static inline pte_t __pte(u64 v) { return (pte_t){ (u32)v }; }
static inline u64 pmd_val(pmd_t p) { return p.pmd; }
static inline pmd_t __pmd(u64 v) { return (pmd_t){ (u32)v }; }

/* A 32-bit entry is written in one store: no ordering to care about. */
static inline void set_pte(pte_t *ptep, pte_t v) { *(volatile u32 *)&ptep->pte = v.pte; }
static inline void pte_clear(pte_t *ptep) { *(volatile u32 *)&ptep->pte = 0; }

/* Clears the entry and returns its old value atomically, so Accessed and
 * Dirty bits the CPU sets meanwhile are not lost (SDM 4.8). */
static inline pte_t ptep_get_and_clear(pte_t *ptep)
{
	u32 old = 0;
	__asm__ __volatile__("xchgl %0, %1" : "+r"(old), "+m"(ptep->pte) : : "memory");
	return (pte_t){ old };
}

static inline void set_pmd(pmd_t *pmdp, pmd_t v) { *(volatile u32 *)&pmdp->pmd = v.pmd; }

/* With the PMD folded, the PGD entry is the PMD entry. */
static inline pmd_t *pmd_offset(pgd_t *pgd, u32 addr) { return (pmd_t *)pgd; }

#endif
