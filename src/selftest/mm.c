/*
 * Suite "mm": address spaces driven from the kernel through copy_to_user /
 * copy_from_user (each copy faults pages in exactly as a user access would):
 * demand-zero pages, cluster windows, copy-on-write after dup_mm, partial
 * munmap and mprotect, highpte placement, and exact teardown.
 */
#include "selftest/ktest.h"
#include "selftest/urun.h"
#include "arch/traps.h"
#include "arch/uaccess.h"
#include "mm/highmem.h"
#include "mm/highpte.h"
#include "mm/memory.h"
#include "mm/mm.h"
#include "mm/page_alloc.h"
#include "mm/ptpool.h"
#include "mm/rmap.h"
#include "lib/string.h"

#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

struct baseline {
	u32 free_pages;
	u32 pt_frames[PT_NR_POOLS];
};

static u32 put32(u32 addr, u32 v);

/* The slab caches behind mm_struct, VMAs, anon_vmas, pte_chains (a fork) and
 * PDPTs keep one slab each once used: a throwaway address space and a child
 * of it first make the baseline stable. */
static void snap(struct baseline *b)
{
	struct mm_struct *warm = mm_alloc();
	if (warm) {
		switch_mm(NULL, warm);
		put32(do_mmap(warm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS), 1);
		mmput(dup_mm(warm));
		switch_mm(warm, NULL);
		mmput(warm);
	}
	drain_all_pages();
	b->free_pages = nr_free_pages();
	for (int i = 0; i < PT_NR_POOLS; i++)
		b->pt_frames[i] = pt_stats.in_use[i];
}

static bool same_as(const struct baseline *b)
{
	struct baseline now;
	snap(&now);
	if (now.free_pages != b->free_pages)
		ktest_diag("free pages %u, baseline %u", now.free_pages, b->free_pages);
	return !memcmp(&now, b, sizeof(now));
}

static u32 put32(u32 addr, u32 v)
{
	return copy_to_user(addr, &v, 4);
}

static u32 get32(u32 addr, bool *ok)
{
	u32 v = 0;
	*ok = copy_from_user(&v, addr, 4) == 0;
	return v;
}

KTEST(mm, demand_zero)
{
	struct baseline base;
	bool ok;

	snap(&base);
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	s32 a = do_mmap(mm, 0, MIB(1), RW, ANON);
	KT_ASSERT_GT(a, 0);
	KT_ASSERT_EQ(mm->rss, 0);
	KT_ASSERT_EQ(get32(a + 0x1234 * 4, &ok), 0);
	KT_ASSERT(ok);
	KT_ASSERT_EQ(mm->rss, 1);
	for (u32 off = 0; off < MIB(1); off += MMUPAGE_SIZE)
		KT_ASSERT_EQ(put32(a + off + 8, off ^ 0x5a5a5a5a), 0);
	for (u32 off = 0; off < MIB(1); off += MMUPAGE_SIZE)
		KT_ASSERT_EQ(get32(a + off + 8, &ok), off ^ 0x5a5a5a5a);
	KT_ASSERT_EQ(mm->rss, MIB(1) / PAGE_SIZE); /* once per cluster */
	test_mm_leave(mm);
	KT_ASSERT(same_as(&base));
}

/* One fault maps every slot of the cluster's window that lies in the VMA. */
KTEST(mm, cluster_window)
{
	bool w, ok;
	if (PAGE_MMUCOUNT == 1)
		KT_SKIP("pgcl1: a cluster is a single frame, there is no window to fill");
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	u32 win = 0x50000000;
	/* A VMA covering the window's last three slots only. */
	KT_ASSERT_EQ(do_mmap(mm, win + MMUPAGE_SIZE, PAGE_SIZE * 2, RW, ANON | MAP_FIXED),
		     (s32)(win + MMUPAGE_SIZE));
	KT_ASSERT_EQ(put32(win + PAGE_SIZE - 4, 7), 0);
	KT_ASSERT_EQ(user_pte_frame(mm, win, &w), 0); /* outside the VMA */
	u64 f = user_pte_frame(mm, win + PAGE_SIZE - MMUPAGE_SIZE, &w);
	KT_ASSERT(f);
	for (u32 i = 1; i < PAGE_MMUCOUNT; i++)
		KT_ASSERT_EQ(user_pte_frame(mm, win + i * MMUPAGE_SIZE, &w), f - (PAGE_MMUCOUNT - 1) + i);
	KT_ASSERT_EQ((f + 1) % PAGE_MMUCOUNT, 0); /* slot i <-> frame i of the cluster */
	KT_ASSERT_EQ(mm->rss, 1);
	KT_ASSERT_EQ(get32(win + PAGE_SIZE - 4, &ok), 7);
	test_mm_leave(mm);
}

/* dup_mm shares private pages read-only; the first write copies; the last
 * sharer writes in place. */
KTEST(mm, copy_on_write)
{
	struct baseline base;
	bool ok, wr;

	snap(&base);
	struct mm_struct *parent = test_mm_enter();
	KT_ASSERT(parent);
	s32 a = do_mmap(parent, 0, PAGE_SIZE * 4, RW, ANON);
	for (u32 i = 0; i < 4; i++)
		KT_ASSERT_EQ(put32(a + i * PAGE_SIZE, 100 + i), 0);
	u64 f0 = user_pte_frame(parent, a, &wr);
	KT_ASSERT(wr);
	struct mm_struct *child = dup_mm(parent);
	KT_ASSERT(child);
	KT_ASSERT_EQ(user_pte_frame(parent, a, &wr), f0);
	KT_ASSERT(!wr);
	KT_ASSERT_EQ(user_pte_frame(child, a, &wr), f0);
	KT_ASSERT(!wr);
	struct page *pg = frame_to_page(f0);
	KT_ASSERT_EQ(pg->count, 2);
	KT_ASSERT_EQ(pg->mapcount, 1);
	/* The child writes: it gets its own copy, with the old contents. */
	switch_mm(parent, child);
	KT_ASSERT_EQ(put32(a + 4, 55), 0);
	u64 fc = user_pte_frame(child, a, &wr);
	KT_ASSERT(fc != f0 && wr);
	KT_ASSERT_EQ(get32(a, &ok), 100);
	KT_ASSERT_EQ(pg->count, 1);
	KT_ASSERT_EQ(pg->mapcount, 0);
	/* The parent, now the last sharer, writes in place. */
	switch_mm(child, parent);
	KT_ASSERT_EQ(put32(a + 4, 66), 0);
	KT_ASSERT_EQ(user_pte_frame(parent, a, &wr), f0);
	KT_ASSERT(wr);
	KT_ASSERT_EQ(get32(a + 4, &ok), 66);
	switch_mm(parent, child);
	KT_ASSERT_EQ(get32(a + 4, &ok), 55);
	KT_ASSERT_EQ(get32(a + 3 * PAGE_SIZE, &ok), 103);
	switch_mm(child, NULL);
	mmput(child);
	test_mm_leave(parent);
	KT_ASSERT(same_as(&base));
}

/* A fork tree three deep: every generation writes its own value; each sees
 * its own and its ancestors' untouched pages. */
KTEST(mm, fork_tree)
{
	struct baseline base;
	struct mm_struct *gen[4];
	bool ok;

	snap(&base);
	gen[0] = test_mm_enter();
	KT_ASSERT(gen[0]);
	s32 a = do_mmap(gen[0], 0, PAGE_SIZE * 8, RW, ANON);
	for (u32 i = 0; i < 8; i++)
		put32(a + i * PAGE_SIZE, 0xa000 + i);
	for (int g = 1; g < 4; g++) {
		gen[g] = dup_mm(gen[g - 1]);
		KT_ASSERT(gen[g]);
		switch_mm(gen[g - 1], gen[g]);
		put32(a + g * PAGE_SIZE, 0xb000 + g); /* generation g changes page g */
	}
	for (int g = 0; g < 4; g++) {
		switch_mm(NULL, gen[g]);
		for (u32 i = 0; i < 8; i++) {
			u32 want = (i >= 1 && i <= (u32)g) ? 0xb000 + i : 0xa000 + i;
			KT_ASSERT_EQ(get32(a + i * PAGE_SIZE, &ok), want);
		}
	}
	/* Page 7 was never written after the forks: one cluster, four mappers. */
	bool wr;
	struct page *shared = frame_to_page(user_pte_frame(gen[3], a + 7 * PAGE_SIZE, &wr));
	KT_ASSERT_EQ(shared->mapcount, 3);
	KT_ASSERT_EQ(shared->count, 4);
	switch_mm(NULL, NULL);
	for (int g = 3; g >= 0; g--)
		mmput(gen[g]);
	KT_ASSERT(same_as(&base));
}

/* munmap of part of a window clears those slots but keeps the cluster
 * counted until its last slot goes. */
KTEST(mm, munmap_partial)
{
	struct baseline base;
	bool ok, w;

	snap(&base);
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	s32 a = do_mmap(mm, 0, PAGE_SIZE * 4, RW, ANON);
	for (u32 off = 0; off < PAGE_SIZE * 4; off += MMUPAGE_SIZE)
		put32(a + off, off);
	KT_ASSERT_EQ(mm->rss, 4);
	KT_ASSERT_EQ(do_munmap(mm, a + PAGE_SIZE, MMUPAGE_SIZE), 0);
	KT_ASSERT_EQ(mm->map_count, 2);
	KT_ASSERT_EQ(user_pte_frame(mm, a + PAGE_SIZE, &w), 0);
	KT_ASSERT_EQ(get32(a + PAGE_SIZE, &ok), 0);
	KT_ASSERT(!ok); /* no VMA there any more */
	KT_ASSERT_EQ(mm->rss, PAGE_MMUCOUNT > 1 ? 4 : 3);
	KT_ASSERT_EQ(do_munmap(mm, a + PAGE_SIZE, PAGE_SIZE), 0);
	KT_ASSERT_EQ(mm->rss, 3);
	KT_ASSERT_EQ(get32(a + 2 * PAGE_SIZE, &ok), 2 * PAGE_SIZE);
	KT_ASSERT(ok);
	KT_ASSERT_EQ(do_munmap(mm, a, 4 * PAGE_SIZE), 0);
	KT_ASSERT_EQ(mm->rss, 0);
	KT_ASSERT_EQ(mm->map_count, 0);
	KT_ASSERT_EQ(mm->pte_pages, 0); /* the empty table went too */
	test_mm_leave(mm);
	KT_ASSERT(same_as(&base));
}

/* mprotect on part of a VMA: split in three, rights enforced, data kept. */
KTEST(mm, mprotect_partial)
{
	bool ok;
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	s32 a = do_mmap(mm, 0, PAGE_SIZE * 3, RW, ANON);
	for (u32 i = 0; i < 3; i++)
		put32(a + i * PAGE_SIZE, i + 1);
	KT_ASSERT_EQ(do_mprotect(mm, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0);
	KT_ASSERT_EQ(mm->map_count, 3);
	KT_ASSERT_NE(put32(a + PAGE_SIZE, 9), 0);     /* read-only now */
	KT_ASSERT_EQ(get32(a + PAGE_SIZE, &ok), 2);
	KT_ASSERT_EQ(put32(a, 9), 0);                 /* neighbours still writable */
	KT_ASSERT_EQ(do_mprotect(mm, a + PAGE_SIZE, PAGE_SIZE, PROT_NONE), 0);
	get32(a + PAGE_SIZE, &ok);
	KT_ASSERT(!ok);                               /* not even readable */
	KT_ASSERT_EQ(do_mprotect(mm, a + PAGE_SIZE, PAGE_SIZE, RW), 0);
	KT_ASSERT_EQ(get32(a + PAGE_SIZE, &ok), 2);   /* the page survived PROT_NONE */
	KT_ASSERT_EQ(put32(a + PAGE_SIZE, 5), 0);
	KT_ASSERT_EQ(do_mprotect(mm, a + 3 * PAGE_SIZE, PAGE_SIZE, RW), -ENOMEM);
	test_mm_leave(mm);
}

KTEST(mm, bad_arguments)
{
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	KT_ASSERT_EQ(do_mmap(mm, 0xc0000000, PAGE_SIZE, RW, ANON | MAP_FIXED), -EINVAL);
	KT_ASSERT_EQ(do_mmap(mm, 0x10000001, PAGE_SIZE, RW, ANON | MAP_FIXED), -EINVAL);
	KT_ASSERT_EQ(do_mmap(mm, 0xbffff000, 2 * PAGE_SIZE, RW, ANON | MAP_FIXED), -EINVAL);
	KT_ASSERT_EQ(do_mmap(mm, 0, 0, RW, ANON), -EINVAL);
	KT_ASSERT_EQ(do_mmap(mm, 0, PAGE_SIZE, RW, MAP_PRIVATE), -EINVAL); /* not anonymous */
	KT_ASSERT_EQ(do_mmap(mm, 0, PAGE_SIZE, 0x80, ANON), -EINVAL);
	KT_ASSERT_EQ(do_munmap(mm, 0xfffff000, 0x2000), -EINVAL);
	KT_ASSERT_EQ(copy_to_user(0xc0100000, "x", 1), 1);       /* kernel address */
	KT_ASSERT_EQ(copy_to_user(0x20000000, "x", 1), 1);       /* no VMA */
	KT_ASSERT_EQ(copy_to_user(0xfffffff0, "xxxxxxxxxxxxxxxxxxxx", 20), 20); /* wraps */
	test_mm_leave(mm);
}

/*
 * highpte: PTE pages come from HighMem.  Touching one page per PTE table
 * over 1 GiB allocates 256 (2-level) or 512 (PAE) PTE pages; with highpte
 * they cost no lowmem (the anonymous pages are HighMem too).
 */
KTEST(mm, highpte_1gib_no_lowmem)
{
	if (!zones[ZONE_HIGHMEM].managed_pages)
		KT_SKIP("no HighMem in this run (boot with more than 896 MiB)");
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	s32 a = do_mmap(mm, 0, GIB(1), RW, ANON);
	KT_ASSERT_GT(a, 0);
	drain_all_pages();
	u64 low_before = free_lowmem_bytes();
	for (u32 off = 0; off < GIB(1); off += PMD_SIZE)
		KT_ASSERT_EQ(put32(a + off, off), 0);
	drain_all_pages();
	u64 used = low_before - free_lowmem_bytes();
	u32 tables = GIB(1) / PMD_SIZE;
	ktest_diag("%u PTE tables (%u in HighMem), lowmem used %llu KiB", mm->pte_pages,
		   mm->pte_pages_highmem, used >> 10);
	KT_ASSERT_EQ(mm->pte_pages, tables);
	if (CONFIG_HIGHPTE) {
		KT_ASSERT_EQ(mm->pte_pages_highmem, tables);
		KT_ASSERT_LT(used, (u64)tables * MMUPAGE_SIZE / 8);
	} else {
		KT_ASSERT_EQ(mm->pte_pages_highmem, 0);
		KT_ASSERT_GE(used, (u64)tables * MMUPAGE_SIZE);
	}
	test_mm_leave(mm);
}

/*
 * anon_vma: the first fault gives a VMA an anon_vma; fork puts the child's
 * VMA on the same list; splitting keeps both halves on it; munmap and exit
 * take VMAs off and the last one frees it.
 */
KTEST(mm, anon_vma_links)
{
#if CONFIG_RMAP_PTE_CHAIN
	KT_SKIP("RMAP=pte_chain has no anon_vmas (mm.pte_chain_links tests its chains)");
#else
	bool wr;
	u32 live = rmap_stats.anon_vmas;
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	s32 a = do_mmap(mm, 0, PAGE_SIZE * 4, RW, ANON);
	struct vm_area_struct *v = find_vma(mm, a);
	KT_ASSERT(v && !v->anon_vma);
	put32(a, 1);
	struct anon_vma *av = v->anon_vma;
	KT_ASSERT(av);
	KT_ASSERT_EQ(rmap_stats.anon_vmas, live + 1);
	struct page *pg = frame_to_page(user_pte_frame(mm, a, &wr));
	KT_ASSERT(page_anon_vma(pg) == av);
	KT_ASSERT_EQ(vma_address(pg, v), (u32)a);
	struct mm_struct *child = dup_mm(mm);
	KT_ASSERT(child);
	KT_ASSERT_EQ(anon_vma_count(av), 2);
	KT_ASSERT(find_vma(child, a)->anon_vma == av);
	KT_ASSERT_EQ(do_mprotect(mm, a + PAGE_SIZE, PAGE_SIZE, PROT_READ), 0); /* split in 3 */
	KT_ASSERT_EQ(anon_vma_count(av), 4);
	KT_ASSERT_EQ(do_munmap(mm, a + 2 * PAGE_SIZE, 2 * PAGE_SIZE), 0);
	KT_ASSERT_EQ(anon_vma_count(av), 3);
	/* The child's copy-on-write copy keeps the anon_vma and the offset. */
	switch_mm(mm, child);
	put32(a, 2);
	struct page *cp = frame_to_page(user_pte_frame(child, a, &wr));
	KT_ASSERT(cp != pg);
	KT_ASSERT(page_anon_vma(cp) == av);
	KT_ASSERT_EQ(cp->index, pg->index);
	switch_mm(child, NULL);
	mmput(child);
	KT_ASSERT_EQ(anon_vma_count(av), 2);
	test_mm_leave(mm);
	KT_ASSERT_EQ(rmap_stats.anon_vmas, live);
#endif
}

/*
 * pte_chain: a cluster mapped once keeps its PTE's address in the page
 * (direct, no block); fork moves it into a chain that grows one entry per
 * address space (blocks of 3 entries under PAE, 6 otherwise); the child's
 * copy-on-write copy starts direct; exit and munmap take the entries off,
 * and the last one left goes back to direct.
 */
#if CONFIG_RMAP_PTE_CHAIN
#define KT_ASSERT_RMAP_OK(pg)                                                      \
	do {                                                                       \
		const char *why_ = page_rmap_check(pg);                            \
		if (why_) {                                                        \
			ktest_fail(__FILE__, __LINE__, "pfn %u: %s", page_to_pfn(pg), why_); \
			return;                                                    \
		}                                                                  \
	} while (0)
#endif

KTEST(mm, pte_chain_links)
{
#if !CONFIG_RMAP_PTE_CHAIN
	KT_SKIP("the anon_vma build has no pte_chains (make RMAP=pte_chain)");
#else
	bool wr;
	u32 blocks = rmap_stats.chains;
	struct mm_struct *mms[8];
	mms[0] = test_mm_enter();
	KT_ASSERT(mms[0]);
	s32 a = do_mmap(mms[0], 0, PAGE_SIZE * 2, RW, ANON);
	put32(a, 1);
	struct page *pg = frame_to_page(user_pte_frame(mms[0], a, &wr));
	KT_ASSERT(PageFlag(pg, PG_direct));
	KT_ASSERT_EQ(page_rmap_count(pg), 1);
	KT_ASSERT_EQ(rmap_stats.chains, blocks);
	KT_ASSERT(page_rmap_has(pg, mms[0], a));
	for (int i = 1; i < 8; i++) {
		KT_ASSERT((mms[i] = dup_mm(mms[i - 1])) != NULL);
		KT_ASSERT(!PageFlag(pg, PG_direct));
		KT_ASSERT_EQ(page_rmap_count(pg), (u32)i + 1);
		KT_ASSERT(page_rmap_has(pg, mms[i], a));
		KT_ASSERT_RMAP_OK(pg);
	}
	u32 per_block = CONFIG_X86_PAE ? 3 : 6;
	KT_ASSERT_EQ(rmap_stats.chains - blocks, (8 + per_block - 1) / per_block);
	/* A write in the last child: its copy is mapped once, direct. */
	switch_mm(NULL, mms[7]);
	put32(a, 2);
	struct page *cp = frame_to_page(user_pte_frame(mms[7], a, &wr));
	KT_ASSERT(cp != pg && PageFlag(cp, PG_direct));
	KT_ASSERT_EQ(cp->index, pg->index);
	KT_ASSERT_EQ(page_rmap_count(pg), 7);
	KT_ASSERT(!page_rmap_has(pg, mms[7], a));
	KT_ASSERT_RMAP_OK(pg);
	/* munmap in one, exit of the others but the first: back to direct. */
	KT_ASSERT_EQ(do_munmap(mms[3], a, PAGE_SIZE), 0);
	KT_ASSERT_EQ(page_rmap_count(pg), 6);
	KT_ASSERT_RMAP_OK(pg);
	switch_mm(NULL, mms[0]);
	for (int i = 7; i >= 1; i--)
		mmput(mms[i]);
	KT_ASSERT(PageFlag(pg, PG_direct));
	KT_ASSERT_RMAP_OK(pg);
	KT_ASSERT_EQ(rmap_stats.chains, blocks);
	test_mm_leave(mms[0]);
#endif
}

/*
 * try_to_unmap: one cluster shared copy-on-write by eight address spaces is
 * unmapped from all of them by walking its anon_vma; page_referenced sees
 * and clears the Accessed bits first.
 */
KTEST(mm, try_to_unmap_fork_chain)
{
	struct baseline base;
	struct mm_struct *mms[8];
	bool wr, ok;

	snap(&base);
	mms[0] = test_mm_enter();
	KT_ASSERT(mms[0]);
	s32 a = do_mmap(mms[0], 0, PAGE_SIZE * 2, RW, ANON);
	put32(a, 0x1111);
	put32(a + PAGE_SIZE, 0x2222);
	for (int i = 1; i < 8; i++)
		KT_ASSERT((mms[i] = dup_mm(mms[i - 1])) != NULL);
	struct page *pg = frame_to_page(user_pte_frame(mms[0], a, &wr));
	KT_ASSERT_EQ(pg->mapcount, 7);
	for (int i = 0; i < 8; i++) {
		switch_mm(NULL, mms[i]);
		KT_ASSERT_EQ(get32(a + 4 * (i % PAGE_MMUCOUNT), &ok), i % PAGE_MMUCOUNT ? 0 : 0x1111);
	}
	KT_ASSERT_GE(page_referenced(pg), 8);
	KT_ASSERT_EQ(page_referenced(pg), 0); /* cleared by the first call */
	get_page(pg);
	u32 walked = rmap_stats.vmas_walked;
	KT_ASSERT_EQ(try_to_unmap(pg, 0), 0);
	KT_ASSERT_EQ(rmap_stats.vmas_walked - walked, 8); /* one VMA per address space */
	KT_ASSERT_EQ(pg->mapcount, -1);
	KT_ASSERT_EQ(pg->count, 1); /* only ours */
	for (int i = 0; i < 8; i++) {
		KT_ASSERT_EQ(user_pte_frame(mms[i], a, &wr), 0);
		KT_ASSERT(user_pte_frame(mms[i], a + PAGE_SIZE, &wr)); /* the neighbour stays */
		KT_ASSERT_EQ(mms[i]->rss, 1);
	}
	put_page(pg);
	switch_mm(NULL, NULL);
	for (int i = 7; i >= 0; i--)
		mmput(mms[i]);
	KT_ASSERT(same_as(&base));
}

/*
 * highpte debug builds: a PTE pointer is good only between pte_offset_map
 * and pte_unmap.  After the unmap the KM_PTE0 slot is cleared and
 * invalidated, so a stale pointer faults instead of reading whatever page
 * the slot maps next.
 */
KTEST(mm, pte_pointer_dies_at_unmap)
{
	if (!CONFIG_HIGHPTE || !CONFIG_DEBUG)
		KT_SKIP(CONFIG_HIGHPTE ? "a non-debug build keeps the slot mapped after pte_unmap"
				       : "PTEs are reached through the direct map in this variant");
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	s32 a = do_mmap(mm, 0, PAGE_SIZE, RW, ANON);
	KT_ASSERT_EQ(put32(a, 3), 0);
	pmd_t *pmd = user_pmd(mm->pgd, a);
	pte_t *pte = pte_offset_map(pmd, a);
	bool present = pte_present(*pte);
	pte_unmap(pte);
	KT_ASSERT(present);
	u32 before = last_fixup.count, v = 0;
	__asm__ __volatile__("1: movl (%1), %0\n2:\n" EXTABLE(1b, 2b) : "+r"(v) : "r"(pte) : "memory");
	KT_ASSERT_EQ(last_fixup.count, before + 1);
	KT_ASSERT_EQ(last_fixup.vector, VEC_PF);
	KT_ASSERT_EQ(last_fixup.cr2, (u32)pte);
	test_mm_leave(mm);
}

/* A window maps one cluster: shared and private memory may not meet inside
 * one (pgcl4); with 4 KiB pages there is nothing to refuse. */
KTEST(mm, shared_windows_stay_whole)
{
	struct mm_struct *mm = test_mm_enter();
	KT_ASSERT(mm);
	s32 sh = do_mmap(mm, 0, MMUPAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS);
	KT_ASSERT_GT(sh, 0);
	KT_ASSERT_EQ(sh & (PAGE_SIZE - 1), 0);
	s32 next = do_mmap(mm, sh + MMUPAGE_SIZE, MMUPAGE_SIZE, RW, ANON | MAP_FIXED);
	if (PAGE_MMUCOUNT > 1) {
		KT_ASSERT_EQ(next, -EINVAL);
	} else {
		KT_ASSERT_EQ(next, sh + MMUPAGE_SIZE);
	}
	KT_ASSERT_EQ(do_mmap(mm, sh + PAGE_SIZE, MMUPAGE_SIZE, RW, ANON | MAP_FIXED), sh + (s32)PAGE_SIZE);
	test_mm_leave(mm);
}

/* Shared memory mapped PROT_NONE is shared all the same once opened up. */
KTEST(mm, shared_prot_none_after_fork)
{
	bool ok;
	struct mm_struct *parent = test_mm_enter();
	KT_ASSERT(parent);
	s32 a = do_mmap(parent, 0, PAGE_SIZE, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS);
	KT_ASSERT_GT(a, 0);
	struct mm_struct *child = dup_mm(parent);
	KT_ASSERT(child);
	KT_ASSERT_EQ(do_mprotect(child, a, PAGE_SIZE, RW), 0);
	KT_ASSERT_EQ(do_mprotect(parent, a, PAGE_SIZE, RW), 0);
	switch_mm(parent, child);
	KT_ASSERT_EQ(put32(a, 7), 0);
	switch_mm(child, parent);
	KT_ASSERT_EQ(get32(a, &ok), 7);
	switch_mm(parent, NULL);
	mmput(child);
	test_mm_leave(parent);
}
