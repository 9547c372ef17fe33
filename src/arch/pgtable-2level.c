/*
 * The 2-level half of the kernel page-table set-up: one 1024-entry page
 * directory; switching to it is a CR3 load.
 */
#include "arch/pgtable_setup.h"
#include "arch/paging.h"
#include "arch/io.h"
#include "mm/bootmem.h"
#include "mm/ptpool.h"
#include "lib/string.h"

pgd_t *pgd_alloc_kernel(void)
{
	return bootmem_alloc(MMUPAGE_SIZE, MMUPAGE_SIZE);
}

pmd_t *kernel_pmd(u32 addr)
{
	return pmd_offset(pgd_offset_k(addr), addr);
}

pmd_t mk_pmd_table(u32 table_phys)
{
	return __pmd(table_phys | _KERNPG_TABLE);
}

/* A 4 MiB page needs CR4.PSE; the frame is in bits 31:22 (SDM 4.3, table 4-4). */
pmd_t mk_pmd_large(u32 phys, u64 prot)
{
	return __pmd((phys | prot | _PAGE_PSE) & __supported_pte_mask);
}

bool large_pages_possible(bool cpu_pse)
{
	return cpu_pse;
}

void load_kernel_tables(bool use_pse)
{
	/* CR4.PSE before the first walk that meets a PS=1 PDE (SDM 4.3). */
	if (use_pse)
		write_cr4(read_cr4() | CR4_PSE);
	write_cr3(virt_to_phys(swapper_pg_dir));
}

void drop_boot_identity(void)
{
	/* The new directory never had one. */
}

/* The kernel's PDEs (768-1023) are copied: its page tables never change
 * above the direct map, since vmalloc, pkmap and fixmap tables exist from boot. */
pgd_t *pgd_alloc_user(void)
{
	u64 frame = pt_alloc(PT_LOWMEM);
	u32 k = pgd_index(PAGE_OFFSET);

	if (!frame)
		return NULL;
	pgd_t *pgd = phys_to_virt((u32)(frame << MMUPAGE_SHIFT));
	memcpy(pgd + k, swapper_pg_dir + k, (PTRS_PER_PGD - k) * sizeof(pgd_t));
	return pgd;
}

void pgd_free_user(pgd_t *pgd)
{
	pt_free(virt_to_phys(pgd) >> MMUPAGE_SHIFT);
}

pmd_t *user_pmd(pgd_t *pgd, u32 addr)
{
	return (pmd_t *)(pgd + pgd_index(addr));
}

bool identity_map_low(bool on)
{
	if (!paging_info.pse)
		return false; /* a 4 MiB page needs CR4.PSE (SDM 4.3) */
	set_pmd((pmd_t *)swapper_pg_dir, on ? mk_pmd_large(0, PAGE_KERNEL_RX & ~_PAGE_GLOBAL) : __pmd(0));
	flush_tlb_local();
	return true;
}
