/*
 * Page-table accessors, one set for both paging formats.  The format itself
 * (entry size, levels, how an entry is written) lives in pgtable-2level.h or
 * pgtable-3level.h; this file adds what is common: the entry bits, building
 * and testing entries, and walking the kernel's own tables.
 *
 * Names: a "frame" is a 4 KiB hardware frame number (MMUPAGE_SIZE); page
 * descriptors and the page allocator deal in clusters (mm/page.h).
 */
#ifndef ARCH_PGTABLE_H
#define ARCH_PGTABLE_H
#include "lib/types.h"
#include "arch/layout.h"

#if CONFIG_X86_PAE
#include "arch/pgtable-3level.h"
#else
#include "arch/pgtable-2level.h"
#endif

#define MMUPAGE_SHIFT 12
#define MMUPAGE_SIZE (1u << MMUPAGE_SHIFT) /* the hardware page: 4 KiB */
#define MMUPAGE_MASK (~(MMUPAGE_SIZE - 1))
#define PMD_SIZE (1u << PMD_SHIFT)
#define PMD_MASK (~(PMD_SIZE - 1))
#define PGDIR_SIZE (1ull << PGDIR_SHIFT)
#define LARGE_PAGE_SIZE (1u << LARGE_PAGE_SHIFT)

/* Entry bits (SDM vol. 3 4.3 tables 4-4..4-6, 4.4 tables 4-8..4-11). */
#define _PAGE_PRESENT 0x001ull
#define _PAGE_RW 0x002ull
#define _PAGE_USER 0x004ull
#define _PAGE_PWT 0x008ull
#define _PAGE_PCD 0x010ull
#define _PAGE_ACCESSED 0x020ull
#define _PAGE_DIRTY 0x040ull
#define _PAGE_PSE 0x080ull    /* in a PDE: maps a large page */
#define _PAGE_GLOBAL 0x100ull /* honoured with CR4.PGE (SDM 4.10.2.4) */
#define _PAGE_PROTNONE 0x200ull /* software: P=0 but the frame stays mapped (bits 11:9 are ignored, SDM 4.3/4.4) */
#if CONFIG_X86_PAE
#define _PAGE_NX (1ull << 63) /* XD, with EFER.NXE (SDM 4.4.2) */
#else
#define _PAGE_NX 0ull         /* 32-bit entries have no XD bit */
#endif
#define _PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)
#define _KERNPG_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)

/* What the boot CPU lets us use; set by paging_init from CPUID. */
extern u64 __supported_pte_mask; /* clears _PAGE_NX / _PAGE_GLOBAL when absent */

/* Kernel protections; GLOBAL and NX are masked by __supported_pte_mask. */
#define PAGE_KERNEL (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL | _PAGE_NX)
#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL | _PAGE_NX)
#define PAGE_KERNEL_RX (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL)

static inline pte_t mk_pte_frame(u64 frame, u64 prot)
{
	return __pte((frame << MMUPAGE_SHIFT) | (prot & __supported_pte_mask));
}
static inline u64 pte_frame(pte_t p) { return (pte_val(p) & PTE_ADDR_MASK) >> MMUPAGE_SHIFT; }
static inline bool pte_present(pte_t p) { return pte_val(p) & _PAGE_PRESENT; }
static inline bool pte_none(pte_t p) { return pte_val(p) == 0; }
static inline bool pte_write(pte_t p) { return pte_val(p) & _PAGE_RW; }
static inline bool pte_young(pte_t p) { return pte_val(p) & _PAGE_ACCESSED; }
static inline bool pte_dirty(pte_t p) { return pte_val(p) & _PAGE_DIRTY; }
static inline pte_t ptep_get(pte_t *ptep) { return __pte(pte_val(*(volatile pte_t *)ptep)); }

static inline bool pmd_present(pmd_t p) { return pmd_val(p) & _PAGE_PRESENT; }
static inline bool pmd_large(pmd_t p) { return pmd_val(p) & _PAGE_PSE; }
static inline u64 pmd_table_paddr(pmd_t p) { return pmd_val(p) & PTE_ADDR_MASK; }

static inline u32 pgd_index(u32 addr) { return addr >> PGDIR_SHIFT; }
static inline u32 pmd_index(u32 addr) { return (addr >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline u32 pte_index(u32 addr) { return (addr >> MMUPAGE_SHIFT) & (PTRS_PER_PTE - 1); }

/* The kernel's page tables: the PGD every address space copies or shares. */
extern pgd_t *swapper_pg_dir;

static inline pgd_t *pgd_offset_k(u32 addr) { return swapper_pg_dir + pgd_index(addr); }

/* The PTE of addr in a page table that lives in lowmem (kernel page tables
 * only: user page tables may be in HighMem and go through pte_offset_map). */
static inline pte_t *pte_offset_kernel(pmd_t *pmd, u32 addr)
{
	return (pte_t *)phys_to_virt((u32)pmd_table_paddr(*pmd)) + pte_index(addr);
}

/*
 * Clears the accessed bit (bit 5, in the low word of both formats) with one
 * locked instruction: another CPU's page walk may set the dirty bit in the
 * same entry meanwhile (SDM vol. 3 4.8), and a plain read-modify-write
 * would write that back as clean (SDM vol. 3 8.1.2.2: LOCK BTR is atomic).
 */
static inline void ptep_clear_young(pte_t *ptep)
{
	__asm__ __volatile__("lock; btrl $5, %0" : "+m"(*(volatile u32 *)ptep) : : "memory");
}

/* TLB primitives (SDM vol. 3 4.10.4). */
static inline void invlpg(u32 addr)
{
	__asm__ __volatile__("invlpg (%0)" : : "r"(addr) : "memory");
}
/* Flushes every non-global translation. */
void flush_tlb_local(void);
/* Flushes global translations too (toggles CR4.PGE, SDM 4.10.4.1). */
void flush_tlb_all_local(void);

/*
 * User page tables.  pgd_alloc_user builds the top levels of a new address
 * space in lowmem (2-level: a page directory; PAE: a PDPT and three user page
 * directories, allocated now and never changed, since a PDPTE change needs a
 * CR3 reload, SDM 4.4.1) with the kernel's part shared; NULL if out of memory.
 */
pgd_t *pgd_alloc_user(void);
void pgd_free_user(pgd_t *pgd);
/* The PMD entry (PDE) of a user address; its table is in lowmem. */
pmd_t *user_pmd(pgd_t *pgd, u32 addr);
/* A PDE pointing at a user PTE table (user-accessible, writable: the PTEs decide). */
static inline pmd_t mk_pmd_user_table(u64 frame)
{
	return __pmd((frame << MMUPAGE_SHIFT) | _PAGE_TABLE);
}
static inline void pmd_clear(pmd_t *pmd)
{
	set_pmd(pmd, __pmd(0));
}
static inline u32 pgd_cr3(pgd_t *pgd) { return virt_to_phys(pgd); }

/* The kernel page tables' PMD entry (the PDE) for a kernel address. */
pmd_t *kernel_pmd(u32 addr);

/*
 * Kernel mappings: the PTE slot of a kernel virtual address in the
 * fixmap, pkmap or vmalloc range (their page tables exist from boot).
 */
pte_t *kernel_pte(u32 vaddr);

#endif
