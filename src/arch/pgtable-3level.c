/*
 * The PAE half of the kernel page-table set-up: a PDPT of four entries, each
 * pointing to a page directory allocated now and kept for good (changing a
 * PDPTE needs a CR3 reload, SDM 4.4.1, so the kernel never changes them).
 * Turning PAE on while paging is on is not possible with a valid CR3 on both
 * sides, so a trampoline in identity-mapped low memory turns paging off,
 * loads CR4.PAE and CR3, and turns it back on.
 */
#include "arch/pgtable_setup.h"
#include "arch/paging.h"
#include "arch/io.h"
#include "arch/cpu.h"
#include "mm/bootmem.h"
#include "mm/ptpool.h"
#include "mm/slab.h"

/* boot.asm, linked at its physical address. */
void paging_enter_pae(u32 pdpt_phys, u32 cr4);

static pmd_t *kernel_pds[PTRS_PER_PGD];

/* The PDPT is 32 bytes, 32-byte aligned, below 4 GiB (CR3 holds 32 bits, SDM 4.4.1). */
pgd_t *pgd_alloc_kernel(void)
{
	pgd_t *pdpt = bootmem_alloc(32, 32);

	for (int i = 0; i < PTRS_PER_PGD; i++) {
		kernel_pds[i] = bootmem_alloc(MMUPAGE_SIZE, MMUPAGE_SIZE);
		/* A PDPTE has only P, PWT and PCD besides the address (SDM 4.4.1, table 4-8). */
		pdpt[i].pgd = virt_to_phys(kernel_pds[i]) | _PAGE_PRESENT;
	}
	return pdpt;
}

pmd_t *kernel_pmd(u32 addr)
{
	return kernel_pds[pgd_index(addr)] + pmd_index(addr);
}

pmd_t mk_pmd_table(u32 table_phys)
{
	return __pmd(table_phys | _KERNPG_TABLE);
}

/* 2 MiB pages: PDE.PS, address bits M-1:21 (SDM 4.4.2, table 4-9). */
pmd_t mk_pmd_large(u32 phys, u64 prot)
{
	return __pmd(((u64)phys | prot | _PAGE_PSE) & __supported_pte_mask);
}

bool large_pages_possible(bool cpu_pse)
{
	return true; /* PAE honours PDE.PS whatever CR4.PSE says (SDM 4.4.2) */
}

void load_kernel_tables(bool use_pse)
{
	/* The trampoline runs at its physical address: map it there for the switch. */
	set_pmd(kernel_pds[0], mk_pmd_large(0, PAGE_KERNEL_RX & ~_PAGE_GLOBAL));
	/* EFER.NXE before any entry with XD is walked (SDM 4.1.3; else XD is reserved). */
	if (__supported_pte_mask & _PAGE_NX)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	paging_enter_pae(virt_to_phys(swapper_pg_dir), read_cr4() | CR4_PAE | (use_pse ? CR4_PSE : 0));
}

void drop_boot_identity(void)
{
	pmd_t none = __pmd(0);
	set_pmd(kernel_pds[0], none);
	flush_tlb_local();
}

static struct kmem_cache *pdpt_cache;

/* A PDPT per address space: 32 bytes, 32-byte aligned, in lowmem (so below
 * 4 GiB, SDM 4.4.1).  The kernel's PDPTE points at the shared kernel PD. */
pgd_t *pgd_alloc_user(void)
{
	if (!pdpt_cache)
		pdpt_cache = kmem_cache_create("pae-pdpt", 32, 32);
	pgd_t *pdpt = kmem_cache_alloc(pdpt_cache, GFP_KERNEL | __GFP_ZERO);
	if (!pdpt)
		return NULL;
	for (int i = 0; i < PTRS_PER_PGD - 1; i++) {
		u64 frame = pt_alloc(PT_LOWMEM);
		if (!frame) {
			pgd_free_user(pdpt);
			return NULL;
		}
		pdpt[i].pgd = (frame << MMUPAGE_SHIFT) | _PAGE_PRESENT;
	}
	pdpt[PTRS_PER_PGD - 1] = swapper_pg_dir[PTRS_PER_PGD - 1];
	return pdpt;
}

void pgd_free_user(pgd_t *pdpt)
{
	for (int i = 0; i < PTRS_PER_PGD - 1; i++)
		if (pdpt[i].pgd & _PAGE_PRESENT)
			pt_free((pdpt[i].pgd & PTE_ADDR_MASK) >> MMUPAGE_SHIFT);
	kmem_cache_free(pdpt_cache, pdpt);
}

pmd_t *user_pmd(pgd_t *pgd, u32 addr)
{
	return pmd_offset(pgd + pgd_index(addr), addr);
}

bool identity_map_low(bool on)
{
	/* 2 MiB pages need nothing but PAE (SDM 4.4.2). */
	set_pmd(kernel_pds[0], on ? mk_pmd_large(0, PAGE_KERNEL_RX & ~_PAGE_GLOBAL) : __pmd(0));
	flush_tlb_local();
	return true;
}
