/*
 * Suite "conformance": the CPU's paging against a software model of the
 * SDM's rules (selftest/paging_model.c), in the spirit of kvm-unit-tests'
 * access test, for the 32-bit modes: 32-bit (2-level) paging in the
 * nohighmem and 4g variants, PAE paging in the 64g ones.
 *
 *   conformance.model          the model alone against worked examples
 *   conformance.access_rights  every legal combination of entry bits
 *   conformance.stale_pte      PTE changes without INVLPG (SDM 4.10.4)
 *   conformance.global_cr3     global translations and MOV to CR3
 *   conformance.pdpte_cache    the PDPTE registers of PAE paging (4.4.1)
 *
 * The experiment.  A private address space (its own page directory, or
 * PDPT and page directories, the kernel's half shared) holds one test
 * region R whose PDE -- and under PAE whose PDPTE -- the suite owns, and
 * one probed address T in it:
 *
 *   0x00400000  R: one PDE (PAE: PDPTE 0, PDE 2), pointing at block frame 0
 *   0x004c1000  T = R + 0xc1000: the probed address, PTE index 0xc1
 *   0x40000000  the fixed region (PAE: PDPTE 1), one page table:
 *     +0x00000  the ring-3 code (user, read-only, executable)
 *     +0x10000  the window, supervisor read-write, on the block:
 *               +0x0000 block frame 0: R's page table
 *               +0x1000 block frame 0xc1: F1, where T lands
 *               +0x2000 block frame 0xc2: F2 (stale-TLB tests)
 *   0xc0000000  the kernel, shared with every address space
 *
 * The block is one large page of RAM (4 MiB, PAE 2 MiB), aligned: R's PDE
 * holds its address whatever the PS bit, so the PDE is a 4 KiB page table
 * (frame 0) when PS is clear or ignored (32-bit paging with CR4.PSE = 0)
 * and a large page when PS counts -- and T lands on F1 either way.  The
 * tables are written through the window, never through the direct map:
 * with CR4.PSE = 0 the kernel's 4 MiB direct-map pages are gone, and only
 * the kernel image (4 KiB pages) and this address space stay usable.
 *
 * access_rights: for every legal combination of bits (a counter per level
 * with a legal() filter, as access.c does), crossed with CR0.WP, CR4.PSE
 * and CR4.PGE (and in 32-bit paging EFER.NXE, which must change nothing
 * there) and with the six accesses (read, write, fetch; ring 0 and ring 3):
 * write the entries, INVLPG T, ask the model, do the access through
 * cf_probe_run (arch/conformance_arch.h) and compare: fault or not, the
 * error code, CR2, the value read or written, and every entry afterwards
 * (the A and D bits the CPU set).  Under PAE the PDPTE is present, not
 * present, or present with a reserved bit: then the MOV to CR3 that loads
 * it must #GP and leave the old PDPTE registers in use, which the accesses
 * that follow check.
 *
 *   32-bit paging: PDE/PTE pairs: 1 not present + 8 x 33 with a table +
 *                  8 x 33 with PS ignored (CR4.PSE=0) or 64 4 MiB pages
 *                  (CR4.PSE=1): (529 + 329) x 6 accesses x 8 (WP, PGE,
 *                  NXE) = 41184 cases on a Core 2
 *   PAE:           1 + 32 x 129 + 128 2 MiB pages, + 2 PDPTE cases:
 *                  4259 x 6 x 8 (WP, PSE, PGE) = 204432 cases (and 16
 *                  MOV to CR3) on a Core 2
 *
 * The stale-TLB rules are scripts: steps that change the tables, invalidate
 * or not, reload CR3, toggle CR4.PGE, and reads whose result the model's
 * one-entry TLB predicts (SDM 4.10).
 *
 * Emulators: Bochs is the reference (no quirks).  Under QEMU the model
 * follows the quirks of paging_model.h, and every case a quirk decided is
 * counted and listed as an expected divergence with its reason.  CPUs
 * without PGE, PSE or NX skip the cases that need them and say so.
 *
 * The quick option (make check's matrix, which boots every variant) runs
 * every 17th case of access_rights; make check's conformance step runs all.
 *
 * Safety: the cases run with interrupts off, in chunks of about 2000;
 * between chunks, and before anything is printed, CR0, CR3, CR4 and EFER
 * are the kernel's again and the whole TLB is flushed.
 */
#include "selftest/ktest.h"
#include "selftest/paging_model.h"
#include "arch/conformance_arch.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "arch/paging.h"
#include "arch/pgtable_setup.h"
#include "arch/platform.h"
#include "arch/switch.h"
#include "arch/traps.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "mm/page_alloc.h"
#include "lib/printf.h"
#include "lib/string.h"

#define CR0_WP (1u << 16) /* SDM vol. 3 2.5 */

_Static_assert((int)PM_BUG_WP == MODEL_BUG_WP && (int)PM_BUG_USER == MODEL_BUG_USER &&
		       (int)PM_BUG_DIRTY == MODEL_BUG_DIRTY && (int)PM_BUG_RSVD == MODEL_BUG_RSVD &&
		       (int)PM_BUG_GLOBAL == MODEL_BUG_GLOBAL,
	       "model_bug= values are enum pm_bug values");

#define CF_R 0x00400000u
#define CF_T_IDX 0xc1u /* see "TLB slots" below */
#define CF_T (CF_R + (CF_T_IDX << MMUPAGE_SHIFT))
#define CF_FIXED 0x40000000u
#define CF_CODE CF_FIXED
#define CF_WINDOW (CF_FIXED + 0x10000u)
#define CF_WIN_PT CF_WINDOW
#define CF_WIN_F1 (CF_WINDOW + 0x1000u)
#define CF_WIN_F2 (CF_WINDOW + 0x2000u)

/*
 * TLB slots: the TLBs of both emulators are direct-mapped by linear page
 * (Bochs: 2048 data and 1024 instruction slots; QEMU: 256 and more), so T's
 * page index (0x4c1) is kept off the window (0x40010..0x40012), the ring-3
 * code (0x40000) and the kernel image (0xc0100 onwards, well under 0xc01c1):
 * a stale translation of T must not be evicted by the suite's own accesses.
 */

/* The first word of F1 and F2: `int 0x80` (CD 80) for fetches, and a tag. */
#define F1_WORD 0x11f180cdu
#define F2_WORD 0x22f280cdu
#define WRITE_VALUE 0x600df00du

#define ENTRIES (MMUPAGE_SIZE / sizeof(pte_t))

/* The tables and pages that live in the kernel image (4 KiB-mapped). */
struct cf_tables {
	pte_t pt_fixed[ENTRIES];
	u8 code[MMUPAGE_SIZE];
#if CONFIG_X86_PAE
	pmd_t pd_test[ENTRIES], pd_fixed[ENTRIES], pd_alt[ENTRIES];
	pte_t pt_alt[ENTRIES];
	pgd_t pdpt[4]; /* 32 bytes at a page boundary: 32-byte aligned (SDM 4.4.1) */
#else
	pmd_t pgd[ENTRIES];
#endif
};
static struct cf_tables cf_tab __attribute__((section(".bss.pagealigned"), aligned(4096)));

/* Entry flags of a case, independent of the format (cf_entry builds the bits). */
enum {
	CF_P = 1u << 0,
	CF_RW = 1u << 1,
	CF_US = 1u << 2,
	CF_A = 1u << 3,
	CF_D = 1u << 4,
	CF_PS = 1u << 5,
	CF_G = 1u << 6,
	CF_XD = 1u << 7,
	CF_RSVD = 1u << 8, /* the level's representative reserved bit */
	CF_FLAGS = 1u << 9,
};
static const char *const cf_flag_names[] = { "P", "RW", "US", "A", "D", "PS", "G", "XD", "RSVD" };

/* The PDPTE of R under PAE. */
enum { PDPTE_PRESENT, PDPTE_ABSENT, PDPTE_RESERVED, PDPTE_KINDS, PDPTE_ALT = PDPTE_KINDS };
static const char *const pdpte_kind_names[] = { "present", "not present", "present+reserved(bit 1)" };

/* What an access did, or what the model says it does. */
struct cf_outcome {
	u32 vector; /* CF_NO_TRAP, 13 (#GP), 14 (#PF) */
	u32 error;
	u32 cr2;
	u32 value;  /* read: the value read; otherwise F1's first word afterwards */
	u64 pdpte, pde, pte; /* R's entries afterwards (pdpte: PAE only) */
};

#define MISMATCHES_KEPT 6   /* between two prints */
#define MISMATCHES_SHOWN 24 /* in one test */
#define BREATHER_CASES 2048

struct cf_mismatch {
	char what[200];
	struct cf_outcome exp, got;
};

/* The state of one run of a test. */
struct cf_run {
	void *block;            /* direct-map address, for set-up and freeing */
	u64 block_pa;
	u32 cr3;                /* this address space */
	u32 saved_cr0, saved_cr3, saved_cr4, irq_flags;
	u64 saved_efer;
	struct pm_env env;
	struct pm_tlb tlb;      /* the model's TLB and PDPTE registers */
	u32 pdpte_kind;         /* what PDPTE 0 holds in memory (PAE) */
	u32 read_errors;        /* model reads outside the known tables */
	u32 cases, failures, quirk_cases[PMQ_COUNT];
	u32 stride, candidates; /* every stride-th legal case runs (quick: a sample) */
	u32 loads;              /* MOV to CR3 compared (PAE: the PDPTE checks) */
	u32 kept, shown;
	struct cf_mismatch mismatch[MISMATCHES_KEPT];
};

static struct cf_run cf_run; /* one at a time; too big for the stack */

/* The quick option's sample: a prime, so it walks through the six accesses
 * and every flag combination rather than repeating one of them. */
#define CF_QUICK_STRIDE 17u

/* ---------------------------------------------------------------------- */
/* The model alone, on worked examples from the SDM */

/* Tables of the worked examples: the PDE at 0x1004 (32-bit) or 0x1010
 * (PAE) for linear 0x00400000, its page table at 0x2000; a PDPT at 0x3000
 * whose first entry is pdpte0. */
struct fake_tables {
	u64 pde, pte;
	bool pae;
	u64 pdpte0;
};

static u64 fake_read(void *ctx, u64 pa)
{
	const struct fake_tables *t = ctx;

	if (pa == (t->pae ? 0x1010u : 0x1004u))
		return t->pde;
	if (pa == 0x2000)
		return t->pte;
	if (pa == 0x3000)
		return t->pdpte0;
	return 0;
}

struct worked {
	const char *rule;
	bool pae, wp, pse, nxe;
	u64 pde, pte; /* PDE address 0x2000 (a table) unless PS */
	enum pm_access acc;
	bool user;
	u32 error;    /* ~0u: no fault */
	u64 pde_set, pte_set; /* bits the walk sets */
};

#define NO_FAULT ~0u
static const struct worked worked[] = {
	{ "4.6: CR0.WP=0 lets supervisor writes through, 4.8: D set", false, false, false, false,
	  0x2007, 0x4005, PM_WRITE, false, NO_FAULT, PM_A, PM_A | PM_D },
	{ "4.6: CR0.WP=1 stops them", false, true, false, false, 0x2007, 0x4005, PM_WRITE, false, 0x3, 0, 0 },
	{ "4.6: user writes need R/W at every level", false, false, false, false, 0x2005, 0x4007, PM_WRITE,
	  true, 0x7, 0, 0 },
	{ "4.6: user accesses need U/S at every level", false, false, false, false, 0x2003, 0x4007, PM_READ,
	  true, 0x5, 0, 0 },
	{ "4.3: PS is ignored with CR4.PSE=0", false, true, false, false, 0x2083, 0x4003, PM_READ, false,
	  NO_FAULT, PM_A, PM_A },
	{ "4.3: bit 21 of a 4 MiB PDE is reserved, 4.7: P=1 RSVD=1", false, true, true, false, 0x00600083,
	  0, PM_READ, false, 0x9, 0, 0 },
	{ "4.7: a missing PTE: P=0, and no I/D in 32-bit paging", false, true, false, true, 0x2007, 0,
	  PM_FETCH, true, 0x4, 0, 0 },
	{ "4.6: XD forbids fetches with EFER.NXE=1, 4.7: I/D", true, true, false, true, 0x2007,
	  0x4007 | PM_XD, PM_FETCH, false, 0x11, 0, 0 },
	{ "4.1.3: XD is a reserved bit with EFER.NXE=0", true, true, false, false, 0x2007, 0x4007 | PM_XD,
	  PM_READ, false, 0x9, 0, 0 },
	{ "4.4.2: PS counts whatever CR4.PSE, 4.8: A and D in the PDE", true, true, false, true, 0x00400083,
	  0, PM_WRITE, false, NO_FAULT, PM_A | PM_D, 0 },
	{ "4.4.2: bits 20:13 of a 2 MiB PDE are reserved", true, true, true, true, 0x00402083, 0, PM_READ,
	  false, 0x9, 0, 0 },
	{ "4.7: a reserved bit is reported before a protection violation", true, true, false, true, 0x2001,
	  0x4001 | (1ull << 51), PM_READ, true, 0xd, 0, 0 },
	{ "4.7: I/D on a not-present fault too, under PAE with NXE", true, true, false, true, 0, 0,
	  PM_FETCH, false, 0x10, 0, 0 },
};
#undef NO_FAULT

/* One worked example; returns false (after saying why) if the model disagrees. */
static bool check_worked(const struct worked *w)
{
	struct fake_tables t = { .pde = w->pde, .pte = w->pte, .pae = w->pae };
	u64 regs[4] = { 0x1001 };
	struct pm_env env = { .pae = w->pae, .wp = w->wp, .pse = w->pse, .nxe = w->nxe, .maxphyaddr = 36 };
	struct pm_access_req req = { .cr3 = 0x1000, .pdpte_regs = regs, .read = fake_read, .ctx = &t,
				     .addr = 0x00400000, .access = w->acc, .user = w->user };
	struct pm_result res;
	u32 err;
	u64 pde_after, pte_after;

	pm_translate(&env, &req, &res);
	err = res.fault == PM_OK ? ~0u : res.error;
	pde_after = res.nused > 0 ? res.used[0].after : w->pde;
	pte_after = res.nused > 1 ? res.used[1].after : w->pte;
	if (err == w->error && pde_after == (w->pde | w->pde_set) && pte_after == (w->pte | w->pte_set))
		return true;
	ktest_diag("conformance: model: %s: error 0x%x (expected 0x%x), pde 0x%llx (0x%llx), pte 0x%llx "
		   "(0x%llx)", w->rule, err, w->error, pde_after, w->pde | w->pde_set, pte_after,
		   w->pte | w->pte_set);
	return false;
}

/*
 * The model against worked examples of the SDM's rules, without the CPU:
 * a model that drifts from the manual fails here even where a CPU would
 * share its error.  Then the TLB rules and the quirk machinery.
 */
KTEST(conformance, model)
{
	struct pm_env env = { .wp = true, .pge = true, .nxe = true, .maxphyaddr = 36 };
	struct fake_tables t = { .pde = 0x2003, .pte = 0x4103 };
	struct pm_access_req req = { .read = fake_read, .ctx = &t, .addr = 0x00400000 };
	struct pm_tlb tlb;
	struct pm_result res;
	u32 quirks = 0;

	for (u32 i = 0; i < ARRAY_SIZE(worked); i++)
		KT_EXPECT(check_worked(&worked[i]));

	/* 4.10.2.4, 4.10.4.1 (32-bit paging): a global translation survives
	 * MOV to CR3, not INVLPG; a non-global one does not survive MOV to CR3. */
	memset(&tlb, 0, sizeof(tlb));
	pm_tlb_load_cr3(&tlb, &env, 0x1000, fake_read, &t, &quirks);
	pm_tlb_read(&tlb, &env, &req, &res);
	KT_EXPECT(res.fault == PM_OK && res.global && res.phys == 0x4000);
	t.pte = 0x5103; /* retargeted, no INVLPG */
	pm_tlb_load_cr3(&tlb, &env, 0x1000, fake_read, &t, &quirks);
	pm_tlb_read(&tlb, &env, &req, &res);
	KT_EXPECT_EQ(res.phys, 0x4000);
	pm_tlb_invlpg(&tlb, 0x00400000);
	pm_tlb_read(&tlb, &env, &req, &res);
	KT_EXPECT_EQ(res.phys, 0x5000);
	t.pte = 0x4003;
	pm_tlb_flush_all(&tlb);
	pm_tlb_read(&tlb, &env, &req, &res);
	t.pte = 0x5003;
	pm_tlb_load_cr3(&tlb, &env, 0x1000, fake_read, &t, &quirks);
	pm_tlb_read(&tlb, &env, &req, &res);
	KT_EXPECT_EQ(res.phys, 0x5000);
	KT_EXPECT_EQ(quirks, 0);

	/* QEMU's TLB: the global translation is gone, and the quirk says it decided. */
	env.quirks = PMQ_QEMU;
	t.pte = 0x4103;
	pm_tlb_flush_all(&tlb);
	pm_tlb_read(&tlb, &env, &req, &res);
	t.pte = 0x5103;
	pm_tlb_load_cr3(&tlb, &env, 0x1000, fake_read, &t, &quirks);
	pm_tlb_read(&tlb, &env, &req, &res);
	KT_EXPECT_EQ(res.phys, 0x5000);
	KT_EXPECT_EQ(quirks, PMQ_CR3_FLUSHES_GLOBAL);

	/* 4.4.1 (PAE): a present PDPTE with a reserved bit makes MOV to CR3
	 * fault and changes nothing; QEMU has no such check. */
	env.pae = t.pae = true;
	env.quirks = 0;
	quirks = 0;
	t.pdpte0 = 0x1001;
	KT_EXPECT(pm_tlb_load_cr3(&tlb, &env, 0x3000, fake_read, &t, &quirks));
	t.pdpte0 = 0x1003;
	KT_EXPECT(!pm_tlb_load_cr3(&tlb, &env, 0x3000, fake_read, &t, &quirks));
	KT_EXPECT_EQ(tlb.pdpte_regs[0], 0x1001);
	env.quirks = PMQ_QEMU;
	pm_tlb_flush_all(&tlb);
	KT_EXPECT(pm_tlb_load_cr3(&tlb, &env, 0x3000, fake_read, &t, &quirks));
	KT_EXPECT_EQ(quirks, PMQ_NO_PDPTE_REGS);

	/* QEMU: PDE.A set by a walk that faults at the PTE; RSVD without P;
	 * A written into the PDPTE. */
	t.pdpte0 = 0x1001;
	pm_tlb_load_cr3(&tlb, &env, 0x3000, fake_read, &t, &quirks);
	t.pte = 0x4001 | (1ull << 51);
	req.cr3 = 0x3000;
	req.pdpte_regs = tlb.pdpte_regs;
	pm_translate(&env, &req, &res);
	KT_EXPECT(res.fault == PM_PF && res.error == PM_PFEC_RSVD);
	KT_EXPECT(res.nused == 2 && res.used[0].after == (0x2003 | PM_A));
	KT_EXPECT(res.pdpte_written && res.pdpte.after == (0x1001 | PM_A));
	KT_EXPECT_EQ(res.quirks, PMQ_PDE_A_BEFORE_PTE | PMQ_RSVD_WITHOUT_P | PMQ_PDPTE_ACCESSED);
	ktest_diag("conformance: %u worked examples of the SDM's rules", (u32)ARRAY_SIZE(worked));
}

/* ---------------------------------------------------------------------- */
/* The address space */

static u64 block_frame_pa(const struct cf_run *r, u32 idx)
{
	return r->block_pa + ((u64)idx << MMUPAGE_SHIFT);
}

/* The entry at physical address pa, for the model: R's page table through
 * the window, the other tables in the kernel image. */
static u64 cf_read_entry(void *ctx, u64 pa)
{
	struct cf_run *r = ctx;
	u32 kstart = (u32)__kernel_phys_start, kend = virt_to_phys(__kernel_end);
	const void *p;

	if (pa >= r->block_pa && pa < r->block_pa + MMUPAGE_SIZE)
		p = (const void *)(CF_WIN_PT + (u32)(pa - r->block_pa));
	else if (pa >= kstart && pa < kend)
		p = phys_to_virt((u32)pa);
	else {
		r->read_errors++;
		return 0;
	}
	return CONFIG_X86_PAE ? *(const volatile u64 *)p : *(const volatile u32 *)p;
}

static pmd_t *test_pde_slot(void)
{
#if CONFIG_X86_PAE
	return &cf_tab.pd_test[pmd_index(CF_R)];
#else
	return &cf_tab.pgd[pgd_index(CF_R)];
#endif
}

/* T's PTE, through the window (this address space only). */
static pte_t *test_pte_slot(void)
{
	return (pte_t *)CF_WIN_PT + CF_T_IDX;
}

/* PDPTE 0 in memory (0 in 32-bit paging). */
static u64 pdpte_now(void)
{
#if CONFIG_X86_PAE
	return cf_tab.pdpt[0].pgd;
#else
	return 0;
#endif
}

static volatile u32 *f1_word(void)
{
	return (volatile u32 *)CF_WIN_F1;
}

#if CONFIG_X86_PAE
static u64 pdpte_value(struct cf_run *r, u32 kind)
{
	u64 v = virt_to_phys(cf_tab.pd_test) | _PAGE_PRESENT;

	if (kind == PDPTE_ABSENT)
		return v & ~_PAGE_PRESENT;
	if (kind == PDPTE_RESERVED)
		return v | (1ull << 1); /* bits 2:1 are reserved (SDM 4.4.1, table 4-8) */
	if (kind == PDPTE_ALT) /* the other page directory: T -> F2 */
		return virt_to_phys(cf_tab.pd_alt) | _PAGE_PRESENT;
	return v;
}
#endif

/*
 * Builds the address space around a fresh block (see the diagram above).
 * Returns NULL, or why the test cannot run.
 */
static const char *space_init(struct cf_run *r)
{
	unsigned order = LARGE_PAGE_SHIFT - PAGE_SHIFT;
	struct cf_tables *t = &cf_tab;
	u64 fixed_pde = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
	u64 window = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;

	memset(r, 0, sizeof(*r));
	r->block = get_free_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_ZERO, order);
	if (!r->block)
		return "no free aligned large page of lowmem";
	r->block_pa = virt_to_phys(r->block);
	if (r->block_pa & (LARGE_PAGE_SIZE - 1)) {
		free_pages(r->block, order);
		return "the page allocator gave an unaligned block";
	}
	*(u32 *)((u8 *)r->block + (CF_T_IDX << MMUPAGE_SHIFT)) = F1_WORD;
	*(u32 *)((u8 *)r->block + ((CF_T_IDX + 1) << MMUPAGE_SHIFT)) = F2_WORD;

	memset(t, 0, sizeof(*t));
	memcpy(t->code, cf_user_code, cf_user_code_end - cf_user_code);
	set_pte(&t->pt_fixed[0], __pte(virt_to_phys(t->code) | _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED));
	set_pte(&t->pt_fixed[pte_index(CF_WIN_PT)], __pte(block_frame_pa(r, 0) | window));
	set_pte(&t->pt_fixed[pte_index(CF_WIN_F1)], __pte(block_frame_pa(r, CF_T_IDX) | window));
	set_pte(&t->pt_fixed[pte_index(CF_WIN_F2)], __pte(block_frame_pa(r, CF_T_IDX + 1) | window));
#if CONFIG_X86_PAE
	set_pmd(&t->pd_fixed[pmd_index(CF_FIXED)], __pmd(virt_to_phys(t->pt_fixed) | fixed_pde));
	set_pmd(&t->pd_alt[pmd_index(CF_R)], __pmd(virt_to_phys(t->pt_alt) | fixed_pde));
	set_pte(&t->pt_alt[CF_T_IDX], __pte(block_frame_pa(r, CF_T_IDX + 1) | window));
	t->pdpt[0].pgd = pdpte_value(r, PDPTE_PRESENT);
	t->pdpt[1].pgd = virt_to_phys(t->pd_fixed) | _PAGE_PRESENT;
	t->pdpt[3] = swapper_pg_dir[3]; /* the kernel's gigabyte */
	r->cr3 = virt_to_phys(t->pdpt);
#else
	set_pmd(&t->pgd[pgd_index(CF_FIXED)], __pmd(virt_to_phys(t->pt_fixed) | fixed_pde));
	for (u32 i = pgd_index(PAGE_OFFSET); i < ENTRIES; i++)
		t->pgd[i] = *(pmd_t *)&swapper_pg_dir[i];
	r->cr3 = virt_to_phys(t->pgd);
#endif
	cf_idt_build();
	return NULL;
}

static void space_free(struct cf_run *r)
{
	free_pages(r->block, LARGE_PAGE_SHIFT - PAGE_SHIFT);
}

/*
 * With CR4.PSE = 0 the kernel's 4 MiB direct-map pages would turn into page
 * tables: everything the suite touches meanwhile must be 4 KiB-mapped --
 * the kernel image (text, data, bss, the boot stack) is, by construction
 * (paging.c maps the image's large pages with 4 KiB ones).
 */
static bool image_small_pages(void)
{
	u32 sp = (u32)__builtin_frame_address(0);

	for (u32 va = (u32)__text_start; va < (u32)__kernel_end; va += PMD_SIZE)
		if (pmd_large(*kernel_pmd(va)))
			return false;
	return !pmd_large(*kernel_pmd((u32)__kernel_end - 1)) && sp >= (u32)__text_start &&
	       sp < (u32)__kernel_end;
}

/* ---------------------------------------------------------------------- */
/* Paging state */

/*
 * The model's view of this CPU, with CR0.WP, CR4.PSE, CR4.PGE as given, and
 * EFER.NXE: under PAE as paging_init set it (the kernel's own entries have
 * XD), in 32-bit paging as given (it changes nothing there but the I/D bit
 * an emulator might report).
 */
static void env_make(struct pm_env *env, bool wp, bool pse, bool pge, bool nxe)
{
	memset(env, 0, sizeof(*env));
	env->pae = CONFIG_X86_PAE;
	env->wp = wp;
	env->pse = pse;
	env->pge = pge;
	env->nxe = CONFIG_X86_PAE ? paging_info.nx : nxe && boot_cpu.nx;
	env->pse36 = boot_cpu.pse36;
	env->maxphyaddr = boot_cpu.phys_bits ? boot_cpu.phys_bits : (CONFIG_X86_PAE ? 36 : 32);
	env->quirks = platform == PLATFORM_QEMU ? PMQ_QEMU : 0;
	env->bug = (enum pm_bug)boot_opts.model_bug;
}

/*
 * Interrupts off, this address space, the CR bits of env, every TLB entry
 * gone (toggling CR4.PGE, SDM 4.10.4.1).  The model's TLB starts empty and
 * loads the PDPTEs as the CPU does.
 */
static void env_enter(struct cf_run *r, const struct pm_env *env)
{
	u32 cr4, quirks = 0;

	r->env = *env;
	r->irq_flags = local_irq_save();
	r->saved_cr0 = read_cr0();
	r->saved_cr3 = read_cr3();
	r->saved_cr4 = read_cr4();
	write_cr3(r->cr3);
	cr4 = r->saved_cr4 & ~(CR4_PSE | CR4_PGE);
	write_cr4(cr4 | (env->pse ? CR4_PSE : 0));
	write_cr4(cr4 | (env->pse ? CR4_PSE : 0) | (env->pge ? CR4_PGE : 0));
	write_cr0(env->wp ? r->saved_cr0 | CR0_WP : r->saved_cr0 & ~CR0_WP);
	if (boot_cpu.nx) { /* EFER exists (SDM vol. 4, IA32_EFER) */
		r->saved_efer = rdmsr(MSR_EFER);
		wrmsr(MSR_EFER, env->nxe ? r->saved_efer | EFER_NXE : r->saved_efer & ~EFER_NXE);
	}
	memset(&r->tlb, 0, sizeof(r->tlb));
	pm_tlb_load_cr3(&r->tlb, env, r->cr3, cf_read_entry, r, &quirks);
}

/* Back to the kernel's CR0/CR3/CR4, no translation of this space left anywhere. */
static void env_leave(struct cf_run *r)
{
#if CONFIG_X86_PAE
	cf_tab.pdpt[0].pgd = pdpte_value(r, PDPTE_PRESENT); /* MOV to CR4 reloads them (4.4.1) */
	r->pdpte_kind = PDPTE_PRESENT;
#endif
	if (boot_cpu.nx)
		wrmsr(MSR_EFER, r->saved_efer);
	write_cr0(r->saved_cr0);
	write_cr4(r->saved_cr4 & ~CR4_PGE);
	write_cr4(r->saved_cr4);
	write_cr3(r->saved_cr3);
	flush_tlb_all_local(); /* global entries of T (G = 1 cases) too */
	local_irq_restore(r->irq_flags);
}

/* ---------------------------------------------------------------------- */
/* Comparing */

static void flags_str(char *buf, size_t size, u32 flags)
{
	size_t n = 0;

	buf[0] = 0;
	for (u32 i = 0; i < ARRAY_SIZE(cf_flag_names); i++)
		if (flags & (1u << i))
			n += snprintf(buf + n, size - n, "%s%s", n ? "|" : "", cf_flag_names[i]);
	if (!n)
		snprintf(buf, size, "0");
}

static void outcome_str(char *buf, size_t size, const struct cf_outcome *o)
{
	int n;

	if (o->vector == CF_NO_TRAP)
		n = snprintf(buf, size, "no fault");
	else if (o->vector == VEC_PF)
		n = snprintf(buf, size, "#PF error 0x%x [%s%s%s%s%s] cr2 %08x", o->error,
			     o->error & PM_PFEC_P ? "P" : "-", o->error & PM_PFEC_W ? " W" : " R",
			     o->error & PM_PFEC_U ? " U" : " S", o->error & PM_PFEC_RSVD ? " RSVD" : "",
			     o->error & PM_PFEC_ID ? " I/D" : "", o->cr2);
	else
		n = snprintf(buf, size, "vector %u error 0x%x", o->vector, o->error);
	if (CONFIG_X86_PAE)
		n += snprintf(buf + n, size - n, "; pdpte 0x%llx", o->pdpte);
	snprintf(buf + n, size - n, "; pde 0x%llx pte 0x%llx word 0x%08x", o->pde, o->pte, o->value);
}

/*
 * Counts a compared case (and, when they match, the quirks that decided
 * it).  A mismatch is kept, while there is room, for report_mismatches:
 * returns its record so the caller can describe the case, else NULL.
 */
static struct cf_mismatch *judge(struct cf_run *r, const struct cf_outcome *exp,
				 const struct cf_outcome *got, u32 quirks, bool *ok)
{
	*ok = exp->vector == got->vector && exp->error == got->error && exp->cr2 == got->cr2 &&
	      exp->value == got->value && exp->pdpte == got->pdpte && exp->pde == got->pde &&
	      exp->pte == got->pte;
	r->cases++;
	if (*ok) {
		for (u32 q = 0; q < PMQ_COUNT; q++)
			if (quirks & (1u << q))
				r->quirk_cases[q]++;
		return NULL;
	}
	r->failures++;
	if (r->kept == MISMATCHES_KEPT || r->shown + r->kept == MISMATCHES_SHOWN)
		return NULL;
	struct cf_mismatch *m = &r->mismatch[r->kept++];
	m->exp = *exp;
	m->got = *got;
	m->what[0] = 0;
	return m;
}

/* Prints (interrupts on, kernel CR3) what judge kept, and forgets it. */
static void report_mismatches(struct cf_run *r)
{
	char buf[200];

	for (u32 i = 0; i < r->kept; i++) {
		const struct cf_mismatch *m = &r->mismatch[i];
		ktest_diag("conformance: MISMATCH %s", m->what);
		outcome_str(buf, sizeof(buf), &m->exp);
		ktest_diag("    expected: %s", buf);
		outcome_str(buf, sizeof(buf), &m->got);
		ktest_diag("    got:      %s", buf);
	}
	r->shown += r->kept;
	r->kept = 0;
}

/* The model's answer as an outcome: entries after, and the words F1 holds. */
static void expected_outcome(struct cf_run *r, const struct pm_result *res, enum pm_access acc,
			     u64 pdpte, u64 pde, u64 pte, struct cf_outcome *exp)
{
	u64 pde_pa = virt_to_phys(test_pde_slot()), pte_pa = block_frame_pa(r, 0) + CF_T_IDX * sizeof(pte_t);

	memset(exp, 0, sizeof(*exp));
	exp->vector = res->fault == PM_OK ? CF_NO_TRAP : res->fault == PM_PF ? VEC_PF : VEC_GP;
	exp->error = res->fault == PM_OK ? 0 : res->error;
	exp->cr2 = res->fault == PM_PF ? CF_T : 0;
	exp->value = F1_WORD;
	if (res->fault == PM_OK) {
		u64 page = res->phys & ~(u64)(MMUPAGE_SIZE - 1);
		u32 word = page == block_frame_pa(r, CF_T_IDX) ? F1_WORD :
			   page == block_frame_pa(r, CF_T_IDX + 1) ? F2_WORD : 0xdeadbeef;
		if (acc == PM_READ)
			exp->value = word;
		else if (acc == PM_WRITE && page == block_frame_pa(r, CF_T_IDX))
			exp->value = WRITE_VALUE;
	}
	exp->pde = pde;
	exp->pte = pte;
	for (int i = 0; i < res->nused; i++) {
		if (res->used[i].pa == pde_pa)
			exp->pde = res->used[i].after;
		else if (res->used[i].pa == pte_pa)
			exp->pte = res->used[i].after;
	}
#if CONFIG_X86_PAE
	/* Legacy PAE never sets A/D in a PDPTE (4.8): QEMU does. */
	exp->pdpte = pdpte;
	if (res->pdpte_written && res->pdpte.pa == virt_to_phys(cf_tab.pdpt))
		exp->pdpte = res->pdpte.after;
#endif
}

/* What the CPU did: the probe's record and the entries in memory. */
static void got_outcome(const struct cf_probe *p, enum pm_access acc, struct cf_outcome *got)
{
	memset(got, 0, sizeof(*got));
	got->vector = p->vector;
	got->error = p->vector == CF_NO_TRAP ? 0 : p->error;
	got->cr2 = p->vector == VEC_PF ? p->cr2 : 0;
	got->value = acc == PM_READ && p->vector == CF_NO_TRAP ? p->result : *f1_word();
	got->pde = pmd_val(*test_pde_slot());
	got->pte = pte_val(*test_pte_slot());
#if CONFIG_X86_PAE
	got->pdpte = cf_tab.pdpt[0].pgd;
#endif
}

static const enum cf_op cf_ops[] = { [PM_READ] = CF_READ, [PM_WRITE] = CF_WRITE, [PM_FETCH] = CF_FETCH };
static const char *const access_names[] = { "read", "write", "fetch" };

/* One access at T: the model's prediction (with the tables as they are) and the CPU's. */
static void access_both(struct cf_run *r, enum pm_access acc, bool user, struct pm_result *res,
			struct cf_probe *p)
{
	struct pm_access_req req = {
		.cr3 = r->tlb.cr3, .pdpte_regs = r->tlb.pdpte_regs, .read = cf_read_entry, .ctx = r,
		.addr = CF_T, .access = acc, .user = user,
	};

	pm_translate(&r->env, &req, res);
	memset(p, 0, sizeof(*p));
	p->op = cf_ops[acc];
	p->user = user;
	p->addr = CF_T;
	p->value = WRITE_VALUE;
	p->user_eip = CF_CODE + cf_user_entry(p->op);
	cf_probe_run(p);
}

/* MOV to CR3 of this space, on the CPU and in the model; false if they disagree. */
static bool load_cr3_both(struct cf_run *r, const char *why)
{
	struct cf_probe p = { .op = CF_LOAD_CR3, .addr = r->cr3 };
	struct cf_outcome exp = { .vector = CF_NO_TRAP }, got;
	struct cf_mismatch *m;
	u32 quirks = 0;
	bool ok;

	if (!pm_tlb_load_cr3(&r->tlb, &r->env, r->cr3, cf_read_entry, r, &quirks))
		exp.vector = VEC_GP; /* #GP(0): error code 0 */
	cf_probe_run(&p);
	memset(&got, 0, sizeof(got));
	got.vector = p.vector;
	got.error = p.vector == CF_NO_TRAP ? 0 : p.error;
#if CONFIG_X86_PAE
	exp.pdpte = got.pdpte = cf_tab.pdpt[0].pgd;
#endif
	m = judge(r, &exp, &got, quirks, &ok);
	r->cases--; /* counted apart */
	r->loads++;
	if (m)
		snprintf(m->what, sizeof(m->what),
			 "MOV to CR3 (%s) with PDPTE 0 = 0x%llx; wp=%d pse=%d pge=%d", why, exp.pdpte,
			 r->env.wp, r->env.pse, r->env.pge);
	return ok;
}

/* ---------------------------------------------------------------------- */
/* The enumeration */

static bool large_pde(const struct pm_env *env, u32 f)
{
	return (f & CF_PS) && (env->pae || env->pse);
}

/*
 * Legal PDE flags: a not-present PDE is 0 (every other bit is ignored,
 * SDM 4.3/4.4.2); D and G exist only in a large-page PDE (ignored in one
 * that points to a table); XD only under PAE; a reserved bit only where the
 * format has one: every PAE PDE, and in 32-bit paging only a 4 MiB PDE.
 * Behind a PDPTE that is not plainly present the PDE is P|RW|US.
 */
static bool legal_pde(const struct pm_env *env, u32 kind, u32 f)
{
	if (kind != PDPTE_PRESENT)
		return f == (CF_P | CF_RW | CF_US);
	if (!(f & CF_P))
		return f == 0;
	if ((f & (CF_D | CF_G)) && !large_pde(env, f))
		return false;
	if (!env->pae && (f & CF_XD))
		return false;
	if ((f & CF_RSVD) && !env->pae && !large_pde(env, f))
		return false;
	return true;
}

/*
 * Legal PTE flags, given the PDE's: no PTE is walked under a large PDE or a
 * missing one (then it is 0); a not-present PTE is 0; no PS (bit 7 is PAT
 * in a PTE); XD and reserved bits only under PAE (32-bit PTEs have none).
 */
static bool legal_pte(const struct pm_env *env, u32 kind, u32 fpde, u32 f)
{
	if (kind != PDPTE_PRESENT)
		return f == (CF_P | CF_RW | CF_US);
	if (!(fpde & CF_P) || large_pde(env, fpde))
		return f == 0;
	if (!(f & CF_P))
		return f == 0;
	if (f & CF_PS)
		return false;
	if (!env->pae && (f & (CF_XD | CF_RSVD)))
		return false;
	return true;
}

/*
 * The entry bits for flags.  The address: the block for a PDE (a page
 * table at frame 0, or the large page), F1 for a PTE.  The representative
 * reserved bits: 21 in a 4 MiB PDE (SDM 4.3, table 4-4), 13 in a 2 MiB PDE
 * (4.4.2, table 4-9: bits 20:13), 51 in other PAE PDEs and PTEs (bits
 * 62:M, reserved for every M these CPUs report).
 */
static u64 cf_entry(const struct cf_run *r, u32 f, bool pde)
{
	u64 v = pde ? r->block_pa : block_frame_pa(r, CF_T_IDX);

	v |= (f & CF_P ? PM_P : 0) | (f & CF_RW ? PM_RW : 0) | (f & CF_US ? PM_US : 0) |
	     (f & CF_A ? PM_A : 0) | (f & CF_D ? PM_D : 0) | (f & CF_G ? PM_G : 0);
	if (pde && (f & CF_PS))
		v |= PM_PS;
	if (f & CF_XD)
		v |= PM_XD;
	if (f & CF_RSVD) {
		if (!r->env.pae)
			v |= 1ull << 21;
		else if (pde && (f & CF_PS))
			v |= 1ull << 13;
		else
			v |= 1ull << 51;
	}
	return v;
}

static void case_str(struct cf_run *r, char *buf, size_t size, u32 kind, u32 fpde, u32 fpte,
		     enum pm_access acc, bool user, u64 pde, u64 pte)
{
	char a[64], b[64];
	const struct pm_env *e = &r->env;

	flags_str(a, sizeof(a), fpde);
	flags_str(b, sizeof(b), fpte);
	snprintf(buf, size, "%s %s at %08x; wp=%d pse=%d pge=%d nxe=%d%s%s; pde %s (0x%llx) pte %s (0x%llx)",
		 user ? "user" : "supervisor", access_names[acc], CF_T, e->wp, e->pse, e->pge, e->nxe,
		 e->pae ? "; pdpte " : "", e->pae ? pdpte_kind_names[kind] : "", a, pde, b, pte);
}

/* One case: entries written, T invalidated, model and CPU compared. */
static void run_case(struct cf_run *r, u32 kind, u32 fpde, u32 fpte, enum pm_access acc, bool user)
{
	u64 pde = cf_entry(r, fpde, true), pte = cf_entry(r, fpte, false), pdpte;
	struct pm_result res;
	struct cf_outcome exp, got;
	struct cf_mismatch *m;
	struct cf_probe p;
	bool ok;

#if CONFIG_X86_PAE
	if (kind != r->pdpte_kind) {
		/* A PDPTE change counts only after a MOV to CR3 (SDM 4.4.1); a
		 * load that faults leaves the old PDPTEs in use, and the
		 * accesses below check that too. */
		cf_tab.pdpt[0].pgd = pdpte_value(r, kind);
		r->pdpte_kind = kind;
		load_cr3_both(r, pdpte_kind_names[kind]);
	}
#endif
	set_pmd(test_pde_slot(), __pmd(pde));
	set_pte(test_pte_slot(), __pte(pte));
	if (*f1_word() != F1_WORD)
		*f1_word() = F1_WORD;
	invlpg(CF_T); /* the PDE too: INVLPG drops paging-structure caches (4.10.4.1) */

	pdpte = pdpte_now();
	access_both(r, acc, user, &res, &p);
	expected_outcome(r, &res, acc, pdpte, pde, pte, &exp);
	got_outcome(&p, acc, &got);
	m = judge(r, &exp, &got, res.quirks, &ok);
	if (m)
		case_str(r, m->what, sizeof(m->what), kind, fpde, fpte, acc, user, pde, pte);
}

/* Every legal case under one paging state; returns how many. */
static u32 run_env(struct cf_run *r, const struct pm_env *env)
{
	u32 before = r->cases;

	u32 breather = r->cases;

	env_enter(r, env);
	for (u32 kind = 0; kind < (env->pae ? PDPTE_KINDS : 1u); kind++)
		for (u32 fpde = 0; fpde < CF_FLAGS; fpde++) {
			if (!legal_pde(env, kind, fpde))
				continue;
			for (u32 fpte = 0; fpte < CF_FLAGS; fpte++) {
				if (!legal_pte(env, kind, fpde, fpte))
					continue;
				for (int acc = PM_READ; acc <= PM_FETCH; acc++)
					for (int user = 0; user <= 1; user++)
						if (r->candidates++ % r->stride == 0)
							run_case(r, kind, fpde, fpte, acc, user);
			}
			/* Interrupts back on now and then (Bochs runs about 2000
			 * cases in 0.15 s): ticks are not lost, a reschedule may
			 * happen, with the kernel's own paging state. */
			if (r->cases - breather >= BREATHER_CASES) {
				env_leave(r);
				report_mismatches(r);
				env_enter(r, env);
				breather = r->cases;
			}
		}
	env_leave(r);
	report_mismatches(r);
	return r->cases - before;
}

/* Lists the expected divergences the run met (QEMU), with their reasons. */
static void report_quirks(struct cf_run *r)
{
	for (u32 q = 0; q < PMQ_COUNT; q++)
		if (r->quirk_cases[q])
			ktest_diag("conformance: expected divergence (%s) %s in %u cases: %s",
				   platform_name(), pm_quirk_name(1u << q), r->quirk_cases[q],
				   pm_quirk_reason(1u << q));
}

/* Why a case set is missing on this CPU (once per test). */
static void say_skips(bool pse_ok)
{
	if (!boot_cpu.pge)
		ktest_diag("conformance: CR4.PGE=1 cases skipped: this CPU has no PGE (CPUID.01H:EDX[13])");
	if (!boot_cpu.pse)
		ktest_diag("conformance: CR4.PSE=1 cases skipped: this CPU has no PSE (CPUID.01H:EDX[3])");
	else if (!pse_ok)
		ktest_diag("conformance: CR4.PSE=0 cases skipped: the kernel image or stack is not "
			   "all in 4 KiB pages");
	if (!CONFIG_X86_PAE && !boot_cpu.nx)
		ktest_diag("conformance: EFER.NXE=1 cases skipped (in 32-bit paging they check that "
			   "fetch faults carry no I/D): this CPU has no NX");
	if (!CONFIG_X86_PAE)
		ktest_diag("conformance: 32-bit paging has no XD bit and no PDPTEs; reserved bits "
			   "only in 4 MiB PDEs (SDM 4.3)");
	if (CONFIG_X86_PAE && !paging_info.nx)
		ktest_diag("conformance: NX cases skipped: this CPU has no NX, EFER.NXE stays 0; "
			   "XD (bit 63) is enumerated as a reserved bit instead (SDM 4.1.3)");
}

/*
 * Every legal combination of PDPTE (PAE), PDE and PTE bits, crossed with
 * CR0.WP, CR4.PSE and CR4.PGE and the six accesses.
 */
KTEST(conformance, access_rights)
{
	struct cf_run *r = &cf_run;
	const char *why = space_init(r);
	bool pse_off_ok = CONFIG_X86_PAE || image_small_pages() || !boot_cpu.pse;
	u32 total = 0;

	if (why)
		KT_SKIP(why);
	say_skips(pse_off_ok);
	r->stride = boot_opts.quick ? CF_QUICK_STRIDE : 1;
	r->candidates = 0;
	/* EFER.NXE is crossed in 32-bit paging only: under PAE it stays as the
	 * kernel needs it. */
	for (int nxe = 0; nxe <= (CONFIG_X86_PAE ? 0 : (int)boot_cpu.nx); nxe++)
		for (int wp = 0; wp <= 1; wp++)
			for (int pse = 0; pse <= 1; pse++)
				for (int pge = 0; pge <= 1; pge++) {
					struct pm_env env;
					if ((pse && !boot_cpu.pse) || (!pse && boot_cpu.pse && !pse_off_ok) ||
					    (pge && !boot_cpu.pge))
						continue;
					env_make(&env, wp, pse, pge, nxe);
					total += run_env(r, &env);
				}
	space_free(r);
	if (r->stride > 1)
		ktest_diag("conformance: quick: every %uth of %u cases", r->stride, r->candidates);
	if (CONFIG_X86_PAE)
		ktest_diag("conformance: %u cases in PAE mode (and %u MOV to CR3 compared), %u mismatches",
			   total, r->loads, r->failures);
	else
		ktest_diag("conformance: %u cases in 2-level mode, %u mismatches", total, r->failures);
	if (r->failures > r->shown)
		ktest_diag("conformance: %u more mismatches not shown", r->failures - r->shown);
	report_quirks(r);
	KT_EXPECT_EQ(r->read_errors, 0);
	KT_EXPECT_EQ(r->failures, 0);
	KT_EXPECT(total > 0);
}

/* ---------------------------------------------------------------------- */
/* Stale translations: scripts */

enum step_op { ST_PTE, ST_PDPTE, ST_INVLPG, ST_CR3, ST_TOGGLE_PGE, ST_READ };

/* ST_PTE's argument: CF_* flags, and which frame T maps. */
#define ON_F1 0u
#define ON_F2 (1u << 16)

struct step {
	enum step_op op;
	u32 arg;          /* ST_PTE: flags | ON_F*; ST_PDPTE: PDPTE_* kind */
	const char *what;
};

/* One script under env: each step on the CPU and on the model, reads compared. */
static void run_script(struct cf_run *r, const struct pm_env *env, const char *name,
		       const struct step *steps, u32 n)
{
	char what[200];
	u32 cr4;

	env_enter(r, env);
	set_pmd(test_pde_slot(), __pmd(r->block_pa | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED));
	set_pte(test_pte_slot(), __pte(0));
	invlpg(CF_T);
	pm_tlb_invlpg(&r->tlb, CF_T);
	for (u32 i = 0; i < n; i++) {
		const struct step *st = &steps[i];
		snprintf(what, sizeof(what), "%s (pge=%d), step %u: %s", name, env->pge, i + 1, st->what);
		switch (st->op) {
		case ST_PTE: {
			u64 v = cf_entry(r, st->arg & (CF_FLAGS - 1), false);
			if (st->arg & ON_F2)
				v += MMUPAGE_SIZE;
			set_pte(test_pte_slot(), __pte(v)); /* and no invalidation */
			break;
		}
		case ST_PDPTE:
#if CONFIG_X86_PAE
			cf_tab.pdpt[0].pgd = pdpte_value(r, st->arg);
			r->pdpte_kind = st->arg;
#endif
			break;
		case ST_INVLPG:
			invlpg(CF_T);
			pm_tlb_invlpg(&r->tlb, CF_T);
			break;
		case ST_CR3:
			load_cr3_both(r, what);
			break;
		case ST_TOGGLE_PGE:
			if (!boot_cpu.pge) { /* CR4.PGE cannot be set: a MOV to CR3 flushes as much */
				load_cr3_both(r, what);
				break;
			}
			cr4 = read_cr4();
			write_cr4(cr4 ^ CR4_PGE);
			write_cr4(cr4);
			pm_tlb_flush_all(&r->tlb);
			break;
		case ST_READ: {
			struct pm_access_req req = { .read = cf_read_entry, .ctx = r, .addr = CF_T };
			struct cf_probe p = { .op = CF_READ, .addr = CF_T };
			u64 pdpte = pdpte_now(), pde = pmd_val(*test_pde_slot());
			u64 pte = pte_val(*test_pte_slot());
			struct cf_outcome exp, got;
			struct pm_result res;
			struct cf_mismatch *m;
			bool ok;

			pm_tlb_read(&r->tlb, env, &req, &res);
			cf_probe_run(&p);
			expected_outcome(r, &res, PM_READ, pdpte, pde, pte, &exp);
			got_outcome(&p, PM_READ, &got);
			m = judge(r, &exp, &got, res.quirks, &ok);
			if (m)
				strlcpy(m->what, what, sizeof(m->what));
			break;
		}
		}
	}
	env_leave(r);
	report_mismatches(r);
}

#define RW_AD (CF_P | CF_RW | CF_A | CF_D)

/*
 * SDM 4.10.4.2-4.10.4.3: a PTE changed without INVLPG may still be used
 * through the TLB (Bochs and QEMU both keep it); INVLPG ends that.  And
 * 4.8: A is set by walks only, so a TLB hit does not set it again.
 */
static const struct step stale_pte_steps[] = {
	{ ST_PTE, ON_F1 | RW_AD, "T -> F1" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: a walk, F1" },
	{ ST_PTE, ON_F2 | RW_AD, "T -> F2 without INVLPG" },
	{ ST_READ, 0, "read: the TLB still gives F1" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: F2" },
	{ ST_PTE, 0, "T not present, without INVLPG" },
	{ ST_READ, 0, "read: the TLB still gives F2" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: #PF, not present" },
	{ ST_PTE, ON_F1 | CF_P | CF_RW, "T -> F1, A clear" },
	{ ST_READ, 0, "read: a walk (a fault is not cached), sets A" },
	{ ST_PTE, ON_F1 | CF_P | CF_RW, "A cleared again, without INVLPG" },
	{ ST_READ, 0, "read: a TLB hit, A stays clear" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: a walk sets A again" },
};

KTEST(conformance, stale_pte)
{
	struct cf_run *r = &cf_run;
	const char *why = space_init(r);
	struct pm_env env;

	if (why)
		KT_SKIP(why);
	env_make(&env, true, boot_cpu.pse, boot_cpu.pge, false);
	run_script(r, &env, "stale PTE", stale_pte_steps, ARRAY_SIZE(stale_pte_steps));
	space_free(r);
	report_quirks(r);
	KT_EXPECT_EQ(r->read_errors, 0);
	KT_EXPECT_EQ(r->failures, 0);
}

/*
 * SDM 4.10.2.4 and 4.10.4.1: with CR4.PGE = 1 a translation through a PTE
 * with G = 1 survives MOV to CR3; toggling CR4.PGE (or INVLPG) removes it.
 * Without G, or with CR4.PGE = 0, MOV to CR3 removes it.  QEMU flushes
 * everything on MOV to CR3: an expected divergence.
 */
static const struct step global_steps[] = {
	{ ST_PTE, ON_F1 | RW_AD | CF_G, "T -> F1, G" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: F1" },
	{ ST_PTE, ON_F2 | RW_AD | CF_G, "T -> F2, G, without INVLPG" },
	{ ST_CR3, 0, "MOV to CR3" },
	{ ST_READ, 0, "read: F1 if global (CR4.PGE = 1), else F2" },
	{ ST_TOGGLE_PGE, 0, "CR4.PGE toggled" },
	{ ST_READ, 0, "read: F2" },
	{ ST_PTE, ON_F1 | RW_AD | CF_G, "T -> F1, G, without INVLPG" },
	{ ST_INVLPG, 0, "INVLPG T (global entries too)" },
	{ ST_READ, 0, "read: F1" },
	{ ST_PTE, ON_F2 | RW_AD, "T -> F2, not global" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: F2" },
	{ ST_PTE, ON_F1 | RW_AD, "T -> F1, without INVLPG" },
	{ ST_CR3, 0, "MOV to CR3" },
	{ ST_READ, 0, "read: F1 (not global: flushed)" },
};

KTEST(conformance, global_cr3)
{
	struct cf_run *r = &cf_run;
	const char *why = space_init(r);
	struct pm_env env;

	if (why)
		KT_SKIP(why);
	for (int pge = 0; pge <= (int)boot_cpu.pge; pge++) {
		env_make(&env, true, boot_cpu.pse, pge, false);
		run_script(r, &env, "global", global_steps, ARRAY_SIZE(global_steps));
	}
	space_free(r);
	if (!boot_cpu.pge)
		ktest_diag("conformance: CR4.PGE=1 run skipped: this CPU has no PGE (CPUID.01H:EDX[13])");
	report_quirks(r);
	KT_EXPECT_EQ(r->read_errors, 0);
	KT_EXPECT_EQ(r->failures, 0);
}

#if CONFIG_X86_PAE
/*
 * SDM 4.4.1: the PDPTEs are loaded into registers by MOV to CR3 (and by
 * MOV to CR0/CR4 changing paging bits); an edited PDPT is not used until
 * then, INVLPG notwithstanding.  QEMU reads PDPTEs at every walk: an
 * expected divergence.
 */
static const struct step pdpte_steps[] = {
	{ ST_PTE, ON_F1 | RW_AD, "T -> F1 (in R's page directory)" },
	{ ST_PDPTE, PDPTE_PRESENT, "PDPTE 0 -> R's page directory" },
	{ ST_CR3, 0, "MOV to CR3" },
	{ ST_READ, 0, "read: F1" },
	{ ST_PDPTE, PDPTE_ALT, "PDPTE 0 -> the other page directory (T -> F2), no MOV to CR3" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: F1 through the PDPTE register" },
	{ ST_CR3, 0, "MOV to CR3" },
	{ ST_READ, 0, "read: F2" },
	{ ST_PDPTE, PDPTE_ABSENT, "PDPTE 0 not present, no MOV to CR3" },
	{ ST_INVLPG, 0, "INVLPG T" },
	{ ST_READ, 0, "read: F2 through the PDPTE register" },
	{ ST_CR3, 0, "MOV to CR3" },
	{ ST_READ, 0, "read: #PF, not present" },
	{ ST_PDPTE, PDPTE_RESERVED, "PDPTE 0 with reserved bit 1" },
	{ ST_CR3, 0, "MOV to CR3: #GP(0), the old PDPTEs stay" },
	{ ST_READ, 0, "read: #PF through the old (not present) PDPTE" },
	{ ST_PDPTE, PDPTE_PRESENT, "PDPTE 0 -> R's page directory" },
	{ ST_CR3, 0, "MOV to CR3" },
	{ ST_READ, 0, "read: F1" },
};
#endif

KTEST(conformance, pdpte_cache)
{
#if CONFIG_X86_PAE
	struct cf_run *r = &cf_run;
	const char *why = space_init(r);
	struct pm_env env;

	if (why)
		KT_SKIP(why);
	env_make(&env, true, boot_cpu.pse, boot_cpu.pge, false);
	run_script(r, &env, "PDPTE registers", pdpte_steps, ARRAY_SIZE(pdpte_steps));
	space_free(r);
	report_quirks(r);
	KT_EXPECT_EQ(r->read_errors, 0);
	KT_EXPECT_EQ(r->failures, 0);
#else
	KT_SKIP("2-level paging has no PDPTEs");
#endif
}
