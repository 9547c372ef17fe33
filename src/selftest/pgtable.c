/*
 * Suite "pgtable": the page-table accessors of this variant's format and
 * the kernel page tables paging_init built, checked against the CPU.
 */
#include "selftest/ktest.h"
#include "arch/cpu.h"
#include "arch/fixmap.h"
#include "arch/io.h"
#include "arch/paging.h"
#include "arch/platform.h"
#include "arch/traps.h"
#include "mm/page.h"
#include "lib/string.h"

/* Entries written through set_pte read back whole, and clear in both halves. */
KTEST(pgtable, set_and_clear)
{
	static pte_t table[4] __aligned(16);
	/* A frame above 4 GiB needs the high half under PAE (SDM 4.4.2). */
	u64 frame = CONFIG_X86_PAE ? 0x123456ull : 0x12345ull;

	set_pte(&table[1], mk_pte_frame(frame, PAGE_KERNEL));
	KT_ASSERT(pte_present(table[1]));
	KT_ASSERT(pte_write(table[1]));
	KT_ASSERT_EQ(pte_frame(table[1]), frame);
	pte_t old = ptep_get_and_clear(&table[1]);
	KT_ASSERT_EQ(pte_frame(old), frame);
	KT_ASSERT(pte_none(table[1]));
	KT_ASSERT(pte_none(table[0]) && pte_none(table[2]));
	set_pte(&table[2], mk_pte_frame(frame, PAGE_KERNEL_RO));
	KT_ASSERT(!pte_write(table[2]));
	pte_clear(&table[2]);
	KT_ASSERT_EQ(pte_val(table[2]), 0);
	KT_ASSERT_EQ(sizeof(pte_t), CONFIG_X86_PAE ? 8 : 4);
	KT_ASSERT_EQ(PTRS_PER_PTE * sizeof(pte_t), MMUPAGE_SIZE);
}

/* The CPU runs the format the variant was built for. */
KTEST(pgtable, paging_mode)
{
	bool pae = read_cr4() & (1u << 5); /* CR4.PAE (SDM vol. 3 2.5) */
	KT_ASSERT_EQ(pae, CONFIG_X86_PAE);
	KT_ASSERT_EQ(virt_to_phys(swapper_pg_dir), read_cr3() & ~0x1fu);
}

/* The direct map: every lowmem address maps its physical twin. */
KTEST(pgtable, direct_map)
{
	u32 end = paging_info.lowmem_end;

	KT_ASSERT_GE(end, 16u << 20);
	for (u32 pa = 0; pa < end; pa += end / 64 + MMUPAGE_SIZE) {
		u32 va = PAGE_OFFSET + pa;
		pmd_t *pmd = kernel_pmd(va);
		KT_ASSERT(pmd_present(*pmd));
		u64 got = pmd_large(*pmd) ? (pmd_val(*pmd) & PTE_ADDR_MASK & ~(u64)(LARGE_PAGE_SIZE - 1)) +
						    (pa & (LARGE_PAGE_SIZE - 1) & MMUPAGE_MASK)
					  : pte_frame(*pte_offset_kernel(pmd, va)) << MMUPAGE_SHIFT;
		KT_ASSERT_EQ(got, pa & MMUPAGE_MASK);
	}
	if (paging_info.pse)
		KT_ASSERT_GT(paging_info.large_pages, 0);
}

/* Kernel text is read-only: a write faults with P=1 W=1 (SDM 4.6, CR0.WP=1). */
KTEST(pgtable, text_read_only)
{
	u32 before = last_fixup.count;
	u32 target = (u32)__text_start + 0x10;

	KT_ASSERT(read_cr0() & (1u << 16)); /* CR0.WP */
	__asm__ __volatile__("1: orl $0, (%0)\n2:\n" EXTABLE(1b, 2b) : : "r"(target) : "memory");
	KT_ASSERT_EQ(last_fixup.count, before + 1);
	KT_ASSERT_EQ(last_fixup.vector, VEC_PF);
	KT_ASSERT_EQ(last_fixup.error, 3); /* present, write, supervisor */
	KT_ASSERT_EQ(last_fixup.cr2, target);
}

/* One `ret` in .data: executing it must fault where the CPU has NX. */
__asm__(".pushsection .data\n.balign 16\nnx_test_code: ret\n.popsection");
extern u8 nx_test_code[];

/*
 * Data is not executable where the CPU has NX (PAE with EFER.NXE, SDM 4.6).
 * A fetch fault reports the target as EIP, so the fixup is keyed on
 * nx_test_code itself and drops the pushed return address.
 */
KTEST(pgtable, data_no_execute)
{
	u32 before = last_fixup.count;

	if (!paging_info.nx)
		KT_SKIP(CONFIG_X86_PAE ? "this CPU has no NX" : "2-level paging has no NX bit");
	__asm__ __volatile__("pushl $2f\n\t"
			     "jmp nx_test_code\n"
			     "1: addl $4, %%esp\n"
			     "2:\n" EXTABLE(nx_test_code, 1b) : : : "memory");
	KT_ASSERT_EQ(last_fixup.count, before + 1);
	KT_ASSERT_EQ(last_fixup.vector, VEC_PF);
	KT_ASSERT_EQ(last_fixup.error, 0x11); /* present, instruction fetch (I/D, SDM 4.7) */
	KT_ASSERT_EQ(last_fixup.cr2, (u32)nx_test_code);
}

/* Global where the CPU has PGE, and CR4.PGE on (SDM 4.10.2.4). */
KTEST(pgtable, global_kernel_mappings)
{
	pte_t *pte = pte_offset_kernel(kernel_pmd((u32)__text_start), (u32)__text_start);

	if (!boot_cpu.pge)
		KT_SKIP("this CPU has no PGE");
	KT_ASSERT(read_cr4() & (1u << 7));
	KT_ASSERT(pte_val(*pte) & _PAGE_GLOBAL);
	KT_ASSERT(!(pte_val(*pte) & _PAGE_USER));
}

/* The boot identity map is gone: low virtual addresses fault. */
KTEST(pgtable, no_identity_map)
{
	u32 before = last_fixup.count, v;

	__asm__ __volatile__("1: movl 0x100000, %0\n2:\n" EXTABLE(1b, 2b) : "=r"(v) : : "memory");
	KT_ASSERT_EQ(last_fixup.count, before + 1);
	KT_ASSERT_EQ(last_fixup.cr2, 0x100000);
}

/* The vmalloc, pkmap and fixmap ranges have page tables from boot, in lowmem. */
KTEST(pgtable, kernel_windows)
{
	KT_ASSERT_GT(VMALLOC_END, VMALLOC_START);
	KT_ASSERT_EQ(PKMAP_BASE & (PMD_SIZE - 1), 0);
	KT_ASSERT_LE(PKMAP_BASE + LAST_PKMAP * MMUPAGE_SIZE, FIXADDR_START);
	u32 probes[] = { VMALLOC_START, VMALLOC_END - 1, PKMAP_BASE, PKMAP_ADDR(LAST_PKMAP - 1),
			 FIXADDR_START, FIXADDR_TOP };
	for (u32 i = 0; i < ARRAY_SIZE(probes); i++) {
		pmd_t *pmd = kernel_pmd(probes[i]);
		KT_ASSERT(pmd_present(*pmd) && !pmd_large(*pmd));
		KT_ASSERT_LT(pmd_table_paddr(*pmd), (u64)paging_info.lowmem_end);
	}
}

/*
 * Under PAE the four PDPTEs are present and carry no reserved bits (SDM
 * 4.4.1: bits 2:1 and 8:5).  QEMU 7.2 sets bit 5 (as if it were Accessed)
 * when it loads them; Bochs and the SDM do not, so only QEMU is excused.
 */
KTEST(pgtable, pdpt_entries)
{
	u64 reserved = platform == PLATFORM_QEMU ? 0x1c6ull : 0x1e6ull;

	if (!CONFIG_X86_PAE)
		KT_SKIP("2-level paging has no PDPT");
	for (int i = 0; i < PTRS_PER_PGD; i++) {
		u64 e = *(u64 *)&swapper_pg_dir[i];
		KT_ASSERT(e & _PAGE_PRESENT);
		if ((e & 0x20) && platform == PLATFORM_QEMU)
			ktest_diag("PDPTE %d has bit 5 set: QEMU's divergence from SDM 4.4.1", i);
		KT_ASSERT_EQ(e & reserved, 0);
		KT_ASSERT_EQ(e >> 36, 0);
	}
	KT_ASSERT_EQ((u32)swapper_pg_dir & 31, 0);
}
