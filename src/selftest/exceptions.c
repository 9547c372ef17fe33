/*
 * Suite "exceptions": raise #PF, #GP, #UD, #DE and #BP on purpose and
 * recover through the exception table.  Each test checks the vector, the
 * error code (SDM vol. 3 6.13 and 6.15), CR2 for #PF (SDM 4.7) and that
 * execution resumed at the fixup, with the registers the fixup relies on.
 */
#include "selftest/ktest.h"
#include "arch/traps.h"
#include "arch/io.h"

/* Runs one faulting instruction; returns the fixup count after it. */
static u32 fixups_before;

static void expect_trap(u32 vector, u32 error)
{
	KT_ASSERT_EQ(last_fixup.count, fixups_before + 1);
	KT_ASSERT_EQ(last_fixup.vector, vector);
	KT_ASSERT_EQ(last_fixup.error, error);
}

KTEST(exceptions, pf_read_not_present)
{
	u32 val = 0x1234;

	fixups_before = last_fixup.count;
	/* Page 0x1000 is unmapped since arch_early_init dropped the identity map. */
	__asm__ __volatile__("1: movl 0x1000, %0\n2:\n" EXTABLE(1b, 2b) : "+r"(val) : : "memory");
	expect_trap(VEC_PF, 0); /* P=0 not present, W/R=0 read, U/S=0 supervisor */
	KT_ASSERT_EQ(last_fixup.cr2, 0x1000);
	KT_ASSERT_EQ(val, 0x1234); /* the load never happened */
}

KTEST(exceptions, pf_write_not_present)
{
	fixups_before = last_fixup.count;
	__asm__ __volatile__("1: movl $1, 0x2ff8\n2:\n" EXTABLE(1b, 2b) : : : "memory");
	expect_trap(VEC_PF, 2); /* W/R=1: a write */
	KT_ASSERT_EQ(last_fixup.cr2, 0x2ff8);
}

/* A NULL pointer dereference is a page fault at address 0, not a silent read. */
KTEST(exceptions, pf_null_pointer)
{
	u32 val;

	fixups_before = last_fixup.count;
	__asm__ __volatile__("1: movl (%1), %0\n2:\n" EXTABLE(1b, 2b) : "=r"(val) : "r"(0) : "memory");
	expect_trap(VEC_PF, 0);
	KT_ASSERT_EQ(last_fixup.cr2, 0);
}

/* Loading a selector beyond the GDT limit: #GP with the selector's index as
 * error code (SDM vol. 3 6.13, segment-selector error code). */
KTEST(exceptions, gp_bad_selector)
{
	fixups_before = last_fixup.count;
	__asm__ __volatile__("1: movw %w0, %%es\n2:\n" EXTABLE(1b, 2b) : : "r"(0x1230) : "memory");
	expect_trap(VEC_GP, 0x1230);
	u16 es;
	__asm__ __volatile__("movw %%es, %0" : "=r"(es));
	KT_ASSERT_EQ(es, 0x10); /* the faulting load changed nothing */
}

KTEST(exceptions, ud_ud2)
{
	fixups_before = last_fixup.count;
	__asm__ __volatile__("1: ud2\n2:\n" EXTABLE(1b, 2b));
	expect_trap(VEC_UD, 0);
}

KTEST(exceptions, de_divide_by_zero)
{
	u32 eax = 100, edx = 0;

	fixups_before = last_fixup.count;
	__asm__ __volatile__("1: divl %2\n2:\n" EXTABLE(1b, 2b) : "+a"(eax), "+d"(edx) : "r"(0));
	expect_trap(VEC_DE, 0);
	KT_ASSERT_EQ(eax, 100); /* #DE is a fault: no register was written */
}

/* #BP is a trap: the saved EIP is after int3, so the fixup is keyed there. */
KTEST(exceptions, bp_int3)
{
	fixups_before = last_fixup.count;
	__asm__ __volatile__("int3\n1:\n" EXTABLE(1b, 1b));
	expect_trap(VEC_BP, 0);
}

/* An unlisted address must not match a fixup: the table search is exact. */
KTEST(exceptions, fixup_count_monotonic)
{
	u32 before = last_fixup.count;
	for (int i = 0; i < 3; i++)
		__asm__ __volatile__("1: ud2\n2:\n" EXTABLE(1b, 2b));
	KT_ASSERT_EQ(last_fixup.count, before + 3);
	KT_ASSERT_EQ(last_fixup.vector, VEC_UD);
}
