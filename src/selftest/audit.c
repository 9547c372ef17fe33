/*
 * Suite "audit": drives each TLB audit point (kernel/audit.h) once or a few
 * times, deterministically, and turns the debugger harness's answers into
 * one test case per point kind.  Needs the `audit` boot option (else every
 * case skips) and Bochs with ci/harness.py answering the breakpoints (else
 * no point is answered and the case skips, saying so).  A case fails when a
 * point was never reached, or when the harness found the TLB disagreeing
 * with the expectation; each failing check is printed with the CPU, the
 * address, the frame expected and the frame the TLB held, and the harness
 * keeps that point's debugger transcript (build/logs/<run>/audit-<seq>.txt).
 *
 *   make run ARGS='audit tests=audit.*'
 */
#include "selftest/ktest.h"
#include "selftest/urun.h"
#include "kernel/audit.h"
#include "kernel/cmdline.h"
#include "kernel/task.h"
#include "arch/paging.h"
#include "arch/uaccess.h"
#include "mm/highmem.h"
#include "mm/memory.h"
#include "mm/mm.h"
#include "mm/page_alloc.h"
#include "mm/rmap.h"
#include "lib/string.h"

#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

#define AUDIT_REQUIRED()                                                           \
	do {                                                                       \
		if (!boot_opts.audit)                                              \
			KT_SKIP("the audit is off (boot with the 'audit' option)"); \
	} while (0)

/*
 * The verdicts of point p since it was armed, as this test's result: at
 * least min points must have fired; any failed check fails the test; if
 * nobody answered, the test skips.
 */
static void judge(enum audit_point p, u32 min)
{
	const struct audit_record *r = audit_record(p);

	audit_disarm(p);
	ktest_diag("audit %s: %u points, %u passed, %u failed, %u unanswered, %u undecided",
		   audit_point_name(p), r->fired, r->passed, r->failed, r->unanswered,
		   r->undecided);
	for (u32 i = 0; i < r->failed && i < AUDIT_FAILS_KEPT; i++) {
		const struct audit_failure *f = &r->fail[i];
		ktest_fail(__FILE__, __LINE__,
			   "audit %s #%u (%s 0x%x): CPU %u page %08x: the TLB held 0x%x "
			   "(transcript: audit-%u.txt in the run's log directory)",
			   audit_point_name(p), f->seq, audit_check_name(f->check), f->expect, f->cpu,
			   f->laddr, f->seen, f->seq);
	}
	if (r->fired < min)
		ktest_fail(__FILE__, __LINE__, "audit %s: %u points reached, at least %u expected",
			   audit_point_name(p), r->fired, min);
	if (r->undecided)
		ktest_fail(__FILE__, __LINE__, "audit %s: the harness could not decide %u points",
			   audit_point_name(p), r->undecided);
	if (!ktest_failures() && r->unanswered)
		ktest_skip("no debugger answered the audit points: they are checked only under "
			   "Bochs by ci/harness.py");
}

static u32 put32(u32 addr, u32 v)
{
	return copy_to_user(addr, &v, 4);
}

static u32 get32(u32 addr)
{
	u32 v = 0;
	copy_from_user(&v, addr, 4);
	return v;
}

/*
 * kmap_atomic: the KM_TEST slot maps frame A (written through it, so the
 * TLB holds slot -> A), then frame B: at the point, before B is used, the
 * slot's old translation must be gone.  BREAK=kmap-invlpg fails here.
 */
KTEST(audit, kmap_atomic)
{
	AUDIT_REQUIRED();
	struct page *a = alloc_page(GFP_HIGHUSER), *b = alloc_page(GFP_HIGHUSER);
	if (!a || !b) {
		if (a)
			__free_page(a);
		KT_ASSERT(!"two pages for kmap_atomic");
	}
	u32 slot = (u32)kmap_atomic_slot(KM_TEST);
	KT_ASSERT(audit_arm(AUDIT_KMAP_ATOMIC, slot, slot + MMUPAGE_SIZE, 8));
	volatile u32 *va = kmap_atomic_frame(page_to_frame(a), KM_TEST);
	*va = 0xa0a0a0a0;
	kunmap_atomic((void *)va, KM_TEST);
	va = kmap_atomic_frame(page_to_frame(b), KM_TEST);
	*va = 0xb0b0b0b0;
	kunmap_atomic((void *)va, KM_TEST);
	va = kmap_atomic_frame(page_to_frame(a), KM_TEST);
	u32 got = *va;
	kunmap_atomic((void *)va, KM_TEST);
	ktest_diag("frame 0x%llx reads 0x%08x through the slot (0xa0a0a0a0 when the slot is "
		   "invalidated)", page_to_frame(a), got);
	__free_page(a);
	__free_page(b);
	judge(AUDIT_KMAP_ATOMIC, 3);
}

/*
 * The pkmap pool's lazy flush: four HighMem pages kmapped, written,
 * kunmapped, then the unused entries freed: afterwards no CPU may hold a
 * pkmap address with a frame the pool no longer maps there.
 */
KTEST(audit, pkmap_flush)
{
	struct page *pg[4] = { NULL };

	AUDIT_REQUIRED();
	for (int i = 0; i < 4; i++) {
		pg[i] = alloc_page(GFP_HIGHUSER);
		if (!pg[i] || !PageHighMem(pg[i])) {
			for (int j = 0; j <= i; j++)
				if (pg[j])
					__free_page(pg[j]);
			KT_SKIP("no HighMem in this run: kmap does not use the pkmap pool");
		}
	}
	KT_ASSERT(audit_arm(AUDIT_PKMAP_FLUSH, PKMAP_BASE, PKMAP_BASE + 1, 2));
	for (int i = 0; i < 4; i++) {
		volatile u32 *p = kmap(pg[i]);
		*p = 0x1000 + i;
		kunmap(pg[i]);
	}
	kmap_flush_unused();
	for (int i = 0; i < 4; i++)
		__free_page(pg[i]);
	judge(AUDIT_PKMAP_FLUSH, 1);
}

/* Reads every 4 KiB page of the cluster at a: each is then in the TLB. */
static bool read_cluster(u32 a, u32 want)
{
	bool ok = true;
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++)
		ok &= get32(a + i * MMUPAGE_SIZE) == (i ? 0 : want);
	return ok;
}

/* A test address space entered, with one private cluster at *a written and
 * read back from the kernel (so all of its 4 KiB pages are cached); NULL
 * (nothing left entered) on failure. */
static struct mm_struct *enter_touched_cluster(u32 *a)
{
	struct mm_struct *mm = test_mm_enter();
	if (!mm)
		return NULL;
	s32 r = do_mmap(mm, 0, PAGE_SIZE, RW, ANON);
	if (r <= 0 || put32(r, 0x5151) || !read_cluster(r, 0x5151)) {
		test_mm_leave(mm);
		return NULL;
	}
	*a = (u32)r;
	return mm;
}

/* try_to_unmap: no CPU may still translate the address to the freed frame. */
KTEST(audit, try_to_unmap)
{
	bool wr;

	AUDIT_REQUIRED();
	u32 a;
	struct mm_struct *mm = enter_touched_cluster(&a);
	KT_ASSERT(mm);
	struct page *pg = frame_to_page(user_pte_frame(mm, a, &wr));
	get_page(pg);
	audit_arm(AUDIT_TRY_TO_UNMAP, a, a + PAGE_SIZE, 2 * PAGE_MMUCOUNT);
	int ret = try_to_unmap(pg, 0);
	audit_disarm(AUDIT_TRY_TO_UNMAP);
	put_page(pg);
	KT_EXPECT_EQ(ret, 0);
	KT_EXPECT_EQ(user_pte_frame(mm, a, &wr), 0);
	test_mm_leave(mm);
	judge(AUDIT_TRY_TO_UNMAP, 1);
}

/* munmap: the same for each PTE the zap clears. */
KTEST(audit, munmap)
{
	AUDIT_REQUIRED();
	u32 a;
	struct mm_struct *mm = enter_touched_cluster(&a);
	KT_ASSERT(mm);
	audit_arm(AUDIT_MUNMAP, a, a + PAGE_SIZE, 2 * PAGE_MMUCOUNT);
	int ret = do_munmap(mm, a, PAGE_SIZE);
	audit_disarm(AUDIT_MUNMAP);
	KT_EXPECT_EQ(ret, 0);
	test_mm_leave(mm);
	judge(AUDIT_MUNMAP, 1);
}

/*
 * Copy-on-write: after dup_mm the cluster is shared read-only; reads cache
 * the old frames; the write that breaks the sharing must leave every page
 * of the window translated to the new cluster only.  (The page written
 * needs no invalidation of its own: the write's page fault drops its entry,
 * SDM 4.10.4.1; the other pages of a pgcl4 window do.)
 */
KTEST(audit, cow)
{
	bool wr;

	AUDIT_REQUIRED();
	u32 a;
	struct mm_struct *mm = enter_touched_cluster(&a);
	KT_ASSERT(mm);
	struct mm_struct *child = dup_mm(mm);
	if (!child) {
		test_mm_leave(mm);
		KT_ASSERT(!"a cluster shared with a child");
	}
	u64 old = user_pte_frame(mm, a, &wr);
	KT_EXPECT(!wr);
	KT_EXPECT(read_cluster(a, 0x5151)); /* the old frames, read-only, now in the TLB */
	audit_arm(AUDIT_COW, a, a + PAGE_SIZE, 2 * PAGE_MMUCOUNT);
	KT_EXPECT_EQ(put32(a, 0x6262), 0);
	audit_disarm(AUDIT_COW);
	u64 now = user_pte_frame(mm, a, &wr);
	KT_EXPECT_NE(now, old);
	KT_EXPECT(wr);
	KT_EXPECT_EQ(get32(a), 0x6262);
	mmput(child);
	test_mm_leave(mm);
	judge(AUDIT_COW, 1);
}

/* switch_mm: CR3 holds the new tables, and under PAE the CPU's PDPTE
 * registers were loaded from them. */
KTEST(audit, cr3_load)
{
	AUDIT_REQUIRED();
	KT_ASSERT(audit_arm(AUDIT_CR3_LOAD, 0, 0, 4));
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	test_mm_leave(mm);
	judge(AUDIT_CR3_LOAD, 2);
}

/*
 * PAE: a PDPTE edited in memory is not used until CR3 is loaded again
 * (SDM vol. 3 4.4.1): before the reload the CPU's PDPTE registers must
 * still differ from memory (the harness sees the old value), after it they
 * must match.  The kernel itself never edits a live PDPT (pgtable-3level.c).
 */
KTEST(audit, pdpt)
{
	AUDIT_REQUIRED();
	if (!CONFIG_X86_PAE)
		KT_SKIP("2-level paging has no PDPT");
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	u64 *pd = get_free_pages(GFP_KERNEL | __GFP_ZERO, 0);
	if (!pd) {
		test_mm_leave(mm);
		KT_ASSERT(!"a page for a page directory");
	}
	u32 cr3 = pgd_cr3(mm->pgd);
	u64 saved = mm->pgd[0].pgd;
	KT_ASSERT(audit_arm(AUDIT_PDPT, 0, 0, 4));
	/* Nothing runs below 1 GiB meanwhile: the test's code and data are the kernel's. */
	mm->pgd[0].pgd = virt_to_phys(pd) | _PAGE_PRESENT;
	audit_point(AUDIT_PDPT, AUDIT_PDPT_STALE, 0, 0, cr3, 0);
	flush_tlb_local(); /* MOV CR3 loads the four PDPTEs (SDM 4.4.1) */
	audit_point(AUDIT_PDPT, AUDIT_CR3, 0, 0, cr3, 0);
	mm->pgd[0].pgd = saved;
	flush_tlb_local();
	audit_point(AUDIT_PDPT, AUDIT_CR3, 0, 0, cr3, 0);
	test_mm_leave(mm);
	free_pages(pd, 0);
	judge(AUDIT_PDPT, 3);
}

/* A kernel page of its own, mapped with G like all of the kernel image. */
static u8 global_page[MMUPAGE_SIZE] __aligned(MMUPAGE_SIZE);

/*
 * Global kernel mappings survive a CR3 load by design (SDM 4.10.2.4,
 * 4.10.4.1) and go when CR4.PGE is toggled.
 */
KTEST(audit, global)
{
	AUDIT_REQUIRED();
	if (!paging_info.pge)
		KT_SKIP("the CPU has no global pages (CR4.PGE)");
	u32 va = (u32)global_page;
	u64 frame = virt_to_phys(global_page) >> MMUPAGE_SHIFT;
	KT_ASSERT(audit_arm(AUDIT_GLOBAL, 0, 0, 4));
	u32 flags = local_irq_save(); /* nothing else runs between the read and the checks */
	(void)*(volatile u32 *)global_page;
	flush_tlb_local();
	audit_point(AUDIT_GLOBAL, AUDIT_CACHED, 0, va, frame, 1);
	flush_tlb_all_local();
	audit_point(AUDIT_GLOBAL, AUDIT_ABSENT, 0, va, frame, 1);
	local_irq_restore(flags);
	judge(AUDIT_GLOBAL, 2);
}

static volatile bool lazy_done;

/* Yields until the user program ended (bounded, in case it never does). */
static int lazy_thread(void *arg)
{
	for (int i = 0; i < 2000 && !lazy_done; i++)
		yield();
	return 0;
}

/*
 * Lazy TLB: a kernel thread keeps the address space it finds loaded (no
 * CR3 load, CR3 still the borrowed mm's); a task with its own mm that
 * follows it has its tables in CR3.  A fork that yields (cow_frames) and a
 * kernel thread that yields take turns.
 */
KTEST(audit, lazy_tlb)
{
	AUDIT_REQUIRED();
	KT_ASSERT(audit_arm(AUDIT_LAZY_ENTER, 0, 0, 6));
	KT_ASSERT(audit_arm(AUDIT_LAZY_LEAVE, 0, 0, 6));
	lazy_done = false;
	sched_new_task_cpu = 0; /* SMP: the three tasks take turns on CPU 0 */
	struct task *t = kthread_create("audit-lazy", lazy_thread, NULL);
	int pid = t ? urun_start("cow_frames", 0) : -1;
	int code = pid > 0 ? urun_wait_for(pid) : -1;
	lazy_done = true;
	urun_reap_all();
	sched_new_task_cpu = -1;
	KT_ASSERT(t);
	KT_EXPECT_EQ(code, 0);
	judge(AUDIT_LAZY_ENTER, 1);
	judge(AUDIT_LAZY_LEAVE, 1);
}
