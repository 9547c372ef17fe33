/*
 * The kernel page tables (see paging.h).  Format-independent: the walk
 * goes through kernel_pmd() and the pgtable accessors; what differs between
 * 2-level and PAE is in pgtable-2level.c and pgtable-3level.c.
 */
#include "arch/paging.h"
#include "arch/pgtable_setup.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "arch/traps.h"
#include "mm/bootmem.h"
#include "kernel/panic.h"
#include "kernel/printk.h"

u64 __supported_pte_mask = ~0ull;
pgd_t *swapper_pg_dir;
struct paging_info paging_info;

extern char boot_stack_guard[];

void flush_tlb_local(void)
{
	write_cr3(read_cr3()); /* drops non-global entries (SDM 4.10.4.1) */
}

void flush_tlb_all_local(void)
{
	u32 cr4 = read_cr4();

	if (cr4 & CR4_PGE) {
		/* Clearing CR4.PGE flushes global entries too (SDM 4.10.4.1). */
		write_cr4(cr4 & ~CR4_PGE);
		write_cr4(cr4);
	} else {
		flush_tlb_local();
	}
}

/* The PTE page under addr's PDE, allocated (in boot memory) if missing. */
static pte_t *kernel_pte_alloc(u32 addr)
{
	pmd_t *pmd = kernel_pmd(addr);

	if (!pmd_present(*pmd)) {
		pte_t *table = bootmem_alloc(MMUPAGE_SIZE, MMUPAGE_SIZE);
		paging_info.table_pages++;
		set_pmd(pmd, mk_pmd_table(virt_to_phys(table)));
	}
	BUG_ON(pmd_large(*pmd));
	return pte_offset_kernel(pmd, addr);
}

pte_t *kernel_pte(u32 vaddr)
{
	pmd_t *pmd = kernel_pmd(vaddr);

	if (!pmd_present(*pmd) || pmd_large(*pmd))
		panic("kernel_pte(%08x): no page table there", vaddr);
	return pte_offset_kernel(pmd, vaddr);
}

/* Text is read-only and executable, rodata read-only, the rest read-write
 * and non-executable (when the CPU has NX). */
static u64 direct_prot(u32 pa)
{
	u32 va = PAGE_OFFSET + pa;

	if (pa >= (u32)__kernel_phys_start && va < (u32)__text_end)
		return PAGE_KERNEL_RX;
	if (va >= (u32)__rodata_start && va < (u32)__rodata_end)
		return PAGE_KERNEL_RO;
	return PAGE_KERNEL;
}

/* Direct map of [0, end): 4 KiB pages up to the kernel's last large page, large pages after. */
static void map_direct(u32 end, bool large)
{
	u32 small_end = ALIGN_UP(virt_to_phys(__kernel_end), LARGE_PAGE_SIZE);

	for (u32 pa = 0; pa < end;) {
		u32 va = PAGE_OFFSET + pa;
		if (large && pa >= small_end && !(pa & (LARGE_PAGE_SIZE - 1)) &&
		    end - pa >= LARGE_PAGE_SIZE) {
			set_pmd(kernel_pmd(va), mk_pmd_large(pa, PAGE_KERNEL));
			paging_info.large_pages++;
			pa += LARGE_PAGE_SIZE;
		} else {
			set_pte(kernel_pte_alloc(va), mk_pte_frame(pa >> MMUPAGE_SHIFT, direct_prot(pa)));
			paging_info.small_pages++;
			pa += MMUPAGE_SIZE;
		}
	}
	/* The page under the boot stack stays unmapped: an overflow double-faults. */
	pte_clear(kernel_pte((u32)boot_stack_guard));
}

void paging_init(u32 lowmem_end)
{
	struct paging_info *pi = &paging_info;

	pi->pse = large_pages_possible(boot_cpu.pse);
	pi->pge = boot_cpu.pge;
	pi->nx = CONFIG_X86_PAE && boot_cpu.nx;
	pi->lowmem_end = lowmem_end;
	if (!pi->pge)
		__supported_pte_mask &= ~_PAGE_GLOBAL;
	if (!pi->nx)
		__supported_pte_mask &= ~_PAGE_NX;

	bootmem_set_limit(EARLY_MAP_END); /* the tables are written through the boot map */
	swapper_pg_dir = pgd_alloc_kernel();
	map_direct(lowmem_end, pi->pse);
	/* vmalloc, pkmap and fixmap: their page tables exist from now on. */
	for (u64 va = VMALLOC_START & PMD_MASK; va < 0x100000000ull; va += PMD_SIZE)
		kernel_pte_alloc((u32)va);

	load_kernel_tables(pi->pse && !CONFIG_X86_PAE);
	drop_boot_identity();
	tss_df.cr3 = read_cr3(); /* the double-fault task runs on these tables too */
	if (pi->pge)
		write_cr4(read_cr4() | CR4_PGE); /* global entries from now on (SDM 4.10.2.4) */
	bootmem_set_limit(lowmem_end);
	pr_info("paging: %s, direct map of %u MiB with %u large and %u small pages, "
		"%u page-table pages; pse %s, pge %s, nx %s\n",
		CONFIG_X86_PAE ? "PAE" : "2-level", lowmem_end >> 20, pi->large_pages,
		pi->small_pages, pi->table_pages, pi->pse ? "on" : "off", pi->pge ? "on" : "off",
		pi->nx ? "on" : "off");
}

void set_fixmap_pte(enum fixed_addresses idx, u64 frame, u64 prot)
{
	set_pte(kernel_pte(fix_to_virt(idx)), mk_pte_frame(frame, prot));
}
