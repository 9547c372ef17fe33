/*
 * Suite "swap": reclaim and swap, from the PTE encoding to ring-3 tasks
 * under real memory pressure.
 *
 * The device is whatever the run set up (swap=, mm/swap.h): an ATA disk
 * when the harness attached one (--swap-mib N), else a HighMem area;
 * tests that need one skip with the reason when there is none.
 *
 * Pressure.  Reclaim starts when an order-0 user allocation would take
 * the zones under their low watermark (vmscan.h).  In a small guest
 * (MEM=64) that is the whole machine; in a large one the tests first take
 * memory away with a balloon -- blocks from the page allocator, held until
 * the test ends -- so that the same test presses on a few MiB.  What the
 * tasks touch is a multiple of what is left.
 *
 * Checks that only the kernel can make: the PTEs of every task after a
 * swap-out, slot counts, checksum counters, the LRU and free counts coming
 * back to their baseline, and, in rmap_invariants_random, every reverse-
 * map and counting invariant after each step of a seeded random sequence.
 */
#include "selftest/ktest.h"
#include "selftest/urun.h"
#include "kernel/panic.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "arch/timer.h"
#include "arch/tlbflush.h"
#include "arch/uaccess.h"
#include "lib/string.h"
#include "mm/highmem.h"
#include "mm/highpte.h"
#include "mm/memory.h"
#include "mm/mm.h"
#include "mm/page_alloc.h"
#include "mm/rmap.h"
#include "mm/slab.h"
#include "mm/swap.h"
#include "mm/vmscan.h"
#include "user/reclaim.h"

#define PF_KILL EXIT_KILLED(14)
#define WAIT_TICKS (60 * HZ) /* for a ring-3 handshake, in guest time */

/* ---- helpers ---- */

#define NEED_SWAP()                                                               \
	do {                                                                      \
		if (!swap_active())                                               \
			KT_SKIP(swap_absent_reason());                            \
	} while (0)

/* The PTE of addr in mm, raw (0 when there is no table). */
static u64 raw_pte(struct mm_struct *mm, u32 addr)
{
	pmd_t *pmd = user_pmd(mm->pgd, addr);
	u64 v = 0;

	if (pmd_present(*pmd)) {
		pte_t *pte = pte_offset_map(pmd, addr);
		v = pte_val(*pte);
		pte_unmap(pte);
	}
	return v;
}

/* A word of another address space's memory, through its present PTE
 * (handshake pages: shared memory, never reclaimed); ~0 if unmapped. */
static u32 peek(struct mm_struct *mm, u32 addr)
{
	preempt_disable();
	u64 frame = user_pte_frame(mm, addr, NULL);
	u32 v = ~0u;
	if (frame) {
		u32 *va = kmap_atomic_frame(frame, KM_TEST);
		v = va[(addr & ~MMUPAGE_MASK) / 4];
		kunmap_atomic(va, KM_TEST);
	}
	preempt_enable();
	return v;
}

static void poke(struct mm_struct *mm, u32 addr, u32 v)
{
	preempt_disable();
	u64 frame = user_pte_frame(mm, addr, NULL);
	if (frame) {
		u32 *va = kmap_atomic_frame(frame, KM_TEST);
		va[(addr & ~MMUPAGE_MASK) / 4] = v;
		kunmap_atomic(va, KM_TEST);
	}
	preempt_enable();
}

#define SYNC_FIELD(f) (SWAPTREE_SYNC + __builtin_offsetof(struct swaptree_sync, f))

/* Yields until the word at addr in mm is want (or the task is gone). */
static bool await_word(int pid, struct mm_struct *mm, u32 addr, u32 want)
{
	u32 start = jiffies;

	while (jiffies - start < WAIT_TICKS) {
		struct task *t = find_task(pid);
		if (!t || t->mm != mm)
			return false;
		if (peek(mm, addr) == want)
			return true;
		yield();
	}
	return false;
}

/* Taken memory (see the header comment): blocks on a list. */
static struct list_head balloon = LIST_HEAD_INIT(balloon);
static u32 balloon_pages;

/* Takes memory until a user allocation has about room pages before
 * reclaim starts; returns that headroom. */
static u32 balloon_inflate(u32 room)
{
	preempt_disable();
	for (int order = MAX_ORDER - 1; order >= 0; order--) {
		while (alloc_headroom(GFP_HIGHUSER, WMARK_LOW) >= room + (1u << order)) {
			struct page *p = alloc_pages(GFP_HIGHUSER | __GFP_NOWARN, order);
			if (!p)
				break;
			list_add(&p->lru, &balloon);
			balloon_pages += 1u << order;
		}
	}
	u32 left = alloc_headroom(GFP_HIGHUSER, WMARK_LOW);
	preempt_enable();
	return left;
}

static void balloon_deflate(void)
{
	preempt_disable();
	while (!list_empty(&balloon)) {
		struct page *p = list_first_entry(&balloon, struct page, lru);
		list_del(&p->lru);
		__free_pages(p, page_order(p));
	}
	balloon_pages = 0;
	preempt_enable();
}

/*
 * What must come back once the tasks of a test are gone.  Slab caches may
 * keep the slabs a test made them grow: a page is either free or held by a
 * slab, and the objects in use must be exactly as many as before.
 */
struct baseline {
	u32 free_or_slab; /* free pages + pages held by slab caches */
	u32 slab_objs;    /* slab objects in use */
	u32 lru, swap_inuse;
	int tasks;
};

/* A throwaway address space, forked once: caches created on first use
 * (the PDPT cache under PAE...) exist before any baseline is taken. */
static void warm_up(void)
{
	preempt_disable();
	struct mm_struct *mm = mm_alloc();
	if (mm) {
		s32 a = do_mmap(mm, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		if (a > 0)
			handle_mm_fault(mm, (u32)a, true, false);
		mmput(dup_mm(mm));
		mmput(mm);
	}
	preempt_enable();
}

static void snapshot(struct baseline *b)
{
	u32 slab_pages;

	warm_up();
	task_cache_shrink();
	kmem_cache_totals(&b->slab_objs, &slab_pages);
	preempt_disable();
	drain_all_pages();
	b->free_or_slab = nr_free_pages() + slab_pages;
	b->lru = nr_active + nr_inactive;
	b->swap_inuse = swap_active() ? swap_active()->inuse : 0;
	preempt_enable();
	b->tasks = nr_tasks();
}

static bool same_as(const struct baseline *b)
{
	struct baseline now;

	snapshot(&now);
	if (!memcmp(&now, b, sizeof(now)))
		return true;
	ktest_diag("baseline: %u pages free or in slabs, %u slab objects, %u on the LRU, "
		   "%u swap slots, %d tasks", b->free_or_slab, b->slab_objs, b->lru, b->swap_inuse,
		   b->tasks);
	ktest_diag("now:      %u pages free or in slabs, %u slab objects, %u on the LRU, "
		   "%u swap slots, %d tasks", now.free_or_slab, now.slab_objs, now.lru,
		   now.swap_inuse, now.tasks);
	return false;
}

/* Does the captured log contain s?  Shows the log's lines as diagnostics. */
static bool log_has(const char *log, const char *s)
{
	return strstr(log, s) != NULL;
}

static void show_log(const char *log)
{
	for (const char *line = log, *end; *line; line = end) {
		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		ktest_diag("| %.*s", (int)(end - line - (end[-1] == '\n')), line);
	}
}

/* ---- the PTE encoding ---- */

/* Swap entries are non-present, never PROT_NONE, never 0, and round-trip
 * every type and slot the format holds. */
KTEST(swap, entry_encoding)
{
	static const u32 slots[] = { 0, 1, 2, 0x1234, SWP_MAX_OFFSET / 2, SWP_MAX_OFFSET - 1 };

	for (u32 type = 0; type <= SWP_TYPE_MASK; type++)
		for (u32 i = 0; i < ARRAY_SIZE(slots); i++) {
			swp_entry_t e = swp_entry(type, slots[i]);
			pte_t p = swp_entry_to_pte(e);
			KT_ASSERT_EQ(swp_type(e), type);
			KT_ASSERT_EQ(swp_offset(e), slots[i]);
			KT_ASSERT(!pte_none(p));
			KT_ASSERT(!pte_present(p));
			KT_ASSERT(!(pte_val(p) & _PAGE_PROTNONE));
			KT_ASSERT(is_swap_pte(p));
			KT_ASSERT_EQ(pte_val(p) >> 32, 0); /* PAE: the high half stays 0 */
			KT_ASSERT_EQ(pte_to_swp_entry(p).val, e.val);
		}
	/* What a swap entry must not be mistaken for. */
	KT_EXPECT(!is_swap_pte(__pte(0)));
	KT_EXPECT(!is_swap_pte(mk_pte_frame(0x1234, _PAGE_PRESENT | _PAGE_USER)));
	KT_EXPECT(!is_swap_pte(mk_pte_frame(0x1234, _PAGE_PROTNONE | _PAGE_USER)));
	KT_EXPECT(!is_swap_pte(__pte(_PAGE_SWAPENTRY | _PAGE_PRESENT)));
	KT_EXPECT(!is_swap_pte(__pte(_PAGE_SWAPENTRY | _PAGE_PROTNONE)));
}

/* ---- devices ---- */

/* Fills (or checks) the frames of page with a pattern seeded by seed;
 * returns the words that differ when checking. */
static u32 pattern_page(struct page *page, u32 seed, bool check)
{
	u32 wrong = 0;

	for (u32 f = 0; f < PAGE_MMUCOUNT; f++) {
		u32 *va = kmap_atomic_frame(page_to_frame(page) + f, KM_TEST);
		for (u32 i = 0; i < MMUPAGE_SIZE / 4; i++) {
			u32 v = (seed + f * 1024 + i) * 2654435761u;
			if (check)
				wrong += va[i] != v;
			else
				va[i] = v;
		}
		kunmap_atomic(va, KM_TEST);
	}
	return wrong;
}

/* A cluster written to a slot and read back whole, through the swap cache's
 * entry points; the slot is free again at the end. */
KTEST(swap, device_round_trip)
{
	NEED_SWAP();
	struct swap_info *si = swap_active();
	struct swap_stats st = swap_stats;
	u32 inuse = si->inuse;
	int err = 0;

	preempt_disable();
	struct page *page = alloc_page(GFP_HIGHUSER);
	KT_ASSERT(page);
	pattern_page(page, 77, false);
	swp_entry_t e = get_swap_slot();
	KT_ASSERT(e.val);
	add_to_swap_cache(page, e);
	swap_duplicate(e); /* stands for a window holding the entry */
	KT_EXPECT_EQ(swap_writepage(page), 0);
	KT_EXPECT(!PageFlag(page, PG_dirty));
	delete_from_swap_cache(page);
	KT_EXPECT_EQ(page->count, 1);
	put_page(page);
	KT_EXPECT(lookup_swap_cache(e) == NULL);
	KT_EXPECT_EQ(si->inuse, inuse + 1);
	struct page *back = swapin_page(e, &err);
	KT_ASSERT(back);
	KT_EXPECT_EQ(pattern_page(back, 77, true), 0);
	KT_EXPECT(lookup_swap_cache(e) == back);
	swap_free(e); /* the last holder: the cluster leaves the cache, the slot is free */
	KT_EXPECT(!PageFlag(back, PG_swapcache));
	KT_EXPECT_EQ(back->count, 1);
	put_page(back);
	preempt_enable();
	KT_EXPECT_EQ(si->inuse, inuse);
	KT_EXPECT_EQ(swap_stats.swap_outs - st.swap_outs, 1);
	KT_EXPECT_EQ(swap_stats.swap_ins - st.swap_ins, 1);
	KT_EXPECT_EQ(swap_stats.csum_errors, st.csum_errors);
	if (CONFIG_DEBUG)
		KT_EXPECT_EQ(swap_stats.csum_checked - st.csum_checked, 1);
	ktest_diag("device: %s, %u slots of %u KiB", si->name, si->max_slots, PAGE_SIZE >> 10);
}

/* The ATA driver on the swap disk: IDENTIFY again, a sector round trip in
 * the header's spare room, and a command the drive must refuse. */
KTEST(swap, ata_disk_io)
{
	static char log[1024];
	static u16 id[256];
	static u8 buf[8 * ATA_SECTOR_SIZE], back[9 * ATA_SECTOR_SIZE];
	struct swap_info *si = swap_active();

	if (!si || si->kind != SWAP_KIND_ATA)
		KT_SKIP("no swap disk attached in this run (harness --swap-mib N)");
	struct ata_disk *d = &si->disk, again;
	preempt_disable();
	int r = ata_identify(d->pos, &again, id);
	preempt_enable();
	KT_ASSERT_EQ(r, 0);
	KT_EXPECT_EQ(again.sectors, d->sectors);
	KT_EXPECT(!(id[0] & 0x8000));
	KT_EXPECT_GE(d->sectors, SWAP_DISK_DATA_LBA + (u64)si->max_slots * (PAGE_SIZE / ATA_SECTOR_SIZE));
	ktest_diag("%s: '%s', %llu sectors, LBA48 %s, %u sectors per DRQ block, %u-bit PIO",
		   ata_pos_name(d->pos), d->model, d->sectors, d->lba48 ? "yes" : "no",
		   d->multiple ? d->multiple : 1, d->io32 ? 32 : 16);
	for (u32 i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + 3);
	u32 errors = d->errors;
	preempt_disable();
	KT_EXPECT_EQ(ata_write(d, 64, 8, buf), 0); /* LBA 1..127: header room, unused */
	KT_EXPECT_EQ(ata_read(d, 64, 8, back), 0);
	KT_EXPECT_EQ(ata_read(d, d->sectors, 1, back + 4096 - 512), -ATA_ERANGE);
	printk_capture_start(log, sizeof(log));
	r = ata_write_beyond_end(d, buf);
	printk_capture_stop();
	KT_EXPECT_EQ(ata_read(d, 0, 1, back + 4096), 0); /* the drive still answers */
	preempt_enable();
	KT_EXPECT(!memcmp(buf, back, 4096));
	KT_EXPECT(!memcmp(back + 4096, SWAP_DISK_MAGIC, sizeof(SWAP_DISK_MAGIC)));
	show_log(log);
	KT_EXPECT_EQ(r, -ATA_EDEVICE);
	KT_EXPECT_EQ(d->errors, errors + 1);
	KT_EXPECT(log_has(log, "error, status"));
	KT_EXPECT(d->last_error & 0x14); /* ABRT or IDNF */
}

/* The HighMem area is HighMem, held by the swap code. */
KTEST(swap, highmem_area)
{
	struct swap_info *si = swap_active();

	if (!si || si->kind != SWAP_KIND_HIGHMEM)
		KT_SKIP(si ? "the swap device is an ATA disk in this run" : swap_absent_reason());
	KT_ASSERT(si->nr_blocks > 0);
	for (u32 b = 0; b < si->nr_blocks; b++) {
		struct page *p = si->blocks[b];
		KT_EXPECT(PageHighMem(p));
		KT_EXPECT(PageFlag(p, PG_allocated));
		KT_EXPECT_EQ(page_order(p), si->block_order);
	}
	KT_EXPECT_EQ(si->max_slots, si->nr_blocks << si->block_order);
}

/* ---- a fork tree sharing one cluster ---- */

struct tree {
	int pid;
	struct mm_struct *mm; /* the root's */
	u32 n;
	int pids[SWAPTREE_MAX + 1];
};

/* Starts swap_tree(arg) and waits until all its tasks are ready. */
static bool tree_start(struct tree *t, u32 arg)
{
	t->n = (2u << (arg & 0xff)) - 1;
	t->pid = urun_start("swap_tree", arg);
	if (t->pid <= 0)
		return false;
	struct task *root = find_task(t->pid);
	if (!root)
		return false;
	t->mm = root->mm;
	if (!await_word(t->pid, t->mm, SYNC_FIELD(ready), t->n)) {
		ktest_fail(__FILE__, __LINE__, "swap_tree(%x): the tasks never got ready", arg);
		return false;
	}
	for (u32 i = 0; i < t->n; i++)
		t->pids[i] = (int)peek(t->mm, SYNC_FIELD(pid) + 4 * i);
	return true;
}

/* The shared cluster, with a reference for the caller; NULL if not mapped. */
static struct page *tree_page(struct tree *t)
{
	u64 f = user_pte_frame(t->mm, SWAPTREE_COW, NULL);
	if (!f)
		return NULL;
	struct page *page = frame_to_page(f);
	get_page(page);
	return page;
}

/* Every slot of every task's window holds entry e. */
static u32 tree_ptes_holding(struct tree *t, swp_entry_t e)
{
	u32 n = 0;

	for (u32 i = 0; i < t->n; i++) {
		struct task *k = find_task(t->pids[i]);
		for (u32 s = 0; k && k->mm && s < PAGE_MMUCOUNT; s++)
			n += raw_pte(k->mm, SWAPTREE_COW + s * MMUPAGE_SIZE) == e.val;
	}
	return n;
}

/*
 * A cluster shared copy-on-write by a 15-task fork tree is unmapped from all
 * of them at once by try_to_unmap (every 4 KiB PTE of every window gets the
 * swap entry), written out and freed; then every task faults it back, with
 * the right contents, and all get the same cluster (the swap cache).
 */
KTEST(swap, fork_tree_unmap)
{
	struct tree t;
	struct swap_stats st;
	struct baseline base;

	NEED_SWAP();
	user_test_reset();
	snapshot(&base);
	KT_ASSERT(tree_start(&t, 3));
	KT_ASSERT_GE(t.n, 8);
	st = swap_stats;
	u32 unmapped = rmap_stats.ptes_unmapped;
	preempt_disable();
	struct page *page = tree_page(&t);
	KT_ASSERT(page);
	KT_EXPECT_EQ(page->mapcount + 1, (s32)t.n); /* one mapping per address space */
#if CONFIG_RMAP_PTE_CHAIN
	KT_EXPECT_EQ(page_rmap_count(page), t.n); /* one chain entry per address space */
#else
	KT_EXPECT_GE(anon_vma_count(page_anon_vma(page)), t.n);
#endif
	int r = swap_out_page(page);
	swp_entry_t e = pte_to_swp_entry(__pte(raw_pte(t.mm, SWAPTREE_COW)));
	KT_EXPECT_EQ(r, 0);
	KT_EXPECT_EQ(page->mapcount, -1);
	KT_EXPECT_EQ(page->count, 1); /* ours only: freed below */
	put_page(page);
	KT_EXPECT(is_swap_pte(__pte(e.val)));
	KT_EXPECT_EQ(tree_ptes_holding(&t, e), t.n * PAGE_MMUCOUNT);
	KT_EXPECT_EQ(rmap_stats.ptes_unmapped - unmapped, t.n * PAGE_MMUCOUNT);
	KT_EXPECT_EQ(swap_count(e), t.n);
	KT_EXPECT(lookup_swap_cache(e) == NULL);
	preempt_enable();
	KT_EXPECT_EQ(swap_stats.swap_outs - st.swap_outs, 1);
	poke(t.mm, SYNC_FIELD(go), 1);
	KT_EXPECT_EQ(urun_wait_for(t.pid), 0);
	urun_reap_all();
	KT_EXPECT_EQ(swap_stats.swap_ins - st.swap_ins, 1);         /* read once ... */
	KT_EXPECT_EQ(swap_stats.cache_hits - st.cache_hits, t.n - 1); /* ... shared by the rest */
	KT_EXPECT_EQ(swap_stats.csum_errors, st.csum_errors);
	KT_EXPECT(same_as(&base));
	KT_ASSERT(urun_checks_ok());
}

/*
 * A write that fails: reported, and the cluster kept in memory (in the swap
 * cache, dirty); the tasks whose PTEs now hold the entry get it back from
 * the cache, intact, with no read from the device.
 */
KTEST(swap, write_error_keeps_page)
{
	static char log[1024];
	struct tree t;
	struct baseline base;

	NEED_SWAP();
	snapshot(&base);
	user_test_reset();
	KT_ASSERT(tree_start(&t, 1));
	struct swap_stats st = swap_stats;
	preempt_disable();
	struct page *page = tree_page(&t);
	KT_ASSERT(page);
	swap_inject_write_errors(1);
	printk_capture_start(log, sizeof(log));
	int r = swap_out_page(page);
	printk_capture_stop();
	swap_inject_write_errors(0);
	swp_entry_t e = page_swp_entry(page);
	KT_EXPECT_EQ(r, -EIO);
	KT_EXPECT(PageFlag(page, PG_swapcache));
	KT_EXPECT(PageFlag(page, PG_dirty));
	KT_EXPECT_EQ(page->mapcount, -1);
	KT_EXPECT_EQ(tree_ptes_holding(&t, e), t.n * PAGE_MMUCOUNT);
	KT_EXPECT(lookup_swap_cache(e) == page);
	put_page(page);
	preempt_enable();
	show_log(log);
	KT_EXPECT(log_has(log, "stays in memory"));
	KT_EXPECT_EQ(swap_stats.write_errors - st.write_errors, 1);
	poke(t.mm, SYNC_FIELD(go), 1);
	KT_EXPECT_EQ(urun_wait_for(t.pid), 0);
	urun_reap_all();
	KT_EXPECT_EQ(swap_stats.swap_ins, st.swap_ins);
	KT_EXPECT_EQ(swap_stats.cache_hits - st.cache_hits, t.n);
	KT_EXPECT(same_as(&base));
	KT_ASSERT(urun_checks_ok());
}

/* A slot changed behind the kernel's back is caught by its checksum: the
 * faulting task is killed with a report, nothing wrong is mapped. */
KTEST(swap, corrupt_slot_detected)
{
	static char log[1024];
	struct tree t;
	struct baseline base;

	NEED_SWAP();
	if (!CONFIG_DEBUG)
		KT_SKIP("slot checksums are kept in debug builds only (DEBUG=1)");
	snapshot(&base);
	user_test_reset();
	KT_ASSERT(tree_start(&t, SWAPTREE_EXPECT_KILL));
	struct swap_stats st = swap_stats;
	preempt_disable();
	struct page *page = tree_page(&t);
	KT_ASSERT(page);
	int r = swap_out_page(page);
	put_page(page);
	swp_entry_t e = pte_to_swp_entry(__pte(raw_pte(t.mm, SWAPTREE_COW)));
	preempt_enable();
	KT_ASSERT_EQ(r, 0);
	KT_ASSERT_EQ(swap_corrupt_slot(swp_offset(e)), 0);
	printk_capture_start(log, sizeof(log));
	poke(t.mm, SYNC_FIELD(go), 1);
	int code = urun_wait_for(t.pid);
	printk_capture_stop();
	urun_reap_all();
	show_log(log);
	KT_EXPECT_EQ(code, PF_KILL);
	KT_EXPECT_EQ(swap_stats.csum_errors - st.csum_errors, 1);
	KT_EXPECT(log_has(log, "corrupted, not used"));
	KT_EXPECT(log_has(log, "swap read failed"));
	KT_EXPECT(same_as(&base));
}

/* ---- a window the reverse map reaches only in part ---- */

/* A word of mm written or read as user code would (mm loaded); false on a fault. */
static bool mm_word(struct mm_struct *mm, u32 addr, u32 *v, bool write)
{
	switch_mm(NULL, mm);
	bool ok = write ? copy_to_user(addr, v, 4) == 0 : copy_from_user(v, addr, 4) == 0;
	switch_mm(mm, NULL);
	return ok;
}

/*
 * pgcl4: two VMAs with different rights (so different anon_vmas) share a
 * window; the second one's first fault moves the window to a cluster of its
 * own anon_vma, which cannot lead to the first VMA's slots.  try_to_unmap
 * replaces what it reaches and reports -EBUSY: the cluster stays, in the
 * swap cache, the window holds both; every count stays right, the contents
 * too, and once the unreachable slots are unmapped the cluster goes out.
 * RMAP=pte_chain: the chain entry is the window's, whatever VMA a slot lies
 * in: the second VMA's fault fills the same cluster, and it goes out whole.
 */
KTEST(swap, window_across_anon_vmas)
{
	struct baseline base;
	u32 w = 0x48000000u, half = PAGE_SIZE / 2, v;

	NEED_SWAP();
	if (PAGE_MMUCOUNT == 1)
		KT_SKIP("pgcl1: a cluster is one frame, no window spans two VMAs");
	snapshot(&base);
	preempt_disable();
	struct mm_struct *mm = mm_alloc();
	KT_ASSERT(mm);
	KT_EXPECT_EQ(do_mmap(mm, w, half, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
		     (s32)w);
	KT_EXPECT_EQ(do_mmap(mm, w + half, half, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), (s32)(w + half));
	v = 0x1111;
	KT_EXPECT(mm_word(mm, w, &v, true));
	v = 0x2222;
	KT_EXPECT(mm_word(mm, w + half, &v, true));
	u64 f = user_pte_frame(mm, w, NULL);
	KT_EXPECT_EQ(user_pte_frame(mm, w + half, NULL), f + PAGE_MMUCOUNT / 2); /* one cluster */
	struct page *page = frame_to_page(f);
#if CONFIG_RMAP_PTE_CHAIN
	KT_EXPECT_EQ(page_rmap_count(page), 1);
	get_page(page);
	KT_EXPECT_EQ(swap_out_page(page), 0);
	KT_EXPECT_EQ(page->count, 1);
	put_page(page);
	KT_EXPECT(is_swap_pte(__pte(raw_pte(mm, w))));
	KT_EXPECT_EQ(raw_pte(mm, w), raw_pte(mm, w + half));
	KT_EXPECT(mm_word(mm, w + half, &v, false) && v == 0x2222);
	KT_EXPECT(mm_word(mm, w, &v, false) && v == 0x1111);
	mmput(mm);
	preempt_enable();
	KT_EXPECT(same_as(&base));
#else
	KT_EXPECT(page_anon_vma(page) != find_vma(mm, w)->anon_vma);
	get_page(page);
	KT_EXPECT_EQ(swap_out_page(page), -EBUSY);
	swp_entry_t e = pte_to_swp_entry(__pte(raw_pte(mm, w + half)));
	KT_EXPECT(is_swap_pte(__pte(e.val)));
	KT_EXPECT_EQ(user_pte_frame(mm, w, NULL), f); /* the part it could not reach */
	KT_EXPECT(PageFlag(page, PG_swapcache));
	KT_EXPECT_EQ(swap_count(e), 1);
	KT_EXPECT_EQ(page->mapcount, 0);
	KT_EXPECT_EQ(mm->rss, 1);
	/* Both halves read right: the entry leads to the cached cluster. */
	KT_EXPECT(mm_word(mm, w + half, &v, false) && v == 0x2222);
	KT_EXPECT(mm_word(mm, w, &v, false) && v == 0x1111);
	KT_EXPECT(!PageFlag(page, PG_swapcache)); /* its last holder mapped it */
	KT_EXPECT_EQ(user_pte_frame(mm, w + half, NULL), f + PAGE_MMUCOUNT / 2);
	/* Again; then the reachable half goes: its entry, and the slot, with it. */
	u32 swapped = swap_stats.swap_outs, ins = swap_stats.swap_ins;
	KT_EXPECT_EQ(swap_out_page(page), -EBUSY);
	KT_EXPECT_EQ(do_munmap(mm, w + half, half), 0);
	KT_EXPECT(!PageFlag(page, PG_swapcache));
	KT_EXPECT_EQ(page->count, 2); /* the address space's and ours */
	put_page(page);
	/* A new VMA there: its fault moves the window to yet another cluster.
	 * Out again; this time the unreachable half goes, and then the cluster,
	 * unmapped, can be written and freed; it comes back from the device. */
	KT_EXPECT_EQ(do_mmap(mm, w + half, half, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), (s32)(w + half));
	v = 0x3333;
	KT_EXPECT(mm_word(mm, w + half, &v, true));
	page = frame_to_page(user_pte_frame(mm, w, NULL));
	get_page(page);
	KT_EXPECT_EQ(swap_out_page(page), -EBUSY);
	KT_EXPECT_EQ(do_munmap(mm, w, half), 0);
	KT_EXPECT_EQ(page->mapcount, -1);
	KT_EXPECT(PageFlag(page, PG_swapcache));
	KT_EXPECT_EQ(swap_out_page(page), 0);
	KT_EXPECT_EQ(page->count, 1);
	put_page(page);
	KT_EXPECT_EQ(swap_stats.swap_outs - swapped, 1);
	KT_EXPECT(mm_word(mm, w + half, &v, false) && v == 0x3333);
	KT_EXPECT_EQ(swap_stats.swap_ins - ins, 1);
	mmput(mm);
	preempt_enable();
	KT_EXPECT(same_as(&base));
#endif
}

/* ---- random fork, munmap, mprotect, exit, swap-out: the invariants ---- */

#define RND_MMS 6
#define RND_PAGES 192u /* 4 KiB pages of the area each address space works in */
#define RND_BASE 0x48000000u
#define RND_STEPS 120

struct rnd_mm {
	struct mm_struct *mm;
	u32 val[RND_PAGES]; /* what the first word of each page must read: 0 = never written */
};
static struct rnd_mm rmms[RND_MMS];
static u32 rnd_state;

static u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * Counting what the page tables say, for comparison with the counters:
 * clusters and swap entries, each with the windows that map or hold it.
 * A hash table emptied by a new generation (no clearing), with the list
 * of the slots in use for the walk afterwards.
 */
#define SEEN_SLOTS 2048u /* > RND_MMS * RND_PAGES: every window could hold a different one */
struct seen_table {
	struct {
		u32 key;     /* a struct page pointer or a swap entry */
		u32 gen;     /* the check that filled it; another value: empty */
		u32 windows; /* (address space, window) pairs */
	} slot[SEEN_SLOTS];
	u16 used[SEEN_SLOTS];
	u32 nused;
};
static struct seen_table seen_pages, seen_entries;
static u32 seen_gen, rnd_unreachable;

/* key's counter of windows, a new one (0) if key was not seen in this check. */
static u32 *seen_count(struct seen_table *t, u32 key)
{
	u32 h = (key * 2654435761u) % SEEN_SLOTS;

	for (u32 n = 0; n < SEEN_SLOTS; n++, h = (h + 1) % SEEN_SLOTS) {
		if (t->slot[h].gen != seen_gen) {
			t->slot[h].key = key;
			t->slot[h].gen = seen_gen;
			t->slot[h].windows = 0;
			t->used[t->nused++] = (u16)h;
			return &t->slot[h].windows;
		}
		if (t->slot[h].key == key)
			return &t->slot[h].windows;
	}
	panic("rmap_invariants: table full");
}

#if CONFIG_RMAP_PTE_CHAIN
/* pte_chain: VMAs carry nothing; the chains are checked per page. */
static bool anon_vma_list_ok(struct vm_area_struct *vma)
{
	return true;
}

/* Can try_to_unmap reach the PTE of page at address a (window w) of mm?
 * page's chain must hold mm's window w, and page->index must name w. */
static bool rmap_reaches(struct page *page, struct mm_struct *mm, u32 w, u32 a)
{
	return page->index << MMUPAGE_SHIFT == w && page_rmap_has(page, mm, w);
}
#else
/* Is vma on its anon_vma's list, and does the list length match? */
static bool anon_vma_list_ok(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;
	struct list_head *l;
	u32 n = 0;
	bool found = false;

	list_for_each(l, &av->head) {
		n++;
		found |= list_entry(l, struct vm_area_struct, anon_vma_node) == vma;
	}
	return found && n == anon_vma_count(av);
}

/* Can try_to_unmap reach the PTE of page at address a (window w) of mm?
 * The VMA holding a must be on page's anon_vma list and put page at w. */
static bool rmap_reaches(struct page *page, struct mm_struct *mm, u32 w, u32 a)
{
	struct anon_vma *av = page_anon_vma(page);
	struct vm_area_struct *v = find_vma(mm, a);
	struct list_head *l;

	if (!av || !v)
		return false;
	list_for_each(l, &av->head)
		if (list_entry(l, struct vm_area_struct, anon_vma_node) == v)
			return vma_address(page, v) == w;
	return false;
}
#endif

/* Walks one window of mm, adding what it maps and holds to the tables
 * (*mapped: it maps a cluster); returns the problems found (each reported). */
static u32 check_window(struct mm_struct *mm, u32 w, u32 *mapped)
{
	pmd_t *pmd = user_pmd(mm->pgd, w);
	struct page *page = NULL;
	u32 entry = 0, bad = 0, unreachable = 0;
	bool writable = false;

	if (!pmd_present(*pmd))
		return 0;
	pte_t *wp = pte_offset_map(pmd, w);
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		pte_t e = wp[i];
		if (is_swap_pte(e)) {
			if (entry && entry != (u32)pte_val(e))
				bad++; /* two entries in one window */
			entry = (u32)pte_val(e);
		} else if (pte_val(e) & (_PAGE_PRESENT | _PAGE_PROTNONE)) {
			struct page *p = frame_to_page(pte_frame(e) - i);
			if (page && p != page)
				bad++; /* two clusters in one window */
			page = p;
			writable |= pte_write(e);
			unreachable += !rmap_reaches(p, mm, w, w + i * MMUPAGE_SIZE);
		} else if (!pte_none(e)) {
			bad++;
		}
	}
	pte_unmap(wp);
	if (bad)
		ktest_fail(__FILE__, __LINE__, "window %08x mixes clusters or entries", w);
	if (page) {
		(*seen_count(&seen_pages, (u32)page))++;
		(*mapped)++;
		/* Known gap of the window scheme (pgcl4): a window across two VMAs
		 * with different anon_vmas maps one cluster that only one of them
		 * leads to.  try_to_unmap then leaves those slots (-EBUSY) and the
		 * cluster stays in memory; counted here, not a failure. */
		rnd_unreachable += unreachable;
		if (writable && PageFlag(page, PG_swapcache)) {
			ktest_fail(__FILE__, __LINE__, "window %08x maps pfn %u, in the swap cache, writable",
				   w, page_to_pfn(page));
			bad++;
		}
		if (entry && lookup_swap_cache((swp_entry_t){ entry }) != page) {
			ktest_fail(__FILE__, __LINE__, "window %08x maps pfn %u and holds another's entry",
				   w, page_to_pfn(page));
			bad++;
		}
	}
	if (entry)
		(*seen_count(&seen_entries, entry))++;
	return bad;
}

/* Every invariant, from the page tables of all live address spaces. */
static u32 check_invariants(void)
{
	u32 bad = 0;

	seen_gen++;
	seen_pages.nused = seen_entries.nused = 0;
	for (int m = 0; m < RND_MMS; m++) {
		struct mm_struct *mm = rmms[m].mm;
		struct list_head *l;
		u32 windows = 0;
		if (!mm)
			continue;
		list_for_each(l, &mm->mmap) {
			struct vm_area_struct *v = list_entry(l, struct vm_area_struct, vm_list);
			if (v->anon_vma && !anon_vma_list_ok(v)) {
				ktest_fail(__FILE__, __LINE__, "VMA %08x-%08x: anon_vma list wrong",
					   v->vm_start, v->vm_end);
				bad++;
			}
		}
		for (u32 w = RND_BASE & PAGE_MASK; w < RND_BASE + RND_PAGES * MMUPAGE_SIZE; w += PAGE_SIZE)
			bad += check_window(mm, w, &windows);
		if (mm->rss != windows) { /* rss: the windows that map a cluster */
			ktest_fail(__FILE__, __LINE__, "address space %d: rss %u, %u windows mapped", m,
				   mm->rss, windows);
			bad++;
		}
	}
	for (u32 i = 0; i < seen_pages.nused; i++) {
		struct page *p = (struct page *)seen_pages.slot[seen_pages.used[i]].key;
		u32 n = seen_pages.slot[seen_pages.used[i]].windows;
		s32 refs = (s32)n + (PageFlag(p, PG_swapcache) ? 1 : 0);
#if CONFIG_RMAP_PTE_CHAIN
		/* The debug check of the chains against the page tables. */
		const char *why = page_rmap_check(p);
		if (why) {
			ktest_fail(__FILE__, __LINE__, "pfn %u: pte_chain: %s", page_to_pfn(p), why);
			bad++;
		}
#endif
		if (p->mapcount + 1 != (s32)n || p->count != refs || !PageFlag(p, PG_lru)) {
			ktest_fail(__FILE__, __LINE__, "pfn %u: mapcount %d, count %d, lru %d; mapped by %u "
				   "address spaces%s", page_to_pfn(p), p->mapcount, p->count,
				   PageFlag(p, PG_lru), n, PageFlag(p, PG_swapcache) ? ", in the swap cache" : "");
			bad++;
		}
	}
	for (u32 i = 0; i < seen_entries.nused; i++) {
		swp_entry_t e = { seen_entries.slot[seen_entries.used[i]].key };
		u32 n = seen_entries.slot[seen_entries.used[i]].windows;
		if (swap_count(e) != n) {
			ktest_fail(__FILE__, __LINE__, "slot %u: count %u, held by %u windows",
				   swp_offset(e), swap_count(e), n);
			bad++;
		}
	}
	return bad;
}

/* Reads (or writes) the first word of page i of slot m; false if the access faulted. */
static bool rnd_access(int m, u32 i, u32 *v, bool write)
{
	u32 addr = RND_BASE + i * MMUPAGE_SIZE;
	switch_mm(NULL, rmms[m].mm);
	bool ok = write ? copy_to_user(addr, v, 4) == 0 : copy_from_user(v, addr, 4) == 0;
	switch_mm(rmms[m].mm, NULL);
	return ok;
}

/* The rights at page i of address space m: VM_READ/VM_WRITE, 0 if unmapped. */
static u32 rnd_rights(int m, u32 i)
{
	struct vm_area_struct *v = find_vma(rmms[m].mm, RND_BASE + i * MMUPAGE_SIZE);
	return v ? v->vm_flags & (VM_READ | VM_WRITE) : 0;
}

/* Checks the first word of page i in address space m against the shadow. */
static u32 rnd_check(int m, u32 i)
{
	u32 rights = rnd_rights(m, i), v = 0;
	bool ok = rnd_access(m, i, &v, false);

	if (ok != !!(rights & VM_READ) || (ok && v != rmms[m].val[i])) {
		ktest_fail(__FILE__, __LINE__, "address space %d page %u: read %s 0x%x, expected %s 0x%x",
			   m, i, ok ? "ok" : "faulted", v, rights & VM_READ ? "ok" : "fault",
			   rmms[m].val[i]);
		return 1;
	}
	return 0;
}

static int rnd_free_slot(void)
{
	for (int m = 0; m < RND_MMS; m++)
		if (!rmms[m].mm)
			return m;
	return -1;
}

static int rnd_live_slot(void)
{
	int live[RND_MMS], n = 0;

	for (int m = 0; m < RND_MMS; m++)
		if (rmms[m].mm)
			live[n++] = m;
	return n ? live[rnd() % n] : -1;
}

/* One random step; returns a name for the diagnostics. */
static const char *rnd_step(void)
{
	int m = rnd_live_slot(), f = rnd_free_slot();
	u32 op = rnd() % 16, i = rnd() % RND_PAGES, len = 1 + rnd() % 24, v;

	if (m < 0 || (op == 0 && f >= 0)) {
		if (f < 0)
			return "nothing";
		struct mm_struct *mm = mm_alloc();
		if (!mm || do_mmap(mm, RND_BASE, RND_PAGES * MMUPAGE_SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) != (s32)RND_BASE) {
			ktest_fail(__FILE__, __LINE__, "cannot create an address space");
			if (mm)
				mmput(mm);
			return "create failed";
		}
		rmms[f].mm = mm;
		memset(rmms[f].val, 0, sizeof(rmms[f].val));
		return "create";
	}
	len = MIN(len, RND_PAGES - i);
	u32 addr = RND_BASE + i * MMUPAGE_SIZE;
	switch (op) {
	case 1: case 2: case 3: case 4: /* write a page */
		v = rnd() | 1;
		if (rnd_rights(m, i) & VM_WRITE) {
			if (!rnd_access(m, i, &v, true))
				ktest_fail(__FILE__, __LINE__, "write to a writable page faulted");
			rmms[m].val[i] = v;
		}
		return "write";
	case 5: case 6: /* read a page */
		rnd_check(m, i);
		return "read";
	case 7: case 8: /* fork */
		if (f < 0)
			return "fork (no room)";
		rmms[f].mm = dup_mm(rmms[m].mm);
		if (!rmms[f].mm) {
			ktest_fail(__FILE__, __LINE__, "dup_mm failed");
			return "fork failed";
		}
		memcpy(rmms[f].val, rmms[m].val, sizeof(rmms[f].val));
		return "fork";
	case 9: /* exit */
		mmput(rmms[m].mm);
		rmms[m].mm = NULL;
		return "exit";
	case 10: /* munmap */
		if (do_munmap(rmms[m].mm, addr, len * MMUPAGE_SIZE))
			ktest_fail(__FILE__, __LINE__, "munmap failed");
		memset(&rmms[m].val[i], 0, len * 4);
		return "munmap";
	case 11: /* mmap over whatever is there */
		if (do_mmap(rmms[m].mm, addr, len * MMUPAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) != (s32)addr)
			ktest_fail(__FILE__, __LINE__, "mmap failed");
		memset(&rmms[m].val[i], 0, len * 4);
		return "mmap";
	case 12: case 13: { /* mprotect: none, read-only or read-write */
		static const u32 prots[3] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };
		do_mprotect(rmms[m].mm, addr, len * MMUPAGE_SIZE, prots[rnd() % 3]); /* -ENOMEM over holes */
		return "mprotect";
	}
	case 14: /* reclaim through the LRU, as memory pressure would */
		return try_to_free_pages(1 + rnd() % 8) ? "reclaim" : "reclaim (nothing)";
	default: { /* swap out the first cluster mapped from page i on */
		u64 frame = 0;
		if (!swap_active())
			return "swap-out (no device)";
		for (; i < RND_PAGES && !frame; i++)
			frame = user_pte_frame(rmms[m].mm, RND_BASE + i * MMUPAGE_SIZE, NULL);
		if (!frame)
			return "swap-out (nothing mapped)";
		struct page *page = frame_to_page(frame);
		get_page(page);
		int r = swap_out_page(page);
		put_page(page);
		return r == 0 ? "swap-out" : r == -EBUSY ? "swap-out (busy)" : "swap-out (failed)";
	}
	}
}

/*
 * Random sequences of create, write, read, fork, exit, munmap, mmap,
 * mprotect and swap-out over a few address spaces (seeded: the seed is
 * printed), with every invariant checked after each step: anon_vma lists,
 * mapcount and count of every cluster against the page tables, reverse-map
 * reachability, rss, slot counts against the windows holding them, no
 * writable cluster in the swap cache -- and what every page reads.
 */
KTEST(swap, rmap_invariants_random)
{
	static const u32 seeds[] = { 0x12345678u, 0x9e3779b9u };
	struct baseline base;
	u32 ops = 0, bad = 0, swapped = swap_stats.swap_outs, busy = vmscan_stats.unmap_busy;

	snapshot(&base);
	rnd_unreachable = 0;
	for (u32 s = 0; s < ARRAY_SIZE(seeds) && !bad; s++) {
		rnd_state = seeds[s];
		memset(rmms, 0, sizeof(rmms));
		ktest_diag("seed 0x%08x, %u steps", seeds[s], RND_STEPS);
		for (u32 step = 0; step < RND_STEPS && !bad; step++, ops++) {
			preempt_disable();
			const char *what = rnd_step();
			bad += check_invariants();
			preempt_enable();
			if (bad || ktest_failures())
				ktest_diag("step %u: %s", step, what);
			bad += ktest_failures() ? 1 : 0;
		}
		preempt_disable();
		for (int m = 0; m < RND_MMS && !bad; m++)
			for (u32 i = 0; rmms[m].mm && i < RND_PAGES; i++)
				bad += rnd_check(m, i);
		for (int m = 0; m < RND_MMS; m++)
			if (rmms[m].mm)
				mmput(rmms[m].mm);
		preempt_enable();
	}
	ktest_diag("%u steps, %u swap-outs, %u busy unmaps; %u checks found PTEs the reverse map "
		   "cannot reach (windows across VMAs of different anon_vmas)", ops,
		   swap_stats.swap_outs - swapped, vmscan_stats.unmap_busy - busy, rnd_unreachable);
	KT_EXPECT_EQ(bad, 0);
	KT_EXPECT(same_as(&base));
}

/* ---- real pressure ---- */

#define MIB_PAGES ((u32)(MIB(1) / PAGE_SIZE))

/*
 * The pressure every reclaim test starts from: in a large guest, a balloon
 * leaves about `mib` MiB before reclaim; in a small one, what is there.
 * Returns the headroom in MiB.
 */
static u32 press(u32 big_guest_mib)
{
	u32 room = alloc_headroom(GFP_HIGHUSER, WMARK_LOW);

	if (room > 64 * MIB_PAGES)
		room = balloon_inflate(big_guest_mib * MIB_PAGES);
	return room / MIB_PAGES;
}

/* What reclaim_load's tasks touch with room MiB left before reclaim: several
 * times room (at most 256 MiB), within what swap can hold; *swap_mib gets
 * the free swap. */
static u32 load_mib(u32 room, u32 *swap_mib)
{
	struct swap_info *si = swap_active();

	*swap_mib = (u32)((u64)(si->nr_slots - si->inuse) * PAGE_SIZE >> 20);
	u32 mib = MIN(MIN(256u, (balloon_pages ? 4 : 6) * room), *swap_mib * 3 / 4 + room / 2);
	return MAX(mib, 4u);
}

/* A reclaim workload under way: what it started from and its size. */
struct load {
	struct baseline base;
	struct swap_stats st;
	struct vmscan_stats vs;
	struct tlb_stats tlb;
	u32 room, mib, swap_mib, t0, ptes_unmapped, retried;
};

/* Records the baseline and sets up the pressure (see press, load_mib). */
static void load_start(struct load *l)
{
	user_test_reset();
	snapshot(&l->base);
	l->room = press(2);
	l->mib = load_mib(l->room, &l->swap_mib);
	l->st = swap_stats;
	l->vs = vmscan_stats;
	l->tlb = tlb_stats;
	l->ptes_unmapped = rmap_stats.ptes_unmapped;
	l->retried = fault_stats.retried;
	l->t0 = jiffies;
}

/* Milliseconds since load_start. */
static u32 load_ms(const struct load *l)
{
	return (jiffies - l->t0) * 1000 / HZ;
}

/* After the workload (code: the tasks' exit status): no error of any kind
 * since load_start, and free pages, LRU, swap slots and tasks back at their
 * baseline. */
static void load_finish(const struct load *l, int code)
{
	KT_EXPECT_EQ(code, 0);
	KT_EXPECT_GE(swap_stats.swap_outs - l->st.swap_outs, 1);
	KT_EXPECT_GE(swap_stats.swap_ins - l->st.swap_ins, 1);
	KT_EXPECT_EQ(swap_stats.csum_errors, l->st.csum_errors);
	KT_EXPECT_EQ(swap_stats.read_errors, l->st.read_errors);
	KT_EXPECT_EQ(swap_stats.write_errors, l->st.write_errors);
	KT_EXPECT_EQ(vmscan_stats.oom, l->vs.oom);
	if (CONFIG_DEBUG)
		KT_EXPECT_EQ(swap_stats.csum_checked - l->st.csum_checked,
			     swap_stats.swap_ins - l->st.swap_ins);
	KT_EXPECT(same_as(&l->base));
	KT_ASSERT(urun_checks_ok());
}

/*
 * Tasks touch several times the memory the machine has left (a 64 MiB guest:
 * up to 256 MiB) and check every word they read back; every swap-in is
 * checksummed (debug builds).  Afterwards: no error of any kind, and free
 * pages, LRU, swap slots and tasks back at their baseline.  With the quick
 * option (make check's matrix) the tasks touch half as much.
 */
KTEST(swap, reclaim_pressure)
{
	struct load l;

	NEED_SWAP();
	load_start(&l);
	if (boot_opts.quick)
		l.mib = MAX(l.mib / 2, 4u);
	ktest_diag("%u MiB before reclaim (balloon %u MiB), %u MiB of swap: 4 tasks touch %u MiB%s",
		   l.room, balloon_pages / MIB_PAGES, l.swap_mib, l.mib, boot_opts.quick ? " (quick)" : "");
	u32 took = mm_call_stats.took_for_swap;
	int code = urun_run("reclaim_load", RECLAIM_LOAD_ARG(l.mib, 4));
	balloon_deflate();
	/* smp anon_vma builds: munmaps over swapped-out pages take the kernel lock (mm/mmap.c) */
	ktest_diag("memory calls that took the kernel lock for swap entries: %u",
		   mm_call_stats.took_for_swap - took);
	ktest_diag("%u ms: %u swap-outs, %u swap-ins (%u checksummed), %u cache hits; %u reclaim runs, "
		   "%u scanned, %u reclaimed, %u rotated, %u activated", load_ms(&l),
		   swap_stats.swap_outs - l.st.swap_outs, swap_stats.swap_ins - l.st.swap_ins,
		   swap_stats.csum_checked - l.st.csum_checked, swap_stats.cache_hits - l.st.cache_hits,
		   vmscan_stats.balance_runs - l.vs.balance_runs, vmscan_stats.scanned - l.vs.scanned,
		   vmscan_stats.reclaimed - l.vs.reclaimed, vmscan_stats.rotated - l.vs.rotated,
		   vmscan_stats.activated - l.vs.activated);
	ktest_diag("TLB: %u PTEs unmapped by the reverse map; %u shootdowns to other CPUs, %u IPIs "
		   "(faults, exits and reclaim)", rmap_stats.ptes_unmapped - l.ptes_unmapped,
		   tlb_stats.shootdowns - l.tlb.shootdowns, tlb_stats.ipis - l.tlb.ipis);
	ktest_diag("%u faults without the kernel lock found no memory and tried again with reclaim",
		   fault_stats.retried - l.retried);
	load_finish(&l, code);
}

/*
 * swap_stress=N (make check (o), on the ATA disk and on the HighMem area):
 * reclaim_load again and again under the same pressure until at least N
 * clusters went out to swap.  Every swap-in is checksummed against what
 * was written (debug builds) and every word the tasks read is checked;
 * the swap-out count is printed and asserted, and there must be no
 * mismatch, I/O error or OOM kill.
 */
KTEST(swap, swap_out_stress)
{
	u32 want = boot_opts.swap_stress, rounds = 0;
	struct load l;
	int code = 0;

	if (!want)
		KT_SKIP("runs only with swap_stress=N on the kernel command line");
	if (!CONFIG_DEBUG)
		KT_SKIP("swap-ins are checksummed in debug builds only");
	NEED_SWAP();
	load_start(&l);
	while (swap_stats.swap_outs - l.st.swap_outs < want && !code && rounds < 100000) {
		code = urun_run("reclaim_load", RECLAIM_LOAD_ARG(l.mib, 4));
		rounds++;
	}
	balloon_deflate();
	u32 outs = swap_stats.swap_outs - l.st.swap_outs;
	ktest_diag("swap on %s, %u MiB before reclaim: %u rounds of 4 tasks touching %u MiB in %u ms",
		   swap_active()->name, l.room, rounds, l.mib, load_ms(&l));
	ktest_diag("swap-outs: %u (wanted %u); swap-ins: %u, checksummed %u, checksum mismatches %u",
		   outs, want, swap_stats.swap_ins - l.st.swap_ins,
		   swap_stats.csum_checked - l.st.csum_checked, swap_stats.csum_errors - l.st.csum_errors);
	KT_EXPECT_GE(outs, want);
	load_finish(&l, code);
}

/*
 * A full swap device: a task that wants more than memory and swap together
 * is killed with an out-of-memory report; the kernel and the other tasks go
 * on, and everything comes back.
 */
KTEST(swap, full_swap_oom)
{
	static char log[2048];
	struct baseline base;
	struct swap_info *si = swap_active();

	NEED_SWAP();
	user_test_reset();
	snapshot(&base);
	KT_ASSERT_EQ(swap_set_limit((u32)(MIB(2) / PAGE_SIZE)), 0);
	u32 room = press(2);
	u32 want = room + 2 + 4;
	ktest_diag("%u MiB before reclaim, 2 MiB of swap: the task touches %u MiB", room, want);
	u32 oom = vmscan_stats.oom;
	printk_capture_start(log, sizeof(log));
	int code = urun_run("oom_eater", want);
	printk_capture_stop();
	balloon_deflate();
	swap_set_limit(0);
	show_log(log);
	KT_EXPECT_EQ(code, PF_KILL);
	KT_EXPECT_EQ(vmscan_stats.oom - oom, 1);
	KT_EXPECT(log_has(log, "out of memory (swap full)"));
	KT_EXPECT(log_has(log, "oom: task"));
	KT_EXPECT_EQ(si->inuse, base.swap_inuse);
	/* The kernel goes on: another task runs to its end. */
	KT_EXPECT_EQ(urun_run("touch_pages", 64), 0);
	KT_EXPECT(same_as(&base));
	KT_ASSERT(urun_checks_ok());
}
