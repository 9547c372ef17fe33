/*
 * What each paging format's file (pgtable-2level.c, pgtable-3level.c) gives
 * paging.c for building the kernel page tables at boot.
 */
#ifndef ARCH_PGTABLE_SETUP_H
#define ARCH_PGTABLE_SETUP_H
#include "arch/pgtable.h"

#define CR4_PSE (1u << 4) /* SDM vol. 3 2.5 */
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)
#define MSR_EFER 0xc0000080u
#define EFER_NXE (1ull << 11)

/* The top level (page directory or PDPT with its four page directories). */
pgd_t *pgd_alloc_kernel(void);
pmd_t mk_pmd_table(u32 table_phys);
pmd_t mk_pmd_large(u32 phys, u64 prot);
bool large_pages_possible(bool cpu_pse);
/* Loads swapper_pg_dir into CR3 (through the PAE trampoline in 64g variants). */
void load_kernel_tables(bool use_pse);
/* Removes the temporary identity mapping load_kernel_tables needed. */
void drop_boot_identity(void);

#endif
