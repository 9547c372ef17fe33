/*
 * touch_pages(n): demand-zero faults over n 4 KiB pages of a fresh private
 * mapping.  New memory reads zero; every page keeps what was written to
 * it; a cluster's frames sit in order in its window (pgcl4); the mapping
 * is counted once per cluster (rss); munmap gives back the clusters and
 * the PTE tables.
 */
#include "user/ulib.h"

static u32 pattern(u32 page, u32 word)
{
	return (page * 0x9e3779b9u) ^ (word << 16) ^ 0x5a5a0000u;
}

static int touch_pages(u32 n)
{
	struct user_sys_info si = sys_info();
	struct user_mm_info before = mm_info();
	u32 len = n * si.mmupage_size, words = si.mmupage_size / 4;
	s32 a = map_anon(len);

	UASSERT(a > 0);
	UCHECK_EQ((u32)a % si.page_size, 0); /* mmap(NULL) places at a cluster boundary */
	volatile u32 *p = (volatile u32 *)a;
	u32 nonzero = 0, wrong = 0, out_of_order = 0;

	for (u32 i = 0; i < n; i++)
		nonzero += p[i * words] != 0 || p[i * words + words - 1] != 0;
	UCHECK_EQ(nonzero, 0);
	for (u32 i = 0; i < n; i++)
		for (u32 w = 0; w < words; w += 97)
			p[i * words + w] = pattern(i, w);
	for (u32 i = 0; i < n; i++)
		for (u32 w = 0; w < words; w += 97)
			wrong += p[i * words + w] != pattern(i, w);
	UCHECK_EQ(wrong, 0);

	/* Slot i of a window holds frame i of its cluster. */
	u32 per_cluster = si.page_size / si.mmupage_size, first = 0;
	for (u32 i = 0; i < n; i++) {
		struct user_pte_info pi = pte_info((u32)a + i * si.mmupage_size);
		if (i % per_cluster == 0)
			first = pi.frame;
		out_of_order += !pi.frame || !pi.writable || pi.frame != first + i % per_cluster;
	}
	UCHECK_EQ(out_of_order, 0);

	struct user_mm_info full = mm_info();
	UCHECK_EQ(full.rss - before.rss, (len + si.page_size - 1) / si.page_size);
	UCHECK_EQ(sys_munmap((u32)a, len), 0);
	struct user_mm_info after = mm_info();
	UCHECK_EQ(after.rss, before.rss);
	UCHECK_EQ(after.pte_pages, before.pte_pages);
	UCHECK_EQ(after.map_count, before.map_count);
	return 0;
}
USER_PROGRAM(touch_pages);

/*
 * highpte_tables: every PTE table of the task (image, stack, a few
 * mappings far apart) sits in HighMem in the highpte variants, and in
 * lowmem in the others.
 */
static int highpte_tables(u32 arg)
{
	struct user_sys_info si = sys_info();
	u32 addrs[3];

	for (u32 i = 0; i < 3; i++) {
		s32 a = sys_mmap(0x40000000u + i * 0x10000000u, si.mmupage_size,
				 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
		UASSERT(a > 0);
		addrs[i] = (u32)a;
		*(volatile u32 *)a = i;
	}
	struct user_mm_info mi = mm_info();
	UCHECK(mi.pte_pages >= 5); /* image, stack and three more tables */
	if (si.highpte && si.highmem_pages)
		UCHECK_EQ(mi.pte_pages_highmem, mi.pte_pages);
	else
		UCHECK_EQ(mi.pte_pages_highmem, 0);
	for (u32 i = 0; i < 3; i++)
		UCHECK_EQ(*(volatile u32 *)addrs[i], i);
	uprintf("%u PTE tables, %u in HighMem", mi.pte_pages, mi.pte_pages_highmem);
	return 0;
}
USER_PROGRAM(highpte_tables);

/*
 * map_1gib: 1 GiB of private memory with one page touched per PTE table.
 * In the highpte variants the tables cost no lowmem at all (the pages are
 * HighMem too); otherwise each costs a lowmem frame.
 */
static int map_1gib(u32 arg)
{
	struct user_sys_info si = sys_info();
	const u32 len = 0x40000000u;
	s32 a = map_anon(len);

	UASSERT(a > 0);
	u32 tables = len / si.pmd_size, wrong = 0;
	struct user_mm_info before = mm_info();
	s32 low_before = sys_test(TEST_FREE_LOWMEM, 0, 0, 0);
	for (u32 off = 0; off < len; off += si.pmd_size)
		*(volatile u32 *)(a + off) = off ^ 0x1234;
	s32 low_after = sys_test(TEST_FREE_LOWMEM, 0, 0, 0);
	struct user_mm_info after = mm_info();
	u32 used_kib = (u32)(low_before - low_after);

	uprintf("1 GiB mapped: %u PTE tables (%u in HighMem), lowmem used %u KiB",
		after.pte_pages - before.pte_pages,
		after.pte_pages_highmem - before.pte_pages_highmem, used_kib);
	UCHECK_EQ(after.pte_pages - before.pte_pages, tables);
	if (si.highpte && si.highmem_pages) {
		UCHECK_EQ(after.pte_pages_highmem - before.pte_pages_highmem, tables);
		UCHECK_EQ(used_kib, 0);
	} else {
		UCHECK_EQ(after.pte_pages_highmem, before.pte_pages_highmem);
		UCHECK(used_kib >= tables * (si.mmupage_size / 1024));
	}
	for (u32 off = 0; off < len; off += si.pmd_size)
		wrong += *(volatile u32 *)(a + off) != (off ^ 0x1234);
	UCHECK_EQ(wrong, 0);
	UCHECK_EQ(sys_munmap((u32)a, len), 0);
	UCHECK_EQ(mm_info().pte_pages, before.pte_pages);
	return 0;
}
USER_PROGRAM(map_1gib);
