/*
 * Suite kmap: kmap_atomic slots and the kmap (pkmap) pool.
 *
 * Data tests write a pattern through one mapping and read it back through
 * another, over HighMem frames spread across all of HighMem (above 4 GiB
 * too when the run has RAM there).  The pool tests count what the pool
 * does: one TLB flush per wrap-around, a wait when it is full.  The TLB
 * tests show, on a platform that keeps stale translations (Bochs; QEMU's
 * software TLB too), that a slot reused without invlpg reads the old frame,
 * and that kmap_atomic's invlpg and the pool's wrap-around flush prevent it.
 *
 * Tests clean up (unmap, free, unhook) before they assert, so that one
 * failure does not make every later test panic in the debug checks.
 */
#include "selftest/ktest.h"
#include "mm/highmem.h"
#include "mm/page_alloc.h"
#include "kernel/preempt.h"
#include "arch/io.h"
#include "arch/timer.h"
#include "arch/traps.h"
#include "lib/string.h"

#define FRAME_WORDS (MMUPAGE_SIZE / 4)
#define FRAMES_4G (GIB(4) >> MMUPAGE_SHIFT)

/* Word i of frame under salt: distinct per frame (an odd multiplier is a bijection). */
static u32 pattern(u64 frame, u32 i, u32 salt)
{
	return ((u32)frame * 0x9e3779b1u) ^ ((u32)(frame >> 32) * 0x85ebca6bu) ^
	       (i * 0x01000193u) ^ salt;
}

/* Does the slot at va map frame?  Checked before writing through it, so a
 * broken PTE fails the test instead of scribbling over some other frame. */
static bool maps_frame(const void *va, u64 frame)
{
	return pte_frame(ptep_get(kernel_pte((u32)va))) == frame;
}

/*
 * The IRQ types belong to interrupt handlers: process context may borrow
 * them only with interrupts off (the tests do, to cover every slot).
 */
static u32 irqs_off(void)
{
	u32 flags = read_eflags();
	cli();
	return flags;
}

static void irqs_restore(u32 flags)
{
	if (flags & (1u << 9)) /* EFLAGS.IF */
		sti();
}

/* Writes frame's pattern; false (nothing written) if the slot maps another frame. */
static bool fill_frame(u64 frame, u32 salt, enum km_type type)
{
	u32 flags = irqs_off();
	u32 *p = kmap_atomic_frame(frame, type);
	bool ok = maps_frame(p, frame);

	for (u32 i = 0; ok && i < FRAME_WORDS; i++)
		p[i] = pattern(frame, i, salt);
	kunmap_atomic(p, type);
	irqs_restore(flags);
	return ok;
}

/* The first word of frame that does not hold its pattern, or -1 (-2: the
 * slot maps another frame). */
static int check_frame(u64 frame, u32 salt, enum km_type type)
{
	u32 flags = irqs_off();
	const u32 *p = kmap_atomic_frame(frame, type);
	int bad = maps_frame(p, frame) ? -1 : -2;

	for (u32 i = 0; i < FRAME_WORDS && bad == -1; i++)
		if (p[i] != pattern(frame, i, salt))
			bad = i;
	kunmap_atomic((void *)p, type);
	irqs_restore(flags);
	return bad;
}

static u32 read_word(const void *va)
{
	return *(const volatile u32 *)va;
}

/* Why this run has no HighMem to test with, or NULL. */
static const char *no_highmem(void)
{
	if (!CONFIG_HIGHMEM)
		return "nohighmem variant: every page is in the direct map";
	if (!zones[ZONE_HIGHMEM].managed_pages)
		return "no RAM above lowmem in this run (boot with more than 896 MiB)";
	return NULL;
}

/* ---- kmap_atomic ---- */

/* Every type at once: eight slots, eight frames, no two slots alias, and
 * each frame reads back through another type after all are unmapped. */
KTEST(kmap, atomic_every_type)
{
	struct page *pg[KM_TYPE_NR];
	u32 *va[KM_TYPE_NR];
	int base = preempt_count(), bad = -1, nested = 0;

	for (int t = 0; t < KM_TYPE_NR; t++) {
		pg[t] = alloc_page(GFP_HIGHUSER);
		KT_ASSERT(pg[t] != NULL);
	}
	u32 flags = irqs_off();
	for (int t = 0; t < KM_TYPE_NR; t++) {
		va[t] = kmap_atomic_frame(page_to_frame(pg[t]), t);
		if (!maps_frame(va[t], page_to_frame(pg[t]))) {
			bad = t;
			continue;
		}
		for (u32 i = 0; i < FRAME_WORDS; i++)
			va[t][i] = pattern(page_to_frame(pg[t]), i, 0x1000u * t);
	}
	nested = preempt_count() - base;
	for (int t = 0; t < KM_TYPE_NR && bad < 0; t++) {
		if (va[t] != kmap_atomic_slot(t))
			bad = t;
		for (int u = 0; u < t; u++)
			if (va[u] == va[t])
				bad = t;
		if (va[t][FRAME_WORDS - 1] != pattern(page_to_frame(pg[t]), FRAME_WORDS - 1, 0x1000u * t))
			bad = t; /* another slot's writes landed here */
	}
	for (int t = KM_TYPE_NR - 1; t >= 0; t--)
		kunmap_atomic(va[t], t);
	irqs_restore(flags);
	int reread = -1;
	for (int t = 0; t < KM_TYPE_NR && reread < 0; t++)
		if (check_frame(page_to_frame(pg[t]), 0x1000u * t, (t + 1) % KM_TYPE_NR) >= 0)
			reread = t;
	for (int t = 0; t < KM_TYPE_NR; t++)
		__free_page(pg[t]);
	KT_EXPECT_EQ(nested, KM_TYPE_NR); /* each map disabled preemption once more */
	KT_EXPECT_EQ(preempt_count(), base);
	KT_EXPECT_EQ(bad, -1);
	KT_EXPECT_EQ(reread, -1);
}

/* HighMem allocated in big blocks, all of it, to sweep its whole range. */
#define SWEEP_ORDER (MAX_ORDER - 1)
#define SWEEP_FRAMES ((1u << SWEEP_ORDER) * PAGE_MMUCOUNT)
static struct list_head swept = LIST_HEAD_INIT(swept);

static u32 grab_all_highmem(void)
{
	struct page *p;
	u32 n = 0;

	while ((p = alloc_pages(GFP_HIGHUSER | __GFP_NOWARN, SWEEP_ORDER))) {
		if (!PageHighMem(p)) { /* HighMem is used up: the allocator fell back */
			__free_pages(p, SWEEP_ORDER);
			break;
		}
		list_add_tail(&p->lru, &swept);
		n++;
	}
	return n;
}

static void release_all_highmem(void)
{
	while (!list_empty(&swept)) {
		struct page *p = list_first_entry(&swept, struct page, lru);
		list_del(&p->lru);
		__free_pages(p, SWEEP_ORDER);
	}
}

#define SWEEP_MAX_BLOCKS 96
static u32 sweep_stride = 1;

/* Is the SWEEP_ORDER block holding frame sampled by this sweep? */
static bool sampled_block(u64 frame)
{
	return ((frame_to_pfn(frame) >> SWEEP_ORDER) & (sweep_stride - 1)) == 0;
}

struct sweep {
	u32 blocks, frames, above_4g, bad, pte_bad, aliases;
	u64 lowest, highest, first_bad;
};

/* Frame offsets sampled in block k: three the same in every block (so a
 * frame and its alias 4 GiB lower are both sampled), one that moves. */
static u32 sample(u32 k, int j)
{
	static const u32 fixed[3] = { 0, SWEEP_FRAMES / 3, SWEEP_FRAMES - 1 };
	return j < 3 ? fixed[j] : (k * 2654435761u) % SWEEP_FRAMES;
}

/* Is frame in one of the swept blocks (a SWEEP_ORDER block we hold)? */
static bool swept_frame(u64 frame)
{
	u32 head = frame_to_pfn(frame) & ~((1u << SWEEP_ORDER) - 1);

	if (!pfn_valid(head))
		return false;
	const struct page *p = pfn_to_page(head);
	return PageHighMem(p) && PageFlag(p, PG_allocated) && page_order(p) == SWEEP_ORDER;
}

/*
 * Writes the sampled frames of every swept block, each through one type,
 * then reads them all back, each through the next type.  Writing all before
 * reading any catches two frames that reach the same memory (e.g. a PTE
 * that lost the address bits above 4 GiB).
 */
static void sweep_highmem(struct sweep *s, u32 salt)
{
	struct list_head *pos;
	u32 k = 0, held = 0;

	memset(s, 0, sizeof(*s));
	list_for_each(pos, &swept)
		held++;
	/* Sample blocks by physical position: every stride-th, stride a power of
	 * two dividing the 256 blocks of 4 GiB (so a sampled block's 4 GiB twin
	 * is sampled too), at most SWEEP_MAX_BLOCKS of them.  A host backs each
	 * touched 2 MiB with a huge page: sampling them all at 64 GiB would
	 * make QEMU touch tens of GiB. */
	u32 stride = 1;
	while (stride < 256 && held / stride > SWEEP_MAX_BLOCKS)
		stride <<= 1;
	sweep_stride = stride;
	s->lowest = ~0ull;
	list_for_each(pos, &swept) {
		u64 base = page_to_frame(list_entry(pos, struct page, lru));
		if (!sampled_block(base))
			continue;
		for (int j = 0; j < 4; j++) {
			u64 f = base + sample(k, j);
			enum km_type t = (k * 4 + j) % KM_TYPE_NR;
			if (!fill_frame(f, salt, t))
				s->pte_bad++;
		}
		k++;
	}
	k = 0;
	list_for_each(pos, &swept) {
		u64 base = page_to_frame(list_entry(pos, struct page, lru));
		if (!sampled_block(base))
			continue;
		for (int j = 0; j < 4; j++) {
			u64 f = base + sample(k, j);
			if (check_frame(f, salt, (k * 4 + j + 1) % KM_TYPE_NR) >= 0 && !s->bad++)
				s->first_bad = f;
			s->frames++;
			s->lowest = MIN(s->lowest, f);
			s->highest = MAX(s->highest, f);
			if (f >= FRAMES_4G) {
				s->above_4g++;
				if (swept_frame(f - FRAMES_4G) && sampled_block(f - FRAMES_4G))
					s->aliases++;
			}
		}
		k++;
	}
	s->blocks = k;
}

KTEST(kmap, atomic_highmem_frames)
{
	const char *why = no_highmem();
	struct sweep s;

	if (why)
		KT_SKIP(why);
	u32 free_before = zone_free_pages(&zones[ZONE_HIGHMEM]);
	grab_all_highmem();
	sweep_highmem(&s, 0x5eed0001u);
	release_all_highmem();
	ktest_diag("%u frames in %u blocks of %u KiB, frames 0x%llx..0x%llx, %u above 4 GiB",
		   s.frames, s.blocks, SWEEP_FRAMES * 4, s.lowest, s.highest, s.above_4g);
	KT_EXPECT_EQ(zone_free_pages(&zones[ZONE_HIGHMEM]), free_before);
	KT_ASSERT_GT(s.blocks, 0);
	KT_ASSERT_GE(s.lowest, pfn_to_frame(max_low_pfn));
	KT_ASSERT_EQ(s.pte_bad, 0);
	if (s.bad)
		ktest_diag("first bad frame 0x%llx", s.first_bad);
	KT_ASSERT_EQ(s.bad, 0);
}

/* The same sweep, required to reach frames above 4 GiB (PAE entries carry
 * address bits 35:32, SDM vol. 3 4.4.2); every such frame whose 4 GiB-lower
 * twin was swept too is an alias check. */
KTEST(kmap, atomic_frames_above_4g)
{
	struct sweep s;

	if (!CONFIG_X86_PAE)
		KT_SKIP("2-level paging reaches only the first 4 GiB");
	if (no_highmem())
		KT_SKIP(no_highmem());
	if (pfn_to_phys(max_pfn) <= GIB(4))
		KT_SKIP("no RAM above 4 GiB in this run (e.g. qemu-system-x86_64 -cpu core2duo -m 6144)");
	grab_all_highmem();
	sweep_highmem(&s, 0x5eed0004u);
	release_all_highmem();
	ktest_diag("%u frames above 4 GiB (highest 0x%llx), %u with their 4 GiB-lower twin swept too",
		   s.above_4g, s.highest, s.aliases);
	KT_ASSERT_GT(s.above_4g, 0);
	KT_ASSERT_EQ(s.pte_bad, 0);
	if (s.bad)
		ktest_diag("first bad frame 0x%llx", s.first_bad);
	KT_ASSERT_EQ(s.bad, 0);
}

/* A lowmem page: kmap_atomic and kmap return the direct map and leave the
 * slot's PTE (set to a not-present marker) and the pool alone. */
KTEST(kmap, lowmem_touches_no_pte)
{
	struct page *pg = alloc_page(GFP_KERNEL);
	KT_ASSERT(pg != NULL);
	pte_t *slot = kernel_pte((u32)kmap_atomic_slot(KM_TEST));
	pte_t marker = __pte(0x5a5a5000ull); /* P = 0: the CPU ignores it (SDM 4.10.2.3) */
	struct kmap_stats before = kmap_stats;
	int base = preempt_count();

	set_pte(slot, marker);
	void *va = kmap_atomic(pg, KM_TEST);
	int inside = preempt_count() - base;
	kunmap_atomic(va, KM_TEST);
	u64 after_atomic = pte_val(ptep_get(slot));
	void *kva = kmap(pg);
	void *pa = page_address(pg);
	kunmap(pg);
	u64 after_kmap = pte_val(ptep_get(slot));
	pte_clear(slot);
	__free_page(pg);

	KT_EXPECT(va == lowmem_page_address(pg));
	KT_EXPECT(kva == lowmem_page_address(pg));
	KT_EXPECT(pa == lowmem_page_address(pg));
	KT_EXPECT_EQ(inside, 1); /* the lowmem case disables preemption too */
	KT_EXPECT_EQ(preempt_count(), base);
	KT_EXPECT_EQ(after_atomic, pte_val(marker));
	KT_EXPECT_EQ(after_kmap, pte_val(marker));
	KT_EXPECT_EQ(kmap_stats.atomic_maps, before.atomic_maps);
	KT_EXPECT_EQ(kmap_stats.pkmap_maps, before.pkmap_maps);
	KT_EXPECT_EQ(kmap_stats.pkmap_reuses, before.pkmap_reuses);
}

/* kmap_atomic(page) maps the first frame; kmap(page) the whole cluster. */
KTEST(kmap, cluster_mappings)
{
	const char *why = no_highmem();
	if (why)
		KT_SKIP(why);
	struct page *pg = alloc_page(GFP_HIGHUSER);
	KT_ASSERT(pg != NULL && PageHighMem(pg));
	u64 f0 = page_to_frame(pg);
	int bad = -1;

	for (u32 i = 0; i < PAGE_MMUCOUNT; i++)
		if (!fill_frame(f0 + i, 0xc1u, KM_USER0))
			bad = i;
	const u32 *a = kmap_atomic(pg, KM_USER1);
	u32 first = a[0], last = a[FRAME_WORDS - 1];
	kunmap_atomic((void *)a, KM_USER1);
	const u32 *k = kmap(pg);
	for (u32 i = 0; i < PAGE_MMUCOUNT && bad < 0; i++)
		for (u32 w = 0; w < FRAME_WORDS; w += 97)
			if (k[i * FRAME_WORDS + w] != pattern(f0 + i, w, 0xc1u))
				bad = i;
	kunmap(pg);
	__free_page(pg);
	KT_EXPECT_EQ(first, pattern(f0, 0, 0xc1u));
	KT_EXPECT_EQ(last, pattern(f0, FRAME_WORDS - 1, 0xc1u));
	KT_EXPECT_EQ(bad, -1); /* frame bad of the cluster is not where kmap put it */
}

/* An interrupt handler maps its own type while the code it interrupted
 * holds a slot: the interrupted mapping is untouched. */
static u64 irq_frame;
static volatile u32 irq_word, irq_done;

static void irq_maps_a_page(void)
{
	u32 *va = kmap_atomic_frame(irq_frame, KM_IRQ0);
	irq_word = va[7];
	kunmap_atomic(va, KM_IRQ0);
	irq_done = 1;
	timer_hook = NULL;
}

KTEST(kmap, atomic_irq_slot)
{
	struct page *a = alloc_page(GFP_HIGHUSER), *b = alloc_page(GFP_HIGHUSER);
	KT_ASSERT(a && b);
	u64 fa = page_to_frame(a), fb = page_to_frame(b);
	u32 start = jiffies;

	bool filled = fill_frame(fa, 0xa0u, KM_USER1) && fill_frame(fb, 0xb0u, KM_USER1);
	u32 *va = kmap_atomic_frame(fa, KM_USER0);
	irq_frame = fb;
	irq_done = 0;
	timer_hook = irq_maps_a_page;
	while (!irq_done && jiffies - start < 50)
		hlt();
	timer_hook = NULL;
	u32 mine = va[7];
	kunmap_atomic(va, KM_USER0);
	__free_page(a);
	__free_page(b);
	KT_ASSERT(filled);
	KT_ASSERT(irq_done);
	KT_EXPECT_EQ(irq_word, pattern(fb, 7, 0xb0u));
	KT_EXPECT_EQ(mine, pattern(fa, 7, 0xa0u));
}

/* Points the slot at va to frame and invalidates it, bypassing kmap_atomic. */
static void raw_map(u32 va, u64 frame)
{
	set_pte(kernel_pte(va), mk_pte_frame(frame, PAGE_KERNEL));
	invlpg(va);
}

/* Writes word 0 of frame through a raw mapping at va, then unmaps it. */
static void raw_put(u32 va, u64 frame, u32 val)
{
	raw_map(va, frame);
	*(volatile u32 *)va = val;
	pte_clear(kernel_pte(va));
	invlpg(va);
}

/*
 * The stale-TLB proof, for every type's slot, with frames A and B:
 *   1. point the slot at A (with invlpg) and read it: the TLB now holds A;
 *   2. point the PTE at B without invlpg and read: a platform that keeps
 *      stale entries (Bochs, per its source; QEMU's software TLB) shows A;
 *   3. clear the PTE, still without invlpg (as if the slot had been
 *      unmapped), and kmap_atomic B in the same slot: its invlpg must make
 *      the read show B.
 * If step 2 shows B the platform re-walked the tables and proves nothing:
 * the test is skipped with that reason.  Reading neither A's nor B's data
 * fails: the set-up (done with raw PTE writes, not with kmap_atomic) broke.
 */
KTEST(kmap, stale_tlb_without_invlpg)
{
	struct page *a = alloc_page(GFP_HIGHUSER), *b = alloc_page(GFP_HIGHUSER);
	KT_ASSERT(a && b);
	u64 fa = page_to_frame(a), fb = page_to_frame(b);
	const u32 da = 0xaaaa5555u, db = 0xbbbb6666u;
	int stale = 0, rewalked = 0, broken = 0, fresh_after_kmap = 0;

	/* The data is put in place without kmap_atomic, the code under test. */
	raw_put((u32)kmap_atomic_slot(KM_TEST), fa, da);
	raw_put((u32)kmap_atomic_slot(KM_TEST), fb, db);
	u32 flags = irqs_off(); /* no interrupt handler between the reads, and the IRQ slots are ours */
	for (int t = 0; t < KM_TYPE_NR; t++) {
		u32 va = (u32)kmap_atomic_slot(t);
		pte_t *pte = kernel_pte(va);

		raw_map(va, fa);
		u32 first = read_word((void *)va);
		set_pte(pte, mk_pte_frame(fb, PAGE_KERNEL)); /* no invlpg */
		u32 second = read_word((void *)va);
		pte_clear(pte);                              /* no invlpg */
		if (first != da || (second != da && second != db)) {
			ktest_diag("%s: read 0x%08x then 0x%08x: neither frame's data", km_type_name(t),
				   first, second);
			broken++;
			continue;
		}
		if (second == db) {
			rewalked++; /* the platform saw the new PTE: nothing to prove here */
			continue;
		}
		stale++;
		u32 *p = kmap_atomic_frame(fb, t);
		u32 third = read_word(p);
		kunmap_atomic(p, t);
		if (third == db)
			fresh_after_kmap++;
		else
			ktest_diag("%s: kmap_atomic of B read 0x%08x: the stale A", km_type_name(t), third);
	}
	irqs_restore(flags);
	__free_page(a);
	__free_page(b);
	KT_ASSERT_EQ(broken, 0);
	if (!stale)
		KT_SKIP("this platform re-walks changed PTEs (no stale TLB entries to catch)");
	ktest_diag("%d of %d slots kept the stale translation, %d re-walked", stale, KM_TYPE_NR,
		   rewalked);
	KT_EXPECT_EQ(fresh_after_kmap, stale);
}

/* Does a check's verdict name what; verdicts share one buffer, so each is
 * looked at before the next check runs. */
static bool says(const char *verdict, const char *what)
{
	return verdict && strstr(verdict, what);
}

/* The debug checks, called as functions: each misuse gets its reason. */
KTEST(kmap, debug_checks)
{
	if (!CONFIG_DEBUG)
		KT_SKIP("the checks exist in debug builds only");
	struct page *pg = alloc_page(GFP_HIGHUSER);
	KT_ASSERT(pg != NULL);
	bool idle0 = kmap_atomic_idle_check() == NULL;
	void *hold = kmap_atomic_frame(page_to_frame(pg), KM_USER0);
	void *p = kmap_atomic_frame(page_to_frame(pg), KM_PTE0);
	bool live = says(kmap_atomic_map_check(KM_PTE0), "KM_PTE0") &&
		    says(kmap_atomic_map_check(KM_PTE0), "still mapped");
	bool other_free = kmap_atomic_map_check(KM_PTE1) == NULL;
	bool wrong = says(kmap_atomic_unmap_check(p, KM_PTE1), "slot of KM_PTE0");
	bool right = kmap_atomic_unmap_check(p, KM_PTE0) == NULL;
	bool notslot = says(kmap_atomic_unmap_check((void *)VMALLOC_START, KM_PTE0),
			    "not a kmap_atomic address");
	bool badtype = says(kmap_atomic_map_check(KM_TYPE_NR), "not a km_type");
	bool idle1 = says(kmap_atomic_idle_check(), "KM_PTE0 is still mapped"); /* the first live type */
	kunmap_atomic(p, KM_PTE0);
	bool twice = says(kmap_atomic_unmap_check(p, KM_PTE0), "not mapped");
	bool free_again = kmap_atomic_map_check(KM_PTE0) == NULL;
	kunmap_atomic(hold, KM_USER0);
	bool unbalanced = says(kmap_atomic_unmap_check(hold, KM_USER0), "more unmaps than maps");
	bool idle2 = kmap_atomic_idle_check() == NULL;
	__free_page(pg);

	KT_EXPECT(idle0);
	KT_EXPECT(live);       /* mapping a live slot (PTE0 twice) */
	KT_EXPECT(other_free);
	KT_EXPECT(wrong);      /* unmapping with the wrong type */
	KT_EXPECT(right);
	KT_EXPECT(notslot);
	KT_EXPECT(badtype);
	KT_EXPECT(idle1);      /* what kmap_atomic_check_idle panics about */
	KT_EXPECT(twice);
	KT_EXPECT(free_again);
	KT_EXPECT(unbalanced);
	KT_EXPECT(idle2);
}

/* Debug kunmap_atomic clears the slot: a use after unmap is a page fault
 * (not present, read: error code 0, SDM vol. 3 4.7) at the slot's address. */
KTEST(kmap, debug_use_after_unmap_faults)
{
	if (!CONFIG_DEBUG)
		KT_SKIP("non-debug kunmap_atomic leaves the slot mapped, by design");
	struct page *pg = alloc_page(GFP_HIGHUSER);
	KT_ASSERT(pg != NULL);
	u32 *p = kmap_atomic_frame(page_to_frame(pg), KM_TEST);
	u32 val = 0x1234, faults = last_fixup.count;

	p[0] = 0xfeed;
	kunmap_atomic(p, KM_TEST);
	__asm__ __volatile__("1: movl (%1), %0\n2:\n" EXTABLE(1b, 2b) : "+r"(val) : "r"(p) : "memory");
	__free_page(pg);
	KT_ASSERT_EQ(last_fixup.count, faults + 1);
	KT_EXPECT_EQ(last_fixup.vector, VEC_PF);
	KT_EXPECT_EQ(last_fixup.error, 0);
	KT_EXPECT_EQ(last_fixup.cr2, (u32)p);
	KT_EXPECT_EQ(val, 0x1234);
}

/* ---- kmap: the pkmap pool ---- */

/* Pages for the pool tests: a few more than the pool holds.  The first
 * word of each frame holds frame_tag(frame). */
#define FLUSH_PROBES 8
static struct page *tp[LAST_PKMAP_PAGES + FLUSH_PROBES];
static u32 ntp;

static u32 frame_tag(u64 frame)
{
	return (u32)frame * 0x9e3779b1u ^ 0x7a900000u;
}

static void put_test_pages(void)
{
	while (ntp)
		__free_page(tp[--ntp]);
}

/* n HighMem pages in tp, tagged; false (none kept) if HighMem runs out. */
static bool get_test_pages(u32 n)
{
	for (ntp = 0; ntp < n; ntp++) {
		struct page *p = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
		if (!p || !PageHighMem(p)) { /* HighMem is used up: the allocator fell back */
			if (p)
				__free_page(p);
			put_test_pages();
			return false;
		}
		tp[ntp] = p;
		for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
			u32 *va = kmap_atomic_frame(page_to_frame(p) + i, KM_USER0);
			va[0] = frame_tag(page_to_frame(p) + i);
			kunmap_atomic(va, KM_USER0);
		}
	}
	return true;
}

/* Does va, a kmap of page, show page's tags in every frame? */
static bool shows_tags(const void *va, const struct page *page)
{
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++)
		if (read_word((const char *)va + i * MMUPAGE_SIZE) != frame_tag(page_to_frame(page) + i))
			return false;
	return true;
}

static u32 entry_of(const void *va)
{
	return PKMAP_NR((u32)va) >> PAGE_MMUSHIFT;
}

#define NEED_PAGES(n)                                                             \
	do {                                                                      \
		const char *_why = no_highmem();                                  \
		if (_why)                                                         \
			KT_SKIP(_why);                                            \
		if (!get_test_pages(n))                                           \
			KT_SKIP("not enough free HighMem for the pool tests");    \
	} while (0)

/* page_address finds a kmapped page, keeps finding it after the last
 * kunmap (lazy: the entry stays until the next wrap-around), then not. */
KTEST(kmap, page_address)
{
	NEED_PAGES(LAST_PKMAP_PAGES + 1);
	struct page *p = tp[0];

	kmap_flush_unused(); /* p may still sit in the pool from an earlier test */
	void *before = page_address(p);
	void *v1 = kmap(p);
	void *v2 = kmap(p);
	void *during = page_address(p);
	bool data = shows_tags(v1, p);
	kunmap(p);
	kunmap(p);
	void *lazy = page_address(p);
	/* A whole turn of the pool wraps it once: p's entry is freed. */
	for (u32 i = 1; i <= LAST_PKMAP_PAGES; i++) {
		kmap(tp[i]);
		kunmap(tp[i]);
	}
	void *after = page_address(p);
	struct page *low = alloc_page(GFP_KERNEL);
	void *lowva = low ? page_address(low) : NULL;
	put_test_pages();

	KT_EXPECT(before == NULL);
	KT_EXPECT(v1 != NULL && v1 == v2 && during == v1);
	KT_EXPECT(data);
	KT_EXPECT((u32)v1 >= PKMAP_BASE && (u32)v1 < PKMAP_ADDR(LAST_PKMAP));
	KT_EXPECT(lazy == v1);
	KT_EXPECT(after == NULL);
	KT_ASSERT(low != NULL);
	KT_EXPECT(lowva == lowmem_page_address(low));
	__free_page(low);
}

/*
 * Map and unmap pages one after another, more than three turns of the pool.
 * With every page unmapped at once, the rotor hands out entries strictly in
 * order, and every wrap to entry 0 must cost exactly one flush.  Each
 * mapping is read and must show its own page.
 */
KTEST(kmap, pkmap_one_flush_per_wrap)
{
	NEED_PAGES(LAST_PKMAP_PAGES + 1);
	const u32 calls = 3 * LAST_PKMAP_PAGES + LAST_PKMAP_PAGES / 2;
	u32 wraps = 0, out_of_order = 0, wrong_data = 0, prev = 0, first = 0;

	kmap_flush_unused(); /* every unused entry free: none is skipped */
	struct kmap_stats s0 = kmap_stats;
	for (u32 n = 0; n < calls; n++) {
		struct page *p = tp[n % ntp];
		void *va = kmap(p);
		u32 nr = entry_of(va);
		if (!shows_tags(va, p))
			wrong_data++;
		kunmap(p);
		if (n == 0)
			first = nr;
		else if (nr != ((prev + 1) & (LAST_PKMAP_PAGES - 1)))
			out_of_order++;
		if (nr == 0)
			wraps++; /* the rotor reaches 0 only by wrapping */
		prev = nr;
	}
	struct kmap_stats s1 = kmap_stats;
	put_test_pages();

	u32 expected = (first + calls - 1) / LAST_PKMAP_PAGES; /* the rotor started at first - 1 */
	if (first == 0)
		expected = (LAST_PKMAP_PAGES - 1 + calls) / LAST_PKMAP_PAGES;
	ktest_diag("%u kmaps, pool of %u pages: %u wraps, %u flushes", calls, LAST_PKMAP_PAGES, wraps,
		   s1.pkmap_flushes - s0.pkmap_flushes);
	KT_EXPECT_EQ(out_of_order, 0);
	KT_EXPECT_EQ(wrong_data, 0);
	KT_EXPECT_EQ(s1.pkmap_maps - s0.pkmap_maps, calls); /* every kmap needed a new entry */
	KT_EXPECT_EQ(s1.pkmap_reuses - s0.pkmap_reuses, 0);
	KT_EXPECT_EQ(wraps, expected);
	KT_EXPECT(wraps >= 3);
	KT_EXPECT_EQ(s1.pkmap_flushes - s0.pkmap_flushes, wraps);
	KT_EXPECT_EQ(s1.pkmap_waits - s0.pkmap_waits, 0);
}

/*
 * The pool full: every entry held.  A timer-tick hook kunmaps one page
 * after three ticks; the next kmap must wait for it (one wait), then get
 * that very entry (the only one free after the wrap's flush).
 */
static struct page *victim;
static volatile u32 hook_ticks, released_at;

static void release_later(void)
{
	if (++hook_ticks < 3)
		return;
	released_at = jiffies;
	timer_hook = NULL;
	kunmap(victim);
}

KTEST(kmap, pkmap_full_waits)
{
	NEED_PAGES(LAST_PKMAP_PAGES + 1);
	u32 held = 0, start;
	void *victim_va = NULL;
	struct page *extra = tp[LAST_PKMAP_PAGES];

	kmap_flush_unused();
	struct kmap_stats s0 = kmap_stats;
	for (; held < LAST_PKMAP_PAGES; held++) {
		void *va = kmap(tp[held]);
		if (held == LAST_PKMAP_PAGES / 2)
			victim_va = va;
	}
	struct kmap_stats s1 = kmap_stats;
	victim = tp[LAST_PKMAP_PAGES / 2];
	hook_ticks = 0;
	released_at = 0;
	start = jiffies;
	timer_hook = release_later;
	void *va = kmap(extra); /* waits here */
	u32 returned_at = jiffies;
	timer_hook = NULL;
	bool data = shows_tags(va, extra);
	struct kmap_stats s2 = kmap_stats;
	kunmap(extra);
	for (u32 i = 0; i < held; i++)
		if (tp[i] != victim || !released_at)
			kunmap(tp[i]);
	void *victim_after = page_address(victim);
	put_test_pages();

	ktest_diag("released after %u ticks, kmap returned after %u", released_at - start,
		   returned_at - start);
	KT_EXPECT_EQ(s1.pkmap_waits - s0.pkmap_waits, 0); /* filling the pool never waited */
	KT_EXPECT_EQ(s1.pkmap_maps - s0.pkmap_maps, LAST_PKMAP_PAGES);
	KT_EXPECT_EQ(s2.pkmap_waits - s1.pkmap_waits, 1);
	KT_EXPECT(released_at != 0);
	KT_EXPECT(returned_at - start >= 3);
	KT_EXPECT(returned_at >= released_at);
	KT_EXPECT(va == victim_va);
	KT_EXPECT(victim_after == NULL);
	KT_EXPECT(data);
}

/*
 * The wrap-around flush, seen through the TLB.  Read FLUSH_PROBES pages
 * through the pool (their translations are now cached) and unmap them; go
 * once round the pool with pages that are mapped but never touched, so
 * nothing else enters the TLB; the next pages get the probes' entries back
 * (the rotor hands them out in order), and reading them must show the new
 * pages.  On a platform that keeps stale entries (Bochs, QEMU), only the
 * wrap's flush makes them show: without it the old pages come back.
 */
KTEST(kmap, pkmap_wrap_flush_hides_old_pages)
{
	NEED_PAGES(LAST_PKMAP_PAGES + FLUSH_PROBES);
	void *probe_va[FLUSH_PROBES];
	u32 first_bad = 0, misplaced = 0, stale = 0, n = 0;

	kmap_flush_unused();
	u32 flushes0 = kmap_stats.pkmap_flushes;
	for (; n < FLUSH_PROBES; n++) {
		probe_va[n] = kmap(tp[n]);
		if (!shows_tags(probe_va[n], tp[n]))
			first_bad++;
		kunmap(tp[n]);
	}
	for (; n < LAST_PKMAP_PAGES; n++) {
		kmap(tp[n]);
		kunmap(tp[n]);
	}
	for (; n < LAST_PKMAP_PAGES + FLUSH_PROBES; n++) {
		void *va = kmap(tp[n]);
		if (va != probe_va[n - LAST_PKMAP_PAGES])
			misplaced++;
		else if (!shows_tags(va, tp[n]))
			stale++;
		kunmap(tp[n]);
	}
	u32 flushes = kmap_stats.pkmap_flushes - flushes0;
	put_test_pages();
	KT_EXPECT_EQ(first_bad, 0);
	KT_EXPECT_EQ(misplaced, 0);
	KT_EXPECT(flushes >= 1 && flushes <= 2); /* one wrap, two if the probes straddled entry 0 */
	KT_EXPECT_EQ(stale, 0); /* entries that still reached the old pages */
}
